/* The control guest's MSR allowlist (msr.h). Each entry says why the MSR cannot reach the
 * hypervisor: per-thread state VMRUN/VMLOAD switch or the host never uses, counters, memory
 * types (MTRR/PAT change caching, never which device answers an address). What can move an
 * address decoder (IORRs, TOP_MEM, MMIO_CFG_BASE, SMM ranges), load code into the CPU
 * (microcode), make the CPU write through host addresses (DS_AREA, BTS) or switch off what the
 * host's page tables use (XD disable) is read-only or absent. Facts: AMD APM vol. 2 app. A,
 * AMD BKDG/PPR MSR lists, Intel SDM vol. 4. */
#include "msr.h"
#include "../../abi/bvmm.h"

struct msr_range { uint32_t first, last; uint8_t access; };

static const struct msr_range control_msrs[] = {
	{ 0x00000000, 0x00000001, MSR_READ },  /* P5 machine-check address/type */
	{ 0x00000010, 0x00000010, MSR_READ },  /* TSC: a write would move the hypervisor's clock */
	{ 0x0000001b, 0x0000001b, MSR_EMUL },  /* APIC_BASE: the window may not move */
	{ 0x0000002a, 0x0000002a, MSR_READ },  /* EBL_CR_POWERON */
	{ 0x00000035, 0x00000035, MSR_READ },  /* core/thread count */
	{ 0x0000003a, 0x0000003a, MSR_EMUL },  /* FEATURE_CONTROL: locked, VMX off (Intel) */
	{ 0x0000003b, 0x0000003b, MSR_READ },  /* TSC_ADJUST: a write moves the TSC as well */
	{ 0x00000048, 0x00000049, MSR_PASS },  /* SPEC_CTRL, PRED_CMD */
	{ 0x0000008b, 0x0000008b, MSR_PASS },  /* microcode patch level (Intel writes 0 first) */
	{ 0x000000c1, 0x000000c8, MSR_PASS },  /* IA32_PMC0-7 */
	{ 0x000000ce, 0x000000ce, MSR_READ },  /* PLATFORM_INFO */
	{ 0x000000e7, 0x000000e8, MSR_READ },  /* MPERF, APERF */
	{ 0x000000fe, 0x000000fe, MSR_READ },  /* MTRRCAP */
	{ 0x0000010a, 0x0000010a, MSR_READ },  /* ARCH_CAPABILITIES */
	{ 0x0000010b, 0x0000010b, MSR_PASS },  /* FLUSH_CMD */
	{ 0x00000174, 0x00000176, MSR_PASS },  /* SYSENTER_CS/ESP/EIP: switched by VMLOAD/VMSAVE */
	{ 0x00000179, 0x0000017b, MSR_PASS },  /* MCG_CAP, MCG_STATUS, MCG_CTL */
	{ 0x00000186, 0x0000018d, MSR_PASS },  /* PERFEVTSEL0-7 */
	{ 0x00000198, 0x00000199, MSR_PASS },  /* PERF_STATUS, PERF_CTL (P-state request) */
	{ 0x0000019b, 0x0000019c, MSR_PASS },  /* THERM_INTERRUPT, THERM_STATUS */
	{ 0x000001a0, 0x000001a0, MSR_CHECK }, /* MISC_ENABLE: never XD disable (host NX) */
	{ 0x000001a2, 0x000001a2, MSR_READ },  /* TEMPERATURE_TARGET */
	{ 0x000001b0, 0x000001b2, MSR_PASS },  /* ENERGY_PERF_BIAS, PACKAGE_THERM_* */
	{ 0x000001d9, 0x000001d9, MSR_CHECK }, /* DEBUGCTL: LBR/BTF yes, BTS (writes via DS_AREA) no */
	{ 0x000001db, 0x000001de, MSR_READ },  /* last branch/exception from/to */
	{ 0x00000200, 0x0000020f, MSR_PASS },  /* variable MTRRs: memory types only */
	{ 0x00000250, 0x00000250, MSR_PASS },  /* fixed MTRRs (RdDram/WrDram need SYSCFG, read-only) */
	{ 0x00000258, 0x00000259, MSR_PASS },
	{ 0x00000268, 0x0000026f, MSR_PASS },
	{ 0x00000277, 0x00000277, MSR_PASS },  /* PAT: the guest's own (G_PAT) under nested paging */
	{ 0x00000280, 0x0000029f, MSR_PASS },  /* MCi_CTL2 */
	{ 0x000002ff, 0x000002ff, MSR_PASS },  /* MTRR_DEF_TYPE */
	{ 0x00000309, 0x0000030b, MSR_PASS },  /* fixed-function counters */
	{ 0x00000345, 0x00000345, MSR_READ },  /* PERF_CAPABILITIES */
	{ 0x0000038d, 0x00000390, MSR_PASS },  /* fixed counter control, global status/control */
	{ 0x00000400, 0x0000047f, MSR_PASS },  /* machine-check banks */
	{ 0x000006e0, 0x000006e0, MSR_PASS },  /* TSC_DEADLINE */
	{ 0x00000800, 0x0000082f, MSR_PASS },  /* x2APIC registers */
	{ 0x00000830, 0x00000830, MSR_EMUL },  /* x2APIC ICR: INIT and SIPI emulated (ipi.c) */
	{ 0x00000831, 0x000008ff, MSR_PASS },
	{ 0x00000da0, 0x00000da0, MSR_PASS },  /* XSS: the host never runs XSAVES */
	{ 0xc0000080, 0xc0000080, MSR_EMUL },  /* EFER: SVME hidden, LME only with PAE */
	{ 0xc0000081, 0xc0000084, MSR_PASS },  /* STAR, LSTAR, CSTAR, SFMASK: VMLOAD/VMSAVE */
	{ 0xc0000100, 0xc0000102, MSR_PASS },  /* FS/GS/KERNEL_GS base: VMLOAD/VMSAVE */
	{ 0xc0000103, 0xc0000103, MSR_PASS },  /* TSC_AUX (switched around a child's RUN) */
	{ 0xc0010000, 0xc0010007, MSR_PASS },  /* legacy PERF_CTL/PERF_CTR */
	{ 0xc0010010, 0xc0010010, MSR_READ },  /* SYSCFG: DRAM/MMIO routing */
	{ 0xc0010015, 0xc0010015, MSR_CHECK }, /* HWCR: only IRPERF and McStatusWrEn */
	{ 0xc0010016, 0xc001001a, MSR_READ },  /* IORR_BASE/MASK0-1, TOP_MEM */
	{ 0xc001001d, 0xc001001d, MSR_READ },  /* TOP_MEM2 */
	{ 0xc001001f, 0xc001001f, MSR_READ },  /* NB_CFG */
	{ 0xc0010055, 0xc0010055, MSR_READ },  /* interrupt pending message */
	{ 0xc0010058, 0xc0010058, MSR_READ },  /* MMIO_CFG_BASE: where ECAM decodes */
	{ 0xc0010061, 0xc0010061, MSR_READ },  /* P-state limit */
	{ 0xc0010062, 0xc0010062, MSR_PASS },  /* P-state control */
	{ 0xc0010063, 0xc001006b, MSR_READ },  /* P-state status and definitions */
	{ 0xc00100e7, 0xc00100e8, MSR_READ },  /* read-only MPERF/APERF */
	{ 0xc0010111, 0xc0010113, MSR_READ },  /* SMM_BASE, SMM_ADDR, SMM_MASK (TSEG) */
	{ 0xc0010114, 0xc0010114, MSR_EMUL },  /* VM_CR: reads as locked and disabled */
	{ 0xc0010117, 0xc0010117, MSR_EMUL },  /* VM_HSAVE_PA: reads 0 */
	{ 0xc0010131, 0xc0010131, MSR_EMUL },  /* SEV_STATUS: reads 0 (no SEV; Linux reads it unchecked) */
	{ 0xc0010140, 0xc0010141, MSR_READ },  /* OS visible workarounds */
	{ 0xc0010200, 0xc001020b, MSR_PASS },  /* core PERF_CTL/PERF_CTR */
	{ 0xc0011020, 0xc0011020, MSR_PASS },  /* LS_CFG (SSBD on family 15h-17h) */
	{ 0xc0011029, 0xc0011029, MSR_PASS },  /* DE_CFG (LFENCE serializing) */
};

enum msr_access msr_control_access(uint32_t msr)
{
	unsigned lo = 0, hi = sizeof control_msrs / sizeof control_msrs[0];
	while (lo < hi) {   /* the table is sorted: binary search */
		unsigned mid = (lo + hi) / 2;
		if (msr < control_msrs[mid].first)
			hi = mid;
		else if (msr > control_msrs[mid].last)
			lo = mid + 1;
		else
			return (enum msr_access)control_msrs[mid].access;
	}
	return MSR_DENY;
}

void msr_control_ranges(void (*fn)(uint32_t first, uint32_t last, enum msr_access a, void *arg),
			void *arg)
{
	for (unsigned i = 0; i < sizeof control_msrs / sizeof control_msrs[0]; i++)
		fn(control_msrs[i].first, control_msrs[i].last,
		   (enum msr_access)control_msrs[i].access, arg);
}

#define MISC_ENABLE_LIMIT_CPUID (1ull << 22)
#define MISC_ENABLE_XD_DISABLE  (1ull << 34)
#define DEBUGCTL_BTS_BITS       (0x1full << 6)   /* TR, BTS, BTINT, BTS_OFF_OS, BTS_OFF_USR */
#define HWCR_WRITABLE           ((1ull << 18) | (1ull << 30))

int msr_control_write_ok(uint32_t msr, uint64_t old, uint64_t val)
{
	switch (msr) {
	case 0x1a0:   /* XD disable would make the NX bit of the host's page tables reserved */
		return !(val & (MISC_ENABLE_XD_DISABLE | MISC_ENABLE_LIMIT_CPUID));
	case 0x1d9:   /* BTS stores branch records at DS_AREA's linear address, in host mode too */
		return !(val & DEBUGCTL_BTS_BITS);
	case 0xc0010015:
		return !((old ^ val) & ~HWCR_WRITABLE);
	default:
		return 0;
	}
}

int msr_child_pmu_off(uint32_t msr)
{
	return (msr >= 0xc0010000u && msr <= 0xc0010007u) || (msr >= 0xc0010200u && msr <= 0xc001020bu);
}

int msr_child_apic_base(uint32_t xapic, uint32_t vcpu_id, int write, uint64_t *val)
{
	uint64_t v = 0xfee00000ull | (1ull << 11) | (vcpu_id == 0 ? 1ull << 8 : 0);
	if (xapic != VPP_XAPIC_MMIO || (write && *val != v))
		return -1;
	*val = v;
	return 0;
}

#ifndef BVMM_HOST_TEST
#include "../../hv/panic.h"

#define MSR_APIC_BASE 0x1bu

int msr_control_rdmsr(uint32_t msr, uint64_t *val)
{
	switch (msr_control_access(msr)) {
	case MSR_PASS: case MSR_READ: case MSR_CHECK:
		return rdmsr_safe(msr, val);
	case MSR_EMUL:
		return msr == MSR_APIC_BASE ? rdmsr_safe(msr, val) : 1;
	default:
		return -1;
	}
}

int msr_control_wrmsr(uint32_t msr, uint64_t val)
{
	uint64_t old;
	switch (msr_control_access(msr)) {
	case MSR_PASS:
		return wrmsr_safe(msr, val);
	case MSR_CHECK:
		if (rdmsr_safe(msr, &old) || !msr_control_write_ok(msr, old, val))
			return -1;
		return wrmsr_safe(msr, val);
	case MSR_EMUL:
		if (msr != MSR_APIC_BASE)
			return 1;
		/* The xAPIC window may not move: its ICR is judged where it is (ipi.c), and
		 * elsewhere (on the pool, say) its page would decode APIC registers. It was not on
		 * the pool at launch, so it never is. The CPU judges the rest (enable, x2APIC). */
		if (rdmsr_safe(msr, &old) || ((old ^ val) & 0x000ffffffffff000ull))
			return -1;
		return wrmsr_safe(msr, val);
	default:
		return -1;   /* not known safe, or read-only (address decoders, DRAM layout, SMM) */
	}
}
#endif
