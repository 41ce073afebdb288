/* Triple-fault guest (real mode, linked at 0x7c00): an empty IDT, then INT3. */
	.code16
	.text
start:
	lidt idtr
	int3
	hlt
idtr:
	.word 0
	.long 0
	.section .note.GNU-stack, "", @progbits
