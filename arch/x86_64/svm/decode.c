/* SVM exit facts that need no hardware: instruction lengths, next RIP, the decoders of MOV to
 * CR and of MMIO stores, MSR map bits. Pure: reads only the bytes it is given. */
#include "svm.h"
#include "../../../abi/bvmm.h"

unsigned svm_insn_len(uint64_t exitcode)
{
	switch (exitcode) {
	case SVM_EXIT_CPUID:   return 2;   /* 0f a2 */
	case SVM_EXIT_MSR:     return 2;   /* 0f 32 / 0f 30 */
	case SVM_EXIT_VMMCALL: return 3;   /* 0f 01 d9 */
	case SVM_EXIT_HLT:     return 1;   /* f4 */
	case SVM_EXIT_INVD:    return 2;   /* 0f 08 */
	default:               return 0;
	}
}

uint64_t svm_next_rip(const struct vmcb *v, int has_nrips)
{
	return svm_next_rip_len(v, has_nrips, svm_insn_len(v->c.exitcode));
}

/* SDM vol. 2A 2.3.11 / APM vol. 3 1.1: no x86 instruction is longer than 15 bytes (the CPU
 * raises #GP for one that is), so neither decoder accepts a longer one. */
#define X86_MAX_INSN 15

/* x86 register numbers (rax rcx rdx rbx rsp rbp rsi rdi r8..r15) -> VCPU_REGS_* */
static const uint8_t to_vrs[16] = { 0, 2, 3, 1, 14, 15, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };

int decode_mov_to_cr(const uint8_t *insn, unsigned n, int long_mode, unsigned *cr,
		     unsigned *gpr, unsigned *len)
{
	unsigned i = 0, rex = 0, lock = 0;
	while (i < n && i < 14 && (insn[i] == 0x66 || insn[i] == 0x67 || insn[i] == 0xf2 ||
				   insn[i] == 0xf3 || insn[i] == 0x2e || insn[i] == 0x36 ||
				   insn[i] == 0x3e || insn[i] == 0x26 || insn[i] == 0x64 ||
				   insn[i] == 0x65 || insn[i] == 0xf0)) {
		lock |= insn[i] == 0xf0;
		i++;
	}
	if (long_mode && i < n && (insn[i] & 0xf0) == 0x40)
		rex = insn[i++];
	if (i + 3 > n || i + 3 > X86_MAX_INSN || insn[i] != 0x0f || insn[i + 1] != 0x22)
		return -1;
	uint8_t modrm = insn[i + 2];
	/* The register form is implied: mod is ignored (SDM: "MOV to/from control registers"). */
	*cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
	*gpr = to_vrs[(modrm & 7) | ((rex & 1) ? 8 : 0)];
	*len = i + 3;
	return lock ? 1 : 0;
}

int decode_lmsw(const uint8_t *insn, unsigned n, int long_mode, unsigned *gpr, unsigned *len)
{
	unsigned i = 0, rex = 0;
	while (i < n && i < 12 && (insn[i] == 0x66 || insn[i] == 0x67 || insn[i] == 0x2e ||
				   insn[i] == 0x36 || insn[i] == 0x3e || insn[i] == 0x26 ||
				   insn[i] == 0x64 || insn[i] == 0x65))
		i++;
	if (long_mode && i < n && (insn[i] & 0xf0) == 0x40)
		rex = insn[i++];
	if (i + 3 > n || insn[i] != 0x0f || insn[i + 1] != 0x01 || (insn[i + 2] & 0xf8) != 0xf0)
		return -1;   /* not LMSW, or LMSW with a memory operand */
	*gpr = to_vrs[(insn[i + 2] & 7) | ((rex & 1) ? 8 : 0)];
	*len = i + 3;
	return 0;
}

/* ---- decode_store: the stores a guest uses on MMIO registers ----
 * Facts used (Intel SDM vol. 2A chapter 2, AMD APM vol. 3 chapter 1):
 * - Legacy prefixes come first, in any order; in 64-bit mode a REX prefix counts only as the
 *   byte right before the opcode (SDM 2.2.1, APM 1.2.7). A REX followed by anything but the
 *   opcode is ignored by the CPU; we refuse the sequence instead (no firmware emits it).
 * - 66 toggles the operand size between 16 and 32; REX.W makes it 64 and wins over 66
 *   (SDM vol. 1 3.6.1 Table 3-4, APM 1.2.2). 67 toggles the address size: 16 <-> 32, and
 *   64 -> 32 in 64-bit mode (APM 1.2.3). Segment overrides change no length.
 * - ModRM/SIB lengths: 16-bit addressing has no SIB, disp16 for mod 0 rm 6 and mod 2, disp8
 *   for mod 1 (SDM Table 2-1). 32/64-bit addressing: rm 4 adds a SIB byte, mod 0 rm 5 is a
 *   disp32 (RIP-relative in 64-bit mode, SDM 2.2.1.6), SIB base 5 with mod 0 is a disp32,
 *   mod 1 disp8, mod 2 disp32 (SDM Tables 2-2, 2-3).
 * - Byte registers 4-7 are AH CH DH BH without REX and SPL BPL SIL DIL with any REX, 40
 *   included (SDM 2.2.1.2, Table 3-1 of vol. 1 3.7.2.1).
 * - C7 with a 64-bit operand takes an imm32 sign-extended to 64 bits (SDM "MOV"). */

struct prefixes { unsigned len, opsize16, addr_toggle, rex; };

static int scan_prefixes(const uint8_t *insn, unsigned n, int mode, struct prefixes *p)
{
	unsigned i = 0;
	*p = (struct prefixes){ 0 };
	for (; i < n; i++) {
		uint8_t b = insn[i];
		if (b == 0x66)
			p->opsize16 = 1;
		else if (b == 0x67)
			p->addr_toggle = 1;
		else if (b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e && b != 0x64 && b != 0x65)
			break;
	}
	if (mode == 64 && i < n && (insn[i] & 0xf0) == 0x40)
		p->rex = insn[i++];
	p->len = i;
	return i < n ? 0 : -1;
}

static unsigned addr_size(int mode, unsigned toggle)
{
	if (!toggle)
		return (unsigned)mode;
	return mode == 32 ? 16 : 32;
}

/* Bytes after the ModRM byte: SIB and displacement. */
static unsigned modrm_tail(uint8_t modrm, const uint8_t *sib, unsigned asz)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	if (asz == 16)
		return mod == 1 ? 1 : mod == 2 || rm == 6 ? 2 : 0;
	unsigned extra = 0;
	if (rm == 4) {
		extra = 1;
		if (mod == 0 && (*sib & 7) == 5)
			return extra + 4;
	}
	if (mod == 1)
		return extra + 1;
	if (mod == 2 || (mod == 0 && rm == 5))
		return extra + 4;
	return extra;
}

static unsigned operand_size(uint8_t op, int mode, const struct prefixes *p)
{
	if (op == 0x88 || op == 0xc6 || op == 0xa2)
		return 1;
	if (p->rex & 8)
		return 8;
	return (mode == 16) != !!p->opsize16 ? 2 : 4;
}

static uint64_t read_le(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | b[n];
	return v;
}

static void store_source(uint8_t modrm, const struct prefixes *p, struct store_insn *out)
{
	unsigned reg = (modrm >> 3) & 7;
	if (out->size == 1 && !p->rex && reg >= 4) {
		out->src_gpr = to_vrs[reg - 4];
		out->src_high8 = 1;
		return;
	}
	out->src_gpr = to_vrs[reg | ((p->rex & 4) ? 8 : 0)];
}

static void store_imm(const uint8_t *b, unsigned len, struct store_insn *out)
{
	uint64_t v = read_le(b, len);
	if (out->size == 8)
		v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
	out->imm = v;
}

/* MOV moffs, AL / rAX (A2, A3): no ModRM, an offset as wide as the address size (8 bytes in
 * 64-bit mode without 67: SDM "MOV", APM 1.2.3); what 32-bit compilers emit for a store to an
 * absolute address. */
static int decode_moffs(uint8_t op, unsigned i, unsigned n, int mode, const struct prefixes *p,
			struct store_insn *out)
{
	unsigned len = i + addr_size(mode, p->addr_toggle) / 8;
	if (len > n || len > X86_MAX_INSN)
		return -1;
	*out = (struct store_insn){ .len = len, .size = operand_size(op, mode, p),
				    .src_gpr = VCPU_REGS_RAX };
	return 0;
}

int decode_store(const uint8_t *insn, unsigned n, int mode, struct store_insn *out)
{
	struct prefixes p;
	if ((mode != 16 && mode != 32 && mode != 64) || scan_prefixes(insn, n, mode, &p))
		return -1;
	unsigned i = p.len;
	uint8_t op = insn[i++];
	if (op == 0xa2 || op == 0xa3)
		return decode_moffs(op, i, n, mode, &p, out);
	if ((op != 0x88 && op != 0x89 && op != 0xc6 && op != 0xc7) || i >= n)
		return -1;
	uint8_t modrm = insn[i++];
	if (modrm >> 6 == 3 || ((op == 0xc6 || op == 0xc7) && (modrm & 0x38)))
		return -1;   /* a register destination; C6/C7 with reg != 0 are not MOV */
	unsigned asz = addr_size(mode, p.addr_toggle);
	if (asz != 16 && (modrm & 7) == 4 && i >= n)
		return -1;   /* the SIB byte is missing */
	struct store_insn s = { .size = operand_size(op, mode, &p), .src_gpr = -1 };
	i += modrm_tail(modrm, insn + i, asz);
	unsigned imm_len = op == 0xc6 ? 1 : op == 0xc7 ? (s.size == 2 ? 2 : 4) : 0;
	if (i + imm_len > n || i + imm_len > X86_MAX_INSN)
		return -1;
	if (imm_len)
		store_imm(insn + i, imm_len, &s);
	else
		store_source(modrm, &p, &s);
	s.len = i + imm_len;
	*out = s;
	return 0;
}

/* APM 15.11: three 2 KiB vectors for MSRs 0-1fff, c0000000-c0001fff, c0010000-c0011fff. */
long msrpm_bit(uint32_t msr)
{
	static const uint32_t base[3] = { 0x00000000u, 0xc0000000u, 0xc0010000u };
	for (int i = 0; i < 3; i++)
		if (msr - base[i] < 0x2000u)
			return (long)i * 0x800 * 8 + (long)(msr - base[i]) * 2;
	return -1;
}

void msrpm_intercept_write(uint8_t *msrpm, uint32_t msr)
{
	long bit = msrpm_bit(msr);
	if (bit >= 0)
		msrpm[(bit + 1) / 8] |= (uint8_t)(1u << ((bit + 1) % 8));
}

void msrpm_intercept(uint8_t *msrpm, uint32_t msr)
{
	long bit = msrpm_bit(msr);
	if (bit >= 0) {
		msrpm[bit / 8] |= (uint8_t)(1u << (bit % 8));
		msrpm[(bit + 1) / 8] |= (uint8_t)(1u << ((bit + 1) % 8));
	}
}
