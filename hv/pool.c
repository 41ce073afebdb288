/* Pool page allocator (see pool.h): first fit over a bitmap kept at the pool's start. */
#include "pool.h"
#include "panic.h"
#include "mem.h"

static struct {
	uint64_t base, size, npages, nfree;
	uint64_t *bitmap;       /* bit set = page in use */
	uint64_t hint;          /* no free page below this index */
} P;

static int used(uint64_t i) { return (P.bitmap[i / 64] >> (i % 64)) & 1; }
static void mark(uint64_t i, int v)
{
	if (v)
		P.bitmap[i / 64] |= 1ull << (i % 64);
	else
		P.bitmap[i / 64] &= ~(1ull << (i % 64));
}

void pool_init(uint64_t base, uint64_t size, uint64_t used_bytes)
{
	P.base = base;
	P.size = size;
	pool_lo = base;
	pool_hi = base + size;
	P.npages = size / 4096;
	uint64_t map_bytes = (P.npages + 63) / 64 * 8;
	uint64_t first = (used_bytes + 4095) / 4096;
	P.bitmap = (uint64_t *)(uintptr_t)(base + first * 4096);
	first += (map_bytes + 4095) / 4096;
	memset(P.bitmap, 0, map_bytes);
	for (uint64_t i = 0; i < first; i++)
		mark(i, 1);
	P.nfree = P.npages - first;
	P.hint = first;
}

uint64_t pool_alloc(size_t n)
{
	uint64_t run = 0;
	for (uint64_t i = P.hint; i < P.npages; i++) {
		run = used(i) ? 0 : run + 1;
		if (run == n) {
			uint64_t first = i + 1 - n;
			for (uint64_t j = first; j <= i; j++)
				mark(j, 1);
			P.nfree -= n;
			if (first == P.hint)
				P.hint = i + 1;
			uint64_t pa = P.base + first * 4096;
			memset((void *)(uintptr_t)pa, 0, n * 4096);
			return pa;
		}
	}
	return 0;
}

void pool_free(uint64_t pa, size_t n)
{
	uint64_t first = (pa - P.base) / 4096;
	if (pa < P.base || (pa & 4095) || first + n > P.npages)
		panic("pool_free of %lx (+%lu pages) outside the pool", pa, (uint64_t)n);
	for (uint64_t i = first; i < first + n; i++) {
		if (!used(i))
			panic("pool_free of free page %lx", P.base + i * 4096);
		mark(i, 0);
	}
	P.nfree += n;
	if (first < P.hint)
		P.hint = first;
}

uint64_t pool_size(void) { return P.size; }
uint64_t pool_free_bytes(void) { return P.nfree * 4096; }

uint64_t pool_lo, pool_hi;
