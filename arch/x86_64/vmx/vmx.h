/* Intel VMX backend: turns the boot CPU into the control guest (VMXON, a VMCS from the live
 * firmware state, EPT without the pool) and handles its exits; child VMs run with a VMCS
 * each (vcpu.c). Per-CPU state lives in struct vmx_cpu, so that more CPUs are more array
 * entries. */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stdint.h>
#include "vmcs.h"
#include "insn.h"
#include "../pt.h"
#include "../cpu.h"
#include "../../../hv/percpu.h"
#include "../../../hv/gmem.h"

/* A guest's GPRs in vcpu_reg_state order (rax rbx rcx rdx rsi rdi r8..r15 rsp rbp); RSP, RIP
 * and RFLAGS live in the VMCS. */
struct vmx_guest {
	uint64_t gprs[16];
	uint64_t vmcs_pa;
	struct pt_ctx ept;
};

/* Per-CPU VMX state (hv_cpu.arch). */
struct vmx_cpu {
	uint64_t vmxon_pa;
	struct vmx_guest control;   /* control.vmcs_pa is current whenever the control guest runs */
	/* Events a child's exit took from the control guest, delivered when it runs again: */
	int control_nmi;            /* an NMI */
	int control_irq;            /* an interrupt vector, or -1 */
	/* While a child runs on this CPU: the control guest's FPU/SSE state, DR0-3, DR6, CR2 and
	 * syscall MSRs (what VM entry and exit do not switch). */
	uint8_t control_fpu[512] __attribute__((aligned(16)));
	uint64_t control_dr[4], control_dr6, control_cr2, control_msrs[5];
};
extern struct vmx_cpu vmx_cpus[HV_MAX_CPUS];
static inline struct vmx_cpu *vmx_this_cpu(void) { return this_cpu()->arch; }

/* Host-wide VMX facts, set once at launch from the capability MSRs. */
struct vmx_host {
	uint32_t revision;
	uint32_t pin, proc, proc2, exit, entry;     /* control values for the control guest */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_cap;
	uint64_t msr_bitmap, io_bitmap_a, io_bitmap_b;
	uint64_t child_msr_bitmap;                  /* children: all but the VMCS-switched MSRs */
	uint64_t efer_child, cr4_child;             /* what a child may set */
	int child_preempt;                          /* children get a preemption-timer slice */
	uint64_t efer_control;                      /* EFER bits the control guest may write */
	uint64_t cr4_control;                       /* CR4 bits it may set (VMXE never) */
	uint64_t xcr0_supported;
};
extern struct vmx_host vmx_host;

/* The current VMCS's guest's CPL: SS.DPL (SDM vol. 3 26.3.1.5). */
static inline unsigned vmx_cpl(void) { return (unsigned)(vmread(GUEST_SS_AR) >> 5) & 3; }

/* The current VMCS's guest runs 64-bit code: long mode and CS.L. */
static inline int vmx_cs_l(void)
{
	return (vmread(GUEST_EFER) & EFER_LMA) && (vmread(GUEST_CS_AR) & (1u << 13));
}

/* The instruction at the current VMCS guest's CS:RIP, through g (cs_l: vmx_cs_l()). */
static inline unsigned vmx_fetch_insn(struct gview *g, int cs_l, uint8_t insn[15])
{
	return gmem_fetch_at(g, cs_l, vmread(GUEST_CS_BASE), vmread(GUEST_RIP), insn);
}

struct boot_info;
int vmx_launch(struct boot_info *bi);
/* The hypervisor's host state into the current VMCS (the same for every VMCS). */
void vmx_fill_host(void);

/* vmx_enter(gprs, launched): guest GPRs in, VMLAUNCH (launched 0) or VMRESUME; 0 after a VM
 * exit (GPRs saved back), 1 for VMfailInvalid, 2 for VMfailValid (see VMCS_INSN_ERROR). */
int vmx_enter(uint64_t *gprs, int launched);

/* ---- pure helpers (arch/x86_64/vmx/caps.c, unit-tested) ---- */

/* A control field's value from its capability MSR (low half: bits that must be 1; high half:
 * bits that may be 1): `need` and the allowed part of `want`. -1 if a needed bit may not be
 * set; *missing gets those bits. */
int vmx_ctl(uint64_t cap, uint32_t need, uint32_t want, uint32_t *out, uint32_t *missing);

/* I/O exit qualification (SDM table 28-5). */
struct vmx_io { unsigned size, in, string, rep; uint16_t port; };
void vmx_decode_io(uint64_t qual, struct vmx_io *io);

/* Control-register access exit qualification (SDM table 28-3): type 0 MOV to CR, 1 MOV from
 * CR, 2 CLTS, 3 LMSW; gpr in vcpu_reg_state order; lmsw = the LMSW source data. */
struct vmx_cr { unsigned cr, type, gpr; uint16_t lmsw; };
void vmx_decode_cr(uint64_t qual, struct vmx_cr *c);

/* The VM-instruction error number's name (SDM 31.4), for the log. */
const char *vmx_insn_error_name(uint32_t err);

#endif
