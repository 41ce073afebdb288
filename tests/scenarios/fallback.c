/* Scenario 2's second boot option: proves the firmware went on booting after bvmm declined
 * (no SVM) and that no hypervisor is present. */
#include "lib/scenario.h"
#include "../../abi/bvmm.h"

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint32_t r[4];
	sc_init(image, systab, "fallback");
	/* Reaching here is the proof the firmware booted on: run.sh judges the DONE line. */
	sc_cpuid(0x40000000, 0, r);
	sc_check(r[1] != BVMM_CPUID_SIG_EBX, "no-hypervisor-signature", L"ebx %x", r[1]);
	sc_finish();
}
