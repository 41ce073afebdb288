/* The Multiboot v1 test kernel's entry: header, its own GDT (the loader's is not to be
 * relied on, spec 3.2), a stack, and the interrupt stubs. */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x3                  /* page-aligned modules, memory information */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	mov $stack_top, %esp
	mov %eax, %esi                /* keep the magic and the info pointer across the GDT load */
	mov %ebx, %edi
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	push %edi
	push %esi
	call mb_main                  /* never returns: it writes port 0xf4 */
2:	cli
	hlt
	jmp 2b

	.globl timer_isr
timer_isr:
	pusha
	cld
	call timer_handler
	popa
	iret

	.globl spurious_isr
spurious_isr:                         /* the APIC's spurious vector: no EOI (SDM 11.9) */
	iret

	.section .rodata
	.align 8
gdt:	.quad 0
	.quad 0x00cf9a000000ffff      /* 0x08: code, flat 4 GiB */
	.quad 0x00cf92000000ffff      /* 0x10: data, flat 4 GiB */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.bss
	.align 16
	.space 16384
stack_top:
	.section .note.GNU-stack, "", @progbits
