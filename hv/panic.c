/* Panic and the host-mode exception report (see panic.h). */
#include "panic.h"
#include "log.h"
#include "fmt.h"
#include "bootinfo.h"
#include "percpu.h"
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/lapic.h"

int panic_cpu = -1;   /* the CPU that reports; any other stops (log.c, hv_nmi) */

#ifdef BVMM_DEBUG_VMCB
void (*panic_debug_hook)(void);
#endif

static void __attribute__((noreturn)) halt(void)
{
#ifdef BVMM_DEBUG_VMCB
	if (panic_debug_hook)
		panic_debug_hook();
#endif
	log_err("halted");
	cpu_halt_forever();
}

/* The first CPU to panic reports; the others are stopped with an NMI (each halts in hv_nmi,
 * or in log_write if it was logging) so that the report is not interleaved. A CPU that
 * panics second just halts. */
static void claim_panic(void)
{
	int none = -1;
	if (!__atomic_compare_exchange_n(&panic_cpu, &none, (int)cpu_index(), 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		cpu_halt_forever();
	if (hv_ncpus > 1)
		lapic_nmi_others();
}

void panic(const char *f, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, f);
	fmt_v(msg, sizeof msg, f, ap);
	va_end(ap);
	claim_panic();
	log_err("PANIC: %s", msg);
	halt();
}

/* An NMI in host mode. On SVM it is taken only in the windows svm/ opens after an NMI exit
 * (GIF = 1, IF = 0), or while a CPU is parked waiting for a SIPI. It is a kick from another
 * CPU (hv_cpu.kicks), a stop after a panic, or the control guest's own NMI, which it is
 * then owed. */
extern char park_hlt_insn[];
void hv_nmi(struct exc_frame *f)
{
	if (panic_cpu >= 0)
		cpu_halt_forever();   /* NMIs stay blocked: no IRET */
	struct hv_cpu *c = this_cpu();
	if (f->rip == (uint64_t)park_hlt_insn)
		f->rip++;             /* return past the parked CPU's HLT: it checks why it woke */
	if (__atomic_exchange_n(&c->kicks, 0, __ATOMIC_ACQ_REL))
		return;
	if (host_nmi)
		host_nmi();
	else
		c->nmi_for_guest = 1;
}

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

extern char wrmsr_safe_insn[], wrmsr_fixup[], rdmsr_safe_insn[], rdmsr_fixup[];
extern char xsetbv_safe_insn[], xsetbv_fixup[];
void (*host_nmi)(void);   /* VMX: an NMI in host mode belongs to the control guest */

void host_exception(struct exc_frame *f)
{
	static const struct { const char *insn, *fixup; uint64_t vectors; } fixups[] = {
		{ wrmsr_safe_insn, wrmsr_fixup, 1u << EXC_GP },
		{ rdmsr_safe_insn, rdmsr_fixup, 1u << EXC_GP },
		{ xsetbv_safe_insn, xsetbv_fixup, (1u << EXC_GP) | (1u << EXC_UD) },
	};
	for (unsigned i = 0; i < sizeof fixups / sizeof fixups[0]; i++)
		if (f->rip == (uint64_t)fixups[i].insn && f->vector < 32 &&
		    (fixups[i].vectors >> f->vector & 1)) {
			f->rip = (uint64_t)fixups[i].fixup;   /* the *_safe function returns -1 */
			return;
		}
	if (f->vector == 2) {
		hv_nmi(f);
		return;
	}
	claim_panic();
	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "interrupt";
	log_err("PANIC: host-mode exception %s (vector %lu) error %lx", name, f->vector, f->error);
	log_err("  rip %016lx cs %04lx rflags %016lx rsp %016lx ss %04lx", f->rip, f->cs,
		f->rflags, f->rsp, f->ss);
	log_err("  rax %016lx rbx %016lx rcx %016lx rdx %016lx", f->rax, f->rbx, f->rcx, f->rdx);
	log_err("  rsi %016lx rdi %016lx rbp %016lx r8  %016lx", f->rsi, f->rdi, f->rbp, f->r8);
	log_err("  r9  %016lx r10 %016lx r11 %016lx r12 %016lx", f->r9, f->r10, f->r11, f->r12);
	log_err("  r13 %016lx r14 %016lx r15 %016lx", f->r13, f->r14, f->r15);
	log_err("  cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx", read_cr0(), read_cr2(),
		read_cr3(), read_cr4());
	/* Dump the stack only where it is known to be mapped: the hypervisor's own stack. */
	uint64_t sp = f->rsp & ~7ull;
	uint64_t lo = HV_STACK_BOTTOM(cpu_index()), hi = HV_STACK_TOP(cpu_index());
	for (int i = 0; i < 16 && sp >= lo && sp + 8 <= hi; i += 2, sp += 16)
		log_err("  [%016lx] %016lx %016lx", sp, ((uint64_t *)sp)[0],
			sp + 16 <= hi ? ((uint64_t *)sp)[1] : 0);
	halt();
}
