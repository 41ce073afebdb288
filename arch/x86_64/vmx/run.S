/* The VMX world switch. VM entry and exit switch RSP, RIP, RFLAGS and the VMCS state; the
 * other GPRs are loaded and saved here. The host resumes at vmx_exit_entry with the RSP this
 * code wrote to HOST_RSP, interrupts off (RFLAGS = 2).
 *
 * int vmx_enter(uint64_t *gprs, int launched)
 * gprs[] is in vcpu_reg_state order: rax rbx rcx rdx rsi rdi r8..r15 rsp rbp (rsp unused).
 * Returns 0 after a VM exit, 1 for VMfailInvalid, 2 for VMfailValid. */

#define HOST_RSP 0x6c14

	.text
	.globl vmx_enter, vmx_exit_entry
vmx_enter:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi              /* gprs, found again at the exit */
	movl $HOST_RSP, %eax
	vmwrite %rsp, %rax

	testl %esi, %esi        /* flags survive the loads below (MOV sets none) */
	movq 0(%rdi), %rax
	movq 8(%rdi), %rbx
	movq 16(%rdi), %rcx
	movq 24(%rdi), %rdx
	movq 32(%rdi), %rsi
	movq 48(%rdi), %r8
	movq 56(%rdi), %r9
	movq 64(%rdi), %r10
	movq 72(%rdi), %r11
	movq 80(%rdi), %r12
	movq 88(%rdi), %r13
	movq 96(%rdi), %r14
	movq 104(%rdi), %r15
	movq 120(%rdi), %rbp
	movq 40(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* VM entry failed: CF = VMfailInvalid, ZF = VMfailValid. The GPRs are the guest's now. */
	movl $1, %eax
	jc 3f
	movl $2, %eax
3:	addq $8, %rsp
	jmp 4f

vmx_exit_entry:
	pushq %rdi
	movq 8(%rsp), %rdi      /* gprs */
	movq %rax, 0(%rdi)
	movq %rbx, 8(%rdi)
	movq %rcx, 16(%rdi)
	movq %rdx, 24(%rdi)
	movq %rsi, 32(%rdi)
	popq 40(%rdi)
	movq %r8, 48(%rdi)
	movq %r9, 56(%rdi)
	movq %r10, 64(%rdi)
	movq %r11, 72(%rdi)
	movq %r12, 80(%rdi)
	movq %r13, 88(%rdi)
	movq %r14, 96(%rdi)
	movq %r15, 104(%rdi)
	movq %rbp, 120(%rdi)
	addq $8, %rsp
	xorl %eax, %eax
4:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
