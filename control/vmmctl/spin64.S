/* A 64-bit ELF guest that never ends on its own (linked by hello64.ld): it says so on COM1,
 * then spins, so that `vmmctl status` sees it running and `vmmctl stop` has something to end. */
	.code64
	.section .text
	.globl _start
_start:
	leaq msg(%rip), %rsi
1:	lodsb
	testb %al, %al
	jz 2f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 1b
2:	pause
	jmp 2b

	.section .data
msg:	.asciz "spinning until stopped\n"
	.section .note.GNU-stack, "", @progbits
