/* Unit tests of vmmctl's MMIO decoder, page walk and completion (control/vmmctl/mmio.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../control/vmmctl/mmio.h"
#include "../../control/libvmm/vmm_state.h"

#define MEM_SIZE (4ull << 20)
static uint8_t *mem;
static char err[128];

static int setup(void **state)
{
	(void)state;
	mem = calloc(1, MEM_SIZE);
	return mem ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static void put64(uint64_t pa, uint64_t v) { memcpy(mem + pa, &v, 8); }
static void put32(uint64_t pa, uint32_t v) { memcpy(mem + pa, &v, 4); }

static void exit_with(struct vm_exit *ex, const uint8_t *b, unsigned n)
{
	memset(&ex->vee, 0, sizeof ex->vee);
	memcpy(ex->vee.vee_insn_bytes, b, n);
	ex->vee.vee_insn_len = n;
	ex->vee.vee_insn_info = VEE_BYTES_VALID;
}

/* Long mode with the Solo5 tables (1 GiB identity-mapped with 2 MiB pages) and the
 * xAPIC's 2 MiB at 0xfee00000 mapped 1:1 through PDPT[3] -> PD at 0x5000. */
static void long_mode(struct vm_exit *ex)
{
	memset(ex, 0, sizeof *ex);
	memset(mem, 0, 0x6000);
	vmm_state_long64(&ex->vrs, 0x100000);
	vmm_solo5_tables(mem);
	put64(0x3000 + 3 * 8, 0x5000 | 3);
	put64(0x5000 + 0x1f7 * 8, 0xfee00000ull | 0x83);
}

static void prot_mode(struct vm_exit *ex)
{
	memset(ex, 0, sizeof *ex);
	vmm_state_prot32(&ex->vrs, 0x100000);
}

static int decode(const struct vm_exit *ex, struct mmio_op *op)
{
	err[0] = 0;
	int r = mmio_decode(ex, mem, MEM_SIZE, op, err, sizeof err);
	if (r)
		print_message("(expected?) %s\n", err);
	return r;
}
#define DECODE(ex, op) decode(ex, op)

static void test_mov_store_32bit(void **state)
{
	(void)state;
	struct vm_exit ex;
	struct mmio_op op;
	prot_mode(&ex);
	/* mov %eax, 0xfee000b0 (A3 moffs32), the form gcc emits for absolute addresses */
	static const uint8_t a3[] = { 0xa3, 0xb0, 0x00, 0xe0, 0xfe, 0x90 };
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 0x1122334455667788ull;
	exit_with(&ex, a3, sizeof a3);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_true(op.write);
	assert_int_equal(op.size, 4);
	assert_int_equal(op.gpa, 0xfee000b0);
	assert_int_equal(op.value, 0x55667788);
	assert_int_equal(op.len, 5);
	/* movl $0x1ff, 0xf0(%edx) : C7 82 disp32 imm32 */
	static const uint8_t c7[] = { 0xc7, 0x82, 0xf0, 0, 0, 0, 0xff, 1, 0, 0 };
	ex.vrs.vrs_gprs[VCPU_REGS_RDX] = 0xfee00000;
	exit_with(&ex, c7, sizeof c7);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.gpa, 0xfee000f0);
	assert_int_equal(op.value, 0x1ff);
	assert_int_equal(op.len, 10);
	/* movw %cx, 0x20(%ebx,%esi,4) with 66: 66 89 4C B3 20 */
	static const uint8_t w[] = { 0x66, 0x89, 0x4c, 0xb3, 0x20 };
	ex.vrs.vrs_gprs[VCPU_REGS_RBX] = 0xfee00000;
	ex.vrs.vrs_gprs[VCPU_REGS_RSI] = 0x10;
	ex.vrs.vrs_gprs[VCPU_REGS_RCX] = 0xabcd1234;
	exit_with(&ex, w, sizeof w);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.size, 2);
	assert_int_equal(op.gpa, 0xfee00060);
	assert_int_equal(op.value, 0x1234);
	/* movb %ah, (%ebx): 88 23 */
	static const uint8_t ah[] = { 0x88, 0x23 };
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 0x5a00;
	exit_with(&ex, ah, sizeof ah);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.value, 0x5a);
	/* 32-bit mode: 0x48 is DEC, not REX */
	static const uint8_t dec[] = { 0x48, 0x89, 0x03 };
	exit_with(&ex, dec, sizeof dec);
	assert_int_equal(DECODE(&ex, &op), -1);
	assert_non_null(strstr(err, "unsupported opcode"));
}

static void test_load_and_complete_32bit(void **state)
{
	(void)state;
	struct vm_exit ex;
	struct mmio_op op;
	prot_mode(&ex);
	/* mov 0x30(%ebp), %edi : 8B 7D 30 -> SS-based; give SS a base to see it used */
	static const uint8_t b[] = { 0x8b, 0x7d, 0x30 };
	ex.vrs.vrs_sregs[VCPU_REGS_SS].vsi_base = 0x1000;
	ex.vrs.vrs_gprs[VCPU_REGS_RBP] = 0xfedff000;
	ex.vrs.vrs_gprs[VCPU_REGS_RDI] = 0xffffffffffffffffull;
	exit_with(&ex, b, sizeof b);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_false(op.write);
	assert_int_equal(op.gpa, 0xfee00030);
	assert_int_equal(op.reg, VCPU_REGS_RDI);
	mmio_complete(&ex.vrs, &op, 0x00050014);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_RDI], 0x00050014);   /* zero-extended */
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_RIP], 0x100003);
	/* movzbl %fs:(%eax), %ecx : 64 0F B6 08 */
	static const uint8_t zx[] = { 0x64, 0x0f, 0xb6, 0x08 };
	ex.vrs.vrs_sregs[VCPU_REGS_FS].vsi_base = 0xfee00000;
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 0x20;
	ex.vrs.vrs_gprs[VCPU_REGS_RCX] = 0xdeadbeef;
	exit_with(&ex, zx, sizeof zx);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.gpa, 0xfee00020);
	assert_int_equal(op.size, 1);
	assert_true(op.zx8);
	mmio_complete(&ex.vrs, &op, 0xfff1);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_RCX], 0xf1);
	/* movb (%eax), %bh : 8A 38 keeps the rest of RBX */
	static const uint8_t bh[] = { 0x8a, 0x38 };
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 0xfee00000;
	ex.vrs.vrs_gprs[VCPU_REGS_RBX] = 0x11112222;
	exit_with(&ex, bh, sizeof bh);
	assert_int_equal(DECODE(&ex, &op), 0);
	mmio_complete(&ex.vrs, &op, 0x77);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_RBX], 0x11117722);
	/* movw (%eax), %si : 66 8B 30 keeps the upper 48 bits */
	static const uint8_t si[] = { 0x66, 0x8b, 0x30 };
	ex.vrs.vrs_gprs[VCPU_REGS_RSI] = 0x123456789abcdef0ull;
	exit_with(&ex, si, sizeof si);
	assert_int_equal(DECODE(&ex, &op), 0);
	mmio_complete(&ex.vrs, &op, 0xffff5555);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_RSI], 0x123456789abc5555ull);
	/* movswl (%eax), %edx : 0F BF 10 */
	static const uint8_t sx[] = { 0x0f, 0xbf, 0x10 };
	exit_with(&ex, sx, sizeof sx);
	assert_int_equal(DECODE(&ex, &op), 0);
	mmio_complete(&ex.vrs, &op, 0x8001);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_RDX], 0xffff8001);
}

static void test_64bit_forms(void **state)
{
	(void)state;
	struct vm_exit ex;
	struct mmio_op op;
	long_mode(&ex);
	/* mov %r9d, 0xb0(%r12) : 45 89 8C 24 B0 00 00 00 (REX.R, REX.B, SIB, disp32) */
	static const uint8_t st[] = { 0x45, 0x89, 0x8c, 0x24, 0xb0, 0, 0, 0 };
	ex.vrs.vrs_gprs[VCPU_REGS_R12] = 0xfee00000;
	ex.vrs.vrs_gprs[VCPU_REGS_R9] = 0xffffffff00000042ull;
	exit_with(&ex, st, sizeof st);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_true(op.write);
	assert_int_equal(op.size, 4);
	assert_int_equal(op.gla, 0xfee000b0);
	assert_int_equal(op.gpa, 0xfee000b0);
	assert_int_equal(op.value, 0x42);
	assert_int_equal(op.len, 8);
	/* mov 0x100(%rip), %r10 : 4C 8B 15 00 01 00 00 (REX.W|R, RIP-relative) */
	static const uint8_t rip[] = { 0x4c, 0x8b, 0x15, 0x00, 0x01, 0, 0 };
	ex.vrs.vrs_gprs[VCPU_REGS_RIP] = 0xfee00000;
	exit_with(&ex, rip, sizeof rip);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.size, 8);
	assert_int_equal(op.gla, 0xfee00107);
	assert_int_equal(op.reg, VCPU_REGS_R10);
	mmio_complete(&ex.vrs, &op, 0x8877665544332211ull);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_R10], 0x8877665544332211ull);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_RIP], 0xfee00007);
	/* movq $-1, 0x10(%rax,%r11,8) : 4A C7 44 D8 10 FF FF FF FF (imm32 sign-extended) */
	static const uint8_t imm[] = { 0x4a, 0xc7, 0x44, 0xd8, 0x10, 0xff, 0xff, 0xff, 0xff };
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 0xfee00000;
	ex.vrs.vrs_gprs[VCPU_REGS_R11] = 2;
	exit_with(&ex, imm, sizeof imm);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.size, 8);
	assert_int_equal(op.gla, 0xfee00020);
	assert_int_equal(op.value, ~0ull);
	assert_int_equal(op.len, 9);
	/* movb $0x5, %gs:0x8 : 65 C6 04 25 08 00 00 00 05 (SIB no base, no index) */
	static const uint8_t gs[] = { 0x65, 0xc6, 0x04, 0x25, 0x08, 0, 0, 0, 0x05 };
	ex.vrs.vrs_sregs[VCPU_REGS_GS].vsi_base = 0xfee00000;
	ex.vrs.vrs_sregs[VCPU_REGS_DS].vsi_base = 0x5000;    /* ignored in 64-bit mode */
	exit_with(&ex, gs, sizeof gs);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.gla, 0xfee00008);
	assert_int_equal(op.value, 5);
	assert_int_equal(op.size, 1);
	/* movzwl (%rdi), %r15d : 44 0F B7 3F */
	static const uint8_t zw[] = { 0x44, 0x0f, 0xb7, 0x3f };
	ex.vrs.vrs_gprs[VCPU_REGS_RDI] = 0xfee00300;
	ex.vrs.vrs_gprs[VCPU_REGS_R15] = ~0ull;
	exit_with(&ex, zw, sizeof zw);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_true(op.zx16);
	assert_int_equal(op.reg, VCPU_REGS_R15);
	mmio_complete(&ex.vrs, &op, 0x12345678);
	assert_int_equal(ex.vrs.vrs_gprs[VCPU_REGS_R15], 0x5678);
	/* mov %sil, (%rdi) with REX: SIL, not DH : 40 88 37 */
	static const uint8_t sil[] = { 0x40, 0x88, 0x37 };
	ex.vrs.vrs_gprs[VCPU_REGS_RSI] = 0xab;
	exit_with(&ex, sil, sizeof sil);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.value, 0xab);
}

static void test_decode_errors(void **state)
{
	(void)state;
	struct vm_exit ex;
	struct mmio_op op;
	long_mode(&ex);
	static const uint8_t trunc[] = { 0x45, 0x89, 0x8c, 0x24, 0xb0, 0 };
	exit_with(&ex, trunc, sizeof trunc);
	assert_int_equal(DECODE(&ex, &op), -1);
	assert_non_null(strstr(err, "truncated"));
	static const uint8_t regop[] = { 0x89, 0xc0 };
	exit_with(&ex, regop, sizeof regop);
	assert_int_equal(DECODE(&ex, &op), -1);
	assert_non_null(strstr(err, "register operand"));
	static const uint8_t add[] = { 0x01, 0x03 };
	exit_with(&ex, add, sizeof add);
	assert_int_equal(DECODE(&ex, &op), -1);
	static const uint8_t prefixes_only[] = { 0x66, 0x66, 0x66 };
	exit_with(&ex, prefixes_only, sizeof prefixes_only);
	assert_int_equal(DECODE(&ex, &op), -1);
	exit_with(&ex, add, sizeof add);
	ex.vee.vee_insn_info = 0;
	assert_int_equal(DECODE(&ex, &op), -1);
	assert_non_null(strstr(err, "no instruction bytes"));
	/* a 4-byte store at the last two bytes of a page */
	static const uint8_t cross[] = { 0x89, 0x07 };
	ex.vrs.vrs_gprs[VCPU_REGS_RDI] = 0xfee00ffe;
	exit_with(&ex, cross, sizeof cross);
	assert_int_equal(DECODE(&ex, &op), -1);
	assert_non_null(strstr(err, "crosses"));
}

static void test_walk_4level_4k_and_faults(void **state)
{
	(void)state;
	struct vcpu_reg_state rs;
	uint64_t gpa;
	memset(mem, 0, 0x10000);
	vmm_state_long64(&rs, 0);
	rs.vrs_crs[VCPU_REGS_CR3] = 0x10000;
	/* 0xffff800000201000 -> PML4[256], PDPT[0], PD[1], PT[1] -> 0x345000 */
	uint64_t la = 0xffff800000201000ull;
	put64(0x10000 + 256 * 8, 0x11000 | 3);
	put64(0x11000, 0x12000 | 3);
	put64(0x12000 + 8, 0x13000 | 3);
	put64(0x13000 + 8, 0x8000000000345000ull | 3);      /* NX set: not part of the address */
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, la + 0x44, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0x345044);
	put64(0x13000 + 8, 0x345000);                       /* not present */
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, la, &gpa, err, sizeof err), -1);
	assert_non_null(strstr(err, "PTE"));
	assert_non_null(strstr(err, "not present"));
	put64(0x12000 + 8, 0x7ff000000ull | 3);             /* PT outside guest memory */
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, la, &gpa, err, sizeof err), -1);
	assert_non_null(strstr(err, "outside guest memory"));
	rs.vrs_crs[VCPU_REGS_CR3] = MEM_SIZE - 8;           /* PML4 entry past the end */
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, la, &gpa, err, sizeof err), -1);
	/* 1 GiB page at the PDPT */
	rs.vrs_crs[VCPU_REGS_CR3] = 0x10000;
	put64(0x11000, 0xc0000000ull | 0x83);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, la, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0xc0201000ull);
}

static void test_walk_2m_pae_32bit(void **state)
{
	(void)state;
	struct vcpu_reg_state rs;
	uint64_t gpa;
	/* 4-level, 2 MiB page (the Solo5 tables) */
	memset(mem, 0, 0x20000);
	vmm_state_long64(&rs, 0);
	vmm_solo5_tables(mem);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, 0x3fe12345, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0x3fe12345);
	/* PAE (no long mode): PDPT at 0x10020 (32-byte aligned), PD[0x1f7] 2 MiB -> 0xfee00000 */
	vmm_state_prot32(&rs, 0);
	rs.vrs_crs[VCPU_REGS_CR0] |= 1u << 31;
	rs.vrs_crs[VCPU_REGS_CR4] = 0x20;
	rs.vrs_crs[VCPU_REGS_CR3] = 0x10020;
	put64(0x10020 + 3 * 8, 0x11000 | 1);
	put64(0x11000 + 0x1f7 * 8, 0xfee00000ull | 0x83);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, 0xfee000f0, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0xfee000f0);
	put64(0x10020 + 3 * 8, 0);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, 0xfee000f0, &gpa, err, sizeof err), -1);
	assert_non_null(strstr(err, "PDPTE"));
	/* 32-bit paging: 4 MiB page with PSE, and a 4 KiB page */
	rs.vrs_crs[VCPU_REGS_CR4] = 0x10;
	rs.vrs_crs[VCPU_REGS_CR3] = 0x12000;
	put32(0x12000 + (0xc0400000u >> 22) * 4, 0xfec00000u | 0x83);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, 0xc04000b0, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0xfec000b0);
	put32(0x12000 + (0xc0400000u >> 22) * 4, 0x13000 | 3);
	put32(0x13000 + 5 * 4, 0xfee00000u | 3);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, 0xc0405020, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0xfee00020);
	/* without CR4.PSE the PS bit is ignored: the PDE points to a page table */
	rs.vrs_crs[VCPU_REGS_CR4] = 0;
	put32(0x12000 + (0xc0400000u >> 22) * 4, 0x13000 | 0x83);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, 0xc0405020, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0xfee00020);
	/* paging off */
	vmm_state_prot32(&rs, 0);
	assert_int_equal(mmio_translate(&rs, mem, MEM_SIZE, 0xfee00300, &gpa, err, sizeof err), 0);
	assert_int_equal(gpa, 0xfee00300);
}

static void test_16bit_addressing(void **state)
{
	(void)state;
	struct vm_exit ex;
	struct mmio_op op;
	memset(&ex, 0, sizeof ex);
	vmm_state_real(&ex.vrs, 0, 0x7c00);
	/* mov %ax, 0x10(%bx,%si) with DS = 0xfee0 (base 0xfee00): 89 40 10 */
	static const uint8_t b[] = { 0x89, 0x40, 0x10 };
	ex.vrs.vrs_sregs[VCPU_REGS_DS].vsi_base = 0xfee00;
	ex.vrs.vrs_gprs[VCPU_REGS_RBX] = 0x100;
	ex.vrs.vrs_gprs[VCPU_REGS_RSI] = 0x20;
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 0x12345678;
	exit_with(&ex, b, sizeof b);
	assert_int_equal(DECODE(&ex, &op), 0);
	assert_int_equal(op.size, 2);
	assert_int_equal(op.gla, 0xfee00 + 0x130);
	assert_int_equal(op.value, 0x5678);
	assert_int_equal(op.len, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mov_store_32bit),
		cmocka_unit_test(test_load_and_complete_32bit),
		cmocka_unit_test(test_64bit_forms),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_walk_4level_4k_and_faults),
		cmocka_unit_test(test_walk_2m_pae_32bit),
		cmocka_unit_test(test_16bit_addressing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
