/* The KVM-style paravirtual clock of children (ABI.md): a vCPU registers a
 * pvclock_vcpu_time_info with MSR 0x4b564d01; the hypervisor keeps it current on every entry
 * (version odd while it writes). Never writes outside the registered structure, which was
 * checked to lie in the VM's RAM, within one page. */
#include "vm.h"
#include "hv.h"
#include "validate.h"
#include "../arch/x86_64/cpu.h"

static uint64_t tsc_to_ns(uint64_t ticks)
{
	uint64_t hz = hv.bi->tsc_hz;
	return (ticks / hz) * 1000000000ull + (ticks % hz) * 1000000000ull / hz;
}

/* mul/shift so that ns = ((tsc << shift) * mul) >> 32 (shift may be negative). */
static void pvclock_scale(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	uint64_t num = 1000000000ull;
	int s = 0;
	while (num >= hz) {      /* ratio >= 1: shift ticks left */
		hz <<= 1;
		s++;
	}
	while (num * 2 < hz && s > -31) {
		num <<= 1;
		s--;
	}
	*mul = (uint32_t)((num << 32) / hz);
	*shift = (int8_t)s;
}

static uint32_t pv_mul;
static int8_t pv_shift;

void pvclock_init(uint64_t tsc_hz)
{
	pvclock_scale(tsc_hz, &pv_mul, &pv_shift);
}

void pvclock_set(struct vm *vm, struct vcpu *vc, uint64_t msr)
{
	uint64_t hpa;
	vc->pvclock_msr = msr;
	/* The backing of guest RAM never moves while the VM lives. The address is even (bit 0
	 * of the MSR is the enable bit), so bit 0 marks it valid even for physical page 0. */
	vc->pvclock_hpa = (msr & 1) && !vm_gpa_to_hpa(vm, msr & ~1ull,
			   sizeof(struct pvclock_vcpu_time_info), &hpa) ? hpa | 1 : 0;
}

/* On every entry of a vCPU with a clock: a few stores, nothing to look up. */
void pvclock_update(struct vm *vm, struct vcpu *vc)
{
	if (!vc->pvclock_hpa)
		return;
	volatile struct pvclock_vcpu_time_info *ti = (void *)(uintptr_t)(vc->pvclock_hpa & ~1ull);
	uint32_t v = vc->pvclock_version & ~1u;
	uint64_t now = rdtsc();
	ti->version = v + 1;   /* odd: update in progress */
	__asm__ volatile("" ::: "memory");
	ti->tsc_timestamp = now;
	ti->system_time = tsc_to_ns(now - vm->epoch_tsc);
	ti->tsc_to_system_mul = pv_mul;
	ti->tsc_shift = pv_shift;
	ti->flags = PVCLOCK_TSC_STABLE_BIT;
	__asm__ volatile("" ::: "memory");
	ti->version = v + 2;
	vc->pvclock_version = v + 2;
}

int pvclock_msr_write(struct vm *vm, struct vcpu *vc, uint64_t val)
{
	if ((val & 1) && validate_pvclock_gpa(val & ~1ull, vm->ranges, vm->nranges))
		return -1;
	pvclock_set(vm, vc, val);
	pvclock_update(vm, vc);
	return 0;
}
