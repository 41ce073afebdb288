/* Benchmark guest (real mode, linked at 0x7c00). At 0x7c00: an OUT to port 0x80 in a loop,
 * one exit to the caller per iteration. At 0x7c10: 1000 CPUIDs (handled inside the
 * hypervisor), then an OUT to port 0x81, in a loop. At 0x7c30: an MMIO read loop. */
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
	.section .note.GNU-stack, "", @progbits
