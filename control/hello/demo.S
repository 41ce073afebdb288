/* The demo guest image (build/control/demo16.bin), carried inside hello.efi. */
	.section .data
	.balign 16
	.globl demo16, demo16_end
demo16:	.incbin "demo16.bin"
demo16_end:
	.section .note.GNU-stack, "", @progbits
