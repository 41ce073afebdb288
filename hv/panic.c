/* Panic and the host-mode exception report (see panic.h). */
#include "panic.h"
#include "log.h"
#include "fmt.h"
#include "bootinfo.h"
#include "../arch/x86_64/cpu.h"

static int panicking;

static void __attribute__((noreturn)) halt(void)
{
	log_err("halted");
	cpu_halt_forever();
}

void panic(const char *f, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, f);
	fmt_v(msg, sizeof msg, f, ap);
	va_end(ap);
	if (panicking++)
		cpu_halt_forever();
	log_err("PANIC: %s", msg);
	halt();
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
	if (f->vector == 2 && host_nmi) {   /* VMX root mode does not hold NMIs off (SVM's GIF does) */
		host_nmi();
		return;
	}
	if (panicking++)
		cpu_halt_forever();
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
	for (int i = 0; i < 16 && sp >= HV_STACK_BOTTOM && sp + 8 <= HV_STACK_TOP; i += 2, sp += 16)
		log_err("  [%016lx] %016lx %016lx", sp, ((uint64_t *)sp)[0],
			sp + 16 <= HV_STACK_TOP ? ((uint64_t *)sp)[1] : 0);
	halt();
}
