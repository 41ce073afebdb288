/* The vendor-neutral core: what hv/ knows about the machine after launch, and the calls the
 * vendor backends (svm/, vmx/ later) make into it. hv/ never touches a VMCB field. */
#ifndef HV_HV_H
#define HV_HV_H

#include <stdint.h>
#include "bootinfo.h"
#include "gmem.h"
#include "../abi/bvmm.h"

struct hv_state {
	struct boot_info *bi;
	uint32_t vendor;         /* BVMM_VENDOR_* */
	uint64_t guest_top;      /* the control guest's nested map covers [0, guest_top) */
	int sealed;              /* the loader said the launch is complete (HV_OP_LOADER_DONE) */
	uint64_t apic_page;      /* the local APIC's page (APIC_BASE, which may not move) */
};
extern struct hv_state hv;

/* Control guest GPA -> HPA: identity, except the pool, anything the host does not map (past
 * the firmware memory map's extent), and what the control guest may not write itself: the PCI
 * ECAM window and the local APIC's page (its writes there are judged; the hypervisor writing a
 * hypercall's results there would skip the judge). */
int control_gpa_to_hpa(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa);
/* Whether operation op reads anything through the caller's page tables: the operations but
 * RUN_PHYS, whose block is named by physical address (an unknown number, the loader's and the
 * test hooks take no memory). The exit handlers build the caller's view only for those, and
 * hypercall() passes NULL to the others. */
static inline int hypercall_walks(uint64_t op)
{
	return op < BVMM_OP_COUNT && op != BVMM_OP_RUN_PHYS;
}

/* A hypercall from CPL 0 of the control guest; returns 0 or a BVMM_E* value for RAX. */
uint64_t hypercall(struct gview *caller, uint64_t op, uint64_t arg);
/* The same for a number that is no operation (op >= BVMM_OP_COUNT): the loader's seal, the
 * test hooks, else ENOSYS. hypercall() calls it too; an exit handler may call it directly. */
uint64_t hypercall_other(uint64_t op) __attribute__((noinline));

#endif
