/* RUN's exit reasons are the vendor's own codes (ABI.md: SVM's on AMD, VMX's on Intel); a
 * control program that runs on both asks this what an exit is. Header-only, freestanding. */
#ifndef LIBVMM_VMM_EXIT_H
#define LIBVMM_VMM_EXIT_H

#include "../../abi/bvmm.h"

enum vmm_exit_kind {
	VMM_EXIT_KIND_NONE,       /* VM_EXIT_NONE: the control guest's interrupt, run again */
	VMM_EXIT_KIND_IO,         /* port I/O: vei */
	VMM_EXIT_KIND_HLT,
	VMM_EXIT_KIND_NPF,        /* nested page fault / EPT violation: vee (MMIO or PROTECT) */
	VMM_EXIT_KIND_SHUTDOWN,   /* triple fault */
	VMM_EXIT_KIND_IRQWIN,     /* the interrupt window opened */
	VMM_EXIT_KIND_OTHER,
};

/* vendor: HVINFO's vhi_vendor. */
static inline enum vmm_exit_kind vmm_exit_kind(uint16_t reason, uint32_t vendor)
{
	if (reason == VM_EXIT_NONE)
		return VMM_EXIT_KIND_NONE;
	if (vendor == BVMM_VENDOR_INTEL_VMX) {
		switch (reason) {
		case VMX_EXIT_IO:            return VMM_EXIT_KIND_IO;
		case VMX_EXIT_HLT:           return VMM_EXIT_KIND_HLT;
		case VMX_EXIT_EPT_VIOLATION: return VMM_EXIT_KIND_NPF;
		case VMX_EXIT_TRIPLE_FAULT:  return VMM_EXIT_KIND_SHUTDOWN;
		case VMX_EXIT_INT_WINDOW:    return VMM_EXIT_KIND_IRQWIN;
		default:                     return VMM_EXIT_KIND_OTHER;
		}
	}
	switch (reason) {
	case SVM_VMEXIT_IOIO:     return VMM_EXIT_KIND_IO;
	case SVM_VMEXIT_HLT:      return VMM_EXIT_KIND_HLT;
	case SVM_VMEXIT_NPF:      return VMM_EXIT_KIND_NPF;
	case SVM_VMEXIT_SHUTDOWN: return VMM_EXIT_KIND_SHUTDOWN;
	case SVM_VMEXIT_VINTR:    return VMM_EXIT_KIND_IRQWIN;
	default:                  return VMM_EXIT_KIND_OTHER;
	}
}

#endif
