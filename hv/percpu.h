/* Per-CPU host state. Every CPU the firmware runs is virtualized at launch and gets a slot:
 * its stacks (hv/bootinfo.h layout), its descriptor tables, its control-guest state, and the
 * words other CPUs write to ask something of it (kick, INIT, SIPI). Host code finds its slot
 * from RSP: every stack a CPU runs on in host mode, the IST stacks included, lies in its own
 * part of HV_CPU_REGION. */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

#include "gmem.h"
#include <stdint.h>
#include "bootinfo.h"
#include "../arch/x86_64/asid.h"

/* What the control guest on a CPU is doing, as far as INIT and SIPI are concerned. */
enum cpu_run_state {
	CPU_OFF,         /* not (yet) virtualized: IPIs to it go to the hardware */
	CPU_GUEST,       /* runs the control guest */
	CPU_WAIT_SIPI,   /* after an emulated INIT: parked in host mode until a SIPI */
};

struct hv_cpu {
	uint32_t index;               /* its APIC ID, LDR, DFR: ipi_cpus[index] (ipi.h) */
	uint32_t run_state;           /* enum cpu_run_state; atomic */
	/* Written by other CPUs (atomics), read by this one when an NMI brings it into host
	 * mode: */
	uint32_t kicks;               /* NMIs the hypervisor sent it, not yet taken */
	uint32_t init_req;            /* an INIT is pending for it */
	uint32_t sipi;                /* SIPI_VALID | vector: a SIPI arrived */
	/* This CPU's own: */
	uint32_t nmi_for_guest;       /* an NMI the control guest is owed (not a kick) */
	struct asid_cpu asid;         /* children's TLB tags on this CPU (asid.h) */
	uint32_t icr_high;            /* xAPIC: the ICR high the control guest last wrote */
	struct gwalk_cache wc;        /* the control guest's walks, kept across its hypercalls */
	/* Children's guest-physical pages this CPU translated last (vm_gpa_to_hpa): a VM's
	 * GPA -> HPA map never changes while it exists, and VM ids are never reused. */
	struct gpa_tlb_entry { uint32_t vm_id; uint64_t gpfn, hpa; } gpa_tlb[8];
	uint64_t run_block_ok;        /* 1 + the last RUN_PHYS block found good, or 0 */
	void *arch;                   /* vendor per-CPU state */
};
#define SIPI_VALID 0x100u

extern struct hv_cpu hv_cpus[HV_MAX_CPUS];
extern uint32_t hv_ncpus;

static inline unsigned cpu_index(void)
{
	uint64_t sp;
	__asm__("mov %%rsp, %0" : "=r"(sp));
	return (unsigned)((sp - HV_CPU_REGION) / HV_CPU_SLOT);
}

static inline struct hv_cpu *this_cpu(void) { return &hv_cpus[cpu_index()]; }

/* Interrupt another CPU out of guest mode (an NMI through the local APIC; arch/x86_64/apic.c):
 * it takes the NMI in host mode as a kick, not as the control guest's. */
void cpu_kick(struct hv_cpu *c);

#endif
