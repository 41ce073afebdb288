/* The VMX instructions (SDM vol. 3C, chapter 31) as inline functions. Each returns 0, or
 * non-zero when the instruction failed (CF or ZF set). */
#ifndef VMX_INSN_H
#define VMX_INSN_H

#include <stdint.h>

static inline int vmxon(uint64_t pa)
{
	uint8_t bad;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(bad) : "m"(pa) : "cc", "memory");
	return bad;
}

static inline void vmxoff(void) { __asm__ volatile("vmxoff" ::: "cc", "memory"); }

static inline int vmclear(uint64_t pa)
{
	uint8_t bad;
	__asm__ volatile("vmclear %1; setna %0" : "=q"(bad) : "m"(pa) : "cc", "memory");
	return bad;
}

static inline int vmptrld(uint64_t pa)
{
	uint8_t bad;
	__asm__ volatile("vmptrld %1; setna %0" : "=q"(bad) : "m"(pa) : "cc", "memory");
	return bad;
}

static inline int vmwrite(uint64_t field, uint64_t val)
{
	uint8_t bad;
	__asm__ volatile("vmwrite %2, %1; setna %0" : "=q"(bad) : "r"(field), "r"(val) : "cc", "memory");
	return bad;
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v = 0;
	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
	return v;
}

#endif
