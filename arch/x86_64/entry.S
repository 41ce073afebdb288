/* Hypervisor image entry: the image header the loader reads, hv_entry (first host-mode code
 * at the fixed address), and the 256 IDT stubs that turn any host-mode event into a report. */
#include "../../hv/bootinfo.h"

	.section .header, "a"
	.globl hv_header
hv_header:
	.quad HV_HEADER_MAGIC
	.quad hv_entry
	.quad hv_ap_entry
	.quad __text_end - HV_BASE
	.quad __file_end - HV_BASE
	.quad __mem_end - HV_BASE

	.text
/* rdi = struct boot_info * (identity-mapped), rsp = HV_STACK_TOP(this CPU's index),
 * interrupts off. hv_entry runs once, on the boot CPU; hv_ap_entry on each other CPU after. */
	.globl hv_entry
hv_entry:
	xorl %ebp, %ebp
	call hv_main
1:	cli
	hlt
	jmp 1b

	.globl hv_ap_entry
hv_ap_entry:
	xorl %ebp, %ebp
	call hv_ap_main
	jmp 1b

/* Vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30. */
.macro stub vec
	.align 16
exc_stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp exc_common
.endm

	.align 16
exc_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call host_exception     /* returns only after a fixup (wrmsr_safe) */
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp          /* vector, error code */
	iretq

/* int wrmsr_safe(uint32_t msr, uint64_t val): 0, or -1 if WRMSR raised #GP (the exception
 * handler resumes at wrmsr_fixup). */
	.globl wrmsr_safe, wrmsr_safe_insn, wrmsr_fixup
wrmsr_safe:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
wrmsr_safe_insn:
	wrmsr
	xorl %eax, %eax
	ret
wrmsr_fixup:
	movl $-1, %eax
	ret

/* int xsetbv_safe(uint32_t xcr, uint64_t val): 0, or -1 if XSETBV raised #GP or #UD. */
	.globl xsetbv_safe, xsetbv_safe_insn, xsetbv_fixup
xsetbv_safe:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
xsetbv_safe_insn:
	xsetbv
	xorl %eax, %eax
	ret
xsetbv_fixup:
	movl $-1, %eax
	ret

/* int rdmsr_safe(uint32_t msr, uint64_t *val): 0, or -1 if RDMSR raised #GP (resumes at
 * rdmsr_fixup; *val untouched). */
	.globl rdmsr_safe, rdmsr_safe_insn, rdmsr_fixup
rdmsr_safe:
	movl %edi, %ecx
rdmsr_safe_insn:
	rdmsr
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, (%rsi)
	xorl %eax, %eax
	ret
rdmsr_fixup:
	movl $-1, %eax
	ret

.altmacro
.macro stubs from, to
	stub \from
	.if \to - \from
	stubs %(\from + 1), \to
	.endif
.endm
	stubs 0, 63
	stubs 64, 127
	stubs 128, 191
	stubs 192, 255

.macro entry vec
	.quad exc_stub_\vec
.endm
.macro entries from, to
	entry \from
	.if \to - \from
	entries %(\from + 1), \to
	.endif
.endm
	.section .rodata
	.globl exc_stub_table
exc_stub_table:
	entries 0, 63
	entries 64, 127
	entries 128, 191
	entries 192, 255

	.section .note.GNU-stack, "", @progbits
