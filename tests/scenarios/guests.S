/* The tiny guests (build/guests/NAME.bin, found through -Wa,-I), carried inside the scenario
 * program. */
	.section .data
	.balign 16
	.globl guest_real16, guest_real16_end
guest_real16:	.incbin "real16.bin"
guest_real16_end:
	.balign 16
	.globl guest_prot32, guest_prot32_end
guest_prot32:	.incbin "prot32.bin"
guest_prot32_end:
	.balign 16
	.globl guest_triple, guest_triple_end
guest_triple:	.incbin "triple.bin"
guest_triple_end:
	.balign 16
	.globl guest_long64, guest_long64_end
guest_long64:	.incbin "long64.bin"
guest_long64_end:
	.balign 16
	.globl guest_bench16, guest_bench16_end
guest_bench16:	.incbin "bench16.bin"
guest_bench16_end:
	.balign 16
	.globl guest_hostile16, guest_hostile16_end
guest_hostile16:	.incbin "hostile16.bin"
guest_hostile16_end:
	.balign 16
	.globl guest_sweep64, guest_sweep64_end
guest_sweep64:	.incbin "sweep64.bin"
guest_sweep64_end:
	.section .note.GNU-stack, "", @progbits
