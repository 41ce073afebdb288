/* Scenario control programs: EFI applications that run in the control guest, print one
 * "PASS <check>" or "FAIL <check>: <why>" line per check on the console (COM1), and end QEMU
 * through the isa-debug-exit port. tests/scenarios/run.sh boots them and judges the lines. */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <efi.h>
#include <efilib.h>
#include <stdint.h>

void sc_init(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab, const char *name);
/* Print PASS/FAIL for one check; the format (UCS-2, Print syntax) explains a failure. */
int sc_check(int ok, const char *check, const CHAR16 *why, ...);
/* Print the summary line "DONE <scenario> passed=N failed=M" and end QEMU. */
void sc_finish(void) __attribute__((noreturn));

/* The hypervisor's pool as the firmware memory map shows it: the reserved range of exactly
 * `bytes`, 2 MiB aligned (bvmm allocates it so); 0 if none. */
uint64_t sc_find_pool(uint64_t bytes);

/* Run fn(a, b) with #UD, #GP and #PF caught: returns the vector raised (-1 if none); the
 * error code is in sc_fault_error, fn's return value in *ret (if no fault). */
typedef uint64_t (*sc_probe_fn)(uint64_t a, uint64_t b);
int sc_probe(sc_probe_fn fn, uint64_t a, uint64_t b, uint64_t *ret);
extern volatile uint64_t sc_fault_error;
/* Count NMIs taken by this CPU in sc_nmi_count (the firmware's handler is replaced): 0, or -1
 * if the CPU protocol refuses. */
int sc_catch_nmi(void);
extern volatile unsigned sc_nmi_count;

/* Probes (lib/probe.S), each one instruction that may fault. */
uint64_t sc_read64(uint64_t addr, uint64_t unused);
uint64_t sc_write64(uint64_t addr, uint64_t val);
uint64_t sc_rdmsr(uint64_t msr, uint64_t unused);
uint64_t sc_wrmsr(uint64_t msr, uint64_t val);
uint64_t sc_vmrun(uint64_t pa, uint64_t unused);
uint64_t sc_vmload(uint64_t pa, uint64_t unused);
uint64_t sc_vmsave(uint64_t pa, uint64_t unused);
uint64_t sc_stgi(uint64_t a, uint64_t b);
uint64_t sc_clgi(uint64_t a, uint64_t b);
uint64_t sc_skinit(uint64_t pa, uint64_t unused);
uint64_t sc_invlpga(uint64_t va, uint64_t asid);
uint64_t sc_invd(uint64_t a, uint64_t b);
uint64_t sc_write_cr0(uint64_t val, uint64_t unused);
uint64_t sc_read_cr0(uint64_t a, uint64_t b);
uint64_t sc_read_cr4(uint64_t a, uint64_t b);
uint64_t sc_write_cr4(uint64_t val, uint64_t unused);
uint64_t sc_xsetbv(uint64_t xcr, uint64_t val);
uint64_t sc_xgetbv(uint64_t xcr, uint64_t unused);

/* HVINFO with rbx rcx rdx rsi r8-r15 rbp loaded from in[13]; out[] gets those 13, then rdi
 * (= params) and rax (the errno) as seen after the hypercall. */
/* RBX, RCX, RDX, RSI, R8-R15, RBP set from in[], RDI = params, RAX = op, then VMMCALL
 * (sc_cpuid_regs: CPUID); out[] has those 13 after it, then RDI and RAX. */
void sc_hypercall_regs(const uint64_t in[13], uint64_t out[15], void *params, uint64_t op);
void sc_cpuid_regs(const uint64_t in[13], uint64_t out[15], void *params, uint64_t leaf);

static inline void sc_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t sc_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif
