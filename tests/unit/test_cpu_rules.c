/* Unit tests of the guest-facing CPU rules added after review: EFER writes (efer_write),
 * decoding MOV to CR4 (decode_mov_to_cr), write-only MSR intercepts, and the CPU limits the
 * register-state validation applies (validate_set_limits). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/cpu.h"
#include "../../arch/x86_64/svm/svm.h"
#include "../../hv/validate.h"
#include "../../abi/bvmm.h"
#include "../../control/libvmm/vmm_state.h"
#include "../../arch/x86_64/msr.h"

#define W (EFER_SCE | EFER_LME | EFER_NXE)

static void test_efer_write(void **state)
{
	(void)state;
	uint64_t lm = EFER_LME | EFER_LMA | EFER_SVME;
	/* read-modify-write of what the guest read (SVME hidden): NXE on, LMA kept, SVME set */
	assert_int_equal(efer_write(lm, EFER_LME | EFER_LMA | EFER_NXE, CR0_PG, CR4_PAE, W),
			 EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
	/* LMA is the CPU's: a write without it keeps it */
	assert_int_equal(efer_write(lm, EFER_LME, CR0_PG, CR4_PAE, W), EFER_LME | EFER_LMA | EFER_SVME);
	/* bits the CPU does not offer */
	assert_int_equal(efer_write(lm, EFER_LME | EFER_LMSLE, CR0_PG, CR4_PAE, W), EFER_BAD);
	assert_int_equal(efer_write(lm, EFER_LME | EFER_FFXSR, CR0_PG, CR4_PAE, W), EFER_BAD);
	assert_int_equal(efer_write(lm, EFER_LME | EFER_FFXSR, CR0_PG, CR4_PAE, W | EFER_FFXSR),
			 EFER_LME | EFER_FFXSR | EFER_LMA | EFER_SVME);
	/* SVME is reserved to a guest that has no SVM */
	assert_int_equal(efer_write(lm, EFER_LME | EFER_SVME, CR0_PG, CR4_PAE, W), EFER_BAD);
	/* LME may not change while paging is on; it may with paging off */
	assert_int_equal(efer_write(lm, 0, CR0_PG, CR4_PAE, W), EFER_BAD);
	assert_int_equal(efer_write(EFER_SVME, EFER_LME, CR0_PG, CR4_PAE, W), EFER_BAD);
	assert_int_equal(efer_write(EFER_SVME, EFER_LME, 0, CR4_PAE, W), EFER_LME | EFER_SVME);
	assert_int_equal(efer_write(EFER_LME | EFER_SVME, 0, CR0_PE, CR4_PAE, W), EFER_SVME);
	/* Decision: LME never without PAE (the QEMU #VMEXIT runaway), even with paging off */
	assert_int_equal(efer_write(EFER_SVME, EFER_LME, 0, 0, W), EFER_BAD);
	assert_int_equal(efer_write(EFER_SVME, EFER_LME, CR0_PE, CR4_PSE, W), EFER_BAD);
	assert_int_equal(efer_write(EFER_SVME, EFER_NXE, 0, 0, W), EFER_NXE | EFER_SVME);
}

static void test_cr0_write(void **state)
{
	(void)state;
	uint64_t lm = 0x80050033, efer = EFER_LME | EFER_LMA | EFER_SVME;
	uint64_t e = efer;
	/* AM toggled in 64-bit mode: accepted, LMA kept */
	assert_int_equal(cr0_write(lm, lm & ~CR0_AM, CR4_PAE, 1, &e), lm & ~CR0_AM);
	assert_int_equal(e, efer);
	/* paging off from 64-bit code: #GP; from compatibility mode: long mode ends (LMA 0) */
	assert_int_equal(cr0_write(lm, lm & ~CR0_PG, CR4_PAE, 1, &e), CR0_BAD);
	assert_int_equal(cr0_write(lm, lm & ~CR0_PG, CR4_PAE, 0, &e), (lm & ~CR0_PG));
	assert_int_equal(e, EFER_LME | EFER_SVME);
	/* paging on under LME: needs PAE (else #GP), sets LMA */
	e = EFER_LME;
	assert_int_equal(cr0_write(0x11, 0x80000011, 0, 0, &e), CR0_BAD);
	assert_int_equal(cr0_write(0x11, 0x80000011, CR4_PAE, 1, &e), CR0_BAD);   /* CS.L set */
	assert_int_equal(e, EFER_LME);
	assert_int_equal(cr0_write(0x11, 0x80000011, CR4_PAE, 0, &e), 0x80000011);
	assert_int_equal(e, EFER_LME | EFER_LMA);
	/* architectural #GP cases; reserved low bits dropped, ET forced */
	e = 0;
	assert_int_equal(cr0_write(0x11, 0x11 | CR0_NW, 0, 0, &e), CR0_BAD);
	assert_int_equal(cr0_write(0x11, 0x80000010, 0, 0, &e), CR0_BAD);
	assert_int_equal(cr0_write(0x11, 1ull << 32 | 0x11, 0, 0, &e), CR0_BAD);
	assert_int_equal(cr0_write(0x11, 0x01 | (1ull << 7), 0, 0, &e), 0x11);
}

static void test_cr4_write(void **state)
{
	(void)state;
	uint64_t all = 0x3717ff, lm = EFER_LME | EFER_LMA;
	assert_int_equal(cr4_write(0x20, 0xa0, lm, 0, all), 0xa0);
	assert_int_equal(cr4_write(0x20, 0x20 | (1ull << 22), lm, 0, all), CR4_BAD);   /* not offered */
	/* the Decision: PAE never cleared while LME is set, paging on or off */
	assert_int_equal(cr4_write(0x20, 0, lm, 0, all), CR4_BAD);
	assert_int_equal(cr4_write(0x20, 0, EFER_LME, 0, all), CR4_BAD);
	assert_int_equal(cr4_write(0x20, 0, 0, 0, all), 0);
	/* LA57 only outside long mode (the 4/5-level switch Linux makes with paging off) */
	assert_int_equal(cr4_write(0x20, 0x20 | CR4_LA57, lm, 0, all), CR4_BAD);
	assert_int_equal(cr4_write(0x20, 0x20 | CR4_LA57, EFER_LME, 0, all), 0x20 | CR4_LA57);
	/* PCIDE: long mode only, and CR3[11:0] zero when it is turned on */
	assert_int_equal(cr4_write(0x20, 0x20 | CR4_PCIDE, EFER_LME, 0, all), CR4_BAD);
	assert_int_equal(cr4_write(0x20, 0x20 | CR4_PCIDE, lm, 0x1001, all), CR4_BAD);
	assert_int_equal(cr4_write(0x20, 0x20 | CR4_PCIDE, lm, 0x1000, all), 0x20 | CR4_PCIDE);
}

static void test_lmsw(void **state)
{
	(void)state;
	unsigned g = 99, l = 99;
	static const uint8_t lmsw_ax[] = { 0x0f, 0x01, 0xf0 };          /* lmsw %ax */
	static const uint8_t lmsw_r9w[] = { 0x41, 0x0f, 0x01, 0xf1 };   /* lmsw %r9w */
	static const uint8_t lmsw_mem[] = { 0x0f, 0x01, 0x30 };         /* lmsw (%rax) */
	static const uint8_t smsw_ax[] = { 0x0f, 0x01, 0xe0 };          /* smsw %eax */
	assert_int_equal(decode_lmsw(lmsw_ax, 3, 1, &g, &l), 0);
	assert_true(g == VCPU_REGS_RAX && l == 3);
	assert_int_equal(decode_lmsw(lmsw_r9w, 4, 1, &g, &l), 0);
	assert_true(g == VCPU_REGS_R9 && l == 4);
	assert_int_equal(decode_lmsw(lmsw_r9w, 4, 0, &g, &l), -1);     /* 0x41 is INC there */
	assert_int_equal(decode_lmsw(lmsw_mem, 3, 1, &g, &l), -1);
	assert_int_equal(decode_lmsw(smsw_ax, 3, 1, &g, &l), -1);
	assert_int_equal(decode_lmsw(lmsw_ax, 2, 1, &g, &l), -1);
	/* LMSW loads PE MP EM TS, sets PE but never clears it */
	assert_int_equal(lmsw_cr0(0x80000031, 0x4), 0x80000035);
	assert_int_equal(lmsw_cr0(0x80000035, 0x0), 0x80000031);
	assert_int_equal(lmsw_cr0(0x10, 0xf), 0x1f);
	assert_int_equal(lmsw_cr0(0x10, 0xfff0), 0x10);
}

static void test_msr_allowlist(void **state)
{
	(void)state;
	/* address decoders, DRAM layout, SMM: read-only; unknown: absent; per-thread: passed */
	for (uint32_t m = 0xc0010016; m <= 0xc001001a; m++)
		assert_int_equal(msr_control_access(m), MSR_READ);
	assert_int_equal(msr_control_access(0xc0010058), MSR_READ);
	assert_int_equal(msr_control_access(0xc0010010), MSR_READ);
	assert_int_equal(msr_control_access(0xc001001d), MSR_READ);
	assert_int_equal(msr_control_access(0xc0010112), MSR_READ);
	assert_int_equal(msr_control_access(0xc001001b), MSR_DENY);
	assert_int_equal(msr_control_access(0x4b564d01), MSR_DENY);
	assert_int_equal(msr_control_access(0x600), MSR_DENY);
	assert_int_equal(msr_control_access(0x79), MSR_DENY);
	assert_int_equal(msr_control_access(0xffffffff), MSR_DENY);
	assert_int_equal(msr_control_access(0), MSR_READ);
	assert_int_equal(msr_control_access(0xc0000082), MSR_PASS);
	assert_int_equal(msr_control_access(0x830), MSR_EMUL);   /* ICR: INIT/SIPI emulated */
	assert_int_equal(msr_control_access(0x80b), MSR_PASS);   /* EOI */
	assert_int_equal(msr_control_access(0xc0000080), MSR_EMUL);
	assert_int_equal(msr_control_access(0xc0010114), MSR_EMUL);
	assert_int_equal(msr_control_access(0xc0010117), MSR_EMUL);
	assert_int_equal(msr_control_access(0x1b), MSR_EMUL);
	/* filtered writes */
	assert_true(msr_control_write_ok(0x1a0, 0, 1));
	assert_false(msr_control_write_ok(0x1a0, 0, 1ull << 34));
	assert_false(msr_control_write_ok(0x1d9, 0, 1ull << 7));
	assert_true(msr_control_write_ok(0x1d9, 0, 1));
	assert_true(msr_control_write_ok(0xc0010015, 0x10, 0x10 | (1ull << 30)));
	assert_false(msr_control_write_ok(0xc0010015, 0x10, 0x11));
	assert_false(msr_control_write_ok(0x10, 0, 0));
}

static void expect_cr(const uint8_t *b, unsigned n, int lm, unsigned cr, unsigned gpr, unsigned len)
{
	unsigned c = 99, g = 99, l = 99;
	assert_int_equal(decode_mov_to_cr(b, n, lm, &c, &g, &l), 0);
	assert_int_equal(c, cr);
	assert_int_equal(g, gpr);
	assert_int_equal(l, len);
}

static void test_decode_mov_to_cr(void **state)
{
	(void)state;
	static const uint8_t rax_cr4[] = { 0x0f, 0x22, 0xe0 };          /* mov %rax, %cr4 */
	static const uint8_t rbx_cr4[] = { 0x0f, 0x22, 0xe3 };          /* mov %rbx, %cr4 */
	static const uint8_t r9_cr4[] = { 0x41, 0x0f, 0x22, 0xe1 };     /* mov %r9, %cr4 */
	static const uint8_t rsp_cr4[] = { 0x0f, 0x22, 0xe4 };          /* mov %rsp, %cr4 */
	static const uint8_t r8_cr8[] = { 0x45, 0x0f, 0x22, 0xc0 };     /* mov %r8, %cr8 */
	static const uint8_t rsi_cr0[] = { 0x0f, 0x22, 0xc6 };          /* mov %rsi, %cr0 */
	static const uint8_t pfx_cr4[] = { 0x66, 0x2e, 0x0f, 0x22, 0xe7 };   /* prefixes, %rdi */
	expect_cr(rax_cr4, 3, 1, 4, VCPU_REGS_RAX, 3);
	expect_cr(rbx_cr4, 3, 1, 4, VCPU_REGS_RBX, 3);
	expect_cr(r9_cr4, 4, 1, 4, VCPU_REGS_R9, 4);
	expect_cr(rsp_cr4, 3, 1, 4, VCPU_REGS_RSP, 3);
	expect_cr(r8_cr8, 4, 1, 8, VCPU_REGS_R8, 4);
	expect_cr(rsi_cr0, 3, 0, 0, VCPU_REGS_RSI, 3);
	expect_cr(pfx_cr4, 5, 0, 4, VCPU_REGS_RDI, 5);
	/* outside 64-bit mode 0x41 is INC ECX, not REX */
	unsigned c, g, l;
	assert_int_equal(decode_mov_to_cr(r9_cr4, 4, 0, &c, &g, &l), -1);
	/* not MOV to CR, or cut short */
	static const uint8_t mov_from[] = { 0x0f, 0x20, 0xe0 };
	assert_int_equal(decode_mov_to_cr(mov_from, 3, 1, &c, &g, &l), -1);
	assert_int_equal(decode_mov_to_cr(rax_cr4, 2, 1, &c, &g, &l), -1);
	assert_int_equal(decode_mov_to_cr(rax_cr4, 0, 1, &c, &g, &l), -1);
	static const uint8_t all_prefixes[15] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
						  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 };
	assert_int_equal(decode_mov_to_cr(all_prefixes, 15, 1, &c, &g, &l), -1);
	/* LOCK (the fuzzer's "unexpected exit 14"): decoded, reported as 1 for the caller's #UD */
	static const uint8_t lock_cr4[] = { 0xf0, 0x0f, 0x22, 0xe0 };
	static const uint8_t lock_66_cr4[] = { 0x66, 0xf0, 0x0f, 0x22, 0xe3 };
	assert_int_equal(decode_mov_to_cr(lock_cr4, 4, 0, &c, &g, &l), 1);
	assert_true(c == 4 && g == VCPU_REGS_RAX && l == 4);
	assert_int_equal(decode_mov_to_cr(lock_66_cr4, 5, 1, &c, &g, &l), 1);
	assert_true(c == 4 && g == VCPU_REGS_RBX && l == 5);
}

static void test_msrpm_write_only(void **state)
{
	(void)state;
	uint8_t pm[MSRPM_SIZE];
	memset(pm, 0, sizeof pm);
	msrpm_intercept_write(pm, MSR_APIC_BASE);
	long bit = msrpm_bit(MSR_APIC_BASE);
	assert_false(pm[bit / 8] & (1u << (bit % 8)));                 /* reads pass */
	assert_true(pm[(bit + 1) / 8] & (1u << ((bit + 1) % 8)));      /* writes exit */
	unsigned set = 0;
	for (unsigned i = 0; i < sizeof pm; i++)
		set += (unsigned)__builtin_popcount(pm[i]);
	assert_int_equal(set, 1);
	msrpm_intercept_write(pm, 0x12345678);                          /* outside the map */
	set = 0;
	for (unsigned i = 0; i < sizeof pm; i++)
		set += (unsigned)__builtin_popcount(pm[i]);
	assert_int_equal(set, 1);
}

/* libvmm's Solo5 entry state (the one vmmctl and the scenarios use). */
static void long_mode_state(struct vcpu_reg_state *rs)
{
	vmm_state_long64(rs, 0x100000);
}

static void test_validate_limits(void **state)
{
	(void)state;
	struct vcpu_reg_state rs;
	long_mode_state(&rs);
	validate_set_limits(0x7ff, 40, 0);                 /* no FSGSBASE/SMEP/SMAP, 40 bits, no NX */
	assert_int_equal(validate_regs(&rs), 0);
	rs.vrs_crs[VCPU_REGS_CR4] = 0x620 | (1ull << 20);  /* SMEP, absent here */
	assert_int_equal(validate_regs(&rs), BVMM_EINVAL);
	long_mode_state(&rs);
	rs.vrs_crs[VCPU_REGS_CR3] = 1ull << 40;            /* at MAXPHYADDR */
	assert_int_equal(validate_regs(&rs), BVMM_EINVAL);
	rs.vrs_crs[VCPU_REGS_CR3] = (1ull << 40) - 4096;
	assert_int_equal(validate_regs(&rs), 0);
	rs.vrs_msrs[VCPU_REGS_EFER] = 0xd00;               /* NXE without NX */
	assert_int_equal(validate_regs(&rs), BVMM_EINVAL);
	long_mode_state(&rs);
	rs.vrs_drs[VCPU_REGS_DR7] = 0x400 | (1ull << 32);
	assert_int_equal(validate_regs(&rs), BVMM_EINVAL);
	long_mode_state(&rs);
	rs.vrs_drs[VCPU_REGS_DR6] = 0xffff0ff0 | (1ull << 40);
	assert_int_equal(validate_regs(&rs), BVMM_EINVAL);
	/* the limits never widen the built-in rules */
	validate_set_limits(~0ull, 60, 1);
	long_mode_state(&rs);
	rs.vrs_crs[VCPU_REGS_CR4] = 0x620 | (1ull << 18);  /* OSXSAVE */
	assert_int_equal(validate_regs(&rs), BVMM_EINVAL);
	rs.vrs_crs[VCPU_REGS_CR4] = 0x620;
	rs.vrs_crs[VCPU_REGS_CR3] = 1ull << 52;
	assert_int_equal(validate_regs(&rs), BVMM_EINVAL);
	validate_set_limits(0x3107ff, 52, 1);              /* back to the defaults */
}

static void test_child_pmu_msrs(void **state)
{
	(void)state;
	for (uint32_t m = 0xc0010000; m <= 0xc0010007; m++)
		assert_true(msr_child_pmu_off(m));
	for (uint32_t m = 0xc0010200; m <= 0xc001020b; m++)
		assert_true(msr_child_pmu_off(m));
	uint32_t not[] = { 0xbfffffff, 0xc0010008, 0xc00101ff, 0xc001020c, 0xc0010010, 0xc0010117,
			   0x186, 0xc1, 0x38f, 0x1b, 0 };
	for (unsigned i = 0; i < sizeof not / sizeof not[0]; i++)
		assert_false(msr_child_pmu_off(not[i]));
}

static void test_child_apic_base(void **state)
{
	(void)state;
	uint64_t v = 0x1234;
	assert_int_equal(msr_child_apic_base(VPP_XAPIC_NONE, 0, 0, &v), -1);   /* no APIC: #GP */
	assert_int_equal(v, 0x1234);
	v = 0xfee00900;
	assert_int_equal(msr_child_apic_base(VPP_XAPIC_NONE, 0, 1, &v), -1);
	assert_int_equal(msr_child_apic_base(VPP_XAPIC_MMIO, 0, 0, &v), 0);
	assert_int_equal(v, 0xfee00900);                /* BSP, enabled */
	assert_int_equal(msr_child_apic_base(VPP_XAPIC_MMIO, 3, 0, &v), 0);
	assert_int_equal(v, 0xfee00800);                /* an AP: no BSP bit */
	v = 0xfee00900;
	assert_int_equal(msr_child_apic_base(VPP_XAPIC_MMIO, 0, 1, &v), 0);   /* the same: fine */
	uint64_t bad[] = { 0xfec00900, 0xfee00100, 0xfee00d00, 0xfee00800, 0x1fee00900ull, 0 };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = bad[i];
		assert_int_equal(msr_child_apic_base(VPP_XAPIC_MMIO, 0, 1, &v), -1);
	}
	assert_int_equal(msr_child_apic_base(2, 0, 0, &v), -1);   /* not a VPP_XAPIC_* value */
}

static void test_reinject(void **state)
{
	(void)state;
	uint64_t v = VMCB_EVENT_VALID;
	assert_int_equal(vmcb_reinject(0), 0);
	assert_int_equal(vmcb_reinject(0x30), 0);                              /* not valid */
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_INTR | 0x30), v | 0x30);
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_NMI | 2), v | VMCB_EVENT_TYPE_NMI | 2);
	uint64_t pf = v | VMCB_EVENT_TYPE_EXC | VMCB_EVENT_EV | 14 | (2ull << 32);
	assert_int_equal(vmcb_reinject(pf), pf);                               /* #PF, error 2 */
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_SOFT | 0x80), 0);  /* INT 0x80 */
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_EXC | 3), 0);      /* INT3 */
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_EXC | 4), 0);      /* INTO */
	/* QEMU's records of an interrupt and an NMI cut short: their own types again. */
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_EXC | 0xec), v | VMCB_EVENT_TYPE_INTR | 0xec);
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_EXC | 0x20), v | VMCB_EVENT_TYPE_INTR | 0x20);
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_EXC | 2), v | VMCB_EVENT_TYPE_NMI | 2);
	assert_int_equal(vmcb_reinject(v | VMCB_EVENT_TYPE_EXC | 31), v | VMCB_EVENT_TYPE_EXC | 31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_efer_write),
		cmocka_unit_test(test_cr0_write),
		cmocka_unit_test(test_cr4_write),
		cmocka_unit_test(test_msr_allowlist),
		cmocka_unit_test(test_lmsw),
		cmocka_unit_test(test_decode_mov_to_cr),
		cmocka_unit_test(test_msrpm_write_only),
		cmocka_unit_test(test_validate_limits),
		cmocka_unit_test(test_reinject),
		cmocka_unit_test(test_child_pmu_msrs),
		cmocka_unit_test(test_child_apic_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
