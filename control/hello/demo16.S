/* The demo child VM of `make run` (real mode, linked at 0x7c00): prints a greeting on its
 * serial port (ns8250 at 0x3f8, polling LSR.THRE at 0x3fd), both emulated by the control
 * program, then halts with interrupts off. */
	.code16
	.text
start:
	movw $msg, %si
next:
	lodsb
	testb %al, %al
	jz done
	movb %al, %bl
	movw $0x3fd, %dx
wait:
	inb %dx, %al
	testb $0x20, %al
	jz wait
	movw $0x3f8, %dx
	movb %bl, %al
	outb %al, %dx
	jmp next
done:
	cli
	hlt
msg:
	.ascii "Hello from a child VM: real mode, each byte an I/O exit handled by the control program.\n"
	.asciz "Goodbye (HLT with interrupts off ends the VM).\n"
	.section .note.GNU-stack, "", @progbits
