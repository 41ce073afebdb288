/* Child vCPUs on SVM: a VMCB per vCPU, the conversions between vcpu_reg_state and the VMCB,
 * the run loop (world switch, FPU and DR0-3 switched around it), and the exit decoding into
 * the vendor-neutral form hv/ turns into a vm_exit. Exits the caller need not see (CPUID,
 * MSRs, SVM instructions) are handled here and the child resumes. */
#include "svm.h"
#include "../cpu.h"
#include "../cpuid.h"
#include "../asid.h"
#include "../msr.h"
#include "../../../abi/bvmm.h"
#include "../../../hv/hv.h"
#include "../../../hv/log.h"
#include "../../../hv/mem.h"
#include "../../../hv/validate.h"
#include "../../../hv/vm.h"
#include "../../../hv/phase.h"

struct svm_vcpu {
	struct vmcb *vmcb;
	uint64_t gprs[GPR_COUNT];
	struct asid_vcpu tag;   /* its ASID and where it is good (asid.h) */
};
_Static_assert(sizeof(struct svm_vcpu) <= VM_ARCH_BYTES, "svm_vcpu fits vcpu->arch");

static struct svm_vcpu *sv(struct vcpu *vc) { return (struct svm_vcpu *)(void *)vc->arch; }
static struct vmcb *vmcb_of(struct vcpu *vc) { return sv(vc)->vmcb; }


/* ---- registers ---- */

/* The saved GPRs are in vcpu_reg_state order (svm.h): index i is VCPU_REGS i for i < 16. */
_Static_assert(GPR_RBX == VCPU_REGS_RBX && GPR_R8 == VCPU_REGS_R8 && GPR_R15 == VCPU_REGS_R15 &&
	       GPR_RSP == VCPU_REGS_RSP && GPR_RBP == VCPU_REGS_RBP && GPR_COUNT == 16,
	       "GPR order matches vcpu_reg_state");

/* Where each vcpu_reg_state segment lives in the VMCB. */
static const uint16_t sreg_off[VCPU_REGS_NSREGS] = {
	[VCPU_REGS_CS] = offsetof(struct vmcb, s.cs), [VCPU_REGS_DS] = offsetof(struct vmcb, s.ds),
	[VCPU_REGS_ES] = offsetof(struct vmcb, s.es), [VCPU_REGS_FS] = offsetof(struct vmcb, s.fs),
	[VCPU_REGS_GS] = offsetof(struct vmcb, s.gs), [VCPU_REGS_SS] = offsetof(struct vmcb, s.ss),
	[VCPU_REGS_LDTR] = offsetof(struct vmcb, s.ldtr), [VCPU_REGS_TR] = offsetof(struct vmcb, s.tr),
};

static struct vmcb_seg *vmcb_sreg(struct vmcb *v, int i)
{
	return (struct vmcb_seg *)((uint8_t *)v + sreg_off[i]);
}

/* The groups but the GPRs (out of line: the exit path reads the GPRs alone, or nothing). */
static __attribute__((noinline)) void regs_read_other(struct vcpu *vc, uint64_t mask,
						      struct vcpu_reg_state *rs)
{
	struct vmcb *v = sv(vc)->vmcb;
	/* Field by field: the caller's buffer keeps its (zeroed) padding. */
	if (mask & VM_RWREGS_SREGS) {
		for (int i = 0; i < VCPU_REGS_NSREGS; i++) {
			struct vmcb_seg *g = vmcb_sreg(v, i);
			rs->vrs_sregs[i].vsi_sel = g->sel;
			rs->vrs_sregs[i].vsi_limit = g->limit;
			rs->vrs_sregs[i].vsi_ar = seg_svm_to_ar(g->attrib);
			rs->vrs_sregs[i].vsi_base = g->base;
		}
		rs->vrs_gdtr.vsi_sel = rs->vrs_idtr.vsi_sel = 0;
		rs->vrs_gdtr.vsi_ar = rs->vrs_idtr.vsi_ar = 0;
		rs->vrs_gdtr.vsi_limit = v->s.gdtr.limit;
		rs->vrs_gdtr.vsi_base = v->s.gdtr.base;
		rs->vrs_idtr.vsi_limit = v->s.idtr.limit;
		rs->vrs_idtr.vsi_base = v->s.idtr.base;
	}
	if (mask & VM_RWREGS_CRS) {
		rs->vrs_crs[VCPU_REGS_CR0] = v->s.cr0;
		rs->vrs_crs[VCPU_REGS_CR2] = v->s.cr2;
		rs->vrs_crs[VCPU_REGS_CR3] = v->s.cr3;
		rs->vrs_crs[VCPU_REGS_CR4] = v->s.cr4;
		rs->vrs_crs[VCPU_REGS_CR8] = v->c.int_ctl & 0xf;
		rs->vrs_crs[VCPU_REGS_XCR0] = vc->xcr0;
		for (int i = VCPU_REGS_PDPTE0; i <= VCPU_REGS_PDPTE3; i++)
			rs->vrs_crs[i] = 0;   /* SVM loads PDPTEs from memory: none to report */
	}
	if (mask & VM_RWREGS_MSRS) {
		rs->vrs_msrs[VCPU_REGS_EFER] = v->s.efer & ~EFER_SVME;
		rs->vrs_msrs[VCPU_REGS_STAR] = v->s.star;
		rs->vrs_msrs[VCPU_REGS_LSTAR] = v->s.lstar;
		rs->vrs_msrs[VCPU_REGS_CSTAR] = v->s.cstar;
		rs->vrs_msrs[VCPU_REGS_SFMASK] = v->s.sfmask;
		rs->vrs_msrs[VCPU_REGS_KGSBASE] = v->s.kernel_gs_base;
		rs->vrs_msrs[VCPU_REGS_MISC_ENABLE] = vc->misc_enable;
	}
	if (mask & VM_RWREGS_DRS) {
		for (int i = 0; i < 4; i++)
			rs->vrs_drs[i] = vc->dr[i];
		rs->vrs_drs[VCPU_REGS_DR6] = v->s.dr6;
		rs->vrs_drs[VCPU_REGS_DR7] = v->s.dr7;
	}
}

static void svm_regs_read(struct vcpu *vc, uint64_t mask, struct vcpu_reg_state *rs)
{
	struct svm_vcpu *s = sv(vc);
	struct vmcb *v = s->vmcb;
	/* One block copy (same order, asserted above): on every exit's delivery. */
	if (mask & VM_RWREGS_GPRS) {
		memcpy(rs->vrs_gprs, s->gprs, sizeof s->gprs);
		rs->vrs_gprs[VCPU_REGS_RAX] = v->s.rax;
		rs->vrs_gprs[VCPU_REGS_RSP] = v->s.rsp;
		rs->vrs_gprs[VCPU_REGS_RIP] = v->s.rip;
		rs->vrs_gprs[VCPU_REGS_RFLAGS] = v->s.rflags;
	}
	if (mask & ~(uint64_t)VM_RWREGS_GPRS)
		regs_read_other(vc, mask, rs);
}

/* The groups of `mask`, already validated by hv/ (validate_regs). */
static void svm_regs_write(struct vcpu *vc, uint64_t mask, const struct vcpu_reg_state *rs)
{
	struct svm_vcpu *s = sv(vc);
	struct vmcb *v = s->vmcb;
	if (mask & VM_RWREGS_GPRS) {
		memcpy(s->gprs, rs->vrs_gprs, sizeof s->gprs);   /* RAX, RSP slots unused: VMCB */
		v->s.rax = rs->vrs_gprs[VCPU_REGS_RAX];
		v->s.rsp = rs->vrs_gprs[VCPU_REGS_RSP];
		v->s.rip = rs->vrs_gprs[VCPU_REGS_RIP];
		v->s.rflags = rs->vrs_gprs[VCPU_REGS_RFLAGS];
	}
	if (mask & VM_RWREGS_SREGS) {
		for (int i = 0; i < VCPU_REGS_NSREGS; i++) {
			const struct vcpu_segment_info *si = &rs->vrs_sregs[i];
			*vmcb_sreg(v, i) = (struct vmcb_seg){ si->vsi_sel, seg_ar_to_svm(si->vsi_ar),
							     si->vsi_limit, si->vsi_base };
		}
		v->s.gdtr = (struct vmcb_seg){ 0, 0, rs->vrs_gdtr.vsi_limit, rs->vrs_gdtr.vsi_base };
		v->s.idtr = (struct vmcb_seg){ 0, 0, rs->vrs_idtr.vsi_limit, rs->vrs_idtr.vsi_base };
	}
	if (mask & VM_RWREGS_CRS) {
		v->s.cr0 = rs->vrs_crs[VCPU_REGS_CR0];
		v->s.cr2 = rs->vrs_crs[VCPU_REGS_CR2];
		v->s.cr3 = rs->vrs_crs[VCPU_REGS_CR3];
		v->s.cr4 = rs->vrs_crs[VCPU_REGS_CR4];
		v->c.int_ctl = (v->c.int_ctl & ~0xfu) | (rs->vrs_crs[VCPU_REGS_CR8] & 0xf);
		vc->xcr0 = rs->vrs_crs[VCPU_REGS_XCR0];
	}
	if (mask & VM_RWREGS_MSRS) {
		v->s.efer = rs->vrs_msrs[VCPU_REGS_EFER] | EFER_SVME;
		v->s.star = rs->vrs_msrs[VCPU_REGS_STAR];
		v->s.lstar = rs->vrs_msrs[VCPU_REGS_LSTAR];
		v->s.cstar = rs->vrs_msrs[VCPU_REGS_CSTAR];
		v->s.sfmask = rs->vrs_msrs[VCPU_REGS_SFMASK];
		v->s.kernel_gs_base = rs->vrs_msrs[VCPU_REGS_KGSBASE];
		vc->misc_enable = rs->vrs_msrs[VCPU_REGS_MISC_ENABLE];
	}
	if (mask & VM_RWREGS_DRS) {
		for (int i = 0; i < 4; i++)
			vc->dr[i] = rs->vrs_drs[i];
		v->s.dr6 = rs->vrs_drs[VCPU_REGS_DR6];
		v->s.dr7 = rs->vrs_drs[VCPU_REGS_DR7];
	}
	/* New paging state from outside (CR3, CR0/CR4, EFER, reset): the old ASID's entries may
	 * describe another address space under the same CR3; the next entry takes a fresh one. */
	if (mask & (VM_RWREGS_CRS | VM_RWREGS_MSRS))
		s->tag.asid = 0;
	if (mask & (VM_RWREGS_SREGS | VM_RWREGS_CRS)) {
		/* CPL is SS.DPL in protected mode, 0 in real mode (APM 15.5.1). */
		v->s.cpl = (v->s.cr0 & CR0_PE) ? (v->s.ss.attrib >> 5) & 3 : 0;
	}
}

static void svm_io_in_done(struct vcpu *vc, unsigned size, uint32_t data)
{
	struct vmcb *v = vmcb_of(vc);
	uint64_t mask = size == 1 ? 0xff : size == 2 ? 0xffff : 0;
	v->s.rax = mask ? (v->s.rax & ~mask) | (data & mask) : data;
}

/*
 * DR0-3 are not in the VMCB: while a child runs, the CPU's are the control guest's unless they
 * were switched. They are switched lazily (KVM's approach): a vCPU starts with every access
 * that could reach them intercepted (MOV from DR0-3; MOV to DR0-3, and to DR7 and its alias
 * DR5, which could arm a breakpoint on them) and with none of its own breakpoints armed; its
 * first such access, or an entry with a DR7 that arms one (WRITEREGS, RESETCPU), makes it
 * live for good: from then on DR0-3 are switched around each of its runs and not intercepted.
 * A device-model loop whose child never touches them pays for no switch (16 MOV DRs a RUN).
 */
#define DR_INTERCEPTS (0xfu | (0xfu << 16) | (1u << 21) | (1u << 23))
#define DR7_ARMED 0xffu   /* L0-3, G0-3 */

static void dr_not_live(struct svm_vcpu *s)
{
	s->vmcb->c.intercept_dr = DR_INTERCEPTS;
}

/* Switched around its runs: no DR access intercepted any more (the one record of it). */
static int dr_live(const struct svm_vcpu *s)
{
	return !s->vmcb->c.intercept_dr;
}

/* Live from now on, on this CPU in host mode between entries: the control guest's DR0-3
 * kept aside (child_state_out puts them back), the child's loaded. */
static void dr_go_live(struct svm_cpu *c, struct vcpu *vc, struct svm_vcpu *s)
{
	s->vmcb->c.intercept_dr = 0;
	save_dr0_3(c->control_dr);
	load_dr0_3(vc->dr);
}

static void svm_reset(struct vcpu *vc, const struct vcpu_reg_state *rs)
{
	struct vmcb *v = vmcb_of(vc);
	svm_regs_write(vc, VM_RWREGS_ALL, rs);
	dr_not_live(sv(vc));
	v->c.eventinj = 0;
	v->c.int_state = 0;
	v->c.int_ctl &= ~(VMCB_V_IRQ | VMCB_V_IGN_TPR);
	v->c.intercept_misc1 &= ~VMCB_INTERCEPT_VINTR;
	v->s.g_pat = 0x0007040600070406ull;   /* the power-on PAT */
	memset(vc->fpu, 0, sizeof vc->fpu);
	vc->fpu[0] = 0x7f;                     /* FCW 0x037f */
	vc->fpu[1] = 0x03;
	vc->fpu[24] = 0x80;                    /* MXCSR 0x1f80 */
	vc->fpu[25] = 0x1f;
}

static int svm_vcpu_init(struct vm *vm, struct vcpu *vc)
{
	struct vcpu_reg_state rs;
	uint64_t pa = vm_page_alloc(vm);
	if (!pa)
		return BVMM_ENOMEM;
	struct vmcb *v = (struct vmcb *)(uintptr_t)pa;
	sv(vc)->vmcb = v;
	v->c.intercept_misc1 = VMCB_INTERCEPT_INTR | VMCB_INTERCEPT_NMI | VMCB_INTERCEPT_CPUID |
			       VMCB_INTERCEPT_CR0_SEL_WRITE |
			       VMCB_INTERCEPT_HLT | VMCB_INTERCEPT_INVLPGA | VMCB_INTERCEPT_IOIO_PROT |
			       VMCB_INTERCEPT_MSR_PROT | VMCB_INTERCEPT_SHUTDOWN |
			       VMCB_INTERCEPT_RDPMC | VMCB_INTERCEPT_INVD;
	/* CR4 writes: the child must not turn on what it may not have (OSXSAVE, PKE, ...): the
	 * XSAVE state, XCR0 and PKRU it would reach are the control guest's. */
	v->c.intercept_cr = VMCB_INTERCEPT_CR4_WRITE | VMCB_INTERCEPT_CR8_WRITE;
	/* #DB and #AC: re-injected, so that a delivery loop (CVE-2015-8104, CVE-2015-5307)
	 * exits at every round and cannot hold the CPU. */
	v->c.intercept_exc = VMCB_INTERCEPT_EXC(EXC_DB) | VMCB_INTERCEPT_EXC(EXC_AC);
	v->c.intercept_misc2 = VMCB_INTERCEPT_VMRUN | VMCB_INTERCEPT_VMMCALL | VMCB_INTERCEPT_VMLOAD |
			       VMCB_INTERCEPT_VMSAVE | VMCB_INTERCEPT_STGI | VMCB_INTERCEPT_CLGI |
			       VMCB_INTERCEPT_SKINIT | VMCB_INTERCEPT_MONITOR | VMCB_INTERCEPT_MWAIT |
			       VMCB_INTERCEPT_XSETBV | VMCB_INTERCEPT_RDTSCP;
#ifdef BVMM_TEST_HOOKS
	extern int hv_test_intercept_ud;
	if (hv_test_intercept_ud)
		v->c.intercept_exc |= VMCB_INTERCEPT_EXC(EXC_UD);   /* an exit the run loop does not handle */
#endif
	v->c.iopm_base_pa = svm_host.child_iopm;
	v->c.msrpm_base_pa = svm_host.child_msrpm;
	v->c.asid = 0;   /* invalid until its first entry picks one (asid.h) */
	sv(vc)->tag = (struct asid_vcpu){ .cpu = ~0u };
	v->c.np_enable = VMCB_NP_ENABLE;
	v->c.n_cr3 = vm->npt.root;
	/* Physical interrupts stay the host's (INTR intercept); the child's IF masks only
	 * virtual ones. */
	v->c.int_ctl = VMCB_V_INTR_MASKING;
	vcpu_poweron_state(&rs);
	svm_reset(vc, &rs);
	return 0;
}

static void svm_vcpu_fini(struct vm *vm, struct vcpu *vc)
{
	if (sv(vc)->vmcb)
		vm_page_free(vm, (uint64_t)(uintptr_t)sv(vc)->vmcb);
	sv(vc)->vmcb = NULL;
}

static int can_take_irq(const struct vmcb *v)
{
	return (v->s.rflags & RFLAGS_IF) && !(v->c.int_state & VMCB_INT_SHADOW) &&
	       !(v->c.eventinj & VMCB_EVENT_VALID);
}

static int svm_long_mode(struct vcpu *vc) { return !!(vmcb_of(vc)->s.efer & EFER_LMA); }

/* ---- the child's MSRs: a documented set; #GP for the rest ---- */


static int child_rdmsr(struct vcpu *vc, uint32_t msr, uint64_t *val)
{
	struct vmcb *v = vmcb_of(vc);
	switch (msr) {
	case MSR_EFER:                *val = v->s.efer & ~EFER_SVME; return 0;
	case MSR_PAT:                 *val = v->s.g_pat; return 0;
	case MSR_MISC_ENABLE:         *val = vc->misc_enable; return 0;
	case KVM_MSR_SYSTEM_TIME_NEW: *val = vc->pvclock_msr; return 0;
	case 0x1b:                    return msr_child_apic_base(vc->xapic, vc->id, 0, val);
	default:
		*val = 0;
		return msr_child_pmu_off(msr) ? 0 : -1;
	}
}


static int child_wrmsr(struct vm *vm, struct vcpu *vc, uint32_t msr, uint64_t val)
{
	struct vmcb *v = vmcb_of(vc);
	switch (msr) {
	case MSR_EFER: {
		uint64_t efer = efer_write(v->s.efer, val, v->s.cr0, v->s.cr4, svm_host.efer_child);
		if (efer == EFER_BAD)
			return -1;
		v->s.efer = efer;
		return 0;
	}
	case MSR_PAT:
		if (!pat_valid(val))
			return -1;
		v->s.g_pat = val;
		return 0;
	case MSR_MISC_ENABLE:
		vc->misc_enable = val;
		return 0;
	case KVM_MSR_SYSTEM_TIME_NEW:
		return pvclock_msr_write(vm, vc, val);
	case 0x1b:
		return msr_child_apic_base(vc->xapic, vc->id, 1, &val);
	default:
		return msr_child_pmu_off(msr) ? 0 : -1;   /* ignored */
	}
}

static void child_msr(struct vm *vm, struct vcpu *vc)
{
	struct svm_vcpu *s = sv(vc);
	struct vmcb *v = s->vmcb;
	uint32_t msr = (uint32_t)s->gprs[GPR_RCX];
	uint64_t val = 0;
	int write = v->c.exitinfo1 == VMCB_MSR_WRITE;
	int r = write ? child_wrmsr(vm, vc, msr, (v->s.rax & 0xffffffff) | (s->gprs[GPR_RDX] << 32))
		      : child_rdmsr(vc, msr, &val);
	if (r) {
		svm_inject_exception(v, EXC_GP, 1, 0);
		return;
	}
	if (!write) {
		v->s.rax = val & 0xffffffff;
		s->gprs[GPR_RDX] = val >> 32;
	}
	svm_skip_to(v, svm_next_rip(v, svm_host.nrips));
}

static void child_cpuid(struct vcpu *vc)
{
	struct svm_vcpu *s = sv(vc);
	struct vmcb *v = s->vmcb;
	uint32_t leaf = (uint32_t)v->s.rax, sub = (uint32_t)s->gprs[GPR_RCX];
	struct cpuid_regs r = cpuid(leaf, sub);
	cpuid_filter_child(leaf, sub, v->s.cr4, vc->id, vc->xapic, &r);
	v->s.rax = r.eax;
	s->gprs[GPR_RBX] = r.ebx;
	s->gprs[GPR_RCX] = r.ecx;
	s->gprs[GPR_RDX] = r.edx;
	svm_skip_to(v, svm_next_rip_len(v, svm_host.nrips, 2));   /* 0f a2 */
}

/* ---- caller-visible exits ---- */

/* IOIO EXITINFO1 (APM 15.10.2): TYPE bit 0 (1 = IN), STR 2, REP 3, SZ8/16/32 4-6, port 16-31. */
static void decode_io(struct vmcb *v, struct vexit *ex)
{
	/* SZ8, SZ16, SZ32 (bits 4-6) to the size: SZ8 first, then SZ16, else 4 (one load). */
	static const uint8_t io_size[8] = { 4, 1, 2, 1, 4, 1, 2, 1 };
	uint64_t info = v->c.exitinfo1;
	unsigned size = io_size[(info >> 4) & 7];
	ex->kind = VEXIT_IO;
	ex->io.vei_size = (uint8_t)size;
	ex->io.vei_dir = (info & VMCB_IOIO_IN) ? VEI_DIR_IN : VEI_DIR_OUT;
	ex->io.vei_string = !!(info & VMCB_IOIO_STR);
	ex->io.vei_rep = !!(info & VMCB_IOIO_REP);
	ex->io.vei_encoding = 0;     /* not known without decode assists */
	ex->io.vei_port = (uint16_t)(info >> VMCB_IOIO_PORT_SHIFT);
	uint32_t data = (uint32_t)v->s.rax;   /* an OUT's: only the access's bytes */
	ex->io.vei_data = ex->io.vei_dir == VEI_DIR_OUT ? data & (0xffffffffu >> (32 - 8 * size)) : data;
	svm_skip_to(v, v->c.exitinfo2);   /* next RIP, always provided for IOIO */
}

static int child_gpa_to_hpa(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	return vm_gpa_to_hpa(g->ctx, gpa, len, hpa);
}

/* The faulting instruction's bytes, read through the child's own page tables (QEMU has no
 * decode assists); as many as are mapped, up to 15. */
static void fetch_insn(struct vm *vm, struct vmcb *v, struct vexit *ex)
{
	struct gview g;
	gview_init(&g, v->s.cr0, v->s.cr3, v->s.cr4, v->s.efer, child_gpa_to_hpa, vm, NULL);
	int cs_l = (v->s.efer & EFER_LMA) && (v->s.cs.attrib & VMCB_ATTR_L);
	ex->insn_len = (uint8_t)gmem_fetch_at(&g, cs_l, v->s.cs.base, v->s.rip, ex->insn);
}

/* The value a child's intercepted CR write would load: MOV to CR0/CR4/CR8, LOCK MOV CR0 as
 * CR8 (AltMovCr8, APM vol. 3), LMSW for CR0. Decoded from guest memory (no decode assists
 * under QEMU). 0 and *val, *len; 1 for #UD (LOCK with another CR); -1 if not decodable. */
static int child_cr_value(struct vm *vm, struct vcpu *vc, unsigned crn, uint64_t *val,
			  unsigned *len)
{
	struct svm_vcpu *s = sv(vc);
	struct vmcb *v = s->vmcb;
	struct vexit tmp;
	unsigned cr, gpr;
	int long_mode = (v->s.efer & EFER_LMA) && (v->s.cs.attrib & VMCB_ATTR_L);
	tmp.insn_len = 0;
	fetch_insn(vm, v, &tmp);
	int r = decode_mov_to_cr(tmp.insn, tmp.insn_len, long_mode, &cr, &gpr, len);
	if (r == 1 && cr == 0)
		cr = 8;   /* LOCK MOV CR0 is MOV CR8 */
	else if (r == 1)
		return 1;
	if (r < 0 || cr != crn) {
		if (crn != 0 || decode_lmsw(tmp.insn, tmp.insn_len, long_mode, &gpr, len))
			return -1;
		*val = lmsw_cr0(v->s.cr0, gpr == VCPU_REGS_RAX ? v->s.rax : gpr == VCPU_REGS_RSP ?
				v->s.rsp : s->gprs[gpr]);
		return 0;
	}
	*val = gpr == VCPU_REGS_RAX ? v->s.rax : gpr == VCPU_REGS_RSP ? v->s.rsp : s->gprs[gpr];
	if (!long_mode)
		*val &= 0xffffffffull;
	return 0;
}

/* A child's MOV to CR0 (selective intercept: more than TS/MP changes), CR4 or CR8, emulated
 * with the CPU's rules (cpu.h): a value a CPU without the feature would refuse is #GP, as
 * is PAE cleared under LME (so no child state can lose the host's CR0 at #VMEXIT under
 * QEMU, which also does not check PG without PE itself). CR8 lands in V_TPR: QEMU 7.2
 * aborts on a guest's own CR8 write with a virtual interrupt pending. Returns 0, or -1 if
 * the instruction could not be read or decoded. */
static int child_cr_write(struct vm *vm, struct vcpu *vc, unsigned crn)
{
	struct vmcb *v = vmcb_of(vc);
	uint64_t val, nv, efer = v->s.efer;
	unsigned len;
	int r = child_cr_value(vm, vc, crn, &val, &len);
	if (r)
		return r < 0 ? -1 : (svm_inject_exception(v, EXC_UD, 0, 0), 0);
	if (v->s.cpl) {
		svm_inject_exception(v, EXC_GP, 1, 0);
		return 0;
	}
	int l_bit = !!(v->s.cs.attrib & VMCB_ATTR_L);
	nv = crn == 0 ? cr0_write(v->s.cr0, val, v->s.cr4, l_bit, &efer)
	   : crn == 4 ? cr4_write(v->s.cr4, val, efer, v->s.cr3, svm_host.cr4_child)
	   : val > 15 ? CR4_BAD : val;
	if (nv == CR4_BAD) {   /* == CR0_BAD */
		svm_inject_exception(v, EXC_GP, 1, 0);
		return 0;
	}
	if (crn == 8) {
		v->c.int_ctl = (v->c.int_ctl & ~0xfu) | (uint32_t)nv;
	} else {
		uint64_t old = crn == 0 ? v->s.cr0 : v->s.cr4;
		if (crn == 0 || ((nv ^ old) & CR4_TLB_BITS))
			v->c.tlb_control = VMCB_TLB_FLUSH_ALL;   /* as the hardware MOV would flush */
		if (crn == 0) {
			v->s.cr0 = nv;
			v->s.efer = efer;
			if (!(nv & CR0_PE))
				v->s.cpl = 0;   /* real mode; entering protected mode keeps CPL 0 */
		} else {
			v->s.cr4 = nv;
		}
	}
	svm_skip_to(v, v->s.rip + len);
	return 0;
}

/* Back to the power-on state: after SHUTDOWN the VMCB is undefined (APM 15.11), after a
 * refused VMRUN QEMU leaves host values in it (PLATFORM.md); neither may reach the caller. */
static void poweron(struct vcpu *vc)
{
	struct vcpu_reg_state rs;
	vcpu_poweron_state(&rs);
	svm_reset(vc, &rs);
}

static void decode_npf(struct vm *vm, struct vmcb *v, struct vexit *ex)
{
	ex->gpa = v->c.exitinfo2;
	/* A present page refusing the access is an MPROTECT_EPT permission; anything outside
	 * guest RAM is MMIO for the caller to emulate. */
	ex->kind = (v->c.exitinfo1 & VMCB_NPF_PRESENT) && vm_gpa_in_ram(vm, ex->gpa, 1) ? VEXIT_PROTECT : VEXIT_MMIO;
	fetch_insn(vm, v, ex);
}

/* Handle one exit; returns 1 when the caller must see it (ex filled). */
/* The exits but the hot ones (child_loop_exit's: IOIO, NPF, CPUID, HLT): 0 if handled inside, 1
 * if RUN ends with ex. */
static __attribute__((noinline)) int child_exit(struct vm *vm, struct vcpu *vc, struct vexit *ex)
{
	struct vmcb *v = vmcb_of(vc);
	uint32_t code = (uint32_t)v->c.exitcode;
	switch (code) {
	case SVM_EXIT_INVALID:
		log_warn("vm %u vcpu %u: VMRUN refused the state: vCPU reset to power-on", vm->id, vc->id);
		ex->kind = VEXIT_FAILED;   /* svm_run resets it, after the state switch back */
		return 1;
	case SVM_EXIT_CR0_SEL_WRITE:
	case SVM_EXIT_CR4_WRITE:
	case SVM_EXIT_CR8_WRITE:
		if (!child_cr_write(vm, vc, code == SVM_EXIT_CR0_SEL_WRITE ? 0 :
					    code == SVM_EXIT_CR4_WRITE ? 4 : 8))
			return 0;
		ex->kind = VEXIT_UNEXPECTED;
		return 1;
	case SVM_EXIT_EXCP_DB:
		svm_inject_exception(v, EXC_DB, 0, 0);
		return 0;
	case SVM_EXIT_DR_FIRST ... SVM_EXIT_DR_LAST:
		/* Its first touch of the debug registers: switched from now on, and the
		 * instruction runs again, unintercepted. */
		dr_go_live(this_cpu()->arch, vc, sv(vc));
		return 0;
	case SVM_EXIT_EXCP_AC:
		svm_inject_exception(v, EXC_AC, 1, (uint32_t)v->c.exitinfo1);
		return 0;
	case SVM_EXIT_INVD:   /* INVD would drop other VMs' and the host's dirty lines */
		__asm__ volatile("wbinvd" ::: "memory");
		svm_skip_to(v, svm_next_rip(v, svm_host.nrips));
		return 0;
	case SVM_EXIT_RDPMC:  /* the counters are the control guest's: none for children */
		svm_inject_exception(v, EXC_GP, 1, 0);
		return 0;
	case SVM_EXIT_MSR:
		child_msr(vm, vc);
		return 0;
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMMCALL: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT: case SVM_EXIT_INVLPGA:
	case SVM_EXIT_MONITOR: case SVM_EXIT_MWAIT: case SVM_EXIT_MWAIT_C: case SVM_EXIT_XSETBV:
	case SVM_EXIT_RDTSCP:   /* TSC_AUX is the control guest's: hidden, #UD */
		svm_inject_exception(v, EXC_UD, 0, 0);
		return 0;
	case SVM_EXIT_INTR:
		ex->kind = VEXIT_NONE;   /* the control guest takes it once it runs again */
		return 1;
	case SVM_EXIT_NMI:
		/* Taken now, in host mode: a kick (TERM, INTR, a new nested-table generation) or
		 * the control guest's NMI, which ends RUN so that it gets it. */
		svm_nmi_window();
		if (this_cpu()->nmi_for_guest || __atomic_exchange_n(&vc->kick_exit, 0, __ATOMIC_SEQ_CST)) {
			ex->kind = VEXIT_NONE;
			return 1;
		}
		return 0;
	case SVM_EXIT_VINTR:
		v->c.int_ctl &= ~(VMCB_V_IRQ | VMCB_V_IGN_TPR);
		v->c.intercept_misc1 &= ~VMCB_INTERCEPT_VINTR;
		ex->kind = VEXIT_IRQWIN;
		return 1;
	case SVM_EXIT_SHUTDOWN:
		ex->kind = VEXIT_SHUTDOWN;   /* svm_run resets it, after the state switch back */
		return 1;
	default:
		ex->kind = VEXIT_UNEXPECTED;
		return 1;
	}
}

/* ---- the run loop ---- */

static void fx_save(uint8_t *p) { __asm__ volatile("fxsave64 (%0)" : : "r"(p) : "memory"); }
static void fx_restore(const uint8_t *p) { __asm__ volatile("fxrstor64 (%0)" : : "r"(p) : "memory"); }


/* FPU/SSE state and DR0-3 are not switched by VMRUN: the control guest's are kept aside
 * while a child runs (children have no XSAVE, so FXSAVE covers their state). */
static void child_state_in(struct svm_cpu *c, struct vcpu *vc)
{
	fx_save(c->control_fpu);
	if (!svm_host.fxsave_erptr) {
		/* AMD without XSaveErPtr: FXRSTOR keeps the last x87 instruction and data
		 * pointers unless an exception is pending; load them with ours first (the Linux
		 * workaround) so the control guest's do not reach the child. */
		static const uint32_t zero;
		__asm__ volatile("fnclex; emms; fildl %0" : : "m"(zero));
	}
	fx_restore(vc->fpu);
	struct svm_vcpu *s = sv(vc);
	if (dr_live(s) || (s->vmcb->s.dr7 & DR7_ARMED))
		dr_go_live(c, vc, s);
	if (svm_host.has_rdtscp) {   /* should RDTSCP run after all (QEMU ignores the intercept) */
		c->control_tsc_aux = rdmsr(MSR_TSC_AUX);
		if (c->control_tsc_aux != vc->id)   /* the child cannot write it (WRMSR: #GP) */
			wrmsr(MSR_TSC_AUX, vc->id);
	}
}

static void child_state_out(struct svm_cpu *c, struct vcpu *vc)
{
	fx_save(vc->fpu);
	if (!svm_host.fxsave_erptr) {   /* and the child's must not reach the control guest */
		static const uint32_t zero;
		__asm__ volatile("fnclex; emms; fildl %0" : : "m"(zero));
	}
	fx_restore(c->control_fpu);
	if (dr_live(sv(vc))) {
		save_dr0_3(vc->dr);
		load_dr0_3(c->control_dr);
	}
	if (svm_host.has_rdtscp && c->control_tsc_aux != vc->id)
		wrmsr(MSR_TSC_AUX, c->control_tsc_aux);
}

/* Before each entry: an ASID whose entries on this CPU all come from the VM's current
 * nested tables (APM vol. 2 15.16; the rules in asid.h). */
static inline __attribute__((always_inline)) void pick_asid(struct hv_cpu *hc, struct vm *vm,
							   struct svm_vcpu *s)
{
	enum asid_action a = asid_pick(&hc->asid, hc->index, svm_host.max_asid, &s->tag,
				       __atomic_load_n(&vm->npt_gen, __ATOMIC_SEQ_CST));
	if (a == ASID_KEEP)
		return;
	s->vmcb->c.asid = s->tag.asid;
	if (a == ASID_NEW_FLUSH_ALL)
		s->vmcb->c.tlb_control = VMCB_TLB_FLUSH_ALL;
}

/* One RUN's exits handled inside (svm_loop's exit function). */
struct child_run {
	struct hv_cpu *hc;
	struct vm *vm;
	struct vcpu *vc;
	struct svm_vcpu *s;
	struct vmcb *v;
	struct vexit *ex;
	unsigned inner;
};

/* Before each entry (first: RUN's first). */
static inline void child_pre_entry(struct child_run *r, int first)
{
	struct vcpu *vc = r->vc;
	if (vc->pvclock_hpa)   /* a registered clock is kept current on every entry */
		pvclock_update(r->vm, vc);
	/* In guest mode from here (odd), then the VM's nested-table generation: a full barrier
	 * between the two, paired with vm_tlb_shootdown's (bump the generation, then read this),
	 * so that either this entry sees the new generation or the shootdown sees the vCPU in
	 * guest mode and waits for its exit. */
	__atomic_store_n(&vc->guest_seq, vc->guest_seq + 1, __ATOMIC_SEQ_CST);
	/* Between the entries of one RUN only the VM's nested-table generation can take the tag
	 * away: this CPU hands out tags only here, and only to this vCPU until RUN ends. */
	if (first || __atomic_load_n(&r->vm->npt_gen, __ATOMIC_SEQ_CST) != r->s->tag.npt_gen)
		pick_asid(r->hc, r->vm, r->s);
	phase(PH_ENTRY);
}

/* After an exit handled inside: enter again, unless RUN has handled too many. */
static inline int child_again(struct child_run *r)
{
	if (++r->inner == VCPU_INNER_EXIT_LIMIT) {
		r->ex->kind = VEXIT_NONE;   /* back to the caller, which is then in charge */
		return SVM_LOOP_DONE;
	}
	child_pre_entry(r, 0);
	return SVM_LOOP_AGAIN;
}

static __attribute__((noinline)) int child_npf(struct child_run *r)
{
	decode_npf(r->vm, r->v, r->ex);
	phase(PH_CHILD_EXIT);
	return SVM_LOOP_DONE;
}

static __attribute__((noinline)) int child_other(struct child_run *r)
{
	int done = child_exit(r->vm, r->vc, r->ex);
	phase(PH_CHILD_EXIT);
	return done ? SVM_LOOP_DONE : child_again(r);
}

/* After each exit: enter again (an exit handled inside), or end RUN. The hot exits are
 * handled here or reached by a jump, without child_exit's frame: CPUID inside, port I/O,
 * MMIO and HLT for the device model. */
static int child_loop_exit(void *arg)
{
	struct child_run *r = arg;
	struct vcpu *vc = r->vc;
	struct vmcb *v = r->v;
	phase(PH_CHILD);
	/* Out of guest mode (even): only this CPU writes it, a release store will do. */
	__atomic_store_n(&vc->guest_seq, vc->guest_seq + 1, __ATOMIC_RELEASE);
	v->c.tlb_control = 0;
	/* An event cut short by the exit is delivered again unless a handler injects. */
	v->c.eventinj = vmcb_reinject(v->c.exitintinfo);
	uint64_t code = v->c.exitcode;
	if (code == SVM_EXIT_IOIO) {
		decode_io(v, r->ex);
		phase(PH_CHILD_EXIT);
		return SVM_LOOP_DONE;
	}
	if (code == SVM_EXIT_NPF)
		return child_npf(r);
	if (code == SVM_EXIT_HLT) {   /* an idle guest's */
		r->ex->kind = VEXIT_HLT;
		r->ex->intr_enabled = !!(v->s.rflags & RFLAGS_IF);
		svm_skip_to(v, svm_next_rip_len(v, svm_host.nrips, 1));   /* f4 */
		phase(PH_CHILD_EXIT);
		return SVM_LOOP_DONE;
	}
	if (code != SVM_EXIT_CPUID)
		return child_other(r);
	child_cpuid(vc);
	phase(PH_CHILD_EXIT);
	return child_again(r);
}

static void svm_run(struct vm *vm, struct vcpu *vc, int irq, struct vexit *ex)
{
	struct hv_cpu *hc = this_cpu();
	struct svm_cpu *c = hc->arch;
	struct svm_vcpu *s = sv(vc);
	struct vmcb *v = s->vmcb;
	*ex = (struct vexit){ 0 };   /* a few stores, not a memset call */
	if (irq >= 0 && can_take_irq(v))
		v->c.eventinj = (uint64_t)irq | VMCB_EVENT_TYPE_INTR | VMCB_EVENT_VALID;
	if (!vc->irq_pending && !(v->c.intercept_misc1 & VMCB_INTERCEPT_VINTR)) {
		/* The common case: no interrupt pending and no window open: nothing to change. */
	} else if (vc->irq_pending && !can_take_irq(v)) {
		/* Interrupt window: a virtual interrupt the guest takes when it can (APM 15.21.4). */
		v->c.int_ctl |= VMCB_V_IRQ | VMCB_V_IGN_TPR;
		v->c.intercept_misc1 |= VMCB_INTERCEPT_VINTR;
	} else {
		/* Nothing pending any more (INTR 0), or the guest can take it now: no window. */
		v->c.int_ctl &= ~(VMCB_V_IRQ | VMCB_V_IGN_TPR);
		v->c.intercept_misc1 &= ~VMCB_INTERCEPT_VINTR;
	}
	child_state_in(c, vc);
	phase(PH_STATE_IN);
	struct child_run r = { .hc = hc, .vm = vm, .vc = vc, .s = s, .v = v, .ex = ex };
	child_pre_entry(&r, 1);
	svm_loop((uint64_t)(uintptr_t)v, s->gprs, c->host_save, child_loop_exit, &r);
	ex->raw = (uint32_t)v->c.exitcode;   /* the exit that ended RUN */
	child_state_out(c, vc);
	phase(PH_STATE_OUT);
	if (ex->kind == VEXIT_FAILED || ex->kind == VEXIT_SHUTDOWN)
		poweron(vc);   /* FPU and DR0-3 too: after the switch back saved the old ones */
	ex->irq_ready = (uint8_t)can_take_irq(v);
	ex->cpl = v->s.cpl;
}

struct vendor_ops svm_vendor_ops = {
	.name = "AMD SVM",
	.vcpu_init = svm_vcpu_init,
	.vcpu_fini = svm_vcpu_fini,
	.regs_read = svm_regs_read,
	.regs_write = svm_regs_write,
	.reset = svm_reset,
	.io_in_done = svm_io_in_done,
	.long_mode = svm_long_mode,
	.run = svm_run,
	.npt_base = PTE_US,    /* a nested walk is a user access (PLATFORM.md) */
	.npt_write = PTE_RW,
	.npt_nx = PTE_NX,      /* cleared at launch if the CPU has no NX */
};
