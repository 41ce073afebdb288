/* libFuzzer harness for arch/x86_64/svm/decode.c: decode_mov_to_cr and decode_store on random
 * bytes. Oracles: length within the bytes given and within 15, register numbers in range,
 * sizes 1/2/4/8, and no shorter prefix of an accepted instruction accepted. */
#include <string.h>
#include "fuzz_input.h"
#include "../../arch/x86_64/svm/svm.h"
#include "../../abi/bvmm.h"

/* The decoders see exactly n bytes: a heap copy, so ASan catches a read past them. */
static uint8_t *dup_bytes(const uint8_t *b, unsigned n)
{
	uint8_t *c = malloc(n ? n : 1);
	FUZZ_CHECK(c != NULL);
	memcpy(c, b, n);
	return c;
}

static int cr_at(const uint8_t *b, unsigned n, int lm, unsigned *cr, unsigned *gpr, unsigned *len)
{
	uint8_t *c = dup_bytes(b, n);
	int r = decode_mov_to_cr(c, n, lm, cr, gpr, len);
	free(c);
	return r;
}

static int store_at(const uint8_t *b, unsigned n, int mode, struct store_insn *s)
{
	uint8_t *c = dup_bytes(b, n);
	int r = decode_store(c, n, mode, s);
	free(c);
	return r;
}

static void check_cr(const uint8_t *b, unsigned n, int lm)
{
	unsigned cr, gpr, len, cr2, gpr2, len2;
	int r = cr_at(b, n, lm, &cr, &gpr, &len);
	FUZZ_CHECK(r == 0 || r == -1 || r == 1);   /* 1: decoded, with a LOCK prefix */
	if (r == -1)
		return;
	FUZZ_CHECK((r == 1) == (memchr(b, 0xf0, len - 3) != NULL));
	FUZZ_CHECK(len >= 3 && len <= n && len <= 15);
	FUZZ_CHECK(cr < 16 && gpr < 16);
	/* without REX: CR0-7 and the eight legacy GPRs (VCPU_REGS_* order puts RSP, RBP last) */
	FUZZ_CHECK(lm || (cr < 8 && (gpr <= VCPU_REGS_RDI || gpr >= VCPU_REGS_RSP)));
	for (unsigned k = 0; k < len; k++)
		FUZZ_CHECK(cr_at(b, k, lm, &cr2, &gpr2, &len2) == -1);
	FUZZ_CHECK(cr_at(b, len, lm, &cr2, &gpr2, &len2) == r);
	FUZZ_CHECK(cr2 == cr && gpr2 == gpr && len2 == len);
}

static void check_store_fields(const struct store_insn *s, unsigned n, int mode)
{
	FUZZ_CHECK(s->len >= 2 && s->len <= n && s->len <= 15);
	FUZZ_CHECK(s->size == 1 || s->size == 2 || s->size == 4 || s->size == 8);
	FUZZ_CHECK(s->size != 8 || mode == 64);
	FUZZ_CHECK(s->src_gpr >= -1 && s->src_gpr < 16);
	FUZZ_CHECK(s->src_high8 == 0 || s->src_high8 == 1);
	if (s->src_high8)
		FUZZ_CHECK(s->size == 1 && s->src_gpr >= VCPU_REGS_RAX && s->src_gpr <= VCPU_REGS_RDX);
	if (mode != 64 && s->src_gpr >= 0)   /* no REX: only the first eight registers */
		FUZZ_CHECK(s->src_gpr <= VCPU_REGS_RDI || s->src_gpr >= VCPU_REGS_RSP);
	if (s->src_gpr == -1 && s->size < 8)
		FUZZ_CHECK(s->imm >> (8 * s->size) == 0);
}

static void check_store(const uint8_t *b, unsigned n, int mode)
{
	struct store_insn s, s2;
	int r = store_at(b, n, mode, &s);
	FUZZ_CHECK(r == 0 || r == -1);
	if (r)
		return;
	check_store_fields(&s, n, mode);
	for (unsigned k = 0; k < s.len; k++)
		FUZZ_CHECK(store_at(b, k, mode, &s2) == -1);
	FUZZ_CHECK(store_at(b, s.len, mode, &s2) == 0);
	FUZZ_CHECK(s2.len == s.len && s2.size == s.size && s2.src_gpr == s.src_gpr &&
		   s2.src_high8 == s.src_high8 && (s.src_gpr != -1 || s2.imm == s.imm));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int modes[4] = { 16, 32, 64, 64 };
	if (size < 1)
		return 0;
	unsigned n = size - 1 > 32 ? 32 : (unsigned)(size - 1);
	const uint8_t *b = data + 1;
	check_cr(b, n, data[0] & 1);
	check_store(b, n, modes[(data[0] >> 1) & 3]);
	if (data[0] & 0x80)   /* an invalid mode is always refused */
		FUZZ_CHECK(store_at(b, n, data[0] & 0x3f, &(struct store_insn){ 0 }) == -1 ||
			   (data[0] & 0x3f) == 16 || (data[0] & 0x3f) == 32);
	return 0;
}
