/* libFuzzer harness for arch/x86_64/msr.c: msr_control_access() over the whole 32-bit MSR
 * space against a linear scan of an independent transcription of the allowlist, the rule
 * that every AMD address-decode MSR is read-only (SYSCFG C001_0010, IORRs and TOP_MEM
 * C001_0016-001A, TOP_MEM2 C001_001D, MMIO_CFG_BASE C001_0058, SMM_BASE/ADDR/MASK
 * C001_0111-0113), and msr_control_write_ok's filters: never MISC_ENABLE bit 34 (XD disable),
 * never DEBUGCTL bits 6-10 (TR/BTS), HWCR changes only in bits 18 and 30, nothing else. */
#include "fuzz_input.h"
#include "../../arch/x86_64/msr.h"

#define D MSR_DENY
#define P MSR_PASS
#define R MSR_READ
#define C MSR_CHECK
#define E MSR_EMUL

/* The allowlist as the comments of msr.c describe it (first, last, access), unordered on
 * purpose: the scan below does not rely on order. */
static const struct { uint32_t first, last; enum msr_access a; } model[] = {
	{ 0xc0011029, 0xc0011029, P }, { 0xc0011020, 0xc0011020, P },
	{ 0x0, 0x1, R }, { 0x10, 0x10, R }, { 0x1b, 0x1b, E }, { 0x2a, 0x2a, R }, { 0x35, 0x35, R },
	{ 0x3a, 0x3a, E }, { 0x3b, 0x3b, R }, { 0x48, 0x49, P }, { 0x8b, 0x8b, P }, { 0xc1, 0xc8, P }, { 0xce, 0xce, R },
	{ 0xe7, 0xe8, R }, { 0xfe, 0xfe, R }, { 0x10a, 0x10a, R }, { 0x10b, 0x10b, P },
	{ 0x174, 0x176, P }, { 0x179, 0x17b, P }, { 0x186, 0x18d, P }, { 0x198, 0x199, P },
	{ 0x19b, 0x19c, P }, { 0x1a0, 0x1a0, C }, { 0x1a2, 0x1a2, R }, { 0x1b0, 0x1b2, P },
	{ 0x1d9, 0x1d9, C }, { 0x1db, 0x1de, R }, { 0x200, 0x20f, P }, { 0x250, 0x250, P },
	{ 0x258, 0x259, P }, { 0x268, 0x26f, P }, { 0x277, 0x277, P }, { 0x280, 0x29f, P },
	{ 0x2ff, 0x2ff, P }, { 0x309, 0x30b, P }, { 0x345, 0x345, R }, { 0x38d, 0x390, P },
	{ 0x400, 0x47f, P }, { 0x6e0, 0x6e0, P }, { 0x800, 0x82f, P }, { 0x830, 0x830, E }, { 0x831, 0x8ff, P },
	{ 0xda0, 0xda0, P },
	{ 0xc0000080, 0xc0000080, E }, { 0xc0000081, 0xc0000084, P }, { 0xc0000100, 0xc0000103, P },
	{ 0xc0010000, 0xc0010007, P }, { 0xc0010010, 0xc0010010, R }, { 0xc0010015, 0xc0010015, C },
	{ 0xc0010016, 0xc001001a, R }, { 0xc001001d, 0xc001001d, R }, { 0xc001001f, 0xc001001f, R },
	{ 0xc0010055, 0xc0010055, R }, { 0xc0010058, 0xc0010058, R }, { 0xc0010061, 0xc0010061, R },
	{ 0xc0010062, 0xc0010062, P }, { 0xc0010063, 0xc001006b, R }, { 0xc00100e7, 0xc00100e8, R },
	{ 0xc0010111, 0xc0010113, R }, { 0xc0010114, 0xc0010114, E }, { 0xc0010117, 0xc0010117, E },
	{ 0xc0010131, 0xc0010131, E },
	{ 0xc0010140, 0xc0010141, R }, { 0xc0010200, 0xc001020b, P },
};
#define NMODEL (sizeof model / sizeof model[0])

static enum msr_access linear(uint32_t msr)
{
	enum msr_access a = D;
	int hits = 0;
	for (unsigned i = 0; i < NMODEL; i++)
		if (msr >= model[i].first && msr <= model[i].last) {
			a = model[i].a;
			hits++;
		}
	FUZZ_CHECK(hits <= 1);   /* the model itself never overlaps */
	return a;
}

/* AMD address decoders and SMM ranges: what the control guest may read, never write. */
static int decoder(uint32_t msr)
{
	return msr == 0xc0010010 || (msr >= 0xc0010016 && msr <= 0xc001001a) ||
	       msr == 0xc001001d || msr == 0xc0010058 || (msr >= 0xc0010111 && msr <= 0xc0010113);
}

/* An MSR number: anywhere, or within a few of a table edge or a decoder. */
static uint32_t pick_msr(struct fin *f)
{
	uint8_t k = fin_u8(f);
	if (k & 1)
		return fin_u32(f);
	const uint32_t *edge = k & 2 ? &model[fin_u8(f) % NMODEL].first : &model[fin_u8(f) % NMODEL].last;
	return *edge + (uint32_t)(int8_t)fin_u8(f) % 5;
}

static void check_write(uint32_t msr, uint64_t old, uint64_t val)
{
	int ok = msr_control_write_ok(msr, old, val);
	FUZZ_CHECK(ok == 0 || ok == 1);
	if (!ok)
		return;
	FUZZ_CHECK(msr == 0x1a0 || msr == 0x1d9 || msr == 0xc0010015);   /* only filtered ones */
	FUZZ_CHECK(linear(msr) == C);
	if (msr == 0x1a0)
		FUZZ_CHECK(!(val & (1ull << 34)));
	if (msr == 0x1d9)
		FUZZ_CHECK(!(val & (0x1full << 6)));
	if (msr == 0xc0010015)
		FUZZ_CHECK(!((old ^ val) & ~((1ull << 18) | (1ull << 30))));
}

/* Once: every MSR in the populated windows and around the top of the space. */
static void sweep(void)
{
	static const uint32_t from[] = { 0, 0xc0000000, 0xc0010000, 0xc0011000, 0xfffff000 };
	for (unsigned i = 0; i < sizeof from / sizeof from[0]; i++)
		for (uint32_t m = from[i]; m - from[i] < 0x1000; m++)
			FUZZ_CHECK(msr_control_access(m) == linear(m));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int swept;
	struct fin f = { data, size };
	if (!swept++)
		sweep();
	for (unsigned n = 0; n < 8 && f.n; n++) {
		uint32_t msr = pick_msr(&f);
		enum msr_access a = msr_control_access(msr);
		FUZZ_CHECK(a == linear(msr));
		if (decoder(msr))
			FUZZ_CHECK(a == MSR_READ);
		static const uint32_t filtered[] = { 0x1a0, 0x1d9, 0xc0010015 };
		uint8_t k = fin_u8(&f);
		uint32_t wm = k & 1 ? msr : filtered[(k >> 1) % 3];
		uint64_t old = fin_u64(&f), val = k & 0x10 ? old ^ (1ull << (fin_u8(&f) % 64)) : fin_u64(&f);
		check_write(wm, old, val);
	}
	return 0;
}
