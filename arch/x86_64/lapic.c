/* Host-mode sends through the local APIC (see lapic.h). x2APIC: one WRMSR to the ICR (SDM
 * vol. 3A 10.12.9), no delivery status to wait for. xAPIC: wait until the previous send has
 * left (ICR delivery status, 10.6.1), write the destination to ICR high, then the low word,
 * which sends. */
#include "lapic.h"
#include "cpu.h"

static inline volatile uint32_t *reg(uint64_t base, unsigned off)
{
	return (volatile uint32_t *)(uintptr_t)(base + off);
}

uint64_t lapic_mmio_base(void)
{
	uint64_t b = rdmsr(MSR_APIC_BASE);
	return (b & APIC_BASE_EXTD) ? 0 : b & 0xffffff000ull;
}

static void xapic_wait_idle(uint64_t base)
{
	for (unsigned i = 0; i < 1000000 && (*reg(base, APIC_REG_ICR_LO) & ICR_BUSY); i++)
		__builtin_ia32_pause();
}

void lapic_replay(int x2apic, uint64_t icr)
{
	uint64_t base = lapic_mmio_base();
	if (x2apic || !base) {
		wrmsr(MSR_X2APIC_ICR, icr & ~ICR_BUSY);   /* read-only; not every CPU ignores it */
		return;
	}
	xapic_wait_idle(base);
	*reg(base, APIC_REG_ICR_HI) = (uint32_t)(icr >> 32);
	*reg(base, APIC_REG_ICR_LO) = (uint32_t)icr;
}

void lapic_send(uint32_t apic_id, uint32_t icr_low)
{
	int x2 = !lapic_mmio_base();
	lapic_replay(x2, icr_low | ((uint64_t)(x2 ? apic_id : apic_id << 24) << 32));
}

void lapic_nmi_others(void)
{
	lapic_replay(!lapic_mmio_base(), ICR_NMI_LOW | ((uint64_t)ICR_SH_OTHERS << ICR_SH_SHIFT));
}
