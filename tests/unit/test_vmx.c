/* Unit tests of the VMX facts that need no hardware (arch/x86_64/vmx/caps.c): control values
 * from the capability MSRs of Bochs' two models (PLATFORM.md), exit-qualification decoding,
 * VM-instruction error names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/vmx/vmx.h"
#include "../../abi/bvmm.h"

/* Measured under Bochs 2.7 (PLATFORM.md). */
#define TRUE_PINBASED  0x7f00000016ull
#define TRUE_PROCBASED 0xf7f9fffe04006172ull
#define TRUE_EXIT      0x7fffff00036dfbull
#define TRUE_ENTRY     0xffff000011fbull
#define PROC2_SKYLAKE  0x02177fff00000000ull
#define PROC2_HASWELL  0x00047fff00000000ull

static void test_controls_bochs(void **state)
{
	(void)state;
	uint32_t v, miss;
	/* pin-based: nothing wanted, the must-be-one bits (1, 2, 4) kept */
	assert_int_equal(vmx_ctl(TRUE_PINBASED, 0, 0, &v, &miss), 0);
	assert_int_equal(v, 0x16);
	/* processor-based: I/O and MSR bitmaps, secondary controls; CR3 exiting may be 0 */
	assert_int_equal(vmx_ctl(TRUE_PROCBASED, PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY,
				 0, &v, &miss), 0);
	assert_int_equal(v, 0x96006172);   /* what bvmm logged on both models */
	assert_false(v & (PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT | PROC_HLT_EXIT));
	/* secondary: EPT and unrestricted guest needed; XSAVES only where offered */
	uint32_t want = PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES | PROC2_VPID;
	assert_int_equal(vmx_ctl(PROC2_SKYLAKE, PROC2_EPT | PROC2_UNRESTRICTED, want, &v, &miss), 0);
	assert_int_equal(v, 0x1010aa);
	assert_int_equal(vmx_ctl(PROC2_HASWELL, PROC2_EPT | PROC2_UNRESTRICTED, want, &v, &miss), 0);
	assert_int_equal(v, 0x10aa);
	/* exit and entry: 64-bit host, EFER and PAT saved and loaded */
	assert_int_equal(vmx_ctl(TRUE_EXIT, EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
				 EXIT_SAVE_PAT | EXIT_LOAD_PAT, 0, &v, &miss), 0);
	assert_int_equal(v, 0x3f6ffb);
	assert_int_equal(vmx_ctl(TRUE_ENTRY, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT, 0, &v, &miss), 0);
	assert_int_equal(v, 0xd1fb);
}

static void test_controls_missing(void **state)
{
	(void)state;
	uint32_t v, miss;
	/* a CPU without EPT (secondary allowed-1 lacks bit 1): refused, and the bit named */
	assert_int_equal(vmx_ctl(0x0000007d00000000ull, PROC2_EPT | PROC2_UNRESTRICTED, 0, &v, &miss), -1);
	assert_int_equal(miss, PROC2_EPT | PROC2_UNRESTRICTED);
	/* a wanted bit the CPU lacks is simply left out */
	assert_int_equal(vmx_ctl(0x0000008200000000ull, PROC2_EPT, PROC2_XSAVES, &v, &miss), 0);
	assert_int_equal(v, PROC2_EPT);
	/* a must-be-one bit stays, even where the MSR's allowed-1 half (wrongly) lacks it */
	assert_int_equal(vmx_ctl(0x0000000000000016ull, 0, 0, &v, &miss), 0);
	assert_int_equal(v, 0x16);
}

static void test_io_qualification(void **state)
{
	(void)state;
	struct vmx_io io;
	vmx_decode_io(0x80ull << 16, &io);                   /* out %al, $0x80 */
	assert_true(io.size == 1 && !io.in && !io.string && !io.rep && io.port == 0x80);
	vmx_decode_io(3 | 8 | (0xcfcull << 16), &io);         /* in (%dx), %eax */
	assert_true(io.size == 4 && io.in && io.port == 0xcfc);
	vmx_decode_io(1 | 16 | 32 | (0x3f8ull << 16), &io);   /* rep outsw */
	assert_true(io.size == 2 && !io.in && io.string && io.rep && io.port == 0x3f8);
}

static void test_cr_qualification(void **state)
{
	(void)state;
	struct vmx_cr c;
	vmx_decode_cr(4, &c);                                /* mov %rax, %cr4 */
	assert_true(c.cr == 4 && c.type == 0 && c.gpr == VCPU_REGS_RAX);
	vmx_decode_cr(0 | (3 << 8), &c);                     /* mov %rbx, %cr0 */
	assert_true(c.cr == 0 && c.type == 0 && c.gpr == VCPU_REGS_RBX);
	vmx_decode_cr(4 | (4 << 8), &c);                     /* mov %rsp, %cr4 */
	assert_true(c.gpr == VCPU_REGS_RSP);
	vmx_decode_cr(4 | (9 << 8), &c);                     /* mov %r9, %cr4 */
	assert_true(c.gpr == VCPU_REGS_R9);
	vmx_decode_cr(3 | (1 << 4) | (2 << 8), &c);          /* mov %cr3, %rdx */
	assert_true(c.cr == 3 && c.type == 1 && c.gpr == VCPU_REGS_RDX);
	vmx_decode_cr((3 << 4) | (0xbull << 16), &c);        /* lmsw with source 0xb */
	assert_true(c.type == 3 && c.lmsw == 0xb);
}

static void test_insn_errors(void **state)
{
	(void)state;
	assert_string_equal(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
	assert_string_equal(vmx_insn_error_name(8), "VM entry with invalid host-state field(s)");
	assert_string_equal(vmx_insn_error_name(14), "unknown error");
	assert_string_equal(vmx_insn_error_name(99999), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_bochs),
		cmocka_unit_test(test_controls_missing),
		cmocka_unit_test(test_io_qualification),
		cmocka_unit_test(test_cr_qualification),
		cmocka_unit_test(test_insn_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
