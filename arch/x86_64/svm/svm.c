/* SVM launch: capture the firmware into a VMCB, build its nested page tables (all of
 * physical memory 1:1 except the pool), and run it as the control guest. */
#include "svm.h"
#include "../cpu.h"
#include "../desc.h"
#include "../msr.h"
#include "../pcicfg.h"
#include "../../../abi/bvmm.h"
#include "../../../hv/hv.h"
#include "../../../hv/log.h"
#include "../../../hv/pool.h"
#include "../../../hv/vm.h"
#include "../../../hv/validate.h"
#include "../../../hv/mem.h"

struct svm_host svm_host;
struct svm_cpu svm_cpus[HV_MAX_CPUS];
#ifdef BVMM_DEBUG_VMCB
struct svm_dbg_rec svm_dbg_ring[HV_MAX_CPUS][SVM_DBG_RING];
uint32_t svm_dbg_pos[HV_MAX_CPUS];
extern void (*panic_debug_hook)(void);
static void svm_dbg_dump(void)
{
	unsigned me = cpu_index();
	for (unsigned k = 0; k < SVM_DBG_RING; k++) {
		struct svm_dbg_rec *r = &svm_dbg_ring[me][(svm_dbg_pos[me] + k) % SVM_DBG_RING];
		log_err("DBG ring: vmcb %lx in cs %lx rip %lx inj %lx intctl %lx hsave %lx", r->vmcb,
			r->cs_in, r->rip_in, r->inj_in, r->intctl_in, r->hsave);
		log_err("DBG ring:   out exit %lx info %lx %lx exitint %lx cs %lx rip %lx rsp %lx rax %lx",
			r->exitcode, r->info1, r->info2, r->exitint, r->cs_out, r->rip_out,
			r->rsp_out, r->rax_out);
	}
}
#endif

static inline void vmsave(uint64_t pa) { __asm__ volatile("vmsave %0" : : "a"(pa) : "memory"); }

static uint64_t npt_alloc(void *arg)
{
	(void)arg;
	return pool_alloc(1);
}

static void *npt_va(void *arg, uint64_t pa)
{
	(void)arg;
	return (void *)(uintptr_t)pa;
}

/* How far the control guest's identity map reaches: the CPU's whole physical address space
 * where 1 GiB pages make that cheap (it holds 64-bit PCI BARs), else what the memory map
 * names, at least 64 GiB. */
static uint64_t guest_top(const struct boot_info *bi, int has_1g)
{
	unsigned bits = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
	if (bits > 46)
		bits = 46;
	uint64_t top = 1ull << bits;
	if (!has_1g) {
		top = bi->phys_top > (64ull << 30) ? bi->phys_top : (64ull << 30);
		top = (top + SZ_1G - 1) & ~(SZ_1G - 1);
	}
	return top;
}

static int build_control_npt(const struct boot_info *bi)
{
	struct pt_ctx *npt = &svm_host.control_npt;
	int has_1g = !!(cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_PDPE1GB);
	uint64_t flags = PTE_RW | PTE_US;   /* a nested walk is a user access (PLATFORM.md) */
	*npt = (struct pt_ctx){ .alloc = npt_alloc, .pa2va = npt_va, .table_flags = flags,
				  .max_leaf_level = has_1g ? 3 : 2 };
	hv.guest_top = guest_top(bi, has_1g);
	uint64_t pool_end = bi->pool_base + bi->pool_size;
	int r = pt_init(npt);
	if (!r)
		r = pt_map(npt, 0, 0, bi->pool_base, flags);
	if (!r && pool_end < hv.guest_top)
		r = pt_map(npt, pool_end, pool_end, hv.guest_top - pool_end, flags);
	/* ECAM read-only: the control guest's configuration writes are judged (exit.c). */
	if (!r && bi->ecam_size && bi->ecam_base + bi->ecam_size <= hv.guest_top &&
	    !pool_overlaps(bi->ecam_base, bi->ecam_size))
		r = pt_protect(npt, bi->ecam_base, bi->ecam_size, PTE_RW, 0);
	/* The xAPIC page read-only: every ICR write is judged (ipi.c), so that no INIT or SIPI
	 * reaches a virtualized CPU. APIC_BASE may not move it (msr.c). */
	svm_host.apic_page = rdmsr(MSR_APIC_BASE) & 0x000ffffffffff000ull;
	if (!r)
		r = pt_protect(npt, svm_host.apic_page, 4096, PTE_RW, 0);
	log_info("launch: nested page tables map [0, %lx) minus the pool, %s pages, %u table "
		 "pages (%u KiB)", hv.guest_top, has_1g ? "1 GiB" : "2 MiB", npt->tables,
		 npt->tables * 4);
	if (bi->ecam_size)
		log_info("launch: PCI ECAM %lx-%lx (buses %u-%u) read-only, writes judged",
			 bi->ecam_base, bi->ecam_base + bi->ecam_size - 1, bi->ecam_bus0,
			 bi->ecam_bus0 + (unsigned)(bi->ecam_size >> 20) - 1);
	else
		log_warn("launch: no ACPI MCFG: no ECAM window known; configuration writes are "
			 "judged on ports 0xCF8/0xCFC only");
	return r;
}

static void seg(struct vmcb_seg *d, const struct seg_state *s)
{
	d->sel = s->sel;
	d->attrib = s->attrib;
	d->limit = s->limit;
	d->base = s->base;
}

/* The state VMSAVE could not capture: what the firmware had at the launch instant. */
static void fill_control_vmcb(struct vmcb *v, const struct boot_cpu_state *st, uint64_t npt_root)
{
	/* NMI: taken in host mode, where a kick from another CPU is told apart from the
	 * control guest's own NMI, which is then injected (exit.c). */
	v->c.intercept_misc1 = VMCB_INTERCEPT_NMI | VMCB_INTERCEPT_CPUID | VMCB_INTERCEPT_MSR_PROT |
			       VMCB_INTERCEPT_SHUTDOWN | VMCB_INTERCEPT_INVLPGA | VMCB_INTERCEPT_INVD |
			       VMCB_INTERCEPT_CR0_SEL_WRITE |   /* CR4 kept with PAE under LME */
			       VMCB_INTERCEPT_IOIO_PROT;        /* PCI configuration data ports */
	v->c.intercept_misc2 = VMCB_INTERCEPT_VMRUN | VMCB_INTERCEPT_VMMCALL |
			       VMCB_INTERCEPT_VMLOAD | VMCB_INTERCEPT_VMSAVE | VMCB_INTERCEPT_STGI |
			       VMCB_INTERCEPT_CLGI | VMCB_INTERCEPT_SKINIT;
	v->c.intercept_cr = VMCB_INTERCEPT_CR4_WRITE;   /* emulated: LME never without PAE */
	v->c.iopm_base_pa = svm_host.iopm;
	v->c.msrpm_base_pa = svm_host.msrpm;
	v->c.asid = 1;
	v->c.tlb_control = VMCB_TLB_FLUSH_ALL;
	v->c.np_enable = VMCB_NP_ENABLE;
	v->c.n_cr3 = npt_root;
	/* No V_INTR_MASKING, no INTR intercept: the control guest's IF and IDT own interrupts. */
	v->c.int_ctl = 0;

	seg(&v->s.cs, &st->cs);
	seg(&v->s.ss, &st->ss);
	seg(&v->s.ds, &st->ds);
	seg(&v->s.es, &st->es);
	v->s.gdtr.base = st->gdtr_base;
	v->s.gdtr.limit = st->gdtr_limit;
	v->s.idtr.base = st->idtr_base;
	v->s.idtr.limit = st->idtr_limit;
	v->s.cpl = 0;
	v->s.efer = st->efer | EFER_SVME;   /* VMRUN requires it; reads hide it */
	v->s.cr0 = st->cr0;
	v->s.cr2 = st->cr2;
	v->s.cr3 = st->cr3;
	v->s.cr4 = st->cr4;
	v->s.dr6 = 0xffff0ff0;
	v->s.dr7 = 0x400;
	v->s.rflags = st->rflags;
	v->s.rip = st->rip;
	v->s.rsp = st->rsp;
	v->s.rax = 0;                        /* bvmm_launch() returns 0 in the guest */
	v->s.g_pat = st->pat;
}

/* Children: every port intercepted; every MSR too, except the ones VMLOAD/VMSAVE switch
 * and TSC reads. */
static int alloc_child_maps(void)
{
	static const uint32_t pass[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_FS_BASE,
					 MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_SYSENTER_CS,
					 MSR_SYSENTER_ESP, MSR_SYSENTER_EIP };
	svm_host.child_iopm = pool_alloc(IOPM_SIZE / 4096);
	svm_host.child_msrpm = pool_alloc(MSRPM_SIZE / 4096);
	if (!svm_host.child_iopm || !svm_host.child_msrpm)
		return BVMM_ENOMEM;
	memset((void *)(uintptr_t)svm_host.child_iopm, 0xff, IOPM_SIZE);
	uint8_t *pm = (uint8_t *)(uintptr_t)svm_host.child_msrpm;
	memset(pm, 0xff, MSRPM_SIZE);
	for (unsigned i = 0; i < sizeof pass / sizeof pass[0]; i++) {
		long bit = msrpm_bit(pass[i]);
		pm[bit / 8] &= (uint8_t)~(3u << (bit % 8));
	}
	long tsc = msrpm_bit(MSR_TSC);
	pm[tsc / 8] &= (uint8_t)~(1u << (tsc % 8));   /* RDTSC-equivalent reads pass */
	return 0;
}

/* The control guest's MSR permission map from the allowlist (msr.h): everything intercepted
 * but what passes; reads of read-only and filtered MSRs pass too. */
static void msrpm_allow(uint32_t first, uint32_t last, enum msr_access a, void *arg)
{
	uint8_t *pm = arg;
	for (uint64_t msr = first; msr <= last; msr++) {
		long bit = msrpm_bit((uint32_t)msr);
		if (bit < 0)
			continue;   /* outside the map: always intercepted, the handler decides */
		if (a == MSR_PASS || a == MSR_READ || a == MSR_CHECK)
			pm[bit / 8] &= (uint8_t)~(1u << (bit % 8));            /* read */
		if (a == MSR_PASS)
			pm[(bit + 1) / 8] &= (uint8_t)~(1u << ((bit + 1) % 8));  /* write */
	}
}

static void control_msrpm(uint8_t *pm)
{
	memset(pm, 0xff, MSRPM_SIZE);
	msr_control_ranges(msrpm_allow, pm);
}

static int alloc_host_pages(void)
{
	svm_host.iopm = pool_alloc(IOPM_SIZE / 4096);
	svm_host.msrpm = pool_alloc(MSRPM_SIZE / 4096);
	if (!svm_host.iopm || !svm_host.msrpm)
		return BVMM_ENOMEM;
	/* Every CPU's pages now: an AP's launch allocates nothing (the pool is the boot CPU's
	 * until the launch is sealed). */
	for (unsigned i = 0; i < hv_ncpus; i++) {
		struct svm_cpu *c = &svm_cpus[i];
		c->hsave = pool_alloc(1);
		c->host_save = pool_alloc(1);
		c->control.vmcb = (struct vmcb *)(uintptr_t)pool_alloc(1);
		if (!c->hsave || !c->host_save || !c->control.vmcb)
			return BVMM_ENOMEM;
		hv_cpus[i].arch = c;
		c->cpu = &hv_cpus[i];
	}
	uint32_t nasid = cpuid(0x8000000a, 0).ebx;
	svm_host.max_asid = nasid > 0x10000 ? 0x10000 : nasid;
	control_msrpm((uint8_t *)(uintptr_t)svm_host.msrpm);
	/* Ports 0xCFC-0xCFF: configuration writes judged (pcicfg.c); every other port passes. */
	uint8_t *io = (uint8_t *)(uintptr_t)svm_host.iopm;
	for (unsigned port = PCICFG_DATA_PORT; port < PCICFG_DATA_PORT + 4; port++)
		io[port / 8] |= (uint8_t)(1u << (port % 8));
	svm_host.nrips = !!(cpuid(0x8000000a, 0).edx & CPUID_8000000A_EDX_NRIPS);
	/* EFER bits a guest may set: only what this CPU has (QEMU and Zen 3+ refuse LMSLE, and
	 * a VMCB with a reserved EFER bit fails VMRUN). Children never see FFXSR or TCE. */
	struct cpuid_regs e1 = cpuid(0x80000001, 0);
	svm_host.has_rdtscp = !!(e1.edx & CPUID_80000001_EDX_RDTSCP);
	uint64_t nx = (e1.edx & CPUID_80000001_EDX_NX) ? EFER_NXE : 0;
	svm_host.efer_child = EFER_SCE | EFER_LME | nx;
	svm_host.efer_control = svm_host.efer_child | ((e1.edx & (1u << 25)) ? EFER_FFXSR : 0) |
				((e1.ecx & (1u << 17)) ? EFER_TCE : 0);
	/* CR4 for children: VME..OSXMMEXCPT (bits 0-10) and what this CPU has of FSGSBASE,
	 * SMEP and SMAP; never XSAVE, PKE, PCIDE, LA57, UMIP or VMXE. */
	uint32_t b7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0).ebx : 0;
	svm_host.cr4_child = 0x7ffull | ((b7 & 1) ? CR4_FSGSBASE : 0) |
			     ((b7 & (1u << 7)) ? CR4_SMEP : 0) | ((b7 & (1u << 20)) ? CR4_SMAP : 0);
	/* CR4 for the control guest (its writes are emulated only while paging is off under
	 * LME, exit.c): what this CPU has. */
	uint32_t c1 = cpuid(1, 0).ecx, c7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0).ecx : 0;
	svm_host.cr4_control = svm_host.cr4_child | ((c7 & (1u << 2)) ? (1ull << 11) : 0) |
			       ((c7 & (1u << 16)) ? CR4_LA57 : 0) | ((c1 & (1u << 17)) ? CR4_PCIDE : 0) |
			       ((c1 & (1u << 26)) ? CR4_OSXSAVE : 0) | ((c7 & (1u << 3)) ? CR4_PKE : 0) |
			       ((c7 & (1u << 7)) ? (1ull << 23) : 0) |   /* UMIP LA57 PCIDE OSXSAVE PKE CET */
			       ((c7 & (1u << 31)) ? (1ull << 24) : 0);   /* PKS */
	int has_8 = cpuid(0x80000000, 0).eax >= 0x80000008;
	unsigned pa_bits = has_8 ? cpuid(0x80000008, 0).eax & 0xff : 36;
	svm_host.fxsave_erptr = has_8 && (cpuid(0x80000008, 0).ebx & (1u << 2));   /* XSaveErPtr */
	validate_set_limits(svm_host.cr4_child, pa_bits, !!nx);
	return alloc_child_maps();
}

/* Virtualize this CPU: capture the firmware's FS/GS/TR/LDTR and syscall MSRs into its
 * control-guest VMCB, load the host descriptor tables, and enter the control guest with the
 * state captured at the launch instant. Returns only if the first VMRUN fails. */
static int launch_this(const struct boot_cpu_state *st, unsigned i, int refuse)
{
	struct svm_cpu *c = &svm_cpus[i];
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, c->hsave);
	vmsave((uint64_t)c->control.vmcb);
	desc_init(i);
	vmsave(c->host_save);
	fill_control_vmcb(c->control.vmcb, st, svm_host.control_npt.root);
#ifdef BVMM_TEST_HOOKS
	if (refuse) {
		log_warn("test hook: the VMRUN intercept is cleared, so VMRUN must refuse the VMCB");
		c->control.vmcb->c.intercept_misc2 &= ~VMCB_INTERCEPT_VMRUN;
	}
#else
	(void)refuse;
#endif
	/* Host mode runs with IF = 1 and GIF = 0 (PLATFORM.md: QEMU masks guest interrupts
	 * with the host IF seen at VMRUN). */
	__asm__ volatile("clgi; sti");
	return svm_run_control(c);
}

int svm_launch(struct boot_info *bi)
{
	int r = alloc_host_pages();
	if (!r)
		r = build_control_npt(bi);
	if (r)
		return r;
	if (!(cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_NX))
		svm_vendor_ops.npt_nx = 0;   /* MPROTECT_EPT cannot deny execution then */
	vendor = &svm_vendor_ops;
#ifdef BVMM_DEBUG_VMCB
	panic_debug_hook = svm_dbg_dump;
#endif
	log_info("launch: vendor AMD SVM (NRIP save %s, %u ASIDs), control guest resumes at rip %lx",
		 svm_host.nrips ? "yes" : "no", svm_host.max_asid, bi->guest.rip);
	return launch_this(&bi->guest, bi->boot_cpu, !!(bi->test_flags & BOOT_TEST_VMRUN_FAIL));
}

int svm_launch_ap(struct boot_info *bi, unsigned i)
{
	int last = i + 1 == bi->ncpus || (i + 2 == bi->ncpus && bi->boot_cpu == i + 1);
	return launch_this(&bi->ap_state[i], i,
			   last && (bi->test_flags & BOOT_TEST_AP_LAUNCH_FAIL));
}
