/* The default control program (make run): says what it finds (hypervisor signature, ABI
 * version, vendor, pool), runs a demo child VM whose serial output it emulates, shows the
 * pool coming back at TERM, and powers the machine off. An EFI application in the control
 * guest. */
#include <efi.h>
#include <efilib.h>
#include "../../abi/bvmm.h"
#include "../libvmm/vmm_state.h"
#include "../libvmm/vmm_exit.h"

/* The hypervisor's vendor (HVINFO): RUN's exit codes are its own (vmm_exit.h). */
static uint32_t vendor = BVMM_VENDOR_AMD_SVM;

extern uint8_t demo16[], demo16_end[];

#define COM_THR 0x3f8
#define COM_LSR 0x3fd
#define LSR_THRE_TEMT 0x60

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* The vmd-style loop: RUN, emulate the port the guest used, continue. */
static void run_demo(uint32_t id)
{
	static struct vm_exit ex;
	static CHAR16 line[160];
	struct vm_run_params rp = { .vrp_vm_id = id, .vrp_irq = 0xffff, .vrp_exit = &ex };
	unsigned n = 0, exits = 0;
	uint64_t err;
	while (!(err = bvmm_hypercall(BVMM_OP_RUN, &rp))) {
		exits++;
		rp.vrp_continue = 1;
		if (vmm_exit_kind(rp.vrp_exit_reason, vendor) != VMM_EXIT_KIND_IO)
			continue;   /* VM_EXIT_NONE: our own timer ticked; just run on */
		if (ex.vei.vei_dir == VEI_DIR_IN)
			ex.vei.vei_data = ex.vei.vei_port == COM_LSR ? LSR_THRE_TEMT : 0xff;
		else if (ex.vei.vei_port == COM_THR) {
			char ch = (char)ex.vei.vei_data;
			if (ch != '\n' && n < 158)
				line[n++] = (CHAR16)ch;
			if (ch == '\n') {
				line[n] = 0;
				Print(L"child: %s\n", line);
				n = 0;
			}
		}
	}
	Print(L"control: the child halted with interrupts off (RUN: errno %ld) after %d exits\n",
	      err, exits);
}

static void demo(void)
{
	static struct vm_create_params cp;
	static struct vm_resetcpu_params rr;
	EFI_PHYSICAL_ADDRESS mem;
	uint64_t before = vmm_pool_free(), err;

	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, 256, &mem)))
		return;
	SetMem((void *)mem, 1 << 20, 0);
	CopyMem((uint8_t *)mem + 0x7c00, demo16, demo16_end - demo16);
	cp.vcp_nmemranges = 1;
	cp.vcp_ncpus = 1;
	cp.vcp_memranges[0] = (struct vm_mem_range){ 0, mem, 1 << 20 };
	CopyMem(cp.vcp_name, "demo", 5);
	err = bvmm_hypercall(BVMM_OP_CREATE, &cp);
	if (err) {
		Print(L"control: CREATE failed, errno %ld\n", err);
		return;
	}
	Print(L"control: created VM %d \"demo\" (1 MiB of our memory at GPA 0, 1 vCPU), pool use %ld KiB\n",
	      cp.vcp_id, (before - vmm_pool_free()) >> 10);
	rr.vrp_vm_id = cp.vcp_id;
	vmm_state_real(&rr.vrp_init_state, 0, 0x7c00);
	err = bvmm_hypercall(BVMM_OP_RESETCPU, &rr);
	if (!err)
		run_demo(cp.vcp_id);
	struct vm_terminate_params t = { cp.vcp_id };
	err = bvmm_hypercall(BVMM_OP_TERM, &t);
	Print(L"control: TERM errno %ld, pool free %ld KiB (%a before CREATE)\n", err,
	      vmm_pool_free() >> 10, vmm_pool_free() == before ? "as" : "NOT as");
	uefi_call_wrapper(BS->FreePages, 2, mem, 256);
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
		if (!err) {
			vendor = info.vhi_vendor;
			demo();
		}
	}
	Print(L"control: powering off\n");
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
	return EFI_SUCCESS;
}
