/* First C code in host mode: take the pool, pick the vendor backend, launch. Returns to the
 * firmware (unvirtualized, through boot/launch.S) only if the launch fails. */
#include "hv.h"
#include "log.h"
#include "pool.h"
#include "vm.h"
#include "lock.h"
#include "percpu.h"
#include "../abi/bvmm.h"
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/ipi.h"
#include "../arch/x86_64/lapic.h"
#include "../arch/x86_64/launch.h"

struct hv_state hv;
const struct vendor_ops *vendor;
struct hv_cpu hv_cpus[HV_MAX_CPUS];
uint32_t hv_ncpus;
struct spinlock hv_lock;

void cpu_kick(struct hv_cpu *c)
{
	__atomic_fetch_add(&c->kicks, 1, __ATOMIC_SEQ_CST);
	lapic_send(ipi_cpus[c->index].apic_id, ICR_NMI_LOW);
}

typedef void (*abort_fn)(struct boot_cpu_state *st, uint64_t err) __attribute__((noreturn));

void hv_main(struct boot_info *bi)
{
	log_init((uint16_t)bi->log_port, (int)bi->log_level);
	hv.bi = bi;
	if (bi->magic != BOOTINFO_MAGIC) {
		log_err("bad boot info magic %lx", bi->magic);
		((abort_fn)bi->abort_rip)(&bi->guest, BVMM_EINVAL);
	}
	if (bi->ncpus < 1 || bi->ncpus > HV_MAX_CPUS || bi->boot_cpu >= bi->ncpus) {
		log_err("launch: %u CPUs (boot CPU %u): at most %u", bi->ncpus, bi->boot_cpu, HV_MAX_CPUS);
		((abort_fn)bi->abort_rip)(&bi->guest, BVMM_EINVAL);
	}
	hv_ncpus = bi->ncpus;
	for (unsigned i = 0; i < hv_ncpus; i++) {
		hv_cpus[i] = (struct hv_cpu){ .index = i, .run_state = CPU_OFF };
		ipi_cpus[i] = (struct apic_cpu){ .apic_id = bi->apic_id[i], .dfr = XAPIC_DFR_FLAT };
	}
	pool_init(bi->pool_base, bi->pool_size, bi->pool_used);
	/* pvclock's scale needs 1 MHz <= rate < 4.29 GHz (hv/vm.c pvclock_scale). */
	if (bi->tsc_hz < 1000000 || bi->tsc_hz > 0xffffffffull) {
		log_warn("launch: TSC rate %lu Hz out of range, pvclock assumes 1 GHz", bi->tsc_hz);
		bi->tsc_hz = 1000000000ull;
	}
	log_info("launch: TSC %lu kHz", bi->tsc_hz / 1000);
	pvclock_init(bi->tsc_hz);
	log_info("launch: pool %lx-%lx (%lu KiB), loader used %lu KiB (image, %lu host table pages, "
		 "boot info), free %lu KiB", bi->pool_base, bi->pool_base + bi->pool_size - 1,
		 bi->pool_size >> 10, bi->pool_used >> 10, bi->host_tables, pool_free_bytes() >> 10);

	log_info("launch: %u CPUs, this one (APIC %u) first", hv_ncpus, ipi_cpus[bi->boot_cpu].apic_id);
	int err = arch_launch(bi);

	log_err("launch failed (errno %d): resuming the firmware without the hypervisor", err);
	((abort_fn)bi->abort_rip)(&bi->guest, (uint64_t)err);
}

/* Each AP, after the boot CPU, from the loader's MP services procedure (boot/main.c): RSP
 * is already its own stack slot, which names it. */
void hv_ap_main(struct boot_info *bi)
{
	unsigned i = cpu_index();
	int err = BVMM_EINVAL;
	if (i < hv_ncpus && i != bi->boot_cpu && !hv.sealed)
		err = arch_launch_ap(bi, i);
	log_err("launch failed on this CPU (errno %d): it resumes the firmware unvirtualized", err);
	((abort_fn)bi->abort_rip)(&bi->ap_state[i < HV_MAX_CPUS ? i : 0], (uint64_t)err);
}
