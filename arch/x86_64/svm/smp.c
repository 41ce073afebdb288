/* INIT and SIPI for the control guest on SVM. A CPU in guest mode has no wait-for-SIPI state
 * on AMD, and a real INIT would reset the CPU out from under the hypervisor (QEMU does not
 * model VM_CR.R_INIT; PLATFORM.md "SMP"). So no real INIT or SIPI ever reaches a virtualized
 * CPU: the sender's ICR writes are intercepted (arch/x86_64/ipi.c), and the target is asked
 * through hv_cpu.init_req / .sipi and an NMI kick. Here the target does what the hardware
 * would: INIT puts the CPU into the INIT state (SDM vol. 3A 9.1.1, table 9-1; APM vol. 2
 * 14.1.3) and, for an AP, into wait-for-SIPI, parked in host mode on HLT; a SIPI starts it in
 * real mode at vector << 12 (SDM 8.4.4.1 / 10.6.1). */
#include "svm.h"
#include "../cpu.h"
#include "../lapic.h"
#include "../../../hv/hv.h"
#include "../../../hv/log.h"
#include "../../../hv/mem.h"
#include "../../../hv/percpu.h"

static void real_seg(struct vmcb_seg *s, uint16_t sel, uint64_t base, uint16_t attrib)
{
	*s = (struct vmcb_seg){ .sel = sel, .attrib = attrib, .limit = 0xffff, .base = base };
}

/* The INIT state, with CS:IP at the reset vector. What INIT leaves alone stays as it was:
 * the MTRRs, PAT and the other MSRs outside the VMCB's segment/syscall set (table 9-1). */
static void init_state(struct svm_guest *g)
{
	struct vmcb *v = g->vmcb;
	memset(g->gprs, 0, sizeof g->gprs);
	g->gprs[GPR_RDX] = cpuid(1, 0).eax;   /* processor signature, as after RESET/INIT */
	v->s.rax = 0;
	v->s.rsp = 0;
	v->s.rip = 0xfff0;
	v->s.rflags = 2;
	real_seg(&v->s.cs, 0xf000, 0xffff0000, 0x9b);
	real_seg(&v->s.ds, 0, 0, 0x93);
	real_seg(&v->s.es, 0, 0, 0x93);
	real_seg(&v->s.fs, 0, 0, 0x93);
	real_seg(&v->s.gs, 0, 0, 0x93);
	real_seg(&v->s.ss, 0, 0, 0x93);
	real_seg(&v->s.ldtr, 0, 0, 0x82);
	real_seg(&v->s.tr, 0, 0, 0x8b);
	v->s.gdtr = (struct vmcb_seg){ .limit = 0xffff };
	v->s.idtr = (struct vmcb_seg){ .limit = 0xffff };
	v->s.cpl = 0;
	v->s.cr0 = CR0_ET | CR0_CD | CR0_NW;
	v->s.cr2 = 0;
	v->s.cr3 = 0;
	v->s.cr4 = 0;
	v->s.efer = EFER_SVME;                /* EFER = 0 for the guest; VMRUN needs SVME */
	v->s.dr6 = 0xffff0ff0;
	v->s.dr7 = 0x400;
	v->s.kernel_gs_base = 0;
	v->c.eventinj = 0;
	v->c.int_state = 0;
	v->c.tlb_control = VMCB_TLB_FLUSH_ALL;  /* nothing the old guest cached survives INIT */
	/* The x87/SSE state is the CPU's own while the control guest runs (never switched): as
	 * INIT leaves it, x87 reset, the XMM registers untouched (table 9-1). */
	__asm__ volatile("fninit");
}

/* Sleep until an NMI (a kick with the SIPI or a new INIT) arrives: GIF = 1 with IF = 0, so
 * only an NMI wakes the HLT. An NMI that lands between STGI and HLT returns past the HLT
 * (hv_nmi checks for park_hlt_insn), so no wake-up is lost. */
static void __attribute__((noinline)) park_wait(void)
{
	__asm__ volatile("cli\n\tstgi\n\t.globl park_hlt_insn\npark_hlt_insn:\n\thlt\n\tclgi\n\tsti"
			 ::: "memory");
}

void svm_control_init(struct svm_cpu *c)
{
	struct hv_cpu *hc = this_cpu();
	struct svm_guest *g = &c->control;
	int bsp = !!(rdmsr(MSR_APIC_BASE) & APIC_BASE_BSP);
	for (;;) {
		__atomic_store_n(&hc->init_req, 0, __ATOMIC_SEQ_CST);
		init_state(g);
		hc->nmi_for_guest = 0;   /* INIT drops a pending NMI; wait-for-SIPI takes none */
		c->nmi_masked = 0;
		g->vmcb->c.intercept_misc1 &= ~VMCB_INTERCEPT_IRET;
		if (bsp) {   /* the boot CPU restarts at the reset vector, no SIPI */
			log_info("INIT: the boot CPU restarts at f000:fff0");
			return;
		}
		/* The sender cleared .sipi before asking for the INIT (ipi.c): a SIPI found there
		 * now was sent after the INIT. */
		__atomic_store_n(&hc->run_state, CPU_WAIT_SIPI, __ATOMIC_SEQ_CST);
		log_debug("INIT: waiting for a SIPI");
		uint32_t sipi;
		while (!(sipi = __atomic_exchange_n(&hc->sipi, 0, __ATOMIC_ACQ_REL)) &&
		       !__atomic_load_n(&hc->init_req, __ATOMIC_ACQUIRE))
			park_wait();
		if (!sipi)
			continue;   /* another INIT: start over */
		hc->nmi_for_guest = 0;
		uint8_t vec = (uint8_t)sipi;
		real_seg(&g->vmcb->s.cs, (uint16_t)(vec << 8), (uint64_t)vec << 12, 0x9b);
		g->vmcb->s.rip = 0;
		__atomic_store_n(&hc->run_state, CPU_GUEST, __ATOMIC_SEQ_CST);
		log_info("SIPI: starting at %x:0000", vec << 8);
		return;
	}
}
