// SPDX-License-Identifier: GPL-2.0
/*
 * vmmbench.c - make bench's Linux rows: the RUN round trip from Linux user space through
 * /dev/vmm (ioctl VMM_IOC_RUN -> the child's OUT to port 0x80 -> I/O exit -> back to user
 * space), the figure to set beside KVM's OUT-to-user-space round trip, and a null system call
 * (getppid) for scale. Instructions per operation, measured with the TSC under QEMU -icount
 * shift=5 (32 ticks per emulated instruction; tests/bench.sh), over N operations, less an
 * empty loop of N iterations measured the same way. Prints "BENCH <name> <value>" lines (or
 * "BENCH-FAILED <name> <why>") and exits 0 only if every row was measured.
 *
 * Under -icount Linux's own timer interrupts land inside the timed loops now and then (one
 * every 4 ms of virtual time at HZ=250, i.e. every 125 000 instructions): their cost is part
 * of the average. The "vmmbench:" lines say how many RUNs came back early (VM_EXIT_NONE, a
 * host interrupt) and give the fastest single round trip, which no interrupt reached.
 *
 * The child is tests/guests/bench16.S, the same as the EFI benchmark's, flat at 0:0x7c00
 * (control/linux/Makefile assembles it to bench16.bin, included below). Freestanding and
 * static (no libc), like vmmtest: the initramfs runs it as a child of PID 1.
 */
#include "vmmguest.h"
#include "vmmrt.h"

#define N 2000
#define WARMUP 100
#define TICKS_PER_INSN 32
#define GUEST_AT 0x7c00
#define MEM_SIZE (1ul << 20)

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

/* ticks for n operations as instructions per operation, in tenths: "X.Y". */
static void puttenths(uint64_t ticks, uint64_t n)
{
	uint64_t t = ticks * 10 / TICKS_PER_INSN / n;
	putnum((long)(t / 10));
	putch('.');
	putnum((long)(t % 10));
}

static int failures;

static void failed(const char *name, const char *why, long err)
{
	failures++;
	puts_("BENCH-FAILED ");
	puts_(name);
	puts_(" ");
	puts_(why);
	puts_(" (");
	putnum(err);
	puts_(")\n");
}

/* name: (ticks - base) for n operations; base is N empty iterations, scaled to n. */
static void report(const char *name, uint64_t ticks, uint64_t base, uint64_t n)
{
	base = base * n / N;
	if (ticks <= base) {
		failed(name, "loop failed or took no time", (long)ticks);
		return;
	}
	puts_("BENCH ");
	puts_(name);
	putch(' ');
	puttenths(ticks - base, n);
	putch('\n');
}

/* ---- the child: tests/guests/bench16.S, assembled flat at 0x7c00 ---- */
extern const unsigned char guest_bench16[], guest_bench16_end[];
__asm__(".section .rodata\n"
	".globl guest_bench16, guest_bench16_end\n"
	"guest_bench16: .incbin \"bench16.bin\"\n"
	"guest_bench16_end:\n"
	".previous\n");

/* RUN's parameters and exit buffer, each within one page. */
static struct vm_run_params rp __attribute__((aligned(64)));
static struct vm_exit ex __attribute__((aligned(1024)));
static uint32_t vendor;
static int fd;
static long run_err;		/* the first failed RUN's error */
static uint64_t runs, none_exits;	/* every RUN made, and those that came back early */

static inline long vmm_ioctl(unsigned long cmd, void *p)
{
	return sys3(SYS_ioctl, fd, (long)cmd, (long)p);
}

static uint64_t loop_nop(unsigned n)
{
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < n; i++)
		__asm__ volatile("nop");
	return rdtsc() - t0;
}

/* Ticks for n RUNs ending in the OUT to port 0x80 (those that come back with VM_EXIT_NONE, on
 * a host interrupt, are made again, as in tests/scenarios/bench.c); 0 if a RUN fails. */
static uint64_t loop_run(unsigned n)
{
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < n;) {
		long err = vmm_ioctl(VMM_IOC_RUN, &rp);
		if (err) {
			run_err = err;
			return 0;
		}
		rp.vrp_continue = 1;
		runs++;
		if (vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_IO && ex.vei.vei_port == 0x80)
			i++;
		else
			none_exits++;
	}
	return rdtsc() - t0;
}

/* The same loop through BVMM_IOC_RUN_BLOCK on block 0 of the file's mapping. */
static struct vm_run_block *blk;

static uint64_t loop_run_block(unsigned n)
{
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < n;) {
		long err = sys3(SYS_ioctl, fd, BVMM_IOC_RUN_BLOCK, 0);
		if (err) {
			run_err = err;
			return 0;
		}
		blk->vrb_params.vrp_continue = 1;
		i += vmm_exit_kind(blk->vrb_params.vrp_exit_reason, vendor) == VMM_EXIT_KIND_IO &&
		     blk->vrb_exit.vei.vei_port == 0x80;
	}
	return rdtsc() - t0;
}

/* The fastest of n single round trips, each timed on its own (its rdtsc pair included). */
static uint64_t fastest_run(unsigned n)
{
	uint64_t best = ~0ull;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();
		if (vmm_ioctl(VMM_IOC_RUN, &rp))
			return 0;
		uint64_t t = rdtsc() - t0;
		if (vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_IO &&
		    ex.vei.vei_port == 0x80 && t < best)
			best = t;
	}
	return best;
}

static uint64_t loop_getppid(unsigned n)
{
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < n; i++)
		sys3(SYS_getppid, 0, 0, 0);
	return rdtsc() - t0;
}

static uint64_t fastest_getppid(unsigned n)
{
	uint64_t best = ~0ull;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();
		sys3(SYS_getppid, 0, 0, 0);
		uint64_t t = rdtsc() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

/* A row: the loop warmed up, then N round trips timed; BENCH-FAILED with the first error. */
static void row(const char *name, uint64_t (*loop)(unsigned), uint64_t base)
{
	loop(WARMUP);
	uint64_t t = loop(N);
	if (!t)
		failed(name, "RUN", run_err);
	else
		report(name, t, base, N);
}

static struct vm_create_params cp;
static struct vm_resetcpu_params rr;

/* The child at 0:0x7c00 and RUN's parameters; its id, or 0 after a BENCH-FAILED line. */
static uint32_t bench_vm(void)
{
	const char *name = "linux-devvmm-run-io-roundtrip";
	long m = sys6(SYS_mmap, 0, MEM_SIZE, 3 /* PROT_READ | PROT_WRITE */,
		      0x21 /* MAP_SHARED | MAP_ANONYMOUS */ | 0x8000 /* MAP_POPULATE */, -1, 0);
	if (m < 0 && m > -4096) {
		failed(name, "mmap of 1 MiB", m);
		return 0;
	}
	unsigned char *mem = (unsigned char *)m;
	memcpy(mem + GUEST_AT, guest_bench16, (ulong)(guest_bench16_end - guest_bench16));
	vmm_create_gpa0(&cp, mem, MEM_SIZE, 1, "vmmbench");
	long err = vmm_ioctl(VMM_IOC_CREATE, &cp);
	if (err || !cp.vcp_id) {
		failed(name, "CREATE", err);
		return 0;
	}
	rr.vrp_vm_id = cp.vcp_id;
	rr.vrp_vcpu_id = 0;
	vmm_state_real(&rr.vrp_init_state, 0, GUEST_AT);
	err = vmm_ioctl(VMM_IOC_RESETCPU, &rr);
	if (err) {
		failed(name, "RESETCPU to real mode 0:0x7c00", err);
		return 0;
	}
	rp = (struct vm_run_params){ .vrp_vm_id = cp.vcp_id, .vrp_irq = 0xffff, .vrp_exit = &ex };
	return cp.vcp_id;
}

__attribute__((noreturn, used)) void vmmbench_main(void)
{
	/* CPU 0 only (the benchmark boots one; with more, no migration inside the loops). */
	unsigned long mask = 1;
	sys3(SYS_sched_setaffinity, 0, sizeof mask, (long)&mask);
	vendor = vmm_cpu_vendor();	/* CPUID exits: once, outside the loops */

	loop_nop(N);
	uint64_t base = loop_nop(N);

	fd = (int)sys3(SYS_open, (long)"/dev/vmm", 2 /* O_RDWR */, 0);
	if (fd < 0)
		failed("linux-devvmm-run-io-roundtrip", "open /dev/vmm", fd);
	else if (bench_vm()) {
		loop_run(WARMUP);
		runs = none_exits = 0;
		uint64_t t = loop_run(N);
		if (!t)
			failed("linux-devvmm-run-io-roundtrip", "RUN", run_err);
		else {
			report("linux-devvmm-run-io-roundtrip", t, base, N);
			uint64_t best = fastest_run(N);
			puts_("vmmbench: ");
			putnum((long)runs);
			puts_(" RUNs for ");
			putnum(N);
			puts_(" I/O exits (");
			putnum((long)none_exits);
			puts_(" came back on a host interrupt); fastest single round trip ");
			puttenths(best, 1);
			puts_(" (its rdtsc pair included)\n");
		}
		/* The same loop with exits that carry the general registers only (bvmm's
		 * vpp_exit_regs, what vmmctl asks for). */
		struct vm_rwvmparams_params xr = { .vpp_vm_id = cp.vcp_id,
						   .vpp_mask = VM_RWVMPARAMS_EXIT_REGS,
						   .vpp_exit_regs = VM_RWREGS_GPRS };
		long err = vmm_ioctl(VMM_IOC_WRITEVMPARAMS, &xr);
		if (err)
			failed("linux-devvmm-run-io-roundtrip-gprs", "WRITEVMPARAMS", err);
		else
			row("linux-devvmm-run-io-roundtrip-gprs", loop_run, base);
		/* The same, through a RUN_PHYS block of /dev/vmm's mmap() (BVMM_IOC_RUN_BLOCK):
		 * no copy, no pin, no walk per RUN. */
		long m = sys6(SYS_mmap, 0, 4096, 3 /* PROT_READ | PROT_WRITE */, 1 /* MAP_SHARED */, fd, 0);
		if (!err && m < 0 && m > -4096)
			failed("linux-devvmm-run-block-io-roundtrip", "mmap of /dev/vmm", m);
		else if (!err) {
			blk = (struct vm_run_block *)m;
			blk->vrb_params = (struct vm_run_params){ .vrp_vm_id = cp.vcp_id, .vrp_irq = 0xffff };
			row("linux-devvmm-run-block-io-roundtrip", loop_run_block, base);
			/* ... and with no registers in the exit (vpp_exit_regs 0, KVM_RUN's way). */
			xr.vpp_exit_regs = 0;
			err = vmm_ioctl(VMM_IOC_WRITEVMPARAMS, &xr);
			if (err)
				failed("linux-devvmm-run-block-io-roundtrip-noregs", "WRITEVMPARAMS", err);
			else
				row("linux-devvmm-run-block-io-roundtrip-noregs", loop_run_block, base);
		}
	}

	loop_getppid(WARMUP);
	report("linux-getppid-syscall", loop_getppid(N), base, N);
	puts_("vmmbench: fastest single getppid ");
	puttenths(fastest_getppid(N), 1);
	puts_("; empty-loop baseline subtracted from both rows: ");
	puttenths(base, N);
	puts_(" per iteration, N=");
	putnum(N);
	putch('\n');
	sys3(SYS_exit_group, failures ? 1 : 0, 0, 0);
	for (;;)
		;
}

/* Entry point: align the stack as the ABI expects at a call, then call vmmbench_main. */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"    xor %rbp, %rbp\n"
	"    and $-16, %rsp\n"
	"    call vmmbench_main\n"
	"    hlt\n");
