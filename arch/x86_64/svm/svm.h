/* AMD SVM backend: turns the boot CPU into the control guest and handles its exits. */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <stdint.h>
#include "vmcb.h"
#include "../pt.h"
#include "../../../hv/percpu.h"

/* Saved GPRs, in vcpu_reg_state order (abi/); RAX and RSP live in the VMCB. */
enum { GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX, GPR_RSI, GPR_RDI, GPR_R8, GPR_R9, GPR_R10, GPR_R11,
       GPR_R12, GPR_R13, GPR_R14, GPR_R15, GPR_RSP, GPR_RBP, GPR_COUNT };

/* The control guest on one CPU. */
struct svm_guest {
	struct vmcb *vmcb;         /* pool page: its address is its PA */
	uint64_t gprs[GPR_COUNT];
};

/* Per-CPU SVM state (hv_cpu.arch). */
struct svm_cpu {
	struct hv_cpu *cpu;   /* the CPU's hv_cpus slot */
	uint64_t hsave;       /* VM_HSAVE_PA page */
	uint64_t host_save;   /* VMSAVE area holding this CPU's host TR, FS, GS, ... */
	struct svm_guest control;
	/* While a child runs on this CPU: the control guest's FPU/SSE state, DR0-3, TSC_AUX. */
	uint8_t control_fpu[512] __attribute__((aligned(16)));
	uint64_t control_dr[4], control_tsc_aux;
	int nmi_masked;       /* the control guest is in an NMI handler bvmm injected (until IRET) */
};
extern struct svm_cpu svm_cpus[];
static inline struct svm_cpu *svm_this_cpu(void) { return this_cpu()->arch; }

/* Host-wide SVM state, set once at launch. */
struct svm_host {
	struct pt_ctx control_npt;   /* the control guest's nested tables, shared by all CPUs */
	uint32_t max_asid;    /* CPUID 0x8000000A EBX: ASIDs 1..max_asid - 1 exist */
	uint64_t apic_page;   /* the xAPIC register page, write-protected for the control guest */
	uint64_t iopm, msrpm; /* permission maps (QEMU really reads them: real pages) */
	int nrips;            /* CPU fills next_rip */
	uint64_t child_iopm;  /* all ports intercepted */
	uint64_t child_msrpm; /* all MSRs intercepted but those the VMCB switches */
	uint64_t efer_control, efer_child;   /* EFER bits a guest may write (CPUID-based) */
	uint64_t cr4_child;   /* CR4 bits a child may set (its CPUID view, this CPU) */
	uint64_t cr4_control; /* CR4 bits this CPU has (the control guest's emulated writes) */
	int fxsave_erptr;     /* FXSAVE/FXRSTOR always save/restore FIP, FDP, FOP */
	int has_rdtscp;       /* TSC_AUX exists: switched around RUN */
};
extern struct svm_host svm_host;

struct vendor_ops;
extern struct vendor_ops svm_vendor_ops;
/* Queue an exception for the next entry (EVENTINJ, APM 15.20). */
static inline void svm_inject_exception(struct vmcb *v, unsigned vector, int has_error,
					uint32_t error)
{
	v->c.eventinj = vector | VMCB_EVENT_TYPE_EXC | VMCB_EVENT_VALID |
			(has_error ? VMCB_EVENT_EV | ((uint64_t)error << 32) : 0);
}

/* Resume after an instruction the hypervisor completed: the STI/MOV SS interrupt shadow it
 * sat in is over. */
static inline void svm_skip_to(struct vmcb *v, uint64_t rip)
{
	v->s.rip = rip;
	v->c.int_state &= ~VMCB_INT_SHADOW;
}

struct boot_info;
int svm_launch(struct boot_info *bi);
int svm_launch_ap(struct boot_info *bi, unsigned cpu);
/* Run the control guest on this CPU forever; returns only if its very first VMRUN fails. */
int svm_run_control(struct svm_cpu *c);
/* The loader's devirtualize request (launch failed on another CPU): leave SVM and resume the
 * control guest's state natively. */
void svm_devirt(struct svm_cpu *c) __attribute__((noreturn));
/* An INIT another CPU sent this one (hv_cpu.init_req): the control guest's state becomes the
 * INIT state, and the CPU waits in host mode for a SIPI (the boot CPU restarts at the reset
 * vector instead). svm/smp.c. */
void svm_control_init(struct svm_cpu *c);
void svm_log_control_state(int level, const struct svm_guest *g);
/* Take a pending NMI in host mode (GIF = 1 with IF = 0 for one instruction): hv_nmi files it
 * as a kick or as the control guest's. */
static inline void svm_nmi_window(void) { __asm__ volatile("cli; stgi; nop; clgi; sti" ::: "memory"); }

/* Enter the guest of a VMCB, and after each exit call exit(arg) in host mode; enter again
 * while it returns SVM_LOOP_AGAIN or SVM_LOOP_RELOAD (it rewrote every GPR in gprs[]), else
 * return what it returned (run.S). While exit() handles a CPUID, MSR or VMMCALL exit, gprs[]
 * holds that exit's RBX, RCX, RDX, RSI, RDI, R8-R11 but possibly an earlier RBP and R12-R15
 * (the guest's stay in their registers): the handlers of those exits use none of them. */
enum { SVM_LOOP_AGAIN, SVM_LOOP_RELOAD, SVM_LOOP_DONE };
typedef int (*svm_exit_fn)(void *arg);
int svm_loop(uint64_t vmcb_pa, uint64_t *gprs, uint64_t host_save_pa, svm_exit_fn exit, void *arg);
/* Its code, for recognizing the host's own RIP in a VMCB. */
extern char svm_loop_code[] __asm__("svm_loop");
/* The VMCB holds the hypervisor's own registers (its code segment, RIP in the world switch):
 * a VMRUN ran the host save area, seen only under QEMU's multi-threaded TCG (README). */
static inline int svm_vmcb_holds_host(const struct vmcb *v)
{
	return v->s.cs.sel == 0x08 /* HOST_CS */ &&
	       v->s.rip - (uint64_t)(uintptr_t)svm_loop_code < 0x100;
}

#ifdef BVMM_DEBUG_VMCB
/* Debug (make HV_DEBUG=-DBVMM_DEBUG_VMCB): every world switch checks that no VMCB holds the
 * host's registers before and after it, that one CPU at a time is in a VMCB (an owner word in
 * the control area's bytes set aside for software, 0x3e0-0x3ff), and records itself in a ring
 * of the CPU's last switches, which a panic prints (svm.c). Each entry is a loop of one. */
#include "../../../hv/percpu.h"
void panic(const char *f, ...) __attribute__((noreturn, format(printf, 1, 2)));
struct svm_dbg_rec {
	uint64_t vmcb, cs_in, rip_in, inj_in, intctl_in, hsave, exitcode, info1, info2, exitint,
		 cs_out, rip_out, rsp_out, rax_out;
};
#define SVM_DBG_RING 8
extern struct svm_dbg_rec svm_dbg_ring[HV_MAX_CPUS][SVM_DBG_RING];
extern uint32_t svm_dbg_pos[HV_MAX_CPUS];
static inline int svm_dbg_once(void *arg) { (void)arg; return SVM_LOOP_DONE; }
static inline int svm_dbg_loop(uint64_t vmcb, uint64_t *gprs, uint64_t host_save,
			       svm_exit_fn exit, void *arg)
{
	struct vmcb *v = (struct vmcb *)(uintptr_t)vmcb;
	volatile uint32_t *own = (volatile uint32_t *)(uintptr_t)(vmcb + 0x3e0);
	volatile uint64_t *who = (volatile uint64_t *)(uintptr_t)(vmcb + 0x3e8);
	uint32_t me = cpu_index() + 1;
	for (;;) {
		uint32_t prev = __atomic_exchange_n(own, me, __ATOMIC_SEQ_CST);
		if (prev)
			panic("DBG vmcb %lx entered on cpu %u while cpu %u is in it (its caller %lx)",
			      vmcb, me - 1, prev - 1, *who);
		*who = (uint64_t)__builtin_return_address(0);
		if (svm_vmcb_holds_host(v))
			panic("DBG vmcb %lx holds host state before entry (rip %lx)", vmcb, v->s.rip);
		struct svm_dbg_rec *r = &svm_dbg_ring[me - 1][svm_dbg_pos[me - 1]++ % SVM_DBG_RING];
		uint32_t lo, hi;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0010117));   /* VM_HSAVE_PA */
		*r = (struct svm_dbg_rec){ .vmcb = vmcb, .cs_in = v->s.cs.sel, .rip_in = v->s.rip,
					   .inj_in = v->c.eventinj, .intctl_in = v->c.int_ctl,
					   .hsave = (uint64_t)hi << 32 | lo };
		svm_loop(vmcb, gprs, host_save, svm_dbg_once, 0);
		r->exitcode = v->c.exitcode;
		r->info1 = v->c.exitinfo1;
		r->info2 = v->c.exitinfo2;
		r->exitint = v->c.exitintinfo;
		r->cs_out = v->s.cs.sel;
		r->rip_out = v->s.rip;
		r->rsp_out = v->s.rsp;
		r->rax_out = v->s.rax;
		prev = __atomic_exchange_n(own, 0, __ATOMIC_SEQ_CST);
		if (prev != me)
			panic("DBG vmcb %lx left on cpu %u but owner word says %u", vmcb, me - 1, prev);
		if (svm_vmcb_holds_host(v))
			panic("DBG vmcb %lx holds host state after exit %lx (rsp %lx)", vmcb,
			      v->c.exitcode, v->s.rsp);
		int ret = exit(arg);
		if (ret != SVM_LOOP_AGAIN && ret != SVM_LOOP_RELOAD)
			return ret;
	}
}
#define svm_loop svm_dbg_loop
#endif

/* Pure helpers, unit-tested. */
/* Length of the intercepted instruction for exits that advance RIP; 0 for the others. */
unsigned svm_insn_len(uint64_t exitcode);
/* Next RIP after the intercepted instruction: next_rip if the CPU has NRIP save and filled
 * it, else RIP + the architectural length (QEMU TCG has no NRIP save). */
uint64_t svm_next_rip(const struct vmcb *v, int has_nrips);
/* The same for an exit whose instruction length the caller knows (the hot exits: VMMCALL 3,
 * CPUID 2): no lookup by exit code. */
static inline uint64_t svm_next_rip_len(const struct vmcb *v, int has_nrips, unsigned len)
{
	return has_nrips && v->c.next_rip ? v->c.next_rip : v->s.rip + len;
}
/* MOV to a control register (0F 22 /r, APM vol. 3): with legacy prefixes and, in 64-bit
 * mode, a REX prefix. Fills the CR number, the source GPR in vcpu_reg_state order (abi/)
 * and the instruction length; -1 if the bytes are not such an instruction, 1 if it carries a
 * LOCK prefix (APM vol. 3: #UD, except LOCK MOV CR0, which is MOV CR8 on CPUs with
 * AltMovCr8; the caller decides). */
int decode_mov_to_cr(const uint8_t *insn, unsigned n, int long_mode, unsigned *cr,
		     unsigned *gpr, unsigned *len);

/* LMSW r/m16 with a register operand (0F 01 /6, mod 3): the source GPR in vcpu_reg_state
 * order and the length; -1 for anything else (a memory operand included). */
int decode_lmsw(const uint8_t *insn, unsigned n, int long_mode, unsigned *gpr, unsigned *len);

/* A store to memory, for emulating a guest's write to a write-protected MMIO page: MOV r/m8,
 * r8 (88 /r), MOV r/m16/32/64, r (89 /r), MOV r/m8, imm8 (C6 /0), MOV r/m16/32/64, imm16/32
 * (C7 /0; imm32 sign-extended with REX.W), MOV moffs, AL/rAX (A2, A3). Prefixes: 66, 67,
 * segment overrides and, in 64-bit mode, REX as the last byte before the opcode; LOCK, REP
 * and anything else are refused. */
struct store_insn {
	unsigned len;      /* whole instruction length */
	unsigned size;     /* 1, 2, 4 or 8 bytes stored */
	int src_gpr;       /* register source in vcpu_reg_state order (VCPU_REGS_*), -1: immediate */
	int src_high8;     /* 1: AH/CH/DH/BH, bits 15:8 of src_gpr */
	uint64_t imm;      /* the immediate, sign-extended or truncated to size, if src_gpr == -1 */
};
/* mode: the code segment's default size, 16 (real mode, 16-bit protected mode), 32 or 64.
 * Returns 0, or -1 if insn[0..n) does not start with such a store (a register destination,
 * mod == 3, is not a store) or it would be longer than 15 bytes. */
int decode_store(const uint8_t *insn, unsigned n, int mode, struct store_insn *out);

/* Bit index of msr's read permission in the MSR permission map (write = +1), or -1. */
long msrpm_bit(uint32_t msr);
void msrpm_intercept(uint8_t *msrpm, uint32_t msr);
/* Intercept writes only (reads pass). */
void msrpm_intercept_write(uint8_t *msrpm, uint32_t msr);

#endif
