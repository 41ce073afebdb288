/* Validation of hypercall input (see validate.h). Pure: no hypervisor state touched. */
#include "validate.h"
#include "vm.h"

#define PAGE 4096ull
#define MIB  (1ull << 20)
#define GIB512 (512ull << 30)

static int in_mmio_window(uint64_t a)
{
	return a >= VMM_PCI_MMIO_BAR_BASE && a <= VMM_PCI_MMIO_BAR_END;
}

int validate_create(const struct vm_create_params *p)
{
	uint64_t total = 0, prev_end = 0;
	if (p->vcp_nmemranges < 1 || p->vcp_nmemranges > VMM_MAX_MEM_RANGES)
		return BVMM_EINVAL;
	if (p->vcp_ncpus < 1 || p->vcp_ncpus > VMM_MAX_VCPUS_PER_VM)
		return BVMM_EINVAL;
	for (uint64_t i = 0; i < p->vcp_nmemranges; i++) {
		const struct vm_mem_range *r = &p->vcp_memranges[i];
		if ((r->vmr_gpa | r->vmr_va | r->vmr_size) & (PAGE - 1) || !r->vmr_size)
			return BVMM_EINVAL;
		if (r->vmr_size > VMM_MAX_VM_MEM_SIZE || r->vmr_gpa > VMM_MAX_VM_MEM_SIZE - r->vmr_size)
			return BVMM_EINVAL;
		if (r->vmr_va + r->vmr_size < r->vmr_va)
			return BVMM_EINVAL;
		uint64_t last = r->vmr_gpa + r->vmr_size - 1;
		/* Decision: a range that spans the whole window is refused too. */
		if (in_mmio_window(r->vmr_gpa) || in_mmio_window(last) ||
		    (r->vmr_gpa < VMM_PCI_MMIO_BAR_BASE && last > VMM_PCI_MMIO_BAR_END))
			return BVMM_EINVAL;
		if (i > 0 && r->vmr_gpa < prev_end)
			return BVMM_EINVAL;   /* not ascending, or overlapping */
		prev_end = r->vmr_gpa + r->vmr_size;
		total += r->vmr_size;
	}
	return total % MIB ? BVMM_EINVAL : 0;
}

int ranges_contain(const struct mem_slot *r, uint32_t n, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return 0;
	for (uint32_t i = 0; i < n && len; i++) {
		if (gpa < r[i].gpa || gpa >= r[i].gpa + r[i].size)
			continue;
		uint64_t take = r[i].gpa + r[i].size - gpa;
		if (take >= len)
			return 1;
		gpa += take;
		len -= take;
	}
	return len == 0;
}

int validate_mprotect(const struct vm_mprotect_ept_params *p, const struct mem_slot *r,
		      uint32_t n, int *read, int *write, int *exec)
{
	int prot = p->vmep_prot;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC) || !prot)
		return BVMM_EINVAL;
	if (prot == PROT_WRITE || (prot & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC))
		return BVMM_EINVAL;   /* write-only, and any W+X (Decision: OpenBSD lets it through) */
	uint64_t a = p->vmep_sgpa, sz = p->vmep_size;
	if ((a | sz) & (PAGE - 1) || !sz || a + sz < a || a >= GIB512 || a + sz > GIB512)
		return BVMM_EINVAL;
	if (a <= VMM_PCI_MMIO_BAR_END && a + sz > VMM_PCI_MMIO_BAR_BASE)
		return BVMM_EINVAL;
	if (!ranges_contain(r, n, a, sz))
		return BVMM_EINVAL;
	*exec = !!(prot & PROT_EXEC);
	*write = !!(prot & PROT_WRITE);
	*read = !!(prot & PROT_READ);   /* 0 only for exec-only: the caller widens where it must */
	return 0;
}

/* ---- register state ---- */

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
/* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT, FSGSBASE, SMEP, SMAP: no XSAVE, no
 * LA57, no PCIDE, no PKE for children. */
#define CR4_ALLOWED 0x3107ffull

static struct { uint64_t cr4; unsigned maxphy; int nx; } lim = { CR4_ALLOWED, 52, 1 };

void validate_set_limits(uint64_t cr4_allowed, unsigned maxphyaddr, int has_nx)
{
	lim.cr4 = cr4_allowed & CR4_ALLOWED;
	lim.maxphy = maxphyaddr < 52 ? maxphyaddr : 52;
	lim.nx = has_nx;
}
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_ALLOWED ((1ull << 0) | EFER_LME | EFER_LMA | (1ull << 11))
/* RFLAGS bits that exist: CF 1 PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID. */
#define RFLAGS_DEFINED 0x3f7fd7ull
#define RFLAGS_FIXED1  0x2ull
#define RFLAGS_VM      (1ull << 17)

#define AR_TYPE_CODE 0x8
#define AR_S         (1u << 4)
#define AR_RESERVED  0xfffe0f00u   /* bits 8-11 and 17-31 */

static int seg_ok(const struct vcpu_segment_info *s, int must_be_usable)
{
	if (s->vsi_ar & AR_RESERVED)
		return 0;
	if (s->vsi_ar & VSI_AR_UNUSABLE)
		return !must_be_usable;
	return !!(s->vsi_ar & VSI_AR_P);
}

int validate_rflags(uint64_t rfl)
{
	return (rfl & ~RFLAGS_DEFINED) || !(rfl & RFLAGS_FIXED1) ? BVMM_EINVAL : 0;
}

int validate_rflags_mode(uint64_t rfl, int long_mode)
{
	return validate_rflags(rfl) || (long_mode && (rfl & RFLAGS_VM)) ? BVMM_EINVAL : 0;
}

/* A 64-bit address with bits 63:47 all equal (48-bit linear addresses: children have no
 * LA57). */
static int canonical(uint64_t a)
{
	uint64_t top = a >> 47;
	return top == 0 || top == 0x1ffff;
}

int validate_regs(const struct vcpu_reg_state *rs)
{
	uint64_t cr0 = rs->vrs_crs[VCPU_REGS_CR0], cr4 = rs->vrs_crs[VCPU_REGS_CR4];
	uint64_t efer = rs->vrs_msrs[VCPU_REGS_EFER], rfl = rs->vrs_gprs[VCPU_REGS_RFLAGS];
	const struct vcpu_segment_info *cs = &rs->vrs_sregs[VCPU_REGS_CS];

	if (cr0 >> 32 || ((cr0 & CR0_PG) && !(cr0 & CR0_PE)) || ((cr0 & CR0_NW) && !(cr0 & CR0_CD)))
		return BVMM_EINVAL;
	if (cr4 & ~lim.cr4)
		return BVMM_EINVAL;
	if ((efer & ~EFER_ALLOWED) || (!lim.nx && (efer & (1ull << 11))))
		return BVMM_EINVAL;
	int long_mode = (efer & EFER_LME) && (cr0 & CR0_PG);
	if (!!(efer & EFER_LMA) != long_mode || (long_mode && !(cr4 & CR4_PAE)))
		return BVMM_EINVAL;
	/* LME without PAE even with paging off: an exit from that state loses the host's CR0
	 * under QEMU (cpu.h efer_write, PLATFORM.md). Decision: refused, documented in bvmm.4. */
	if ((efer & EFER_LME) && !(cr4 & CR4_PAE))
		return BVMM_EINVAL;
	if (rs->vrs_crs[VCPU_REGS_CR3] >> lim.maxphy || rs->vrs_crs[VCPU_REGS_CR8] > 15)
		return BVMM_EINVAL;
	if (rs->vrs_drs[VCPU_REGS_DR6] >> 32 || rs->vrs_drs[VCPU_REGS_DR7] >> 32)
		return BVMM_EINVAL;
	if (validate_rflags_mode(rfl, long_mode))
		return BVMM_EINVAL;
	if (!seg_ok(cs, 1) || !(cs->vsi_ar & AR_S) || !(cs->vsi_ar & AR_TYPE_CODE))
		return BVMM_EINVAL;
	if (long_mode && (cs->vsi_ar & VSI_AR_L) && (cs->vsi_ar & VSI_AR_DB))
		return BVMM_EINVAL;
	for (int i = 1; i < VCPU_REGS_NSREGS; i++)
		if (!seg_ok(&rs->vrs_sregs[i], 0))
			return BVMM_EINVAL;
	if (rs->vrs_gdtr.vsi_limit > 0xffff || rs->vrs_idtr.vsi_limit > 0xffff)
		return BVMM_EINVAL;
	/* Syscall MSRs: what WRMSR would accept (the VMX backend loads them with WRMSR). */
	if (!canonical(rs->vrs_msrs[VCPU_REGS_LSTAR]) || !canonical(rs->vrs_msrs[VCPU_REGS_CSTAR]) ||
	    !canonical(rs->vrs_msrs[VCPU_REGS_KGSBASE]) || rs->vrs_msrs[VCPU_REGS_SFMASK] >> 32)
		return BVMM_EINVAL;
	uint64_t xcr0 = rs->vrs_crs[VCPU_REGS_XCR0];
	if (xcr0 & ~3ull)
		return BVMM_EINVAL;   /* x87/SSE only: children have no XSAVE */
	return 0;
}

int validate_pvclock_gpa(uint64_t gpa, const struct mem_slot *r, uint32_t n)
{
	if ((gpa & 0xfff) + sizeof(struct pvclock_vcpu_time_info) > PAGE)
		return BVMM_EINVAL;
	return ranges_contain(r, n, gpa, sizeof(struct pvclock_vcpu_time_info)) ? 0 : BVMM_EINVAL;
}

