/* VMX launch: controls from the capability MSRs, VMXON, a VMCS filled from the firmware's
 * live state, EPT mapping all of physical memory 1:1 except the pool, and the first
 * VMLAUNCH (SDM vol. 3C, chapters 24-27 and 31; the traps PLATFORM.md lists). */
#include "vmx.h"
#include "insn.h"
#include "../cpu.h"
#include "../desc.h"
#include "../msr.h"
#include "../pcicfg.h"
#include "../../../abi/bvmm.h"
#include "../../../hv/hv.h"
#include "../../../hv/log.h"
#include "../../../hv/mem.h"
#include "../../../hv/pool.h"
#include "../../../hv/panic.h"
#include "../../../hv/percpu.h"
#include "../../../hv/validate.h"
#include "../../../hv/vm.h"

struct vmx_host vmx_host;
struct vmx_cpu vmx_cpus[HV_MAX_CPUS];   /* the boot CPU's only so far (SMP adds the others) */

int vmx_run_control(struct vmx_cpu *cpu, struct boot_info *bi);
extern struct vendor_ops vmx_vendor_ops;

#define CR4_VMXE (1ull << 13)

/* ---- controls ---- */

static int ctl(uint32_t cap_msr, uint32_t need, uint32_t want, uint32_t *out, const char *name)
{
	uint32_t missing;
	if (vmx_ctl(rdmsr(cap_msr), need, want, out, &missing)) {
		log_err("launch: VMX %s controls lack %x (capability MSR %x = %lx)", name, missing,
			cap_msr, rdmsr(cap_msr));
		return -1;
	}
	return 0;
}

/* The control guest's controls: as little interception as bvmm's invariants allow. */
static int compute_controls(void)
{
	uint64_t basic = rdmsr(MSR_VMX_BASIC);
	int t = !!(basic & VMX_BASIC_TRUE_CTLS);
	vmx_host.revision = (uint32_t)basic & 0x7fffffff;
	vmx_host.ept_cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
	uint32_t proc2_want = PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES |
			      ((vmx_host.ept_cap & EPT_CAP_VPID) ? PROC2_VPID : 0);
	if (ctl(t ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED, 0, 0, &vmx_host.pin, "pin-based") ||
	    ctl(t ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED,
		PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY, 0, &vmx_host.proc, "processor-based") ||
	    ctl(MSR_VMX_PROCBASED2, PROC2_EPT | PROC2_UNRESTRICTED, proc2_want, &vmx_host.proc2,
		"secondary") ||
	    ctl(t ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT, EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
		EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG, 0, &vmx_host.exit, "exit") ||
	    ctl(t ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT |
		ENTRY_LOAD_DEBUG, 0, &vmx_host.entry, "entry"))
		return -1;
	if (!(vmx_host.ept_cap & EPT_CAP_WALK4) || !(vmx_host.ept_cap & EPT_CAP_WB) ||
	    !(vmx_host.ept_cap & EPT_CAP_2M) || !(vmx_host.ept_cap & EPT_CAP_INVEPT) ||
	    !(vmx_host.ept_cap & EPT_CAP_INVEPT_ALL)) {
		log_err("launch: EPT lacks 4-level walks or write-back tables (cap %lx)", vmx_host.ept_cap);
		return -1;
	}
	vmx_host.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	vmx_host.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	vmx_host.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	vmx_host.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	return 0;
}

/* What the control guest may write: EFER bits this CPU has, CR4 bits it allows (never VMXE:
 * VMX is hidden), XCR0 components it supports. */
static void guest_limits(void)
{
	struct cpuid_regs e1 = cpuid(0x80000001, 0);
	vmx_host.efer_control = EFER_SCE | EFER_LME | ((e1.edx & CPUID_80000001_EDX_NX) ? EFER_NXE : 0);
	vmx_host.cr4_control = vmx_host.cr4_fixed1 & ~CR4_VMXE & 0xffffffffull;
	/* Children: as on SVM (svm.c), bits 0-10 and what the CPU has of FSGSBASE, SMEP, SMAP;
	 * never XSAVE, PKE, PCIDE, LA57, UMIP or VMXE. */
	vmx_host.efer_child = vmx_host.efer_control;
	uint32_t b7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0).ebx : 0;
	vmx_host.cr4_child = (0x7ffull | ((b7 & 1) ? CR4_FSGSBASE : 0) | ((b7 & (1u << 7)) ? CR4_SMEP : 0) |
			      ((b7 & (1u << 20)) ? CR4_SMAP : 0)) & vmx_host.cr4_fixed1;
	unsigned pa_bits = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
	validate_set_limits(vmx_host.cr4_child, pa_bits, !!(vmx_host.efer_control & EFER_NXE));
	if (cpuid(0, 0).eax >= 0xd) {
		struct cpuid_regs d = cpuid(0xd, 0);
		vmx_host.xcr0_supported = d.eax | ((uint64_t)d.edx << 32);
	}
}

/* ---- permission maps ---- */

/* SDM 25.6.9: read bitmap for MSRs 0-1fff at 0, c0000000-c0001fff at 1 KiB; write bitmaps at
 * 2 KiB and 3 KiB. MSRs outside both ranges always exit. */
static void msr_allow(uint32_t first, uint32_t last, enum msr_access a, void *arg)
{
	uint8_t *bm = arg;
	for (uint64_t m = first; m <= last; m++) {
		unsigned hi = (m >> 30) == 3 ? 1024 : 0;
		if ((m & ~0x1fffull) != 0 && (m & ~0x1fffull) != 0xc0000000ull)
			continue;
		unsigned bit = (unsigned)(m & 0x1fff);
		if (a == MSR_PASS || a == MSR_READ || a == MSR_CHECK)
			bm[hi + bit / 8] &= (uint8_t)~(1u << (bit % 8));
		if (a == MSR_PASS)
			bm[2048 + hi + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	}
}

static int alloc_maps(void)
{
	vmx_host.msr_bitmap = pool_alloc(1);
	vmx_host.io_bitmap_a = pool_alloc(1);
	vmx_host.io_bitmap_b = pool_alloc(1);
	if (!vmx_host.msr_bitmap || !vmx_host.io_bitmap_a || !vmx_host.io_bitmap_b)
		return BVMM_ENOMEM;
	memset((void *)vmx_host.msr_bitmap, 0xff, 4096);
	msr_control_ranges(msr_allow, (void *)vmx_host.msr_bitmap);
	/* Children: every MSR exits but those the VMCS switches (FS/GS base, SYSENTER) and
	 * those vcpu.c switches around RUN (STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE); TSC
	 * reads pass. */
	vmx_host.child_msr_bitmap = pool_alloc(1);
	if (!vmx_host.child_msr_bitmap)
		return BVMM_ENOMEM;
	uint8_t *cb = (uint8_t *)vmx_host.child_msr_bitmap;
	memset(cb, 0xff, 4096);
	static const uint32_t pass[] = { MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR,
					 MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_SYSENTER_CS,
					 MSR_SYSENTER_ESP, MSR_SYSENTER_EIP };
	for (unsigned i = 0; i < sizeof pass / sizeof pass[0]; i++)
		msr_allow(pass[i], pass[i], MSR_PASS, cb);
	msr_allow(MSR_TSC, MSR_TSC, MSR_READ, cb);
	uint8_t *io = (uint8_t *)vmx_host.io_bitmap_a;   /* ports 0-7fff */
	for (unsigned port = PCICFG_DATA_PORT; port < PCICFG_DATA_PORT + 4; port++)
		io[port / 8] |= (uint8_t)(1u << (port % 8));
	return 0;
}

/* ---- EPT: all of physical memory 1:1, write-back, except the pool; ECAM read-only ---- */

static uint64_t ept_alloc(void *arg) { (void)arg; return pool_alloc(1); }
static void *ept_va(void *arg, uint64_t pa) { (void)arg; return (void *)(uintptr_t)pa; }

/* EPT entries share the 4-level layout of pt.c: bit 0 (P there) is read, bit 1 write, bit 2
 * (US there) execute, bit 7 a large page; leaves carry the memory type in bits 5:3. Decision:
 * write-back everywhere, the guest's PAT deciding the rest (README lists MTRR-derived UC for
 * MMIO on hardware as a gap; the emulators bvmm is tested on do not model caching). */
static int build_ept(struct vmx_guest *g, const struct boot_info *bi)
{
	int has_1g = !!(vmx_host.ept_cap & EPT_CAP_1G);
	uint64_t tflags = EPT_W | EPT_X, leaf = EPT_W | EPT_X | EPT_MT_WB;
	g->ept = (struct pt_ctx){ .alloc = ept_alloc, .pa2va = ept_va, .table_flags = tflags,
				  .max_leaf_level = has_1g ? 3 : 2 };
	unsigned bits = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
	hv.guest_top = 1ull << (bits > 46 ? 46 : bits);
	if (!has_1g && hv.guest_top > (64ull << 30))
		hv.guest_top = bi->phys_top > (64ull << 30) ? (bi->phys_top + SZ_1G - 1) & ~(SZ_1G - 1)
							     : 64ull << 30;
	uint64_t pool_end = bi->pool_base + bi->pool_size;
	int r = pt_init(&g->ept);
	if (!r)
		r = pt_map(&g->ept, 0, 0, bi->pool_base, leaf);
	if (!r && pool_end < hv.guest_top)
		r = pt_map(&g->ept, pool_end, pool_end, hv.guest_top - pool_end, leaf);
	if (!r && bi->ecam_size && bi->ecam_base + bi->ecam_size <= hv.guest_top &&
	    !pool_overlaps(bi->ecam_base, bi->ecam_size))
		r = pt_protect(&g->ept, bi->ecam_base, bi->ecam_size, EPT_W, 0);
	log_info("launch: EPT maps [0, %lx) minus the pool, %s pages, %u table pages", hv.guest_top,
		 has_1g ? "1 GiB" : "2 MiB", g->ept.tables);
	return r;
}

/* ---- the VMCS ---- */

static int w_err;
static void w(uint64_t field, uint64_t val)
{
	if (vmwrite(field, val) && !w_err) {
		w_err = 1;
		log_err("launch: VMWRITE of field %lx failed (%s)", field,
			vmx_insn_error_name((uint32_t)vmread(VMCS_INSN_ERROR)));
	}
}

struct gseg { uint16_t sel; uint32_t limit, ar; uint64_t base; };

/* A segment of the firmware from its GDT (the control guest's own, identity mapped). */
static struct gseg from_gdt(uint16_t sel, uint64_t gdt_base, uint16_t gdt_limit)
{
	struct gseg s = { sel, 0, VMX_AR_UNUSABLE, 0 };
	if (!(sel & ~7u) || (sel | 7u) > gdt_limit)
		return s;
	uint64_t d = ((const uint64_t *)gdt_base)[sel >> 3];
	s.limit = seg_limit_from_desc(d);
	s.ar = seg_svm_to_ar(seg_attrib_from_desc(d));
	s.base = seg_base_from_desc(d);
	return s;
}

static void guest_seg(unsigned i, struct gseg s)
{
	static const uint16_t sel[] = { GUEST_ES_SEL, GUEST_CS_SEL, GUEST_SS_SEL, GUEST_DS_SEL,
					GUEST_FS_SEL, GUEST_GS_SEL, GUEST_LDTR_SEL, GUEST_TR_SEL };
	if (!(s.ar & VMX_AR_UNUSABLE) && i < 6)
		s.ar |= 1;   /* accessed (VM entry checks it on usable code and data segments) */
	w(sel[i], s.sel);
	w(GUEST_ES_LIMIT + 2 * i, s.limit);
	w(GUEST_ES_AR + 2 * i, s.ar);
	w(GUEST_ES_BASE + 2 * i, s.base);
}

static struct gseg seg_of(const struct seg_state *st)
{
	return (struct gseg){ st->sel, st->limit, seg_svm_to_ar(st->attrib), st->base };
}

static uint16_t read_sel(int which)
{
	uint16_t v = 0;
	if (which == 0)
		__asm__ volatile("mov %%fs, %0" : "=r"(v));
	else if (which == 1)
		__asm__ volatile("mov %%gs, %0" : "=r"(v));
	else if (which == 2)
		__asm__ volatile("str %0" : "=r"(v));
	else
		__asm__ volatile("sldt %0" : "=r"(v));
	return v;
}

/* The firmware's state that boot/ did not capture: FS, GS, TR, LDTR, SYSENTER, DEBUGCTL. */
struct fw_extra { struct gseg fs, gs, tr, ldtr; uint64_t sysenter[3], debugctl; };

static void capture_extra(const struct boot_cpu_state *st, struct fw_extra *x)
{
	x->fs = from_gdt(read_sel(0), st->gdtr_base, st->gdtr_limit);
	x->gs = from_gdt(read_sel(1), st->gdtr_base, st->gdtr_limit);
	x->fs.base = rdmsr(MSR_FS_BASE);   /* in long mode the MSRs are the bases */
	x->gs.base = rdmsr(MSR_GS_BASE);
	x->tr = from_gdt(read_sel(2), st->gdtr_base, st->gdtr_limit);
	if (x->tr.ar & VMX_AR_UNUSABLE)   /* OVMF runs with TR = 0, which VM entry refuses */
		x->tr = (struct gseg){ 0, 0x67, 0x8b, 0 };
	x->tr.ar = (x->tr.ar & ~0xfu) | 0xb;   /* a busy 64-bit TSS */
	x->ldtr = from_gdt(read_sel(3), st->gdtr_base, st->gdtr_limit);
	x->sysenter[0] = rdmsr(MSR_SYSENTER_CS);
	x->sysenter[1] = rdmsr(MSR_SYSENTER_ESP);
	x->sysenter[2] = rdmsr(MSR_SYSENTER_EIP);
	x->debugctl = rdmsr(0x1d9);
}

static void fill_guest(const struct boot_cpu_state *st, const struct fw_extra *x)
{
	guest_seg(0, seg_of(&st->es));
	guest_seg(1, seg_of(&st->cs));
	guest_seg(2, seg_of(&st->ss));
	guest_seg(3, seg_of(&st->ds));
	guest_seg(4, x->fs);
	guest_seg(5, x->gs);
	guest_seg(6, x->ldtr);
	guest_seg(7, x->tr);
	w(GUEST_GDTR_BASE, st->gdtr_base);
	w(GUEST_GDTR_LIMIT, st->gdtr_limit);
	w(GUEST_IDTR_BASE, st->idtr_base);
	w(GUEST_IDTR_LIMIT, st->idtr_limit);
	/* CR0 and CR4 as VMX requires them (fixed bits; PE and PG free with unrestricted guest),
	 * the guest seeing its own values through the read shadows. */
	uint64_t cr0_fixed = vmx_host.cr0_fixed0 & ~(CR0_PE | CR0_PG);
	w(GUEST_CR0, (st->cr0 | cr0_fixed) & vmx_host.cr0_fixed1);
	w(VMCS_CR0_MASK, cr0_fixed | ~vmx_host.cr0_fixed1);
	w(VMCS_CR0_SHADOW, st->cr0);
	w(GUEST_CR4, (st->cr4 | vmx_host.cr4_fixed0) & vmx_host.cr4_fixed1);
	w(VMCS_CR4_MASK, ~0ull);   /* every CR4 write emulated, as on SVM (exit.c) */
	w(VMCS_CR4_SHADOW, st->cr4);
	w(GUEST_CR3, st->cr3);
	uint64_t dr7;
	__asm__ volatile("mov %%db7, %0" : "=r"(dr7));
	w(GUEST_DR7, dr7);   /* the firmware's own (saved and loaded with DEBUGCTL at every exit) */
	w(GUEST_RSP, st->rsp);
	w(GUEST_RIP, st->rip);
	w(GUEST_RFLAGS, st->rflags);
	w(GUEST_EFER, st->efer);
	w(GUEST_PAT, st->pat);
	w(GUEST_DEBUGCTL, x->debugctl);
	w(GUEST_SYSENTER_CS, x->sysenter[0]);
	w(GUEST_SYSENTER_ESP, x->sysenter[1]);
	w(GUEST_SYSENTER_EIP, x->sysenter[2]);
	w(GUEST_LINK_PTR, ~0ull);
	w(GUEST_ACTIVITY, 0);
	w(GUEST_INTERRUPTIBILITY, 0);
	w(GUEST_PENDING_DBG, 0);
}

void vmx_fill_host(void)
{
	uint64_t gdt, idt, tss;
	desc_bases(cpu_index(), &gdt, &idt, &tss);
	w(HOST_CR0, read_cr0());
	w(HOST_CR3, read_cr3());
	w(HOST_CR4, read_cr4());
	w(HOST_CS_SEL, HOST_CS);
	w(HOST_SS_SEL, HOST_DS);
	w(HOST_DS_SEL, HOST_DS);
	w(HOST_ES_SEL, HOST_DS);
	w(HOST_FS_SEL, 0);
	w(HOST_GS_SEL, 0);
	w(HOST_TR_SEL, HOST_TR);
	w(HOST_FS_BASE, 0);
	w(HOST_GS_BASE, 0);
	w(HOST_TR_BASE, tss);
	w(HOST_GDTR_BASE, gdt);
	w(HOST_IDTR_BASE, idt);
	w(HOST_SYSENTER_CS, 0);
	w(HOST_SYSENTER_ESP, 0);
	w(HOST_SYSENTER_EIP, 0);
	w(HOST_EFER, rdmsr(MSR_EFER));
	w(HOST_PAT, rdmsr(MSR_PAT));
	extern char vmx_exit_entry[];
	w(HOST_RIP, (uint64_t)vmx_exit_entry);
}

static void fill_controls(const struct boot_cpu_state *st, uint64_t eptp)
{
	w(VMCS_PIN, vmx_host.pin);
	w(VMCS_PROC, vmx_host.proc);
	w(VMCS_PROC2, vmx_host.proc2);
	w(VMCS_EXIT_CTLS, vmx_host.exit);
	w(VMCS_ENTRY_CTLS, vmx_host.entry | ((st->efer & EFER_LMA) ? ENTRY_IA32E : 0));
	w(VMCS_EXC_BITMAP, 1u << EXC_UD);   /* VMMCALL, AMD's hypercall, arrives as #UD (exit.c) */
	w(VMCS_CR3_TARGETS, 0);
	w(VMCS_EXIT_MSR_STORE, 0);
	w(VMCS_EXIT_MSR_LOAD, 0);
	w(VMCS_ENTRY_MSR_LOAD, 0);
	w(VMCS_ENTRY_INTR, 0);
	w(VMCS_MSR_BITMAP, vmx_host.msr_bitmap);
	w(VMCS_IO_BITMAP_A, vmx_host.io_bitmap_a);
	w(VMCS_IO_BITMAP_B, vmx_host.io_bitmap_b);
	w(VMCS_EPTP, eptp);
	if (vmx_host.proc2 & PROC2_VPID)
		w(VMCS_VPID, 1);
	if (vmx_host.proc2 & PROC2_XSAVES)
		w(0x202c, 0);   /* XSS-exiting bitmap: XSAVES never exits */
	w(0x4006, 0);       /* #PF error-code mask and match */
	w(0x4008, 0);
	w(0x401c, 0);       /* TPR threshold */
}

/* IA32_FEATURE_CONTROL (SDM 23.7): left unlocked by OVMF and KVM, locked with VMX by most
 * firmware; locked without VMX-outside-SMX, VMXON would #GP. */
static int feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	}
	if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		log_err("launch: VMX is disabled by the firmware (IA32_FEATURE_CONTROL %lx, locked)", fc);
		return -1;
	}
	return 0;
}

int vmx_launch(struct boot_info *bi)
{
	struct vmx_cpu *cpu = &vmx_cpus[cpu_index()];
	struct fw_extra x;
	if (compute_controls() || feature_control())
		return BVMM_EIO;
	guest_limits();
	int r = alloc_maps();
	cpu->vmxon_pa = pool_alloc(1);
	cpu->control.vmcs_pa = pool_alloc(1);
	if (r || !cpu->vmxon_pa || !cpu->control.vmcs_pa)
		return BVMM_ENOMEM;
	*(uint32_t *)cpu->vmxon_pa = vmx_host.revision;
	*(uint32_t *)cpu->control.vmcs_pa = vmx_host.revision;

	capture_extra(&bi->guest, &x);   /* before desc_init replaces the segment registers */
	desc_init(cpu_index());
	r = build_ept(&cpu->control, bi);
	if (r)
		return r;
	/* XSETBV is executed for the control guest (exit.c): the host needs CR4.OSXSAVE. */
	write_cr4(read_cr4() | CR4_VMXE | ((cpuid(1, 0).ecx & (1u << 26)) ? CR4_OSXSAVE : 0));
	write_cr0((read_cr0() | vmx_host.cr0_fixed0) & vmx_host.cr0_fixed1);
	if (vmxon(cpu->vmxon_pa)) {
		log_err("launch: VMXON failed (CR0 %lx CR4 %lx)", read_cr0(), read_cr4());
		write_cr4(read_cr4() & ~CR4_VMXE);
		return BVMM_EIO;
	}
	if (vmclear(cpu->control.vmcs_pa) || vmptrld(cpu->control.vmcs_pa)) {
		log_err("launch: VMCLEAR/VMPTRLD of the control guest's VMCS failed");
		vmxoff();
		write_cr4(read_cr4() & ~CR4_VMXE);
		return BVMM_EIO;
	}
	cpu->control_irq = -1;
	this_cpu()->arch = cpu;
	fill_guest(&bi->guest, &x);
	vmx_fill_host();
	fill_controls(&bi->guest, cpu->control.ept.root | EPTP_WALK4 | EPTP_WB);
	if (w_err)
		return BVMM_EIO;
	if (vmx_host.ept_cap & EPT_CAP_EXEC_ONLY)
		vmx_vendor_ops.npt_read = EPT_R;
	vendor = &vmx_vendor_ops;
	extern void vmx_host_nmi(void);
	host_nmi = vmx_host_nmi;
	log_info("launch: vendor Intel VMX (pin %x proc %x proc2 %x exit %x entry %x), control guest "
		 "resumes at rip %lx", vmx_host.pin, vmx_host.proc, vmx_host.proc2, vmx_host.exit,
		 vmx_host.entry, bi->guest.rip);
	__atomic_store_n(&this_cpu()->run_state, CPU_GUEST, __ATOMIC_SEQ_CST);
	r = vmx_run_control(cpu, bi);   /* returns only if the first VM entry fails */
	__atomic_store_n(&this_cpu()->run_state, CPU_OFF, __ATOMIC_SEQ_CST);
	vmclear(cpu->control.vmcs_pa);
	vmxoff();
	write_cr4(read_cr4() & ~CR4_VMXE);
	return r;
}
