/* A byte reader for the libFuzzer harnesses: structured values drawn from the fuzzer's input,
 * zeros once it runs out (so every input is a valid, if short, program). Host only. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fin { const uint8_t *p; size_t n; };

static inline uint64_t fin_take(struct fin *f, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && f->n; i++, f->p++, f->n--)
		v |= (uint64_t)*f->p << (8 * i);
	return v;
}
static inline uint8_t fin_u8(struct fin *f) { return (uint8_t)fin_take(f, 1); }
static inline uint16_t fin_u16(struct fin *f) { return (uint16_t)fin_take(f, 2); }
static inline uint32_t fin_u32(struct fin *f) { return (uint32_t)fin_take(f, 4); }
static inline uint64_t fin_u64(struct fin *f) { return fin_take(f, 8); }

/* An oracle failed: say which and abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n", #cond, __FILE__,  \
				__LINE__);                                                  \
			abort();                                                            \
		}                                                                           \
	} while (0)

#endif
