/* Host-mode failures: a panic prints what it knows to the log and halts this CPU for good.
 * A host-mode exception is always a bug (DESIGN.md), so it ends here too. */
#ifndef HV_PANIC_H
#define HV_PANIC_H

#include <stdint.h>

struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Reports and halts, except for a fault at a *_safe instruction (which returns -1) and, where
 * host_nmi is set, an NMI. */
void host_exception(struct exc_frame *f);

/* WRMSR that turns a #GP into -1 (for values a guest chose). */
int wrmsr_safe(uint32_t msr, uint64_t val);
int rdmsr_safe(uint32_t msr, uint64_t *val);
int xsetbv_safe(uint32_t xcr, uint64_t val);
/* Set by a backend whose host mode can take NMIs (VMX): called for an NMI there that is not
 * a kick, which then returns (the NMI is handed to the control guest). */
extern void (*host_nmi)(void);
void hv_nmi(struct exc_frame *f);
/* The CPU whose panic report is being written, or -1. */
extern int panic_cpu;

#endif
