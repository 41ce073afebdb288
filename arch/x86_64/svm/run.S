/* The SVM world switch. VMRUN switches only RAX, RSP, RIP, RFLAGS and the VMCB state; the
 * other GPRs are saved here, and FS/GS/TR/LDTR/KernelGSBase/STAR/LSTAR/CSTAR/SFMASK/SYSENTER
 * are switched with VMLOAD/VMSAVE (APM 15.5, PLATFORM.md).
 *
 * void svm_world_switch(uint64_t vmcb_pa, uint64_t *gprs, uint64_t host_save_pa)
 * gprs[] is in vcpu_reg_state order: rax rbx rcx rdx rsi rdi r8..r15 rsp rbp (rax, rsp unused).
 * Called with GIF = 0; returns after the #VMEXIT with GIF = 0 and the host's TR restored. */

	.text
	.globl svm_world_switch
svm_world_switch:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx              /* host_save_pa */
	pushq %rsi              /* gprs */

	movq %rdi, %rax
	movq 8(%rsi), %rbx
	movq 16(%rsi), %rcx
	movq 24(%rsi), %rdx
	movq 40(%rsi), %rdi
	movq 48(%rsi), %r8
	movq 56(%rsi), %r9
	movq 64(%rsi), %r10
	movq 72(%rsi), %r11
	movq 80(%rsi), %r12
	movq 88(%rsi), %r13
	movq 96(%rsi), %r14
	movq 104(%rsi), %r15
	movq 120(%rsi), %rbp
	movq 32(%rsi), %rsi

	vmload %rax
	vmrun %rax
	vmsave %rax

	pushq %rsi
	movq 8(%rsp), %rsi      /* gprs */
	movq %rbx, 8(%rsi)
	movq %rcx, 16(%rsi)
	movq %rdx, 24(%rsi)
	popq 32(%rsi)
	movq %rdi, 40(%rsi)
	movq %r8, 48(%rsi)
	movq %r9, 56(%rsi)
	movq %r10, 64(%rsi)
	movq %r11, 72(%rsi)
	movq %r12, 80(%rsi)
	movq %r13, 88(%rsi)
	movq %r14, 96(%rsi)
	movq %r15, 104(%rsi)
	movq %rbp, 120(%rsi)

	movq 8(%rsp), %rax      /* host_save_pa */
	vmload %rax
	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
