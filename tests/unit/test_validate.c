/* Unit tests of hv/validate.c: the checks of untrusted hypercall input against the rules of
 * shared/ABI.md (CREATE, MPROTECT_EPT, RESETCPU/WRITEREGS, WRITEVMPARAMS) and the segment
 * access-rights conversion between the ABI's VMX layout and the VMCB attribute. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>

#include "../../hv/validate.h"
#include "../../hv/vm.h"
#include "../../abi/bvmm.h"

#define KiB4 (1ull << 12)
#define MiB  (1ull << 20)
#define GiB  (1ull << 30)
#define MMIO_BASE 0xf0000000ull
#define MMIO_END  0xffdfffffull   /* last byte of the window */
#define VA0 0x7f0000000000ull     /* caller memory: any page-aligned address */

/* ======================================================================================
 * CREATE
 * ====================================================================================== */

static struct vm_create_params create_params;

/* One valid range (16 MiB at GPA 0), one vCPU. */
static struct vm_create_params *cp_base(void)
{
	memset(&create_params, 0, sizeof create_params);
	create_params.vcp_nmemranges = 1;
	create_params.vcp_ncpus = 1;
	create_params.vcp_memranges[0] = (struct vm_mem_range){ 0, VA0, 16 * MiB };
	return &create_params;
}

static void set_range(struct vm_create_params *p, unsigned i, uint64_t gpa, uint64_t va,
		      uint64_t size)
{
	p->vcp_memranges[i] = (struct vm_mem_range){ gpa, va, size };
}

/* A params with a single range [gpa, gpa+size). */
static struct vm_create_params *cp_one(uint64_t gpa, uint64_t size)
{
	struct vm_create_params *p = cp_base();
	set_range(p, 0, gpa, VA0, size);
	return p;
}

static void test_create_baseline_valid(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_base()), 0);
}

static void test_create_nmemranges_0(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 0;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
}

static void test_create_nmemranges_1(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 1;
	assert_int_equal(validate_create(p), 0);
}

/* 16 ascending 1 MiB ranges with gaps between them. */
static void fill_16(struct vm_create_params *p)
{
	for (unsigned i = 0; i < 16; i++)
		set_range(p, i, i * 4 * MiB, VA0 + i * MiB, MiB);
	p->vcp_nmemranges = 16;
}

static void test_create_nmemranges_16(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	fill_16(p);
	assert_int_equal(validate_create(p), 0);
}

static void test_create_nmemranges_17(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	fill_16(p);
	p->vcp_nmemranges = 17;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	/* a huge size_t count is refused before any range is read (no overread under ASan) */
	p->vcp_nmemranges = ~0ull;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	p->vcp_nmemranges = 1ull << 32 | 1;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
}

static void test_create_gpa_unaligned(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(0x800, MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(MiB + 1, MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(MiB + 0xfff, MiB)), BVMM_EINVAL);
	/* page- but not MiB-aligned GPA is fine */
	assert_int_equal(validate_create(cp_one(MiB + KiB4, MiB)), 0);
}

static void test_create_va_unaligned(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	p->vcp_memranges[0].vmr_va = VA0 + 0x10;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	p->vcp_memranges[0].vmr_va = VA0 + 0x800;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	p->vcp_memranges[0].vmr_va = VA0 + KiB4;
	assert_int_equal(validate_create(p), 0);
}

static void test_create_size_unaligned(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(0, MiB + 1)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(0, MiB - 0x800)), BVMM_EINVAL);
}

static void test_create_size_zero(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(0, 0)), BVMM_EINVAL);
	/* a zero-size range between two valid ones */
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 3;
	set_range(p, 0, 0, VA0, MiB);
	set_range(p, 1, 2 * MiB, VA0 + MiB, 0);
	set_range(p, 2, 4 * MiB, VA0 + 2 * MiB, MiB);
	assert_int_equal(validate_create(p), BVMM_EINVAL);
}

static void test_create_end_exactly_32g_accepted(void **state)
{
	(void)state;
	/* above the MMIO window up to exactly VMM_MAX_VM_MEM_SIZE */
	assert_int_equal(validate_create(cp_one(4 * GiB, 28 * GiB)), 0);
	assert_int_equal(validate_create(cp_one(32 * GiB - MiB, MiB)), 0);
	/* two ranges, the second ending at 32 GiB */
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 2;
	set_range(p, 0, 0, VA0, MMIO_BASE);
	set_range(p, 1, 4 * GiB, VA0 + 4 * GiB, 28 * GiB);
	assert_int_equal(validate_create(p), 0);
}

static void test_create_end_past_32g_rejected(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(4 * GiB + KiB4, 28 * GiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(32 * GiB - MiB + KiB4, MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(32 * GiB, MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(4 * GiB, 28 * GiB + MiB)), BVMM_EINVAL);
	/* a size larger than the maximum on its own */
	assert_int_equal(validate_create(cp_one(0, 33 * GiB)), BVMM_EINVAL);
}

static void test_create_gpa_size_wrap(void **state)
{
	(void)state;
	/* gpa + size wraps to a small value that would pass "<= 32 GiB" if computed naively */
	assert_int_equal(validate_create(cp_one(0xfffffffffff00000ull, 2 * MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(MiB, 0xfffffffffff00000ull)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(0xffffffffffe00000ull, 2 * MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(1ull << 63, 1ull << 63)), BVMM_EINVAL);
}

static void test_create_va_size_wrap(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_one(0, 2 * MiB);
	p->vcp_memranges[0].vmr_va = 0xfffffffffff00000ull;   /* +2 MiB wraps */
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	p->vcp_memranges[0].vmr_va = 0xfffffffffffff000ull;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	/* just below the top: fine */
	p->vcp_memranges[0].vmr_va = 0xffffffffffc00000ull;
	assert_int_equal(validate_create(p), 0);
}

static void test_create_ascending_vs_descending(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 2;
	set_range(p, 0, 0, VA0, MiB);
	set_range(p, 1, 8 * MiB, VA0 + MiB, MiB);
	assert_int_equal(validate_create(p), 0);
	set_range(p, 0, 8 * MiB, VA0, MiB);
	set_range(p, 1, 0, VA0 + MiB, MiB);
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	/* the third out of order */
	p->vcp_nmemranges = 3;
	set_range(p, 0, 0, VA0, MiB);
	set_range(p, 1, 8 * MiB, VA0 + MiB, MiB);
	set_range(p, 2, 4 * MiB, VA0 + 2 * MiB, MiB);
	assert_int_equal(validate_create(p), BVMM_EINVAL);
}

static void test_create_overlapping_vs_adjacent(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 2;
	/* adjacent: accepted */
	set_range(p, 0, 0, VA0, MiB);
	set_range(p, 1, MiB, VA0 + MiB, MiB);
	assert_int_equal(validate_create(p), 0);
	/* overlapping by one page */
	set_range(p, 0, 0, VA0, MiB + KiB4);
	set_range(p, 1, MiB, VA0 + 2 * MiB, MiB - KiB4);
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	/* identical */
	set_range(p, 0, 0, VA0, MiB);
	set_range(p, 1, 0, VA0 + MiB, MiB);
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	/* the second inside the first */
	set_range(p, 0, 0, VA0, 4 * MiB);
	set_range(p, 1, MiB, VA0 + 4 * MiB, MiB);
	assert_int_equal(validate_create(p), BVMM_EINVAL);
}

static void test_create_start_in_mmio_window(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(MMIO_BASE, MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(MMIO_BASE + 64 * MiB, MiB)), BVMM_EINVAL);
	/* the last page of the window, extending past it */
	assert_int_equal(validate_create(cp_one(MMIO_END + 1 - MiB, 2 * MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(MMIO_END + 1 - KiB4, MiB)), BVMM_EINVAL);
}

static void test_create_last_byte_in_mmio_window(void **state)
{
	(void)state;
	/* last byte is the window's first byte */
	assert_int_equal(validate_create(cp_one(MMIO_BASE - MiB + KiB4, MiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(MMIO_BASE - MiB, 2 * MiB)), BVMM_EINVAL);
	/* last byte is the window's last byte */
	assert_int_equal(validate_create(cp_one(0xe0000000ull, 0x1fe00000ull)), BVMM_EINVAL);
}

/* Decision (validate.c): a range whose start and end both lie outside, around the window. */
static void test_create_spanning_whole_window_rejected(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(MMIO_BASE - MiB, 0x10000000ull + MiB)),
			 BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(0, 8 * GiB)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(0, 4 * GiB)), BVMM_EINVAL);
}

static void test_create_end_exactly_at_window_accepted(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(0, MMIO_BASE)), 0);
	assert_int_equal(validate_create(cp_one(MMIO_BASE - MiB, MiB)), 0);
}

static void test_create_start_at_window_end_accepted(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(MMIO_END + 1, 2 * MiB)), 0);
	assert_int_equal(validate_create(cp_one(MMIO_END + 1, MiB)), 0);
	/* both sides of the window, as vmd lays out a large guest */
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 3;
	set_range(p, 0, 0, VA0, MMIO_BASE);
	set_range(p, 1, MMIO_END + 1, VA0 + MMIO_BASE, 2 * MiB);
	set_range(p, 2, 4 * GiB, VA0 + 4 * GiB, GiB);
	assert_int_equal(validate_create(p), 0);
}

static void test_create_total_not_mib_multiple(void **state)
{
	(void)state;
	assert_int_equal(validate_create(cp_one(0, MiB + KiB4)), BVMM_EINVAL);
	assert_int_equal(validate_create(cp_one(0, KiB4)), BVMM_EINVAL);
	struct vm_create_params *p = cp_base();
	p->vcp_nmemranges = 2;
	/* 512 KiB + 516 KiB: not a multiple */
	set_range(p, 0, 0, VA0, 512 * 1024);
	set_range(p, 1, MiB, VA0 + MiB, 516 * 1024);
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	/* 512 KiB + 512 KiB: the total is, though neither range is */
	set_range(p, 1, MiB, VA0 + MiB, 512 * 1024);
	assert_int_equal(validate_create(p), 0);
}

static void test_create_ncpus(void **state)
{
	(void)state;
	struct vm_create_params *p = cp_base();
	p->vcp_ncpus = 0;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	p->vcp_ncpus = 1;
	assert_int_equal(validate_create(p), 0);
	p->vcp_ncpus = 64;
	assert_int_equal(validate_create(p), 0);
	p->vcp_ncpus = 65;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
	p->vcp_ncpus = 1ull << 32 | 1;
	assert_int_equal(validate_create(p), BVMM_EINVAL);
}

/* ======================================================================================
 * ranges_contain
 * ====================================================================================== */

static const struct mem_slot adjacent[2] = { { 0, 16 * MiB }, { 16 * MiB, 16 * MiB } };
static const struct mem_slot gapped[2] = { { 0, 16 * MiB }, { 32 * MiB, 16 * MiB } };

static void test_ranges_contain_adjacent(void **state)
{
	(void)state;
	assert_true(ranges_contain(adjacent, 2, 0, 32 * MiB));
	assert_true(ranges_contain(adjacent, 2, 16 * MiB - KiB4, 2 * KiB4));
	assert_true(ranges_contain(adjacent, 2, 16 * MiB - 1, 2));
	assert_true(ranges_contain(adjacent, 2, 20 * MiB, MiB));
	assert_false(ranges_contain(adjacent, 2, 0, 32 * MiB + 1));
	assert_false(ranges_contain(adjacent, 2, 32 * MiB - KiB4, 2 * KiB4));
	assert_false(ranges_contain(adjacent, 2, 32 * MiB, KiB4));
}

static void test_ranges_contain_gap(void **state)
{
	(void)state;
	assert_true(ranges_contain(gapped, 2, 0, 16 * MiB));
	assert_true(ranges_contain(gapped, 2, 32 * MiB, 16 * MiB));
	assert_false(ranges_contain(gapped, 2, 16 * MiB - KiB4, 2 * KiB4));
	assert_false(ranges_contain(gapped, 2, 0, 48 * MiB));
	assert_false(ranges_contain(gapped, 2, 16 * MiB, KiB4));
	assert_false(ranges_contain(gapped, 2, 32 * MiB - KiB4, 2 * KiB4));
	assert_false(ranges_contain(gapped, 2, 20 * MiB, KiB4));
	/* wraparound */
	assert_false(ranges_contain(gapped, 2, 32 * MiB, ~0ull));
	/* no ranges */
	assert_false(ranges_contain(gapped, 0, 0, KiB4));
}

/* ======================================================================================
 * MPROTECT_EPT
 * ====================================================================================== */

static const struct mem_slot ram1[1] = { { 0, 64 * MiB } };

static int mprot(const struct mem_slot *r, uint32_t n, uint64_t gpa, uint64_t size, int prot,
		 int *rd, int *wr, int *ex)
{
	struct vm_mprotect_ept_params p = { 1, 0, gpa, size, prot };
	*rd = *wr = *ex = -7;
	return validate_mprotect(&p, r, n, rd, wr, ex);
}

static void test_mprotect_every_prot(void **state)
{
	(void)state;
	for (int prot = 0; prot < 16; prot++) {
		int rd, wr, ex;
		int e = mprot(ram1, 1, 0x100000, 0x4000, prot, &rd, &wr, &ex);
		switch (prot) {
		case PROT_READ:
			assert_int_equal(e, 0);
			assert_int_equal(rd, 1); assert_int_equal(wr, 0); assert_int_equal(ex, 0);
			break;
		case PROT_READ | PROT_WRITE:
			assert_int_equal(e, 0);
			assert_int_equal(rd, 1); assert_int_equal(wr, 1); assert_int_equal(ex, 0);
			break;
		case PROT_EXEC:   /* exec-only: read 0 (hypercall.c widens it where it must) */
			assert_int_equal(e, 0);
			assert_int_equal(rd, 0); assert_int_equal(wr, 0); assert_int_equal(ex, 1);
			break;
		case PROT_READ | PROT_EXEC:
			assert_int_equal(e, 0);
			assert_int_equal(rd, 1); assert_int_equal(wr, 0); assert_int_equal(ex, 1);
			break;
		default:
			if (e != BVMM_EINVAL)
				fail_msg("prot %d: got %d, expected EINVAL", prot, e);
			/* outputs untouched on error */
			assert_int_equal(rd, -7); assert_int_equal(wr, -7); assert_int_equal(ex, -7);
			break;
		}
	}
	/* negative and high bits */
	int rd, wr, ex;
	assert_int_equal(mprot(ram1, 1, 0, KiB4, -1, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0, KiB4, INT_MIN | PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0, KiB4, 0x100 | PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
}

static void test_mprotect_unaligned(void **state)
{
	(void)state;
	int rd, wr, ex;
	assert_int_equal(mprot(ram1, 1, 0x100, KiB4, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0x1001, KiB4, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0x1000, KiB4 + 1, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0x1000, 0x800, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0x1000, KiB4, PROT_READ, &rd, &wr, &ex), 0);
}

static void test_mprotect_zero_size(void **state)
{
	(void)state;
	int rd, wr, ex;
	assert_int_equal(mprot(ram1, 1, 0x1000, 0, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0, 0, PROT_READ | PROT_EXEC, &rd, &wr, &ex), BVMM_EINVAL);
}

static void test_mprotect_at_or_above_512g(void **state)
{
	(void)state;
	/* a RAM slot that (unrealistically) reaches past 512 GiB, so only the 512 GiB rule
	 * can refuse */
	static const struct mem_slot big[1] = { { 0, 1024 * GiB } };
	int rd, wr, ex;
	assert_int_equal(mprot(big, 1, 512 * GiB, KiB4, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(big, 1, 600 * GiB, KiB4, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(big, 1, 512 * GiB - KiB4, 2 * KiB4, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	assert_int_equal(mprot(big, 1, 4 * GiB, 512 * GiB, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	/* the last page below 512 GiB */
	assert_int_equal(mprot(big, 1, 512 * GiB - KiB4, KiB4, PROT_READ, &rd, &wr, &ex), 0);
}

static void test_mprotect_wraparound(void **state)
{
	(void)state;
	static const struct mem_slot all[1] = { { 0, ~0ull & ~(KiB4 - 1) } };
	int rd, wr, ex;
	assert_int_equal(mprot(all, 1, KiB4, ~0ull & ~(KiB4 - 1), PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);   /* sum is exactly 0 */
	assert_int_equal(mprot(all, 1, 2 * KiB4, ~0ull & ~(KiB4 - 1), PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 0xfffffffffffff000ull, 2 * KiB4, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
}

static void test_mprotect_mmio_window(void **state)
{
	(void)state;
	/* a slot covering the window (CREATE would never allow it): only the window rule
	 * can refuse */
	static const struct mem_slot cover[1] = { { 0, 8 * GiB } };
	int rd, wr, ex;
	assert_int_equal(mprot(cover, 1, MMIO_BASE, KiB4, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(cover, 1, MMIO_END + 1 - KiB4, KiB4, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	assert_int_equal(mprot(cover, 1, MMIO_BASE - KiB4, 2 * KiB4, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	assert_int_equal(mprot(cover, 1, MMIO_END + 1 - KiB4, 2 * KiB4, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	assert_int_equal(mprot(cover, 1, 0, 8 * GiB, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	/* the pages just outside */
	assert_int_equal(mprot(cover, 1, MMIO_BASE - KiB4, KiB4, PROT_READ, &rd, &wr, &ex), 0);
	assert_int_equal(mprot(cover, 1, MMIO_END + 1, KiB4, PROT_READ, &rd, &wr, &ex), 0);
}

static void test_mprotect_partly_outside_ram(void **state)
{
	(void)state;
	int rd, wr, ex;
	assert_int_equal(mprot(ram1, 1, 64 * MiB - KiB4, 2 * KiB4, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 64 * MiB, KiB4, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(gapped, 2, 16 * MiB - KiB4, 2 * KiB4, PROT_READ, &rd, &wr, &ex),
			 BVMM_EINVAL);
	assert_int_equal(mprot(gapped, 2, 0, 48 * MiB, PROT_READ, &rd, &wr, &ex), BVMM_EINVAL);
	assert_int_equal(mprot(ram1, 1, 64 * MiB - KiB4, KiB4, PROT_READ, &rd, &wr, &ex), 0);
}

static void test_mprotect_spanning_adjacent_ranges(void **state)
{
	(void)state;
	int rd, wr, ex;
	assert_int_equal(mprot(adjacent, 2, 16 * MiB - KiB4, 2 * KiB4, PROT_READ | PROT_WRITE,
			       &rd, &wr, &ex), 0);
	assert_int_equal(rd, 1);
	assert_int_equal(wr, 1);
	assert_int_equal(ex, 0);
	assert_int_equal(mprot(adjacent, 2, 0, 32 * MiB, PROT_EXEC, &rd, &wr, &ex), 0);
	assert_int_equal(rd, 0);   /* exec-only as asked: widened by the caller where it must */
	assert_int_equal(wr, 0);
	assert_int_equal(ex, 1);
}

/* ======================================================================================
 * Register states
 * ====================================================================================== */

#define AR_UNUSABLE VSI_AR_UNUSABLE

static struct vcpu_reg_state rs_buf;

static void set_seg(struct vcpu_reg_state *rs, int i, uint16_t sel, uint32_t limit, uint32_t ar,
		    uint64_t base)
{
	rs->vrs_sregs[i] = (struct vcpu_segment_info){ sel, limit, ar, base };
}

/* Real mode at F000:FFF0, CS base 0xF0000 (the ABI's form of the reset state). */
static struct vcpu_reg_state *rs_real(void)
{
	struct vcpu_reg_state *rs = &rs_buf;
	memset(rs, 0, sizeof *rs);
	rs->vrs_gprs[VCPU_REGS_RIP] = 0xfff0;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;
	rs->vrs_crs[VCPU_REGS_CR0] = 0x60000010;   /* CD NW ET */
	rs->vrs_crs[VCPU_REGS_XCR0] = 1;
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		set_seg(rs, i, 0, 0xffff, 0x93, 0);
	set_seg(rs, VCPU_REGS_CS, 0xf000, 0xffff, 0x9b, 0xf0000);
	set_seg(rs, VCPU_REGS_LDTR, 0, 0xffff, 0x82, 0);
	set_seg(rs, VCPU_REGS_TR, 0, 0xffff, 0x8b, 0);
	rs->vrs_gdtr.vsi_limit = 0xffff;
	rs->vrs_idtr.vsi_limit = 0xffff;
	rs->vrs_drs[VCPU_REGS_DR6] = 0xffff0ff0;
	rs->vrs_drs[VCPU_REGS_DR7] = 0x400;
	return rs;
}

/* 32-bit flat protected mode, no paging. */
static struct vcpu_reg_state *rs_prot32(void)
{
	struct vcpu_reg_state *rs = &rs_buf;
	memset(rs, 0, sizeof *rs);
	rs->vrs_gprs[VCPU_REGS_RIP] = 0x2000;
	rs->vrs_gprs[VCPU_REGS_RSP] = 0x1ff0;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;
	rs->vrs_crs[VCPU_REGS_CR0] = 0x11;   /* PE ET */
	rs->vrs_crs[VCPU_REGS_XCR0] = 1;
	set_seg(rs, VCPU_REGS_CS, 0x8, 0xffffffff, 0xc09b, 0);
	for (int i = VCPU_REGS_DS; i <= VCPU_REGS_SS; i++)
		set_seg(rs, i, 0x10, 0xffffffff, 0xc093, 0);
	set_seg(rs, VCPU_REGS_LDTR, 0, 0, AR_UNUSABLE, 0);
	set_seg(rs, VCPU_REGS_TR, 0x18, 0x67, 0x8b, 0);
	rs->vrs_gdtr = (struct vcpu_segment_info){ 0, 31, 0, 0x1000 };
	rs->vrs_idtr = (struct vcpu_segment_info){ 0, 0, 0, 0 };
	rs->vrs_drs[VCPU_REGS_DR6] = 0xffff0ff0;
	rs->vrs_drs[VCPU_REGS_DR7] = 0x400;
	return rs;
}

/* Solo5 hvt's long mode (ABI.md, RESETCPU). */
static struct vcpu_reg_state *rs_long64(void)
{
	struct vcpu_reg_state *rs = &rs_buf;
	memset(rs, 0, sizeof *rs);
	rs->vrs_gprs[VCPU_REGS_RIP] = 0x100000;
	rs->vrs_gprs[VCPU_REGS_RSP] = 0x7ffff000;
	rs->vrs_gprs[VCPU_REGS_RDI] = 0x10000;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;
	rs->vrs_crs[VCPU_REGS_CR0] = 0x80010021;
	rs->vrs_crs[VCPU_REGS_CR3] = 0x2000;
	rs->vrs_crs[VCPU_REGS_CR4] = 0x620;
	rs->vrs_crs[VCPU_REGS_XCR0] = 1;
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x500;
	set_seg(rs, VCPU_REGS_CS, 0x8, 0xffffffff, 0xa099, 0);
	for (int i = VCPU_REGS_DS; i <= VCPU_REGS_SS; i++)
		set_seg(rs, i, 0x10, 0xffffffff, 0xc093, 0);
	set_seg(rs, VCPU_REGS_LDTR, 0, 0, AR_UNUSABLE, 0);
	set_seg(rs, VCPU_REGS_TR, 0, 0, 0x8b, 0);
	rs->vrs_gdtr = (struct vcpu_segment_info){ 0, 23, 0, 0x1000 };
	rs->vrs_drs[VCPU_REGS_DR6] = 0xffff0ff0;
	rs->vrs_drs[VCPU_REGS_DR7] = 0x400;
	return rs;
}

typedef struct vcpu_reg_state *(*rs_fn)(void);
static const rs_fn all_states[] = { rs_real, rs_prot32, rs_long64 };
static const char *const state_names[] = { "real", "prot32", "long64" };

#define EXPECT_REGS(rs, want) do { \
	int e_ = validate_regs(rs); \
	if (e_ != (want)) \
		fail_msg("%s:%d: validate_regs returned %d, expected %d", __FILE__, __LINE__, \
			 e_, (want)); \
} while (0)

static void test_regs_real_mode_accepted(void **state)
{
	(void)state;
	EXPECT_REGS(rs_real(), 0);
	/* the hypervisor's own power-on form (CS base 0xFFFF0000) too */
	struct vcpu_reg_state *rs = rs_real();
	rs->vrs_sregs[VCPU_REGS_CS].vsi_base = 0xffff0000;
	EXPECT_REGS(rs, 0);
	/* caches enabled (CD NW clear) */
	rs = rs_real();
	rs->vrs_crs[VCPU_REGS_CR0] = 0x10;
	EXPECT_REGS(rs, 0);
}

/* The attack of issue 6: real mode, EFER.LME = 1, CR4.PAE = 0. */
static struct vcpu_reg_state *rs_real16_for_lme(void)
{
	struct vcpu_reg_state *rs = rs_prot32();
	rs->vrs_crs[VCPU_REGS_CR0] = 0x60000010;
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x100;
	return rs;
}

/* The VMX review: a non-canonical LSTAR reached WRMSR in host mode and halted the hypervisor. */
static void test_regs_syscall_msrs(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_prot32();
	rs->vrs_msrs[VCPU_REGS_LSTAR] = 0xffffffff81000000ull;
	rs->vrs_msrs[VCPU_REGS_CSTAR] = 0x00007fffffffffffull;
	rs->vrs_msrs[VCPU_REGS_SFMASK] = 0x47700;
	EXPECT_REGS(rs, 0);
	rs->vrs_msrs[VCPU_REGS_LSTAR] = 0x8000000000000000ull;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_prot32();
	rs->vrs_msrs[VCPU_REGS_CSTAR] = 0x0000800000000000ull;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_prot32();
	rs->vrs_msrs[VCPU_REGS_KGSBASE] = 0xfff0000000000000ull;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_prot32();
	rs->vrs_msrs[VCPU_REGS_SFMASK] = 1ull << 32;
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_prot32_accepted(void **state)
{
	(void)state;
	EXPECT_REGS(rs_prot32(), 0);
	/* with paging (non-PAE, PAE) */
	struct vcpu_reg_state *rs = rs_prot32();
	rs->vrs_crs[VCPU_REGS_CR0] = 0x80000011;
	rs->vrs_crs[VCPU_REGS_CR3] = 0x3000;
	EXPECT_REGS(rs, 0);
	rs->vrs_crs[VCPU_REGS_CR4] = 0x20;
	EXPECT_REGS(rs, 0);
	/* LME set but paging off: not long mode yet, LMA clear is right (with PAE) */
	rs = rs_prot32();
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x100;
	rs->vrs_crs[VCPU_REGS_CR4] = 0x20;
	EXPECT_REGS(rs, 0);
	/* Decision: LME without PAE is refused even with paging off (QEMU's #VMEXIT runaway) */
	rs->vrs_crs[VCPU_REGS_CR4] = 0;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_real16_for_lme();
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_long64_accepted(void **state)
{
	(void)state;
	EXPECT_REGS(rs_long64(), 0);
	/* with SCE and NXE, IF, the data segments null-unusable, CR8 15, XCR0 x87|SSE */
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_msrs[VCPU_REGS_EFER] = 0xd01;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x202;
	for (int i = VCPU_REGS_DS; i <= VCPU_REGS_GS; i++)
		set_seg(rs, i, 0, 0, AR_UNUSABLE, 0);
	rs->vrs_crs[VCPU_REGS_CR8] = 15;
	rs->vrs_crs[VCPU_REGS_XCR0] = 3;
	rs->vrs_crs[VCPU_REGS_CR3] = 0x000ffffffffff000ull;
	rs->vrs_gdtr.vsi_limit = 0xffff;
	rs->vrs_idtr.vsi_limit = 0xffff;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_pg_without_pe(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_prot32();
	rs->vrs_crs[VCPU_REGS_CR0] = 0x80000010;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_real();
	rs->vrs_crs[VCPU_REGS_CR0] |= 0x80000000;
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_reject_nw_without_cd(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_real();
	rs->vrs_crs[VCPU_REGS_CR0] = 0x20000010;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR0] |= 1ull << 29;
	EXPECT_REGS(rs, BVMM_EINVAL);
	/* CD without NW is fine */
	rs = rs_real();
	rs->vrs_crs[VCPU_REGS_CR0] = 0x40000010;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_cr0_upper_bits(void **state)
{
	(void)state;
	for (int bit = 32; bit < 64; bit++)
		for (unsigned s = 0; s < 3; s++) {
			struct vcpu_reg_state *rs = all_states[s]();
			rs->vrs_crs[VCPU_REGS_CR0] |= 1ull << bit;
			if (validate_regs(rs) != BVMM_EINVAL)
				fail_msg("%s: CR0 bit %d accepted", state_names[s], bit);
		}
}

static void test_regs_reject_cr4_reserved_la57_osxsave(void **state)
{
	(void)state;
	/* reserved bits, and bits children may not have: UMIP 11, VMXE 13, SMXE 14,
	 * PCIDE 17, PKE 22, and the upper half */
	int reserved[] = { 11, 13, 14, 15, 17, 19, 22, 23, 24, 25, 31, 32, 40, 63 };
	for (unsigned i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
		struct vcpu_reg_state *rs = rs_long64();
		rs->vrs_crs[VCPU_REGS_CR4] |= 1ull << reserved[i];
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("CR4 bit %d accepted", reserved[i]);
	}
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR4] |= 1ull << 12;   /* LA57 */
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR4] |= 1ull << 18;   /* OSXSAVE */
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_prot32();
	rs->vrs_crs[VCPU_REGS_CR4] |= 1ull << 18;
	EXPECT_REGS(rs, BVMM_EINVAL);
	/* the bits validate.c documents as allowed; no PCIDE (17), no PKE (22) */
	int allowed[] = { 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 16, 20, 21 };
	for (unsigned i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
		rs = rs_long64();
		rs->vrs_crs[VCPU_REGS_CR4] |= 1ull << allowed[i];
		if (validate_regs(rs) != 0)
			fail_msg("CR4 bit %d refused", allowed[i]);
	}
}

/* FSGSBASE (CR4 bit 16): listed as allowed in validate.c and advertised to children by
 * cpuid_filter_child (CPUID.7.0:EBX bit 0). CR4_ALLOWED was 0x3007ff, which refused it, until
 * 37a13b0; a child that enables it (Linux >= 5.9 does) must still pass WRITEREGS/RESETCPU. */
static void test_regs_cr4_fsgsbase_accepted(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR4] |= 1ull << 16;   /* FSGSBASE */
	EXPECT_REGS(rs, 0);
	rs = rs_prot32();
	rs->vrs_crs[VCPU_REGS_CR4] |= 1ull << 16;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_efer_reserved(void **state)
{
	(void)state;
	int bits[] = { 1, 2, 7, 9, 12, 13, 14, 15, 16, 31, 32, 63 };
	for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		struct vcpu_reg_state *rs = rs_long64();
		rs->vrs_msrs[VCPU_REGS_EFER] |= 1ull << bits[i];
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("EFER bit %d accepted", bits[i]);
	}
}

static void test_regs_reject_lma_without_lme_pg(void **state)
{
	(void)state;
	/* LMA alone, with paging */
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x400;
	EXPECT_REGS(rs, BVMM_EINVAL);
	/* LME|LMA without paging */
	rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR0] &= ~0x80000000ull;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_prot32();
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x500;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_real();
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x400;
	EXPECT_REGS(rs, BVMM_EINVAL);
	/* LME and PG but LMA clear: the state entry would produce is not the one given */
	rs = rs_long64();
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x100;
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_reject_long_mode_without_pae(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR4] &= ~0x20ull;
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_reject_cs_l_and_d(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = 0xe099;
	EXPECT_REGS(rs, BVMM_EINVAL);
	/* L alone, D alone (compatibility mode): fine */
	rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = 0xc09b;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_cs_unusable(void **state)
{
	(void)state;
	for (unsigned s = 0; s < 3; s++) {
		struct vcpu_reg_state *rs = all_states[s]();
		rs->vrs_sregs[VCPU_REGS_CS].vsi_ar |= AR_UNUSABLE;
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("%s: unusable CS accepted", state_names[s]);
		rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = AR_UNUSABLE;
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("%s: bare unusable CS accepted", state_names[s]);
	}
}

static void test_regs_reject_cs_not_code(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = 0xc093;   /* data */
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = 0x8b;     /* system: a busy TSS */
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = 0xa08b;   /* code type without S */
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_real();
	rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = 0x93;
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_reject_usable_segment_not_present(void **state)
{
	(void)state;
	for (int i = 0; i < VCPU_REGS_NSREGS; i++) {
		struct vcpu_reg_state *rs = rs_long64();
		uint32_t ar = rs->vrs_sregs[i].vsi_ar;
		if (ar & AR_UNUSABLE)
			ar = 0x82;   /* LDTR made usable */
		rs->vrs_sregs[i].vsi_ar = ar & ~VSI_AR_P;
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("segment %d usable with P clear (ar 0x%x) accepted", i,
				 rs->vrs_sregs[i].vsi_ar);
	}
	/* a present LDTR is fine */
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_sregs[VCPU_REGS_LDTR].vsi_ar = 0x82;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_ar_reserved_bits(void **state)
{
	(void)state;
	int bits[] = { 8, 9, 10, 11, 17, 20, 31 };
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		for (unsigned b = 0; b < sizeof bits / sizeof bits[0]; b++) {
			struct vcpu_reg_state *rs = rs_long64();
			rs->vrs_sregs[i].vsi_ar |= 1u << bits[b];
			if (validate_regs(rs) != BVMM_EINVAL)
				fail_msg("segment %d with AR bit %d accepted", i, bits[b]);
		}
	/* AVL (bit 12) is not reserved */
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_sregs[VCPU_REGS_DS].vsi_ar |= 1u << 12;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_rflags_bit1_clear(void **state)
{
	(void)state;
	for (unsigned s = 0; s < 3; s++) {
		struct vcpu_reg_state *rs = all_states[s]();
		rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0;
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("%s: RFLAGS 0 accepted", state_names[s]);
		rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x200;
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("%s: RFLAGS 0x200 accepted", state_names[s]);
	}
}

static void test_regs_reject_rflags_reserved(void **state)
{
	(void)state;
	int bits[] = { 3, 5, 15, 22, 31, 32, 63 };
	for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		struct vcpu_reg_state *rs = rs_long64();
		rs->vrs_gprs[VCPU_REGS_RFLAGS] |= 1ull << bits[i];
		if (validate_regs(rs) != BVMM_EINVAL)
			fail_msg("RFLAGS bit %d accepted", bits[i]);
	}
	/* every defined flag except VM at once */
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x3f7fd7ull & ~(1ull << 17);
	EXPECT_REGS(rs, 0);
}

/* validate_rflags: the RFLAGS rule alone (RUN with vrp_continue after an MMIO exit). */
static void test_validate_rflags(void **state)
{
	(void)state;
	assert_int_equal(validate_rflags(0x2), 0);
	assert_int_equal(validate_rflags(0x202), 0);
	assert_int_equal(validate_rflags(0x3f7fd7), 0);
	assert_int_equal(validate_rflags(0), BVMM_EINVAL);
	assert_int_equal(validate_rflags(0x200), BVMM_EINVAL);
	int bits[] = { 3, 5, 15, 22, 31, 32, 63 };
	for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (validate_rflags(0x2 | 1ull << bits[i]) != BVMM_EINVAL)
			fail_msg("RFLAGS bit %d accepted", bits[i]);
}

static void test_regs_reject_vm_flag_in_long_mode(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x20002;
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_reject_cr3_above_51(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR3] = 0x2000 | 1ull << 52;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_crs[VCPU_REGS_CR3] = 0x2000 | 1ull << 63;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_crs[VCPU_REGS_CR3] = (1ull << 52) - KiB4;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_cr8_above_15(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_CR8] = 16;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_crs[VCPU_REGS_CR8] = ~0ull;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_crs[VCPU_REGS_CR8] = 15;
	EXPECT_REGS(rs, 0);
}

static void test_regs_reject_gdtr_idtr_limit(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_gdtr.vsi_limit = 0x10000;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_long64();
	rs->vrs_idtr.vsi_limit = 0x10000;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs = rs_long64();
	rs->vrs_gdtr.vsi_limit = 0xffffffff;
	EXPECT_REGS(rs, BVMM_EINVAL);
}

static void test_regs_reject_xcr0_avx(void **state)
{
	(void)state;
	struct vcpu_reg_state *rs = rs_long64();
	rs->vrs_crs[VCPU_REGS_XCR0] = 0x7;   /* x87 SSE AVX */
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_crs[VCPU_REGS_XCR0] = 0x4;
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_crs[VCPU_REGS_XCR0] = 0xe7;  /* AVX-512 */
	EXPECT_REGS(rs, BVMM_EINVAL);
	rs->vrs_crs[VCPU_REGS_XCR0] = 0x3;
	EXPECT_REGS(rs, 0);
}

/* ======================================================================================
 * pvclock GPA
 * ====================================================================================== */

static void test_pvclock_inside_ram(void **state)
{
	(void)state;
	assert_int_equal(validate_pvclock_gpa(0x1000, ram1, 1), 0);
	assert_int_equal(validate_pvclock_gpa(0, ram1, 1), 0);
	assert_int_equal(validate_pvclock_gpa(0x5040, ram1, 1), 0);
	assert_int_equal(validate_pvclock_gpa(32 * MiB + 0x20, gapped, 2), 0);
}

static void test_pvclock_last_32_bytes_of_page(void **state)
{
	(void)state;
	assert_int_equal(validate_pvclock_gpa(0x1fe0, ram1, 1), 0);
	assert_int_equal(validate_pvclock_gpa(64 * MiB - 32, ram1, 1), 0);
}

static void test_pvclock_crossing_page(void **state)
{
	(void)state;
	assert_int_equal(validate_pvclock_gpa(0x1fe1, ram1, 1), BVMM_EINVAL);
	assert_int_equal(validate_pvclock_gpa(0x1ff0, ram1, 1), BVMM_EINVAL);
	assert_int_equal(validate_pvclock_gpa(0x1ffe, ram1, 1), BVMM_EINVAL);
	/* crossing a page whose both sides are RAM (adjacent slots) */
	assert_int_equal(validate_pvclock_gpa(16 * MiB - 16, adjacent, 2), BVMM_EINVAL);
}

static void test_pvclock_outside_ram(void **state)
{
	(void)state;
	assert_int_equal(validate_pvclock_gpa(64 * MiB, ram1, 1), BVMM_EINVAL);
	assert_int_equal(validate_pvclock_gpa(20 * MiB, gapped, 2), BVMM_EINVAL);
	assert_int_equal(validate_pvclock_gpa(MMIO_BASE, ram1, 1), BVMM_EINVAL);
	assert_int_equal(validate_pvclock_gpa(0xffffffffffffffe0ull, ram1, 1), BVMM_EINVAL);
	assert_int_equal(validate_pvclock_gpa(0x1000, ram1, 0), BVMM_EINVAL);
}

/* ======================================================================================
 * Access rights: VMX layout <-> VMCB attribute
 * ====================================================================================== */

static void test_ar_to_svm(void **state)
{
	(void)state;
	assert_int_equal(seg_ar_to_svm(0xa099), 0xa99);
	assert_int_equal(seg_ar_to_svm(0xc093), 0xc93);
	assert_int_equal(seg_ar_to_svm(0x8b), 0x8b);
	assert_int_equal(seg_ar_to_svm(0x9b), 0x9b);
	assert_int_equal(seg_ar_to_svm(0xc09b), 0xc9b);
	assert_int_equal(seg_ar_to_svm(0x1000 | 0x93), 0x193);   /* AVL -> attrib bit 8 */
	/* unusable: a non-present VMCB attribute */
	assert_int_equal(seg_ar_to_svm(VSI_AR_UNUSABLE), 0);
	assert_int_equal(seg_ar_to_svm(VSI_AR_UNUSABLE | 0x82), 0);
	assert_false(seg_ar_to_svm(VSI_AR_UNUSABLE | 0xc093) & VSI_AR_P);
}

static void test_svm_to_ar(void **state)
{
	(void)state;
	assert_int_equal(seg_svm_to_ar(0xa99), 0xa099);
	assert_int_equal(seg_svm_to_ar(0xc93), 0xc093);
	assert_int_equal(seg_svm_to_ar(0x8b), 0x8b);
	assert_int_equal(seg_svm_to_ar(0x9b), 0x9b);
	assert_int_equal(seg_svm_to_ar(0x193), 0x1093);
	/* not present: unusable */
	assert_true(seg_svm_to_ar(0) & VSI_AR_UNUSABLE);
	assert_true(seg_svm_to_ar(0x82 & ~VSI_AR_P) & VSI_AR_UNUSABLE);
	assert_true(seg_svm_to_ar(0xc13) & VSI_AR_UNUSABLE);
	assert_false(seg_svm_to_ar(0x82) & VSI_AR_UNUSABLE);
}

static void test_ar_round_trip(void **state)
{
	(void)state;
	uint32_t ars[] = { 0xa099, 0xc093, 0x8b, 0x9b, 0xc09b, 0x93, 0x82, 0xf3, 0xa09b, 0x1093 };
	for (unsigned i = 0; i < sizeof ars / sizeof ars[0]; i++)
		assert_int_equal(seg_svm_to_ar(seg_ar_to_svm(ars[i])), ars[i]);
	/* every present attribute survives the other way round */
	for (uint32_t a = 0; a < 0x1000; a++)
		if (a & VSI_AR_P)
			assert_int_equal(seg_ar_to_svm(seg_svm_to_ar((uint16_t)a)), a);
	/* unusable survives as unusable (the other bits are not kept) */
	assert_true(seg_svm_to_ar(seg_ar_to_svm(VSI_AR_UNUSABLE)) & VSI_AR_UNUSABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_baseline_valid),
		cmocka_unit_test(test_create_nmemranges_0),
		cmocka_unit_test(test_create_nmemranges_1),
		cmocka_unit_test(test_create_nmemranges_16),
		cmocka_unit_test(test_create_nmemranges_17),
		cmocka_unit_test(test_create_gpa_unaligned),
		cmocka_unit_test(test_create_va_unaligned),
		cmocka_unit_test(test_create_size_unaligned),
		cmocka_unit_test(test_create_size_zero),
		cmocka_unit_test(test_create_end_exactly_32g_accepted),
		cmocka_unit_test(test_create_end_past_32g_rejected),
		cmocka_unit_test(test_create_gpa_size_wrap),
		cmocka_unit_test(test_create_va_size_wrap),
		cmocka_unit_test(test_create_ascending_vs_descending),
		cmocka_unit_test(test_create_overlapping_vs_adjacent),
		cmocka_unit_test(test_create_start_in_mmio_window),
		cmocka_unit_test(test_create_last_byte_in_mmio_window),
		cmocka_unit_test(test_create_spanning_whole_window_rejected),
		cmocka_unit_test(test_create_end_exactly_at_window_accepted),
		cmocka_unit_test(test_create_start_at_window_end_accepted),
		cmocka_unit_test(test_create_total_not_mib_multiple),
		cmocka_unit_test(test_create_ncpus),
		cmocka_unit_test(test_ranges_contain_adjacent),
		cmocka_unit_test(test_ranges_contain_gap),
		cmocka_unit_test(test_mprotect_every_prot),
		cmocka_unit_test(test_mprotect_unaligned),
		cmocka_unit_test(test_mprotect_zero_size),
		cmocka_unit_test(test_mprotect_at_or_above_512g),
		cmocka_unit_test(test_mprotect_wraparound),
		cmocka_unit_test(test_mprotect_mmio_window),
		cmocka_unit_test(test_mprotect_partly_outside_ram),
		cmocka_unit_test(test_mprotect_spanning_adjacent_ranges),
		cmocka_unit_test(test_regs_real_mode_accepted),
		cmocka_unit_test(test_regs_prot32_accepted),
		cmocka_unit_test(test_regs_long64_accepted),
		cmocka_unit_test(test_regs_reject_pg_without_pe),
		cmocka_unit_test(test_regs_reject_nw_without_cd),
		cmocka_unit_test(test_regs_reject_cr0_upper_bits),
		cmocka_unit_test(test_regs_reject_cr4_reserved_la57_osxsave),
		cmocka_unit_test(test_regs_cr4_fsgsbase_accepted),
		cmocka_unit_test(test_regs_reject_efer_reserved),
		cmocka_unit_test(test_regs_reject_lma_without_lme_pg),
		cmocka_unit_test(test_regs_syscall_msrs),
		cmocka_unit_test(test_regs_reject_long_mode_without_pae),
		cmocka_unit_test(test_regs_reject_cs_l_and_d),
		cmocka_unit_test(test_regs_reject_cs_unusable),
		cmocka_unit_test(test_regs_reject_cs_not_code),
		cmocka_unit_test(test_regs_reject_usable_segment_not_present),
		cmocka_unit_test(test_regs_reject_ar_reserved_bits),
		cmocka_unit_test(test_regs_reject_rflags_bit1_clear),
		cmocka_unit_test(test_regs_reject_rflags_reserved),
		cmocka_unit_test(test_validate_rflags),
		cmocka_unit_test(test_regs_reject_vm_flag_in_long_mode),
		cmocka_unit_test(test_regs_reject_cr3_above_51),
		cmocka_unit_test(test_regs_reject_cr8_above_15),
		cmocka_unit_test(test_regs_reject_gdtr_idtr_limit),
		cmocka_unit_test(test_regs_reject_xcr0_avx),
		cmocka_unit_test(test_pvclock_inside_ram),
		cmocka_unit_test(test_pvclock_last_32_bytes_of_page),
		cmocka_unit_test(test_pvclock_crossing_page),
		cmocka_unit_test(test_pvclock_outside_ram),
		cmocka_unit_test(test_ar_to_svm),
		cmocka_unit_test(test_svm_to_ar),
		cmocka_unit_test(test_ar_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
