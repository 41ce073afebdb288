/* Events into the guest whose VMCS is current: exceptions, the re-delivery of one an exit cut
 * short, and resuming after an instruction the hypervisor completed (SDM 27.2.4, 26.6). */
#ifndef VMX_EVENT_H
#define VMX_EVENT_H

#include "vmcs.h"
#include "insn.h"
#include "../cpu.h"

#define INTERRUPTIBILITY_STI_MOVSS 3u

/* In real mode no error code is pushed, and VM entry refuses an injection claiming one. */
static inline void vmx_inject_exc(unsigned vector, int has_error, uint32_t error)
{
	if (!(vmread(GUEST_CR0) & CR0_PE))
		has_error = 0;
	vmwrite(VMCS_ENTRY_INTR, vector | INTR_TYPE_HW_EXC | INTR_INFO_VALID |
				 (has_error ? INTR_INFO_HAS_ERROR : 0));
	if (has_error)
		vmwrite(VMCS_ENTRY_ERROR, error);
}

/* An event the exit cut short (IDT-vectoring information) is delivered again. */
static inline void vmx_reinject(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VEC);
	if (!(info & INTR_INFO_VALID))
		return;
	vmwrite(VMCS_ENTRY_INTR, info & ~(1u << 12));   /* bit 12 is undefined there */
	if (info & INTR_INFO_HAS_ERROR)
		vmwrite(VMCS_ENTRY_ERROR, vmread(VMCS_IDT_VEC_ERROR));
	unsigned type = info & INTR_TYPE_MASK;
	if (type == INTR_TYPE_SW_INT || type == INTR_TYPE_SW_EXC || type == INTR_TYPE_PRIV_SW)
		vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
}

/* Past the instruction the exit reported (its length from the VMCS); the STI/MOV SS shadow
 * it sat in is over. */
static inline void vmx_skip(uint64_t len)
{
	vmwrite(GUEST_RIP, vmread(GUEST_RIP) + len);
	vmwrite(GUEST_INTERRUPTIBILITY, vmread(GUEST_INTERRUPTIBILITY) & ~INTERRUPTIBILITY_STI_MOVSS);
}

#endif
