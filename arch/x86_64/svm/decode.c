/* SVM exit facts that need no hardware: instruction lengths, next RIP, MSR map bits. */
#include "svm.h"

unsigned svm_insn_len(uint64_t exitcode)
{
	switch (exitcode) {
	case SVM_EXIT_CPUID:   return 2;   /* 0f a2 */
	case SVM_EXIT_MSR:     return 2;   /* 0f 32 / 0f 30 */
	case SVM_EXIT_VMMCALL: return 3;   /* 0f 01 d9 */
	case SVM_EXIT_HLT:     return 1;   /* f4 */
	default:               return 0;
	}
}

uint64_t svm_next_rip(const struct vmcb *v, int has_nrips)
{
	if (has_nrips && v->c.next_rip)
		return v->c.next_rip;
	return v->s.rip + svm_insn_len(v->c.exitcode);
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

void msrpm_intercept(uint8_t *msrpm, uint32_t msr)
{
	long bit = msrpm_bit(msr);
	if (bit >= 0) {
		msrpm[bit / 8] |= (uint8_t)(1u << (bit % 8));
		msrpm[(bit + 1) / 8] |= (uint8_t)(1u << ((bit + 1) % 8));
	}
}
