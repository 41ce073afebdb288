/* 32-bit flat protected-mode guest (paging off), linked at 0x2000. Reports
 * [0x3000] + 2 * EBX on port 0x90 (so two VMs with different memory, or a WRITEREGS of EBX,
 * give different results), then peeks at the address in ESI (outside its RAM: the caller gets
 * an MMIO exit, never the data there) and reports EAX on port 0x91, then halts with
 * interrupts off (RUN: EIO). */
	.code32
	.text
start:
	movl 0x3000, %eax
	addl %ebx, %eax
	addl %ebx, %eax
	outl %eax, $0x90
	movl (%esi), %eax
	outl %eax, $0x91
	cli
	hlt
	.section .note.GNU-stack, "", @progbits
