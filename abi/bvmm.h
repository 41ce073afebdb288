/* bvmm public ABI: operation numbers, errno values, structures and the hypercall stub.
 * Included by the hypervisor and by control-domain code alike; includes nothing of theirs. */
#ifndef BVMM_ABI_H
#define BVMM_ABI_H

#include <stdint.h>

#define BVMM_ABI_VERSION 1

/* Operation numbers (RAX at the hypercall), shared/ABI.md. */
#define BVMM_OP_HVINFO        0
#define BVMM_OP_CREATE        1
#define BVMM_OP_RUN           2
#define BVMM_OP_INFO          3
#define BVMM_OP_TERM          4
#define BVMM_OP_RESETCPU      5
#define BVMM_OP_INTR          6
#define BVMM_OP_READREGS      7
#define BVMM_OP_WRITEREGS     8
#define BVMM_OP_READVMPARAMS  9
#define BVMM_OP_WRITEVMPARAMS 10
#define BVMM_OP_MPROTECT_EPT  11
/* bvmm's extension: RUN with its parameters and its exit in one block (struct vm_run_block)
 * that RDI names by the caller's guest-physical address, so that no page table of the caller
 * is walked (KVM's kvm_run page; bvmm.4, "RUN_PHYS"). */
#define BVMM_OP_RUN_PHYS      12
#define BVMM_OP_COUNT         13
/* Only in test builds of the hypervisor (bvmm-test.efi); ENOSYS in bvmm.efi. */
#define BVMM_OP_TEST_PANIC        0x7f000001
#define BVMM_OP_TEST_INTERCEPT_UD 0x7f000002

/* errno values returned in RAX, Linux numbering (shared/ABI.md). */
#define BVMM_EPERM   1
#define BVMM_ENOENT  2
#define BVMM_EIO     5
#define BVMM_ENOMEM  12
#define BVMM_EFAULT  14
#define BVMM_EBUSY   16
#define BVMM_EEXIST  17
#define BVMM_EINVAL  22
#define BVMM_ENOSPC  28
#define BVMM_ENOSYS  38

/* vhi_vendor */
#define BVMM_VENDOR_AMD_SVM   1
#define BVMM_VENDOR_INTEL_VMX 2

/* CPUID leaf 0x40000000: EAX = highest hypervisor leaf, EBX/ECX/EDX = "bvmm" + 8 NULs. */
#define BVMM_CPUID_BASE      0x40000000u
#define BVMM_CPUID_SIG_EBX   0x6d6d7662u /* "bvmm" */
#define BVMM_CPUID_SIG_ECX   0u
#define BVMM_CPUID_SIG_EDX   0u

/* Operation 0: what the hypervisor is and how full its pool is. */
struct vm_hvinfo_params {
	uint32_t vhi_abi_version;  /* out: BVMM_ABI_VERSION */
	uint32_t vhi_vendor;       /* out: BVMM_VENDOR_* */
	uint64_t vhi_pool_size;    /* out: bytes in the hypervisor's pool */
	uint64_t vhi_pool_free;    /* out: bytes of it not in use */
};
_Static_assert(sizeof(struct vm_hvinfo_params) == 24, "vm_hvinfo_params is 24 bytes");

/* ---- vmm(4) limits and constants (OpenBSD 7.2 vmmvar.h) ---- */
#define VMM_MAX_MEM_RANGES    16
#define VMM_MAX_DISKS_PER_VM  4
#define VMM_MAX_PATH_DISK     128
#define VMM_MAX_PATH_CDROM    128
#define VMM_MAX_NAME_LEN      64
#define VMM_MAX_KERNEL_PATH   128
#define VMM_MAX_NICS_PER_VM   4
#define VMM_MAX_VCPUS_PER_VM  64
#define VMM_MAX_VCPUS         512
#define VMM_MAX_VM_MEM_SIZE   (32ull << 30)
#define VMM_PCI_MMIO_BAR_BASE 0xf0000000ull
#define VMM_PCI_MMIO_BAR_END  0xffdfffffull

#define VRP_IRQ_NONE       0xffff   /* vrp_irq: no interrupt to inject (vmd's value) */
#define VM_EXIT_TERMINATED 0xfffe
#define VM_EXIT_NONE       0xffff

#define VCPU_STATE_STOPPED    0
#define VCPU_STATE_RUNNING    1
#define VCPU_STATE_REQTERM    2
#define VCPU_STATE_TERMINATED 3
#define VCPU_STATE_UNKNOWN    4

#define VEI_DIR_OUT 0
#define VEI_DIR_IN  1

#define VEE_FAULT_INVALID     0
#define VEE_FAULT_HANDLED     1
#define VEE_FAULT_MMIO_ASSIST 2
#define VEE_FAULT_PROTECT     3
#define VEE_LEN_VALID   0x1
#define VEE_BYTES_VALID 0x2

/* vcpu_reg_state indices */
#define VCPU_REGS_RAX 0
#define VCPU_REGS_RBX 1
#define VCPU_REGS_RCX 2
#define VCPU_REGS_RDX 3
#define VCPU_REGS_RSI 4
#define VCPU_REGS_RDI 5
#define VCPU_REGS_R8  6
#define VCPU_REGS_R9  7
#define VCPU_REGS_R10 8
#define VCPU_REGS_R11 9
#define VCPU_REGS_R12 10
#define VCPU_REGS_R13 11
#define VCPU_REGS_R14 12
#define VCPU_REGS_R15 13
#define VCPU_REGS_RSP 14
#define VCPU_REGS_RBP 15
#define VCPU_REGS_RIP 16
#define VCPU_REGS_RFLAGS 17
#define VCPU_REGS_NGPRS 18

#define VCPU_REGS_CR0 0
#define VCPU_REGS_CR2 1
#define VCPU_REGS_CR3 2
#define VCPU_REGS_CR4 3
#define VCPU_REGS_CR8 4
#define VCPU_REGS_XCR0 5
#define VCPU_REGS_PDPTE0 6
#define VCPU_REGS_PDPTE1 7
#define VCPU_REGS_PDPTE2 8
#define VCPU_REGS_PDPTE3 9
#define VCPU_REGS_NCRS 10

#define VCPU_REGS_EFER 0
#define VCPU_REGS_STAR 1
#define VCPU_REGS_LSTAR 2
#define VCPU_REGS_CSTAR 3
#define VCPU_REGS_SFMASK 4
#define VCPU_REGS_KGSBASE 5
#define VCPU_REGS_MISC_ENABLE 6
#define VCPU_REGS_NMSRS 7

#define VCPU_REGS_DR0 0
#define VCPU_REGS_DR1 1
#define VCPU_REGS_DR2 2
#define VCPU_REGS_DR3 3
#define VCPU_REGS_DR6 4
#define VCPU_REGS_DR7 5
#define VCPU_REGS_NDRS 6

#define VCPU_REGS_CS 0
#define VCPU_REGS_DS 1
#define VCPU_REGS_ES 2
#define VCPU_REGS_FS 3
#define VCPU_REGS_GS 4
#define VCPU_REGS_SS 5
#define VCPU_REGS_LDTR 6
#define VCPU_REGS_TR 7
#define VCPU_REGS_NSREGS 8

#define VM_RWREGS_GPRS 0x1
#define VM_RWREGS_SREGS 0x2
#define VM_RWREGS_CRS 0x4
#define VM_RWREGS_MSRS 0x8
#define VM_RWREGS_DRS 0x10
#define VM_RWREGS_ALL 0x1f

#define VM_RWVMPARAMS_PVCLOCK_SYSTEM_GPA 0x1
#define VM_RWVMPARAMS_PVCLOCK_VERSION    0x2
#define VM_RWVMPARAMS_ALL                0x3
/* bvmm's extension: vpp_xapic, whether the caller models a local APIC (xAPIC at 0xfee00000)
 * for this vCPU; the hypervisor then answers CPUID.1:EDX.APIC and IA32_APIC_BASE to match
 * (bvmm.4, "Child environment"). */
#define VM_RWVMPARAMS_XAPIC              0x4
#define VPP_XAPIC_NONE  0   /* no local APIC: CPUID.1:EDX.APIC clear, APIC_BASE #GP (default) */
#define VPP_XAPIC_MMIO  1   /* an xAPIC at 0xfee00000, enabled, fixed */
/* bvmm's extension: vpp_exit_regs, the VM_RWREGS_* groups every exit of this vCPU writes into
 * vrp_exit->vrs (default VM_RWREGS_ALL, vmm(4)'s behaviour); VM_RWREGS_GPRS must be one of
 * them. The other groups are left as the caller has them: a device-model loop that needs only
 * the general registers saves the rest of the 568 bytes on every exit (KVM's sync_regs). */
#define VM_RWVMPARAMS_EXIT_REGS          0x8

/* vsi_ar: the VMX access-rights layout */
#define VSI_AR_P        (1u << 7)
#define VSI_AR_L        (1u << 13)
#define VSI_AR_DB       (1u << 14)
#define VSI_AR_G        (1u << 15)
#define VSI_AR_UNUSABLE (1u << 16)

/* MPROTECT_EPT vmep_prot */
#define PROT_READ  0x1
#define PROT_WRITE 0x2
#define PROT_EXEC  0x4

/* Exit codes, as vmm(4) reports them (both vendors'). */
#define VMX_EXIT_TRIPLE_FAULT  2
#define VMX_EXIT_INT_WINDOW    7
#define VMX_EXIT_HLT           12
#define VMX_EXIT_IO            30
#define VMX_EXIT_EPT_VIOLATION 48
#define SVM_VMEXIT_INTR        0x60
#define SVM_VMEXIT_NMI         0x61
#define SVM_VMEXIT_VINTR       0x64
#define SVM_VMEXIT_CPUID       0x72
#define SVM_VMEXIT_HLT         0x78
#define SVM_VMEXIT_IOIO        0x7b
#define SVM_VMEXIT_MSR         0x7c
#define SVM_VMEXIT_SHUTDOWN    0x7f
#define SVM_VMEXIT_NPF         0x400

/* KVM-style paravirtual clock (the guest side). */
#define KVM_MSR_SYSTEM_TIME_NEW 0x4b564d01u
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)
#define PVCLOCK_TSC_STABLE_BIT (1u << 0)

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t   tsc_shift;
	uint8_t  flags;
	uint8_t  pad[2];
};
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock_vcpu_time_info");

/* ---- vmm(4) structures, OpenBSD 7.2 layout (x86_64 LP64) ---- */
struct vm_mem_range {
	uint64_t vmr_gpa;   /* paddr_t */
	uint64_t vmr_va;    /* vaddr_t: caller memory backing the range */
	uint64_t vmr_size;
};

struct vm_create_params {
	uint64_t vcp_nmemranges;   /* size_t */
	uint64_t vcp_ncpus;
	uint64_t vcp_ndisks;
	uint64_t vcp_nnics;
	struct vm_mem_range vcp_memranges[VMM_MAX_MEM_RANGES];
	char vcp_disks[VMM_MAX_DISKS_PER_VM][VMM_MAX_PATH_DISK];
	char vcp_cdrom[VMM_MAX_PATH_CDROM];
	char vcp_name[VMM_MAX_NAME_LEN];
	char vcp_kernel[VMM_MAX_KERNEL_PATH];
	uint8_t vcp_macs[VMM_MAX_NICS_PER_VM][6];
	uint32_t vcp_id;           /* out */
};

struct vcpu_segment_info {
	uint16_t vsi_sel;
	uint32_t vsi_limit;
	uint32_t vsi_ar;
	uint64_t vsi_base;
};

struct vcpu_reg_state {
	uint64_t vrs_gprs[VCPU_REGS_NGPRS];
	uint64_t vrs_crs[VCPU_REGS_NCRS];
	uint64_t vrs_msrs[VCPU_REGS_NMSRS];
	uint64_t vrs_drs[VCPU_REGS_NDRS];
	struct vcpu_segment_info vrs_sregs[VCPU_REGS_NSREGS];
	struct vcpu_segment_info vrs_gdtr;
	struct vcpu_segment_info vrs_idtr;
};

struct vm_exit_inout {
	uint8_t vei_size;
	uint8_t vei_dir;
	uint8_t vei_rep;
	uint8_t vei_string;
	uint8_t vei_encoding;
	uint16_t vei_port;
	uint32_t vei_data;
};

struct vm_exit_eptviolation {
	uint8_t vee_fault_type;
	uint8_t vee_insn_info;
	uint8_t vee_insn_len;
	uint8_t vee_insn_bytes[15];
};

struct vm_exit {
	union {
		struct vm_exit_inout vei;
		struct vm_exit_eptviolation vee;
	};
	struct vcpu_reg_state vrs;
	int cpl;
};

struct vm_run_params {
	uint32_t vrp_vm_id;
	uint32_t vrp_vcpu_id;
	uint8_t vrp_continue;
	uint16_t vrp_irq;
	struct vm_exit *vrp_exit;
	uint16_t vrp_exit_reason;  /* out */
	uint8_t vrp_irqready;      /* out */
};

/* BVMM_OP_RUN_PHYS's block: RUN's parameters (vrp_exit is not read: the exit goes to vrb_exit)
 * and the exit, at fixed offsets. */
struct vm_run_block {
	struct vm_run_params vrb_params;
	uint8_t vrb_pad[32];
	struct vm_exit vrb_exit;
};

struct vm_info_result {
	uint64_t vir_memory_size;
	uint64_t vir_used_size;
	uint64_t vir_ncpus;
	uint8_t vir_vcpu_state[VMM_MAX_VCPUS_PER_VM];
	int32_t vir_creator_pid;
	uint32_t vir_id;
	char vir_name[VMM_MAX_NAME_LEN];
};

struct vm_info_params {
	uint64_t vip_size;         /* in: bytes at vip_info; out: bytes needed */
	uint64_t vip_info_ct;      /* out */
	struct vm_info_result *vip_info;
};

struct vm_terminate_params {
	uint32_t vtp_vm_id;
};

struct vm_resetcpu_params {
	uint32_t vrp_vm_id;
	uint32_t vrp_vcpu_id;
	struct vcpu_reg_state vrp_init_state;
};

struct vm_intr_params {
	uint32_t vip_vm_id;
	uint32_t vip_vcpu_id;
	uint16_t vip_intr;
};

struct vm_rwregs_params {
	uint32_t vrwp_vm_id;
	uint32_t vrwp_vcpu_id;
	uint64_t vrwp_mask;
	struct vcpu_reg_state vrwp_regs;
};

struct vm_rwvmparams_params {
	uint32_t vpp_vm_id;
	uint32_t vpp_vcpu_id;
	uint32_t vpp_mask;
	uint32_t vpp_exit_regs;    /* bvmm: VM_RWREGS_* (VM_RWVMPARAMS_EXIT_REGS); in OpenBSD's padding */
	uint64_t vpp_pvclock_system_gpa;
	uint32_t vpp_pvclock_version;
	uint32_t vpp_xapic;        /* bvmm: VPP_XAPIC_* (VM_RWVMPARAMS_XAPIC); in OpenBSD's padding */
};

struct vm_mprotect_ept_params {
	uint32_t vmep_vm_id;
	uint32_t vmep_vcpu_id;
	uint64_t vmep_sgpa;
	uint64_t vmep_size;
	int vmep_prot;
};

#define BVMM_ABI_OFFSETOF(t, f) __builtin_offsetof(t, f)
/* RUN's results, the only bytes of vm_run_params it writes: vrp_exit_reason and vrp_irqready. */
#define VRP_OUT_OFF BVMM_ABI_OFFSETOF(struct vm_run_params, vrp_exit_reason)
#define VRP_OUT_LEN (BVMM_ABI_OFFSETOF(struct vm_run_params, vrp_irqready) + 1 - VRP_OUT_OFF)
_Static_assert(sizeof(struct vm_mem_range) == 24, "vm_mem_range");
_Static_assert(sizeof(struct vm_create_params) == 1280, "vm_create_params");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_create_params, vcp_id) == 1272, "vcp_id");
_Static_assert(sizeof(struct vcpu_segment_info) == 24, "vcpu_segment_info");
_Static_assert(sizeof(struct vcpu_reg_state) == 568, "vcpu_reg_state");
_Static_assert(sizeof(struct vm_exit) == 600, "vm_exit");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_exit, vrs) == 24, "vm_exit.vrs");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_exit, cpl) == 592, "vm_exit.cpl");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_exit_inout, vei_port) == 6, "vei_port");
_Static_assert(sizeof(struct vm_run_params) == 32, "vm_run_params");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_run_params, vrp_exit) == 16, "vrp_exit");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_run_params, vrp_exit_reason) == 24, "vrp_exit_reason");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_run_block, vrb_exit) == 64, "vrb_exit");
_Static_assert(sizeof(struct vm_run_block) == 664, "vm_run_block");
_Static_assert(sizeof(struct vm_info_result) == 160, "vm_info_result");
_Static_assert(sizeof(struct vm_info_params) == 24, "vm_info_params");
_Static_assert(sizeof(struct vm_terminate_params) == 4, "vm_terminate_params");
_Static_assert(sizeof(struct vm_resetcpu_params) == 576, "vm_resetcpu_params");
_Static_assert(sizeof(struct vm_intr_params) == 12, "vm_intr_params");
_Static_assert(sizeof(struct vm_rwregs_params) == 584, "vm_rwregs_params");
_Static_assert(sizeof(struct vm_rwvmparams_params) == 32, "vm_rwvmparams_params");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_rwvmparams_params, vpp_pvclock_system_gpa) == 16, "gpa");
_Static_assert(BVMM_ABI_OFFSETOF(struct vm_rwvmparams_params, vpp_xapic) == 28, "vpp_xapic");
_Static_assert(sizeof(struct vm_mprotect_ept_params) == 32, "vm_mprotect_ept_params");

/* ioctl numbers for a /dev/vmm device (OpenBSD's encoding; the same as Linux's for these
 * sizes): _IOWR = 0xc0000000, _IOW = 0x80000000, size << 16, 'V' << 8, number. */
#define BVMM_IOC(dir, nr, type) ((dir) | ((uint32_t)(sizeof(type) & 0x1fff) << 16) | ('V' << 8) | (nr))
#define VMM_IOC_CREATE        BVMM_IOC(0xc0000000u, 1, struct vm_create_params)
#define VMM_IOC_RUN           BVMM_IOC(0xc0000000u, 2, struct vm_run_params)
#define VMM_IOC_INFO          BVMM_IOC(0xc0000000u, 3, struct vm_info_params)
#define VMM_IOC_TERM          BVMM_IOC(0x80000000u, 4, struct vm_terminate_params)
#define VMM_IOC_RESETCPU      BVMM_IOC(0x80000000u, 5, struct vm_resetcpu_params)
#define VMM_IOC_INTR          BVMM_IOC(0x80000000u, 6, struct vm_intr_params)
#define VMM_IOC_READREGS      BVMM_IOC(0xc0000000u, 7, struct vm_rwregs_params)
#define VMM_IOC_WRITEREGS     BVMM_IOC(0x80000000u, 8, struct vm_rwregs_params)
#define VMM_IOC_READVMPARAMS  BVMM_IOC(0xc0000000u, 9, struct vm_rwvmparams_params)
#define VMM_IOC_WRITEVMPARAMS BVMM_IOC(0x80000000u, 10, struct vm_rwvmparams_params)
#define VMM_IOC_MPROTECT_EPT  BVMM_IOC(0x80000000u, 11, struct vm_mprotect_ept_params)
/* bvmm's own: HVINFO for a Linux control domain's user space (/dev/vmm), which cannot make the
 * hypercall itself (VMMCALL above CPL 0 is #UD). */
#define BVMM_IOC_HVINFO       BVMM_IOC(0xc0000000u, 12, struct vm_hvinfo_params)
/* bvmm's own: RUN_PHYS through /dev/vmm. The argument is the index of a page of the file's
 * mmap() (the driver's pages, one struct vm_run_block at the start of each), not a pointer. */
#define BVMM_IOC_RUN_BLOCK    (0x20000000u | ('V' << 8) | 13)

/* The hypercall: vmmcall (AMD) or vmcall (Intel) from CPL 0 of the control guest. RAX = op,
 * RDI = address of the parameter structure in the caller's address space; returns 0 or a
 * BVMM_E* value. Every other register is preserved by the hypervisor. On Intel bvmm takes
 * vmmcall too (through #UD, slower): the vendor is looked up once (CPUID leaf 0) so that each
 * vendor's own instruction is used. */
static inline uint64_t bvmm_hypercall(uint64_t op, void *params)
{
	static int intel = -1;
	uint64_t ret;
	if (intel < 0) {
		uint32_t a = 0, b, c, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
		intel = b == 0x756e6547;   /* "Genu"ineIntel */
	}
	if (intel)
		__asm__ volatile("vmcall" : "=a"(ret) : "a"(op), "D"(params) : "memory");
	else
		__asm__ volatile("vmmcall" : "=a"(ret) : "a"(op), "D"(params) : "memory");
	return ret;
}

#endif
