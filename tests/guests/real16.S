/* Real-mode guest, entered at the reset vector F000:FFF0 (RESETCPU real mode). Linked at
 * 0xf0000 (= CS base). Writes 0x42 to port 0x80, reads port 0x71 and echoes it (plus one) to
 * port 0x81, then halts with interrupts enabled. */
	.code16
	.text
start:
	movb $0x42, %al
	outb %al, $0x80
	inb $0x71, %al
	incb %al
	outb %al, $0x81
	movw $0x3f8, %dx
	movw $0x1234, %ax
	outw %ax, %dx          /* a 16-bit OUT through DX */
	sti
	hlt
	cli
	hlt
	.org 0xfff0
	jmp start              /* the reset vector */
	.org 0x10000
	.section .note.GNU-stack, "", @progbits
