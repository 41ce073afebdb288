/* One-instruction probes for scenario checks; a fault inside [sc_probe_begin, sc_probe_end)
 * is redirected by the exception handler to sc_probe_fixup, which returns to the caller. */
	.text
	.globl sc_probe_begin, sc_probe_end, sc_probe_fixup
	.globl sc_read64, sc_write64, sc_rdmsr, sc_wrmsr, sc_vmrun, sc_vmload, sc_vmsave
	.globl sc_stgi, sc_clgi, sc_skinit, sc_invlpga, sc_invd, sc_write_cr0, sc_read_cr0
	.globl sc_read_cr4, sc_write_cr4, sc_xsetbv, sc_xgetbv
sc_probe_begin:
sc_read64:
	movq (%rdi), %rax
	ret
sc_write64:
	movq %rsi, (%rdi)
	xorl %eax, %eax
	ret
sc_rdmsr:
	movl %edi, %ecx
	rdmsr
	shlq $32, %rdx
	orq %rdx, %rax
	ret
sc_wrmsr:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	wrmsr
	xorl %eax, %eax
	ret
sc_vmrun:
	movq %rdi, %rax
	vmrun
	ret
sc_vmload:
	movq %rdi, %rax
	vmload
	ret
sc_vmsave:
	movq %rdi, %rax
	vmsave
	ret
sc_stgi:
	stgi
	ret
sc_clgi:
	clgi
	ret
sc_skinit:
	movl %edi, %eax
	skinit
	ret
sc_invlpga:
	movq %rdi, %rax
	movl %esi, %ecx
	invlpga
	ret
sc_invd:
	invd
	ret
sc_write_cr0:
	movq %rdi, %cr0
	xorl %eax, %eax
	ret
sc_read_cr0:
	movq %cr0, %rax
	ret
sc_read_cr4:
	movq %cr4, %rax
	ret
sc_write_cr4:
	movq %rdi, %cr4
	xorl %eax, %eax
	ret
sc_xsetbv:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	xsetbv
	xorl %eax, %eax
	ret
sc_xgetbv:
	movl %edi, %ecx
	xgetbv
	shlq $32, %rdx
	orq %rdx, %rax
	ret
sc_probe_end:
sc_probe_fixup:
	movq $-1, %rax
	ret

/* void sc_hypercall_regs(const uint64_t in[13], uint64_t out[15], void *params, uint64_t op):
 * RBX, RCX, RDX, RSI, R8-R15, RBP from in[], RDI = params, RAX = op, VMMCALL; out[] gets them
 * back (then RDI, RAX). sc_cpuid_regs(in, out, 0, leaf) does the same with CPUID. */
.macro regs_probe name, insn
	.globl \name
\name:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rsi
	pushq %rcx
	movq %rdi, %rax
	movq %rdx, %rdi
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
	popq %rax
	\insn
	pushq %rax
	movq 8(%rsp), %rax
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
	popq 112(%rax)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
.endm
	regs_probe sc_hypercall_regs, vmmcall
	regs_probe sc_cpuid_regs, cpuid

	.section .note.GNU-stack, "", @progbits
