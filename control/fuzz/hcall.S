/* hcfuzz's hypercall stub: loads known values into every register but RAX and RDI, executes
 * vmmcall, and stores what those registers hold afterwards, so the caller can check the
 * ABI's "every other register is preserved" on every call. Clobbers nothing it does not save. */
	.text
/* uint64_t hf_vmmcall(uint64_t op, void *params, const uint64_t pat[13], uint64_t after[14])
 * pat: rbx rcx rdx rsi r8 r9 r10 r11 r12 r13 r14 r15 rbp; after: the same 13, then rdi. */
	.globl hf_vmmcall
hf_vmmcall:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rcx              /* after */
	pushq %rdi              /* op */
	movq %rsi, %rdi         /* params */
	movq %rdx, %rax         /* pat */
	movq 0(%rax), %rbx
	movq 8(%rax), %rcx
	movq 16(%rax), %rdx
	movq 24(%rax), %rsi
	movq 32(%rax), %r8
	movq 40(%rax), %r9
	movq 48(%rax), %r10
	movq 56(%rax), %r11
	movq 64(%rax), %r12
	movq 72(%rax), %r13
	movq 80(%rax), %r14
	movq 88(%rax), %r15
	movq 96(%rax), %rbp
	movq (%rsp), %rax       /* op */
	vmmcall
	movq %rax, (%rsp)       /* the errno, where op was */
	movq 8(%rsp), %rax      /* after */
	movq %rbx, 0(%rax)
	movq %rcx, 8(%rax)
	movq %rdx, 16(%rax)
	movq %rsi, 24(%rax)
	movq %r8, 32(%rax)
	movq %r9, 40(%rax)
	movq %r10, 48(%rax)
	movq %r11, 56(%rax)
	movq %r12, 64(%rax)
	movq %r13, 72(%rax)
	movq %r14, 80(%rax)
	movq %r15, 88(%rax)
	movq %rbp, 96(%rax)
	movq %rdi, 104(%rax)
	popq %rax               /* the errno */
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
