/* libvmm (control-domain side): vmm(4)'s ioctl interface over bvmm's hypercalls, so that a
 * vmm(4) client ports by swapping ioctl(fd, VMM_IOC_X, &p) for vmm_ioctl(VMM_IOC_X, &p).
 * Header-only and freestanding. */
#ifndef LIBVMM_VMM_H
#define LIBVMM_VMM_H

#include "../../abi/bvmm.h"

/* The ioctl number of a hypercall, or 0 for one vmm(4) has no ioctl for. bvmm's HVINFO is
 * BVMM_IOC_HVINFO (its /dev/vmm extension). */
static inline uint32_t vmm_ioctl_cmd(uint64_t op)
{
	static const uint32_t cmds[BVMM_OP_COUNT] = {
		[BVMM_OP_HVINFO] = BVMM_IOC_HVINFO,
		[BVMM_OP_CREATE] = VMM_IOC_CREATE, [BVMM_OP_RUN] = VMM_IOC_RUN,
		[BVMM_OP_INFO] = VMM_IOC_INFO, [BVMM_OP_TERM] = VMM_IOC_TERM,
		[BVMM_OP_RESETCPU] = VMM_IOC_RESETCPU, [BVMM_OP_INTR] = VMM_IOC_INTR,
		[BVMM_OP_READREGS] = VMM_IOC_READREGS, [BVMM_OP_WRITEREGS] = VMM_IOC_WRITEREGS,
		[BVMM_OP_READVMPARAMS] = VMM_IOC_READVMPARAMS,
		[BVMM_OP_WRITEVMPARAMS] = VMM_IOC_WRITEVMPARAMS,
		[BVMM_OP_MPROTECT_EPT] = VMM_IOC_MPROTECT_EPT,
	};
	return op < BVMM_OP_COUNT ? cmds[op] : 0;
}

/* The hypercall behind an ioctl number, or -1 for a number vmm(4) does not have. */
static inline long vmm_ioctl_op(unsigned long cmd)
{
	for (long op = BVMM_OP_CREATE; op < BVMM_OP_COUNT; op++)
		if (cmd && vmm_ioctl_cmd((uint64_t)op) == cmd)   /* RUN_PHYS has none */
			return op;
	return -1;
}

/* ioctl(2)'s contract: 0, or -1 with the errno in *err (ENOTTY for an unknown number). */
static inline int vmm_ioctl(unsigned long cmd, void *params, int *err)
{
	long op = vmm_ioctl_op(cmd);
	uint64_t e = op < 0 ? 25 /* ENOTTY */ : bvmm_hypercall((uint64_t)op, params);
	if (err)
		*err = (int)e;
	return e ? -1 : 0;
}

#endif
