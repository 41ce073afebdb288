/* Unit tests of arch/x86_64/cpuid.c: what the control guest sees of CPUID. Every rule is
 * checked with the bit both clear and set on input, and with the other registers' bits
 * filled with patterns that must come back unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/cpuid.h"
#include "../../abi/bvmm.h"

#define PAT_A 0xa5a5a5a5u
#define PAT_B 0x5a5a5a5au
#define PAT_C 0x12345678u
#define PAT_D 0xfedcba98u

static struct cpuid_regs filt(uint32_t leaf, uint32_t sub, uint64_t cr4, struct cpuid_regs in)
{
	cpuid_filter_control(leaf, sub, cr4, &in);
	return in;
}

static struct cpuid_regs regs(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return (struct cpuid_regs){ a, b, c, d };
}

static void test_leaf1_hypervisor_bit_set(void **state)
{
	(void)state;
	struct cpuid_regs r = filt(1, 0, 0, regs(PAT_A, PAT_B, 0, PAT_D));
	assert_true(r.ecx & CPUID1_ECX_HYPERVISOR);
	assert_int_equal(r.eax, PAT_A);
	assert_int_equal(r.ebx, PAT_B);
	assert_int_equal(r.edx, PAT_D);
	/* already set stays set */
	r = filt(1, 0, 0, regs(0, 0, CPUID1_ECX_HYPERVISOR, 0));
	assert_int_equal(r.ecx, CPUID1_ECX_HYPERVISOR);
}

static void test_leaf1_vmx_cleared(void **state)
{
	(void)state;
	struct cpuid_regs r = filt(1, 0, 0, regs(0, 0, CPUID1_ECX_VMX, 0));
	assert_false(r.ecx & CPUID1_ECX_VMX);
	r = filt(1, 0, 0, regs(0, 0, 0, 0));
	assert_false(r.ecx & CPUID1_ECX_VMX);
}

static void test_leaf1_other_ecx_bits_kept(void **state)
{
	(void)state;
	uint32_t managed = CPUID1_ECX_VMX | CPUID1_ECX_OSXSAVE | CPUID1_ECX_HYPERVISOR;
	uint32_t pats[] = { 0xffffffffu, 0u, PAT_A, PAT_B, PAT_C };
	for (unsigned i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		struct cpuid_regs r = filt(1, 0, CR4_OSXSAVE, regs(1, 2, pats[i], 4));
		assert_int_equal(r.ecx & ~managed, pats[i] & ~managed);
		assert_int_equal(r.ecx & managed, CPUID1_ECX_OSXSAVE | CPUID1_ECX_HYPERVISOR);
		assert_int_equal(r.eax, 1);
		assert_int_equal(r.ebx, 2);
		assert_int_equal(r.edx, 4);
	}
}

static void test_leaf1_osxsave_mirrors_cr4(void **state)
{
	(void)state;
	/* host says set, guest CR4.OSXSAVE clear -> clear */
	struct cpuid_regs r = filt(1, 0, 0, regs(0, 0, CPUID1_ECX_OSXSAVE, 0));
	assert_false(r.ecx & CPUID1_ECX_OSXSAVE);
	/* host says clear, guest CR4.OSXSAVE set -> set */
	r = filt(1, 0, CR4_OSXSAVE, regs(0, 0, 0, 0));
	assert_true(r.ecx & CPUID1_ECX_OSXSAVE);
	/* both set / both clear */
	r = filt(1, 0, CR4_OSXSAVE, regs(0, 0, CPUID1_ECX_OSXSAVE, 0));
	assert_true(r.ecx & CPUID1_ECX_OSXSAVE);
	r = filt(1, 0, 0, regs(0, 0, 0, 0));
	assert_false(r.ecx & CPUID1_ECX_OSXSAVE);
	/* other CR4 bits (PKE, PAE) do not turn it on */
	r = filt(1, 0, ~CR4_OSXSAVE, regs(0, 0, 0, 0));
	assert_false(r.ecx & CPUID1_ECX_OSXSAVE);
}

static void test_leaf7_ospke_mirrors_cr4(void **state)
{
	(void)state;
	struct cpuid_regs r = filt(7, 0, 0, regs(PAT_A, PAT_B, 0xffffffffu, PAT_D));
	assert_int_equal(r.ecx, 0xffffffffu & ~CPUID7_ECX_OSPKE);
	assert_int_equal(r.eax, PAT_A);
	assert_int_equal(r.ebx, PAT_B);
	assert_int_equal(r.edx, PAT_D);
	r = filt(7, 0, CR4_PKE, regs(PAT_A, PAT_B, 0, PAT_D));
	assert_int_equal(r.ecx, CPUID7_ECX_OSPKE);
	r = filt(7, 0, CR4_PKE, regs(0, 0, PAT_C, 0));
	assert_int_equal(r.ecx, PAT_C | CPUID7_ECX_OSPKE);
	/* OSXSAVE in CR4 is not PKE */
	r = filt(7, 0, CR4_OSXSAVE, regs(0, 0, CPUID7_ECX_OSPKE, 0));
	assert_int_equal(r.ecx, 0);
}

static void test_leaf7_other_subleaves_untouched(void **state)
{
	(void)state;
	for (uint32_t sub = 1; sub < 4; sub++) {
		struct cpuid_regs r = filt(7, sub, 0, regs(PAT_A, PAT_B, 0xffffffffu, PAT_D));
		assert_int_equal(r.ecx, 0xffffffffu);
		r = filt(7, sub, CR4_PKE, regs(PAT_A, PAT_B, 0, PAT_D));
		assert_int_equal(r.ecx, 0);
		assert_int_equal(r.eax, PAT_A);
		assert_int_equal(r.edx, PAT_D);
	}
}

static void test_ext1_svm_cleared_rest_kept(void **state)
{
	(void)state;
	struct cpuid_regs r = filt(0x80000001, 0, CR4_OSXSAVE | CR4_PKE,
				   regs(PAT_A, PAT_B, 0xffffffffu, 0xffffffffu));
	assert_int_equal(r.ecx, 0xffffffffu & ~CPUID_80000001_ECX_SVM);
	assert_int_equal(r.edx, 0xffffffffu);     /* NX, 1 GiB pages, LM stay */
	assert_int_equal(r.eax, PAT_A);
	assert_int_equal(r.ebx, PAT_B);
	r = filt(0x80000001, 0, 0, regs(0, 0, PAT_C | CPUID_80000001_ECX_SVM, PAT_D));
	assert_int_equal(r.ecx, PAT_C & ~CPUID_80000001_ECX_SVM);
	assert_int_equal(r.edx, PAT_D);
	r = filt(0x80000001, 0, 0, regs(0, 0, 0, 0));
	assert_int_equal(r.ecx, 0);
}

static void test_svm_leaf_zeroed(void **state)
{
	(void)state;
	struct cpuid_regs r = filt(0x8000000a, 0, 0, regs(PAT_A, PAT_B, PAT_C, 0xffffffffu));
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
}

static void test_hv_base_leaf_signature(void **state)
{
	(void)state;
	struct cpuid_regs r = filt(0x40000000, 0, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
	assert_int_equal(r.eax, 0x40000000u);
	char sig[13];
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 'X';
	static const char expect[12] = { 'b', 'v', 'm', 'm', 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(sig, expect, 12);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
	/* the same whatever the host returned there (QEMU answers "TCGTCGTCGTCG") */
	r = filt(0x40000000, 5, CR4_PKE, regs(0x40000010, 0x54474354, 0x43544743, 0x47435447));
	assert_int_equal(r.eax, 0x40000000u);
	assert_int_equal(r.ebx, 0x6d6d7662u);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
}

static void test_hv_range_zeroed(void **state)
{
	(void)state;
	uint32_t leaves[] = { 0x40000001, 0x40000002, 0x40000010, 0x40000080, 0x400000fe,
			      0x400000ff };
	for (unsigned i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
		struct cpuid_regs r = filt(leaves[i], 0, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
		assert_int_equal(r.eax, 0);
		assert_int_equal(r.ebx, 0);
		assert_int_equal(r.ecx, 0);
		assert_int_equal(r.edx, 0);
	}
}

static void test_other_leaves_untouched(void **state)
{
	(void)state;
	uint32_t leaves[] = { 0, 2, 4, 6, 0xb, 0xd, 0x3fffffff, 0x40000100, 0x40000101,
			      0x4fffffff, 0x80000000, 0x80000002, 0x80000008, 0x80000009,
			      0x8000000b, 0x8000001f, 0xffffffff };
	uint64_t cr4s[] = { 0, CR4_OSXSAVE | CR4_PKE, ~0ull };
	for (unsigned i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
		for (unsigned j = 0; j < 3; j++)
			for (uint32_t sub = 0; sub < 2; sub++) {
				struct cpuid_regs in = regs(PAT_A, 0xffffffffu, PAT_C, 0);
				struct cpuid_regs r = filt(leaves[i], sub, cr4s[j], in);
				assert_memory_equal(&r, &in, sizeof r);
				in = regs(0, PAT_B, 0xffffffffu, PAT_D);
				r = filt(leaves[i], sub, cr4s[j], in);
				assert_memory_equal(&r, &in, sizeof r);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf1_hypervisor_bit_set),
		cmocka_unit_test(test_leaf1_vmx_cleared),
		cmocka_unit_test(test_leaf1_other_ecx_bits_kept),
		cmocka_unit_test(test_leaf1_osxsave_mirrors_cr4),
		cmocka_unit_test(test_leaf7_ospke_mirrors_cr4),
		cmocka_unit_test(test_leaf7_other_subleaves_untouched),
		cmocka_unit_test(test_ext1_svm_cleared_rest_kept),
		cmocka_unit_test(test_svm_leaf_zeroed),
		cmocka_unit_test(test_hv_base_leaf_signature),
		cmocka_unit_test(test_hv_range_zeroed),
		cmocka_unit_test(test_other_leaves_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
