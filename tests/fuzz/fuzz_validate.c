/* libFuzzer harness for hv/validate.c: CREATE ranges, MPROTECT_EPT against random slot tables,
 * register states, the pvclock address and ranges_contain, each checked against the rules of
 * shared/ABI.md and the SVM consistency checks, re-derived here independently. */
#include <string.h>
#include "fuzz_input.h"
#include "../../hv/validate.h"
#include "../../hv/vm.h"
#include "../../abi/bvmm.h"

#define PAGE 4096ull
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define WIN_LO VMM_PCI_MMIO_BAR_BASE
#define WIN_HI VMM_PCI_MMIO_BAR_END

/* A 64-bit value that often lands near the boundaries the rules care about. */
static uint64_t interesting(struct fin *f)
{
	static const uint64_t edges[] = { 0, PAGE, MIB, 2 * MIB, WIN_LO, WIN_HI + 1, WIN_LO - PAGE,
					  4 * GIB, 32 * GIB, 512 * GIB, ~0ull & ~(PAGE - 1) };
	uint8_t k = fin_u8(f);
	switch (k & 3) {
	case 0:  return fin_u64(f);
	case 1:  return (uint64_t)fin_u16(f) << 12;
	case 2:  return (uint64_t)fin_u8(f) << 20;
	default: return edges[(k >> 2) % (sizeof edges / sizeof edges[0])] +
			((uint64_t)(int8_t)fin_u8(f) << 12);
	}
}

/* ---- CREATE ---- */

static int create_ok(const struct vm_create_params *p)
{
	uint64_t total = 0, prev_end = 0;
	if (p->vcp_nmemranges < 1 || p->vcp_nmemranges > 16 || p->vcp_ncpus < 1 || p->vcp_ncpus > 64)
		return 0;
	for (uint64_t i = 0; i < p->vcp_nmemranges; i++) {
		const struct vm_mem_range *r = &p->vcp_memranges[i];
		if (r->vmr_gpa % PAGE || r->vmr_va % PAGE || r->vmr_size % PAGE || !r->vmr_size)
			return 0;
		unsigned __int128 end = (unsigned __int128)r->vmr_gpa + r->vmr_size;
		if (end > 32 * GIB || (unsigned __int128)r->vmr_va + r->vmr_size > ~0ull)
			return 0;
		uint64_t last = (uint64_t)end - 1;
		if ((r->vmr_gpa >= WIN_LO && r->vmr_gpa <= WIN_HI) || (last >= WIN_LO && last <= WIN_HI) ||
		    (r->vmr_gpa < WIN_LO && last > WIN_HI))
			return 0;
		if (i && r->vmr_gpa < prev_end)
			return 0;
		prev_end = (uint64_t)end;
		total += r->vmr_size;
	}
	return total % MIB == 0;
}

static void fuzz_create(struct fin *f)
{
	struct vm_create_params p;
	memset(&p, 0, sizeof p);
	uint8_t shape = fin_u8(f);
	p.vcp_nmemranges = shape & 0x80 ? interesting(f) : fin_u8(f) % 18;
	p.vcp_ncpus = shape & 0x40 ? interesting(f) : fin_u8(f) % 66;
	uint64_t next = 0;
	for (unsigned i = 0; i < VMM_MAX_MEM_RANGES; i++) {
		struct vm_mem_range *r = &p.vcp_memranges[i];
		if (shape & 1) {   /* ascending ranges, as a client would build them */
			r->vmr_gpa = next + interesting(f);
			r->vmr_size = interesting(f);
			next = r->vmr_gpa + r->vmr_size;
		} else {
			r->vmr_gpa = interesting(f);
			r->vmr_size = interesting(f);
		}
		r->vmr_va = interesting(f);
	}
	int e = validate_create(&p);
	FUZZ_CHECK(e == 0 || e == BVMM_EINVAL);
	FUZZ_CHECK((e == 0) == create_ok(&p));
}

/* ---- slots, ranges_contain, MPROTECT_EPT, pvclock ---- */

struct slots { struct mem_slot s[VMM_MAX_MEM_RANGES]; uint32_t n; int ascending; };

/* Slots as CREATE leaves them (ascending, disjoint, no wrap), or anything at all. */
static void make_slots(struct fin *f, struct slots *t)
{
	uint8_t k = fin_u8(f);
	uint64_t next = 0;
	t->n = k % (VMM_MAX_MEM_RANGES + 1);
	t->ascending = !(k & 0x80);
	for (uint32_t i = 0; i < t->n; i++) {
		if (t->ascending) {
			t->s[i].gpa = next + ((uint64_t)fin_u8(f) << (k & 0x40 ? 20 : 12));
			t->s[i].size = ((uint64_t)fin_u8(f) + 1) << (k & 0x20 ? 20 : 12);
			if (t->s[i].gpa + t->s[i].size < t->s[i].gpa) {
				t->n = i;
				break;
			}
			next = t->s[i].gpa + t->s[i].size;
		} else {
			t->s[i].gpa = interesting(f);
			t->s[i].size = interesting(f);
		}
	}
}

/* Is every byte of [a, a+len) in some slot? By walking from slot to slot. */
static int covered(const struct slots *t, uint64_t a, uint64_t len)
{
	unsigned __int128 cur = a, end = (unsigned __int128)a + len;
	while (cur < end) {
		unsigned __int128 best = cur;
		for (uint32_t i = 0; i < t->n; i++) {
			unsigned __int128 lo = t->s[i].gpa, hi = lo + t->s[i].size;
			if (cur >= lo && cur < hi && hi > best)
				best = hi;
		}
		if (best == cur)
			return 0;
		cur = best;
	}
	return 1;
}

static void fuzz_contain(struct fin *f, const struct slots *t)
{
	uint64_t gpa = interesting(f), len = fin_u8(f) & 1 ? fin_u16(f) : interesting(f);
	int r = ranges_contain(t->s, t->n, gpa, len);
	FUZZ_CHECK(r == 0 || r == 1);
	if (len && gpa + len < gpa)
		FUZZ_CHECK(r == 0);
	else if (r)
		FUZZ_CHECK(covered(t, gpa, len));
	else if (t->ascending)
		FUZZ_CHECK(!covered(t, gpa, len));
}

static int prot_ok(int prot)
{
	return prot >= 1 && prot <= 7 && prot != PROT_WRITE &&
	       (prot & (PROT_WRITE | PROT_EXEC)) != (PROT_WRITE | PROT_EXEC);
}

static int mprotect_ok(const struct vm_mprotect_ept_params *p, const struct slots *t)
{
	unsigned __int128 end = (unsigned __int128)p->vmep_sgpa + p->vmep_size;
	if (!prot_ok(p->vmep_prot) || p->vmep_sgpa % PAGE || p->vmep_size % PAGE || !p->vmep_size)
		return 0;
	if (end > 512 * GIB || (p->vmep_sgpa <= WIN_HI && end > WIN_LO))
		return 0;
	return covered(t, p->vmep_sgpa, p->vmep_size);
}

static void fuzz_mprotect(struct fin *f, const struct slots *t)
{
	struct vm_mprotect_ept_params p = { .vmep_sgpa = interesting(f), .vmep_size = interesting(f) };
	p.vmep_prot = fin_u8(f) & 0x80 ? (int)fin_u32(f) : fin_u8(f) & 7;
	int rd = -1, wr = -1, ex = -1;
	int e = validate_mprotect(&p, t->s, t->n, &rd, &wr, &ex);
	FUZZ_CHECK(e == 0 || e == BVMM_EINVAL);
	if (e) {
		FUZZ_CHECK(rd == -1 && wr == -1 && ex == -1);   /* outputs untouched on error */
		if (t->ascending)
			FUZZ_CHECK(!mprotect_ok(&p, t));
		return;
	}
	FUZZ_CHECK(mprotect_ok(&p, t));
	FUZZ_CHECK(rd == !!(p.vmep_prot & PROT_READ) && wr == !!(p.vmep_prot & PROT_WRITE) && ex == !!(p.vmep_prot & PROT_EXEC));
}

static void fuzz_pvclock(struct fin *f, const struct slots *t)
{
	uint64_t gpa = fin_u8(f) & 1 ? interesting(f) + (fin_u16(f) & 0xfff) : interesting(f);
	const uint64_t sz = sizeof(struct pvclock_vcpu_time_info);
	int e = validate_pvclock_gpa(gpa, t->s, t->n);
	FUZZ_CHECK(e == 0 || e == BVMM_EINVAL);
	if (!e)
		FUZZ_CHECK((gpa & (PAGE - 1)) + sz <= PAGE && covered(t, gpa, sz));
	else if (t->ascending)
		FUZZ_CHECK((gpa & (PAGE - 1)) + sz > PAGE || !covered(t, gpa, sz));
}

/* ---- register state ---- */

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Solo5's long-mode entry state (ABI.md, RESETCPU), the starting point of most mutations. */
static void solo5_state(struct vcpu_reg_state *rs)
{
	memset(rs, 0, sizeof *rs);
	rs->vrs_crs[VCPU_REGS_CR0] = 0x80010021;
	rs->vrs_crs[VCPU_REGS_CR3] = 0x2000;
	rs->vrs_crs[VCPU_REGS_CR4] = 0x620;
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x500;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		rs->vrs_sregs[i] = (struct vcpu_segment_info){ 0x10, 0xffffffff, 0xc093, 0 };
	rs->vrs_sregs[VCPU_REGS_CS] = (struct vcpu_segment_info){ 0x8, 0xffffffff, 0xa099, 0 };
	rs->vrs_sregs[6].vsi_ar = VSI_AR_UNUSABLE;   /* LDTR */
	rs->vrs_sregs[7].vsi_ar = 0x8b;              /* TR */
	rs->vrs_gdtr = (struct vcpu_segment_info){ 0, 23, 0, 0x1000 };
}

/* XOR a few fields (by index into the structure's 64-bit words) with fuzzer bytes. */
static void mutate_regs(struct fin *f, struct vcpu_reg_state *rs)
{
	uint64_t w[sizeof *rs / 8];
	memcpy(w, rs, sizeof w);
	for (unsigned k = fin_u8(f) % 8; k && f->n; k--) {
		unsigned i = fin_u8(f) % (sizeof w / 8);
		uint8_t how = fin_u8(f);
		uint64_t v = how & 1 ? 1ull << (fin_u8(f) % 64) : fin_u64(f);
		w[i] = how & 2 ? v : w[i] ^ v;
	}
	memcpy(rs, w, sizeof w);
}

/* What an accepted state must satisfy: APM vol. 2 15.5.1 (VMRUN consistency checks) and the
 * limits bvmm sets for children. */
static void check_regs_accepted(const struct vcpu_reg_state *rs, uint64_t cr4_lim, unsigned maxphy,
				int nx)
{
	uint64_t cr0 = rs->vrs_crs[VCPU_REGS_CR0], cr4 = rs->vrs_crs[VCPU_REGS_CR4];
	uint64_t efer = rs->vrs_msrs[VCPU_REGS_EFER], rfl = rs->vrs_gprs[VCPU_REGS_RFLAGS];
	uint32_t cs = rs->vrs_sregs[VCPU_REGS_CS].vsi_ar;
	FUZZ_CHECK(!(cr0 >> 32) && !((cr0 & CR0_NW) && !(cr0 & CR0_CD)));
	FUZZ_CHECK(!((cr0 & CR0_PG) && !(cr0 & CR0_PE)));
	FUZZ_CHECK(!(cr4 & ~cr4_lim) && !(cr4 & ~0x3107ffull));
	FUZZ_CHECK(!(rs->vrs_crs[VCPU_REGS_CR3] >> maxphy));
	FUZZ_CHECK(!(efer & ~(1ull | EFER_LME | EFER_LMA | EFER_NXE)) && (nx || !(efer & EFER_NXE)));
	int lm = (efer & EFER_LME) && (cr0 & CR0_PG);
	FUZZ_CHECK(!!(efer & EFER_LMA) == lm && (!lm || (cr4 & CR4_PAE)));
	FUZZ_CHECK(!(lm && (cs & VSI_AR_L) && (cs & VSI_AR_DB)));
	FUZZ_CHECK(!(rs->vrs_drs[VCPU_REGS_DR6] >> 32) && !(rs->vrs_drs[VCPU_REGS_DR7] >> 32));
	FUZZ_CHECK((rfl & 2) && !(rfl >> 22) && validate_rflags(rfl) == 0);
	FUZZ_CHECK(!(lm && (rfl & (1ull << 17))));
	FUZZ_CHECK(!(cs & VSI_AR_UNUSABLE) && (cs & VSI_AR_P) && (cs & 0x18) == 0x18);
	FUZZ_CHECK(rs->vrs_crs[VCPU_REGS_CR8] <= 15 && !(rs->vrs_crs[VCPU_REGS_XCR0] & ~3ull));
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		FUZZ_CHECK((rs->vrs_sregs[i].vsi_ar & VSI_AR_UNUSABLE) ||
			   (rs->vrs_sregs[i].vsi_ar & VSI_AR_P));
}

static void fuzz_regs(struct fin *f)
{
	struct vcpu_reg_state rs;
	uint8_t k = fin_u8(f);
	uint64_t cr4_lim = 0x3107ff;
	unsigned maxphy = 52;
	int nx = 1;
	if (k & 1) {
		cr4_lim = fin_u64(f);
		maxphy = fin_u8(f);
		nx = fin_u8(f) & 1;
		validate_set_limits(cr4_lim, maxphy, nx);
		cr4_lim &= 0x3107ff;
		maxphy = maxphy < 52 ? maxphy : 52;
	}
	solo5_state(&rs);
	if (k & 2)
		memset(&rs, 0, sizeof rs);
	mutate_regs(f, &rs);
	int e = validate_regs(&rs);
	FUZZ_CHECK(e == 0 || e == BVMM_EINVAL);
	if (!e)
		check_regs_accepted(&rs, cr4_lim, maxphy, nx);
	validate_set_limits(0x3107ff, 52, 1);   /* the defaults back for the next input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = { data, size };
	struct slots t;
	switch (fin_u8(&f) % 5) {
	case 0: fuzz_create(&f); break;
	case 1: make_slots(&f, &t); fuzz_contain(&f, &t); break;
	case 2: make_slots(&f, &t); fuzz_mprotect(&f, &t); break;
	case 3: make_slots(&f, &t); fuzz_pvclock(&f, &t); break;
	default: fuzz_regs(&f); break;
	}
	return 0;
}
