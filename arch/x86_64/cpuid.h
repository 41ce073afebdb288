/* What a guest sees of CPUID. The hypervisor executes CPUID itself and passes the result
 * through this filter: pure, so unit tests check each rule. */
#ifndef ARCH_CPUID_H
#define ARCH_CPUID_H

#include <stdint.h>
#include "cpu.h"

/* Highest hypervisor leaf the control guest sees at 0x40000000. */
#define CPUID_HV_MAX_CONTROL 0x40000000u

/* The control guest's view: hypervisor present, "bvmm" signature, SVM and VMX hidden, and the
 * OSXSAVE/OSPKE bits taken from the guest's own CR4 (the CPU reports the host's CR4 there). */
void cpuid_filter_control(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4,
			  struct cpuid_regs *r);

/* Highest hypervisor leaf children see: 0x40000001 holds the KVM pvclock features. */
#define CPUID_HV_MAX_CHILD 0x40000001u

/* A child's view: no SVM/VMX, no XSAVE/AVX (its FPU state is switched with FXSAVE), no
 * MONITOR/MWAIT, no x2APIC or MTRRs (not emulated), no performance counters, no RDTSCP
 * (TSC_AUX is the control guest's), the pvclock leaves; a local APIC (leaf 1 EDX.APIC) only
 * where the control program says it models an xAPIC (`xapic`, VPP_XAPIC_*). */
void cpuid_filter_child(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4, uint32_t vcpu_id,
			uint32_t xapic, struct cpuid_regs *r);

#endif
