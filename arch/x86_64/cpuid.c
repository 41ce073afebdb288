/* CPUID filter for the control guest (see cpuid.h). */
#include "cpuid.h"
#include "../../abi/bvmm.h"

static void set_bit(uint32_t *reg, uint32_t bit, int on)
{
	*reg = on ? (*reg | bit) : (*reg & ~bit);
}

void cpuid_filter_control(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4,
			  struct cpuid_regs *r)
{
	switch (leaf) {
	case 1:
		r->ecx |= CPUID1_ECX_HYPERVISOR;
		r->ecx &= ~CPUID1_ECX_VMX;
		set_bit(&r->ecx, CPUID1_ECX_OSXSAVE, !!(guest_cr4 & CR4_OSXSAVE));
		break;
	case 7:
		if (subleaf == 0)
			set_bit(&r->ecx, CPUID7_ECX_OSPKE, !!(guest_cr4 & CR4_PKE));
		break;
	case 0x80000001:
		r->ecx &= ~CPUID_80000001_ECX_SVM;
		break;
	case 0x8000000a:   /* SVM feature leaf: nothing to report without SVM */
		r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	case BVMM_CPUID_BASE:
		r->eax = CPUID_HV_MAX_CONTROL;
		r->ebx = BVMM_CPUID_SIG_EBX;
		r->ecx = BVMM_CPUID_SIG_ECX;
		r->edx = BVMM_CPUID_SIG_EDX;
		break;
	default:
		/* The rest of the hypervisor range is ours and empty (QEMU answers its own there). */
		if (leaf > BVMM_CPUID_BASE && leaf <= 0x400000ffu)
			r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	}
}
