/* hcfuzz's register states: the valid entry templates (libvmm's real, prot32 and Solo5 long
 * mode), their mutations, and an independent reading of bvmm.4's "Register state" rules that
 * predicts whether RESETCPU / WRITEREGS must accept or refuse a state.
 * Never arms a DR7 breakpoint (L0-3/G0-3): a child's watchpoint followed by a reset and another
 * DR7 write can crash QEMU 7.2 itself (shared/PLATFORM.md), which is not what we test. */
#include "hcfuzz.h"
#include "../libvmm/vmm_state.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_BASE 0x7ffull
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define RFLAGS_DEFINED 0x3f7fd7ull   /* CF 1 PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID */
#define RFLAGS_VM (1ull << 17)
#define AR_RESERVED 0xfffe0f00u      /* bits 8-11 and 17-31 */
#define AR_S (1u << 4)
#define AR_CODE (1u << 3)
#define DR7_ENABLES 0xffull

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* The processor-dependent limits, from the CPUID the control guest sees (bvmm passes these
 * leaves through). */
void regs_init_limits(void)
{
	uint32_t r[4];
	cpuid(0, r);
	uint32_t b7 = 0;
	if (r[0] >= 7) {
		cpuid(7, r);
		b7 = r[1];
	}
	env.cr4_extra = ((b7 & 1) ? 1ull << 16 : 0) | ((b7 & (1u << 7)) ? 1ull << 20 : 0) |
			((b7 & (1u << 20)) ? 1ull << 21 : 0);
	cpuid(0x80000000, r);
	uint32_t max = r[0];
	cpuid(0x80000001, r);
	env.nx = !!(r[3] & (1u << 20));
	env.maxphy = 36;
	if (max >= 0x80000008) {
		cpuid(0x80000008, r);
		env.maxphy = r[0] & 0xff;
	}
	if (env.maxphy > 52)
		env.maxphy = 52;
}

void regs_template(struct vcpu_reg_state *rs, int mode)
{
	if (mode == CM_REAL)
		vmm_state_real(rs, 0, CHILD_ENTRY);
	else if (mode == CM_PROT32)
		vmm_state_prot32(rs, CHILD_ENTRY);
	else
		vmm_state_long64(rs, CHILD_ENTRY);
	rs->vrs_gprs[VCPU_REGS_RSP] = 0x7000;
}

static int seg_ok(const struct vcpu_segment_info *s, int must_be_usable)
{
	if (s->vsi_ar & AR_RESERVED)
		return 0;
	if (s->vsi_ar & VSI_AR_UNUSABLE)
		return !must_be_usable;
	return !!(s->vsi_ar & VSI_AR_P);
}

static int canonical48(uint64_t a)
{
	return (a >> 47) == 0 || (a >> 47) == 0x1ffff;
}

static int crs_ok(const struct vcpu_reg_state *rs, int *long_mode)
{
	uint64_t cr0 = rs->vrs_crs[VCPU_REGS_CR0], cr4 = rs->vrs_crs[VCPU_REGS_CR4];
	uint64_t efer = rs->vrs_msrs[VCPU_REGS_EFER];
	if (cr0 >> 32 || ((cr0 & CR0_PG) && !(cr0 & CR0_PE)) || ((cr0 & CR0_NW) && !(cr0 & CR0_CD)))
		return 0;
	if (cr4 & ~(CR4_BASE | env.cr4_extra))
		return 0;
	if (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE) || (!env.nx && (efer & EFER_NXE)))
		return 0;
	*long_mode = (efer & EFER_LME) && (cr0 & CR0_PG);
	if (!!(efer & EFER_LMA) != *long_mode || (*long_mode && !(cr4 & CR4_PAE)))
		return 0;
	if (rs->vrs_crs[VCPU_REGS_CR3] >> env.maxphy || rs->vrs_crs[VCPU_REGS_CR8] > 15 ||
	    rs->vrs_crs[VCPU_REGS_XCR0] > 3)
		return 0;
	return 1;
}

static int segs_ok(const struct vcpu_reg_state *rs, int long_mode)
{
	const struct vcpu_segment_info *cs = &rs->vrs_sregs[VCPU_REGS_CS];
	if (!seg_ok(cs, 1) || !(cs->vsi_ar & AR_S) || !(cs->vsi_ar & AR_CODE))
		return 0;
	if (long_mode && (cs->vsi_ar & VSI_AR_L) && (cs->vsi_ar & VSI_AR_DB))
		return 0;
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		if (!seg_ok(&rs->vrs_sregs[i], 0))
			return 0;
	return rs->vrs_gdtr.vsi_limit <= 0xffff && rs->vrs_idtr.vsi_limit <= 0xffff;
}

/* RULE_OK: bvmm.4 says the state must be entered; RULE_BAD: it breaks a rule (EFER.LME
 * without CR4.PAE included, paging on or off: bvmm.4 says so since the QEMU #VMEXIT defect).
 * RULE_UNSURE is kept for rules the manual leaves open (none today). */
int regs_rules(const struct vcpu_reg_state *rs)
{
	int lm = 0;
	uint64_t rfl = rs->vrs_gprs[VCPU_REGS_RFLAGS];
	if (!crs_ok(rs, &lm) || !segs_ok(rs, lm))
		return RULE_BAD;
	if (rs->vrs_drs[VCPU_REGS_DR6] >> 32 || rs->vrs_drs[VCPU_REGS_DR7] >> 32)
		return RULE_BAD;
	if ((rfl & ~RFLAGS_DEFINED) || !(rfl & 2) || (lm && (rfl & RFLAGS_VM)))
		return RULE_BAD;
	/* bvmm.4 Register state: LSTAR, CSTAR, KERNEL_GS_BASE canonical, SFMASK 32 bits */
	const uint64_t *m = rs->vrs_msrs;
	if (!canonical48(m[VCPU_REGS_LSTAR]) || !canonical48(m[VCPU_REGS_CSTAR]) ||
	    !canonical48(m[VCPU_REGS_KGSBASE]) || m[VCPU_REGS_SFMASK] >> 32)
		return RULE_BAD;
	/* bvmm.4 Register state: LME needs PAE, paging on or off */
	if ((rs->vrs_msrs[VCPU_REGS_EFER] & EFER_LME) && !(rs->vrs_crs[VCPU_REGS_CR4] & CR4_PAE))
		return RULE_BAD;
	return RULE_OK;
}

/* The x86 power-on state CREATE documents; a mask of what differs (0 if it matches). */
int regs_poweron(const struct vcpu_reg_state *rs)
{
	const struct vcpu_segment_info *cs = &rs->vrs_sregs[VCPU_REGS_CS];
	int bad = 0;
	bad |= (rs->vrs_gprs[VCPU_REGS_RIP] != 0xfff0) << 0;
	bad |= (cs->vsi_sel != 0xf000 || cs->vsi_base != 0xffff0000) << 1;
	bad |= (rs->vrs_gprs[VCPU_REGS_RFLAGS] != 2) << 2;
	bad |= (rs->vrs_crs[VCPU_REGS_CR0] != 0x60000010) << 3;
	bad |= (rs->vrs_crs[VCPU_REGS_XCR0] != 1) << 4;
	bad |= (rs->vrs_drs[VCPU_REGS_DR6] != 0xffff0ff0 || rs->vrs_drs[VCPU_REGS_DR7] != 0x400) << 5;
	bad |= (rs->vrs_gdtr.vsi_limit != 0xffff || rs->vrs_idtr.vsi_limit != 0xffff) << 6;
	return bad;
}

void regs_merge(struct vcpu_reg_state *dst, const struct vcpu_reg_state *src, uint64_t mask)
{
	if (mask & VM_RWREGS_GPRS)
		CopyMem(dst->vrs_gprs, (void *)src->vrs_gprs, sizeof dst->vrs_gprs);
	if (mask & VM_RWREGS_SREGS) {
		CopyMem(dst->vrs_sregs, (void *)src->vrs_sregs, sizeof dst->vrs_sregs);
		dst->vrs_gdtr = src->vrs_gdtr;
		dst->vrs_idtr = src->vrs_idtr;
	}
	if (mask & VM_RWREGS_CRS)
		CopyMem(dst->vrs_crs, (void *)src->vrs_crs, sizeof dst->vrs_crs);
	if (mask & VM_RWREGS_MSRS)
		CopyMem(dst->vrs_msrs, (void *)src->vrs_msrs, sizeof dst->vrs_msrs);
	if (mask & VM_RWREGS_DRS)
		CopyMem(dst->vrs_drs, (void *)src->vrs_drs, sizeof dst->vrs_drs);
}

/* ---- mutations ---- */

static uint64_t flip(uint64_t v, unsigned width) { return v ^ (1ull << rn(width)); }

static void mutate_seg(struct vcpu_segment_info *s)
{
	switch (rn(6)) {
	case 0: s->vsi_ar = (uint32_t)flip(s->vsi_ar, chance(80) ? 17 : 32); break;
	case 1: s->vsi_ar = VSI_AR_UNUSABLE; break;
	case 2: s->vsi_sel = (uint16_t)rnd(); break;
	case 3: s->vsi_base = chance(50) ? rnd() : rn(1ull << 32); break;
	case 4: s->vsi_limit = (uint32_t)rnd(); break;
	default: s->vsi_ar = (uint32_t)rn(1u << 17); break;
	}
}

static void mutate_crs(struct vcpu_reg_state *rs)
{
	uint64_t *c = rs->vrs_crs;
	switch (rn(7)) {
	case 0: c[VCPU_REGS_CR0] = flip(c[VCPU_REGS_CR0], chance(90) ? 32 : 64); break;
	case 1: c[VCPU_REGS_CR4] = flip(c[VCPU_REGS_CR4], 24); break;
	case 2: c[VCPU_REGS_CR3] = chance(50) ? rbits() : (1ull << env.maxphy) | (rnd() & 0xfff); break;
	case 3: c[VCPU_REGS_CR8] = rn(20); break;
	case 4: c[VCPU_REGS_XCR0] = rn(8); break;
	case 5: c[VCPU_REGS_CR0] = (uint32_t)rnd(); break;
	default: c[VCPU_REGS_CR2] = rnd(); c[VCPU_REGS_PDPTE0 + rn(4)] = rnd(); break;
	}
}

static void mutate_msrs(struct vcpu_reg_state *rs)
{
	static const unsigned efer_bits[] = { 0, 8, 10, 11, 12, 13, 14, 15, 1, 63 };
	uint64_t *m = rs->vrs_msrs;
	if (chance(60))
		m[VCPU_REGS_EFER] ^= 1ull << efer_bits[rn(10)];
	else
		m[VCPU_REGS_STAR + rn(VCPU_REGS_NMSRS - 1)] = rnd();
}

/* DR0-3 and DR6 freely, DR7 only with its breakpoint enables clear (see the file comment). */
static void mutate_drs(struct vcpu_reg_state *rs)
{
	uint64_t *d = rs->vrs_drs;
	switch (rn(3)) {
	case 0: d[rn(4)] = rnd(); break;
	case 1: d[VCPU_REGS_DR6] = flip(d[VCPU_REGS_DR6], chance(80) ? 32 : 64); break;
	default: d[VCPU_REGS_DR7] = (chance(80) ? (uint32_t)rnd() : rnd()); break;
	}
	d[VCPU_REGS_DR7] &= ~DR7_ENABLES;
}

static void mutate_gprs(struct vcpu_reg_state *rs)
{
	uint64_t *g = rs->vrs_gprs;
	switch (rn(4)) {
	case 0: g[VCPU_REGS_RFLAGS] = flip(g[VCPU_REGS_RFLAGS], chance(90) ? 23 : 64); break;
	case 1: g[VCPU_REGS_RIP] = chance(50) ? rnd() : CHILD_ENTRY + rn(64); break;
	case 2: g[VCPU_REGS_RFLAGS] = (rnd() & RFLAGS_DEFINED) | 2; break;
	default: g[rn(VCPU_REGS_NGPRS)] = rbits(); break;
	}
}

/* One to three random changes, each likely to break one rule or to stay just inside them. */
void regs_mutate(struct vcpu_reg_state *rs)
{
	for (unsigned n = 1 + (unsigned)rn(3); n--;) {
		switch (rn(7)) {
		case 0: mutate_crs(rs); break;
		case 1: mutate_msrs(rs); break;
		case 2: mutate_drs(rs); break;
		case 3: mutate_gprs(rs); break;
		case 4: mutate_seg(&rs->vrs_sregs[rn(VCPU_REGS_NSREGS)]); break;
		case 5: (chance(50) ? &rs->vrs_gdtr : &rs->vrs_idtr)->vsi_limit = (uint32_t)rn(0x20000); break;
		default: mutate_crs(rs); mutate_gprs(rs); break;
		}
	}
	rs->vrs_drs[VCPU_REGS_DR7] &= ~DR7_ENABLES;
}
