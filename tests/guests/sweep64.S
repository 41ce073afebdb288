/* Hostile 64-bit child for scenario 10, started Solo5-style (RESETCPU into long mode, GDT at
 * 0x1000, page tables at 0x2000; the scenario adds PDPT[1] -> PD 0x5000 -> PT 0x6000, whose
 * first entry maps the window at 0x40000000 onto whatever GPA it probes next). Linked at
 * 0x100000. Every exception is reported on port 0xe1 (vector) and resumes at the address the
 * test put in %r15.
 *   start:   the GPA sweep: OUT 0xe0 (ready: the scenario points the window at the next
 *            target), read it (value on 0xe2/0xe3), write a marker, again;
 *   battery: one instruction a child must not get to use at a time: port 0xe1 carries the
 *            vector it raised, 0xff if none, 0xfe at the end. */
	.code64
	.text
	.globl start, battery, sweep_loop
start:
	movq $0x1ff000, %rsp
	call setup
	jmp sweep_loop
	.org 0x10                        /* SWEEP_LOOP in s10_hostile.c */
sweep_loop:
	leaq sweep_loop(%rip), %r15
	movq $0x1ff000, %rsp
	outb %al, $0xe0
	invlpg 0x40000000
	movq 0x40000000, %rax
	outl %eax, $0xe2
	shrq $32, %rax
	outl %eax, $0xe3
	movq $0x4141414141414141, %rcx
	movq %rcx, 0x40000000
	jmp sweep_loop

/* IDT: vectors 0-31 -> stub i (each 16 bytes: push the vector, jump to common). */
setup:
	leaq stubs(%rip), %rax
	leaq idt(%rip), %rdi
	movl $32, %ecx
1:	movw %ax, (%rdi)
	movw $0x8, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	movq %rax, %rdx
	shrq $16, %rdx
	movw %dx, 6(%rdi)
	shrq $16, %rdx
	movl %edx, 8(%rdi)
	movl $0, 12(%rdi)
	addq $16, %rax
	addq $16, %rdi
	loop 1b
	lidt idtr(%rip)
	ret

common:                          /* vector on the stack; error code below it for some */
	popq %rax
	outb %al, $0xe1
	movq $0x1ff000, %rsp
	jmp *%r15

	.balign 16
stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
	pushq $\v
	jmp common
	.endr

/* T insn: run one instruction (one: GAS splits a line at ';' before macros), report 0xff
 * if it did not fault. */
.macro T body:vararg
	leaq 9f(%rip), %r15
	\body
	movb $0xff, %al
	outb %al, $0xe1
9:
.endm
/* R msr: RDMSR, then 0x80 on port 0xe1 if it read 0, 0x81 if not (the vector if it faults). */
.macro R msr
	movl $\msr, %ecx
	leaq 9f(%rip), %r15
	rdmsr
	orl %edx, %eax
	setnz %al
	orb $0x80, %al
	outb %al, $0xe1
9:
.endm

	.org 0x300                       /* BATTERY in s10_hostile.c */
battery:
	movq $0x1ff000, %rsp
	call setup
	xorl %eax, %eax                  /* a page-aligned RAX: the intercept, not #GP */
	T vmrun
	T vmmcall
	xorl %eax, %eax                  /* the handler left the vector in RAX */
	T vmload
	xorl %eax, %eax
	T vmsave
	T stgi
	T clgi
	T skinit
	T invlpga
	T vmcall
	T vmxoff
	T .byte 0xf3, 0x0f, 0xc7, 0x30          /* vmxon (%rax) */
	T .byte 0x0f, 0x78, 0xc0                /* vmread %rax, %rax */
	movl $0xc0010117, %ecx                  /* VM_HSAVE_PA */
	T rdmsr
	movl $0xc0010114, %ecx                  /* VM_CR */
	T rdmsr
	movl $0x1b, %ecx                        /* APIC_BASE: the control guest's */
	T rdmsr
	movl $0xc0010016, %ecx                  /* IORR_BASE0 */
	T rdmsr
	movl $0xc0000080, %ecx                  /* EFER.SVME */
	rdmsr
	btsl $12, %eax
	T wrmsr
	movl $0xc0010010, %ecx                  /* SYSCFG */
	xorl %eax, %eax
	xorl %edx, %edx
	T wrmsr
	xorl %ecx, %ecx
	T xsetbv
	T rdpmc
	movq %cr4, %rax
	btsq $18, %rax                          /* OSXSAVE */
	T movq %rax, %cr4
	movq %cr4, %rax
	btsq $22, %rax                          /* PKE */
	T movq %rax, %cr4
	movq %cr4, %rax
	btsq $12, %rax                          /* LA57 in long mode */
	T movq %rax, %cr4
	movq %cr4, %rax
	btrq $5, %rax                           /* PAE off in long mode */
	T movq %rax, %cr4
	xorl %eax, %eax
	xorl %ecx, %ecx
	xorl %edx, %edx
	T monitor
	T mwait
	T rdtscp
	T invd
	movq %cr0, %rax                         /* PG without PE: #GP (QEMU would take it) */
	btrq $0, %rax
	T movq %rax, %cr0
	movl $5, %eax                           /* CR8: V_TPR, emulated */
	T movq %rax, %cr8
	movq %cr8, %rax
	orb $0x80, %al
	outb %al, $0xe1
	movl $16, %eax                          /* CR8 bits 63:4 reserved: #GP */
	T movq %rax, %cr8
	movl $7, %eax                           /* LOCK MOV CR0 is MOV CR8 on AMD */
	T .byte 0xf0, 0x0f, 0x22, 0xc0
	movq %cr8, %rax
	orb $0x80, %al
	outb %al, $0xe1
	movq %cr0, %rax                         /* LMSW setting, then clearing EM */
	orl $4, %eax
	T lmsw %ax
	movq %cr0, %rax
	andl $~4, %eax
	T lmsw %ax
	movq %cr0, %rax
	orb $0x80, %al
	outb %al, $0xe1
	/* The performance counters: no PMU, so writes are ignored and reads give 0 (0x80; 0x81
	 * for anything else); just past either block, #GP. */
	movl $0xc0010000, %ecx                  /* PerfEvtSel0: enable, count cycles */
	movl $0x00530076, %eax
	xorl %edx, %edx
	T wrmsr
	R 0xc0010000
	movl $0xc0010004, %ecx                  /* PerfCtr0 */
	movl $0x1234, %eax
	T wrmsr
	R 0xc0010007
	movl $0xc0010200, %ecx                  /* PERF_CTL0 of the core extension */
	movl $0x00530076, %eax
	T wrmsr
	R 0xc001020b
	movl $0xc0010008, %ecx
	T rdmsr
	movl $0xc001020c, %ecx
	T rdmsr
	movb $0xfe, %al
	outb %al, $0xe1
	cli
	hlt

/* Targets for the scenario's broken descriptor tables and stacks (it sets IDTR, GDTR or RSP
 * to unmapped memory with WRITEREGS and enters here): each faults while the processor reads
 * a table or the stack. */
	.org 0x800                       /* UNMAPPED_UD */
	ud2
	jmp .
	.org 0x810                       /* UNMAPPED_PUSH */
	pushq %rax
	jmp .
	.org 0x820                       /* UNMAPPED_SEG */
	movw $0x10, %ax
	movw %ax, %ds
	jmp .

	.balign 16
idt:	.fill 32 * 16, 1, 0
idtr:	.word 32 * 16 - 1
	.quad idt
	.section .note.GNU-stack, "", @progbits
