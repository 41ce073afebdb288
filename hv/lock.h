/* Host-mode locking. Host code runs with GIF = 0 on SVM (no interrupt or NMI can enter it,
 * except in the explicit NMI windows, which hold no lock) and with interrupts off on VMX, so
 * a plain ticket spinlock is enough: FIFO, no reentrancy to fear.
 *
 * Lock order (DESIGN.md, "SMP"): hv_lock, then log_lock. Nothing else is a lock: per-CPU
 * state written by other CPUs (kicks, INIT/SIPI requests) uses single atomic words. No CPU
 * holds hv_lock while a guest runs, and none waits for another CPU's hv_lock-protected work
 * while holding it, except MPROTECT_EPT waiting for a kicked vCPU to leave guest mode, which
 * that vCPU does without hv_lock. */
#ifndef HV_LOCK_H
#define HV_LOCK_H

#include <stdint.h>

struct spinlock {
	uint32_t next;    /* the next ticket to hand out */
	uint32_t owner;   /* the ticket being served */
};

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

static inline void spin_lock(struct spinlock *l)
{
	uint32_t t = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != t)
		cpu_relax();
}

/* Take the lock only if nobody holds or waits for it (panic: never wait on a dead holder). */
static inline int spin_trylock(struct spinlock *l)
{
	uint32_t o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	return __atomic_compare_exchange_n(&l->next, &o, o + 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

/* The VM table, the pool, every VM's nested tables and vCPU states (hv/hypercall.c). */
extern struct spinlock hv_lock;

#endif
