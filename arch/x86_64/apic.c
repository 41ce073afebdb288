/* Decoding of a guest's ICR write: the IPI's kind and the virtualized CPUs it addresses
 * (apic.h). Pure and freestanding: never touches an APIC, so the unit tests call it directly. */
#include "apic.h"

static uint64_t all_cpus(unsigned ncpu)
{
	return ncpu >= 64 ? ~0ull : (1ull << ncpu) - 1;
}

static uint64_t one_cpu(unsigned i, unsigned ncpu)
{
	return i < ncpu ? 1ull << i : 0;
}

uint32_t x2apic_ldr(uint32_t id)
{
	/* SDM 10.12.10.2: only bits 19:0 of the x2APIC ID take part. */
	return ((id >> 4) & 0xffffu) << 16 | 1u << (id & 0xfu);
}

/* xAPIC logical mode, SDM 10.6.2.2: each APIC compares the 8-bit message destination address
 * (MDA) with its LDR as its DFR says. (All ones, the broadcast, never gets here.) */
static int xapic_logical_match(const struct apic_cpu *c, uint32_t mda)
{
	uint32_t logical = c->ldr >> 24;

	switch (c->dfr >> 28) {
	case 0xf:   /* flat: one bit per APIC, any common bit accepts */
		return (mda & logical) != 0;
	case 0x0:   /* cluster: MDA[7:4] the cluster (LDR[31:28]), MDA[3:0] one bit per APIC */
		return mda >> 4 == logical >> 4 && (mda & logical & 0xfu) != 0;
	default:    /* no model the SDM defines: nothing to match */
		return 0;
	}
}

/* x2APIC logical mode, SDM 10.12.10.1: cluster mode only (no DFR), destination bits 31:16 the
 * cluster, 15:0 a bit per APIC within it. */
static int x2apic_logical_match(const struct apic_cpu *c, uint32_t dest)
{
	uint32_t ldr = x2apic_ldr(c->apic_id);

	return dest >> 16 == ldr >> 16 && (dest & ldr & 0xffffu) != 0;
}

/* The CPUs the destination field addresses (no shorthand): SDM 10.6.2 (xAPIC), 10.12.10
 * (x2APIC). Physical: the APIC whose ID is the destination. The broadcast ID addresses all,
 * physical or logical: 10.12.9 says so for x2APIC; for xAPIC logical, 10.6.2.2 has "a
 * broadcast to all APICs is achieved by setting the MDA to 1s", which reaches even an APIC
 * whose LDR is still 0 or whose DFR model is undefined. */
static uint64_t dest_targets(uint64_t icr, int x2apic, const struct apic_cpu *cpus,
			     unsigned ncpu)
{
	uint32_t dest = x2apic ? (uint32_t)(icr >> 32) : (uint32_t)(icr >> 56);
	uint32_t bcast = x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST;
	int logical = (icr & ICR_DEST_LOGICAL) != 0;
	uint64_t t = 0;

	if (dest == bcast)
		return all_cpus(ncpu);
	for (unsigned i = 0; i < ncpu; i++) {
		int hit;
		if (!logical)
			hit = cpus[i].apic_id == dest;
		else if (x2apic)
			hit = x2apic_logical_match(&cpus[i], dest);
		else
			hit = xapic_logical_match(&cpus[i], dest);
		if (hit)
			t |= 1ull << i;
	}
	return t;
}

/* A shorthand replaces the destination field (SDM 10.6.1, "Destination Shorthand"). */
static uint64_t targets(uint64_t icr, int x2apic, unsigned self, const struct apic_cpu *cpus,
			unsigned ncpu)
{
	switch ((icr & ICR_SH_MASK) >> ICR_SH_SHIFT) {
	case ICR_SH_SELF:
		return one_cpu(self, ncpu);
	case ICR_SH_ALL:
		return all_cpus(ncpu);
	case ICR_SH_OTHERS:
		return all_cpus(ncpu) & ~one_cpu(self, ncpu);
	default:
		return dest_targets(icr, x2apic, cpus, ncpu);
	}
}

/* The kind, from delivery mode, level, trigger and shorthand; *fault as in apic.h. */
static enum icr_kind classify(uint64_t icr, int x2apic, uint8_t *fault)
{
	unsigned dm = (unsigned)((icr & ICR_DM_MASK) >> ICR_DM_SHIFT);
	unsigned sh = (unsigned)((icr & ICR_SH_MASK) >> ICR_SH_SHIFT);
	int to_self = sh == ICR_SH_SELF || sh == ICR_SH_ALL;

	*fault = 0;
	/* SDM 10.12.1.3: in x2APIC mode a WRMSR with a reserved bit set raises #GP and sends
	 * nothing, whatever the other fields say. */
	if (x2apic && (icr & ICR_X2APIC_RSVD)) {
		*fault = 1;
		return ICR_INVALID;
	}
	switch (dm) {
	case ICR_DM_INIT:
		/* 10.6.1: level 0 with trigger 1 is the INIT level de-assert message, which goes
		 * to all APICs whatever the destination and which the Pentium 4 and later do not
		 * support; checked before the shorthand since the SDM asks for "all including
		 * self" with it. Level 0 with trigger 0 is still an INIT: the Pentium 4 and
		 * later ignore the level bit (10.6.1, "Level"). */
		if (!(icr & ICR_LEVEL_ASSERT) && (icr & ICR_TRIGGER_LEVEL))
			return ICR_INIT_DEASSERT;
		return to_self ? ICR_INVALID : ICR_INIT;
	case ICR_DM_STARTUP:
		/* Table 10-3: no start-up with self or all-including-self. A level trigger is
		 * sent as edge (note 2), so it still is a SIPI. */
		return to_self ? ICR_INVALID : ICR_SIPI;
	case ICR_DM_RSVD3:
	case ICR_DM_RSVD7:
		return ICR_INVALID;
	default:
		/* Fixed, lowest priority, SMI, NMI: the real APIC does with them what it would
		 * have done for the guest, invalid combinations included (Table 10-3). */
		return ICR_OTHER;
	}
}

void icr_decode(uint64_t icr, int x2apic, unsigned self, const struct apic_cpu *cpus,
		unsigned ncpu, struct icr_req *out)
{
	if (ncpu > 64)
		ncpu = 64;
	out->kind = classify(icr, x2apic, &out->fault);
	out->vector = (uint8_t)(icr & ICR_VECTOR);
	out->targets = targets(icr, x2apic, self, cpus, ncpu);
}
