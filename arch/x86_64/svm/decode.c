/* SVM exit facts that need no hardware: instruction lengths, next RIP, MSR map bits. */
#include "svm.h"

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
	if (has_nrips && v->c.next_rip)
		return v->c.next_rip;
	return v->s.rip + svm_insn_len(v->c.exitcode);
}

int decode_mov_to_cr(const uint8_t *insn, unsigned n, int long_mode, unsigned *cr,
		     unsigned *gpr, unsigned *len)
{
	/* x86 register numbers (rax rcx rdx rbx rsp rbp rsi rdi r8..r15) -> VCPU_REGS_* */
	static const uint8_t to_vrs[16] = { 0, 2, 3, 1, 14, 15, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	unsigned i = 0, rex = 0;
	while (i < n && i < 14 && (insn[i] == 0x66 || insn[i] == 0x67 || insn[i] == 0xf2 ||
				   insn[i] == 0xf3 || insn[i] == 0x2e || insn[i] == 0x36 ||
				   insn[i] == 0x3e || insn[i] == 0x26 || insn[i] == 0x64 ||
				   insn[i] == 0x65))
		i++;
	if (long_mode && i < n && (insn[i] & 0xf0) == 0x40)
		rex = insn[i++];
	if (i + 3 > n || insn[i] != 0x0f || insn[i + 1] != 0x22)
		return -1;
	uint8_t modrm = insn[i + 2];
	/* The register form is implied: mod is ignored (SDM: "MOV to/from control registers"). */
	*cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
	*gpr = to_vrs[(modrm & 7) | ((rex & 1) ? 8 : 0)];
	*len = i + 3;
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
