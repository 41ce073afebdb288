/* Scenario 6 (with bvmm-test.efi): the failure paths DESIGN.md promises. An exit the run loop
 * does not expect (a #UD intercept planted by a test hook) is reported to the caller with its
 * raw code and stops that vCPU; then a host-mode exception (a test hook runs ud2 in the
 * hypervisor) must end in a panic report on the log, which run.sh checks. */
#include "lib/scenario.h"
#include "../../abi/bvmm.h"
#include "../../control/libvmm/vmm_state.h"

#define SVM_EXIT_EXCP_UD 0x46

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	static const uint8_t ud2[] = { 0x0f, 0x0b, 0xf4 };   /* ud2; hlt */
	static struct vm_create_params cp;
	static struct vm_resetcpu_params rr;
	static struct vm_exit ex;
	EFI_PHYSICAL_ADDRESS mem;
	uint64_t e;

	sc_init(image, systab, "s6-hooks");
	e = bvmm_hypercall(BVMM_OP_TEST_INTERCEPT_UD, NULL);
	sc_check(!e, "test-hook-available", L"errno %ld (is this bvmm-test.efi?)", e);
	uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, 256, &mem);
	SetMem((void *)mem, 1 << 20, 0);
	CopyMem((uint8_t *)mem + 0x7c00, ud2, sizeof ud2);
	cp.vcp_nmemranges = 1;
	cp.vcp_ncpus = 1;
	cp.vcp_memranges[0] = (struct vm_mem_range){ 0, mem, 1 << 20 };
	e = bvmm_hypercall(BVMM_OP_CREATE, &cp);
	rr.vrp_vm_id = cp.vcp_id;
	vmm_state_real(&rr.vrp_init_state, 0, 0x7c00);
	if (!e)
		e = bvmm_hypercall(BVMM_OP_RESETCPU, &rr);
	struct vm_run_params rp = { .vrp_vm_id = cp.vcp_id, .vrp_irq = 0xffff, .vrp_exit = &ex };
	for (int i = 0; i < 100 && !e; i++) {
		e = bvmm_hypercall(BVMM_OP_RUN, &rp);
		if (rp.vrp_exit_reason != VM_EXIT_NONE)
			break;
	}
	sc_check(!e && rp.vrp_exit_reason == SVM_EXIT_EXCP_UD && ex.vrs.vrs_gprs[VCPU_REGS_RIP] == 0x7c00,
		 "unexpected-exit-reported-raw", L"errno %ld reason %x rip %lx", e, rp.vrp_exit_reason,
		 ex.vrs.vrs_gprs[VCPU_REGS_RIP]);
	e = bvmm_hypercall(BVMM_OP_RUN, &rp);
	sc_check(e == BVMM_EBUSY, "unexpected-exit-stops-vcpu", L"errno %ld", e);
	struct vm_terminate_params t = { cp.vcp_id };
	sc_check(!bvmm_hypercall(BVMM_OP_TERM, &t), "stopped-vm-terminates", L"");
	Print(L"DONE s6-hooks passed=? (panic next)\n");
	bvmm_hypercall(BVMM_OP_TEST_PANIC, NULL);
	sc_check(0, "panic-did-not-stop-the-machine", L"the host returned from ud2");
	sc_finish();
}
