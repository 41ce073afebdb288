/* The launch instant. bvmm_launch() records where the firmware resumes (RIP, RSP, RFLAGS),
 * switches to the hypervisor's page tables and stack and jumps to hv_entry. The firmware comes
 * back here as the control guest, with RAX = 0. launch_abort() is the way back without a
 * hypervisor: restore the firmware's paging, descriptor tables and segments, return errno.
 * Both run from bvmm.efi's identity-mapped code, valid under either CR3. */
#include "../hv/bootinfo.h"

	.text
/* uint64_t bvmm_launch(struct boot_info *bi, uint64_t entry, uint64_t host_cr3,
 *                      uint64_t host_rsp, struct boot_cpu_state *st)   (SysV ABI) */
	.globl bvmm_launch
bvmm_launch:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, BCS_RSP(%r8)
	pushfq
	popq BCS_RFLAGS(%r8)
	leaq launch_resume(%rip), %rax
	movq %rax, BCS_RIP(%r8)
	/* Nothing below writes the firmware stack above the recorded RSP. */
	cli
	movq %rdx, %cr3
	movq %rcx, %rsp
	jmp *%rsi

launch_resume:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* void launch_abort(struct boot_cpu_state *st, uint64_t err), on the host's tables. */
	.globl launch_abort
launch_abort:
	movq BCS_RSP(%rdi), %rsp
	subq $64, %rsp                  /* scratch below the firmware's recorded RSP */
	movq BCS_CR3(%rdi), %rax
	movq %rax, %cr3
	movq %rsi, %r11
	movl $0xc0000080, %ecx          /* EFER as the firmware had it (SVME off) */
	movq BCS_EFER(%rdi), %rax
	movq %rax, %rdx
	shrq $32, %rdx
	wrmsr
	movw BCS_GDTR_LIMIT(%rdi), %ax
	movw %ax, (%rsp)
	movq BCS_GDTR_BASE(%rdi), %rax
	movq %rax, 2(%rsp)
	lgdt (%rsp)
	movw BCS_IDTR_LIMIT(%rdi), %ax
	movw %ax, 16(%rsp)
	movq BCS_IDTR_BASE(%rdi), %rax
	movq %rax, 18(%rsp)
	lidt 16(%rsp)
	movw BCS_DS_SEL(%rdi), %ax
	movw %ax, %ds
	movw BCS_ES_SEL(%rdi), %ax
	movw %ax, %es
	/* iretq to launch_resume with the firmware's CS, SS, RSP and RFLAGS. */
	movzwq BCS_SS_SEL(%rdi), %rax
	pushq %rax
	pushq BCS_RSP(%rdi)
	pushq BCS_RFLAGS(%rdi)
	movzwq BCS_CS_SEL(%rdi), %rax
	pushq %rax
	pushq BCS_RIP(%rdi)
	movq %r11, %rax
	iretq

/* uint64_t bvmm_loader_call(uint64_t op, int intel): one of the loader's own hypercalls
 * (hv/bootinfo.h HV_OP_LOADER_*). HV_OP_LOADER_DEVIRT comes back natively with only RSP,
 * RIP and RFLAGS kept: the callee-saved registers are saved here. */
	.globl bvmm_loader_call
bvmm_loader_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rdi, %rax
	testl %esi, %esi
	jnz 1f
	vmmcall
	jmp 2f
1:	vmcall
2:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
