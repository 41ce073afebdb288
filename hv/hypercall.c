/* Hypercall dispatch: every argument is copied in once, validated, then acted on; output is
 * copied out only on success (shared/ABI.md). */
#include "hv.h"
#include "pool.h"
#include "log.h"
#include "../abi/bvmm.h"

/*
 * HVINFO: report the ABI version, the vendor and the pool's size and free bytes.
 * Returns 0, or EFAULT if the caller's structure is not mapped writable.
 */
static uint64_t hc_hvinfo(const struct gview *caller, uint64_t arg)
{
	struct vm_hvinfo_params p = {
		.vhi_abi_version = BVMM_ABI_VERSION,
		.vhi_vendor = hv.vendor,
		.vhi_pool_size = pool_size(),
		.vhi_pool_free = pool_free_bytes(),
	};
	return (uint64_t)gmem_copy_out(caller, arg, &p, sizeof p);
}

uint64_t hypercall(const struct gview *caller, uint64_t op, uint64_t arg)
{
	switch (op) {
	case BVMM_OP_HVINFO:
		return hc_hvinfo(caller, arg);
	default:
		/* Operations 1-11 (the vmm(4) set) are not implemented yet. */
		log_debug("hypercall %lu: ENOSYS", op);
		return BVMM_ENOSYS;
	}
}

int control_gpa_to_hpa(const struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	(void)g;
	if (gpa + len < gpa || gpa + len > hv.guest_top || pool_overlaps(gpa, len))
		return BVMM_EFAULT;
	*hpa = gpa;
	return 0;
}
