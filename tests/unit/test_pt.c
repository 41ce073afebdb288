/* Unit tests of arch/x86_64/pt.c: the 1:1 map of physical memory with the hypervisor's pool
 * left out, built as svm.c builds the control guest's nested page tables, checked with
 * pt_lookup and by walking every table. "Physical" table pages are aligned host pages whose
 * address is their PA. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/pt.h"
#include "../../abi/bvmm.h"

#define KiB4 (1ull << 12)
#define MiB2 (1ull << 21)
#define MiB  (1ull << 20)
#define GiB  (1ull << 30)
#define NPT_FLAGS (PTE_RW | PTE_US)

/* ---- a page allocator over host memory, with an optional budget ---- */

struct pages {
	void **list;
	unsigned n, cap;
	unsigned budget;   /* pages it will still give out */
	unsigned calls;    /* alloc calls, failed ones included */
};

static uint64_t page_alloc(void *arg)
{
	struct pages *p = arg;
	p->calls++;
	if (!p->budget)
		return 0;
	void *pg = aligned_alloc(4096, 4096);
	assert_non_null(pg);
	memset(pg, 0, 4096);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->list = realloc(p->list, p->cap * sizeof *p->list);
		assert_non_null(p->list);
	}
	p->list[p->n++] = pg;
	p->budget--;
	return (uint64_t)(uintptr_t)pg;
}

static void *page_va(void *arg, uint64_t pa)
{
	(void)arg;
	return (void *)(uintptr_t)pa;
}

struct fixture {
	struct pages pages;
	struct pt_ctx pt;
};

/* Fixtures still alive when a test fails are freed by the teardown (no leak reports). */
static struct fixture *live[4];

static struct fixture *fx_new(int max_leaf, unsigned budget)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	for (unsigned i = 0; i < 4; i++)
		if (!live[i]) {
			live[i] = f;
			break;
		}
	f->pages.budget = budget;
	f->pt = (struct pt_ctx){ .alloc = page_alloc, .pa2va = page_va, .arg = &f->pages,
				 .table_flags = NPT_FLAGS, .max_leaf_level = max_leaf };
	return f;
}

static struct fixture *fx_init(int max_leaf, unsigned budget)
{
	struct fixture *f = fx_new(max_leaf, budget);
	assert_int_equal(pt_init(&f->pt), 0);
	assert_int_equal(f->pt.tables, 1);
	return f;
}

static void fx_free(struct fixture *f)
{
	for (unsigned i = 0; i < 4; i++)
		if (live[i] == f)
			live[i] = NULL;
	for (unsigned i = 0; i < f->pages.n; i++)
		free(f->pages.list[i]);
	free(f->pages.list);
	free(f);
}

/* ---- checking helpers ---- */

struct census {
	uint64_t leaves[PT_LEVELS + 1];   /* leaves[1] = 4 KiB, [2] = 2 MiB, [3] = 1 GiB */
	uint64_t tables;                  /* table pages reached, root included */
	uint64_t bytes;                   /* bytes mapped */
	uint64_t not_identity;            /* leaves whose PA is not their VA */
	uint64_t bad_table_flags;         /* non-leaf entries whose flags are not P|table_flags */
	uint64_t bad_leaf_flags;
};

static void walk(const struct pt_ctx *c, uint64_t tpa, int level, uint64_t va_base,
		 uint64_t leaf_flags, struct census *s)
{
	const uint64_t *t = c->pa2va(c->arg, tpa & PTE_ADDR);
	s->tables++;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i], va = va_base + (uint64_t)i * pt_span(level);
		if (!(e & PTE_P))
			continue;
		if (level == 1 || (e & PTE_PS)) {
			uint64_t span = pt_span(level);
			s->leaves[level]++;
			s->bytes += span;
			if ((e & PTE_ADDR & ~(span - 1)) != va)
				s->not_identity++;
			uint64_t want = leaf_flags | PTE_P | (level > 1 ? PTE_PS : 0);
			if ((e & ~PTE_ADDR) != want)
				s->bad_leaf_flags++;
		} else {
			if ((e & ~PTE_ADDR) != (c->table_flags | PTE_P))
				s->bad_table_flags++;
			walk(c, e, level - 1, va, leaf_flags, s);
		}
	}
}

static struct census take_census(const struct pt_ctx *c, uint64_t leaf_flags)
{
	struct census s;
	memset(&s, 0, sizeof s);
	walk(c, c->root, PT_LEVELS, 0, leaf_flags, &s);
	return s;
}

static void expect_mapped(const struct pt_ctx *c, uint64_t va, uint64_t pa, uint64_t size)
{
	uint64_t got_pa = 0, got_size = 0, got_flags = 0;
	int r = pt_lookup(c, va, &got_pa, &got_size, &got_flags);
	if (r)
		fail_msg("va 0x%llx: lookup returned %d, expected mapped", (unsigned long long)va, r);
	if (got_pa != pa || got_size != size)
		fail_msg("va 0x%llx -> pa 0x%llx in a 0x%llx page, expected pa 0x%llx in a 0x%llx page",
			 (unsigned long long)va, (unsigned long long)got_pa,
			 (unsigned long long)got_size, (unsigned long long)pa,
			 (unsigned long long)size);
}

static void expect_absent(const struct pt_ctx *c, uint64_t va)
{
	uint64_t pa = 0, size = 0, flags = 0;
	int r = pt_lookup(c, va, &pa, &size, &flags);
	if (r != BVMM_ENOENT)
		fail_msg("va 0x%llx: lookup returned %d (pa 0x%llx), expected ENOENT",
			 (unsigned long long)va, r, (unsigned long long)pa);
}

/* Map [0, top) minus [base, base+size) 1:1, as build_control_npt() does. */
static void map_with_hole(struct pt_ctx *c, uint64_t base, uint64_t size, uint64_t top)
{
	assert_int_equal(pt_map(c, 0, 0, base, NPT_FLAGS), 0);
	if (base + size < top)
		assert_int_equal(pt_map(c, base + size, base + size, top - base - size, NPT_FLAGS), 0);
}

/* The pool's edges: absent inside, 1:1 just outside with the given page sizes. */
static void expect_hole(const struct pt_ctx *c, uint64_t base, uint64_t size,
			uint64_t below_page, uint64_t above_page)
{
	expect_absent(c, base);
	expect_absent(c, base + 0x123);
	expect_absent(c, base + size / 2);
	expect_absent(c, base + size - 1);
	expect_absent(c, base + size - 4096);
	expect_mapped(c, base - 1, base - 1, below_page);
	expect_mapped(c, base - 4096, base - 4096, below_page);
	expect_mapped(c, base + size, base + size, above_page);
	expect_mapped(c, base + size + 0xabc, base + size + 0xabc, above_page);
}

/* ---- the hypervisor's map: 1 GiB pages ---- */

/* Pool 2 MiB-aligned inside GiB 1: only that GiB is split, into 2 MiB pages. */
static void test_hole_2m_aligned_1g_pages(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	uint64_t base = GiB + MiB2, size = 64 * MiB, top = 64 * GiB;
	map_with_hole(&f->pt, base, size, top);

	expect_hole(&f->pt, base, size, MiB2, MiB2);
	expect_mapped(&f->pt, 0, 0, GiB);
	expect_mapped(&f->pt, 0x9fc00, 0x9fc00, GiB);
	expect_mapped(&f->pt, GiB - 1, GiB - 1, GiB);
	expect_mapped(&f->pt, 2 * GiB - 1, 2 * GiB - 1, MiB2);
	expect_mapped(&f->pt, 2 * GiB, 2 * GiB, GiB);
	expect_mapped(&f->pt, 40 * GiB + 0x1234567, 40 * GiB + 0x1234567, GiB);
	expect_mapped(&f->pt, top - 1, top - 1, GiB);
	expect_absent(&f->pt, top);

	/* PML4 + PDPT + one PD for GiB 1 */
	assert_int_equal(f->pt.tables, 3);
	struct census s = take_census(&f->pt, NPT_FLAGS);
	assert_int_equal(s.tables, 3);
	assert_int_equal(s.leaves[3], 63);                 /* GiB 0 and 2..63 */
	assert_int_equal(s.leaves[2], 1 + (1024 - 66) / 2); /* [1G, 1G+2M) and [1G+66M, 2G) */
	assert_int_equal(s.leaves[1], 0);
	assert_int_equal(s.bytes, top - size);
	assert_int_equal(s.not_identity, 0);
	assert_int_equal(s.bad_table_flags, 0);
	assert_int_equal(s.bad_leaf_flags, 0);
	assert_int_equal(f->pages.n, 3);
	fx_free(f);
}

/* Pool only 4 KiB-aligned: the 2 MiB blocks at both of its edges are split into 4 KiB pages. */
static void test_hole_4k_aligned_1g_pages(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	uint64_t base = GiB + MiB2 + KiB4, size = 64 * MiB, top = 64 * GiB;
	map_with_hole(&f->pt, base, size, top);

	expect_hole(&f->pt, base, size, KiB4, KiB4);
	expect_mapped(&f->pt, GiB + MiB2 - 1, GiB + MiB2 - 1, MiB2);   /* below that block */
	expect_absent(&f->pt, GiB + 4 * MiB);                           /* a whole 2M of pool */
	expect_mapped(&f->pt, GiB + 68 * MiB, GiB + 68 * MiB, MiB2);    /* next block above */
	expect_mapped(&f->pt, GiB + 68 * MiB - 1, GiB + 68 * MiB - 1, KiB4);
	expect_mapped(&f->pt, 3 * GiB, 3 * GiB, GiB);

	/* PML4 + PDPT + PD + two PTs (one per edge) */
	assert_int_equal(f->pt.tables, 5);
	struct census s = take_census(&f->pt, NPT_FLAGS);
	assert_int_equal(s.tables, 5);
	assert_int_equal(s.leaves[3], 63);
	/* GiB 1: 512 PDEs minus 2 split ones minus 31 whole blocks of pool */
	assert_int_equal(s.leaves[2], 512 - 2 - 31);
	/* [1G+2M, base) is one page; [base+size, 1G+68M) is 511 */
	assert_int_equal(s.leaves[1], 1 + 511);
	assert_int_equal(s.bytes, top - size);
	assert_int_equal(s.not_identity, 0);
	assert_int_equal(s.bad_table_flags, 0);
	assert_int_equal(s.bad_leaf_flags, 0);
	fx_free(f);
}

/* A pool across a GiB boundary splits both GiBs. */
static void test_hole_across_1g_boundary(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	uint64_t base = 3 * GiB - MiB2, size = 4 * MiB, top = 8 * GiB;
	map_with_hole(&f->pt, base, size, top);
	expect_hole(&f->pt, base, size, MiB2, MiB2);
	expect_absent(&f->pt, 3 * GiB - 1);
	expect_absent(&f->pt, 3 * GiB);
	expect_mapped(&f->pt, 2 * GiB, 2 * GiB, MiB2);
	expect_mapped(&f->pt, 4 * GiB, 4 * GiB, GiB);
	assert_int_equal(f->pt.tables, 4);   /* PML4, PDPT, PDs of GiB 2 and 3 */
	struct census s = take_census(&f->pt, NPT_FLAGS);
	assert_int_equal(s.leaves[3], 6);
	assert_int_equal(s.leaves[2], 511 * 2);
	assert_int_equal(s.leaves[1], 0);
	assert_int_equal(s.bytes, top - size);
	assert_int_equal(s.not_identity, 0);
	fx_free(f);
}

/* A 1 GiB-aligned pool leaves every page 1 GiB. */
static void test_hole_1g_aligned(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	uint64_t base = 2 * GiB, size = GiB, top = 16 * GiB;
	map_with_hole(&f->pt, base, size, top);
	expect_hole(&f->pt, base, size, GiB, GiB);
	assert_int_equal(f->pt.tables, 2);
	struct census s = take_census(&f->pt, NPT_FLAGS);
	assert_int_equal(s.leaves[3], 15);
	assert_int_equal(s.leaves[2] + s.leaves[1], 0);
	fx_free(f);
}

/* The whole 46-bit space (hv.guest_top with 1 GiB pages): one PDPT per 512 GiB. */
static void test_hole_full_46bit_space(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	uint64_t base = 2 * GiB - 64 * MiB, size = 64 * MiB, top = 1ull << 46;
	map_with_hole(&f->pt, base, size, top);
	expect_hole(&f->pt, base, size, MiB2, GiB);   /* the pool ends exactly at 2 GiB */
	expect_mapped(&f->pt, top - 1, top - 1, GiB);
	expect_mapped(&f->pt, 512 * GiB, 512 * GiB, GiB);
	expect_absent(&f->pt, top);
	/* PML4 + 128 PDPTs + the PD of GiB 1 */
	assert_int_equal(f->pt.tables, 1 + 128 + 1);
	struct census s = take_census(&f->pt, NPT_FLAGS);
	assert_int_equal(s.tables, 130);
	assert_int_equal(s.leaves[3], (top >> 30) - 1);
	assert_int_equal(s.leaves[2], 512 - 32);
	assert_int_equal(s.leaves[1], 0);
	assert_int_equal(s.bytes, top - size);
	assert_int_equal(s.not_identity, 0);
	fx_free(f);
}

/* ---- no 1 GiB pages (max_leaf_level 2) ---- */

static void test_max_leaf_2_no_1g_pages(void **state)
{
	(void)state;
	struct fixture *f = fx_init(2, ~0u);
	uint64_t base = GiB + MiB2, size = 64 * MiB, top = 64 * GiB;
	map_with_hole(&f->pt, base, size, top);
	expect_hole(&f->pt, base, size, MiB2, MiB2);
	expect_mapped(&f->pt, 0, 0, MiB2);
	expect_mapped(&f->pt, 5 * GiB, 5 * GiB, MiB2);
	expect_mapped(&f->pt, top - 1, top - 1, MiB2);
	/* PML4 + PDPT + 64 PDs */
	assert_int_equal(f->pt.tables, 66);
	struct census s = take_census(&f->pt, NPT_FLAGS);
	assert_int_equal(s.leaves[3], 0);
	assert_int_equal(s.leaves[2], 64 * 512 - 32);
	assert_int_equal(s.leaves[1], 0);
	assert_int_equal(s.bytes, top - size);
	assert_int_equal(s.not_identity, 0);
	assert_int_equal(s.bad_table_flags, 0);
	fx_free(f);
}

static void test_max_leaf_2_4k_hole(void **state)
{
	(void)state;
	struct fixture *f = fx_init(2, ~0u);
	uint64_t base = GiB + MiB2 + KiB4, size = 64 * MiB, top = 64 * GiB;
	map_with_hole(&f->pt, base, size, top);
	expect_hole(&f->pt, base, size, KiB4, KiB4);
	assert_int_equal(f->pt.tables, 68);
	struct census s = take_census(&f->pt, NPT_FLAGS);
	assert_int_equal(s.leaves[3], 0);
	assert_int_equal(s.leaves[2], 64 * 512 - 2 - 31);
	assert_int_equal(s.leaves[1], 512);
	assert_int_equal(s.bytes, top - size);
	assert_int_equal(s.not_identity, 0);
	fx_free(f);
}

static void test_max_leaf_1_all_4k(void **state)
{
	(void)state;
	struct fixture *f = fx_init(1, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * MiB, PTE_RW), 0);
	expect_mapped(&f->pt, 0, 0, KiB4);
	expect_mapped(&f->pt, 2 * MiB, 2 * MiB, KiB4);
	assert_int_equal(f->pt.tables, 5);   /* PML4, PDPT, PD, 2 PTs */
	struct census s = take_census(&f->pt, PTE_RW);
	assert_int_equal(s.leaves[1], 1024);
	assert_int_equal(s.leaves[2] + s.leaves[3], 0);
	fx_free(f);
}

/* ---- largest pages that fit, in general ---- */

/* [0, 5G + 6M + 8K): the loader's host map of a machine whose top is not GiB-aligned. */
static void test_unaligned_top(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	uint64_t top = 5 * GiB + 6 * MiB + 2 * KiB4;
	assert_int_equal(pt_map(&f->pt, 0, 0, top, PTE_RW), 0);
	expect_mapped(&f->pt, 4 * GiB, 4 * GiB, GiB);
	expect_mapped(&f->pt, 5 * GiB + 4 * MiB, 5 * GiB + 4 * MiB, MiB2);
	expect_mapped(&f->pt, top - 1, top - 1, KiB4);
	expect_absent(&f->pt, top);
	assert_int_equal(f->pt.tables, 4);
	struct census s = take_census(&f->pt, PTE_RW);
	assert_int_equal(s.leaves[3], 5);
	assert_int_equal(s.leaves[2], 3);
	assert_int_equal(s.leaves[1], 2);
	assert_int_equal(s.bytes, top);
	fx_free(f);
}

/* A 2 MiB-aligned VA over a PA that is not 2 MiB-aligned needs 4 KiB pages. */
static void test_pa_alignment_limits_page_size(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, GiB, 4 * MiB + KiB4, MiB2, PTE_RW), 0);
	expect_mapped(&f->pt, GiB, 4 * MiB + KiB4, KiB4);
	expect_mapped(&f->pt, GiB + MiB2 - 1, 6 * MiB + KiB4 - 1, KiB4);
	/* and a GiB-aligned VA over a 2 MiB-aligned PA gets 2 MiB pages, not 1 GiB */
	assert_int_equal(pt_map(&f->pt, 4 * GiB, 8 * MiB, GiB, PTE_RW), 0);
	expect_mapped(&f->pt, 4 * GiB, 8 * MiB, MiB2);
	expect_mapped(&f->pt, 5 * GiB - 1, GiB + 8 * MiB - 1, MiB2);
	fx_free(f);
}

/* The hypervisor image at a high VA, with its own flags. */
static void test_high_va_and_flags(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	uint64_t hv = 0xffffffff80000000ull;
	assert_int_equal(pt_map(&f->pt, hv, 0x1234000, 16 * KiB4, 0), 0);
	assert_int_equal(pt_map(&f->pt, hv + 16 * KiB4, 0x1244000, 4 * KiB4, PTE_RW | PTE_NX), 0);
	uint64_t pa, size, flags;
	assert_int_equal(pt_lookup(&f->pt, hv + 0x10, &pa, &size, &flags), 0);
	assert_int_equal(pa, 0x1234010);
	assert_int_equal(size, KiB4);
	assert_int_equal(flags, PTE_P);
	assert_int_equal(pt_lookup(&f->pt, hv + 17 * KiB4 + 8, &pa, &size, &flags), 0);
	assert_int_equal(pa, 0x1245008);
	assert_int_equal(flags, PTE_P | PTE_RW | PTE_NX);
	expect_absent(&f->pt, hv + 20 * KiB4);
	expect_absent(&f->pt, 0x1234000);
	/* PML4[511] -> PDPT[510] -> PD[0] -> PT */
	const uint64_t *pml4 = (const uint64_t *)(uintptr_t)f->pt.root;
	assert_true(pml4[511] & PTE_P);
	for (unsigned i = 0; i < 511; i++)
		assert_int_equal(pml4[i], 0);
	assert_int_equal(f->pt.tables, 4);
	fx_free(f);
}

static void test_lookup_flags_of_large_pages(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	map_with_hole(&f->pt, GiB + MiB2, 64 * MiB, 4 * GiB);
	uint64_t pa, size, flags;
	assert_int_equal(pt_lookup(&f->pt, 3 * GiB + 5, &pa, &size, &flags), 0);
	assert_int_equal(flags, PTE_P | PTE_RW | PTE_US);   /* PS is not reported as a flag */
	assert_int_equal(pt_lookup(&f->pt, GiB + 5, &pa, &size, &flags), 0);
	assert_int_equal(flags, PTE_P | PTE_RW | PTE_US);
	/* the raw entries: leaves have PS, the table entry has table_flags and no PS */
	const uint64_t *pml4 = (const uint64_t *)(uintptr_t)f->pt.root;
	assert_int_equal(pml4[0] & ~PTE_ADDR, PTE_P | NPT_FLAGS);
	const uint64_t *pdpt = (const uint64_t *)(uintptr_t)(pml4[0] & PTE_ADDR);
	assert_int_equal(pdpt[0], 0 | PTE_P | PTE_RW | PTE_US | PTE_PS);
	assert_int_equal(pdpt[1] & ~PTE_ADDR, PTE_P | NPT_FLAGS);
	assert_int_equal(pdpt[3], 3 * GiB | PTE_P | PTE_RW | PTE_US | PTE_PS);
	assert_int_equal(pdpt[4], 0);
	fx_free(f);
}

static void test_empty_map(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, GiB, GiB, 0, PTE_RW), 0);
	expect_absent(&f->pt, GiB);
	expect_absent(&f->pt, 0);
	assert_int_equal(f->pt.tables, 1);
	fx_free(f);
}

/* ---- errors ---- */

static void test_eexist_overlap(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * MiB, PTE_RW), 0);
	/* overlapping 2 MiB leaf */
	assert_int_equal(pt_map(&f->pt, 2 * MiB, 0x40000000, 4 * MiB, PTE_RW), BVMM_EEXIST);
	/* a 4 KiB page inside a 2 MiB leaf */
	assert_int_equal(pt_map(&f->pt, 3 * MiB, 3 * MiB, KiB4, PTE_RW), BVMM_EEXIST);
	/* the original mapping is intact */
	expect_mapped(&f->pt, 2 * MiB, 2 * MiB, MiB2);
	expect_mapped(&f->pt, 3 * MiB, 3 * MiB, MiB2);
	fx_free(f);
}

static void test_eexist_small_then_large(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 5 * GiB + 0x7000, 0x7000, KiB4, PTE_RW), 0);
	/* a 1 GiB page where a table already holds a 4 KiB page */
	assert_int_equal(pt_map(&f->pt, 5 * GiB, 5 * GiB, GiB, PTE_RW), BVMM_EEXIST);
	/* a 2 MiB page over that PT */
	assert_int_equal(pt_map(&f->pt, 5 * GiB, 5 * GiB, MiB2, PTE_RW), BVMM_EEXIST);
	/* the same 4 KiB page again */
	assert_int_equal(pt_map(&f->pt, 5 * GiB + 0x7000, 0x9000, KiB4, PTE_RW), BVMM_EEXIST);
	expect_mapped(&f->pt, 5 * GiB + 0x7000, 0x7000, KiB4);
	/* the neighbour is free */
	assert_int_equal(pt_map(&f->pt, 5 * GiB + 0x8000, 0x9000, KiB4, PTE_RW), 0);
	expect_mapped(&f->pt, 5 * GiB + 0x8000, 0x9000, KiB4);
	fx_free(f);
}

static void test_eexist_inside_1g_leaf(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PTE_RW), 0);
	unsigned tables = f->pt.tables;
	assert_int_equal(pt_map(&f->pt, 0x5000, 0x5000, KiB4, PTE_RW), BVMM_EEXIST);
	assert_int_equal(pt_map(&f->pt, MiB2, MiB2, MiB2, PTE_RW), BVMM_EEXIST);
	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PTE_RW), BVMM_EEXIST);
	assert_int_equal(f->pt.tables, tables);
	expect_mapped(&f->pt, 0x5000, 0x5000, GiB);
	fx_free(f);
}

static void test_einval_misaligned(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0x800, 0, KiB4, PTE_RW), BVMM_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0, 0x10, KiB4, PTE_RW), BVMM_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0, 0, KiB4 + 1, PTE_RW), BVMM_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0, 0, 0x800, PTE_RW), BVMM_EINVAL);
	assert_int_equal(pt_map(&f->pt, GiB + 1, GiB + 1, GiB, PTE_RW), BVMM_EINVAL);
	/* nothing was mapped, nothing allocated */
	expect_absent(&f->pt, 0);
	expect_absent(&f->pt, GiB);
	assert_int_equal(f->pt.tables, 1);
	assert_int_equal(f->pages.n, 1);
	fx_free(f);
}

static void test_enomem_init(void **state)
{
	(void)state;
	struct fixture *f = fx_new(3, 0);
	assert_int_equal(pt_init(&f->pt), BVMM_ENOMEM);
	assert_int_equal(f->pages.calls, 1);
	fx_free(f);
}

static void test_enomem_map(void **state)
{
	(void)state;
	/* a 4 KiB page needs PML4 + PDPT + PD + PT: with 3 pages the PT is missing */
	struct fixture *f = fx_init(3, 3);
	assert_int_equal(pt_map(&f->pt, GiB + 0x3000, 0x3000, KiB4, PTE_RW), BVMM_ENOMEM);
	assert_int_equal(f->pt.tables, 3);
	assert_int_equal(f->pages.calls, 4);
	/* the failed allocation did not leave a present entry pointing at PA 0 */
	expect_absent(&f->pt, GiB + 0x3000);
	expect_absent(&f->pt, GiB);
	/* a 2 MiB page in the same GiB needs no new table and still works */
	assert_int_equal(pt_map(&f->pt, GiB + MiB2, MiB2, MiB2, PTE_RW), 0);
	expect_mapped(&f->pt, GiB + MiB2, MiB2, MiB2);
	/* a second GiB needs a PD: refused */
	assert_int_equal(pt_map(&f->pt, 2 * GiB + MiB2, MiB2, MiB2, PTE_RW), BVMM_ENOMEM);
	expect_absent(&f->pt, 2 * GiB + MiB2);
	fx_free(f);

	/* exactly enough */
	f = fx_init(3, 4);
	assert_int_equal(pt_map(&f->pt, GiB + 0x3000, 0x3000, KiB4, PTE_RW), 0);
	assert_int_equal(f->pt.tables, 4);
	expect_mapped(&f->pt, GiB + 0x3000, 0x3000, KiB4);
	fx_free(f);
}

/* The hypervisor's map with a 4 KiB-aligned pool needs 5 tables: any fewer is ENOMEM. */
static void test_enomem_hole_map(void **state)
{
	(void)state;
	uint64_t base = GiB + MiB2 + KiB4, size = 64 * MiB, top = 64 * GiB;
	for (unsigned budget = 1; budget <= 5; budget++) {
		struct fixture *f = fx_init(3, budget);
		int r = pt_map(&f->pt, 0, 0, base, NPT_FLAGS);
		if (!r)
			r = pt_map(&f->pt, base + size, base + size, top - base - size, NPT_FLAGS);
		assert_int_equal(r, budget < 5 ? BVMM_ENOMEM : 0);
		assert_int_equal(f->pt.tables, budget);
		fx_free(f);
	}
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 4; i++)
		if (live[i])
			fx_free(live[i]);
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hole_2m_aligned_1g_pages),
		T(test_hole_4k_aligned_1g_pages),
		T(test_hole_across_1g_boundary),
		T(test_hole_1g_aligned),
		T(test_hole_full_46bit_space),
		T(test_max_leaf_2_no_1g_pages),
		T(test_max_leaf_2_4k_hole),
		T(test_max_leaf_1_all_4k),
		T(test_unaligned_top),
		T(test_pa_alignment_limits_page_size),
		T(test_high_va_and_flags),
		T(test_lookup_flags_of_large_pages),
		T(test_empty_map),
		T(test_eexist_overlap),
		T(test_eexist_small_then_large),
		T(test_eexist_inside_1g_leaf),
		T(test_einval_misaligned),
		T(test_enomem_init),
		T(test_enomem_map),
		T(test_enomem_hole_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
