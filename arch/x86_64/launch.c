/* The vendor dispatch at launch (launch.h): the loader already checked that the CPU has one of
 * the two with what bvmm needs (boot/main.c cpu_check). */
#include "launch.h"
#include "cpu.h"
#include "svm/svm.h"
#include "vmx/vmx.h"
#include "../../abi/bvmm.h"
#include "../../hv/hv.h"

int arch_launch(struct boot_info *bi)
{
	hv.apic_page = rdmsr(MSR_APIC_BASE) & 0x000ffffffffff000ull;
	if (cpuid(0x80000000, 0).eax >= 0x8000000a && (cpuid(0x80000001, 0).ecx & CPUID_80000001_ECX_SVM)) {
		hv.vendor = BVMM_VENDOR_AMD_SVM;
		return svm_launch(bi);
	}
	hv.vendor = BVMM_VENDOR_INTEL_VMX;
	return vmx_launch(bi);
}

int arch_launch_ap(struct boot_info *bi, unsigned cpu)
{
	if (hv.vendor == BVMM_VENDOR_AMD_SVM)
		return svm_launch_ap(bi, cpu);
	return BVMM_ENOSYS;   /* VMX: the boot CPU only so far (the loader refuses more) */
}
