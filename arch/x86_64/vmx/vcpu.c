/* Child vCPUs on VMX: a VMCS per vCPU, the conversions between vcpu_reg_state and the VMCS
 * (vsi_ar is VMX's own access-rights layout), the run loop (the child's VMCS made current,
 * FPU, DR0-3/DR6, CR2 and the syscall MSRs switched around it, the control guest's VMCS
 * current again afterwards) and the exit decoding into hv/'s vendor-neutral form. Exits the
 * caller need not see (CPUID, MSRs, CR writes, #DB/#AC) are handled here and the child
 * resumes, at most VCPU_INNER_EXIT_LIMIT times in a row. */
#include "vmx.h"
#include "insn.h"
#include "event.h"
#include "../cpu.h"
#include "../cpuid.h"
#include "../msr.h"
#include "../desc.h"
#include "../svm/svm.h"   /* decode_mov_to_cr: the shared x86 decoder */
#include "../../../abi/bvmm.h"
#include "../../../hv/hv.h"
#include "../../../hv/log.h"
#include "../../../hv/mem.h"
#include "../../../hv/pool.h"
#include "../../../hv/panic.h"
#include "../../../hv/validate.h"
#include "../../../hv/vm.h"

struct vmx_vcpu {
	uint64_t vmcs_pa;
	uint64_t gprs[16];            /* vcpu_reg_state order; RSP lives in the VMCS */
	uint64_t star, lstar, cstar, sfmask, kgsbase;   /* not switched by VMX */
	uint64_t cr2, dr6;            /* nor these */
	uint8_t launched, tpr;
};
_Static_assert(sizeof(struct vmx_vcpu) <= VM_ARCH_BYTES, "vmx_vcpu fits vcpu->arch");

static struct vmx_vcpu *xv(struct vcpu *vc) { return (struct vmx_vcpu *)(void *)vc->arch; }

#define CR4_VMXE (1ull << 13)
#define CHILD_VPID 2
#define GUEST_PDPTE0 0x280a
#define CHILD_SLICE (1u << 20)   /* preemption-timer units (TSC >> IA32_VMX_MISC[4:0]) */

/* The child's VMCS current for the duration of one operation. */
static void enter_vmcs(struct vcpu *vc) { vmptrld(xv(vc)->vmcs_pa); }
static void leave_vmcs(void) { vmptrld(vmx_this_cpu()->control.vmcs_pa); }

/* ---- registers ---- */

static const uint16_t seg_sel[VCPU_REGS_NSREGS] = {
	[VCPU_REGS_CS] = GUEST_CS_SEL, [VCPU_REGS_DS] = GUEST_DS_SEL, [VCPU_REGS_ES] = GUEST_ES_SEL,
	[VCPU_REGS_FS] = GUEST_FS_SEL, [VCPU_REGS_GS] = GUEST_GS_SEL, [VCPU_REGS_SS] = GUEST_SS_SEL,
	[VCPU_REGS_LDTR] = GUEST_LDTR_SEL, [VCPU_REGS_TR] = GUEST_TR_SEL,
};
/* The limit, access-rights and base fields follow the selector's order (ES, CS, SS, DS, FS,
 * GS, LDTR, TR: index = (selector field - 0x800) / 2). */
static unsigned seg_index(unsigned i) { return (seg_sel[i] - GUEST_ES_SEL) / 2; }

static uint64_t visible_cr(uint64_t real, uint64_t mask, uint64_t shadow)
{
	uint64_t m = vmread(mask);
	return (vmread(real) & ~m) | (vmread(shadow) & m);
}

static void regs_read_current(struct vcpu *vc, uint64_t mask, struct vcpu_reg_state *rs)
{
	struct vmx_vcpu *x = xv(vc);
	if (mask & VM_RWREGS_GPRS) {
		for (int i = 0; i < 16; i++)
			rs->vrs_gprs[i] = x->gprs[i];
		rs->vrs_gprs[VCPU_REGS_RSP] = vmread(GUEST_RSP);
		rs->vrs_gprs[VCPU_REGS_RIP] = vmread(GUEST_RIP);
		rs->vrs_gprs[VCPU_REGS_RFLAGS] = vmread(GUEST_RFLAGS);
	}
	if (mask & VM_RWREGS_SREGS) {
		for (int i = 0; i < VCPU_REGS_NSREGS; i++) {
			unsigned k = seg_index(i);
			rs->vrs_sregs[i].vsi_sel = (uint16_t)vmread(seg_sel[i]);
			rs->vrs_sregs[i].vsi_limit = (uint32_t)vmread(GUEST_ES_LIMIT + 2 * k);
			rs->vrs_sregs[i].vsi_ar = (uint32_t)vmread(GUEST_ES_AR + 2 * k);
			rs->vrs_sregs[i].vsi_base = vmread(GUEST_ES_BASE + 2 * k);
		}
		rs->vrs_gdtr.vsi_sel = rs->vrs_idtr.vsi_sel = 0;
		rs->vrs_gdtr.vsi_ar = rs->vrs_idtr.vsi_ar = 0;
		rs->vrs_gdtr.vsi_limit = (uint32_t)vmread(GUEST_GDTR_LIMIT);
		rs->vrs_gdtr.vsi_base = vmread(GUEST_GDTR_BASE);
		rs->vrs_idtr.vsi_limit = (uint32_t)vmread(GUEST_IDTR_LIMIT);
		rs->vrs_idtr.vsi_base = vmread(GUEST_IDTR_BASE);
	}
	if (mask & VM_RWREGS_CRS) {
		rs->vrs_crs[VCPU_REGS_CR0] = visible_cr(GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW);
		rs->vrs_crs[VCPU_REGS_CR2] = x->cr2;
		rs->vrs_crs[VCPU_REGS_CR3] = vmread(GUEST_CR3);
		rs->vrs_crs[VCPU_REGS_CR4] = visible_cr(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW);
		rs->vrs_crs[VCPU_REGS_CR8] = x->tpr;
		rs->vrs_crs[VCPU_REGS_XCR0] = vc->xcr0;
		for (int i = 0; i < 4; i++)
			rs->vrs_crs[VCPU_REGS_PDPTE0 + i] = vmread(GUEST_PDPTE0 + 2 * i);
	}
	if (mask & VM_RWREGS_MSRS) {
		rs->vrs_msrs[VCPU_REGS_EFER] = vmread(GUEST_EFER);
		rs->vrs_msrs[VCPU_REGS_STAR] = x->star;
		rs->vrs_msrs[VCPU_REGS_LSTAR] = x->lstar;
		rs->vrs_msrs[VCPU_REGS_CSTAR] = x->cstar;
		rs->vrs_msrs[VCPU_REGS_SFMASK] = x->sfmask;
		rs->vrs_msrs[VCPU_REGS_KGSBASE] = x->kgsbase;
		rs->vrs_msrs[VCPU_REGS_MISC_ENABLE] = vc->misc_enable;
	}
	if (mask & VM_RWREGS_DRS) {
		for (int i = 0; i < 4; i++)
			rs->vrs_drs[i] = vc->dr[i];
		rs->vrs_drs[VCPU_REGS_DR6] = x->dr6;
		rs->vrs_drs[VCPU_REGS_DR7] = vmread(GUEST_DR7);
	}
}

static void vmx_regs_read(struct vcpu *vc, uint64_t mask, struct vcpu_reg_state *rs)
{
	enter_vmcs(vc);
	regs_read_current(vc, mask, rs);
	leave_vmcs();
}

/* CR0 and CR4 as VMX needs them (fixed bits; PE and PG free with unrestricted guest), the
 * child seeing its own values through the read shadows. */
static void guest_cr0(uint64_t v)
{
	uint64_t fixed = vmx_host.cr0_fixed0 & ~(CR0_PE | CR0_PG);
	vmwrite(GUEST_CR0, (v | fixed) & vmx_host.cr0_fixed1);
	vmwrite(VMCS_CR0_SHADOW, v);
}

static void guest_cr4(uint64_t v)
{
	vmwrite(GUEST_CR4, (v | vmx_host.cr4_fixed0) & vmx_host.cr4_fixed1);
	vmwrite(VMCS_CR4_SHADOW, v);
}

static void sync_ia32e(void)
{
	uint64_t entry = vmread(VMCS_ENTRY_CTLS), lma = vmread(GUEST_EFER) & EFER_LMA;
	vmwrite(VMCS_ENTRY_CTLS, lma ? entry | ENTRY_IA32E : entry & ~ENTRY_IA32E);
}

static void regs_write_current(struct vcpu *vc, uint64_t mask, const struct vcpu_reg_state *rs)
{
	struct vmx_vcpu *x = xv(vc);
	if (mask & VM_RWREGS_GPRS) {
		for (int i = 0; i < 16; i++)
			x->gprs[i] = rs->vrs_gprs[i];
		vmwrite(GUEST_RSP, rs->vrs_gprs[VCPU_REGS_RSP]);
		vmwrite(GUEST_RIP, rs->vrs_gprs[VCPU_REGS_RIP]);
		vmwrite(GUEST_RFLAGS, rs->vrs_gprs[VCPU_REGS_RFLAGS]);
	}
	if (mask & VM_RWREGS_SREGS) {
		for (int i = 0; i < VCPU_REGS_NSREGS; i++) {
			const struct vcpu_segment_info *si = &rs->vrs_sregs[i];
			unsigned k = seg_index(i);
			vmwrite(seg_sel[i], si->vsi_sel);
			vmwrite(GUEST_ES_LIMIT + 2 * k, si->vsi_limit);
			uint32_t ar = si->vsi_ar;
			if (i != VCPU_REGS_LDTR && i != VCPU_REGS_TR && (ar & (1u << 4)) &&
			    !(ar & VSI_AR_UNUSABLE))
				ar |= 1;   /* accessed: VM entry insists on it, SVM does not care */
			vmwrite(GUEST_ES_AR + 2 * k, ar);
			vmwrite(GUEST_ES_BASE + 2 * k, si->vsi_base);
		}
		vmwrite(GUEST_GDTR_LIMIT, rs->vrs_gdtr.vsi_limit);
		vmwrite(GUEST_GDTR_BASE, rs->vrs_gdtr.vsi_base);
		vmwrite(GUEST_IDTR_LIMIT, rs->vrs_idtr.vsi_limit);
		vmwrite(GUEST_IDTR_BASE, rs->vrs_idtr.vsi_base);
	}
	if (mask & VM_RWREGS_CRS) {
		guest_cr0(rs->vrs_crs[VCPU_REGS_CR0]);
		x->cr2 = rs->vrs_crs[VCPU_REGS_CR2];
		vmwrite(GUEST_CR3, rs->vrs_crs[VCPU_REGS_CR3]);
		guest_cr4(rs->vrs_crs[VCPU_REGS_CR4]);
		x->tpr = (uint8_t)(rs->vrs_crs[VCPU_REGS_CR8] & 0xf);
		vc->xcr0 = rs->vrs_crs[VCPU_REGS_XCR0];
		for (int i = 0; i < 4; i++)
			vmwrite(GUEST_PDPTE0 + 2 * i, rs->vrs_crs[VCPU_REGS_PDPTE0 + i]);
	}
	if (mask & VM_RWREGS_MSRS) {
		vmwrite(GUEST_EFER, rs->vrs_msrs[VCPU_REGS_EFER]);
		x->star = rs->vrs_msrs[VCPU_REGS_STAR];
		x->lstar = rs->vrs_msrs[VCPU_REGS_LSTAR];
		x->cstar = rs->vrs_msrs[VCPU_REGS_CSTAR];
		x->sfmask = rs->vrs_msrs[VCPU_REGS_SFMASK];
		x->kgsbase = rs->vrs_msrs[VCPU_REGS_KGSBASE];
		vc->misc_enable = rs->vrs_msrs[VCPU_REGS_MISC_ENABLE];
		sync_ia32e();
	}
	if (mask & VM_RWREGS_DRS) {
		for (int i = 0; i < 4; i++)
			vc->dr[i] = rs->vrs_drs[i];
		x->dr6 = rs->vrs_drs[VCPU_REGS_DR6];
		vmwrite(GUEST_DR7, rs->vrs_drs[VCPU_REGS_DR7]);
	}
}

static void vmx_regs_write(struct vcpu *vc, uint64_t mask, const struct vcpu_reg_state *rs)
{
	enter_vmcs(vc);
	regs_write_current(vc, mask, rs);
	leave_vmcs();
}

static void vmx_io_in_done(struct vcpu *vc, unsigned size, uint32_t data)
{
	uint64_t *rax = &xv(vc)->gprs[VCPU_REGS_RAX];
	uint64_t mask = size == 1 ? 0xff : size == 2 ? 0xffff : 0;
	*rax = mask ? (*rax & ~mask) | (data & mask) : data;
}

static void reset_current(struct vcpu *vc, const struct vcpu_reg_state *rs)
{
	regs_write_current(vc, VM_RWREGS_ALL, rs);
	vmwrite(VMCS_ENTRY_INTR, 0);
	vmwrite(GUEST_INTERRUPTIBILITY, 0);
	vmwrite(GUEST_ACTIVITY, 0);
	vmwrite(GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) & ~PROC_INT_WINDOW);
	vmwrite(GUEST_PAT, 0x0007040600070406ull);   /* the power-on PAT */
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
	vmwrite(GUEST_DEBUGCTL, 0);
	memset(vc->fpu, 0, sizeof vc->fpu);
	vc->fpu[0] = 0x7f;                           /* FCW 0x037f */
	vc->fpu[1] = 0x03;
	vc->fpu[24] = 0x80;                          /* MXCSR 0x1f80 */
	vc->fpu[25] = 0x1f;
}

static void vmx_reset(struct vcpu *vc, const struct vcpu_reg_state *rs)
{
	enter_vmcs(vc);
	reset_current(vc, rs);
	leave_vmcs();
}

/* ---- VMCS set-up ---- */

static uint32_t child_ctl(uint32_t cap_msr, uint32_t need, uint32_t want)
{
	uint32_t v, missing;
	vmx_ctl(rdmsr(cap_msr), need, want, &v, &missing);
	return v;
}

static void child_controls(struct vm *vm)
{
	int t = !!(rdmsr(MSR_VMX_BASIC) & VMX_BASIC_TRUE_CTLS);
	/* Physical interrupts and NMIs are the control guest's: they end RUN. The preemption
	 * timer ends it too, at the latest after CHILD_SLICE: Bochs 2.7 does not re-evaluate
	 * interrupt masking at VM entry, so a child resumed with IF = 0 never sees the
	 * external-interrupt exit it is owed; on hardware the timer bounds RUN all the same. */
	uint32_t pin = child_ctl(t ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED,
				 PIN_EXT_INT_EXIT | PIN_NMI_EXIT, PIN_PREEMPT_TIMER);
	vmwrite(VMCS_PIN, pin);
	vmx_host.child_preempt = !!(pin & PIN_PREEMPT_TIMER);
	vmwrite(VMCS_PROC, child_ctl(t ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED,
				     PROC_HLT_EXIT | PROC_UNCOND_IO_EXIT | PROC_MSR_BITMAPS |
				     PROC_SECONDARY | PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT |
				     PROC_RDPMC_EXIT | PROC_MWAIT_EXIT | PROC_MONITOR_EXIT, 0));
	/* No RDTSCP, INVPCID, XSAVES for children (#UD, as their CPUID says); no VPID: the TLB
	 * is flushed at every entry, and INVEPT drops stale guest-physical mappings. */
	vmwrite(VMCS_PROC2, child_ctl(MSR_VMX_PROCBASED2, PROC2_EPT | PROC2_UNRESTRICTED, 0));
	vmwrite(VMCS_EXIT_CTLS, child_ctl(t ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT, EXIT_HOST_64 |
					  EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT |
					  EXIT_LOAD_PAT | EXIT_SAVE_DEBUG | EXIT_ACK_INT, 0));
	vmwrite(VMCS_ENTRY_CTLS, child_ctl(t ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY,
					   ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG, 0));
	/* #DB and #AC re-injected: a delivery loop exits at every round (CVE-2015-8104/5307). */
	vmwrite(VMCS_EXC_BITMAP, (1u << EXC_DB) | (1u << EXC_AC));
	vmwrite(VMCS_CR3_TARGETS, 0);
	vmwrite(VMCS_EXIT_MSR_STORE, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD, 0);
	vmwrite(VMCS_MSR_BITMAP, vmx_host.child_msr_bitmap);
	vmwrite(VMCS_EPTP, vm->npt.root | EPTP_WALK4 | EPTP_WB);
	/* Every CR4 bit owned (each write emulated, as on SVM), and CR0's fixed bits. */
	vmwrite(VMCS_CR0_MASK, (vmx_host.cr0_fixed0 & ~(CR0_PE | CR0_PG)) | ~vmx_host.cr0_fixed1);
	vmwrite(VMCS_CR4_MASK, ~0ull);
	vmwrite(GUEST_LINK_PTR, ~0ull);
	vmwrite(0x4006, 0);   /* #PF error-code mask and match */
	vmwrite(0x4008, 0);
	vmwrite(0x401c, 0);   /* TPR threshold */
}

/* The host state of the hypervisor, as for the control guest's VMCS (vmx.c). */
void vmx_fill_host(void);

static int vmx_vcpu_init(struct vm *vm, struct vcpu *vc)
{
	struct vcpu_reg_state rs;
	uint64_t pa = vm_page_alloc(vm);
	if (!pa)
		return BVMM_ENOMEM;
	struct vmx_vcpu *x = xv(vc);
	memset(x, 0, sizeof *x);
	x->vmcs_pa = pa;
	*(uint32_t *)(uintptr_t)pa = vmx_host.revision;
	if (vmclear(pa) || vmptrld(pa)) {
		leave_vmcs();
		vm_page_free(vm, pa);
		x->vmcs_pa = 0;
		return BVMM_ENOMEM;
	}
	vmx_fill_host();
	child_controls(vm);
	vcpu_poweron_state(&rs);
	reset_current(vc, &rs);
	leave_vmcs();
	return 0;
}

static void vmx_vcpu_fini(struct vm *vm, struct vcpu *vc)
{
	struct vmx_vcpu *x = xv(vc);
	if (x->vmcs_pa) {
		vmclear(x->vmcs_pa);   /* no processor may keep it cached once the page is reused */
		vm_page_free(vm, x->vmcs_pa);
	}
	x->vmcs_pa = 0;
}

static int can_take_irq_current(void)
{
	return (vmread(GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_STI_MOVSS) &&
	       !(vmread(VMCS_ENTRY_INTR) & INTR_INFO_VALID);
}


static int vmx_long_mode(struct vcpu *vc)
{
	enter_vmcs(vc);
	int r = !!(vmread(GUEST_EFER) & EFER_LMA);
	leave_vmcs();
	return r;
}

/* ---- exits handled inside ---- */


static void child_cpuid(struct vcpu *vc)
{
	uint64_t *g = xv(vc)->gprs;
	uint32_t leaf = (uint32_t)g[VCPU_REGS_RAX], sub = (uint32_t)g[VCPU_REGS_RCX];
	struct cpuid_regs r = cpuid(leaf, sub);
	cpuid_filter_child(leaf, sub, visible_cr(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW), vc->id,
			   vc->xapic, &r);
	g[VCPU_REGS_RAX] = r.eax;
	g[VCPU_REGS_RBX] = r.ebx;
	g[VCPU_REGS_RCX] = r.ecx;
	g[VCPU_REGS_RDX] = r.edx;
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

/* The child's MSRs: the set SVM children have (svm/vcpu.c), #GP for the rest. */
static void child_msr(struct vm *vm, struct vcpu *vc, int write)
{
	uint64_t *g = xv(vc)->gprs;
	uint32_t msr = (uint32_t)g[VCPU_REGS_RCX];
	uint64_t val = (g[VCPU_REGS_RAX] & 0xffffffff) | (g[VCPU_REGS_RDX] << 32), out = 0;
	int r = 0;
	if (msr == MSR_EFER && write) {
		uint64_t cr4 = visible_cr(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW);
		uint64_t e = efer_write(vmread(GUEST_EFER), val, vmread(GUEST_CR0), cr4,
					vmx_host.efer_child);
		r = e == EFER_BAD ? -1 : (vmwrite(GUEST_EFER, e & ~EFER_SVME), 0);
	} else if (msr == MSR_EFER) {
		out = vmread(GUEST_EFER);
	} else if (msr == MSR_PAT && write) {
		r = pat_valid(val) ? (vmwrite(GUEST_PAT, val), 0) : -1;
	} else if (msr == MSR_PAT) {
		out = vmread(GUEST_PAT);
	} else if (msr == MSR_MISC_ENABLE) {
		if (write)
			vc->misc_enable = val;
		out = vc->misc_enable;
	} else if (msr == KVM_MSR_SYSTEM_TIME_NEW) {
		if (write)
			r = pvclock_msr_write(vm, vc, val);
		out = vc->pvclock_msr;
	} else if (msr == 0x1b) {
		out = val;
		r = msr_child_apic_base(vc->xapic, vc->id, write, &out);
	} else if (!msr_child_pmu_off(msr)) {   /* those read 0, writes ignored */
		r = -1;
	}
	if (r) {
		vmx_inject_exc(EXC_GP, 1, 0);
		return;
	}
	if (!write) {
		g[VCPU_REGS_RAX] = out & 0xffffffff;
		g[VCPU_REGS_RDX] = out >> 32;
	}
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

/* MOV to CR0/CR4 touching an owned bit, MOV to/from CR8 (the virtual TPR; without a TPR
 * shadow the physical TPR would be the child's): the processor's rules (cpu.h). */
static void child_cr(struct vcpu *vc)
{
	struct vmx_vcpu *x = xv(vc);
	struct vmx_cr c;
	vmx_decode_cr(vmread(VMCS_EXIT_QUAL), &c);
	int cs_l = (vmread(GUEST_EFER) & EFER_LMA) && (vmread(GUEST_CS_AR) & (1u << 13));
	uint64_t reg = c.gpr == VCPU_REGS_RSP ? vmread(GUEST_RSP) : x->gprs[c.gpr];
	uint64_t val = c.type == 3 ? lmsw_cr0(visible_cr(GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW), c.lmsw)
				   : reg & (cs_l ? ~0ull : 0xffffffffull);
	if (c.type == 1 && c.cr == 8) {   /* MOV from CR8 */
		if (c.gpr == VCPU_REGS_RSP)
			vmwrite(GUEST_RSP, x->tpr);
		else
			x->gprs[c.gpr] = x->tpr;
		vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
		return;
	}
	uint64_t efer = vmread(GUEST_EFER), nv = CR0_BAD;
	if (c.cr == 8 && c.type == 0) {
		if (val <= 15)
			x->tpr = (uint8_t)(nv = val);
	} else if (c.cr == 0 && (c.type == 0 || c.type == 3)) {
		nv = cr0_write(visible_cr(GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW), val,
			       visible_cr(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW),
			       !!(vmread(GUEST_CS_AR) & (1u << 13)), &efer);
		if (nv != CR0_BAD) {
			guest_cr0(nv);
			vmwrite(GUEST_EFER, efer);
			sync_ia32e();
		}
	} else if (c.cr == 4 && c.type == 0) {
		nv = cr4_write(visible_cr(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW), val, efer,
			       vmread(GUEST_CR3), vmx_host.cr4_child);
		if (nv != CR4_BAD)
			guest_cr4(nv);
	}
	if (nv == CR0_BAD || vmx_cpl()) {
		vmx_inject_exc(EXC_GP, 1, 0);
		return;
	}
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

/* ---- caller-visible exits ---- */

static void decode_io(struct vcpu *vc, struct vexit *ex)
{
	struct vmx_io io;
	uint64_t q = vmread(VMCS_EXIT_QUAL);
	vmx_decode_io(q, &io);
	ex->kind = VEXIT_IO;
	ex->io.vei_size = (uint8_t)io.size;
	ex->io.vei_dir = io.in ? VEI_DIR_IN : VEI_DIR_OUT;
	ex->io.vei_string = (uint8_t)io.string;
	ex->io.vei_rep = (uint8_t)io.rep;
	ex->io.vei_encoding = (q >> 6) & 1;   /* 0: port in DX, 1: immediate (SDM table 28-5) */
	ex->io.vei_port = io.port;
	uint64_t rax = xv(vc)->gprs[VCPU_REGS_RAX];
	uint64_t mask = io.size == 4 ? 0xffffffffull : (1ull << (io.size * 8)) - 1;
	ex->io.vei_data = (uint32_t)(io.in ? rax : rax & mask);
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

static int child_gpa_to_hpa(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	return vm_gpa_to_hpa(g->ctx, gpa, len, hpa);
}

/* The faulting instruction's bytes through the child's own page tables (VMX gives no length
 * for EPT violations). */
static void fetch_insn(struct vm *vm, struct vexit *ex)
{
	struct gview g;
	gview_init(&g, vmread(GUEST_CR0), vmread(GUEST_CR3), vmread(GUEST_CR4), vmread(GUEST_EFER),
		   child_gpa_to_hpa, vm, NULL);
	ex->insn_len = (uint8_t)vmx_fetch_insn(&g, vmx_cs_l(), ex->insn);
}

static void decode_ept(struct vm *vm, struct vexit *ex)
{
	uint64_t q = vmread(VMCS_EXIT_QUAL);
	ex->gpa = vmread(VMCS_GUEST_PHYS);
	/* The entry allowed something (bits 5:3): a permission MPROTECT_EPT took away; nothing
	 * mapped there: MMIO for the caller. */
	ex->kind = (q & 0x38) && vm_gpa_in_ram(vm, ex->gpa, 1) ? VEXIT_PROTECT : VEXIT_MMIO;
	fetch_insn(vm, ex);
}

/* Handle one exit (the child's VMCS current); 1 when the caller must see it. */
static int child_exit(struct vm *vm, struct vcpu *vc, uint32_t reason, struct vexit *ex)
{
	ex->raw = reason & 0xffff;
	if (reason & VMX_EXIT_FAILED_ENTRY) {
		log_warn("vm %u vcpu %u: VM entry refused the state (reason %x, qualification %lx): "
			 "vCPU reset to power-on", vm->id, vc->id, reason, vmread(VMCS_EXIT_QUAL));
		ex->kind = VEXIT_FAILED;
		return 1;
	}
	vmx_reinject();
	switch (reason) {
	case VMX_EXIT_EXC_NMI: {
		uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR);
		if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
			vmx_this_cpu()->control_nmi = 1;   /* the control guest's: delivered when it runs */
			ex->kind = VEXIT_NONE;
			return 1;
		}
		/* #DB, #AC: back to the guest. A #DB that exits leaves DR6 alone (its bits are in
		 * the qualification, SDM 28.2.1): they go into the child's DR6, live now. ICEBP is
		 * a privileged software exception: delivered as one, with its length. */
		if ((info & 0xff) == EXC_DB)
			write_dr6(read_dr6() | (vmread(VMCS_EXIT_QUAL) & 0x600f));   /* the child's, live */
		if ((info & INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW || (info & INTR_TYPE_MASK) == INTR_TYPE_SW_EXC) {
			vmwrite(VMCS_ENTRY_INTR, (info & (0xff | INTR_TYPE_MASK)) | INTR_INFO_VALID);
			vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
			return 0;
		}
		vmx_inject_exc(info & 0xff, !!(info & INTR_INFO_HAS_ERROR),
			   (uint32_t)vmread(VMCS_EXIT_INTR_ERROR));
		return 0;
	}
	case VMX_EXIT_PREEMPT_TIMER:
		ex->kind = VEXIT_NONE;   /* its slice is over: the caller runs it again */
		return 1;
	case VMX_EXIT_EXT_INT: {
		/* Acknowledged at the exit (a pending one would be taken again by the child's next
		 * entry under Bochs): the control guest gets the vector injected (exit.c). */
		uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR);
		if (info & INTR_INFO_VALID)
			vmx_this_cpu()->control_irq = (int)(info & 0xff);
		ex->kind = VEXIT_NONE;
		return 1;
	}
	case VMX_EXIT_INT_WINDOW:
		vmwrite(VMCS_PROC, vmread(VMCS_PROC) & ~PROC_INT_WINDOW);
		ex->kind = VEXIT_IRQWIN;
		return 1;
	case VMX_EXIT_TRIPLE_FAULT:
		ex->kind = VEXIT_SHUTDOWN;
		return 1;
	case VMX_EXIT_HLT:
		ex->kind = VEXIT_HLT;
		ex->intr_enabled = !!(vmread(GUEST_RFLAGS) & RFLAGS_IF);
		vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
		return 1;
	case VMX_EXIT_IO:
		decode_io(vc, ex);
		return 1;
	case VMX_EXIT_EPT_VIOLATION:
		decode_ept(vm, ex);
		return 1;
	case VMX_EXIT_CPUID:
		child_cpuid(vc);
		return 0;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		child_msr(vm, vc, reason == VMX_EXIT_WRMSR);
		return 0;
	case VMX_EXIT_CR:
		child_cr(vc);
		return 0;
	case VMX_EXIT_INVD:   /* INVD would drop other VMs' and the host's dirty lines */
		__asm__ volatile("wbinvd" ::: "memory");
		vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
		return 0;
	case VMX_EXIT_RDPMC:  /* the counters are the control guest's */
		vmx_inject_exc(EXC_GP, 1, 0);
		return 0;
	case VMX_EXIT_VMCALL: case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD:
	case VMX_EXIT_VMPTRST: case VMX_EXIT_VMREAD: case VMX_EXIT_VMRESUME: case VMX_EXIT_VMWRITE:
	case VMX_EXIT_VMXOFF: case VMX_EXIT_VMXON: case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC: case VMX_EXIT_GETSEC: case VMX_EXIT_XSETBV: case VMX_EXIT_MONITOR:
	case VMX_EXIT_MWAIT:
		vmx_inject_exc(EXC_UD, 0, 0);
		return 0;
	case VMX_EXIT_EPT_MISCONFIG:
		log_err("vm %u vcpu %u: EPT misconfiguration at %lx (a bug in bvmm's tables)", vm->id,
			vc->id, vmread(VMCS_GUEST_PHYS));
		ex->kind = VEXIT_UNEXPECTED;
		return 1;
	default:
		ex->kind = VEXIT_UNEXPECTED;
		return 1;
	}
}

/* ---- the run loop ---- */

static const uint32_t syscall_msrs[5] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
					  MSR_KERNEL_GS_BASE };



/* What VM entry and exit do not switch: FPU/SSE, DR0-3, DR6, CR2, the syscall MSRs. */
static void child_state_in(struct vmx_cpu *c, struct vcpu *vc)
{
	struct vmx_vcpu *x = xv(vc);
	__asm__ volatile("fxsave64 (%0)" : : "r"(c->control_fpu) : "memory");
	__asm__ volatile("fxrstor64 (%0)" : : "r"(vc->fpu) : "memory");
	save_dr0_3(c->control_dr);
	c->control_dr6 = read_dr6();
	c->control_cr2 = read_cr2();
	load_dr0_3(vc->dr);
	write_dr6(x->dr6);
	write_cr2(x->cr2);
	uint64_t child[5] = { x->star, x->lstar, x->cstar, x->sfmask, x->kgsbase };
	for (int i = 0; i < 5; i++) {   /* validate_regs keeps them canonical; safe all the same */
		c->control_msrs[i] = rdmsr(syscall_msrs[i]);
		wrmsr_safe(syscall_msrs[i], child[i]);
	}
}

static void child_state_out(struct vmx_cpu *c, struct vcpu *vc)
{
	struct vmx_vcpu *x = xv(vc);
	__asm__ volatile("fxsave64 (%0)" : : "r"(vc->fpu) : "memory");
	__asm__ volatile("fxrstor64 (%0)" : : "r"(c->control_fpu) : "memory");
	save_dr0_3(vc->dr);
	x->dr6 = read_dr6();
	x->cr2 = read_cr2();
	load_dr0_3(c->control_dr);
	write_dr6(c->control_dr6);
	write_cr2(c->control_cr2);
	uint64_t *child[5] = { &x->star, &x->lstar, &x->cstar, &x->sfmask, &x->kgsbase };
	for (int i = 0; i < 5; i++) {
		*child[i] = rdmsr(syscall_msrs[i]);
		wrmsr(syscall_msrs[i], c->control_msrs[i]);
	}
}

/* INVEPT all contexts (SDM 31.3): no guest-physical mapping of a terminated VM or of a
 * permission MPROTECT_EPT took away survives into the next entry. */
static void invept_all(void)
{
	struct { uint64_t eptp, rsvd; } d = { 0, 0 };
	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(2ull) : "cc", "memory");
}

static void vmx_run(struct vm *vm, struct vcpu *vc, int irq, struct vexit *ex)
{
	struct vmx_vcpu *x = xv(vc);
	struct vcpu_reg_state rs;
	struct vmx_cpu *c = vmx_this_cpu();
	memset(ex, 0, sizeof *ex);
	if (c->control_irq >= 0 || c->control_nmi) {
		ex->kind = VEXIT_NONE;   /* the control guest's event first (it may run with IF = 0) */
		return;
	}
	enter_vmcs(vc);
	if (irq >= 0 && can_take_irq_current())
		vmwrite(VMCS_ENTRY_INTR, (uint32_t)irq | INTR_TYPE_EXT | INTR_INFO_VALID);
	uint64_t proc = vmread(VMCS_PROC);
	vmwrite(VMCS_PROC, vc->irq_pending && !can_take_irq_current() ? proc | PROC_INT_WINDOW
								       : proc & ~PROC_INT_WINDOW);
	unsigned inner = 0;
	child_state_in(c, vc);
	invept_all();
	for (;;) {
		if (vc->pvclock_hpa)
			pvclock_update(vm, vc);
		if (vmx_host.child_preempt)
			vmwrite(GUEST_PREEMPT_TIMER, CHILD_SLICE);
		int r = vmx_enter(x->gprs, x->launched);
		uint32_t reason = r ? VMX_EXIT_FAILED_ENTRY : (uint32_t)vmread(VMCS_EXIT_REASON);
		if (r)
			log_warn("vm %u vcpu %u: VM%s failed: %s", vm->id, vc->id,
				 x->launched ? "RESUME" : "LAUNCH",
				 vmx_insn_error_name((uint32_t)vmread(VMCS_INSN_ERROR)));
		else
			x->launched = 1;
		if (child_exit(vm, vc, reason, ex))
			break;
		if (++inner == VCPU_INNER_EXIT_LIMIT) {
			ex->kind = VEXIT_NONE;
			break;
		}
	}
	child_state_out(c, vc);
	if (ex->kind == VEXIT_FAILED || ex->kind == VEXIT_SHUTDOWN) {
		vcpu_poweron_state(&rs);   /* after a triple fault the state is undefined */
		reset_current(vc, &rs);
		vmclear(x->vmcs_pa);  /* a refused VMCS may be "launched" no more: VMLAUNCH next */
		vmptrld(x->vmcs_pa);  /* (VMCLEAR keeps its fields, the host state included) */
		x->launched = 0;
	}
	ex->irq_ready = (uint8_t)can_take_irq_current();
	ex->cpl = (uint8_t)vmx_cpl();
	leave_vmcs();
}

struct vendor_ops vmx_vendor_ops = {
	.name = "Intel VMX",
	.vcpu_init = vmx_vcpu_init,
	.vcpu_fini = vmx_vcpu_fini,
	.regs_read = vmx_regs_read,
	.regs_write = vmx_regs_write,
	.reset = vmx_reset,
	.io_in_done = vmx_io_in_done,
	.long_mode = vmx_long_mode,
	.run = vmx_run,
	.npt_base = EPT_X,      /* EPT: bit 0 (added by pt.c) reads, X executes */
	.npt_leaf = EPT_MT_WB,
	.npt_write = EPT_W,
	.npt_exec = EPT_X,
	.npt_present = EPT_R | EPT_W | EPT_X,
	/* .npt_read = EPT_R where EPT has execute-only pages (set at launch, vmx.c): then
	 * PROT_EXEC alone is execute-only, as in OpenBSD's vmm on Intel. */
};
