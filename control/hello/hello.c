/* The default control program: says what it finds (hypervisor signature, ABI version,
 * vendor, pool) and powers the machine off. Runs as an EFI application in the control guest. */
#include <efi.h>
#include <efilib.h>
#include "../../abi/bvmm.h"

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint32_t r[4];
	char sig[13];
	struct vm_hvinfo_params info;

	InitializeLib(image, systab);
	cpuid(1, r);
	int present = !!(r[2] & (1u << 31));
	cpuid(BVMM_CPUID_BASE, r);
	CopyMem(sig, &r[1], 12);
	sig[12] = 0;
	Print(L"control: hypervisor present bit %d, signature \"%a\"\n", present, sig);
	if (r[1] != BVMM_CPUID_SIG_EBX || r[2] != BVMM_CPUID_SIG_ECX || r[3] != BVMM_CPUID_SIG_EDX) {
		Print(L"control: bvmm is not running\n");
	} else {
		uint64_t err = bvmm_hypercall(BVMM_OP_HVINFO, &info);
		if (err)
			Print(L"control: HVINFO failed, errno %ld\n", err);
		else
			Print(L"control: bvmm ABI version %d, vendor %a, pool %ld KiB, %ld KiB free\n",
			      info.vhi_abi_version,
			      info.vhi_vendor == BVMM_VENDOR_AMD_SVM ? "AMD SVM" : "Intel VMX",
			      info.vhi_pool_size >> 10, info.vhi_pool_free >> 10);
	}
	Print(L"control: powering off\n");
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
	return EFI_SUCCESS;
}
