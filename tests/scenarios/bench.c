/* The benchmark control program (make bench): instructions per operation, measured with the
 * TSC under QEMU -icount shift=5 (32 ticks per emulated instruction, exact and repeatable).
 * Prints "BENCH <name> <instructions per op>" lines. */
#include "lib/scenario.h"
#include "../../abi/bvmm.h"
#include "../../control/libvmm/vmm_state.h"
#include "../../control/libvmm/vmm_exit.h"

#define N 2000
/* TSC ticks per emulated instruction: 32 under QEMU -icount shift=5; load option "ticks=1"
 * under Bochs, whose TSC advances one tick per instruction at its default 4 MIPS (tests/
 * bench-vmx.sh). */
static uint64_t ticks_per_insn = 32;
static uint32_t vendor = BVMM_VENDOR_AMD_SVM;

/* Loops that make no RUN run with interrupts off: the firmware's timer handler would
 * otherwise land in some of them (a 10 ms tick is 312,500 instructions here) and move their
 * figures by thousands between builds. A RUN loop cannot: RUN gives a pending host interrupt
 * back to the control guest (VM_EXIT_NONE) until it takes it. */
static uint64_t irq_off(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return f;
}

static void irq_restore(uint64_t f)
{
	if (f & (1ull << 9))
		__asm__ volatile("sti" : : : "memory");
}

/* RUN loops keep interrupts on (a pending host interrupt would bring every RUN back), so the
 * firmware's timer is stopped at its source instead: IRQ 0 masked at the 8259 and the local
 * APIC's timer LVT masked (OVMF ticks with one of them), both put back afterwards. */
static uint8_t pic_mask;
static uint32_t lvt_timer;
#define LAPIC_LVT_TIMER ((volatile uint32_t *)0xfee00320ull)

static void timers_off(void)
{
	__asm__ volatile("inb $0x21, %0" : "=a"(pic_mask));
	__asm__ volatile("outb %0, $0x21" : : "a"((uint8_t)(pic_mask | 1)));
	lvt_timer = *LAPIC_LVT_TIMER;
	*LAPIC_LVT_TIMER = lvt_timer | (1u << 16);
}

static void timers_on(void)
{
	*LAPIC_LVT_TIMER = lvt_timer;
	__asm__ volatile("outb %0, $0x21" : : "a"(pic_mask));
}

static uint64_t loop_nop(void)
{
	uint64_t f = irq_off(), t0 = sc_rdtsc();
	for (int i = 0; i < N; i++)
		__asm__ volatile("nop");
	uint64_t t = sc_rdtsc() - t0;
	irq_restore(f);
	return t;
}

static uint64_t loop_hypercall(uint64_t op, void *p)
{
	uint64_t f = irq_off(), t0 = sc_rdtsc();
	for (int i = 0; i < N; i++)
		bvmm_hypercall(op, p);
	uint64_t t = sc_rdtsc() - t0;
	irq_restore(f);
	return t;
}

static uint64_t loop_cpuid(uint32_t leaf)
{
	uint32_t r[4];
	uint64_t f = irq_off(), t0 = sc_rdtsc();
	for (int i = 0; i < N; i++)
		sc_cpuid(leaf, 0, r);
	uint64_t t = sc_rdtsc() - t0;
	irq_restore(f);
	return t;
}

extern uint8_t guest_bench16[], guest_bench16_end[];

/* A real-mode child: RUN round trips with one port I/O exit each, and CPUID exits handled
 * inside the hypervisor (1000 per RUN). Aligned so that neither crosses a page (a crossing
 * costs the copies one more walk of the caller's tables: hundreds of instructions per RUN). */
static struct vm_exit ex_va __attribute__((aligned(1024)));
static struct vm_run_params rp_va __attribute__((aligned(64)));
/* The same through RUN_PHYS (bvmm's extension): the parameters and the exit in one block named
 * by its physical address (the firmware's identity map: the same number). */
static struct vm_run_block rb __attribute__((aligned(4096)));
/* What the loops run: RUN with rp_va and ex_va, or RUN_PHYS with rb (use_phys). */
static uint64_t run_op = BVMM_OP_RUN;
static void *run_arg = &rp_va;
static struct vm_run_params *run_p = &rp_va;
static struct vm_exit *run_ex = &ex_va;
#define rp (*run_p)
#define ex (*run_ex)

static void use_phys(int on)
{
	run_op = on ? BVMM_OP_RUN_PHYS : BVMM_OP_RUN;
	run_arg = on ? (void *)&rb : (void *)&rp_va;
	run_p = on ? &rb.vrb_params : &rp_va;
	run_ex = on ? &rb.vrb_exit : &ex_va;
}

static uint32_t bench_vm(uint64_t rip)
{
	static struct vm_create_params cp;
	static struct vm_resetcpu_params rr;
	EFI_PHYSICAL_ADDRESS mem;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, 256, &mem)))
		return 0;
	CopyMem((uint8_t *)mem + 0x7c00, guest_bench16, guest_bench16_end - guest_bench16);
	SetMem(&cp, sizeof cp, 0);
	cp.vcp_nmemranges = 1;
	cp.vcp_ncpus = 1;
	cp.vcp_memranges[0] = (struct vm_mem_range){ 0, mem, 1 << 20 };
	if (bvmm_hypercall(BVMM_OP_CREATE, &cp))
		return 0;
	SetMem(&rr, sizeof rr, 0);
	rr.vrp_vm_id = cp.vcp_id;
	vmm_state_real(&rr.vrp_init_state, 0, rip);
	bvmm_hypercall(BVMM_OP_RESETCPU, &rr);
	rp_va = (struct vm_run_params){ .vrp_vm_id = cp.vcp_id, .vrp_irq = 0xffff, .vrp_exit = &ex_va };
	rb.vrb_params = rp_va;
	return cp.vcp_id;
}

/* Exits of the VM's vCPU 0 carry these vrs groups (vpp_exit_regs); 0 or an errno. */
static uint64_t exit_regs(uint32_t id, uint32_t groups)
{
	static struct vm_rwvmparams_params xr;
	xr = (struct vm_rwvmparams_params){ .vpp_vm_id = id, .vpp_mask = VM_RWVMPARAMS_EXIT_REGS,
					    .vpp_exit_regs = groups };
	return bvmm_hypercall(BVMM_OP_WRITEVMPARAMS, &xr);
}

/* Ticks for n RUNs that end in the expected port's exit (VM_EXIT_NONE ones are redone). */
static uint64_t loop_run(unsigned n, uint16_t port)
{
	timers_off();
	uint64_t t0 = sc_rdtsc();
	for (unsigned i = 0; i < n;) {
		if (bvmm_hypercall(run_op, run_arg))
			return timers_on(), 0;
		rp.vrp_continue = 1;
		i += vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_IO && ex.vei.vei_port == port;
	}
	uint64_t t = sc_rdtsc() - t0;
	timers_on();
	return t;
}

/* Ticks for n RUNs that end in a HLT exit (the guest at 0x7c50). */
static uint64_t loop_hlt(unsigned n)
{
	timers_off();
	uint64_t t0 = sc_rdtsc();
	for (unsigned i = 0; i < n;) {
		if (bvmm_hypercall(run_op, run_arg))
			return timers_on(), 0;
		rp.vrp_continue = 1;
		i += vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_HLT;
	}
	uint64_t t = sc_rdtsc() - t0;
	timers_on();
	return t;
}

/* Ticks for n RUNs that each inject vector 0x20 (the guest at 0x7c60 has interrupts on at its
 * OUT) and end in the next OUT to port 0x82, after the handler's IRET. */
static uint64_t loop_irq(unsigned n)
{
	timers_off();
	uint64_t t0 = sc_rdtsc();
	for (unsigned i = 0; i < n;) {
		rp.vrp_irq = 0x20;
		if (bvmm_hypercall(run_op, run_arg))
			return timers_on(), 0;
		rp.vrp_continue = 1;
		i += vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_IO && ex.vei.vei_port == 0x82;
	}
	rp.vrp_irq = VRP_IRQ_NONE;
	uint64_t t = sc_rdtsc() - t0;
	timers_on();
	return t;
}

/* Ticks for n CREATE+TERM pairs of a VM of `size` bytes backed from `va`. */
static uint64_t loop_create_term(unsigned n, uint64_t va, uint64_t size)
{
	static struct vm_create_params cp;
	SetMem(&cp, sizeof cp, 0);   /* once: CREATE writes only vcp_id */
	cp.vcp_nmemranges = 1;
	cp.vcp_ncpus = 1;
	cp.vcp_memranges[0] = (struct vm_mem_range){ 0, va, size };
	uint64_t f = irq_off(), t0 = sc_rdtsc(), e = 0;
	for (unsigned i = 0; !e && i < n; i++) {
		e = bvmm_hypercall(BVMM_OP_CREATE, &cp);
		struct vm_terminate_params t = { cp.vcp_id };
		e = e ? e : bvmm_hypercall(BVMM_OP_TERM, &t);
	}
	uint64_t t = sc_rdtsc() - t0;
	irq_restore(f);
	return e ? 0 : t;
}

/* Ticks for n RUNs ending in the MMIO read, each answered by skipping the instruction. */
static uint64_t loop_mmio(unsigned n)
{
	timers_off();
	uint64_t t0 = sc_rdtsc();
	for (unsigned i = 0; i < n;) {
		if (bvmm_hypercall(run_op, run_arg))
			return timers_on(), 0;
		rp.vrp_continue = 1;
		if (vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_NPF) {
			ex.vrs.vrs_gprs[VCPU_REGS_RIP] += 3;
			i++;
		}
	}
	uint64_t t = sc_rdtsc() - t0;
	timers_on();
	return t;
}

/* MPROTECT_EPT of a stopped vCPU's VM: a 64 MiB VM on 4 KiB nested pages (its backing starts
 * 4 KiB past a 2 MiB boundary, so no 2 MiB leaf fits: 16384 leaves), its vCPU never run. */
#define MPROT_MEM (64ull << 20)
static struct vm_mprotect_ept_params mprot[2] __attribute__((aligned(64)));

static uint32_t mprotect_vm(void)
{
	static struct vm_create_params cp;
	EFI_PHYSICAL_ADDRESS mem;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
					(MPROT_MEM + (2 << 20)) / 4096, &mem)))
		return 0;
	SetMem(&cp, sizeof cp, 0);
	cp.vcp_nmemranges = 1;
	cp.vcp_ncpus = 1;
	/* The first 2 MiB boundary at or above mem is at most mem + 2 MiB - 4 KiB: this ends
	 * inside the allocation. */
	uint64_t va = ((mem + (2 << 20) - 1) & ~(uint64_t)((2 << 20) - 1)) + 4096;
	cp.vcp_memranges[0] = (struct vm_mem_range){ 0, va, MPROT_MEM };
	if (bvmm_hypercall(BVMM_OP_CREATE, &cp))
		return 0;
	return cp.vcp_id;
}

/* Ticks for n MPROTECT_EPT calls (n even) of [gpa, gpa+size), alternating read+write and
 * read+exec (both accepted; each call changes every leaf: write and NX bits). 0 on a failure. */
static uint64_t loop_mprotect(uint32_t id, unsigned n, uint64_t gpa, uint64_t size)
{
	mprot[0] = (struct vm_mprotect_ept_params){ id, 0, gpa, size, PROT_READ | PROT_WRITE };
	mprot[1] = (struct vm_mprotect_ept_params){ id, 0, gpa, size, PROT_READ | PROT_EXEC };
	uint64_t e = 0, f = irq_off(), t0 = sc_rdtsc();
	for (unsigned i = 0; i < n / 2; i++) {
		e |= bvmm_hypercall(BVMM_OP_MPROTECT_EPT, &mprot[0]);
		e |= bvmm_hypercall(BVMM_OP_MPROTECT_EPT, &mprot[1]);
	}
	uint64_t t = sc_rdtsc() - t0;
	irq_restore(f);
	return e ? 0 : t;
}

/* base: ticks of N empty loop iterations; the loop being measured ran `iters` of them for n
 * operations. */
static void report_n(const char *name, uint64_t ticks, uint64_t base, unsigned n, unsigned iters)
{
	base = base * iters / N;
	if (ticks <= base) {   /* a failed loop: say so rather than print a wrapped number */
		Print(L"BENCH-FAILED %a\n", name);
		return;
	}
	uint64_t per = (ticks - base) * 10 / ticks_per_insn / n;   /* tenths */
	Print(L"BENCH %a %ld.%ld\n", name, per / 10, per % 10);
}

static void report(const char *name, uint64_t ticks, uint64_t base)
{
	report_n(name, ticks, base, N, N);
}

/* One row alone, for tests/prof.sh (no warm-up: the profile counts executions, not
 * translations); "PROF n i" says how many operations it ran and i their instructions each,
 * loop included. "none" runs nothing: the profile of the boot alone, to subtract. */
static void only(const CHAR16 *row)
{
	struct vm_hvinfo_params p;
	uint64_t t = 0;
	uint32_t id;
	unsigned n = N;
	if (!StrCmp(row, L"enosys")) {
		t = loop_hypercall(BVMM_OP_COUNT, &p);
	} else if (!StrCmp(row, L"hvinfo")) {
		t = loop_hypercall(BVMM_OP_HVINFO, &p);
	} else if (!StrCmp(row, L"cpuid")) {
		t = loop_cpuid(0x40000000);
	} else if (!StrCmp(row, L"io") && bench_vm(0x7c00)) {
		t = loop_run(N, 0x80);
	} else if (!StrCmp(row, L"io-gprs") && (id = bench_vm(0x7c00)) && !exit_regs(id, VM_RWREGS_GPRS)) {
		t = loop_run(N, 0x80);
	} else if (!StrCmp(row, L"io-phys") && (id = bench_vm(0x7c00)) && !exit_regs(id, VM_RWREGS_GPRS)) {
		use_phys(1);
		t = loop_run(N, 0x80);
	} else if (!StrCmp(row, L"io-noregs") && (id = bench_vm(0x7c00)) && !exit_regs(id, 0)) {
		use_phys(1);
		t = loop_run(N, 0x80);
	} else if (!StrCmp(row, L"mmio-phys") && (id = bench_vm(0x7c30)) && !exit_regs(id, VM_RWREGS_GPRS)) {
		use_phys(1);
		t = loop_mmio(N);
	} else if (!StrCmp(row, L"mmio-gprs") && (id = bench_vm(0x7c30)) && !exit_regs(id, VM_RWREGS_GPRS)) {
		t = loop_mmio(N);
	} else if (!StrCmp(row, L"mmio") && bench_vm(0x7c30)) {
		t = loop_mmio(N);
	} else if (!StrCmp(row, L"create-2m") || !StrCmp(row, L"create-256m") ||
		   !StrCmp(row, L"create-1g")) {
		uint64_t size = row[7] == '2' && row[8] == 'm' ? 2ull << 20 :
				row[7] == '2' ? 256ull << 20 : 1ull << 30;
		EFI_PHYSICAL_ADDRESS mem;
		n = size > (8ull << 20) ? 4 : 100;
		if (!EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
						 (size + (4ull << 20)) / 4096, &mem)))
			t = loop_create_term(n, ((mem + (2 << 20) - 1) & ~(uint64_t)((2 << 20) - 1)), size);
	} else if (!StrCmp(row, L"child-cpuid") && bench_vm(0x7c10)) {
		n = N / 100 * 1000;
		t = loop_run(N / 100, 0x81);
	}
	if (!StrCmp(row, L"none"))
		Print(L"PROF 0 0\n");
	else if (!t)
		Print(L"BENCH-FAILED only=%s\n", row);
	else
		Print(L"PROF %d %ld\n", n, t / ticks_per_insn / n);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct vm_hvinfo_params p;
	sc_init(image, systab, "bench");
	EFI_LOADED_IMAGE *li = NULL;
	uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (li && li->LoadOptions && !StrnCmp(li->LoadOptions, L"ticks=1", 7))
		ticks_per_insn = 1;
	/* "only=ROW" (tests/prof.sh): just that row, for an instruction profile of the
	 * hypervisor's part in it. */
	if (li && li->LoadOptions && !StrnCmp(li->LoadOptions, L"only=", 5)) {
		only((CHAR16 *)li->LoadOptions + 5);
		sc_finish();
	}
	if (!bvmm_hypercall(BVMM_OP_HVINFO, &p))
		vendor = p.vhi_vendor;
	/* Warm up (TCG translates each block on first use), then measure. */
	loop_nop();
	loop_hypercall(BVMM_OP_COUNT, &p);
	loop_hypercall(BVMM_OP_HVINFO, &p);
	loop_cpuid(0x40000000);
	uint64_t base = loop_nop();
	report("loop-baseline", base, 0);
	report("hypercall-enosys", loop_hypercall(BVMM_OP_COUNT, &p), base);
	report("hypercall-hvinfo", loop_hypercall(BVMM_OP_HVINFO, &p), base);
	report("cpuid-exit", loop_cpuid(0x40000000), base);
	uint32_t id;
	if ((id = bench_vm(0x7c00))) {
		loop_run(100, 0x80);
		report("child-run-io-exit-roundtrip", loop_run(N, 0x80), base);
		/* Exits with the general registers only (bvmm's vpp_exit_regs, as vmmctl runs). */
		if (exit_regs(id, VM_RWREGS_GPRS)) {
			Print(L"BENCH-FAILED child-run-io-exit-roundtrip-gprs (WRITEVMPARAMS)\n");
		} else {
			loop_run(100, 0x80);
			bvmm_hypercall(BVMM_OP_HVINFO, &p);   /* a phases build: the marks start over */
			uint64_t t = loop_run(N, 0x80);
			bvmm_hypercall(BVMM_OP_HVINFO, &p);   /* ... and are logged (make bench-phases) */
			report("child-run-io-exit-roundtrip-gprs", t, base);
			/* The same through RUN_PHYS: no walk of this program's page tables. */
			use_phys(1);
			loop_run(100, 0x80);
			report("child-run-io-exit-roundtrip-phys", loop_run(N, 0x80), base);
			/* ... and with no registers in the exit (vpp_exit_regs 0: KVM_RUN's default) */
			if (exit_regs(id, 0)) {
				Print(L"BENCH-FAILED child-run-io-exit-roundtrip-phys-noregs (WRITEVMPARAMS)\n");
			} else {
				loop_run(100, 0x80);
				report("child-run-io-exit-roundtrip-phys-noregs", loop_run(N, 0x80), base);
			}
			use_phys(0);
		}
	}
	if ((id = bench_vm(0x7c30))) {
		loop_mmio(100);
		report("child-run-mmio-exit-roundtrip", loop_mmio(N), base);
		if (exit_regs(id, VM_RWREGS_GPRS)) {
			Print(L"BENCH-FAILED child-run-mmio-exit-roundtrip-gprs (WRITEVMPARAMS)\n");
		} else {
			loop_mmio(100);
			report("child-run-mmio-exit-roundtrip-gprs", loop_mmio(N), base);
			use_phys(1);
			loop_mmio(100);
			report("child-run-mmio-exit-roundtrip-phys", loop_mmio(N), base);
			use_phys(0);
		}
	}
	if (bench_vm(0x7c10)) {
		loop_run(2, 0x81);
		uint64_t t = loop_run(N / 100, 0x81);
		Print(L"BENCH child-cpuid-exit %ld.%ld\n", t / ticks_per_insn / (N / 100) / 1000,
		      t / ticks_per_insn / (N / 100) % 1000 / 100);
	}
	if (bench_vm(0x7c50)) {
		loop_hlt(100);
		report("child-run-hlt-roundtrip", loop_hlt(N), base);
	}
	if (bench_vm(0x7c60)) {
		loop_irq(100);
		report("child-run-irq-inject-roundtrip", loop_irq(N), base);
	}
	/* CREATE+TERM: nested tables built and freed; 2 MiB leaves where the backing is aligned,
	 * 4 KiB leaves where it is not (offset by 4 KiB). */
	static const struct { const char *name; uint64_t size, skew; } ct[] = {
		{ "create-term-2m", 2ull << 20, 0 },
		{ "create-term-64m-2m-pages", 64ull << 20, 0 },
		{ "create-term-64m-4k-pages", 64ull << 20, 4096 },
		{ "create-term-256m-2m-pages", 256ull << 20, 0 },
		{ "create-term-1g-2m-pages", 1ull << 30, 0 },
	};
	for (unsigned k = 0; k < sizeof ct / sizeof ct[0]; k++) {
		EFI_PHYSICAL_ADDRESS mem;
		uint64_t pages = (ct[k].size + (4ull << 20)) / 4096;
		if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, pages, &mem))) {
			Print(L"BENCH-FAILED %a (no memory for it)\n", ct[k].name);
			continue;
		}
		uint64_t va = ((mem + (2 << 20) - 1) & ~(uint64_t)((2 << 20) - 1)) + ct[k].skew;
		unsigned n = ct[k].size > (8ull << 20) ? 4 : 100;
		loop_create_term(1, va, ct[k].size);
		uint64_t t = loop_create_term(n, va, ct[k].size);
		if (!t)
			Print(L"BENCH-FAILED %a (CREATE or TERM failed)\n", ct[k].name);
		else
			report_n(ct[k].name, t, base, n, n);
		uefi_call_wrapper(BS->FreePages, 2, mem, pages);
	}
	uint32_t mid = mprotect_vm();
	if (!mid)
		Print(L"BENCH-FAILED mprotect (CREATE of the 64 MiB VM)\n");
	if (mid) {
		loop_mprotect(mid, 100, 0x200000, 4096);
		report_n("mprotect-4k", loop_mprotect(mid, N, 0x200000, 4096), base, N, N / 2);
		loop_mprotect(mid, 2, 0, MPROT_MEM);
		report_n("mprotect-64m", loop_mprotect(mid, 20, 0, MPROT_MEM), base, 20, 10);
	}
	sc_finish();
}
