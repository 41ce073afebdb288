/* 4-level x86_64 page tables, the format shared by host paging and AMD nested paging:
 * map a range with the largest pages that fit, look an address up. Never allocates except
 * through the caller's allocator, so it runs in the loader, the hypervisor and unit tests. */
#ifndef ARCH_PT_H
#define ARCH_PT_H

#include <stdint.h>

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_PAT_4K    (1ull << 7)    /* in a 4 KiB leaf (where large leaves have PS) */
#define PTE_PAT_LARGE (1ull << 12)   /* in a 2 MiB / 1 GiB leaf */
#define PTE_ADDR 0x000ffffffffff000ull

#define PT_LEVELS 4

struct pt_ctx {
	uint64_t (*alloc)(void *arg);              /* PA of a zeroed page, 0 when out of memory */
	void *(*pa2va)(void *arg, uint64_t pa);    /* where the hypervisor sees a table page */
	void (*free)(void *arg, uint64_t pa);      /* give a table page back (pt_destroy) */
	void *arg;
	uint64_t root;         /* PA of the PML4 */
	uint64_t table_flags;  /* flags of non-leaf entries (NPT walks are user accesses: P|RW|US) */
	int max_leaf_level;    /* largest leaf: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB */
	uint64_t present;      /* bits any of which make an entry present: 0 = P (EPT: R|W|X,
				* so that an execute-only page is still mapped) */
	unsigned tables;       /* table pages allocated, root included */
	uint64_t top;          /* above every address pt_map was asked for: pt_destroy looks
				* no further (a VM's tables cover only its first GiBs) */
};

static inline int pt_present(const struct pt_ctx *c, uint64_t e)
{
	return !!(e & (c->present ? c->present : PTE_P));
}

/* Span of one entry at a level (1 = PT .. 4 = PML4). */
static inline uint64_t pt_span(int level) { return 1ull << (12 + 9 * (level - 1)); }

/* Allocate the root table. Returns 0 or BVMM_ENOMEM. */
int pt_init(struct pt_ctx *c);

/* Map [va, va+size) to [pa, pa+size) with leaf flags (P added). All page-aligned. Fails with
 * BVMM_EEXIST if any part is already mapped, BVMM_ENOMEM if a table cannot be allocated;
 * BVMM_EINVAL for unaligned arguments. */
int pt_map(struct pt_ctx *c, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags);

/* Translate va. Returns 0 and fills pa, the leaf's page size and its flags, or BVMM_ENOENT. */
int pt_lookup(const struct pt_ctx *c, uint64_t va, uint64_t *pa, uint64_t *page_size,
	      uint64_t *flags);

/* Change the leaf flags of every page in [va, va+size): clear, then set. Large pages that
 * the range covers only in part are split first (so BVMM_ENOMEM may leave finer pages behind
 * but never changes a permission). BVMM_ENOENT if any page in the range is not mapped. */
int pt_protect(struct pt_ctx *c, uint64_t va, uint64_t size, uint64_t clear, uint64_t set);

/* Free every table page, the root included. */
void pt_destroy(struct pt_ctx *c);

#endif
