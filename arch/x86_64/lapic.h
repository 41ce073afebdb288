/* The hypervisor's own use of this CPU's local APIC (host mode): NMIs to other CPUs (kicks,
 * the panic stop) and the replay of the control guest's interprocessor interrupts that bvmm
 * does not emulate. The APIC is the control guest's; bvmm sends through it only between the
 * guest's own accesses (it intercepts every ICR write, so it never splits the guest's ICR
 * high/low sequence). */
#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H

#include <stdint.h>
#include "apic.h"

#define APIC_BASE_EXTD  (1ull << 10)   /* IA32_APIC_BASE: x2APIC mode */
#define APIC_BASE_EN    (1ull << 11)
#define APIC_BASE_BSP   (1ull << 8)
#define APIC_REG_ID     0x20
#define APIC_REG_LDR    0xd0
#define APIC_REG_DFR    0xe0
#define APIC_REG_ICR_LO 0x300
#define APIC_REG_ICR_HI 0x310
#define MSR_X2APIC_ICR  0x830
#define ICR_NMI_LOW     ((ICR_DM_NMI << ICR_DM_SHIFT) | ICR_LEVEL_ASSERT)

/* Send icr_low (vector, delivery mode, ...) to the APIC with this physical ID. */
void lapic_send(uint32_t apic_id, uint32_t icr_low);
/* An NMI to every other CPU (the panic stop). */
void lapic_nmi_others(void);
/* Replay an interprocessor interrupt as the control guest wrote it: x2apic, the 64-bit ICR
 * value; xAPIC, ICR high (bits 63:32) then low. */
void lapic_replay(int x2apic, uint64_t icr);
/* The xAPIC register page of this CPU (mapped by the host's identity map, uncached by the
 * MTRRs), or 0 in x2APIC mode. */
uint64_t lapic_mmio_base(void);

#endif
