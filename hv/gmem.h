/* Guest memory access: translate a guest virtual address through the guest's own page
 * tables (32-bit, PAE, 4-level or 5-level long-mode paging) and copy in or out page by page. A page
 * not present, or backed by memory the guest may not reach, gives BVMM_EFAULT. */
#ifndef HV_GMEM_H
#define HV_GMEM_H

#include <stddef.h>
#include <stdint.h>

#define GVIEW_TLB 4
#define GWALK_CACHE 4
#define GMEM_NO_HPA 1ull   /* no page address: ask gpa_to_hpa for the bytes at hand */

/* Walks kept across hypercalls (issue 10), per CPU, for the control guest only: the path a
 * walk took (each entry's host address and value) and its result. The caller may have
 * changed its tables since (no exit tells), so an entry is used only after every entry on
 * its path is read again and found unchanged but for the accessed and dirty bits, which do
 * not take part in translation: the walk would then read the same entries and end at the
 * same page. That costs a load and a compare per level instead of a walk with its checks. */
struct gwalk {
	uint64_t cr3, mode, page;          /* page: VA's page | 1 if writable */
	uint64_t pte_hpa[5], pte[5];
	uint64_t gpa;                      /* the page's GPA */
	uint64_t hpa;                      /* its host address if gpa_to_hpa allows the whole
					    * page, else GMEM_NO_HPA */
	uint8_t levels, wide;              /* levels 0: an empty entry */
};
struct gwalk_cache {
	struct gwalk e[GWALK_CACHE];
	unsigned next;
	unsigned hit;                      /* the entry that answered last */
};

struct gview {
	uint64_t cr0, cr3, cr4, efer;
	/* Translations already walked during this one hypercall (the caller cannot run, so
	 * they stay true until it returns): page VA | 1 if writable, and the page's GPA; the
	 * first tlb_n entries are valid. A gview lives for one hypercall: set tlb_n = 0 and
	 * psc_size = 0. */
	uint64_t tlb_va[GVIEW_TLB], tlb_gpa[GVIEW_TLB];
	uint64_t tlb_hpa[GVIEW_TLB];   /* as struct gwalk's hpa (views with kept walks only) */
	unsigned tlb_n;
	/* The last long-mode walk's leaf table, for this hypercall (a paging-structure cache:
	 * the caller cannot run, so the entries above it stay true until it returns): VAs
	 * [psc_lo, psc_lo + psc_size) find their leaf entry in the table at psc_table, entries
	 * of level psc_level; psc_upper_w: the entries above allow writes. psc_size 0: none.
	 * Reset with tlb_n. */
	uint64_t psc_lo, psc_size, psc_table;
	uint8_t psc_level, psc_upper_w;
	/* GPA -> host physical for [gpa, gpa+len) within one page; 0 or BVMM_EFAULT. */
	int (*gpa_to_hpa)(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa);
	void *ctx;
	/* Walks kept across hypercalls (NULL: none), for an address space whose GPA-to-HPA
	 * mapping and gpa_to_hpa's answers never change (the control guest's): a kept walk
	 * keeps its page's host address too. */
	struct gwalk_cache *wc;
};

/* A view for one hypercall or one exit: only what a lookup reads is set (no initialiser: the
 * TLB arrays, some 190 bytes, need no zeroing, tlb_n says how many are valid). */
static inline void gview_init(struct gview *g, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
			      int (*gpa_to_hpa)(struct gview *, uint64_t, uint64_t, uint64_t *),
			      void *ctx, struct gwalk_cache *wc)
{
	g->cr0 = cr0;
	g->cr3 = cr3;
	g->cr4 = cr4;
	g->efer = efer;
	g->gpa_to_hpa = gpa_to_hpa;
	g->ctx = ctx;
	g->wc = wc;
	g->tlb_n = 0;
	g->psc_size = 0;
}

int gmem_translate(struct gview *g, uint64_t va, int write, uint64_t *gpa);
/* The same, and in *rest how many bytes from va on the same translation covers (to the end of
 * its leaf: a 2 MiB or 1 GiB page gives more than the rest of a 4 KiB page). */
int gmem_translate_span(struct gview *g, uint64_t va, int write, uint64_t *gpa, uint64_t *rest);
int gmem_copy_in(struct gview *g, void *dst, uint64_t va, size_t n);
/* Would gmem_copy_out() of n bytes at va succeed? 0 or BVMM_EFAULT; writes nothing. */
int gmem_check_out(struct gview *g, uint64_t va, size_t n);
/* A host pointer to [va, va+n) if it lies in one page the guest maps (writable if write);
 * NULL otherwise (use the copy functions then). Valid for this hypercall only. */
void *gmem_direct(struct gview *g, uint64_t va, size_t n, int write);
int gmem_copy_out(struct gview *g, uint64_t va, const void *src, size_t n);
/* The instruction bytes at linear address lin: as many as are readable, up to 15 (an
 * instruction may end on the page before an unmapped one). Returns how many. */
unsigned gmem_fetch_insn(struct gview *g, uint64_t lin, uint8_t insn[15]);
/* The same at CS:RIP: RIP itself in 64-bit code (cs_l: long mode and CS.L), else CS.base +
 * RIP within the 4 GiB linear space. */
static inline unsigned gmem_fetch_at(struct gview *g, int cs_l, uint64_t cs_base, uint64_t rip,
				     uint8_t insn[15])
{
	return gmem_fetch_insn(g, cs_l ? rip : (cs_base + rip) & 0xffffffffull, insn);
}

#endif
