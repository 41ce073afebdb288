/* The hypervisor image (build/hv.bin), carried inside bvmm.efi. */
	.section .data
	.balign 4096
	.globl hv_image_start, hv_image_end
hv_image_start:
	.incbin HV_BIN
hv_image_end:
	.section .note.GNU-stack, "", @progbits
