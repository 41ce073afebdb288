/* Where a RUN round trip's instructions go (issue 10): a build with -DBVMM_PHASES marks the
 * path's phases with the TSC, which under QEMU -icount counts instructions exactly (32 ticks
 * each at shift=5). phase(P) charges the time since the previous mark on this CPU to P.
 * HVINFO logs the sums per mark and zeroes them (make bench-phases brackets the I/O loop
 * with it). In every other build the marks are empty. */
#ifndef HV_PHASE_H
#define HV_PHASE_H

enum phase_id {
	PH_CONTROL,      /* the control guest: its loop, the hypercall stub, the world switch */
	PH_DISPATCH,     /* control-guest exit decode, the caller's view, the operation table */
	PH_COPYIN,       /* RUN's parameters copied in through the caller's page tables */
	PH_CLAIM,        /* hv_lock, VM/vCPU lookup, checks of the caller's buffers, continue */
	PH_STATE_IN,     /* FPU/SSE, DR0-3, TSC_AUX to the child's; event injection set up */
	PH_ENTRY,        /* pvclock, the guest-mode sequence, the ASID */
	PH_CHILD,        /* the child until its exit, with the world switch */
	PH_CHILD_EXIT,   /* the child's exit decoded */
	PH_STATE_OUT,    /* FPU/SSE, DR0-3, TSC_AUX back */
	PH_RECORD,       /* the exit recorded in the vCPU (what a continue applies) */
	PH_DELIVER,      /* the exit written to the caller's vm_exit: the union, vrs, cpl */
	PH_RELEASE,      /* hv_lock, the vCPU given back */
	PH_COPYOUT,      /* RUN's parameters copied out */
	PH_RETURN,       /* back to the control guest: RIP advanced, requests checked */
	PH_COUNT
};

#ifdef BVMM_PHASES
void phase(enum phase_id p);
void phase_report(void);
#else
static inline void phase(enum phase_id p) { (void)p; }
static inline void phase_report(void) {}
#endif

#endif
