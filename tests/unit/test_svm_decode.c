/* Unit tests of arch/x86_64/svm/decode.c: instruction lengths, the next RIP with and without
 * NRIP save, and the MSR permission map layout of AMD APM vol. 2, 15.11. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/cpu.h"
#include "../../arch/x86_64/svm/svm.h"

static void test_insn_len(void **state)
{
	(void)state;
	assert_int_equal(svm_insn_len(SVM_EXIT_CPUID), 2);
	assert_int_equal(svm_insn_len(SVM_EXIT_MSR), 2);
	assert_int_equal(svm_insn_len(SVM_EXIT_VMMCALL), 3);
	assert_int_equal(svm_insn_len(SVM_EXIT_HLT), 1);
}

static void test_insn_len_other_exits_zero(void **state)
{
	(void)state;
	uint64_t codes[] = { SVM_EXIT_EXCP_BASE + 13, SVM_EXIT_INTR, SVM_EXIT_NMI, SVM_EXIT_INIT,
			     SVM_EXIT_VINTR, SVM_EXIT_IOIO, SVM_EXIT_SHUTDOWN, SVM_EXIT_VMRUN,
			     SVM_EXIT_VMLOAD, SVM_EXIT_NPF, SVM_EXIT_INVALID, 0xffffffffffffffffull,
			     0, 0x100000072ull /* CPUID code in the high half: not CPUID */ };
	for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++)
		assert_int_equal(svm_insn_len(codes[i]), 0);
}

static struct vmcb *new_vmcb(void)
{
	struct vmcb *v = aligned_alloc(4096, sizeof *v);
	assert_non_null(v);
	memset(v, 0, sizeof *v);
	return v;
}

static void test_next_rip_software(void **state)
{
	(void)state;
	struct vmcb *v = new_vmcb();
	struct { uint64_t code; unsigned len; } cases[] = {
		{ SVM_EXIT_CPUID, 2 }, { SVM_EXIT_MSR, 2 }, { SVM_EXIT_VMMCALL, 3 },
		{ SVM_EXIT_HLT, 1 },
	};
	for (unsigned i = 0; i < 4; i++) {
		v->c.exitcode = cases[i].code;
		v->s.rip = 0xfffff000;
		v->c.next_rip = 0x12345678;   /* stale: must be ignored without NRIP save */
		assert_int_equal(svm_next_rip(v, 0), 0xfffff000ull + cases[i].len);
		v->c.next_rip = 0;
		assert_int_equal(svm_next_rip(v, 0), 0xfffff000ull + cases[i].len);
	}
	/* a 64-bit RIP */
	v->c.exitcode = SVM_EXIT_VMMCALL;
	v->s.rip = 0xffffffff80001000ull;
	assert_int_equal(svm_next_rip(v, 0), 0xffffffff80001003ull);
	/* an exit that does not advance */
	v->c.exitcode = SVM_EXIT_NPF;
	v->s.rip = 0x7000;
	assert_int_equal(svm_next_rip(v, 0), 0x7000);
	free(v);
}

static void test_next_rip_nrips(void **state)
{
	(void)state;
	struct vmcb *v = new_vmcb();
	v->c.exitcode = SVM_EXIT_CPUID;
	v->s.rip = 0x1000;
	v->c.next_rip = 0x1005;   /* e.g. CPUID with prefixes: the CPU knows better */
	assert_int_equal(svm_next_rip(v, 1), 0x1005);
	v->c.exitcode = SVM_EXIT_VMMCALL;
	v->s.rip = 0xffffffff80000000ull;
	v->c.next_rip = 0xffffffff80000003ull;
	assert_int_equal(svm_next_rip(v, 1), 0xffffffff80000003ull);
	free(v);
}

static void test_next_rip_nrips_zero_falls_back(void **state)
{
	(void)state;
	struct vmcb *v = new_vmcb();
	v->c.exitcode = SVM_EXIT_MSR;
	v->s.rip = 0x2000;
	v->c.next_rip = 0;
	assert_int_equal(svm_next_rip(v, 1), 0x2002);
	v->c.exitcode = SVM_EXIT_HLT;
	assert_int_equal(svm_next_rip(v, 1), 0x2001);
	free(v);
}

static void test_msrpm_bit_ranges(void **state)
{
	(void)state;
	/* range 0: MSRs 0..0x1fff from byte 0 */
	assert_int_equal(msrpm_bit(0), 0);
	assert_int_equal(msrpm_bit(1), 2);
	assert_int_equal(msrpm_bit(MSR_PAT), 0x277 * 2);
	assert_int_equal(msrpm_bit(0x1fff), 0x1fff * 2);
	/* range 1: 0xc0000000..0xc0001fff from byte 0x800 */
	assert_int_equal(msrpm_bit(0xc0000000u), 0x800 * 8);
	assert_int_equal(msrpm_bit(MSR_EFER), 0x800 * 8 + 0x80 * 2);
	assert_int_equal(msrpm_bit(MSR_LSTAR), 0x800 * 8 + 0x82 * 2);
	assert_int_equal(msrpm_bit(0xc0001fffu), 0x800 * 8 + 0x1fff * 2);
	/* range 2: 0xc0010000..0xc0011fff from byte 0x1000 */
	assert_int_equal(msrpm_bit(0xc0010000u), 0x1000 * 8);
	assert_int_equal(msrpm_bit(MSR_VM_CR), 0x1000 * 8 + 0x114 * 2);
	assert_int_equal(msrpm_bit(MSR_VM_HSAVE_PA), 0x1000 * 8 + 0x117 * 2);
	assert_int_equal(msrpm_bit(0xc0011fffu), 0x1000 * 8 + 0x1fff * 2);
	/* every bit lands inside the first 6 KiB of the map */
	assert_true(msrpm_bit(0xc0011fffu) + 1 < 0x1800 * 8);
}

static void test_msrpm_bit_outside(void **state)
{
	(void)state;
	uint32_t out[] = { 0x2000, 0x2001, 0xbfffffffu, 0xc0002000u, 0xc000ffffu, 0xc0012000u,
			   0xc0020000u, 0x40000000u, 0x80000000u, 0xffffffffu, 0xc0000000u - 1 };
	for (unsigned i = 0; i < sizeof out / sizeof out[0]; i++)
		assert_int_equal(msrpm_bit(out[i]), -1);
}

/* Count set bits of the map and check exactly the expected (byte, mask) pairs are set. */
static void expect_only(const uint8_t *map, const unsigned *bytes, const uint8_t *masks,
			unsigned n)
{
	for (unsigned i = 0; i < MSRPM_SIZE; i++) {
		uint8_t want = 0;
		for (unsigned j = 0; j < n; j++)
			if (bytes[j] == i)
				want |= masks[j];
		if (map[i] != want)
			fail_msg("msrpm byte 0x%x = 0x%02x, expected 0x%02x", i, map[i], want);
	}
}

static void test_msrpm_intercept_efer(void **state)
{
	(void)state;
	uint8_t *map = calloc(1, MSRPM_SIZE);
	assert_non_null(map);
	msrpm_intercept(map, MSR_EFER);
	/* bit 0x4100 = byte 0x820, bits 0 (read) and 1 (write) */
	unsigned b[] = { 0x820 };
	uint8_t m[] = { 0x03 };
	expect_only(map, b, m, 1);
	free(map);
}

static void test_msrpm_intercept_three(void **state)
{
	(void)state;
	uint8_t *map = calloc(1, MSRPM_SIZE);
	assert_non_null(map);
	msrpm_intercept(map, MSR_EFER);
	msrpm_intercept(map, MSR_VM_CR);
	msrpm_intercept(map, MSR_VM_HSAVE_PA);
	/* VM_CR: bit 0x8228 = byte 0x1045 bits 0,1; VM_HSAVE_PA: bit 0x822e = byte 0x1045
	 * bits 6,7 (same byte) */
	unsigned b[] = { 0x820, 0x1045, 0x1045 };
	uint8_t m[] = { 0x03, 0x03, 0xc0 };
	expect_only(map, b, m, 3);
	/* idempotent */
	msrpm_intercept(map, MSR_VM_CR);
	expect_only(map, b, m, 3);
	free(map);
}

static void test_msrpm_intercept_keeps_other_bits(void **state)
{
	(void)state;
	uint8_t *map = malloc(MSRPM_SIZE);
	assert_non_null(map);
	memset(map, 0, MSRPM_SIZE);
	map[0x1045] = 0x3c;   /* the neighbours of VM_CR and VM_HSAVE_PA */
	msrpm_intercept(map, MSR_VM_CR);
	assert_int_equal(map[0x1045], 0x3f);
	msrpm_intercept(map, MSR_VM_HSAVE_PA);
	assert_int_equal(map[0x1045], 0xff);
	free(map);
}

static void test_msrpm_intercept_range_edges(void **state)
{
	(void)state;
	uint8_t *map = calloc(1, MSRPM_SIZE);
	assert_non_null(map);
	msrpm_intercept(map, 0);            /* byte 0 bits 0,1 */
	msrpm_intercept(map, 0x1fff);       /* byte 0x7ff bits 6,7 */
	msrpm_intercept(map, 0xc0001fffu);  /* byte 0xfff bits 6,7 */
	msrpm_intercept(map, 0xc0010000u);  /* byte 0x1000 bits 0,1 */
	unsigned b[] = { 0, 0x7ff, 0xfff, 0x1000 };
	uint8_t m[] = { 0x03, 0xc0, 0xc0, 0x03 };
	expect_only(map, b, m, 4);
	free(map);
}

static void test_msrpm_intercept_outside_noop(void **state)
{
	(void)state;
	uint8_t *map = calloc(1, MSRPM_SIZE);
	assert_non_null(map);
	msrpm_intercept(map, 0x2000);
	msrpm_intercept(map, 0xc0002000u);
	msrpm_intercept(map, 0xc0012000u);
	msrpm_intercept(map, 0xffffffffu);
	expect_only(map, NULL, NULL, 0);
	free(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insn_len),
		cmocka_unit_test(test_insn_len_other_exits_zero),
		cmocka_unit_test(test_next_rip_software),
		cmocka_unit_test(test_next_rip_nrips),
		cmocka_unit_test(test_next_rip_nrips_zero_falls_back),
		cmocka_unit_test(test_msrpm_bit_ranges),
		cmocka_unit_test(test_msrpm_bit_outside),
		cmocka_unit_test(test_msrpm_intercept_efer),
		cmocka_unit_test(test_msrpm_intercept_three),
		cmocka_unit_test(test_msrpm_intercept_keeps_other_bits),
		cmocka_unit_test(test_msrpm_intercept_range_edges),
		cmocka_unit_test(test_msrpm_intercept_outside_noop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
