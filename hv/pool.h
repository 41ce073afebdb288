/* The pool: the one contiguous reserved range the hypervisor uses for everything after
 * launch. A page allocator over a bitmap, with a free count that HVINFO reports. Pool pages
 * are identity-mapped in host mode, so a page's physical address is also its pointer. */
#ifndef HV_POOL_H
#define HV_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Take over [base, base+size); the first `used` bytes are already taken (by the loader). */
void pool_init(uint64_t base, uint64_t size, uint64_t used);

/* n contiguous zeroed pages; 0 when the pool cannot hold them. */
uint64_t pool_alloc(size_t npages);
void pool_free(uint64_t pa, size_t npages);

uint64_t pool_size(void);
uint64_t pool_free_bytes(void);

/* Does [pa, pa+len) touch the pool? Inline: every guest page-table read asks. */
extern uint64_t pool_lo, pool_hi;
static inline int pool_overlaps(uint64_t pa, uint64_t len)
{
	return pa < pool_hi && pa + len > pool_lo;
}

#endif
