/* Benchmark guest (real mode, linked at 0x7c00). At 0x7c00: an OUT to port 0x80 in a loop,
 * one exit to the caller per iteration. At 0x7c10: 1000 CPUIDs (handled inside the
 * hypervisor), then an OUT to port 0x81, in a loop. */
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
	.section .note.GNU-stack, "", @progbits
