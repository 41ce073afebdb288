/* Guest page-table walker and copy-in/out (see gmem.h). Host physical addresses are
 * identity-mapped in host mode, so an HPA is also a pointer. */
#include "gmem.h"
#include "../abi/bvmm.h"
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/pt.h"
#include "mem.h"

#define CR0_WP    (1ull << 16)
#define CR4_LA57  (1ull << 12)
#define CR4_PSE   (1ull << 4)

static int read_pte(struct gview *g, uint64_t gpa, unsigned size, uint64_t *pte, uint64_t *hpa)
{
	int r = g->gpa_to_hpa(g, gpa, size, hpa);
	if (!r)
		*pte = size == 8 ? *(volatile uint64_t *)(uintptr_t)*hpa : *(volatile uint32_t *)(uintptr_t)*hpa;
	return r;
}

static int tlb_lookup(struct gview *g, uint64_t va, int write, uint64_t *gpa, uint64_t *hpa)
{
	uint64_t page = va & PAGE_MASK;
	unsigned n = g->tlb_n < GVIEW_TLB ? g->tlb_n : GVIEW_TLB;
	for (unsigned i = 0; i < n; i++)
		if ((g->tlb_va[i] & PAGE_MASK) == page && (!write || (g->tlb_va[i] & 1))) {
			*gpa = g->tlb_gpa[i] | (va & ~PAGE_MASK);
			*hpa = g->tlb_hpa[i];
			return 1;
		}
	return 0;
}

static void tlb_fill(struct gview *g, uint64_t va, int writable, uint64_t gpa, uint64_t hpa)
{
	unsigned i = g->tlb_n++ % GVIEW_TLB;
	g->tlb_va[i] = (va & PAGE_MASK) | (uint64_t)!!writable;
	g->tlb_gpa[i] = gpa & PAGE_MASK;
	g->tlb_hpa[i] = hpa;
}

static int walk(struct gview *g, uint64_t va, int write, uint64_t *gpa, int *writable,
		struct gwalk *path, uint64_t *rest);
static int xlate_paged(struct gview *g, uint64_t va, int write, uint64_t *gpa, uint64_t *hpa,
		       uint64_t *rest, int want_hpa);

/* va's GPA, and in *hpa its page's host address if known (GMEM_NO_HPA if not; a new walk
 * asks gpa_to_hpa about the whole page only if want_hpa). Paging off, inline: the address is
 * the GPA, there is nothing to walk or keep. */
static inline __attribute__((always_inline)) int xlate(struct gview *g, uint64_t va, int write,
						       uint64_t *gpa, uint64_t *hpa, uint64_t *rest,
						       int want_hpa)
{
	if (!(g->cr0 & CR0_PG)) {
		*rest = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		*gpa = va;
		*hpa = GMEM_NO_HPA;
		return 0;
	}
	return xlate_paged(g, va, write, gpa, hpa, rest, want_hpa);
}

/* The paging controls a walk depends on: CR0.PG, CR0.WP, CR4.PSE, CR4.PAE, CR4.LA57 and
 * EFER.LMA (distinct bit positions). */
static uint64_t walk_mode(const struct gview *g)
{
	return (g->cr0 & (CR0_PG | CR0_WP)) | (g->cr4 & (CR4_PSE | CR4_PAE | CR4_LA57)) |
	       (g->efer & EFER_LMA);
}

#define PTE_AD (PTE_A | PTE_D)

/* Keep a long-mode walk's leaf table for the rest of the hypercall (psc_lookup). */
static void psc_fill(struct gview *g, uint64_t va, const struct gwalk *path)
{
	if (!(g->efer & EFER_LMA) || !path->wide)
		return;
	unsigned top = (g->cr4 & CR4_LA57) ? 5 : 4, leaf = top - (path->levels - 1u);
	uint64_t upper_w = 1;
	for (unsigned l = 0; l + 1 < path->levels; l++)
		upper_w &= !!(path->pte[l] & PTE_RW);
	unsigned shift = 12 + 9 * (leaf - 1);
	g->psc_size = 1ull << (shift + 9);
	g->psc_lo = va & ~(g->psc_size - 1);
	/* The table's start: the entry's address less its index (no alignment of the host
	 * addresses gpa_to_hpa gives is assumed). */
	g->psc_table = path->pte_hpa[path->levels - 1] - ((va >> shift) & 511) * 8;
	g->psc_level = (uint8_t)leaf;
	g->psc_upper_w = (uint8_t)upper_w;
}

/* Whether every entry on w's path still reads as it did, but for the accessed and dirty
 * bits. */
static int wc_still_true(const struct gwalk *w)
{
	if (w->wide) {   /* every level read, the differences gathered: no branch per level */
#define WC_DIFF(l) (*(volatile uint64_t *)(uintptr_t)w->pte_hpa[l] ^ w->pte[l])
		uint64_t d = 0;
		switch (w->levels) {
		case 5: d |= WC_DIFF(4); /* fall through */
		case 4: d |= WC_DIFF(3); /* fall through */
		case 3: d |= WC_DIFF(2); /* fall through */
		case 2: d |= WC_DIFF(1); /* fall through */
		case 1: d |= WC_DIFF(0); break;
		default: return 0;
		}
#undef WC_DIFF
		return !(d & ~(uint64_t)PTE_AD);
	} else {
		for (unsigned l = 0; l < w->levels; l++)
			if ((*(volatile uint32_t *)(uintptr_t)w->pte_hpa[l] ^ w->pte[l]) & ~(uint64_t)PTE_AD)
				return 0;
	}
	return 1;
}

/* A kept walk of va's page, still true: 1, *gpa, *writable and *hpa; else 0 (a changed
 * entry drops it). The entry that answered last is asked first. need_hpa: only one that
 * knows its page's host address (gmem_direct's fast path). */
static inline __attribute__((always_inline))
int wc_lookup(struct gview *g, uint64_t va, int write, uint64_t *gpa, int *writable,
	      uint64_t *hpa, int need_hpa)
{
	uint64_t page = va & PAGE_MASK, mode = walk_mode(g);
	struct gwalk_cache *wc = g->wc;
	for (unsigned k = 0; k < GWALK_CACHE; k++) {
		unsigned i = (wc->hit + k) % GWALK_CACHE;
		struct gwalk *w = &wc->e[i];
		if ((w->page & PAGE_MASK) != page || !w->levels || w->cr3 != g->cr3 || w->mode != mode ||
		    (write && !(w->page & 1)) || (need_hpa && w->hpa == GMEM_NO_HPA))
			continue;
		if (!wc_still_true(w)) {
			w->levels = 0;   /* stale: dropped; another entry may still hold the page */
			continue;
		}
		wc->hit = i;
		*gpa = w->gpa | (va & ~PAGE_MASK);
		*writable = (int)(w->page & 1);
		*hpa = w->hpa;
		return 1;
	}
	return 0;
}

/* va's entry in the long-mode table at host address `table`, whose entries are of `level`
 * (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) and above which every entry allows writes if upper_w: 1 with
 * *gpa, *writable, *rest and the entry in *e, as a walk would end there; 0 when the entry alone
 * does not settle it (not present, a table below, a write it refuses): the walk then says
 * what it is. */
static inline __attribute__((always_inline))
int table_leaf(const struct gview *g, uint64_t table, unsigned level, int upper_w,
		      uint64_t va, int write, uint64_t *gpa, int *writable, uint64_t *rest,
		      uint64_t *e)
{
	unsigned shift = 12 + 9 * (level - 1);
	uint64_t span = 1ull << shift;
	*e = ((volatile uint64_t *)(uintptr_t)table)[(va >> shift) & 511];
	if (!(*e & PTE_P) || (level > 1 && !(*e & PTE_PS)))
		return 0;
	*writable = !(g->cr0 & CR0_WP) || (upper_w && (*e & PTE_RW));
	if (write && !*writable)
		return 0;
	*gpa = (*e & PTE_ADDR & ~(span - 1)) | (va & (span - 1));
	*rest = span - (va & (span - 1));
	return 1;
}

/* A kept long-mode walk whose leaf sits in the same table as va's would (every index above
 * the leaf's level the same), with its path above the leaf still true: va's leaf entry is then
 * read from that table directly, which is what a walk would read (the table's page passed
 * gpa_to_hpa when it was kept; the same page, the same answer). CREATE's walk over a VM's
 * backing reads one entry per 2 MiB this way instead of four. 1 and *path filled (to be
 * kept), or 0: walk. */
static int wc_sibling(struct gview *g, uint64_t va, int write, uint64_t *gpa, int *writable,
		      uint64_t *rest, struct gwalk *path)
{
	uint64_t mode = walk_mode(g);
	if (!(mode & EFER_LMA))
		return 0;
	unsigned top = (g->cr4 & CR4_LA57) ? 5 : 4;
	for (unsigned i = 0; i < GWALK_CACHE; i++) {
		const struct gwalk *w = &g->wc->e[i];
		if (!w->levels || w->cr3 != g->cr3 || w->mode != mode)
			continue;
		unsigned leaf = top - (w->levels - 1u);     /* the leaf's level: 1, 2 or 3 */
		unsigned shift = 12 + 9 * (leaf - 1);
		if ((va >> (shift + 9)) != (w->page >> (shift + 9)) || ((va ^ w->page) >> shift) == 0)
			continue;   /* another table, or the very entry (wc_lookup's business) */
		uint64_t upper_w = 1;
		for (unsigned l = 0; l + 1 < w->levels; l++) {
			uint64_t e = *(volatile uint64_t *)(uintptr_t)w->pte_hpa[l];
			if ((e ^ w->pte[l]) & ~(uint64_t)PTE_AD)
				return 0;
			upper_w &= !!(e & PTE_RW);
		}
		uint64_t table = w->pte_hpa[w->levels - 1] - ((w->page >> shift) & 511) * 8, e;
		if (!table_leaf(g, table, leaf, (int)upper_w, va, write, gpa, writable, rest, &e))
			return 0;
		*path = *w;
		path->pte_hpa[w->levels - 1] = table + ((va >> shift) & 511) * 8;
		path->pte[w->levels - 1] = e;
		return 1;
	}
	return 0;
}

/* va's leaf entry read from the leaf table this hypercall walked last (g->psc_*). */
static int psc_lookup(struct gview *g, uint64_t va, int write, uint64_t *gpa, int *writable,
		      uint64_t *rest)
{
	uint64_t e;
	return table_leaf(g, g->psc_table, g->psc_level, g->psc_upper_w, va, write, gpa, writable,
			  rest, &e);
}

int gmem_translate(struct gview *g, uint64_t va, int write, uint64_t *gpa)
{
	uint64_t rest, hpa;
	return xlate(g, va, write, gpa, &hpa, &rest, 0);
}

int gmem_translate_span(struct gview *g, uint64_t va, int write, uint64_t *gpa, uint64_t *rest)
{
	uint64_t hpa;
	int writable;
	if (va - g->psc_lo < g->psc_size && psc_lookup(g, va, write, gpa, &writable, rest))
		return 0;   /* before xlate's frame is set up: CREATE's path, once per leaf */
	return xlate(g, va, write, gpa, &hpa, rest, 0);
}

/* xlate with paging on. */
static int xlate_paged(struct gview *g, uint64_t va, int write, uint64_t *gpa, uint64_t *hpa,
		       uint64_t *rest, int want_hpa)
{
	int writable;
	struct gwalk path;
	*rest = PAGE_SIZE - (va & (PAGE_SIZE - 1));
	/* The TLB first (it keeps host addresses), then the leaf table; CREATE's walk over many
	 * pages asks the leaf table before calling here (gmem_translate_span). */
	if (tlb_lookup(g, va, write, gpa, hpa))
		return 0;
	if (va - g->psc_lo < g->psc_size && psc_lookup(g, va, write, gpa, &writable, rest)) {
		*hpa = GMEM_NO_HPA;
		tlb_fill(g, va, writable, *gpa, *hpa);
		return 0;
	}
	if (g->wc && wc_lookup(g, va, write, gpa, &writable, hpa, 0)) {
		tlb_fill(g, va, writable, *gpa, *hpa);
		return 0;
	}
	int r = g->wc && wc_sibling(g, va, write, gpa, &writable, rest, &path) ? 0 :
		walk(g, va, write, gpa, &writable, g->wc ? &path : NULL, rest);
	if (r)
		return r;
	if (g->wc && path.levels)
		psc_fill(g, va, &path);
	/* The page's host address, for the callers that map (not for CREATE's walks) */
	*hpa = GMEM_NO_HPA;
	if (g->wc && want_hpa && g->gpa_to_hpa(g, *gpa & PAGE_MASK, PAGE_SIZE, hpa))
		*hpa = GMEM_NO_HPA;
	tlb_fill(g, va, writable, *gpa, *hpa);
	if (g->wc && path.levels) {
		path.cr3 = g->cr3;
		path.mode = walk_mode(g);
		path.page = (va & PAGE_MASK) | (uint64_t)!!writable;
		path.gpa = *gpa & PAGE_MASK;
		path.hpa = *hpa;
		/* Replace a kept walk of the same page and space (e.g. a read-only one), else the
		 * oldest. */
		unsigned slot = g->wc->next % GWALK_CACHE;
		for (unsigned i = 0; i < GWALK_CACHE; i++) {
			const struct gwalk *w = &g->wc->e[i];
			if (w->levels && (w->page & PAGE_MASK) == (path.page & PAGE_MASK) &&
			    w->cr3 == path.cr3 && w->mode == path.mode)
				slot = i;
		}
		if (slot == g->wc->next % GWALK_CACHE)
			g->wc->next++;
		g->wc->e[slot] = path;
	}
	return 0;
}

/* The architectural walk; *writable says whether a write would be allowed. */
/* The architectural walk (SDM vol. 3 4.3-4.5, APM vol. 2 5.3): 32-bit paging (4 MiB pages
 * with CR4.PSE, PSE-36), PAE (a 4-entry PDPT, 2 MiB pages), 4-level and 5-level (CR4.LA57)
 * long mode (2 MiB and 1 GiB pages). *writable says whether a write would be allowed. */
static int walk(struct gview *g, uint64_t va, int write, uint64_t *gpa, int *writable,
		struct gwalk *path, uint64_t *rest)
{
	int levels, wide = 1;   /* wide: 8-byte entries, 9 index bits */
	uint64_t table;
	*writable = 1;
	if (path)
		path->levels = 0;   /* nothing kept until the walk succeeds */
	/* Paging is on: xlate answers for paging off without a walk. */
	if (g->efer & EFER_LMA) {
		levels = (g->cr4 & CR4_LA57) ? 5 : 4;
		unsigned unused = levels == 5 ? 7 : 16;   /* bits above the top level's index */
		if ((uint64_t)((int64_t)(va << unused) >> unused) != va)
			return BVMM_EFAULT;   /* non-canonical */
		table = g->cr3 & PTE_ADDR;
	} else if (g->cr4 & CR4_PAE) {
		levels = 3;
		table = g->cr3 & 0xffffffe0ull;
		va &= 0xffffffffull;
	} else {
		levels = 2;
		wide = 0;
		table = g->cr3 & 0xfffff000ull;
		va &= 0xffffffffull;
	}
	int check_w = write && (g->cr0 & CR0_WP);
	for (int level = levels; level >= 1; level--) {
		unsigned shift = wide ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
		int pdpte = levels == 3 && level == 3;   /* PAE PDPTEs have no R/W, U/S or PS */
		uint64_t idx = (va >> shift) & (pdpte ? 3 : wide ? 511 : 1023), e, hpa;
		if (read_pte(g, table + idx * (wide ? 8 : 4), wide ? 8 : 4, &e, &hpa) || !(e & PTE_P))
			return BVMM_EFAULT;
		if (path) {
			unsigned l = (unsigned)(levels - level);
			path->pte_hpa[l] = hpa;
			path->pte[l] = e;
			path->levels = (uint8_t)(l + 1);
			path->wide = (uint8_t)wide;
		}
		if (!pdpte) {
			if (check_w && !(e & PTE_RW))
				return BVMM_EFAULT;
			if ((g->cr0 & CR0_WP) && !(e & PTE_RW))
				*writable = 0;
		}
		if (level >= 4 && (e & PTE_PS))
			return BVMM_EFAULT;   /* PS in a PML4 or PML5 entry is reserved */
		int large = !pdpte && level > 1 && (e & PTE_PS) && (wide || (g->cr4 & CR4_PSE));
		if (level == 1 || large) {
			uint64_t span = 1ull << shift, base;
			if (wide)
				base = e & PTE_ADDR & ~(span - 1);
			else if (large)   /* 4 MiB page; PSE-36 puts bits 39:32 in 20:13 */
				base = (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32);
			else
				base = e & 0xfffff000ull;
			*gpa = base | (va & (span - 1));
			*rest = span - (va & (span - 1));
			return 0;
		}
		table = wide ? e & PTE_ADDR : e & 0xfffff000ull;
	}
	return BVMM_EFAULT;
}

/* Walk [va, va+n) page by page, calling fn (if any) on each host chunk. */
static int gmem_each(struct gview *g, uint64_t va, size_t n, int write,
		     void (*fn)(void *host, size_t off, size_t len, void *arg), void *arg)
{
	size_t done = 0;
	while (done < n) {
		uint64_t gpa, hpa, rest, cur = va + done;
		size_t len = PAGE_SIZE - (cur & (PAGE_SIZE - 1));
		if (len > n - done)
			len = n - done;
		int r = xlate(g, cur, write, &gpa, &hpa, &rest, 1);
		if (!r && hpa != GMEM_NO_HPA)
			hpa += cur & ~PAGE_MASK;   /* + : no alignment assumed */
		else if (!r)
			r = g->gpa_to_hpa(g, gpa, len, &hpa);
		if (r)
			return r;
		if (fn)
			fn((void *)(uintptr_t)hpa, done, len, arg);
		done += len;
	}
	return 0;
}

static void chunk_in(void *host, size_t off, size_t len, void *dst)
{
	memcpy((uint8_t *)dst + off, host, len);
}

static void chunk_out(void *host, size_t off, size_t len, void *src)
{
	memcpy(host, (const uint8_t *)src + off, len);
}

int gmem_copy_in(struct gview *g, void *dst, uint64_t va, size_t n)
{
	return gmem_each(g, va, n, 0, chunk_in, dst);
}

void *gmem_direct(struct gview *g, uint64_t va, size_t n, int write)
{
	uint64_t gpa, hpa, rest;
	if (!n || (va & (PAGE_SIZE - 1)) + n > PAGE_SIZE)
		return NULL;
	/* RUN's path, twice per call: a kept walk that knows its page's host address answers
	 * without xlate's frame, TLB and leaf-table lookups. */
	int writable;
	if (g->wc && wc_lookup(g, va, write, &gpa, &writable, &hpa, 1))
		return (void *)(uintptr_t)(hpa + (va & ~PAGE_MASK));
	if (xlate(g, va, write, &gpa, &hpa, &rest, 1))
		return NULL;
	if (hpa != GMEM_NO_HPA)
		return (void *)(uintptr_t)(hpa + (va & ~PAGE_MASK));
	if (g->gpa_to_hpa(g, gpa, n, &hpa))
		return NULL;
	return (void *)(uintptr_t)hpa;
}

int gmem_check_out(struct gview *g, uint64_t va, size_t n)
{
	return gmem_each(g, va, n, 1, NULL, NULL);
}

/* Translate every page first (fn = NULL), so a fault leaves the guest's memory unchanged. */
int gmem_copy_out(struct gview *g, uint64_t va, const void *src, size_t n)
{
	int r = gmem_each(g, va, n, 1, NULL, NULL);
	return r ? r : gmem_each(g, va, n, 1, chunk_out, (void *)src);
}

unsigned gmem_fetch_insn(struct gview *g, uint64_t lin, uint8_t insn[15])
{
	/* At most two pages, each one translation and one copy (no per-chunk callback). */
	unsigned first = 4096 - (unsigned)(lin & 0xfff), n = first < 15 ? first : 15;
	const void *p = gmem_direct(g, lin, n, 0);
	if (!p)
		return 0;
	if (n == 15)
		__builtin_memcpy(insn, p, 15);   /* the usual case: a few moves, inline */
	else
		memcpy(insn, p, n);
	if (n < 15 && (p = gmem_direct(g, lin + n, 15 - n, 0))) {
		memcpy(insn + n, p, 15 - n);
		n = 15;
	}
	return n;
}
