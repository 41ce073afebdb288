/* A 64-bit ELF guest for vmmctl (Solo5-style long mode; linked by hello64.ld with text and
 * data on separate pages): prints a greeting on COM1, then tries to write to its own text,
 * which vmmctl made read+exec with MPROTECT_EPT: a protection exit ends the run. */
	.code64
	.section .text
	.globl _start
_start:
	movq $0x1ff000, %rsp
	leaq msg(%rip), %rsi
1:	lodsb
	testb %al, %al
	jz 3f
	movb %al, %bl
	movw $0x3fd, %dx
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movw $0x3f8, %dx
	movb %bl, %al
	outb %al, %dx
	jmp 1b
3:	incl counter(%rip)          /* data is writable */
	movb $0x90, _start(%rip)     /* text is not: MPROTECT_EPT stops this */
	cli
	hlt

	.section .data
counter: .long 0
msg:	.asciz "Hello from a 64-bit ELF guest: text read+exec, data read+write (MPROTECT_EPT)\n"
	.section .note.GNU-stack, "", @progbits
