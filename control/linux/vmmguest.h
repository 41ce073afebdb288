/* vmmguest.h - what the /dev/vmm test programs (vmmtest, vmmsmp) share: the CPU vendor, which
 * names RUN's exit codes, and CREATE's parameters for one range at GPA 0. Freestanding and
 * header-only, since vmmtest has no libc. */
#ifndef VMMGUEST_H
#define VMMGUEST_H

#include "../libvmm/vmm_state.h"
#include "../libvmm/vmm_exit.h"

/* RUN's exit codes are the vendor's (vmm_exit.h): Intel's where CPUID says GenuineIntel. */
static inline uint32_t vmm_cpu_vendor(void)
{
	uint32_t a = 0, b, c, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	return b == 0x756e6547 ? BVMM_VENDOR_INTEL_VMX : BVMM_VENDOR_AMD_SVM;
}

/* CREATE of size bytes at GPA 0 backed by mem, ncpus vCPUs, the name cut to fit. */
static inline void vmm_create_gpa0(struct vm_create_params *cp, const void *mem, uint64_t size,
				   uint64_t ncpus, const char *name)
{
	uint8_t *b = (uint8_t *)cp;

	for (unsigned long i = 0; i < sizeof *cp; i++)
		b[i] = 0;
	cp->vcp_nmemranges = 1;
	cp->vcp_ncpus = ncpus;
	cp->vcp_memranges[0].vmr_gpa = 0;
	cp->vcp_memranges[0].vmr_va = (uint64_t)(unsigned long)mem;
	cp->vcp_memranges[0].vmr_size = size;
	for (int i = 0; name[i] && i < VMM_MAX_NAME_LEN - 1; i++)
		cp->vcp_name[i] = name[i];
}

#endif
