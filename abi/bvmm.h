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
#define BVMM_OP_COUNT         12

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

/* The hypercall: vmmcall (AMD) from CPL 0 of the control guest. RAX = op, RDI = address of
 * the parameter structure in the caller's address space; returns 0 or a BVMM_E* value.
 * Every other register is preserved by the hypervisor. */
static inline uint64_t bvmm_hypercall(uint64_t op, void *params)
{
	uint64_t ret;
	__asm__ volatile("vmmcall" : "=a"(ret) : "a"(op), "D"(params) : "memory");
	return ret;
}

#endif
