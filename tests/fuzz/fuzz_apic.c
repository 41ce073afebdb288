/* libFuzzer harness for arch/x86_64/apic.c: icr_decode on random CPU sets (IDs, LDRs, DFRs,
 * sender, up to 70 CPUs) and random ICR values, often aimed at one of the CPUs. The oracle
 * is written here from the SDM (vol. 3A 10.6.1, 10.6.2, 10.12.1.3, 10.12.9-10) as each
 * receiving APIC would judge the message, one CPU and one bit at a time, plus a table of the
 * kinds; and two invariances: in xAPIC mode the reserved bits (12, 13, 16, 17, 20-55) change
 * nothing, in x2APIC mode bit 12 changes nothing. */
#include "fuzz_input.h"
#include "../../arch/x86_64/apic.h"

#define MAXCPU 70

/* Kind by delivery mode: O other, I INIT, S start-up, R reserved. */
static const char dm_kind[8] = { 'O', 'O', 'O', 'R', 'O', 'I', 'S', 'R' };
static const unsigned x2_rsvd_bits[] = { 13, 16, 17, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
					 31 };

static unsigned bits(uint64_t v, unsigned hi, unsigned lo)
{
	return (unsigned)((v >> lo) & ((1ull << (hi - lo + 1)) - 1));
}

static int model_fault(uint64_t icr, int x2)
{
	if (!x2)
		return 0;
	for (unsigned i = 0; i < sizeof x2_rsvd_bits / sizeof x2_rsvd_bits[0]; i++)
		if (bits(icr, x2_rsvd_bits[i], x2_rsvd_bits[i]))
			return 1;
	return 0;
}

static enum icr_kind model_kind(uint64_t icr, int x2)
{
	unsigned sh = bits(icr, 19, 18);
	int self_or_all = sh == 1 || sh == 2;

	if (model_fault(icr, x2))
		return ICR_INVALID;
	switch (dm_kind[bits(icr, 10, 8)]) {
	case 'I':
		if (bits(icr, 14, 14) == 0 && bits(icr, 15, 15) == 1)
			return ICR_INIT_DEASSERT;
		return self_or_all ? ICR_INVALID : ICR_INIT;
	case 'S':
		return self_or_all ? ICR_INVALID : ICR_SIPI;
	case 'R':
		return ICR_INVALID;
	default:
		return ICR_OTHER;
	}
}

/* Would the APIC of cpu c (index i) accept the message? */
static int accepts(uint64_t icr, int x2, unsigned self, const struct apic_cpu *c, unsigned i)
{
	unsigned sh = bits(icr, 19, 18);
	uint32_t d32 = (uint32_t)bits(icr, 63, 32);
	uint32_t d8 = bits(icr, 63, 56);

	if (sh == 1)
		return i == self;
	if (sh == 2)
		return 1;
	if (sh == 3)
		return i != self;
	if (x2 ? d32 == 0xffffffffu : d8 == 0xffu)
		return 1;
	if (!bits(icr, 11, 11))
		return c->apic_id == (x2 ? d32 : d8);
	if (x2)   /* cluster (bits 19:4 of the ID) and the member bit (bits 3:0) */
		return (d32 >> 16) == ((c->apic_id & 0xfffffu) >> 4) &&
		       ((d32 & 0xffffu) >> (c->apic_id & 15) & 1);
	if (bits(c->dfr, 31, 28) == 0xf)
		return (d8 & bits(c->ldr, 31, 24)) != 0;
	if (bits(c->dfr, 31, 28) == 0)
		return (d8 >> 4) == bits(c->ldr, 31, 28) && (d8 & bits(c->ldr, 27, 24)) != 0;
	return 0;
}

static void check(uint64_t icr, int x2, unsigned self, const struct apic_cpu *cpus,
		  unsigned ncpu)
{
	struct icr_req r, r2;
	uint64_t want = 0;

	icr_decode(icr, x2, self, cpus, ncpu, &r);
	for (unsigned i = 0; i < ncpu && i < 64; i++)
		if (accepts(icr, x2, self, &cpus[i], i))
			want |= 1ull << i;
	FUZZ_CHECK(r.targets == want);
	FUZZ_CHECK(r.kind == model_kind(icr, x2));
	FUZZ_CHECK(r.fault == (r.kind == ICR_INVALID && model_fault(icr, x2)));
	FUZZ_CHECK(r.vector == (icr & 0xff));

	uint64_t ignored = x2 ? 1ull << 12 : 0x00ffffff00000000ull | 0xfff33000ull;
	icr_decode(icr ^ ignored, x2, self, cpus, ncpu, &r2);
	FUZZ_CHECK(r2.kind == r.kind && r2.vector == r.vector && r2.targets == r.targets &&
		   r2.fault == r.fault);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = { data, size };
	struct apic_cpu cpus[MAXCPU];
	int x2 = fin_u8(&f) & 1;
	unsigned ncpu = fin_u8(&f) % (MAXCPU + 1);
	unsigned self = fin_u8(&f) % (MAXCPU + 2);

	for (unsigned i = 0; i < ncpu; i++) {
		uint8_t sel = fin_u8(&f);
		cpus[i].apic_id = sel & 1 ? fin_u32(&f) : (sel & 2 ? fin_u8(&f) : i);
		cpus[i].ldr = sel & 4 ? fin_u32(&f) : (uint32_t)fin_u8(&f) << 24;
		cpus[i].dfr = sel & 8 ? fin_u32(&f) : (sel & 16 ? XAPIC_DFR_CLUSTER : XAPIC_DFR_FLAT);
	}
	/* The ICR, its destination often aimed at a CPU so that matches are common. */
	uint8_t aim = fin_u8(&f);
	uint64_t icr = fin_u64(&f);
	if (ncpu && (aim & 3)) {
		const struct apic_cpu *t = &cpus[(aim >> 2) % ncpu];
		uint32_t d = (aim & 3) == 1 ? t->apic_id : x2 ? x2apic_ldr(t->apic_id) : t->ldr >> 24;
		icr = x2 ? (icr & 0xffffffffull) | (uint64_t)d << 32
			 : (icr & 0x00ffffffffffffffull) | (uint64_t)(d & 0xff) << 56;
	}
	check(icr, x2, self, cpus, ncpu);
	return 0;
}
