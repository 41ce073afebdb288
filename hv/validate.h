/* Validation of untrusted hypercall input, written once as pure functions (unit-tested).
 * Each returns 0 or the errno shared/ABI.md gives for the case. */
#ifndef HV_VALIDATE_H
#define HV_VALIDATE_H

#include <stdint.h>
#include "../abi/bvmm.h"

struct mem_slot;

/* CREATE: ranges, vCPU count. EINVAL. */
int validate_create(const struct vm_create_params *p);

/* Is [gpa, gpa+len) inside the union of the (ascending) ranges? */
int ranges_contain(const struct mem_slot *r, uint32_t n, uint64_t gpa, uint64_t len);

/* MPROTECT_EPT: prot and range. EINVAL. On success read, write and exec receive the permissions
 * asked for (read 0 only for exec-only, which the caller widens to read+exec where the nested
 * tables cannot express it: AMD's NPT, EPT without the capability). */
int validate_mprotect(const struct vm_mprotect_ept_params *p, const struct mem_slot *r,
		      uint32_t n, int *read, int *write, int *exec);

/* What this CPU accepts: CR4 bits children may have, MAXPHYADDR (CR3), NX (EFER.NXE). Set
 * once at launch; unit tests use the defaults (0x3107ff, 52, 1). */
void validate_set_limits(uint64_t cr4_allowed, unsigned maxphyaddr, int has_nx);

/* A register state that VMRUN / VM entry would accept, for the architecture rules bvmm
 * checks (CR0/CR4/EFER combinations, RFLAGS, segments). 0 or EINVAL. */
int validate_regs(const struct vcpu_reg_state *rs);

/* RFLAGS a vCPU can be entered with. 0 or EINVAL. */
int validate_rflags(uint64_t rflags);
/* The same in the mode it is in: RFLAGS.VM is refused in long mode too (validate_regs' only
 * rule on the general registers). */
int validate_rflags_mode(uint64_t rflags, int long_mode);

/* The pvclock structure address (MSR value without the enable bit): in RAM, in one page. */
int validate_pvclock_gpa(uint64_t gpa, const struct mem_slot *r, uint32_t n);

/* Segment access rights: the ABI's VMX layout <-> the VMCB attribute layout (ABI.md). */
static inline uint16_t seg_ar_to_svm(uint32_t ar)
{
	if (ar & VSI_AR_UNUSABLE)
		return 0;
	return (uint16_t)((ar & 0xff) | ((ar >> 4) & 0xf00));
}

static inline uint32_t seg_svm_to_ar(uint16_t attrib)
{
	uint32_t ar = (attrib & 0xffu) | ((attrib & 0xf00u) << 4);
	return (attrib & VSI_AR_P) ? ar : ar | VSI_AR_UNUSABLE;
}

#endif
