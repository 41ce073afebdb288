/* A guest that needs interrupts (real mode, linked at 0x7c00): programs the i8259 (IRQ 0 at
 * vector 0x08, everything else masked) and the i8253 (channel 0, mode 2, 100 Hz), then waits
 * in STI; HLT for timer interrupts and prints "tick N" on COM1 every 10 of them; after 50 it
 * halts with interrupts off. Run by `vmmctl run ... devices` (scenario 7). */
	.code16
	.text
start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x7c00, %sp
	movw $irq0, 0x08 * 4          /* IVT[8] = 0:irq0 */
	movw $0, 0x08 * 4 + 2
	movb $0x11, %al               /* ICW1: edge, cascade, ICW4 */
	outb %al, $0x20
	movb $0x08, %al               /* ICW2: vectors 0x08.. */
	outb %al, $0x21
	movb $0x04, %al               /* ICW3: slave on IRQ 2 */
	outb %al, $0x21
	movb $0x01, %al               /* ICW4: 8086 mode */
	outb %al, $0x21
	movb $0xfe, %al               /* OCW1: only IRQ 0 */
	outb %al, $0x21
	movb $0x34, %al               /* PIT channel 0, lo/hi, mode 2 */
	outb %al, $0x43
	movw $11932, %ax              /* 1193182 / 100 */
	outb %al, $0x40
	movb %ah, %al
	outb %al, $0x40
	sti
wait:
	hlt
	movw ticks, %ax
	cmpw printed, %ax
	je wait
	movw %ax, printed
	movb $10, %bl
	divb %bl                      /* al = ticks / 10, ah = ticks % 10 */
	testb %ah, %ah
	jnz wait
	addb $'0', %al
	movb %al, msg_digit
	movw $msg, %si
	call puts
	cmpw $50, ticks
	jb wait
	movw $done, %si
	call puts
	cli
	hlt

irq0:
	incw %cs:ticks
	pushw %ax
	movb $0x20, %al               /* EOI */
	outb %al, $0x20
	popw %ax
	iret

/* si: NUL-terminated string to COM1 (polling LSR.THRE) */
puts:
	lodsb
	testb %al, %al
	jz 2f
	movb %al, %bl
	movw $0x3fd, %dx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	movw $0x3f8, %dx
	movb %bl, %al
	outb %al, %dx
	jmp puts
2:	ret

ticks:   .word 0
printed: .word 0
msg:     .ascii "tick "
msg_digit: .ascii "0"
	.asciz "0\n"
done:    .asciz "50 timer interrupts taken: done\n"
	.section .note.GNU-stack, "", @progbits
