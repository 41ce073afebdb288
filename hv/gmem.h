/* Guest memory access: translate a guest virtual address through the guest's own page
 * tables (4-level long mode, 2 MiB / 1 GiB pages) and copy in or out page by page. A page
 * not present, or backed by memory the guest may not reach, gives BVMM_EFAULT. */
#ifndef HV_GMEM_H
#define HV_GMEM_H

#include <stddef.h>
#include <stdint.h>

struct gview {
	uint64_t cr0, cr3, cr4, efer;
	/* GPA -> host physical for [gpa, gpa+len) within one page; 0 or BVMM_EFAULT. */
	int (*gpa_to_hpa)(const struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa);
	void *ctx;
};

int gmem_translate(const struct gview *g, uint64_t va, int write, uint64_t *gpa);
int gmem_copy_in(const struct gview *g, void *dst, uint64_t va, size_t n);
/* Would gmem_copy_out() of n bytes at va succeed? 0 or BVMM_EFAULT; writes nothing. */
int gmem_check_out(const struct gview *g, uint64_t va, size_t n);
int gmem_copy_out(const struct gview *g, uint64_t va, const void *src, size_t n);

#endif
