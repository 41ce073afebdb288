/* libFuzzer harness for arch/x86_64/cpu.h's guest-write rules (efer_write, cr0_write,
 * cr4_write): up to 16 EFER, CR0 and CR4 writes from a random state that holds bvmm's
 * invariants, each accepted result applied. After every accepted step: EFER.LME implies
 * CR4.PAE (the QEMU #VMEXIT runaway, cpu.h), EFER.LMA == LME && CR0.PG (APM vol. 2, 14.6),
 * CR0 never PG without PE nor NW without CD, CR4 within the allowed mask, EFER within
 * writable | LMA | SVME. */
#include "fuzz_input.h"
#include "../../arch/x86_64/cpu.h"

#define EFER_KNOWN (EFER_SCE | EFER_LME | EFER_NXE | EFER_LMSLE | EFER_FFXSR | EFER_TCE)

struct st { uint64_t efer, cr0, cr3, cr4, cr4_allowed, writable; int cs_l; };

static int lma_ok(const struct st *s)
{
	return !!(s->efer & EFER_LMA) == ((s->efer & EFER_LME) && (s->cr0 & CR0_PG));
}

static void check_state(const struct st *s)
{
	FUZZ_CHECK(!(s->efer & EFER_LME) || (s->cr4 & CR4_PAE));
	FUZZ_CHECK(!((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE)));
	FUZZ_CHECK(!((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD)));
	FUZZ_CHECK(!(s->cr0 >> 32));
	FUZZ_CHECK(!(s->cr4 & ~s->cr4_allowed));
	FUZZ_CHECK(!(s->efer & ~(s->writable | EFER_LMA | EFER_SVME)));
}

/* The writable EFER mask the host computes from CPUID: some of SCE, LME, NXE, FFXSR, TCE
 * (LMSLE where a CPU has it), or more bits -- never LMA or SVME, which are the CPU's. */
static uint64_t writable_mask(struct fin *f)
{
	uint8_t k = fin_u8(f);
	uint64_t w = k & 0x80 ? fin_u64(f) : EFER_KNOWN & fin_u16(f);
	return w & ~(EFER_LMA | EFER_SVME);
}

/* A starting state as a guest can hold it: CR0 legal, LME only with PAE, LMA = LME && PG. */
static void initial(struct fin *f, struct st *s)
{
	s->writable = writable_mask(f);
	s->cr4_allowed = fin_u64(f) | CR4_PAE;
	s->cr4 = fin_u64(f) & s->cr4_allowed;
	s->cr3 = fin_u8(f) & 1 ? fin_u64(f) : fin_u64(f) & ~0xfffull;
	s->cr0 = ((fin_u32(f) & CR0_DEFINED) | CR0_ET);
	if ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD))
		s->cr0 &= ~CR0_NW;
	if (s->cr0 & CR0_PG)
		s->cr0 |= CR0_PE;
	s->efer = (fin_u64(f) & s->writable) | EFER_SVME;
	if ((s->efer & EFER_LME) && !(s->cr4 & CR4_PAE))
		s->efer &= ~EFER_LME;
	if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG))
		s->efer |= EFER_LMA;
	s->cs_l = fin_u8(f) & 1;
}

/* A value: random, the current one with a bit flipped, or the current one rewritten. */
static uint64_t value(struct fin *f, uint64_t cur)
{
	uint8_t k = fin_u8(f);
	switch (k & 3) {
	case 0:  return fin_u64(f);
	case 1:  return cur ^ (1ull << (fin_u8(f) % 64));
	case 2:  return cur ^ (1ull << (fin_u8(f) % 64)) ^ (1ull << (fin_u8(f) % 64));
	default: return (uint32_t)(cur ^ fin_u32(f));
	}
}

static void step(struct fin *f, struct st *s)
{
	uint8_t k = fin_u8(f);
	uint64_t r, efer, wr;
	switch (k % 3) {
	case 0:
		/* the caller's mask may differ (control guest vs child); EFER is checked against
		 * the mask of the write that set it */
		wr = k & 0x80 ? writable_mask(f) : s->writable;
		r = efer_write(s->efer, value(f, s->efer), s->cr0, s->cr4, wr);
		if (r == EFER_BAD)
			return;
		FUZZ_CHECK((r & EFER_LMA) == (s->efer & EFER_LMA) && (r & EFER_SVME));
		s->efer = r;
		s->writable = wr;
		break;
	case 1:
		s->cs_l = (k & 0x40) && (s->efer & EFER_LMA);   /* 64-bit code only in long mode */
		efer = s->efer;
		r = cr0_write(s->cr0, value(f, s->cr0), s->cr4, s->cs_l, &efer);
		if (r == CR0_BAD) {
			FUZZ_CHECK(efer == s->efer);
			return;
		}
		FUZZ_CHECK(!((efer ^ s->efer) & ~EFER_LMA));
		s->cr0 = r;
		s->efer = efer;
		FUZZ_CHECK(lma_ok(s));
		break;
	default:
		r = cr4_write(s->cr4, value(f, s->cr4), s->efer, s->cr3, s->cr4_allowed);
		if (r == CR4_BAD)
			return;
		s->cr4 = r;
		break;
	}
	check_state(s);
	FUZZ_CHECK(lma_ok(s));   /* EFER and CR4 writes keep it too */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = { data, size };
	struct st s;
	initial(&f, &s);
	check_state(&s);
	FUZZ_CHECK(lma_ok(&s));
	for (unsigned n = 1 + fin_u8(&f) % 16; n && f.n; n--)
		step(&f, &s);
	return 0;
}
