/* Unit tests of arch/x86_64/apic.c, the ICR decoder: Linux's INIT/SIPI/SIPI sequences in both
 * APIC modes, physical and logical (flat, cluster, x2APIC cluster) destinations, broadcasts,
 * every shorthand, the refused combinations, and x2APIC IDs beyond 63. ICR values are written
 * out in hex from the SDM's bit layout (vol. 3A 10.6.1, 10.12.9), not built from apic.h's
 * masks, so a wrong mask there shows here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../arch/x86_64/apic.h"

/* Linux's low words (arch/x86/include/asm/apicdef.h values, from the SDM layout):
 * INIT assert = trigger level | level assert | INIT = 0xc500, INIT de-assert = 0x8500,
 * start-up = 0x600 | vector. */
#define LO_INIT_ASSERT   0xc500ull
#define LO_INIT_DEASSERT 0x8500ull
#define LO_SIPI(v)       (0x600ull | (v))

static uint64_t x2(uint32_t dest, uint64_t low) { return (uint64_t)dest << 32 | low; }
static uint64_t xa(uint8_t dest, uint64_t low) { return (uint64_t)dest << 56 | low; }

static struct icr_req dec(uint64_t icr, int x2apic, unsigned self, const struct apic_cpu *c,
			  unsigned n)
{
	struct icr_req r = { .kind = 99, .vector = 0x55, .fault = 7, .targets = 0xdeadull };
	icr_decode(icr, x2apic, self, c, n, &r);
	return r;
}

#define CHECK(r, k, v, t)                                        \
	do {                                                     \
		assert_int_equal((r).kind, (k));                 \
		assert_int_equal((r).vector, (v));               \
		assert_int_equal((r).targets, (uint64_t)(t));    \
		assert_int_equal((r).fault, 0);                  \
	} while (0)

/* Four CPUs as QEMU -smp 4 gives them: APIC IDs 0-3, Linux's flat LDRs (1 << cpu in 31:24). */
static const struct apic_cpu q4[4] = {
	{ 0, 0x01000000, XAPIC_DFR_FLAT }, { 1, 0x02000000, XAPIC_DFR_FLAT },
	{ 2, 0x04000000, XAPIC_DFR_FLAT }, { 3, 0x08000000, XAPIC_DFR_FLAT },
};

/* Linux's wakeup_secondary_cpu_via_init in x2APIC mode: one WRMSR 0x830 each, destination
 * in bits 63:32. The trampoline at 0x9a000 gives vector 0x9a. */
static void test_linux_x2apic_sequence(void **state)
{
	(void)state;
	for (unsigned n = 1; n < 4; n++) {
		struct icr_req r = dec(x2(n, LO_INIT_ASSERT), 1, 0, q4, 4);
		CHECK(r, ICR_INIT, 0, 1u << n);
		r = dec(x2(n, LO_INIT_DEASSERT), 1, 0, q4, 4);
		CHECK(r, ICR_INIT_DEASSERT, 0, 1u << n);
		r = dec(x2(n, LO_SIPI(0x9a)), 1, 0, q4, 4);
		CHECK(r, ICR_SIPI, 0x9a, 1u << n);
	}
	/* the literal values, once */
	struct icr_req r = dec(0x000000020000c500ull, 1, 0, q4, 4);
	CHECK(r, ICR_INIT, 0, 0x4);
	r = dec(0x000000030000069aull, 1, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x8);
	/* an AP started by another AP (self is not the BSP) */
	r = dec(x2(0, LO_SIPI(0x10)), 1, 3, q4, 4);
	CHECK(r, ICR_SIPI, 0x10, 0x1);
}

/* The same in xAPIC mode: destination in ICR high bits 31:24 (ICR bits 63:56). */
static void test_linux_xapic_sequence(void **state)
{
	(void)state;
	for (unsigned n = 1; n < 4; n++) {
		struct icr_req r = dec(xa(n, LO_INIT_ASSERT), 0, 0, q4, 4);
		CHECK(r, ICR_INIT, 0, 1u << n);
		r = dec(xa(n, LO_INIT_DEASSERT), 0, 0, q4, 4);
		CHECK(r, ICR_INIT_DEASSERT, 0, 1u << n);
		r = dec(xa(n, LO_SIPI(0x9a)), 0, 0, q4, 4);
		CHECK(r, ICR_SIPI, 0x9a, 1u << n);
	}
	struct icr_req r = dec(0x030000000000069aull, 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x8);
	/* the x2APIC position of the destination means nothing in xAPIC mode */
	r = dec(0x000000030000069aull, 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x1);   /* destination 0: the BSP */
}

/* Physical destinations: exactly the CPU with that ID, nobody for an unknown ID, everyone
 * (self included) for the broadcast ID. */
static void test_physical(void **state)
{
	(void)state;
	static const struct apic_cpu sparse[3] = {
		{ 0, 0, XAPIC_DFR_FLAT }, { 2, 0, XAPIC_DFR_FLAT }, { 6, 0, XAPIC_DFR_FLAT },
	};
	struct icr_req r = dec(xa(6, 0x4030), 0, 0, sparse, 3);   /* fixed, vector 0x30 */
	CHECK(r, ICR_OTHER, 0x30, 0x4);
	r = dec(xa(1, LO_INIT_ASSERT), 0, 0, sparse, 3);
	CHECK(r, ICR_INIT, 0, 0);
	r = dec(xa(0xfe, LO_SIPI(0x9a)), 0, 0, sparse, 3);
	CHECK(r, ICR_SIPI, 0x9a, 0);
	r = dec(xa(0xff, 0x40fd), 0, 1, sparse, 3);
	CHECK(r, ICR_OTHER, 0xfd, 0x7);
	r = dec(xa(0xff, LO_INIT_ASSERT), 0, 0, sparse, 3);   /* broadcast INIT: the sender too */
	CHECK(r, ICR_INIT, 0, 0x7);
	r = dec(x2(6, 0x4030), 1, 0, sparse, 3);
	CHECK(r, ICR_OTHER, 0x30, 0x4);
	r = dec(x2(0xffffffff, 0x4030), 1, 0, sparse, 3);
	CHECK(r, ICR_OTHER, 0x30, 0x7);
	/* x2APIC: 0xff is an ordinary ID, 0x100 + 2 is not 2 */
	r = dec(x2(0xff, 0x4030), 1, 0, sparse, 3);
	CHECK(r, ICR_OTHER, 0x30, 0);
	r = dec(x2(0x102, 0x4030), 1, 0, sparse, 3);
	CHECK(r, ICR_OTHER, 0x30, 0);
	/* xAPIC: bits 55:32 (reserved in the high register) are not part of the destination */
	r = dec(0x02ffffff00004030ull, 0, 0, sparse, 3);
	CHECK(r, ICR_OTHER, 0x30, 0x2);
}

/* xAPIC logical, flat model (SDM 10.6.2.2): any bit in common with LDR[31:24]. */
static void test_xapic_flat(void **state)
{
	(void)state;
	struct apic_cpu c[5] = {
		{ 0, 0x01000000, XAPIC_DFR_FLAT }, { 1, 0x02000000, XAPIC_DFR_FLAT },
		{ 2, 0x0c000000, XAPIC_DFR_FLAT },   /* two bits: in two groups */
		{ 3, 0x00000000, XAPIC_DFR_FLAT },   /* LDR never written */
		{ 4, 0x80ffffff, XAPIC_DFR_FLAT },   /* reserved LDR bits 23:0 ignored */
	};
	struct icr_req r = dec(xa(0x02, 0x4831), 0, 0, c, 5);   /* logical, fixed 0x31 */
	CHECK(r, ICR_OTHER, 0x31, 0x2);
	r = dec(xa(0x03, 0x4831), 0, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x31, 0x3);
	r = dec(xa(0x08, 0x4831), 0, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x31, 0x4);
	r = dec(xa(0x80, 0x4831), 0, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x31, 0x10);
	r = dec(xa(0x70, 0x4831), 0, 0, c, 5);   /* no CPU has these bits */
	CHECK(r, ICR_OTHER, 0x31, 0);
	r = dec(xa(0x00, 0x4831), 0, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x31, 0);
	r = dec(xa(0xff, 0x4831), 0, 0, c, 5);   /* broadcast: the LDR-0 CPU too */
	CHECK(r, ICR_OTHER, 0x31, 0x1f);
	r = dec(xa(0x0e, 0x800 | LO_INIT_ASSERT), 0, 0, c, 5);   /* logical INIT */
	CHECK(r, ICR_INIT, 0, 0x6);
	r = dec(xa(0x02, 0x800 | LO_SIPI(0x9a)), 0, 0, c, 5);
	CHECK(r, ICR_SIPI, 0x9a, 0x2);
	/* the same value in physical mode reads the destination as an APIC ID */
	r = dec(xa(0x02, 0x4031), 0, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x31, 0x4);
}

/* xAPIC logical, cluster model: MDA[7:4] = LDR[31:28], MDA[3:0] & LDR[27:24] != 0. */
static void test_xapic_cluster(void **state)
{
	(void)state;
	struct apic_cpu c[6] = {
		{ 0, 0x01000000, XAPIC_DFR_CLUSTER }, { 1, 0x02000000, XAPIC_DFR_CLUSTER },
		{ 2, 0x11000000, XAPIC_DFR_CLUSTER }, { 3, 0x12000000, XAPIC_DFR_CLUSTER },
		{ 4, 0x34000000, XAPIC_DFR_CLUSTER }, { 5, 0x00000000, XAPIC_DFR_CLUSTER },
	};
	struct icr_req r = dec(xa(0x01, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0x1);
	r = dec(xa(0x03, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0x3);
	r = dec(xa(0x13, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0xc);
	r = dec(xa(0x12, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0x8);
	r = dec(xa(0x24, 0x4841), 0, 0, c, 6);   /* right bit, wrong cluster */
	CHECK(r, ICR_OTHER, 0x41, 0);
	r = dec(xa(0x34, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0x10);
	r = dec(xa(0x10, 0x4841), 0, 0, c, 6);   /* cluster, no bit */
	CHECK(r, ICR_OTHER, 0x41, 0);
	r = dec(xa(0xff, 0x4841), 0, 0, c, 6);   /* broadcast */
	CHECK(r, ICR_OTHER, 0x41, 0x3f);
	r = dec(xa(0x1f, 0x800 | LO_INIT_ASSERT), 0, 0, c, 6);
	CHECK(r, ICR_INIT, 0, 0xc);
	/* in flat reading 0x01 would also match CPU 2 (LDR 0x11): the DFR decides */
	c[2].dfr = XAPIC_DFR_FLAT;
	r = dec(xa(0x01, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0x5);
	/* a DFR model that is neither flat nor cluster matches nothing but the broadcast */
	c[0].dfr = 0x5fffffff;
	r = dec(xa(0x01, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0x4);
	r = dec(xa(0xff, 0x4841), 0, 0, c, 6);
	CHECK(r, ICR_OTHER, 0x41, 0x3f);
}

/* x2APIC logical (SDM 10.12.10): cluster id[19:4], bit 1 << id[3:0]; Linux's x2apic_cluster
 * sends fixed IPIs as cluster << 16 | mask. */
static void test_x2apic_logical(void **state)
{
	(void)state;
	assert_int_equal(x2apic_ldr(0), 0x00000001);
	assert_int_equal(x2apic_ldr(3), 0x00000008);
	assert_int_equal(x2apic_ldr(15), 0x00008000);
	assert_int_equal(x2apic_ldr(16), 0x00010001);
	assert_int_equal(x2apic_ldr(0x25), 0x00020020);
	assert_int_equal(x2apic_ldr(0xffff3), 0xffff0008);
	assert_int_equal(x2apic_ldr(0x12345678), 0x45670100);   /* only bits 19:0 count */

	static const struct apic_cpu c[5] = {
		{ 0, 0, 0 }, { 1, 0, 0 }, { 16, 0, 0 }, { 17, 0, 0 }, { 0x25, 0, 0 },
	};
	struct icr_req r = dec(x2(0x00000003, 0x0850), 1, 0, c, 5);   /* logical, fixed 0x50 */
	CHECK(r, ICR_OTHER, 0x50, 0x3);
	r = dec(x2(0x00010002, 0x0850), 1, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x50, 0x8);
	r = dec(x2(0x0001ffff, 0x0850), 1, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x50, 0xc);
	r = dec(x2(0x00020020, 0x0850), 1, 0, c, 5);
	CHECK(r, ICR_OTHER, 0x50, 0x10);
	r = dec(x2(0x00030020, 0x0850), 1, 0, c, 5);   /* wrong cluster */
	CHECK(r, ICR_OTHER, 0x50, 0);
	r = dec(x2(0x00010000, 0x0850), 1, 0, c, 5);   /* no bit */
	CHECK(r, ICR_OTHER, 0x50, 0);
	r = dec(x2(0xffffffff, 0x0850), 1, 0, c, 5);   /* broadcast */
	CHECK(r, ICR_OTHER, 0x50, 0x1f);
	r = dec(x2(0xffff0001, 0x0850), 1, 0, c, 5);   /* cluster 0xffff: nobody here */
	CHECK(r, ICR_OTHER, 0x50, 0);
	r = dec(x2(0x00010001, 0x0800 | LO_INIT_ASSERT), 1, 0, c, 5);
	CHECK(r, ICR_INIT, 0, 0x4);
	/* the xAPIC LDR and DFR fields play no part in x2APIC mode */
	static const struct apic_cpu junk[2] = { { 0, 0xff000000, 0 }, { 1, 0, 0x12345678 } };
	r = dec(x2(0x00000002, 0x0850), 1, 0, junk, 2);
	CHECK(r, ICR_OTHER, 0x50, 0x2);
}

/* x2APIC IDs above 63 (a sparse topology): the index in cpus[] is the bit, not the ID. */
static void test_x2apic_large_ids(void **state)
{
	(void)state;
	static const struct apic_cpu c[4] = {
		{ 0, 0, 0 }, { 100, 0, 0 }, { 0x1234, 0, 0 }, { 0xfffffffe, 0, 0 },
	};
	struct icr_req r = dec(x2(100, LO_INIT_ASSERT), 1, 0, c, 4);
	CHECK(r, ICR_INIT, 0, 0x2);
	r = dec(x2(100, LO_SIPI(0x9a)), 1, 0, c, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x2);
	r = dec(x2(0x1234, LO_INIT_ASSERT), 1, 0, c, 4);
	CHECK(r, ICR_INIT, 0, 0x4);
	r = dec(x2(0xfffffffe, 0x4022), 1, 0, c, 4);
	CHECK(r, ICR_OTHER, 0x22, 0x8);
	r = dec(x2(36, LO_INIT_ASSERT), 1, 0, c, 4);   /* 100 & 63 is not 100 */
	CHECK(r, ICR_INIT, 0, 0);
	/* logical: 100 = 0x64 is cluster 6, bit 1 << 4 */
	r = dec(x2(0x00060010, 0x0850), 1, 0, c, 4);
	CHECK(r, ICR_OTHER, 0x50, 0x2);
	/* 0x1234: cluster 0x123, bit 1 << 4 */
	r = dec(x2(0x01230010, 0x0850), 1, 0, c, 4);
	CHECK(r, ICR_OTHER, 0x50, 0x4);
	/* in xAPIC mode an ID above 0xff never matches an 8-bit destination */
	r = dec(xa(100 & 0xff, LO_INIT_ASSERT), 0, 0, c, 4);
	CHECK(r, ICR_INIT, 0, 0x2);   /* 100 fits in 8 bits */
	r = dec(xa(0x34, LO_INIT_ASSERT), 0, 0, c, 4);
	CHECK(r, ICR_INIT, 0, 0);
}

/* Shorthands replace the destination field, which may hold anything. */
static void test_shorthands(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		uint64_t dest = m ? x2(2, 0) : xa(2, 0);   /* would be CPU 2 */
		for (unsigned self = 0; self < 4; self++) {
			struct icr_req r = dec(dest | 0x44030, m, self, q4, 4);   /* self */
			CHECK(r, ICR_OTHER, 0x30, 1u << self);
			r = dec(dest | 0x84030, m, self, q4, 4);   /* all including self */
			CHECK(r, ICR_OTHER, 0x30, 0xf);
			r = dec(dest | 0xc4030, m, self, q4, 4);   /* all excluding self */
			CHECK(r, ICR_OTHER, 0x30, 0xf & ~(1u << self));
			r = dec(dest | 0xc4400, m, self, q4, 4);   /* NMI to the others */
			CHECK(r, ICR_OTHER, 0, 0xf & ~(1u << self));
			r = dec(dest | 0xc0000 | LO_INIT_ASSERT, m, self, q4, 4);
			CHECK(r, ICR_INIT, 0, 0xf & ~(1u << self));
			r = dec(dest | 0xc0000 | LO_SIPI(0x9a), m, self, q4, 4);
			CHECK(r, ICR_SIPI, 0x9a, 0xf & ~(1u << self));
			/* logical mode bit: ignored with a shorthand */
			r = dec(dest | 0xc0800 | LO_SIPI(0x9a), m, self, q4, 4);
			CHECK(r, ICR_SIPI, 0x9a, 0xf & ~(1u << self));
		}
	}
}

/* The old MP-spec way: INIT, SIPI, SIPI to all excluding self. */
static void test_broadcast_startup(void **state)
{
	(void)state;
	struct icr_req r = dec(0x00000000000cc500ull, 0, 0, q4, 4);
	CHECK(r, ICR_INIT, 0, 0xe);
	r = dec(0x00000000000c8500ull, 0, 0, q4, 4);
	CHECK(r, ICR_INIT_DEASSERT, 0, 0xe);
	r = dec(0x00000000000c0608ull, 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x08, 0xe);
	/* as the SDM asks for the de-assert: all including self; not refused */
	r = dec(0x0000000000088500ull, 0, 0, q4, 4);
	CHECK(r, ICR_INIT_DEASSERT, 0, 0xf);
	r = dec(x2(0xffffffff, 0x8500), 1, 2, q4, 4);
	CHECK(r, ICR_INIT_DEASSERT, 0, 0xf);
}

/* INIT's level/trigger combinations: only level 0 with trigger 1 is the de-assert. */
static void test_init_level_trigger(void **state)
{
	(void)state;
	struct icr_req r = dec(xa(1, 0x0500), 0, 0, q4, 4);   /* edge, level 0 */
	CHECK(r, ICR_INIT, 0, 0x2);
	r = dec(xa(1, 0x4500), 0, 0, q4, 4);   /* edge, assert */
	CHECK(r, ICR_INIT, 0, 0x2);
	r = dec(xa(1, 0xc500), 0, 0, q4, 4);   /* level, assert */
	CHECK(r, ICR_INIT, 0, 0x2);
	r = dec(xa(1, 0x8500), 0, 0, q4, 4);   /* level, de-assert */
	CHECK(r, ICR_INIT_DEASSERT, 0, 0x2);
	/* the de-assert with any shorthand is still the de-assert */
	r = dec(xa(1, 0x48500), 0, 3, q4, 4);
	CHECK(r, ICR_INIT_DEASSERT, 0, 0x8);
	/* SIPI with the level bits is still a SIPI (Table 10-3, note 2) */
	r = dec(xa(1, 0xc69a), 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x2);
	r = dec(xa(1, 0x869a), 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x2);
}

/* Every delivery mode that is neither INIT nor start-up is replayed, with its targets; the
 * vector is bits 7:0 whatever the mode. */
static void test_other_modes(void **state)
{
	(void)state;
	static const uint64_t dm[] = { 0x000, 0x100, 0x200, 0x400 };   /* fixed lowest SMI NMI */
	for (unsigned i = 0; i < 4; i++) {
		struct icr_req r = dec(xa(3, dm[i] | 0x40ef), 0, 0, q4, 4);
		CHECK(r, ICR_OTHER, 0xef, 0x8);
		r = dec(x2(3, dm[i] | 0x40ef), 1, 0, q4, 4);
		CHECK(r, ICR_OTHER, 0xef, 0x8);
		r = dec(xa(0xff, dm[i] | 0x4001), 0, 1, q4, 4);
		CHECK(r, ICR_OTHER, 0x01, 0xf);
		/* self and all-including-self with these are invalid in Table 10-3 but replayed:
		 * the real APIC does what it does for the guest */
		r = dec(dm[i] | 0x44002, 0, 2, q4, 4);
		CHECK(r, ICR_OTHER, 0x02, 0x4);
		r = dec(dm[i] | 0x8c002, 0, 2, q4, 4);
		CHECK(r, ICR_OTHER, 0x02, 0xf);
	}
	/* a level-triggered fixed IPI (sent edge-triggered, Table 10-3 note 2) */
	struct icr_req r = dec(xa(1, 0xc0fe), 0, 0, q4, 4);
	CHECK(r, ICR_OTHER, 0xfe, 0x2);
	/* INIT and SIPI keep whatever vector they carry */
	r = dec(xa(1, LO_INIT_ASSERT | 0x7f), 0, 0, q4, 4);
	CHECK(r, ICR_INIT, 0x7f, 0x2);
	r = dec(xa(1, LO_INIT_DEASSERT | 0xff), 0, 0, q4, 4);
	CHECK(r, ICR_INIT_DEASSERT, 0xff, 0x2);
	r = dec(xa(1, LO_SIPI(0x00)), 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x00, 0x2);
	r = dec(xa(1, LO_SIPI(0xff)), 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0xff, 0x2);
}

/* Refused: INIT/SIPI to self or all including self, the reserved delivery modes (dropped),
 * and in x2APIC mode any reserved bit (#GP). Targets still filled. */
static void test_invalid(void **state)
{
	(void)state;
	struct icr_req r;
	for (int m = 0; m < 2; m++) {
		uint64_t d = m ? x2(1, 0) : xa(1, 0);
		r = dec(d | 0x44000 | LO_INIT_ASSERT, m, 2, q4, 4);
		CHECK(r, ICR_INVALID, 0, 0x4);
		r = dec(d | 0x84000 | LO_INIT_ASSERT, m, 2, q4, 4);
		CHECK(r, ICR_INVALID, 0, 0xf);
		r = dec(d | 0x40000 | LO_SIPI(0x9a), m, 2, q4, 4);
		CHECK(r, ICR_INVALID, 0x9a, 0x4);
		r = dec(d | 0x80000 | LO_SIPI(0x9a), m, 2, q4, 4);
		CHECK(r, ICR_INVALID, 0x9a, 0xf);
		r = dec(d | 0x4300 | 0x21, m, 0, q4, 4);   /* delivery mode 011 */
		CHECK(r, ICR_INVALID, 0x21, 0x2);
		r = dec(d | 0x4700 | 0x22, m, 0, q4, 4);   /* delivery mode 111 */
		CHECK(r, ICR_INVALID, 0x22, 0x2);
	}
	/* x2APIC reserved bits 13, 16, 17, 20-31: each alone faults, on any kind */
	static const unsigned rsvd[] = { 13, 16, 17, 20, 21, 24, 28, 31 };
	for (unsigned i = 0; i < sizeof rsvd / sizeof rsvd[0]; i++) {
		uint64_t bit = 1ull << rsvd[i];
		r = dec(x2(1, LO_INIT_ASSERT | bit), 1, 0, q4, 4);
		assert_int_equal(r.kind, ICR_INVALID);
		assert_int_equal(r.fault, 1);
		assert_int_equal(r.targets, 0x2);
		r = dec(x2(1, 0x4030 | bit), 1, 0, q4, 4);
		assert_int_equal(r.kind, ICR_INVALID);
		assert_int_equal(r.fault, 1);
		assert_int_equal(r.vector, 0x30);
		/* the same bits in xAPIC mode are ignored, as MMIO stores to reserved bits are */
		r = dec(xa(1, LO_INIT_ASSERT | bit), 0, 0, q4, 4);
		CHECK(r, ICR_INIT, 0, 0x2);
	}
	/* bit 12 (xAPIC delivery status): ignored by the x2APIC WRMSR, no fault */
	r = dec(x2(1, LO_SIPI(0x9a) | 0x1000), 1, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x2);
	r = dec(xa(1, LO_SIPI(0x9a) | 0x1000), 0, 0, q4, 4);
	CHECK(r, ICR_SIPI, 0x9a, 0x2);
}

/* Edges of the CPU array: 64 CPUs, more than 64, none, a sender outside it. */
static void test_cpu_array_edges(void **state)
{
	(void)state;
	struct apic_cpu c[70];
	for (unsigned i = 0; i < 70; i++)
		c[i] = (struct apic_cpu){ i, (1u << (i & 7)) << 24, XAPIC_DFR_FLAT };
	struct icr_req r = dec(x2(63, LO_INIT_ASSERT), 1, 0, c, 64);
	CHECK(r, ICR_INIT, 0, 1ull << 63);
	r = dec(x2(0xffffffff, 0x4030), 1, 0, c, 64);
	CHECK(r, ICR_OTHER, 0x30, ~0ull);
	r = dec(0xc4030, 1, 63, c, 64);
	CHECK(r, ICR_OTHER, 0x30, ~0ull >> 1);
	r = dec(0x44030, 1, 63, c, 64);
	CHECK(r, ICR_OTHER, 0x30, 1ull << 63);
	/* ncpu above 64: only the first 64 are looked at */
	r = dec(x2(65, LO_INIT_ASSERT), 1, 0, c, 70);
	CHECK(r, ICR_INIT, 0, 0);
	r = dec(x2(0xffffffff, 0x4030), 1, 0, c, 70);
	CHECK(r, ICR_OTHER, 0x30, ~0ull);
	r = dec(0x84030, 0, 66, c, 70);
	CHECK(r, ICR_OTHER, 0x30, ~0ull);
	/* a sender index outside the array: self is nobody, the others are everybody */
	r = dec(0x44030, 0, 5, c, 4);
	CHECK(r, ICR_OTHER, 0x30, 0);
	r = dec(0xc4030, 0, 5, c, 4);
	CHECK(r, ICR_OTHER, 0x30, 0xf);
	/* flat logical over many CPUs: bit 0 is every eighth */
	r = dec(xa(0x01, 0x4830), 0, 0, c, 64);
	CHECK(r, ICR_OTHER, 0x30, 0x0101010101010101ull);
	/* no CPUs at all (cpus may then be NULL) */
	r = dec(x2(0xffffffff, LO_INIT_ASSERT), 1, 0, NULL, 0);
	CHECK(r, ICR_INIT, 0, 0);
	r = dec(0xc0000 | LO_SIPI(0x9a), 0, 0, NULL, 0);
	CHECK(r, ICR_SIPI, 0x9a, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_x2apic_sequence),
		cmocka_unit_test(test_linux_xapic_sequence),
		cmocka_unit_test(test_physical),
		cmocka_unit_test(test_xapic_flat),
		cmocka_unit_test(test_xapic_cluster),
		cmocka_unit_test(test_x2apic_logical),
		cmocka_unit_test(test_x2apic_large_ids),
		cmocka_unit_test(test_shorthands),
		cmocka_unit_test(test_broadcast_startup),
		cmocka_unit_test(test_init_level_trigger),
		cmocka_unit_test(test_other_modes),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_cpu_array_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
