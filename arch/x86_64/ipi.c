/* INIT and SIPI never reach a virtualized CPU (PLATFORM.md "SMP"): on AMD a CPU in guest mode
 * has no wait-for-SIPI state, and an INIT would reset it out of the hypervisor. Every ICR
 * write of the control guest comes here (x2APIC: the WRMSR is intercepted; xAPIC: the
 * register page is write-protected in the nested tables). INIT and SIPI for virtualized CPUs
 * are handed to the target (hv_cpu.init_req, .sipi, then an NMI kick), which emulates them
 * (svm/smp.c); every other IPI is replayed to the real APIC as written. Before the launch is
 * sealed, an INIT or SIPI for a CPU not yet virtualized goes to the hardware (the firmware's
 * MP services wake APs that way); after it, one for a CPU bvmm does not run is dropped: it
 * would start that CPU outside guest mode. */
#include "ipi.h"
#include "apic.h"
#include "lapic.h"
#include "../../hv/hv.h"
#include "../../hv/log.h"
#include "../../hv/percpu.h"

struct apic_cpu ipi_cpus[HV_MAX_CPUS];

static void send_init(struct hv_cpu *t, int self)
{
	__atomic_store_n(&t->sipi, 0, __ATOMIC_SEQ_CST);   /* SIPIs count from this INIT on */
	__atomic_store_n(&t->init_req, 1, __ATOMIC_SEQ_CST);
	if (!self)
		cpu_kick(t);   /* this CPU: its run loop sees init_req after this exit */
}

/* Real CPUs take a SIPI only in wait-for-SIPI; an INIT still on its way counts as that. */
static void send_sipi(struct hv_cpu *t, uint8_t vector, int self)
{
	if (__atomic_load_n(&t->run_state, __ATOMIC_SEQ_CST) != CPU_WAIT_SIPI &&
	    !__atomic_load_n(&t->init_req, __ATOMIC_SEQ_CST))
		return;
	__atomic_store_n(&t->sipi, SIPI_VALID | vector, __ATOMIC_SEQ_CST);
	if (!self)
		cpu_kick(t);
}

int ipi_control_icr(int x2apic, uint64_t icr)
{
	struct icr_req r;
	unsigned self = cpu_index();
	icr_decode(icr, x2apic, self, ipi_cpus, hv_ncpus, &r);
	switch (r.kind) {
	case ICR_OTHER:
		lapic_replay(x2apic, icr);
		return 0;
	case ICR_INVALID:
		log_debug("ICR write %lx invalid: %s", icr, r.fault ? "#GP" : "dropped");
		return r.fault ? -1 : 0;
	case ICR_INIT_DEASSERT:
		return 0;
	case ICR_INIT:
	case ICR_SIPI:
		break;
	}
	for (unsigned i = 0; i < hv_ncpus; i++) {
		if (!(r.targets >> i & 1))
			continue;
		struct hv_cpu *t = &hv_cpus[i];
		if (__atomic_load_n(&t->run_state, __ATOMIC_SEQ_CST) == CPU_OFF) {
			if (hv.sealed) {
				log_warn("%s to cpu%u (APIC %u), which bvmm does not run: dropped",
					 r.kind == ICR_INIT ? "INIT" : "SIPI", i, ipi_cpus[i].apic_id);
				continue;
			}
			/* Physical destination, no shorthand: only this CPU. */
			uint64_t low = icr & ~(ICR_SH_MASK | ICR_DEST_LOGICAL) & 0xffffffffull;
			lapic_send(ipi_cpus[i].apic_id, (uint32_t)low);
			continue;
		}
		log_debug("%s to cpu%u emulated", r.kind == ICR_INIT ? "INIT" : "SIPI", i);
		if (r.kind == ICR_INIT)
			send_init(t, i == self);
		else
			send_sipi(t, r.vector, i == self);
	}
	return 0;
}

int ipi_control_xapic_write(uint64_t offset, uint64_t val, unsigned size)
{
	struct hv_cpu *c = this_cpu();
	uint64_t base = lapic_mmio_base();
	/* APIC registers are 32 bits wide at 16-byte strides; other accesses are undefined
	 * (SDM 10.4.1): refused. In x2APIC mode the page decodes nothing: dropped. */
	if (size != 4 || (offset & 0xf) || offset >= 4096)
		return -1;
	if (!base)
		return 0;
	uint32_t v = (uint32_t)val;
	switch (offset) {
	case APIC_REG_ICR_HI:
		c->icr_high = v;   /* sent with the next ICR low write (the hypervisor uses the
				    * real ICR high for its own kicks in between) */
		return 0;
	case APIC_REG_ICR_LO:
		return ipi_control_icr(0, v | (uint64_t)c->icr_high << 32);
	case APIC_REG_LDR:
		ipi_cpus[c->index].ldr = v;
		break;
	case APIC_REG_DFR:
		ipi_cpus[c->index].dfr = v;
		break;
	}
	*(volatile uint32_t *)(uintptr_t)(base + offset) = v;
	return 0;
}
