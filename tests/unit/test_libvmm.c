/* Unit tests of control/libvmm: the ioctl-number mapping and the entry states RESETCPU must
 * accept (checked with the hypervisor's own validate_regs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../control/libvmm/vmm.h"
#include "../../control/libvmm/vmm_state.h"
#include "../../hv/validate.h"

static void test_ioctl_numbers(void **state)
{
	(void)state;
	/* The numbers of OpenBSD 7.2 (ABI.md: keep them). */
	assert_int_equal(VMM_IOC_CREATE, 0xc5005601u);
	assert_int_equal(VMM_IOC_RUN, 0xc0205602u);
	assert_int_equal(VMM_IOC_INFO, 0xc0185603u);
	assert_int_equal(VMM_IOC_TERM, 0x80045604u);
	assert_int_equal(VMM_IOC_RESETCPU, 0x82405605u);
	assert_int_equal(VMM_IOC_INTR, 0x800c5606u);
	assert_int_equal(VMM_IOC_READREGS, 0xc2485607u);
	assert_int_equal(VMM_IOC_WRITEREGS, 0x82485608u);
	assert_int_equal(VMM_IOC_READVMPARAMS, 0xc0205609u);
	assert_int_equal(VMM_IOC_WRITEVMPARAMS, 0x8020560au);
	assert_int_equal(VMM_IOC_MPROTECT_EPT, 0x8020560bu);
	assert_int_equal(vmm_ioctl_op(VMM_IOC_CREATE), BVMM_OP_CREATE);
	assert_int_equal(vmm_ioctl_op(VMM_IOC_RUN), BVMM_OP_RUN);
	assert_int_equal(vmm_ioctl_op(VMM_IOC_MPROTECT_EPT), BVMM_OP_MPROTECT_EPT);
	assert_int_equal(vmm_ioctl_op(VMM_IOC_WRITEVMPARAMS), BVMM_OP_WRITEVMPARAMS);
	assert_int_equal(vmm_ioctl_op(0), -1);                 /* HVINFO has no ioctl */
	assert_int_equal(vmm_ioctl_op(0xc0185600u), -1);
	assert_int_equal(vmm_ioctl_op(VMM_IOC_CREATE ^ 0x40000000u), -1);
}

static void test_entry_states_valid(void **state)
{
	(void)state;
	struct vcpu_reg_state rs;
	vmm_state_real(&rs, 0xf000, 0xfff0);
	assert_int_equal(validate_regs(&rs), 0);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_CS].vsi_base, 0xf0000);
	vmm_state_prot32(&rs, 0x2000);
	assert_int_equal(validate_regs(&rs), 0);
	vmm_state_long64(&rs, 0x100000);
	assert_int_equal(validate_regs(&rs), 0);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR0], 0x80010021);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR3], 0x2000);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR4], 0x620);
	assert_int_equal(rs.vrs_msrs[VCPU_REGS_EFER], 0x500);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_CS].vsi_ar, 0xa099);
	assert_int_equal(rs.vrs_gdtr.vsi_base, 0x1000);
	assert_int_equal(rs.vrs_gdtr.vsi_limit, 23);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioctl_numbers),
		cmocka_unit_test(test_entry_states_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
