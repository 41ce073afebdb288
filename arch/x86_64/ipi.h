/* The control guest's interprocessor interrupts (see ipi.c). */
#ifndef ARCH_IPI_H
#define ARCH_IPI_H

#include <stdint.h>
#include "apic.h"
#include "../../hv/bootinfo.h"

/* Every CPU as the ICR decoder sees it (apic.h), kept up to date as the control guest writes
 * LDR and DFR, so that an ICR write decodes against it in place. */
extern struct apic_cpu ipi_cpus[HV_MAX_CPUS];

/* A write of the control guest on this CPU to its ICR: x2apic, the WRMSR 0x830 value; xAPIC,
 * the low word with the ICR high it wrote before (hv_cpu.icr_high) in bits 63:32. INIT and
 * SIPI to virtualized CPUs are emulated, everything else goes to the hardware. 0, or -1 if
 * the write raises #GP. */
int ipi_control_icr(int x2apic, uint64_t icr);

/* A store of the control guest into its xAPIC register page (write-protected in the nested
 * tables): ICR high, LDR and DFR are remembered, ICR low is judged by ipi_control_icr, the
 * rest is written through. 0, or -1 for #GP. */
int ipi_control_xapic_write(uint64_t offset, uint64_t val, unsigned size);

#endif
