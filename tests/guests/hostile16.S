/* Hostile real-mode child programs for scenario 10 (issue 6), linked at 0x7c00 with CS = 0.
 * Each starts at a fixed offset (the scenario enters it there with RESETCPU):
 *   0x000 lme:    EFER.LME with CR4.PAE = 0 by WRMSR (#GP expected), LME with PAE (allowed),
 *                 then clearing PAE (#GP), then LOCK MOV CR4 (#UD). Port 0xe1 reports each
 *                 exception vector, 0xe3 EFER, 0xe4 CR4, 0xe7 the end.
 *   0x100 dbloop: arms an instruction breakpoint on its own #DB handler and jumps there: a #DB
 *                 delivery loop that makes no progress (CVE-2015-8104).
 *   0x180 quick:  one OUT to port 0xe7, then HLT with interrupts on (endurance cycles).
 *   0x200 drs:    reads DR0-3 (OUT to ports 0xd0-0xd3), writes 0x11110000-3 to them, OUT to
 *                 0xd4, and again: whether a child ever sees the control guest's DR0-3.
 *   0x218 drs_write: the writes first (its first touch of a debug register is a MOV to DR0).
 *   0x280 cpuids: CPUID forever, counting them in EBP (exits handled inside, until RUN's
 *                 limit on them ends RUN). */
	.code16
	.text
base:
lme:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x7000, %sp
	movw $gp_handler, 13 * 4
	movw %ax, 13 * 4 + 2
	movw $gp_handler, 6 * 4     /* #UD: the same reporting handler */
	movw %ax, 6 * 4 + 2
	/* 1. LME while PAE is clear: #GP (bvmm's Decision), EFER unchanged */
	movl $0xc0000080, %ecx
	xorl %edx, %edx
	movl $0x100, %eax
	movb $2, skip
	wrmsr
	rdmsr
	outl %eax, $0xe3
	/* 2. PAE first, then LME: allowed */
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	rdmsr
	outl %eax, $0xe3
	/* 3. PAE cleared under LME: #GP, CR4 unchanged */
	movl %cr4, %eax
	andl $~0x20, %eax
	movb $3, skip
	movl %eax, %cr4
	movl %cr4, %eax
	outl %eax, $0xe4
	/* 4. LOCK MOV CR4: #UD */
	movb $4, skip
	.byte 0xf0, 0x0f, 0x22, 0xe0   /* lock movl %eax, %cr4 */
	movb $1, %al
	outb %al, $0xe7
	sti
	hlt
	jmp .

/* Reports the vector (from the IVT slot it came through: only #GP and #UD are wired, told
 * apart by the caller's order) and skips the faulting instruction (its length in `skip`). */
gp_handler:
	pushw %bp
	movw %sp, %bp
	pushw %ax
	movb $13, %al
	cmpb $4, skip
	jne 1f
	movb $6, %al
1:	outb %al, $0xe1
	movb skip, %al
	xorb %ah, %ah
	addw %ax, 2(%bp)
	popw %ax
	popw %bp
	iret
skip:	.byte 0

	.org 0x100
dbloop:
	xorw %ax, %ax
	movw %ax, %ds
	movw $db_handler, 1 * 4
	movw %ax, 1 * 4 + 2
	movl $db_handler, %eax      /* an instruction breakpoint on the #DB handler itself */
	movl %eax, %dr0
	movl $0x401, %eax           /* L0, execute, 1 byte */
	movl %eax, %dr7
	jmp db_handler
	.org 0x140
	.globl db_handler
db_handler:                     /* the scenario puts an instruction breakpoint here */
	nop
	outb %al, $0xe5
	iret

	.org 0x180
quick:
	movb $7, %al
	outb %al, $0xe7
	sti
	hlt
	jmp quick

	.org 0x200
drs:
	movl %dr0, %eax
	outl %eax, $0xd0
	movl %dr1, %eax
	outl %eax, $0xd1
	movl %dr2, %eax
	outl %eax, $0xd2
	movl %dr3, %eax
	outl %eax, $0xd3
	.org 0x218   /* drs_write: the scenario enters here too */
drs_write:
	movl $0x11110000, %eax
	movl %eax, %dr0
	incl %eax
	movl %eax, %dr1
	incl %eax
	movl %eax, %dr2
	incl %eax
	movl %eax, %dr3
	outb %al, $0xd4
	jmp drs

	.org 0x280
cpuids:
	incl %ebp
	xorl %eax, %eax
	cpuid
	jmp cpuids
	.section .note.GNU-stack, "", @progbits
