/* First C code in host mode: take the pool, pick the vendor backend, launch. Returns to the
 * firmware (unvirtualized, through boot/launch.S) only if the launch fails. */
#include "hv.h"
#include "log.h"
#include "pool.h"
#include "vm.h"
#include "../abi/bvmm.h"
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/launch.h"

struct hv_state hv;
const struct vendor_ops *vendor;

typedef void (*abort_fn)(struct boot_cpu_state *st, uint64_t err) __attribute__((noreturn));

void hv_main(struct boot_info *bi)
{
	log_init((uint16_t)bi->log_port, (int)bi->log_level);
	hv.bi = bi;
	if (bi->magic != BOOTINFO_MAGIC) {
		log_err("bad boot info magic %lx", bi->magic);
		((abort_fn)bi->abort_rip)(&bi->guest, BVMM_EINVAL);
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

	int err = arch_launch(bi);

	log_err("launch failed (errno %d): resuming the firmware without the hypervisor", err);
	((abort_fn)bi->abort_rip)(&bi->guest, (uint64_t)err);
}
