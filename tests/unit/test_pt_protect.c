/* Unit tests of pt_protect and pt_destroy (arch/x86_64/pt.c): changing leaf flags over a
 * range of a 1:1 map (splitting partly covered large pages), its errors (EINVAL, ENOENT,
 * ENOMEM: never a permission changed), and freeing every table page exactly once.
 * "Physical" table pages are aligned host pages whose address is their PA; the allocator
 * records every page it gave out so the free callback can check each is returned once. */
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
#define RO_NX     (PTE_US | PTE_NX)   /* NPT_FLAGS after clear RW|NX, set NX */

/* ---- a recording page allocator with a budget ---- */

struct page_rec {
	void *pg;
	unsigned frees;   /* times given back */
};

struct pages {
	struct page_rec *rec;
	unsigned n, cap;
	unsigned budget;        /* pages it will still give out */
	unsigned calls;         /* alloc calls, failed ones included */
	unsigned frees;         /* free calls */
	unsigned bad_frees;     /* free of an address never allocated */
	unsigned double_frees;
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
		p->rec = realloc(p->rec, p->cap * sizeof *p->rec);
		assert_non_null(p->rec);
	}
	p->rec[p->n++] = (struct page_rec){ pg, 0 };
	p->budget--;
	return (uint64_t)(uintptr_t)pg;
}

static void page_free(void *arg, uint64_t pa)
{
	struct pages *p = arg;
	p->frees++;
	for (unsigned i = 0; i < p->n; i++)
		if ((uint64_t)(uintptr_t)p->rec[i].pg == pa) {
			if (p->rec[i].frees++)
				p->double_frees++;
			/* keep the memory until the fixture goes: a later bad access of a freed
			 * table is then still caught by the checks, not only by ASan */
			memset(p->rec[i].pg, 0xcc, 4096);
			return;
		}
	p->bad_frees++;
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

static struct fixture *live[4];

static struct fixture *fx_init(int max_leaf, unsigned budget)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	for (unsigned i = 0; i < 4; i++)
		if (!live[i]) {
			live[i] = f;
			break;
		}
	f->pages.budget = budget;
	f->pt = (struct pt_ctx){ .alloc = page_alloc, .pa2va = page_va, .free = page_free,
				 .arg = &f->pages, .table_flags = NPT_FLAGS,
				 .max_leaf_level = max_leaf };
	assert_int_equal(pt_init(&f->pt), 0);
	return f;
}

static void fx_free(struct fixture *f)
{
	for (unsigned i = 0; i < 4; i++)
		if (live[i] == f)
			live[i] = NULL;
	for (unsigned i = 0; i < f->pages.n; i++)
		free(f->pages.rec[i].pg);
	free(f->pages.rec);
	free(f);
}

/* ---- checking helpers ---- */

static void expect_page(const struct pt_ctx *c, uint64_t va, uint64_t page_size, uint64_t flags)
{
	uint64_t pa = 0, size = 0, fl = 0;
	int r = pt_lookup(c, va, &pa, &size, &fl);
	if (r)
		fail_msg("va 0x%llx: lookup returned %d, expected mapped", (unsigned long long)va, r);
	if (pa != va || size != page_size || fl != (flags | PTE_P))
		fail_msg("va 0x%llx -> pa 0x%llx, page 0x%llx, flags 0x%llx; expected 1:1, page "
			 "0x%llx, flags 0x%llx", (unsigned long long)va, (unsigned long long)pa,
			 (unsigned long long)size, (unsigned long long)fl,
			 (unsigned long long)page_size, (unsigned long long)(flags | PTE_P));
}

static void expect_absent(const struct pt_ctx *c, uint64_t va)
{
	uint64_t pa, size, fl;
	int r = pt_lookup(c, va, &pa, &size, &fl);
	if (r != BVMM_ENOENT)
		fail_msg("va 0x%llx: lookup returned %d, expected ENOENT", (unsigned long long)va, r);
}

/* Every 4 KiB page of [va, va+size) is mapped 1:1 with `flags` (any page size). */
static void expect_flags_range(const struct pt_ctx *c, uint64_t va, uint64_t size,
			       uint64_t flags)
{
	for (uint64_t a = va; a < va + size; a += KiB4) {
		uint64_t pa = 0, ps = 0, fl = 0;
		int r = pt_lookup(c, a, &pa, &ps, &fl);
		if (r || pa != a || fl != (flags | PTE_P))
			fail_msg("va 0x%llx: r %d pa 0x%llx flags 0x%llx, expected 1:1 flags 0x%llx",
				 (unsigned long long)a, r, (unsigned long long)pa,
				 (unsigned long long)fl, (unsigned long long)(flags | PTE_P));
	}
}

struct census {
	uint64_t leaves[PT_LEVELS + 1];
	uint64_t tables;
	uint64_t not_identity;
	uint64_t bad_table_flags;
	uint64_t pat_in_pte;      /* 4 KiB leaves with bit 7 (PAT there, PS above) set */
};

static void walk(const struct pt_ctx *c, uint64_t tpa, int level, uint64_t va_base,
		 struct census *s)
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
			if ((e & PTE_ADDR & ~(span - 1)) != va)
				s->not_identity++;
			if (level == 1 && (e & PTE_PS))
				s->pat_in_pte++;
		} else {
			if ((e & ~PTE_ADDR) != (c->table_flags | PTE_P))
				s->bad_table_flags++;
			walk(c, e, level - 1, va, s);
		}
	}
}

static struct census take_census(const struct pt_ctx *c)
{
	struct census s;
	memset(&s, 0, sizeof s);
	walk(c, c->root, PT_LEVELS, 0, &s);
	return s;
}

static void expect_sound(const struct pt_ctx *c)
{
	struct census s = take_census(c);
	assert_int_equal(s.tables, c->tables);
	assert_int_equal(s.not_identity, 0);
	assert_int_equal(s.bad_table_flags, 0);
	assert_int_equal(s.pat_in_pte, 0);
}

/* Read-only + no-exec over [va, va+size): what MPROTECT_EPT with PROT_READ does on SVM. */
static int protect_ro(struct pt_ctx *c, uint64_t va, uint64_t size)
{
	return pt_protect(c, va, size, PTE_RW | PTE_NX, PTE_NX);
}

/* ---- pt_protect ---- */

/* One 4 KiB page inside a 2 MiB leaf: the leaf becomes a PT of 512 pages, the page gets the
 * new flags, its 511 neighbours keep the old ones and their 1:1 addresses. */
static void test_protect_4k_in_2m_splits(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * MiB, NPT_FLAGS), 0);
	assert_int_equal(f->pt.tables, 3);
	uint64_t page = MiB2 + 5 * KiB4;
	assert_int_equal(protect_ro(&f->pt, page, KiB4), 0);
	assert_int_equal(f->pt.tables, 4);
	expect_page(&f->pt, page, KiB4, RO_NX);
	expect_page(&f->pt, page + 0x123, KiB4, RO_NX);
	expect_page(&f->pt, page - KiB4, KiB4, NPT_FLAGS);
	expect_page(&f->pt, page + KiB4, KiB4, NPT_FLAGS);
	expect_page(&f->pt, MiB2, KiB4, NPT_FLAGS);
	expect_page(&f->pt, 2 * MiB2 - KiB4, KiB4, NPT_FLAGS);
	expect_flags_range(&f->pt, MiB2, page - MiB2, NPT_FLAGS);
	expect_flags_range(&f->pt, page + KiB4, 2 * MiB2 - page - KiB4, NPT_FLAGS);
	/* the other 2 MiB leaf is untouched */
	expect_page(&f->pt, 0, MiB2, NPT_FLAGS);
	expect_page(&f->pt, MiB2 - KiB4, MiB2, NPT_FLAGS);
	struct census s = take_census(&f->pt);
	assert_int_equal(s.leaves[2], 1);
	assert_int_equal(s.leaves[1], 512);
	expect_sound(&f->pt);
	/* protecting it again (or back) allocates nothing more */
	assert_int_equal(pt_protect(&f->pt, page, KiB4, PTE_NX, PTE_RW), 0);
	expect_page(&f->pt, page, KiB4, NPT_FLAGS);
	assert_int_equal(f->pt.tables, 4);
	fx_free(f);
}

/* Splitting keeps the memory type: PAT is bit 12 in a large leaf and bit 7 in a 4 KiB one,
 * so a 1 GiB -> 2 MiB split keeps bit 12 and a 2 MiB -> 4 KiB split moves it to bit 7. */
static void test_protect_split_moves_pat_bit(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 1ull << 30, NPT_FLAGS | PTE_PAT_LARGE), 0);
	assert_int_equal(protect_ro(&f->pt, MiB2 + KiB4, KiB4), 0);
	uint64_t pa, size, flags;
	assert_int_equal(pt_lookup(&f->pt, MiB2 + KiB4, &pa, &size, &flags), 0);
	assert_int_equal(size, KiB4);
	assert_int_equal(pa, MiB2 + KiB4);                /* bit 12 did not leak into the address */
	assert_true(flags & PTE_PAT_4K);
	assert_int_equal(pt_lookup(&f->pt, MiB2, &pa, &size, &flags), 0);
	assert_int_equal(pa, MiB2);
	assert_true(flags & PTE_PAT_4K);
	assert_int_equal(pt_lookup(&f->pt, 4 * MiB2, &pa, &size, &flags), 0);
	assert_int_equal(size, MiB2);                     /* a 2 MiB piece of the 1 GiB leaf */
	assert_int_equal(pa, 4 * MiB2);
	const uint64_t *pml4 = f->pt.pa2va(f->pt.arg, f->pt.root);
	const uint64_t *pdpt = f->pt.pa2va(f->pt.arg, pml4[0] & PTE_ADDR);
	const uint64_t *pd = f->pt.pa2va(f->pt.arg, pdpt[0] & PTE_ADDR);
	assert_true(pd[4] & PTE_PAT_LARGE);
	assert_true(pd[4] & PTE_PS);
	fx_free(f);
}

/* A whole 2 MiB leaf changes in place. */
static void test_protect_whole_2m_leaf_no_split(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 6 * MiB, NPT_FLAGS), 0);
	unsigned tables = f->pt.tables;
	unsigned allocs = f->pages.calls;
	assert_int_equal(protect_ro(&f->pt, MiB2, MiB2), 0);
	assert_int_equal(f->pt.tables, tables);
	assert_int_equal(f->pages.calls, allocs);
	expect_page(&f->pt, MiB2, MiB2, RO_NX);
	expect_page(&f->pt, 2 * MiB2 - 1, MiB2, RO_NX);
	expect_page(&f->pt, MiB2 - 1, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 2 * MiB2, MiB2, NPT_FLAGS);
	/* two whole leaves at once */
	assert_int_equal(pt_protect(&f->pt, 0, 2 * MiB2, PTE_NX, PTE_RW | PTE_NX), 0);
	expect_page(&f->pt, 0, MiB2, NPT_FLAGS | PTE_NX);
	expect_page(&f->pt, MiB2, MiB2, NPT_FLAGS | PTE_NX);
	expect_page(&f->pt, 2 * MiB2, MiB2, NPT_FLAGS);
	assert_int_equal(f->pt.tables, tables);
	expect_sound(&f->pt);
	fx_free(f);
}

/* A range that crosses the boundary between two 1 GiB leaves, covering each in part: both are
 * split down to 4 KiB at the edges of the range. */
static void test_protect_across_1g_leaves_partial(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * GiB, NPT_FLAGS), 0);
	assert_int_equal(f->pt.tables, 2);
	uint64_t va = 2 * GiB - 2 * KiB4, size = 4 * KiB4;
	assert_int_equal(protect_ro(&f->pt, va, size), 0);
	/* PML4, PDPT, a PD for each of GiB 1 and 2, a PT for each edge block */
	assert_int_equal(f->pt.tables, 6);
	expect_flags_range(&f->pt, va, size, RO_NX);
	expect_page(&f->pt, va, KiB4, RO_NX);
	expect_page(&f->pt, va + size - KiB4, KiB4, RO_NX);
	expect_page(&f->pt, va - KiB4, KiB4, NPT_FLAGS);
	expect_page(&f->pt, va + size, KiB4, NPT_FLAGS);
	expect_flags_range(&f->pt, 2 * GiB - MiB2, MiB2 - 2 * KiB4, NPT_FLAGS);
	expect_flags_range(&f->pt, 2 * GiB + 2 * KiB4, MiB2 - 2 * KiB4, NPT_FLAGS);
	expect_page(&f->pt, 2 * GiB - MiB2 - 1, MiB2, NPT_FLAGS);
	expect_page(&f->pt, GiB, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 2 * GiB + MiB2, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 3 * GiB - 1, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 0, GiB, NPT_FLAGS);
	expect_page(&f->pt, 3 * GiB, GiB, NPT_FLAGS);
	struct census s = take_census(&f->pt);
	assert_int_equal(s.leaves[3], 2);
	assert_int_equal(s.leaves[2], 2 * 511);
	assert_int_equal(s.leaves[1], 2 * 512);
	expect_sound(&f->pt);
	fx_free(f);
}

/* A range covering one 1 GiB leaf whole and the neighbours in 2 MiB-aligned parts: the whole
 * leaf changes in place, the neighbours are split into 2 MiB pages only. */
static void test_protect_over_whole_1g_leaf(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * GiB, NPT_FLAGS), 0);
	uint64_t va = GiB - MiB2, size = GiB + 2 * MiB2;
	assert_int_equal(protect_ro(&f->pt, va, size), 0);
	assert_int_equal(f->pt.tables, 4);   /* PDs of GiB 0 and 2 */
	expect_page(&f->pt, GiB, GiB, RO_NX);
	expect_page(&f->pt, 2 * GiB - 1, GiB, RO_NX);
	expect_page(&f->pt, GiB - MiB2, MiB2, RO_NX);
	expect_page(&f->pt, 2 * GiB, MiB2, RO_NX);
	expect_page(&f->pt, GiB - MiB2 - 1, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 0, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 2 * GiB + MiB2, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 3 * GiB, GiB, NPT_FLAGS);
	struct census s = take_census(&f->pt);
	assert_int_equal(s.leaves[3], 2);
	assert_int_equal(s.leaves[2], 2 * 512);
	assert_int_equal(s.leaves[1], 0);
	expect_sound(&f->pt);
	fx_free(f);
}

/* 4 KiB leaves (a map built with max_leaf_level 1) change one by one. */
static void test_protect_4k_leaves(void **state)
{
	(void)state;
	struct fixture *f = fx_init(1, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * MiB, NPT_FLAGS), 0);
	unsigned tables = f->pt.tables;
	assert_int_equal(protect_ro(&f->pt, MiB2 - 3 * KiB4, 6 * KiB4), 0);
	assert_int_equal(f->pt.tables, tables);
	expect_flags_range(&f->pt, MiB2 - 3 * KiB4, 6 * KiB4, RO_NX);
	expect_flags_range(&f->pt, 0, MiB2 - 3 * KiB4, NPT_FLAGS);
	expect_flags_range(&f->pt, MiB2 + 3 * KiB4, MiB2 - 3 * KiB4, NPT_FLAGS);
	fx_free(f);
}

/* A page of the range unmapped: ENOENT, and not one flag changed anywhere. */
static void test_protect_enoent_unmapped_page(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	/* [0, 2M) and [4M, 6M) as 2 MiB leaves, [6M, 6M+8K) as 4 KiB pages; [2M, 4M) a hole */
	assert_int_equal(pt_map(&f->pt, 0, 0, MiB2, NPT_FLAGS), 0);
	assert_int_equal(pt_map(&f->pt, 2 * MiB2, 2 * MiB2, MiB2, NPT_FLAGS), 0);
	assert_int_equal(pt_map(&f->pt, 3 * MiB2, 3 * MiB2, 2 * KiB4, NPT_FLAGS), 0);

	/* the hole in the middle of the range */
	assert_int_equal(protect_ro(&f->pt, 0, 3 * MiB2), BVMM_ENOENT);
	/* a partly covered leaf before the hole (split on the way), then the hole */
	assert_int_equal(protect_ro(&f->pt, MiB, 2 * MiB), BVMM_ENOENT);
	/* the hole at the start */
	assert_int_equal(protect_ro(&f->pt, MiB2, MiB2 + KiB4), BVMM_ENOENT);
	/* the page after the last 4 KiB one */
	assert_int_equal(protect_ro(&f->pt, 3 * MiB2, 3 * KiB4), BVMM_ENOENT);
	/* nothing at all at that PML4 slot */
	assert_int_equal(protect_ro(&f->pt, 600 * GiB, KiB4), BVMM_ENOENT);
	/* mapped, then a whole unmapped GiB */
	assert_int_equal(protect_ro(&f->pt, 0, 2 * GiB), BVMM_ENOENT);

	expect_flags_range(&f->pt, 0, MiB2, NPT_FLAGS);
	expect_flags_range(&f->pt, 2 * MiB2, MiB2, NPT_FLAGS);
	expect_flags_range(&f->pt, 3 * MiB2, 2 * KiB4, NPT_FLAGS);
	expect_absent(&f->pt, MiB2);
	expect_absent(&f->pt, 3 * MiB2 + 2 * KiB4);
	expect_absent(&f->pt, 600 * GiB);
	expect_sound(&f->pt);
	fx_free(f);
}

/* Splitting needs a table and there is none: ENOMEM, no permission changed. */
static void test_protect_enomem_no_change(void **state)
{
	(void)state;
	/* exactly the three tables of the map */
	struct fixture *f = fx_init(3, 3);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * MiB, NPT_FLAGS), 0);
	assert_int_equal(f->pages.budget, 0);
	assert_int_equal(protect_ro(&f->pt, KiB4, KiB4), BVMM_ENOMEM);
	assert_int_equal(f->pt.tables, 3);
	expect_page(&f->pt, 0, MiB2, NPT_FLAGS);
	expect_page(&f->pt, KiB4, MiB2, NPT_FLAGS);
	/* a range with a whole leaf first and a partial one after */
	assert_int_equal(protect_ro(&f->pt, 0, MiB2 + KiB4), BVMM_ENOMEM);
	expect_page(&f->pt, 0, MiB2, NPT_FLAGS);
	expect_page(&f->pt, MiB2, MiB2, NPT_FLAGS);
	expect_sound(&f->pt);
	/* a whole leaf still works without memory */
	assert_int_equal(protect_ro(&f->pt, MiB2, MiB2), 0);
	expect_page(&f->pt, MiB2, MiB2, RO_NX);
	fx_free(f);
}

/* The first of two splits succeeds, the second runs out: finer pages may stay behind, but
 * every page keeps its permissions. */
static void test_protect_enomem_second_split(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, 4);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * MiB, NPT_FLAGS), 0);
	assert_int_equal(protect_ro(&f->pt, MiB2 - KiB4, 2 * KiB4), BVMM_ENOMEM);
	assert_int_equal(f->pt.tables, 4);
	expect_flags_range(&f->pt, 0, 4 * MiB, NPT_FLAGS);
	expect_sound(&f->pt);
	fx_free(f);

	/* a 1 GiB leaf: its PD is allocated, the PT for the 2 MiB block is not */
	f = fx_init(3, 3);
	assert_int_equal(pt_map(&f->pt, 0, 0, 2 * GiB, NPT_FLAGS), 0);
	assert_int_equal(f->pt.tables, 2);
	assert_int_equal(protect_ro(&f->pt, GiB + KiB4, KiB4), BVMM_ENOMEM);
	assert_int_equal(f->pt.tables, 3);
	expect_flags_range(&f->pt, GiB, 4 * MiB, NPT_FLAGS);
	expect_page(&f->pt, GiB + KiB4, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 2 * GiB - 1, MiB2, NPT_FLAGS);
	expect_page(&f->pt, 0, GiB, NPT_FLAGS);
	expect_sound(&f->pt);
	fx_free(f);

	/* with an empty budget from the start, for every partial range shape */
	uint64_t vas[] = { KiB4, MiB2 - KiB4, GiB - KiB4, GiB + MiB2 + KiB4 };
	for (unsigned i = 0; i < sizeof vas / sizeof vas[0]; i++) {
		f = fx_init(3, 2);
		assert_int_equal(pt_map(&f->pt, 0, 0, 2 * GiB, NPT_FLAGS), 0);
		assert_int_equal(protect_ro(&f->pt, vas[i], 2 * KiB4), BVMM_ENOMEM);
		expect_page(&f->pt, vas[i], GiB, NPT_FLAGS);
		expect_page(&f->pt, vas[i] + KiB4, GiB, NPT_FLAGS);
		assert_int_equal(f->pt.tables, 2);
		fx_free(f);
	}
}

static void test_protect_einval_unaligned(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * MiB, NPT_FLAGS), 0);
	assert_int_equal(protect_ro(&f->pt, 0x800, KiB4), BVMM_EINVAL);
	assert_int_equal(protect_ro(&f->pt, KiB4 + 1, KiB4), BVMM_EINVAL);
	assert_int_equal(protect_ro(&f->pt, KiB4, KiB4 + 1), BVMM_EINVAL);
	assert_int_equal(protect_ro(&f->pt, KiB4, 0x800), BVMM_EINVAL);
	assert_int_equal(f->pt.tables, 3);
	expect_flags_range(&f->pt, 0, 4 * MiB, NPT_FLAGS);
	expect_page(&f->pt, 0, MiB2, NPT_FLAGS);
	fx_free(f);
}

/* ---- pt_destroy ---- */

static void expect_all_freed_once(struct fixture *f)
{
	struct pages *p = &f->pages;
	assert_int_equal(p->bad_frees, 0);
	assert_int_equal(p->double_frees, 0);
	for (unsigned i = 0; i < p->n; i++)
		if (p->rec[i].frees != 1)
			fail_msg("table page %u (of %u) freed %u times", i, p->n, p->rec[i].frees);
	assert_int_equal(p->frees, p->n);
	assert_int_equal(f->pt.tables, 0);
	assert_int_equal(f->pt.root, 0);
}

static void test_destroy_root_only(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	pt_destroy(&f->pt);
	assert_int_equal(f->pages.n, 1);
	expect_all_freed_once(f);
	fx_free(f);
}

/* Every level of table, 1 GiB / 2 MiB / 4 KiB leaves, split tables, a high PML4 slot. */
static void test_destroy_frees_every_page_once(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, ~0u);
	/* the hypervisor's map with a 4 KiB-aligned hole */
	assert_int_equal(pt_map(&f->pt, 0, 0, GiB + MiB2 + KiB4, NPT_FLAGS), 0);
	assert_int_equal(pt_map(&f->pt, GiB + 66 * MiB + KiB4, GiB + 66 * MiB + KiB4,
				15 * GiB - 66 * MiB - KiB4, NPT_FLAGS), 0);
	/* a second PML4 slot and the top one */
	assert_int_equal(pt_map(&f->pt, 512 * GiB, 0, 3 * GiB, NPT_FLAGS), 0);
	assert_int_equal(pt_map(&f->pt, 0xffffffff80000000ull, 0x1234000, 16 * KiB4, 0), 0);
	/* splits by pt_protect */
	assert_int_equal(protect_ro(&f->pt, 5 * GiB + 3 * KiB4, KiB4), 0);
	assert_int_equal(protect_ro(&f->pt, 8 * GiB - MiB2, 4 * MiB), 0);
	assert_int_equal(protect_ro(&f->pt, 512 * GiB + MiB2 + KiB4, KiB4), 0);
	/* (not 1:1 above 512 GiB: only the table count and table entries are checked) */
	struct census s = take_census(&f->pt);
	assert_int_equal(s.tables, f->pt.tables);
	assert_int_equal(s.bad_table_flags, 0);
	unsigned n = f->pages.n;
	assert_int_equal(f->pt.tables, n);
	assert_true(n > 10);
	pt_destroy(&f->pt);
	assert_int_equal(f->pages.n, n);   /* destroy allocates nothing */
	expect_all_freed_once(f);
	fx_free(f);
}

/* The tables left behind by a failed map and a failed protect are freed too. */
static void test_destroy_after_enomem(void **state)
{
	(void)state;
	struct fixture *f = fx_init(3, 5);
	assert_int_equal(pt_map(&f->pt, 0, 0, 2 * GiB, NPT_FLAGS), 0);
	assert_int_equal(protect_ro(&f->pt, GiB + KiB4, KiB4), 0);      /* PD + PT */
	assert_int_equal(protect_ro(&f->pt, KiB4, KiB4), BVMM_ENOMEM);  /* PD yes, PT no */
	assert_int_equal(pt_map(&f->pt, 7 * GiB + KiB4, 0, KiB4, NPT_FLAGS), BVMM_ENOMEM);
	assert_int_equal(f->pt.tables, 5);
	pt_destroy(&f->pt);
	expect_all_freed_once(f);
	fx_free(f);
}

/* A 4 KiB-only map: a table per level, many PTs. */
static void test_destroy_4k_map(void **state)
{
	(void)state;
	struct fixture *f = fx_init(1, ~0u);
	assert_int_equal(pt_map(&f->pt, GiB - 4 * MiB, GiB - 4 * MiB, 8 * MiB, NPT_FLAGS), 0);
	assert_int_equal(f->pt.tables, 1 + 1 + 2 + 4);
	pt_destroy(&f->pt);
	expect_all_freed_once(f);
	fx_free(f);
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
		T(test_protect_4k_in_2m_splits),
		T(test_protect_whole_2m_leaf_no_split),
		T(test_protect_split_moves_pat_bit),
		T(test_protect_across_1g_leaves_partial),
		T(test_protect_over_whole_1g_leaf),
		T(test_protect_4k_leaves),
		T(test_protect_enoent_unmapped_page),
		T(test_protect_enomem_no_change),
		T(test_protect_enomem_second_split),
		T(test_protect_einval_unaligned),
		T(test_destroy_root_only),
		T(test_destroy_frees_every_page_once),
		T(test_destroy_after_enomem),
		T(test_destroy_4k_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
