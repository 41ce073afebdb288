/* 64-bit guest started the way Solo5's hvt starts (RESETCPU straight into long mode; the
 * control program builds the GDT at 0x1000 and identity page tables at 0x2000 mapping the
 * first GiB with 2 MiB pages). Linked at 0x100000; stack below 0x1ff000. Each phase ends in
 * an exit the control program checks (tests/scenarios/s4_vmm.c), in this order: */
	.code64
	.text
	.globl start
start:
	movq $0x1ff000, %rsp
	pcmpeqd %xmm7, %xmm7   /* clobber SSE state: the control guest's must survive */
	pxor %xmm6, %xmm6
	/* IDT gates (64-bit interrupt gates, selector 0x8): 0x30, #GP (13), #DB (1) */
	leaq handler(%rip), %rax
	leaq idt + 0x30 * 16(%rip), %rdi
	call set_gate
	leaq gp_handler(%rip), %rax
	leaq idt + 13 * 16(%rip), %rdi
	call set_gate
	leaq db_handler(%rip), %rax
	leaq idt + 1 * 16(%rip), %rdi
	call set_gate
	leaq ud_handler(%rip), %rax
	leaq idt + 6 * 16(%rip), %rdi
	call set_gate
	lidt idtr(%rip)
	/* 1. Solo5-style hypercall: a 4-byte OUT of a guest address to port 0x501. */
	movl $0x10000, %eax
	movw $0x501, %dx
	outl %eax, %dx
	/* 2. MMIO write outside guest RAM (the caller skips it). */
	movl $0xdeadbeef, 0x3fe00000
	/* 3. MMIO read: the caller supplies EAX. */
	movl 0x3fe00004, %eax
	movw $0x502, %dx
	outl %eax, %dx
	/* 4. A write to a page the caller made read-only; retried after it allows writes. */
	movq $0x77, 0x200000
	movq 0x200000, %rax
	movw $0x506, %dx
	outl %eax, %dx
	/* 5. pvclock. First two addresses the MSR refuses with #GP (port 0x509): one whose 32
	 * bytes cross a page, one outside guest RAM. Then register it at 0x300000, read the
	 * time, exit, read it again. */
	movl $0x4b564d01, %ecx
	xorl %edx, %edx
	movq $2, %r15
	movl $0x3ffff1, %eax
	wrmsr
	movl $0x10000001, %eax
	wrmsr
	movl $0x4b564d01, %ecx
	movl $0x300001, %eax
	xorl %edx, %edx
	wrmsr
	call pvclock_ns
	movq %rax, %r12
	movw $0x503, %dx
	outl %eax, %dx         /* forces an exit and a re-entry */
	call pvclock_ns
	movq %rax, %r13
	xorl %eax, %eax
	cmpq %r12, %r13
	seta %al               /* 1 if the clock advanced */
	movl 0x300000, %ebx    /* version: even when stable */
	andl $1, %ebx
	shll $1, %ebx
	orl %ebx, %eax
	movw $0x504, %dx
	outl %eax, %dx
	/* 6. The pvclock features in CPUID 0x40000001. */
	movl $0x40000001, %eax
	cpuid
	movw $0x507, %dx
	outl %eax, %dx
	/* 6a. The local APIC, as the caller declares it (WRITEVMPARAMS vpp_xapic): CPUID.1 EDX
	 * on port 0x510, then APIC_BASE's low half on 0x511 (0 after a #GP on 0x509). Twice: the
	 * caller declares an xAPIC after the first. Then a write of the same value (accepted),
	 * of another base and of the enable bit clear (#GP each), and APIC_BASE again. */
	call apic_probe
	call apic_probe
	movl $0x1b, %ecx
	rdmsr
	movq $2, %r15
	wrmsr
	movl $0xfec00900, %eax
	wrmsr
	movl $0xfee00100, %eax
	wrmsr
	rdmsr
	movw $0x511, %dx
	outl %eax, %dx
	/* 6b. What a child may not do: CR4.OSXSAVE (#GP, port 0x509); CR4.PGE is fine (CR4 on
	 * port 0x50b); RDPMC (#GP); INVD (emulated); a single-step trap reaches our #DB handler
	 * (port 0x50a) through the hypervisor's #DB intercept. */
	movq %cr4, %rax
	orq $0x40000, %rax
	movq $3, %r15
	movq %rax, %cr4
	movq %cr4, %rax
	orq $0x80, %rax
	movq %rax, %cr4
	movq %cr4, %rax
	movw $0x50b, %dx
	outl %eax, %dx
	movq $2, %r15
	xorl %ecx, %ecx
	rdpmc
	/* RDTSCP: #UD where the intercept is honoured (port 0x509, 6), else it reads this
	 * vCPU's TSC_AUX, never the control guest's: ECX on port 0x50e either way. */
	movq $3, %r15
	movl $0xffffffff, %ecx
	rdtscp
	movl %ecx, %eax
	movw $0x50e, %dx
	outl %eax, %dx
	invd
	pushfq
	orq $0x100, (%rsp)
	popfq
	nop
	/* 7. An injected interrupt through the IDT: halt with IF=1, the caller injects 0x30. */
	sti
	hlt
	/* 8a. INTR raised, then lowered, while IF=0 (ports 0x508, 0x50c): no window exit when
	 * IF comes back. */
	cli
	movw $0x508, %dx
	outb %al, %dx
	movw $0x50c, %dx
	outb %al, %dx
	sti
	nop
	nop
	cli
	/* 8b. Interrupt window: IF=0 while the caller raises INTR; the window opens at sti. */
	movw $0x50d, %dx
	outb %al, %dx
	movl $1000, %ecx
1:	loop 1b
	sti
	nop
	nop
	/* 9. HLT with interrupts off: the caller's RUN fails with EIO. */
	cli
	hlt

/* Nanoseconds from the pvclock structure at 0x300000 (KVM ABI):
 * system_time + (((tsc - tsc_timestamp) << shift) * mul >> 32). */
pvclock_ns:
	movq $0x300000, %rsi
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	subq 8(%rsi), %rax
	movsbl 28(%rsi), %ecx
	testl %ecx, %ecx
	js 2f
	shlq %cl, %rax
	jmp 3f
2:	negl %ecx
	shrq %cl, %rax
3:	movl 24(%rsi), %ecx
	mulq %rcx
	shrdq $32, %rdx, %rax
	addq 16(%rsi), %rax
	ret

apic_probe:
	movl $1, %eax
	cpuid
	movl %edx, %eax
	movw $0x510, %dx
	outl %eax, %dx
	movl $0x1b, %ecx
	movq $2, %r15
	xorl %eax, %eax
	rdmsr
	movw $0x511, %dx
	outl %eax, %dx
	ret

/* rax = handler, rdi = gate */
set_gate:
	movw %ax, (%rdi)
	movw $0x8, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	shrq $16, %rax
	movw %ax, 6(%rdi)
	shrq $16, %rax
	movl %eax, 8(%rdi)
	movl $0, 12(%rdi)
	ret

/* #GP: report 13 on port 0x509, skip the faulting instruction (R15 bytes). */
gp_handler:
	addq $8, %rsp          /* error code */
	addq %r15, (%rsp)
	pushq %rax
	pushq %rdx
	movl $13, %eax
	movw $0x509, %dx
	outl %eax, %dx
	popq %rdx
	popq %rax
	iretq

/* #UD: report 6 on port 0x509, skip the instruction (R15 bytes). */
ud_handler:
	addq %r15, (%rsp)
	pushq %rax
	pushq %rdx
	movl $6, %eax
	movw $0x509, %dx
	outl %eax, %dx
	popq %rdx
	popq %rax
	iretq

/* #DB: report 1 on port 0x50a, clear TF in the interrupted RFLAGS. */
db_handler:
	andq $~0x100, 16(%rsp)
	pushq %rax
	pushq %rdx
	movl $1, %eax
	movw $0x50a, %dx
	outl %eax, %dx
	popq %rdx
	popq %rax
	iretq

/* Vector 0x30: report on port 0x505 and return. */
handler:
	pushq %rax
	pushq %rdx
	movl $0x30, %eax
	movw $0x505, %dx
	outl %eax, %dx
	popq %rdx
	popq %rax
	iretq

	.balign 16
idt:
	.fill 0x31 * 16, 1, 0
idt_end:
idtr:
	.word idt_end - idt - 1
	.quad idt
	.section .note.GNU-stack, "", @progbits
