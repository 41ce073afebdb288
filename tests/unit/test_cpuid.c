/* Unit tests of arch/x86_64/cpuid.h: what the control guest sees of CPUID. Every rule is
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

/* SME/SEV (leaf 0x8000001f) is hidden from the control guest: it cannot use it under bvmm,
 * and Linux then reads SEV_STATUS unchecked. */
static void test_sev_leaf_hidden(void **state)
{
	(void)state;
	struct cpuid_regs r = filt(0x8000001f, 0, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
	assert_true(!r.eax && !r.ebx && !r.ecx && !r.edx);
}

static void test_other_leaves_untouched(void **state)
{
	(void)state;
	uint32_t leaves[] = { 0, 2, 4, 6, 0xb, 0xd, 0x3fffffff, 0x40000100, 0x40000101,
			      0x4fffffff, 0x80000000, 0x80000002, 0x80000008, 0x80000009,
			      0x8000000b, 0x80000020, 0xffffffff };
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

/* ---- cpuid_filter_child: what a child VM sees ---- */

static struct cpuid_regs filtc(uint32_t leaf, uint32_t sub, uint32_t vcpu, struct cpuid_regs in)
{
	cpuid_filter_child(leaf, sub, 0, vcpu, VPP_XAPIC_NONE, &in);
	return in;
}

/* Leaf 1 bits by name (Intel SDM vol. 2, table 3-10/3-11). */
#define L1C_SSE3     (1u << 0)
#define L1C_MONITOR  (1u << 3)
#define L1C_VMX      (1u << 5)
#define L1C_SSSE3    (1u << 9)
#define L1C_SSE41    (1u << 19)
#define L1C_SSE42    (1u << 20)
#define L1C_X2APIC   (1u << 21)
#define L1C_POPCNT   (1u << 23)
#define L1C_AES      (1u << 25)
#define L1C_XSAVE    (1u << 26)
#define L1C_OSXSAVE  (1u << 27)
#define L1C_AVX      (1u << 28)
#define L1C_RDRAND   (1u << 30)
#define L1C_HV       (1u << 31)
#define L1D_FPU      (1u << 0)
#define L1D_TSC      (1u << 4)
#define L1D_MSR      (1u << 5)
#define L1D_APIC     (1u << 9)
#define L1D_MTRR     (1u << 12)
#define L1D_PAT      (1u << 16)
#define L1D_CLFSH    (1u << 19)
#define L1D_FXSR     (1u << 24)
#define L1D_SSE      (1u << 25)
#define L1D_SSE2     (1u << 26)

static void test_child_leaf1_hidden_bits(void **state)
{
	(void)state;
	uint64_t cr4s[] = { 0, CR4_OSXSAVE | CR4_PKE, ~0ull };
	for (unsigned j = 0; j < 3; j++) {
		struct cpuid_regs in = regs(PAT_A, 0xffffffffu, 0xffffffffu, 0xffffffffu);
		cpuid_filter_child(1, 0, cr4s[j], 3, VPP_XAPIC_NONE, &in);
		struct cpuid_regs r = in;
		assert_true(r.ecx & L1C_HV);
		uint32_t hidden_c[] = { L1C_VMX, L1C_MONITOR, L1C_XSAVE, L1C_OSXSAVE, L1C_AVX,
					L1C_X2APIC };
		for (unsigned i = 0; i < sizeof hidden_c / sizeof hidden_c[0]; i++)
			if (r.ecx & hidden_c[i])
				fail_msg("leaf 1 ECX 0x%x not hidden (cr4 0x%llx)", hidden_c[i],
					 (unsigned long long)cr4s[j]);
		assert_false(r.edx & L1D_APIC);
		assert_false(r.edx & L1D_MTRR);
		/* what a child needs stays */
		uint32_t kept_c[] = { L1C_SSE3, L1C_SSSE3, L1C_SSE41, L1C_SSE42, L1C_POPCNT,
				      L1C_AES, L1C_RDRAND };
		for (unsigned i = 0; i < sizeof kept_c / sizeof kept_c[0]; i++)
			if (!(r.ecx & kept_c[i]))
				fail_msg("leaf 1 ECX 0x%x dropped", kept_c[i]);
		uint32_t kept_d[] = { L1D_FPU, L1D_TSC, L1D_MSR, L1D_PAT, L1D_CLFSH, L1D_FXSR,
				      L1D_SSE, L1D_SSE2 };
		for (unsigned i = 0; i < sizeof kept_d / sizeof kept_d[0]; i++)
			if (!(r.edx & kept_d[i]))
				fail_msg("leaf 1 EDX 0x%x dropped", kept_d[i]);
		/* exactly the documented masks */
		assert_int_equal(r.ecx, 0xffffffffu & ~0x3d2291fcu);
		assert_int_equal(r.edx, 0xffffffffu & ~0xa0605280u);
		assert_int_equal(r.eax, PAT_A);
	}
	/* nothing on input: only the hypervisor bit */
	struct cpuid_regs r = filtc(1, 0, 0, regs(0, 0, 0, 0));
	assert_int_equal(r.ecx, L1C_HV);
	assert_int_equal(r.edx, 0);
}

static void test_child_leaf1_vcpu_id_in_ebx(void **state)
{
	(void)state;
	uint32_t ids[] = { 0, 1, 2, 17, 63 };
	for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		/* host's initial APIC id and logical count replaced, brand/CLFLUSH kept */
		struct cpuid_regs r = filtc(1, 0, ids[i], regs(0, 0xffffffffu, 0, 0));
		assert_int_equal(r.ebx >> 24, ids[i]);
		assert_int_equal(r.ebx & 0xffffu, 0xffffu);
		r = filtc(1, 0, ids[i], regs(0, 0x0a100800u, 0, 0));
		assert_int_equal(r.ebx >> 24, ids[i]);
		assert_int_equal(r.ebx & 0xffffu, 0x0800u);
	}
}

static void test_child_leaf7_0_kept_bits(void **state)
{
	(void)state;
	/* FSGSBASE 0, BMI1 3, SMEP 7, BMI2 8, ERMS 9, ADX 19, SMAP 20, CLFLUSHOPT 23, SHA 29 */
	uint32_t keep = (1u << 0) | (1u << 3) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 19) |
			(1u << 20) | (1u << 23) | (1u << 29);
	struct cpuid_regs r = filtc(7, 0, 0, regs(0, 0xffffffffu, 0xffffffffu, 0xffffffffu));
	assert_int_equal(r.ebx, keep);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
	/* AVX2 (5), AVX-512F (16), RTM (11), PQM (12), MPX (14) gone */
	r = filtc(7, 0, 0, regs(0, (1u << 5) | (1u << 16) | (1u << 11) | (1u << 12) | (1u << 14),
				  PAT_C, PAT_D));
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
	r = filtc(7, 0, 0, regs(0, PAT_B, 0, 0));
	assert_int_equal(r.ebx, PAT_B & keep);
	/* OSPKE is not set from CR4 for children */
	struct cpuid_regs in = regs(0, 0, 0, 0);
	cpuid_filter_child(7, 0, CR4_PKE, 0, VPP_XAPIC_NONE, &in);
	assert_int_equal(in.ecx, 0);
}

static void test_child_leaf7_1_zero(void **state)
{
	(void)state;
	for (uint32_t sub = 1; sub < 4; sub++) {
		struct cpuid_regs r = filtc(7, sub, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
		assert_int_equal(r.eax, 0);
		assert_int_equal(r.ebx, 0);
		assert_int_equal(r.ecx, 0);
		assert_int_equal(r.edx, 0);
	}
}

static void test_child_power_perfmon_xsave_leaves_zero(void **state)
{
	(void)state;
	uint32_t leaves[] = { 6, 0xa, 0xd };
	for (unsigned i = 0; i < 3; i++)
		for (uint32_t sub = 0; sub < 3; sub++) {
			struct cpuid_regs r = filtc(leaves[i], sub, 1, regs(PAT_A, PAT_B, PAT_C, PAT_D));
			if (r.eax || r.ebx || r.ecx || r.edx)
				fail_msg("leaf 0x%x.%u not zero", leaves[i], sub);
		}
}

/* SVM hidden; RDTSCP hidden too since 055589b (children get #UD for it, so it must not be
 * advertised); everything else (NX, 1 GiB pages, LM, LAHF, ABM...) passes. */
/* SVM, IBS, XOP, FMA4, TCE, TBM; PerfCtrExtCore, PerfCtrExtNB, PerfCtrExtLLC */
#define CHILD_EXT1_ECX_HIDDEN (CPUID_80000001_ECX_SVM | (1u << 10) | (1u << 11) | (1u << 16) | (1u << 17) | \
			       (1u << 21) | (1u << 23) | (1u << 24) | (1u << 28))
#define CHILD_EXT1_EDX_HIDDEN (CPUID_80000001_EDX_RDTSCP | (1u << 25) | (1u << 9))   /* + APIC: no xAPIC */

static void test_child_ext1_svm_rdtscp_cleared_rest_kept(void **state)
{
	(void)state;
	struct cpuid_regs r = filtc(0x80000001, 0, 0, regs(PAT_A, PAT_B, 0xffffffffu, 0xffffffffu));
	assert_int_equal(r.ecx, 0xffffffffu & ~CHILD_EXT1_ECX_HIDDEN);   /* SVM, XOP, FMA4, TBM */
	assert_int_equal(r.edx, 0xffffffffu & ~CHILD_EXT1_EDX_HIDDEN);
	assert_true(r.edx & CPUID_80000001_EDX_NX);
	assert_true(r.edx & CPUID_80000001_EDX_PDPE1GB);
	assert_true(r.edx & (1u << 29));   /* LM */
	assert_int_equal(r.eax, PAT_A);
	assert_int_equal(r.ebx, PAT_B);
	r = filtc(0x80000001, 0, 0, regs(0, 0, PAT_C | CPUID_80000001_ECX_SVM, PAT_D));
	assert_int_equal(r.ecx, PAT_C & ~CHILD_EXT1_ECX_HIDDEN);
	assert_int_equal(r.edx, PAT_D & ~CHILD_EXT1_EDX_HIDDEN);
	r = filtc(0x80000001, 0, 0, regs(0, 0, 0, 0));
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
}

/* The local APIC bit follows what the control program models (WRITEVMPARAMS vpp_xapic); the
 * rest of leaf 1 does not change with it. */
static void test_child_leaf1_apic_follows_xapic(void **state)
{
	(void)state;
	struct cpuid_regs none = regs(PAT_A, PAT_B, 0xffffffffu, 0xffffffffu), mmio = none;
	cpuid_filter_child(1, 0, 0, 2, VPP_XAPIC_NONE, &none);
	cpuid_filter_child(1, 0, 0, 2, VPP_XAPIC_MMIO, &mmio);
	assert_false(none.edx & L1D_APIC);
	assert_true(mmio.edx & L1D_APIC);
	assert_int_equal(mmio.edx & ~L1D_APIC, none.edx);
	assert_int_equal(mmio.ecx, none.ecx);
	assert_int_equal(mmio.ebx, none.ebx);
	assert_false(mmio.ecx & L1C_X2APIC);   /* an xAPIC only */
	struct cpuid_regs seven = regs(PAT_A, PAT_B, PAT_C, PAT_D), seven_x = seven;
	cpuid_filter_child(7, 0, 0, 2, VPP_XAPIC_NONE, &seven);
	cpuid_filter_child(7, 0, 0, 2, VPP_XAPIC_MMIO, &seven_x);
	assert_memory_equal(&seven, &seven_x, sizeof seven);
	/* AMD's copy of the APIC bit in leaf 0x80000001 EDX agrees with leaf 1. */
	struct cpuid_regs ext = regs(0, 0, 0, 0xffffffffu), ext_x = ext;
	cpuid_filter_child(0x80000001, 0, 0, 2, VPP_XAPIC_NONE, &ext);
	cpuid_filter_child(0x80000001, 0, 0, 2, VPP_XAPIC_MMIO, &ext_x);
	assert_false(ext.edx & L1D_APIC);
	assert_true(ext_x.edx & L1D_APIC);
}

static void test_child_perfmon_v2_leaf_zero(void **state)
{
	(void)state;
	struct cpuid_regs r = filtc(0x80000022, 0, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
	assert_true(!r.eax && !r.ebx && !r.ecx && !r.edx);
}

static void test_child_svm_leaf_zero(void **state)
{
	(void)state;
	struct cpuid_regs r = filtc(0x8000000a, 0, 0, regs(PAT_A, PAT_B, PAT_C, 0xffffffffu));
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
}

static void test_child_hv_base_leaf(void **state)
{
	(void)state;
	struct cpuid_regs r = filtc(0x40000000, 0, 0, regs(0x40000010, 0x54474354, 0x43544743,
							   0x47435447));
	assert_int_equal(r.eax, 0x40000001u);
	char sig[12];
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	static const char expect[12] = { 'b', 'v', 'm', 'm', 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(sig, expect, 12);
}

static void test_child_pvclock_features_leaf(void **state)
{
	(void)state;
	struct cpuid_regs r = filtc(0x40000001, 0, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
	assert_int_equal(r.eax, (1u << 3) | (1u << 24));
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
}

static void test_child_rest_of_hv_range_zero(void **state)
{
	(void)state;
	uint32_t leaves[] = { 0x40000002, 0x40000003, 0x40000010, 0x40000080, 0x400000ff };
	for (unsigned i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
		struct cpuid_regs r = filtc(leaves[i], 0, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
		if (r.eax || r.ebx || r.ecx || r.edx)
			fail_msg("leaf 0x%x not zero", leaves[i]);
	}
}

/* 0x80000008: address sizes kept, AMD's speculation-control bits hidden (their MSRs #GP). */
static void test_child_ext8_speculation_hidden(void **state)
{
	(void)state;
	struct cpuid_regs r = filtc(0x80000008, 0, 0, regs(PAT_A, 0xffffffffu, PAT_C, PAT_D));
	assert_int_equal(r.eax, PAT_A);
	assert_int_equal(r.ecx, PAT_C);
	assert_int_equal(r.ebx, 0xffffffffu & ~((1u << 12) | (1u << 14) | (1u << 15) | (1u << 16) |
						(1u << 17) | (1u << 18) | (1u << 24) | (1u << 25)));
}

/* SME/SEV hidden from children as from the control guest. */
static void test_child_sme_leaf_zero(void **state)
{
	(void)state;
	struct cpuid_regs r = filtc(0x8000001f, 0, 0, regs(PAT_A, PAT_B, PAT_C, PAT_D));
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_child_unrelated_leaves_untouched(void **state)
{
	(void)state;
	uint32_t leaves[] = { 0, 2, 0x80000000, 0x80000007, 0x40000100 };
	for (unsigned i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
		for (uint32_t sub = 0; sub < 2; sub++) {
			struct cpuid_regs in = regs(PAT_A, PAT_B, PAT_C, PAT_D);
			struct cpuid_regs r = in;
			cpuid_filter_child(leaves[i], sub, ~0ull, 5, VPP_XAPIC_MMIO, &r);
			if (memcmp(&r, &in, sizeof r))
				fail_msg("leaf 0x%x.%u changed", leaves[i], sub);
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
		cmocka_unit_test(test_sev_leaf_hidden),
		cmocka_unit_test(test_child_leaf1_hidden_bits),
		cmocka_unit_test(test_child_leaf1_vcpu_id_in_ebx),
		cmocka_unit_test(test_child_leaf7_0_kept_bits),
		cmocka_unit_test(test_child_leaf7_1_zero),
		cmocka_unit_test(test_child_power_perfmon_xsave_leaves_zero),
		cmocka_unit_test(test_child_ext1_svm_rdtscp_cleared_rest_kept),
		cmocka_unit_test(test_child_svm_leaf_zero),
		cmocka_unit_test(test_child_perfmon_v2_leaf_zero),
		cmocka_unit_test(test_child_leaf1_apic_follows_xapic),
		cmocka_unit_test(test_child_hv_base_leaf),
		cmocka_unit_test(test_child_pvclock_features_leaf),
		cmocka_unit_test(test_child_rest_of_hv_range_zero),
		cmocka_unit_test(test_child_unrelated_leaves_untouched),
		cmocka_unit_test(test_child_ext8_speculation_hidden),
		cmocka_unit_test(test_child_sme_leaf_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
