/* The SVM world switch, as a loop. VMRUN switches only RAX, RSP, RIP, RFLAGS and the VMCB
 * state; the other GPRs are saved here, and FS/GS/TR/LDTR/KernelGSBase/STAR/LSTAR/CSTAR/
 * SFMASK/SYSENTER are switched with VMLOAD/VMSAVE (APM 15.5, PLATFORM.md).
 *
 * int svm_loop(uint64_t vmcb_pa, uint64_t *gprs, uint64_t host_save_pa,
 *              int (*exit)(void *arg), void *arg)
 * enters the guest, and after each #VMEXIT calls exit(arg) in host mode: SVM_LOOP_AGAIN (0)
 * enters again, SVM_LOOP_RELOAD (1) enters again with every GPR from gprs[] (the handler
 * rewrote them all), anything else is returned. The host's callee-saved registers are saved
 * once per loop, not once per exit.
 *
 * Light exits (CPUID, MSR, VMMCALL): their handlers use no GPR but RAX (in the VMCB), RBX,
 * RCX, RDX and RDI. For them only RBX and the registers the C calling convention lets exit()
 * clobber (RCX, RDX, RSI, RDI, R8-R11) go through gprs[]; the guest's RBP and R12-R15 stay in
 * their registers, which exit() preserves like any C function (System V AMD64 ABI 3.2.1), and
 * reach gprs[] only when the loop returns. So while a light exit is handled, gprs[]'s RBP and
 * R12-R15 may be those of an earlier exit.
 *
 * gprs[] is in vcpu_reg_state order: rax rbx rcx rdx rsi rdi r8..r15 rsp rbp (rax, rsp unused).
 * Called with GIF = 0; exit() runs with GIF = 0 and the host's TR, FS, GS restored. */

#define SVM_EXIT_CPUID   0x72
#define SVM_EXIT_MSR     0x7c
#define SVM_EXIT_VMMCALL 0x81
#define VMCB_EXITCODE    0x70

/* RBP, R12-R15 into gprs[] (RSI). */
.macro store_callee
	movq %r12, 80(%rsi)
	movq %r13, 88(%rsi)
	movq %r14, 96(%rsi)
	movq %r15, 104(%rsi)
	movq %rbp, 120(%rsi)
.endm

/* The host's VMLOAD state back, then exit(arg). */
.macro host_exit
	movq 16(%rsp), %rax     /* host_save_pa */
	vmload %rax
	movq 32(%rsp), %rdi
	call *24(%rsp)
.endm

	.text
	.globl svm_loop
svm_loop:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %r8               /* 32: arg */
	pushq %rcx              /* 24: exit */
	pushq %rdx              /* 16: host_save_pa */
	pushq %rsi              /*  8: gprs */
	pushq %rdi              /*  0: vmcb_pa (and RSP 16-aligned for the call) */

full_in:                        /* every GPR from gprs[] */
	movq 8(%rsp), %rsi
	movq 80(%rsi), %r12
	movq 88(%rsi), %r13
	movq 96(%rsi), %r14
	movq 104(%rsi), %r15
	movq 120(%rsi), %rbp
light_in:                       /* RBP, R12-R15 are the guest's already */
	movq (%rsp), %rax
	movq 8(%rsp), %rsi
	movq 8(%rsi), %rbx
	movq 16(%rsi), %rcx
	movq 24(%rsi), %rdx
	movq 40(%rsi), %rdi
	movq 48(%rsi), %r8
	movq 56(%rsi), %r9
	movq 64(%rsi), %r10
	movq 72(%rsi), %r11
	movq 32(%rsi), %rsi

	vmload %rax
	vmrun %rax
	vmsave %rax

	pushq %rsi
	movq 16(%rsp), %rsi     /* gprs */
	movq %rbx, 8(%rsi)
	movq %rcx, 16(%rsi)
	movq %rdx, 24(%rsi)
	popq 32(%rsi)
	movq %rdi, 40(%rsi)
	movq %r8, 48(%rsi)
	movq %r9, 56(%rsi)
	movq %r10, 64(%rsi)
	movq %r11, 72(%rsi)
	movl VMCB_EXITCODE(%rax), %eax
	cmpl $SVM_EXIT_VMMCALL, %eax
	je light_out
	cmpl $SVM_EXIT_CPUID, %eax
	je light_out
	cmpl $SVM_EXIT_MSR, %eax
	je light_out

	store_callee            /* any other exit: every GPR in gprs[] */
	host_exit
	cmpl $1, %eax           /* AGAIN or RELOAD */
	jbe full_in
	jmp out

light_out:
	host_exit
	testl %eax, %eax
	jz light_in
	cmpl $1, %eax
	je full_in
	movq 8(%rsp), %rsi      /* returning: gprs[] whole */
	store_callee
out:
	addq $40, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
