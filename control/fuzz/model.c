/* hcfuzz's model of the hypervisor (the VMs it created, their memory and vCPU states) and
 * of the control guest's address space (the pool, the memory map's extent, our arena), from
 * which the pointer classes are drawn. Only model bookkeeping: no hypercalls here. */
#include "hcfuzz.h"

struct env env;
struct mvm vms[MAX_VMS];
uint32_t stale[MAX_STALE];
unsigned nstale;
uint32_t max_id;

const char *const pclass_name[PC_COUNT] = {
	"valid", "page-crossing", "unmapped", "non-canonical", "in-pool", "crossing-into-pool",
	"past-memory-map", "crossing-memory-map-end", "mmio", "null",
};

unsigned model_live(void)
{
	unsigned n = 0;
	for (int i = 0; i < MAX_VMS; i++)
		n += vms[i].live;
	return n;
}

uint64_t model_vcpus(void)
{
	uint64_t n = 0;
	for (int i = 0; i < MAX_VMS; i++)
		n += vms[i].live ? vms[i].ncpus : 0;
	return n;
}

struct mvm *model_pick(void)
{
	unsigned n = model_live();
	if (!n)
		return NULL;
	unsigned k = (unsigned)rn(n);
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].live && !k--)
			return &vms[i];
	return NULL;
}

struct mvm *model_find(uint32_t id)
{
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].live && vms[i].id == id)
			return &vms[i];
	return NULL;
}

/* A free arena slot (its memory is backing no live VM), or -1. */
int model_free_slot(void)
{
	int used[MAX_VMS] = { 0 };
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].live && vms[i].slot >= 0)
			used[vms[i].slot] = 1;
	int start = (int)rn(MAX_VMS);
	for (int k = 0; k < MAX_VMS; k++)
		if (!used[(start + k) % MAX_VMS])
			return (start + k) % MAX_VMS;
	return -1;
}

struct mvm *model_add(const struct vm_create_params *p, int slot)
{
	struct mvm *m = NULL;
	for (int i = 0; i < MAX_VMS && !m; i++)
		if (!vms[i].live)
			m = &vms[i];
	if (!m)
		return NULL;
	if (m->vc)
		FreePool(m->vc);
	SetMem(m, sizeof *m, 0);
	m->live = 1;
	m->id = p->vcp_id;
	m->ncpus = p->vcp_ncpus;
	m->nranges = (unsigned)p->vcp_nmemranges;
	m->slot = slot;
	for (unsigned i = 0; i < m->nranges; i++) {
		m->r[i] = p->vcp_memranges[i];
		m->mem += m->r[i].vmr_size;
	}
	for (int i = 0; i < VMM_MAX_NAME_LEN - 1 && p->vcp_name[i]; i++)
		m->name[i] = p->vcp_name[i];
	m->vc = AllocateZeroPool(m->ncpus * sizeof *m->vc);
	for (uint64_t i = 0; m->vc && i < m->ncpus; i++) {
		m->vc[i].pristine = 1;
		m->vc[i].exit_regs = VM_RWREGS_ALL;
		m->vc[i].pv_known = 1;
		m->vc[i].pv_ver = 0xffffffffu;   /* not documented before the first update */
	}
	return m;
}

void model_remove(struct mvm *m)
{
	m->live = 0;
	stale[nstale++ % MAX_STALE] = m->id;
}

int model_contains(const struct mvm *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return 0;
	for (unsigned i = 0; i < m->nranges && len; i++) {
		const struct vm_mem_range *r = &m->r[i];
		if (gpa < r->vmr_gpa || gpa >= r->vmr_gpa + r->vmr_size)
			continue;
		uint64_t take = r->vmr_gpa + r->vmr_size - gpa;
		if (take >= len)
			return 1;
		gpa += take;
		len -= take;
	}
	return len == 0;
}

/* Where guest-physical [gpa, gpa+len) is in our memory, if inside one range. */
uint8_t *model_gpa(const struct mvm *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nranges; i++) {
		const struct vm_mem_range *r = &m->r[i];
		if (gpa >= r->vmr_gpa && gpa + len <= r->vmr_gpa + r->vmr_size && gpa + len >= gpa)
			return (uint8_t *)(r->vmr_va + (gpa - r->vmr_gpa));
	}
	return NULL;
}

/* ---- pointer classes ---- */

/* An address of class cls for a structure of `size` bytes; region picks which 4-page part
 * of the scratch area good pointers use (0 parameters, 1 exit buffer, 2 INFO results). */
uint64_t pc_addr(int cls, unsigned size, unsigned region, int for_output)
{
	uint64_t base = (uint64_t)env.scratch + region * 4 * PAGE, s = size ? size : 1;
	(void)for_output;
	switch (cls) {
	case PC_VALID:
		return base + (s <= PAGE ? rn((PAGE - s) / 8 + 1) * 8 : 0);
	case PC_CROSS:
		return base + PAGE - 1 - (s > 1 ? rn(s - 1) : 0);
	case PC_UNMAPPED:
		return 0x00007fff00000000ull + rn(1u << 20) * 8;
	case PC_NONCANON: {
		static const uint64_t nc[] = { 0x0000800000000000ull, 0xdead000000000000ull,
					       0x8000000000000000ull, 0xffff7ffffffff000ull };
		return nc[rn(4)] + rn(4096);
	}
	case PC_POOL:
		return env.pool_pa + rn(env.pool_size - s);
	case PC_POOL_CROSS:
		return chance(50) ? env.pool_pa - 1 - (s > 1 ? rn(s - 1) : 0)
				  : env.pool_pa + env.pool_size - 1 - (s > 1 ? rn(s - 1) : 0);
	case PC_PAST_TOP:
		return env.phys_top + (rn(16 * GIB) & ~7ull);
	case PC_TOP_CROSS:
		return env.phys_top - 1 - (s > 1 ? rn(s - 1) : 0);
	case PC_MMIO:
		return chance(50) ? 0xfee00000ull : 0xfed00000ull;   /* local APIC, HPET */
	default:
		return 0;
	}
}

/* A class for a pointer: mostly good ones. Output buffers never get MMIO or NULL (a RUN
 * or INFO that succeeds would write device registers or low memory). */
int pc_pick(int output)
{
	uint64_t r = rn(1000);
	if (r < 800)
		return PC_VALID;
	if (r < 890)
		return PC_CROSS;
	if (r < 980) {
		int c = PC_UNMAPPED + (int)rn(PC_TOP_CROSS - PC_UNMAPPED + 1);
		return !env.pool_pa && (c == PC_POOL || c == PC_POOL_CROSS) ? PC_UNMAPPED : c;
	}
	return output ? PC_VALID : (r < 990 ? PC_MMIO : PC_NULL);
}
