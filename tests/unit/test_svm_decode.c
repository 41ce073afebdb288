/* Unit tests of arch/x86_64/svm/decode.c: instruction lengths, the next RIP with and without
 * NRIP save, the MMIO store decoder, and the MSR permission map layout of AMD APM vol. 2, 15.11. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/cpu.h"
#include "../../arch/x86_64/svm/svm.h"
#include "../../abi/bvmm.h"

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

/* ---- decode_store: encodings from GNU as (objdump -d), and hand-assembled edge cases ---- */

#define IMM (-1)
struct store_case {
	const char *what;
	int mode;
	uint8_t b[15];
	unsigned n;          /* bytes given; the instruction is the first len of them */
	unsigned len, size;
	int gpr, high8;
	uint64_t imm;
};

static void check_store(const struct store_case *c)
{
	struct store_insn s;
	memset(&s, 0xa5, sizeof s);
	int r = decode_store(c->b, c->n, c->mode, &s);
	if (r) {
		print_error("%s: refused\n", c->what);
		fail();
	}
	if (s.len != c->len || s.size != c->size || s.src_gpr != c->gpr || s.src_high8 != c->high8 ||
	    (c->gpr == IMM && s.imm != c->imm)) {
		print_error("%s: len %u size %u gpr %d high8 %d imm %#llx\n", c->what, s.len, s.size,
			    s.src_gpr, s.src_high8, (unsigned long long)s.imm);
		fail();
	}
	/* Every shorter prefix of the instruction is refused. */
	for (unsigned k = 0; k < c->len; k++)
		if (decode_store(c->b, k, c->mode, &s) != -1) {
			print_error("%s: accepted with only %u bytes\n", c->what, k);
			fail();
		}
}

static void check_stores(const struct store_case *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		check_store(&c[i]);
}

#define RAX VCPU_REGS_RAX
#define RBX VCPU_REGS_RBX
#define RCX VCPU_REGS_RCX
#define RDX VCPU_REGS_RDX
#define RSI VCPU_REGS_RSI
#define RDI VCPU_REGS_RDI
#define RSP VCPU_REGS_RSP
#define RBP VCPU_REGS_RBP

/* What Linux's mmio_config_writeb/w/l and EDK2's MmioWrite8/16/32/64 compile to. */
static void test_store_linux_edk2(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "movb %al,(%rdx)", 64, { 0x88, 0x02 }, 2, 2, 1, RAX, 0, 0 },
		{ "movw %ax,(%rdx)", 64, { 0x66, 0x89, 0x02 }, 3, 3, 2, RAX, 0, 0 },
		{ "movl %eax,(%rdx)", 64, { 0x89, 0x02 }, 2, 2, 4, RAX, 0, 0 },
		{ "movb %cl,(%rdx)", 64, { 0x88, 0x0a }, 2, 2, 1, RCX, 0, 0 },
		{ "movl %esi,(%rdx)", 64, { 0x89, 0x32 }, 2, 2, 4, RSI, 0, 0 },
		{ "mov %edx,(%rcx)", 64, { 0x89, 0x11 }, 2, 2, 4, RDX, 0, 0 },
		{ "mov %dx,(%rcx)", 64, { 0x66, 0x89, 0x11 }, 3, 3, 2, RDX, 0, 0 },
		{ "mov %rdx,(%rcx)", 64, { 0x48, 0x89, 0x11 }, 3, 3, 8, RDX, 0, 0 },
		{ "mov %dl,(%rcx)", 64, { 0x88, 0x11 }, 2, 2, 1, RDX, 0, 0 },
		/* trailing bytes beyond the instruction do not change it */
		{ "movl %eax,(%rdx); ret", 64, { 0x89, 0x02, 0xc3, 0x90 }, 4, 2, 4, RAX, 0, 0 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void test_store_addressing_64(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "movl $0x12345678,0x10(%rax,%rbx,4)", 64,
		  { 0xc7, 0x44, 0x98, 0x10, 0x78, 0x56, 0x34, 0x12 }, 8, 8, 4, IMM, 0, 0x12345678 },
		{ "movq %r9,-0x8(%rbp)", 64, { 0x4c, 0x89, 0x4d, 0xf8 }, 4, 4, 8, VCPU_REGS_R9, 0, 0 },
		{ "movb $1,0x1000(%rip)", 64, { 0xc6, 0x05, 0x00, 0x10, 0x00, 0x00, 0x01 }, 7, 7, 1,
		  IMM, 0, 1 },
		{ "movq %rax,(%rsp)", 64, { 0x48, 0x89, 0x04, 0x24 }, 4, 4, 8, RAX, 0, 0 },
		{ "movl %eax,0x0(%r13)", 64, { 0x41, 0x89, 0x45, 0x00 }, 4, 4, 4, RAX, 0, 0 },
		{ "movl %r15d,(%r12)", 64, { 0x45, 0x89, 0x3c, 0x24 }, 4, 4, 4, VCPU_REGS_R15, 0, 0 },
		{ "mov %eax,0x12345678 (SIB, no base)", 64, { 0x89, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12 },
		  7, 7, 4, RAX, 0, 0 },
		{ "mov %eax,0x0(,%rcx,8)", 64, { 0x89, 0x04, 0xcd, 0, 0, 0, 0 }, 7, 7, 4, RAX, 0, 0 },
		{ "mov %eax,0x44(%rsp)", 64, { 0x89, 0x44, 0x24, 0x44 }, 4, 4, 4, RAX, 0, 0 },
		{ "mov %eax,0x1000(%rbx,%rsi,1)", 64, { 0x89, 0x84, 0x33, 0x00, 0x10, 0x00, 0x00 }, 7, 7,
		  4, RAX, 0, 0 },
		{ "mov %rbx,0x7fff0000(%rdx)", 64, { 0x48, 0x89, 0x9a, 0x00, 0x00, 0xff, 0x7f }, 7, 7, 8,
		  RBX, 0, 0 },
		{ "mov %eax,0x8(%rbp,%rax) (SIB base 5, mod 1)", 64, { 0x89, 0x44, 0x05, 0x08 }, 4, 4, 4,
		  RAX, 0, 0 },
		{ "mov %eax,0x1(%r13,%rax) (SIB base 13, mod 0 = disp32)", 64,
		  { 0x41, 0x89, 0x04, 0x05, 1, 0, 0, 0 }, 8, 8, 4, RAX, 0, 0 },
		{ "mov %eax,(%edx) (67)", 64, { 0x67, 0x89, 0x02 }, 3, 3, 4, RAX, 0, 0 },
		{ "mov %eax,%fs:(%rdx)", 64, { 0x64, 0x89, 0x02 }, 3, 3, 4, RAX, 0, 0 },
		{ "movabs %eax,0x1122334455667788", 64,
		  { 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 }, 9, 9, 4, RAX, 0, 0 },
		{ "movabs %al,0x1122334455667788", 64,
		  { 0xa2, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 }, 9, 9, 1, RAX, 0, 0 },
		{ "movabs %rax,moffs64", 64, { 0x48, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8 }, 10, 10, 8, RAX, 0, 0 },
		{ "mov %eax,moffs32 (67 a3)", 64, { 0x67, 0xa3, 1, 2, 3, 4 }, 6, 6, 4, RAX, 0, 0 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void test_store_addressing_32(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "mov %eax,(%edx)", 32, { 0x89, 0x02 }, 2, 2, 4, RAX, 0, 0 },
		{ "mov %ax,(%edx)", 32, { 0x66, 0x89, 0x02 }, 3, 3, 2, RAX, 0, 0 },
		{ "mov %ch,(%ebx)", 32, { 0x88, 0x2b }, 2, 2, 1, RCX, 1, 0 },
		{ "movl $0x12345678,0x10(%eax,%ebx,4)", 32,
		  { 0xc7, 0x44, 0x98, 0x10, 0x78, 0x56, 0x34, 0x12 }, 8, 8, 4, IMM, 0, 0x12345678 },
		{ "mov %eax,0x12345678 (a3)", 32, { 0xa3, 0x78, 0x56, 0x34, 0x12 }, 5, 5, 4, RAX, 0, 0 },
		{ "mov %eax,disp32 (mod 0 rm 5)", 32, { 0x89, 0x05, 0x78, 0x56, 0x34, 0x12 }, 6, 6, 4, RAX,
		  0, 0 },
		{ "mov %eax,0x0(%ebp)", 32, { 0x89, 0x45, 0x00 }, 3, 3, 4, RAX, 0, 0 },
		{ "mov %eax,0x0(,%ecx,4)", 32, { 0x89, 0x04, 0x8d, 0, 0, 0, 0 }, 7, 7, 4, RAX, 0, 0 },
		{ "mov %eax,(%si) (67)", 32, { 0x67, 0x89, 0x04 }, 3, 3, 4, RAX, 0, 0 },
		{ "mov %eax,0x1234(%bx,%si) (67)", 32, { 0x67, 0x89, 0x80, 0x34, 0x12 }, 5, 5, 4, RAX, 0, 0 },
		{ "movw $0x1234,(%eax)", 32, { 0x66, 0xc7, 0x00, 0x34, 0x12 }, 5, 5, 2, IMM, 0, 0x1234 },
		{ "mov %ax,moffs16 (66 67 a3)", 32, { 0x66, 0x67, 0xa3, 0x34, 0x12 }, 5, 5, 2, RAX, 0, 0 },
		/* 0x40-0x4f are INC/DEC outside 64-bit mode, not REX */
		{ "mov %eax,(%edx) disp32 mod 2", 32, { 0x89, 0x82, 1, 2, 3, 4 }, 6, 6, 4, RAX, 0, 0 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void test_store_addressing_16(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "mov %ax,(%bx)", 16, { 0x89, 0x07 }, 2, 2, 2, RAX, 0, 0 },
		{ "mov %eax,(%bx) (66)", 16, { 0x66, 0x89, 0x07 }, 3, 3, 4, RAX, 0, 0 },
		{ "mov %al,0x1234 (a2)", 16, { 0xa2, 0x34, 0x12 }, 3, 3, 1, RAX, 0, 0 },
		{ "mov %ax,0x1234 (mod 0 rm 6)", 16, { 0x89, 0x06, 0x34, 0x12 }, 4, 4, 2, RAX, 0, 0 },
		{ "mov %ax,0x0(%bp)", 16, { 0x89, 0x46, 0x00 }, 3, 3, 2, RAX, 0, 0 },
		{ "mov %ax,0x12(%bp,%si)", 16, { 0x89, 0x42, 0x12 }, 3, 3, 2, RAX, 0, 0 },
		{ "mov %ax,0x1234(%di)", 16, { 0x89, 0x85, 0x34, 0x12 }, 4, 4, 2, RAX, 0, 0 },
		{ "mov %sp,(%bx+%si) (rm 0 mod 0: no SIB in 16-bit)", 16, { 0x89, 0x20 }, 2, 2, 2, RSP, 0,
		  0 },
		{ "mov %ax,(%si) (rm 4: no SIB)", 16, { 0x89, 0x04 }, 2, 2, 2, RAX, 0, 0 },
		{ "movw $0xabcd,(%bx)", 16, { 0xc7, 0x07, 0xcd, 0xab }, 4, 4, 2, IMM, 0, 0xabcd },
		{ "movl $0x12345678,0x10(%bx)", 16, { 0x66, 0xc7, 0x47, 0x10, 0x78, 0x56, 0x34, 0x12 }, 8, 8,
		  4, IMM, 0, 0x12345678 },
		{ "mov %eax,(%edx) (67 66)", 16, { 0x67, 0x66, 0x89, 0x02 }, 4, 4, 4, RAX, 0, 0 },
		{ "mov %eax,0x10(%eax,%ebx,4) (67 66)", 16, { 0x67, 0x66, 0x89, 0x44, 0x98, 0x10 }, 6, 6, 4,
		  RAX, 0, 0 },
		{ "mov %ax,disp32 (67, mod 0 rm 5)", 16, { 0x67, 0x89, 0x05, 1, 2, 3, 4 }, 7, 7, 2, RAX, 0,
		  0 },
		{ "movb $7,%es:(%di)", 16, { 0x26, 0xc6, 0x05, 0x07 }, 4, 4, 1, IMM, 0, 7 },
		{ "mov %ax,moffs32 (67 a3)", 16, { 0x67, 0xa3, 1, 2, 3, 4 }, 6, 6, 2, RAX, 0, 0 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void test_store_byte_registers(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "mov %ah,(%rdi)", 64, { 0x88, 0x27 }, 2, 2, 1, RAX, 1, 0 },
		{ "mov %ch,(%rdi)", 64, { 0x88, 0x2f }, 2, 2, 1, RCX, 1, 0 },
		{ "mov %dh,(%rdi)", 64, { 0x88, 0x37 }, 2, 2, 1, RDX, 1, 0 },
		{ "mov %bh,(%rdi)", 64, { 0x88, 0x3f }, 2, 2, 1, RBX, 1, 0 },
		{ "mov %bl,(%rdi)", 64, { 0x88, 0x1f }, 2, 2, 1, RBX, 0, 0 },
		{ "mov %spl,(%rax) (REX 40)", 64, { 0x40, 0x88, 0x20 }, 3, 3, 1, RSP, 0, 0 },
		{ "mov %bpl,(%rax)", 64, { 0x40, 0x88, 0x28 }, 3, 3, 1, RBP, 0, 0 },
		{ "mov %sil,(%rdi)", 64, { 0x40, 0x88, 0x37 }, 3, 3, 1, RSI, 0, 0 },
		{ "mov %dil,(%rax)", 64, { 0x40, 0x88, 0x38 }, 3, 3, 1, RDI, 0, 0 },
		{ "mov %r8b,(%rdi)", 64, { 0x44, 0x88, 0x07 }, 3, 3, 1, VCPU_REGS_R8, 0, 0 },
		{ "mov %r12b,(%rdi)", 64, { 0x44, 0x88, 0x27 }, 3, 3, 1, VCPU_REGS_R12, 0, 0 },
		{ "mov %bh,(%bx) (16)", 16, { 0x88, 0x3f }, 2, 2, 1, RBX, 1, 0 },
		{ "mov %ah,(%eax) (32)", 32, { 0x88, 0x20 }, 2, 2, 1, RAX, 1, 0 },
		{ "mov %bl,(%rdi) with 66 (ignored for bytes)", 64, { 0x66, 0x88, 0x1f }, 3, 3, 1, RBX, 0,
		  0 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void test_store_rex(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "mov %r9,(%rax) (REX.W R)", 64, { 0x4c, 0x89, 0x08 }, 3, 3, 8, VCPU_REGS_R9, 0, 0 },
		{ "mov %r15,(%r15) (REX.W R B)", 64, { 0x4d, 0x89, 0x3f }, 3, 3, 8, VCPU_REGS_R15, 0, 0 },
		{ "mov %esp,(%r8) (REX.B)", 64, { 0x41, 0x89, 0x20 }, 3, 3, 4, RSP, 0, 0 },
		{ "mov %r10d,(%rax,%r11) (REX.R X)", 64, { 0x46, 0x89, 0x14, 0x18 }, 4, 4, 4,
		  VCPU_REGS_R10, 0, 0 },
		{ "mov %r13w,(%rax) (66 REX.R)", 64, { 0x66, 0x44, 0x89, 0x28 }, 4, 4, 2, VCPU_REGS_R13, 0,
		  0 },
		{ "mov %rbp,(%rax) (66 REX.W: W wins)", 64, { 0x66, 0x48, 0x89, 0x28 }, 4, 4, 8, RBP, 0, 0 },
		{ "mov %r11,(%r12) (REX.B SIB)", 64, { 0x4d, 0x89, 0x1c, 0x24 }, 4, 4, 8, VCPU_REGS_R11, 0,
		  0 },
		{ "mov %r14,(%r14) (REX.B, rm 6)", 64, { 0x4d, 0x89, 0x36 }, 3, 3, 8, VCPU_REGS_R14, 0, 0 },
		{ "mov %rdi,0x10(%r13) (REX.B rm 5, mod 1)", 64, { 0x49, 0x89, 0x7d, 0x10 }, 4, 4, 8, RDI,
		  0, 0 },
		{ "mov %rdi,disp32(%rip) (REX.B rm 5, mod 0: still RIP)", 64,
		  { 0x49, 0x89, 0x3d, 1, 2, 3, 4 }, 7, 7, 8, RDI, 0, 0 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void test_store_immediates(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "movq $-1,(%rax)", 64, { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff }, 7, 7, 8, IMM, 0,
		  0xffffffffffffffffull },
		{ "movq $0x7fffffff,0x8(%rax)", 64, { 0x48, 0xc7, 0x40, 0x08, 0xff, 0xff, 0xff, 0x7f }, 8,
		  8, 8, IMM, 0, 0x7fffffffull },
		{ "movq $-0x80000000,(%rax)", 64, { 0x48, 0xc7, 0x00, 0, 0, 0, 0x80 }, 7, 7, 8, IMM, 0,
		  0xffffffff80000000ull },
		{ "movl $0xffffffff,(%rax): no extension", 64, { 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff }, 6,
		  6, 4, IMM, 0, 0xffffffffull },
		{ "movw $0xbeef,(%rax)", 64, { 0x66, 0xc7, 0x00, 0xef, 0xbe }, 5, 5, 2, IMM, 0, 0xbeef },
		{ "movw $-2,(%rax)", 64, { 0x66, 0xc7, 0x00, 0xfe, 0xff }, 5, 5, 2, IMM, 0, 0xfffe },
		{ "movb $0x80,(%rsi)", 64, { 0xc6, 0x06, 0x80 }, 3, 3, 1, IMM, 0, 0x80 },
		{ "movb $1,%gs:(%r8) (65 REX.B)", 64, { 0x65, 0x41, 0xc6, 0x00, 0x01 }, 5, 5, 1, IMM, 0,
		  1 },
		{ "movl $1,0x12345678(%rax,%rbx,8) (SIB disp32 imm32)", 64,
		  { 0xc7, 0x84, 0xd8, 0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0 }, 11, 11, 4, IMM, 0, 1 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void test_store_prefixes(void **state)
{
	(void)state;
	static const struct store_case c[] = {
		{ "26 2e 36 3e 64 65 mov %eax,(%rdx)", 64, { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x89, 0x02 },
		  8, 8, 4, RAX, 0, 0 },
		{ "66 66 mov (one toggle, not two)", 32, { 0x66, 0x66, 0x89, 0x02 }, 4, 4, 2, RAX, 0, 0 },
		{ "67 67 mov (address size 16 once)", 32, { 0x67, 0x67, 0x89, 0x06, 0x34, 0x12 }, 6, 6, 4,
		  RAX, 0, 0 },
		{ "3e 67 66 48 (REX last) mov imm32", 64,
		  { 0x3e, 0x67, 0x66, 0x48, 0xc7, 0x04, 0x24, 1, 2, 3, 4 }, 11, 11, 8, IMM, 0, 0x04030201 },
		/* 15 bytes exactly: the longest instruction there is */
		{ "12 prefixes + REX + 89 02 (15 bytes)", 64,
		  { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x66, 0x4c, 0x89,
		    0x02 }, 15, 15, 8, VCPU_REGS_R8, 0, 0 },
	};
	check_stores(c, sizeof c / sizeof c[0]);
}

static void expect_refused(const char *what, const uint8_t *b, unsigned n, int mode)
{
	struct store_insn s;
	if (decode_store(b, n, mode, &s) != -1) {
		print_error("%s: accepted (len %u)\n", what, s.len);
		fail();
	}
}

static void test_store_refused(void **state)
{
	(void)state;
	static const struct { const char *what; int mode; uint8_t b[16]; unsigned n; } c[] = {
		{ "lock mov", 64, { 0xf0, 0x89, 0x02 }, 3 },
		{ "rep mov", 64, { 0xf3, 0x89, 0x02 }, 3 },
		{ "repne mov", 64, { 0xf2, 0x89, 0x02 }, 3 },
		{ "mov %eax,%edx (mod 3)", 64, { 0x89, 0xc2 }, 2 },
		{ "mov %al,%dl (mod 3)", 64, { 0x88, 0xc2 }, 2 },
		{ "mov $1,%eax (c7 mod 3)", 64, { 0xc7, 0xc0, 1, 0, 0, 0 }, 6 },
		{ "xbegin (c7 f8)", 64, { 0xc7, 0xf8, 0, 0, 0, 0 }, 6 },
		{ "c6 /1 (not MOV)", 64, { 0xc6, 0x08, 0x01 }, 3 },
		{ "c7 /7 (not MOV)", 64, { 0xc7, 0x38, 1, 2, 3, 4 }, 6 },
		{ "mov (%rdx),%eax (a load)", 64, { 0x8b, 0x02 }, 2 },
		{ "mov moffs,%eax (a1, a load)", 32, { 0xa1, 1, 2, 3, 4 }, 5 },
		{ "movnti", 64, { 0x0f, 0xc3, 0x02 }, 3 },
		{ "stos", 64, { 0xab }, 1 },
		{ "REX then 66 (REX not last)", 64, { 0x48, 0x66, 0x89, 0x02 }, 4 },
		{ "two REX", 64, { 0x48, 0x41, 0x89, 0x02 }, 4 },
		{ "48 in 32-bit mode is DEC", 32, { 0x48, 0x89, 0x02 }, 3 },
		{ "empty", 64, { 0 }, 0 },
		{ "prefixes only", 64, { 0x66, 0x67, 0x2e }, 3 },
		{ "REX only", 64, { 0x48 }, 1 },
		{ "13 prefixes + REX + 89 02 (16 bytes: too long)", 64,
		  { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x4c,
		    0x89, 0x02 }, 16 },
		{ "11 prefixes + c7 05 disp32 imm32 (21 bytes)", 32,
		  { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0xc7, 0x05, 1, 2,
		    3 }, 16 },
		{ "mode 0", 0, { 0x89, 0x02 }, 2 },
		{ "mode 8", 8, { 0x89, 0x02 }, 2 },
	};
	for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++)
		expect_refused(c[i].what, c[i].b, c[i].n, c[i].mode);
}

static void test_store_truncated(void **state)
{
	(void)state;
	/* Each needs exactly its bytes: the SIB, the displacement and the immediate are counted. */
	static const struct { int mode; uint8_t b[12]; unsigned len; } c[] = {
		{ 64, { 0x89, 0x04, 0x24 }, 3 },                          /* SIB */
		{ 64, { 0x89, 0x05, 1, 2, 3, 4 }, 6 },                    /* RIP disp32 */
		{ 64, { 0x89, 0x04, 0x25, 1, 2, 3, 4 }, 7 },              /* SIB base 5 disp32 */
		{ 64, { 0x89, 0x44, 0x24, 0x08 }, 4 },                    /* SIB disp8 */
		{ 16, { 0x89, 0x06, 0x34, 0x12 }, 4 },                    /* disp16 */
		{ 16, { 0x89, 0x87, 0x34, 0x12 }, 4 },                    /* mod 2 disp16 */
		{ 16, { 0xc7, 0x06, 0x34, 0x12, 0xcd, 0xab }, 6 },        /* disp16 imm16 */
		{ 64, { 0x48, 0xc7, 0x00, 1, 2, 3, 4 }, 7 },              /* imm32 for REX.W */
		{ 32, { 0xa3, 1, 2, 3, 4 }, 5 },                          /* moffs32 */
	};
	struct store_insn s;
	for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
		for (unsigned k = 0; k < c[i].len; k++)
			assert_int_equal(decode_store(c[i].b, k, c[i].mode, &s), -1);
		assert_int_equal(decode_store(c[i].b, c[i].len, c[i].mode, &s), 0);
		assert_int_equal(s.len, c[i].len);
	}
}

/* MOV to CR: no instruction is longer than 15 bytes (14 prefixes, a REX and 0f 22 /r were
 * accepted as an 18-byte instruction; tests/fuzz/fuzz_decode.c checks len <= 15). */
static void test_mov_to_cr_longer_than_15_refused(void **state)
{
	(void)state;
	uint8_t b[18];
	unsigned cr, gpr, len;
	memset(b, 0x66, 14);
	b[14] = 0x48;
	b[15] = 0x0f;
	b[16] = 0x22;
	b[17] = 0xe0;
	assert_int_equal(decode_mov_to_cr(b, 18, 1, &cr, &gpr, &len), -1);
	/* 11 prefixes + REX + 3 = 15: still accepted */
	assert_int_equal(decode_mov_to_cr(b + 3, 15, 1, &cr, &gpr, &len), 0);
	assert_int_equal(len, 15);
	assert_int_equal(cr, 4);
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
		cmocka_unit_test(test_store_linux_edk2),
		cmocka_unit_test(test_store_addressing_64),
		cmocka_unit_test(test_store_addressing_32),
		cmocka_unit_test(test_store_addressing_16),
		cmocka_unit_test(test_store_byte_registers),
		cmocka_unit_test(test_store_rex),
		cmocka_unit_test(test_store_immediates),
		cmocka_unit_test(test_store_prefixes),
		cmocka_unit_test(test_store_refused),
		cmocka_unit_test(test_store_truncated),
		cmocka_unit_test(test_mov_to_cr_longer_than_15_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
