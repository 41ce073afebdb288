/* Benchmark guest (real mode, linked at 0x7c00). At 0x7c00: an OUT to port 0x80 in a loop,
 * one exit to the caller per iteration. At 0x7c10: 1000 CPUIDs (handled inside the
 * hypervisor), then an OUT to port 0x81, in a loop. At 0x7c30: an MMIO read loop. At 0x7c50:
 * HLT with interrupts on, in a loop. At 0x7c60: an OUT to port 0x82 in a loop with interrupts
 * on, vector 0x20's handler a bare IRET (the caller injects it on every RUN). */
	.code16
	.text
io_loop:
	outb %al, $0x80
	jmp io_loop
	.org 0x10
cpuid_loop:
	movw $1000, %si
1:	xorl %eax, %eax
	cpuid
	decw %si
	jnz 1b
	outb %al, $0x81
	jmp cpuid_loop
	.org 0x30
/* At 0x7c30: a read at GPA 0x100000 (FFFF:0010, just past 1 MiB of RAM) in a loop: one MMIO
 * exit per iteration, whose 3-byte instruction (a0 10 00) the caller skips. */
mmio_loop:
	movw $0xffff, %ax
	movw %ax, %ds
1:	movb 0x10, %al
	jmp 1b
	.org 0x50
hlt_loop:
	sti
1:	hlt
	jmp 1b
	.org 0x60
irq_loop:
	xorw %ax, %ax
	movw %ax, %ds
	movw $(0x7c00 + irq_handler - io_loop), 0x80   /* IVT[0x20] = 0000:irq_handler */
	movw $0, 0x82
	sti
1:	outb %al, $0x82
	jmp 1b
irq_handler:
	iret
	.section .note.GNU-stack, "", @progbits
