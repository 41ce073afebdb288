/* The benchmark control program (make bench): instructions per operation, measured with the
 * TSC under QEMU -icount shift=5 (32 ticks per emulated instruction, exact and repeatable).
 * Prints "BENCH <name> <instructions per op>" lines. */
#include "lib/scenario.h"
#include "../../abi/bvmm.h"

#define N 2000
#define TICKS_PER_INSN 32

static uint64_t loop_nop(void)
{
	uint64_t t0 = sc_rdtsc();
	for (int i = 0; i < N; i++)
		__asm__ volatile("nop");
	return sc_rdtsc() - t0;
}

static uint64_t loop_hypercall(uint64_t op, void *p)
{
	uint64_t t0 = sc_rdtsc();
	for (int i = 0; i < N; i++)
		bvmm_hypercall(op, p);
	return sc_rdtsc() - t0;
}

static uint64_t loop_cpuid(uint32_t leaf)
{
	uint32_t r[4];
	uint64_t t0 = sc_rdtsc();
	for (int i = 0; i < N; i++)
		sc_cpuid(leaf, 0, r);
	return sc_rdtsc() - t0;
}

static void report(const char *name, uint64_t ticks, uint64_t base)
{
	uint64_t per = (ticks - base) * 10 / TICKS_PER_INSN / N;   /* tenths */
	Print(L"BENCH %a %ld.%ld\n", name, per / 10, per % 10);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct vm_hvinfo_params p;
	sc_init(image, systab, "bench");
	/* Warm up (TCG translates each block on first use), then measure. */
	loop_nop();
	loop_hypercall(BVMM_OP_COUNT, &p);
	loop_hypercall(BVMM_OP_HVINFO, &p);
	loop_cpuid(0x40000000);
	uint64_t base = loop_nop();
	report("loop-baseline", base, 0);
	report("hypercall-enosys", loop_hypercall(BVMM_OP_COUNT, &p), base);
	report("hypercall-hvinfo", loop_hypercall(BVMM_OP_HVINFO, &p), base);
	report("cpuid-exit", loop_cpuid(0x40000000), base);
	sc_finish();
}
