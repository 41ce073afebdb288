/* 4-level page-table builder (see pt.h). Pure logic over caller-provided table pages. */
#include "pt.h"
#include "../../abi/bvmm.h"

static uint64_t *table(const struct pt_ctx *c, uint64_t pa)
{
	return c->pa2va(c->arg, pa & PTE_ADDR);
}

int pt_init(struct pt_ctx *c)
{
	c->root = c->alloc(c->arg);
	if (!c->root)
		return BVMM_ENOMEM;
	c->tables = 1;
	return 0;
}

static unsigned index_at(uint64_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

static int map_level(struct pt_ctx *c, uint64_t tpa, int level, uint64_t va, uint64_t pa,
		     uint64_t size, uint64_t flags)
{
	uint64_t *t = table(c, tpa);
	uint64_t span = pt_span(level);

	while (size) {
		uint64_t *e = &t[index_at(va, level)];
		uint64_t chunk = span - (va & (span - 1));
		if (chunk > size)
			chunk = size;
		if (level == 1) {
			if (pt_present(c, *e))
				return BVMM_EEXIST;
			*e = pa | flags | PTE_P;
		} else if (level <= c->max_leaf_level && chunk == span && !(pa & (span - 1))) {
			if (pt_present(c, *e))
				return BVMM_EEXIST;
			*e = pa | flags | PTE_P | PTE_PS;
		} else {
			if (!pt_present(c, *e)) {
				uint64_t n = c->alloc(c->arg);
				if (!n)
					return BVMM_ENOMEM;
				c->tables++;
				*e = n | c->table_flags | PTE_P;
			} else if (*e & PTE_PS) {
				return BVMM_EEXIST;
			}
			int r = map_level(c, *e, level - 1, va, pa, chunk, flags);
			if (r)
				return r;
		}
		va += chunk;
		pa += chunk;
		size -= chunk;
	}
	return 0;
}

int pt_map(struct pt_ctx *c, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
	if ((va | pa | size) & 0xfff)
		return BVMM_EINVAL;
	if (va + size > c->top || va + size < va)   /* before mapping: a failure part-way */
		c->top = va + size < va ? ~0ull : va + size;   /* may leave tables */
	return map_level(c, c->root, PT_LEVELS, va, pa, size, flags);
}

int pt_lookup(const struct pt_ctx *c, uint64_t va, uint64_t *pa, uint64_t *page_size,
	      uint64_t *flags)
{
	uint64_t tpa = c->root;
	for (int level = PT_LEVELS; level >= 1; level--) {
		uint64_t e = table(c, tpa)[index_at(va, level)];
		if (!pt_present(c, e))
			return BVMM_ENOENT;
		if (level == 1 || (e & PTE_PS)) {
			uint64_t span = pt_span(level);
			*pa = (e & PTE_ADDR & ~(span - 1)) | (va & (span - 1));
			*page_size = span;
			/* PS marks a large leaf; in a 4 KiB leaf bit 7 is PAT and stays. */
			*flags = e & ~(PTE_ADDR & ~(span - 1)) & ~(level > 1 ? PTE_PS : 0);
			return 0;
		}
		tpa = e;
	}
	return BVMM_ENOENT;
}

/* Replace a large leaf at `level` by a table of 512 next-level leaves with the same flags. */
static int split(struct pt_ctx *c, uint64_t *e, int level)
{
	uint64_t n = c->alloc(c->arg);
	if (!n)
		return BVMM_ENOMEM;
	c->tables++;
	uint64_t *t = table(c, n);
	uint64_t span = pt_span(level), sub = pt_span(level - 1);
	uint64_t base = *e & PTE_ADDR & ~(span - 1);
	uint64_t flags = *e & ~PTE_ADDR & ~PTE_PS;
	/* The PAT bit is bit 12 in a large leaf, bit 7 in a 4 KiB one (SDM vol. 3 4.5). */
	if (*e & PTE_PAT_LARGE)
		flags |= level - 1 == 1 ? PTE_PAT_4K : PTE_PAT_LARGE;
	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * sub) | flags | (level - 1 > 1 ? PTE_PS : 0);
	*e = n | c->table_flags | PTE_P;
	return 0;
}

/* One pass over [va, va+size): split partly covered large pages (apply = 0), or change the
 * leaf flags (apply = 1, after a splitting pass: every leaf is then covered whole). */
static int protect_level(struct pt_ctx *c, uint64_t tpa, int level, uint64_t va, uint64_t size,
			 uint64_t clear, uint64_t set, int apply)
{
	uint64_t *t = table(c, tpa);
	uint64_t span = pt_span(level);
	while (size) {
		uint64_t *e = &t[index_at(va, level)];
		uint64_t chunk = span - (va & (span - 1));
		if (chunk > size)
			chunk = size;
		if (!pt_present(c, *e))
			return BVMM_ENOENT;
		int leaf = level == 1 || (*e & PTE_PS);
		if (leaf && chunk < span && !apply) {
			int r = split(c, e, level);
			if (r)
				return r;
			leaf = 0;
		}
		if (leaf) {
			if (apply)
				*e = (*e & ~clear) | set;
		} else {
			int r = protect_level(c, *e, level - 1, va, chunk, clear, set, apply);
			if (r)
				return r;
		}
		va += chunk;
		size -= chunk;
	}
	return 0;
}

int pt_protect(struct pt_ctx *c, uint64_t va, uint64_t size, uint64_t clear, uint64_t set)
{
	if ((va | size) & 0xfff)
		return BVMM_EINVAL;
	int r = protect_level(c, c->root, PT_LEVELS, va, size, clear, set, 0);
	return r ? r : protect_level(c, c->root, PT_LEVELS, va, size, clear, set, 1);
}

/* The table at tpa maps from base on; nothing at or above c->top was ever mapped, so the
 * entries from there on are empty (a VM's 512-entry root and upper tables are not scanned
 * whole on every TERM). */
static void destroy_level(struct pt_ctx *c, uint64_t tpa, int level, uint64_t base)
{
	uint64_t *t = table(c, tpa), span = pt_span(level);
	for (unsigned i = 0; level > 1 && i < 512 && base + i * span < c->top; i++)
		if (pt_present(c, t[i]) && !(t[i] & PTE_PS))
			destroy_level(c, t[i] & PTE_ADDR, level - 1, base + i * span);
	c->free(c->arg, tpa & PTE_ADDR);
	c->tables--;
}

void pt_destroy(struct pt_ctx *c)
{
	if (c->root)
		destroy_level(c, c->root, PT_LEVELS, 0);
	c->root = 0;
}
