/* x86_64 machine helpers: CPUID, MSRs, control registers, port I/O, and the bit names used
 * across bvmm. Header-only; usable in the EFI loader, the hypervisor and unit tests. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdint.h>

#define PAGE_SIZE   4096ull
#define PAGE_MASK   (~(PAGE_SIZE - 1))
#define SZ_2M       (1ull << 21)
#define SZ_1G       (1ull << 30)

/* Exception vectors */
#define EXC_DB 1
#define EXC_UD 6
#define EXC_GP 13
#define EXC_AC 17

/* MSRs */
#define MSR_TSC           0x00000010u
#define MSR_SYSENTER_CS   0x00000174u
#define MSR_SYSENTER_ESP  0x00000175u
#define MSR_SYSENTER_EIP  0x00000176u
#define MSR_MISC_ENABLE   0x000001a0u
#define MSR_EFER          0xc0000080u
#define MSR_STAR          0xc0000081u
#define MSR_LSTAR         0xc0000082u
#define MSR_CSTAR         0xc0000083u
#define MSR_SFMASK        0xc0000084u
#define MSR_FS_BASE       0xc0000100u
#define MSR_GS_BASE       0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX       0xc0000103u
#define MSR_PAT           0x00000277u
#define MSR_APIC_BASE     0x0000001bu
#define MSR_SYSCFG        0xc0010010u
#define MSR_TOP_MEM       0xc001001au
#define MSR_TOP_MEM2      0xc001001du
#define MSR_VM_CR         0xc0010114u
#define MSR_VM_HSAVE_PA   0xc0010117u
#define MSR_SEV_STATUS    0xc0010131u

#define EFER_SCE   (1ull << 0)
#define EFER_LME   (1ull << 8)
#define EFER_LMA   (1ull << 10)
#define EFER_NXE   (1ull << 11)
#define EFER_SVME  (1ull << 12)
#define EFER_LMSLE (1ull << 13)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE   (1ull << 15)

#define VM_CR_LOCK   (1ull << 3)
#define VM_CR_SVMDIS (1ull << 4)

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PSE     (1ull << 4)
#define CR4_PAE     (1ull << 5)
#define CR4_PGE     (1ull << 7)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_SMEP    (1ull << 20)
#define CR4_SMAP    (1ull << 21)
/* CR4 bits whose change flushes the TLB (SDM vol. 3, 4.10.4.1) */
#define CR4_TLB_BITS (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP | (1ull << 17))
#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE     (1ull << 22)

#define RFLAGS_IF (1ull << 9)

/* CPUID bits */
#define CPUID1_ECX_VMX        (1u << 5)
#define CPUID1_ECX_OSXSAVE    (1u << 27)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID7_ECX_OSPKE      (1u << 4)
#define CPUID_80000001_ECX_SVM    (1u << 2)
#define CPUID_80000001_EDX_NX     (1u << 20)
#define CPUID_80000001_EDX_PDPE1GB (1u << 26)
#define CPUID_80000001_EDX_RDTSCP  (1u << 27)
#define CPUID_8000000A_EDX_NP     (1u << 0)
#define CPUID_8000000A_EDX_NRIPS  (1u << 3)

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

#define EFER_BAD (~0ull)

/* A guest's WRMSR to EFER under SVM: the value to put in the VMCB (LMA is the CPU's, SVME
 * stays set for VMRUN but is hidden), or EFER_BAD for #GP: a bit outside `writable` (which
 * holds only what CPUID offers), or LME changed while paging is on (APM vol. 2, 3.1.7).
 * Decision: LME = 1 with CR4.PAE = 0 is refused too, although a CPU accepts it while paging
 * is off. No guest may hold that combination at an exit: QEMU's #VMEXIT reloads the host's
 * CR0 under the guest's EFER and CR4, refuses it, and the host runs on with paging off
 * (PLATFORM.md, "QEMU 7.2 TCG defects"). Software sets PAE before LME anyway. */
static inline uint64_t efer_write(uint64_t cur, uint64_t val, uint64_t cr0, uint64_t cr4,
				  uint64_t writable)
{
	if ((val & ~(writable | EFER_LMA)) || (((val ^ cur) & EFER_LME) && (cr0 & CR0_PG)))
		return EFER_BAD;
	if ((val & EFER_LME) && !(cr4 & CR4_PAE))
		return EFER_BAD;
	return (val & writable) | (cur & EFER_LMA) | EFER_SVME;
}

#define CR0_BAD (~0ull)
#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_DEFINED 0xe005003full   /* PE MP EM TS ET NE, WP, AM, NW CD PG */

/* MOV to CR0 emulated (APM vol. 2, 3.1.1 and 14.6: long-mode activation): the new CR0 with
 * *efer's LMA updated, or CR0_BAD for #GP. `cs_l`: the code segment's L bit as it is (in
 * 64-bit mode when EFER.LMA is set too; turning paging on under LME with it set is #GP).
 * Reserved bits 31:0 are ignored, ET reads as 1. */
static inline uint64_t cr0_write(uint64_t cur, uint64_t val, uint64_t cr4, int cs_l,
				 uint64_t *efer)
{
	if ((val >> 32) || ((val & CR0_NW) && !(val & CR0_CD)) || ((val & CR0_PG) && !(val & CR0_PE)))
		return CR0_BAD;
	int pg_on = (val & CR0_PG) && !(cur & CR0_PG), pg_off = !(val & CR0_PG) && (cur & CR0_PG);
	if (pg_on && (*efer & EFER_LME)) {
		if (!(cr4 & CR4_PAE) || cs_l)
			return CR0_BAD;
		*efer |= EFER_LMA;
	}
	if (pg_off && (*efer & EFER_LMA)) {
		if (cs_l)   /* LMA and L: 64-bit mode */
			return CR0_BAD;   /* paging off from 64-bit code: #GP (QEMU lets it through) */
		*efer &= ~EFER_LMA;
	}
	return (val & CR0_DEFINED) | CR0_ET;
}

/* LMSW (APM vol. 3): loads CR0 bits 0-3 (PE MP EM TS) from src; sets PE but never clears it. */
static inline uint64_t lmsw_cr0(uint64_t cur, uint64_t src)
{
	return (cur & ~0xeull) | (src & 0xf) | (cur & CR0_PE);
}

/* A PAT value WRMSR accepts: no reserved memory type (2, 3, above 7) in any entry. */
static inline int pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (i * 8));
		if (t == 2 || t == 3 || t > 7)
			return 0;
	}
	return 1;
}

#define CR4_BAD   (~0ull)
#define CR4_LA57  (1ull << 12)
#define CR4_PCIDE (1ull << 17)

/* MOV to CR4 emulated (APM vol. 2, 3.1.3; SDM vol. 3, 2.5): `val`, or CR4_BAD for #GP: a bit
 * outside `allowed` (what this guest may have), PCIDE outside long mode or with CR3[11:0] set,
 * LA57 changed in long mode, PAE cleared in long mode -- or cleared while EFER.LME is set at
 * all (Decision, see efer_write). */
static inline uint64_t cr4_write(uint64_t cur, uint64_t val, uint64_t efer, uint64_t cr3,
				 uint64_t allowed)
{
	if ((val & ~allowed) || ((efer & EFER_LME) && !(val & CR4_PAE)))
		return CR4_BAD;
	if ((val & CR4_PCIDE) && (!(efer & EFER_LMA) || (!(cur & CR4_PCIDE) && (cr3 & 0xfff))))
		return CR4_BAD;
	if ((efer & EFER_LMA) && ((val ^ cur) & CR4_LA57))
		return CR4_BAD;
	return val;
}

#ifndef BVMM_HOST_TEST
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

#define DEFINE_CR(n) \
	static inline uint64_t read_cr##n(void) { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
	static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

#define DEFINE_DR(n) \
	static inline uint64_t read_dr##n(void) { uint64_t v; __asm__ volatile("mov %%db" #n ", %0" : "=r"(v)); return v; } \
	static inline void write_dr##n(uint64_t v) { __asm__ volatile("mov %0, %%db" #n : : "r"(v)); }
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
#undef DEFINE_DR

/* DR0-3, which no world switch saves (the guest's own live while it runs). */
static inline void save_dr0_3(uint64_t d[4])
{
	d[0] = read_dr0(); d[1] = read_dr1(); d[2] = read_dr2(); d[3] = read_dr3();
}

static inline void load_dr0_3(const uint64_t d[4])
{
	write_dr0(d[0]); write_dr1(d[1]); write_dr2(d[2]); write_dr3(d[3]);
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}
#endif /* BVMM_HOST_TEST */

#endif
