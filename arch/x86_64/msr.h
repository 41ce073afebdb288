/* The control guest's MSR allowlist: what it may read and write, decided once per MSR number.
 * Pure (unit-tested); the vendor backend turns it into its permission map and exit handler.
 * An MSR that is not listed is not known safe: its reads and writes raise #GP. */
#ifndef ARCH_MSR_H
#define ARCH_MSR_H

#include <stdint.h>

enum msr_access {
	MSR_DENY,   /* #GP both ways (default for every MSR not listed) */
	MSR_PASS,   /* the CPU's own, not intercepted (per-thread state, counters, x2APIC) */
	MSR_READ,   /* reads pass; writes #GP (address decode, DRAM layout, SMM, platform) */
	MSR_CHECK,  /* reads pass; writes intercepted and filtered by msr_control_write_ok */
	MSR_EMUL,   /* both intercepted, emulated by the backend (EFER, SVM control MSRs) */
};

enum msr_access msr_control_access(uint32_t msr);

/* Every listed range [first, last] with its access, in ascending order (to build a permission
 * map without asking for each of the 24,576 MSRs it covers). */
void msr_control_ranges(void (*fn)(uint32_t first, uint32_t last, enum msr_access a, void *arg),
			void *arg);

/* For MSR_CHECK: may the control guest change `msr` from `old` to `val`? */
int msr_control_write_ok(uint32_t msr, uint64_t old, uint64_t val);

/* A child's performance counters: AMD's legacy PerfEvtSel0-3/PerfCtr0-3 (C001_0000-7, on
 * every AMD CPU whatever CPUID says, so kernels written for AMD touch them unasked) and the
 * core extension's PERF_CTL/CTR0-5 (C001_0200-020B). Children have no PMU (CPUID leaf 0xA
 * and the extension bits are hidden): these read 0 and ignore writes, as on a CPU whose
 * counters are off; the control guest's counters are never reached. */
int msr_child_pmu_off(uint32_t msr);

/* A child's IA32_APIC_BASE (0x1b), per what the control program models (VPP_XAPIC_*): with
 * an xAPIC it reads 0xfee00000 | enabled | BSP (vCPU 0 only), and only a write of that same
 * value is accepted: the model sits at 0xfee00000 in the control program, which is not told
 * of MSR writes, so moving or disabling it (or x2APIC mode) raises #GP. Without one, #GP both
 * ways (no such MSR on a CPU without an APIC). 0 done (*val read or written), -1 for #GP. */
int msr_child_apic_base(uint32_t xapic, uint32_t vcpu_id, int write, uint64_t *val);

/* RDMSR/WRMSR of the control guest for what the allowlist settles by itself (passed,
 * read-only, filtered, denied; APIC_BASE's fixed window): 0 done, -1 for #GP, 1 if the MSR is
 * one the backend emulates (EFER, its virtualization MSRs). Host mode only. */
int msr_control_rdmsr(uint32_t msr, uint64_t *val);
int msr_control_wrmsr(uint32_t msr, uint64_t val);

#endif
