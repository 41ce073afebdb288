/* What a guest sees of CPUID. The hypervisor executes CPUID itself and passes the result
 * through this filter: pure, so unit tests check each rule; inline, so that a CPUID exit's
 * leaf is one compare chain in its handler, not a call with the registers in memory. */
#ifndef ARCH_CPUID_H
#define ARCH_CPUID_H

#include <stdint.h>
#include "cpu.h"
#include "../../abi/bvmm.h"

/* Highest hypervisor leaf the control guest sees at 0x40000000. */
#define CPUID_HV_MAX_CONTROL 0x40000000u

/* The control guest's view: hypervisor present, "bvmm" signature, SVM and VMX hidden, and the
 * OSXSAVE/OSPKE bits taken from the guest's own CR4 (the CPU reports the host's CR4 there). */
static inline void cpuid_set_bit(uint32_t *reg, uint32_t bit, int on)
{
	*reg = on ? (*reg | bit) : (*reg & ~bit);
}

static inline void cpuid_filter_control(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4,
			  struct cpuid_regs *r)
{
	switch (leaf) {
	case 1:
		r->ecx |= CPUID1_ECX_HYPERVISOR;
		r->ecx &= ~CPUID1_ECX_VMX;
		cpuid_set_bit(&r->ecx, CPUID1_ECX_OSXSAVE, !!(guest_cr4 & CR4_OSXSAVE));
		break;
	case 7:
		if (subleaf == 0)
			cpuid_set_bit(&r->ecx, CPUID7_ECX_OSPKE, !!(guest_cr4 & CR4_PKE));
		break;
	case 0x80000001:
		r->ecx &= ~CPUID_80000001_ECX_SVM;
		break;
	case 0x8000000a:   /* SVM feature leaf: nothing to report without SVM */
	case 0x8000001f:   /* SME/SEV: a guest cannot encrypt memory without SEV, which bvmm lacks */
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

/* Highest hypervisor leaf children see: 0x40000001 holds the KVM pvclock features. */
#define CPUID_HV_MAX_CHILD 0x40000001u

/* A child's view: no SVM/VMX, no XSAVE/AVX (its FPU state is switched with FXSAVE), no
 * MONITOR/MWAIT, no x2APIC or MTRRs (not emulated), no performance counters, no RDTSCP
 * (TSC_AUX is the control guest's), the pvclock leaves; a local APIC (leaf 1 EDX.APIC) only
 * where the control program says it models an xAPIC (`xapic`, VPP_XAPIC_*). */
#define CPUID1_EDX_APIC (1u << 9)

/* Leaf 1 ECX bits hidden from children: DTES64 2, MONITOR 3, DS-CPL 4, VMX 5, SMX 6, EST 7,
 * TM2 8, FMA 12, PDCM 15, PCID 17, x2APIC 21, TSC-deadline 24, XSAVE 26, OSXSAVE 27, AVX 28,
 * F16C 29. EDX: MCE 7 and MCA 14 (the MCG_* MSRs are not a child's), APIC 9, MTRR 12, DS 21,
 * ACPI 22, TM 29, PBE 31. */
#define CHILD_HIDE_1_ECX 0x3d2291fcu
#define CHILD_HIDE_1_EDX 0xa0605280u
/* Leaf 0x80000008 EBX: AMD's speculation controls IBPB 12, IBRS 14, STIBP 15, their "always
 * on"/preferred hints 16-18, SSBD 24, VIRT_SSBD 25 (SPEC_CTRL, PRED_CMD and VIRT_SPEC_CTRL
 * are not a child's MSRs: a guest told of them writes them, and takes #GP). */
#define CHILD_HIDE_80000008_EBX 0x0307d000u
/* Leaf 0x80000001 ECX: the performance counter extensions PerfCtrExtCore 23, PerfCtrExtNB 24,
 * PerfCtrExtLLC 28 (children have no PMU: msr.h msr_child_pmu_off). */
#define CHILD_HIDE_PMU_EXT ((1u << 23) | (1u << 24) | (1u << 28))
/* Leaf 7.0 EBX kept: FSGSBASE 0, BMI1 3, SMEP 7, BMI2 8, ERMS 9, ADX 19, SMAP 20,
 * CLFLUSHOPT 23, SHA 29. */
#define CHILD_KEEP_7_EBX 0x20980389u

static inline void cpuid_filter_child(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4, uint32_t vcpu_id,
			uint32_t xapic, struct cpuid_regs *r)
{
	(void)guest_cr4;
	switch (leaf) {
	case 1:
		r->ecx = (r->ecx & ~CHILD_HIDE_1_ECX) | CPUID1_ECX_HYPERVISOR;
		r->edx &= ~CHILD_HIDE_1_EDX;
		if (xapic == VPP_XAPIC_MMIO)
			r->edx |= CPUID1_EDX_APIC;
		r->ebx = (r->ebx & 0x0000ffffu) | (1u << 16) | (vcpu_id << 24);
		break;
	case 7:
		if (subleaf == 0) {
			r->ebx &= CHILD_KEEP_7_EBX;
			r->ecx = r->edx = 0;
		} else {
			r->eax = r->ebx = r->ecx = r->edx = 0;
		}
		break;
	case 6: case 0xa: case 0xd:   /* power, perfmon, XSAVE: none */
		r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	case 0x80000001:
		/* SVM; XOP 11, FMA4 16, TBM 21: AVX-class, and children have no AVX state; TCE 17
		 * and FFXSR (EDX 25): EFER bits children may not set */
		r->ecx &= ~(CPUID_80000001_ECX_SVM | (1u << 10) /* IBS */ | (1u << 11) | (1u << 16) |
			    (1u << 17) | (1u << 21) | CHILD_HIDE_PMU_EXT);
		r->edx &= ~(CPUID_80000001_EDX_RDTSCP | (1u << 25));
		if (xapic != VPP_XAPIC_MMIO)
			r->edx &= ~CPUID1_EDX_APIC;   /* AMD repeats leaf 1's APIC bit here */
		break;
	case 0x80000008:
		r->ebx &= ~CHILD_HIDE_80000008_EBX;
		break;
	case 0x8000000a:
	case 0x8000001f:   /* SME/SEV: Linux would read SEV_STATUS (not a child's MSR) before it
			    * has an IDT, and die of the #GP */
	case 0x80000022:   /* AMD PerfMonV2: no PMU (msr_child_pmu_off) */
		r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	case BVMM_CPUID_BASE:
		r->eax = CPUID_HV_MAX_CHILD;
		r->ebx = BVMM_CPUID_SIG_EBX;
		r->ecx = BVMM_CPUID_SIG_ECX;
		r->edx = BVMM_CPUID_SIG_EDX;
		break;
	case BVMM_CPUID_BASE + 1:
		r->eax = KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
		r->ebx = r->ecx = r->edx = 0;
		break;
	default:
		if (leaf > BVMM_CPUID_BASE + 1 && leaf <= 0x400000ffu)
			r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	}
}

#endif
