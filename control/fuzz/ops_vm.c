/* hcfuzz's VM life cycle: CREATE (valid templates, then overlapping, straddling, overflowing,
 * unaligned, MMIO-window, too many and badly backed ranges), RUN bursts through the child's
 * exits, and the model checks of INFO and the pool. Predictions come from bvmm.4's rules. */
#include "call.h"

unsigned unexpected_exits, refused_entries;
static uint64_t pool_expect;
static int pool_known;
static uint8_t seen_ids[1u << 17];   /* ids below 2^20 CREATE has returned */

/* ---- the pool ---- */

void pool_invalidate(void) { pool_known = 0; }

void check_pool_now(void)
{
	struct vm_hvinfo_params h;
	if (hc_aux(BVMM_OP_HVINFO, &h, 0))
		return;
	if (pool_known && h.vhi_pool_free != pool_expect) {
		CHAR16 *d = PoolPrint(L"expected %lx free, got %lx", pool_expect, h.vhi_pool_free);
		violation("HVINFO", "pool usage changed without a CREATE, TERM or MPROTECT_EPT that succeeded", d);
		FreePool(d);
	}
	pool_expect = h.vhi_pool_free;
	pool_known = 1;
}

/* ---- CREATE ---- */

static int in_window(uint64_t a) { return a >= VMM_PCI_MMIO_BAR_BASE && a <= VMM_PCI_MMIO_BAR_END; }

static int range_ok(const struct vm_mem_range *r)
{
	if ((r->vmr_gpa | r->vmr_va | r->vmr_size) & (PAGE - 1) || !r->vmr_size)
		return 0;
	if (r->vmr_size > VMM_MAX_VM_MEM_SIZE || r->vmr_gpa > VMM_MAX_VM_MEM_SIZE - r->vmr_size)
		return 0;
	if (r->vmr_va + r->vmr_size < r->vmr_va)
		return 0;
	uint64_t last = r->vmr_gpa + r->vmr_size - 1;
	return !in_window(r->vmr_gpa) && !in_window(last) &&
	       !(r->vmr_gpa < VMM_PCI_MMIO_BAR_BASE && last > VMM_PCI_MMIO_BAR_END);
}

/* bvmm.4 CREATE: 1-16 ranges, 1-64 vCPUs, each range aligned, non-empty, below 32 GiB,
 * va not wrapping, clear of the PCI MMIO window, ascending without overlap, total in MiB. */
static int create_rules_ok(const struct vm_create_params *p)
{
	uint64_t total = 0, prev_end = 0;
	if (p->vcp_nmemranges < 1 || p->vcp_nmemranges > VMM_MAX_MEM_RANGES ||
	    p->vcp_ncpus < 1 || p->vcp_ncpus > VMM_MAX_VCPUS_PER_VM)
		return 0;
	for (uint64_t i = 0; i < p->vcp_nmemranges; i++) {
		const struct vm_mem_range *r = &p->vcp_memranges[i];
		if (!range_ok(r) || (i && r->vmr_gpa < prev_end))
			return 0;
		prev_end = r->vmr_gpa + r->vmr_size;
		total += r->vmr_size;
	}
	return total % MIB == 0;
}

static uint64_t first_gpa(uint64_t total)
{
	switch (rn(10)) {
	case 0: return rn(4096) * PAGE;
	case 1: return 4 * GIB + rn(1u << 16) * PAGE;
	case 2: return VMM_PCI_MMIO_BAR_BASE - total - rn(16) * PAGE;
	case 3: return VMM_PCI_MMIO_BAR_END + 1;
	default: return 0;
	}
}

/* A valid layout: 1 or 2 MiB in 1-16 ranges, ascending with gaps, backed by the slot. */
static void create_ranges(struct vm_create_params *p, uint8_t *slot)
{
	uint64_t total = chance(50) ? MIB : 2 * MIB, pages = total / PAGE;
	unsigned n = chance(65) ? 1 : chance(80) ? 2 + (unsigned)rn(3) : 1 + (unsigned)rn(16);
	uint64_t va = (uint64_t)slot + (total == MIB && chance(40) ? rn(256) * PAGE : 0);
	uint64_t gpa = first_gpa(total);
	p->vcp_nmemranges = n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t left = n - 1 - i, sz = i == n - 1 ? pages : 1 + rn(pages - left);
		if (i != n - 1 && chance(50))
			sz = (pages - left) / 2 ? (pages - left) / 2 : 1;
		p->vcp_memranges[i] = (struct vm_mem_range){ gpa, va, sz * PAGE };
		pages -= sz;
		va += sz * PAGE;
		gpa += sz * PAGE + (chance(50) ? 0 : chance(90) ? rn(64) * PAGE : GIB);
	}
}

static void gen_name(char *name)
{
	unsigned len = chance(10) ? VMM_MAX_NAME_LEN : (unsigned)rn(24) + (chance(10) ? 40 : 0);
	SetMem(name, VMM_MAX_NAME_LEN, 0);
	for (unsigned i = 0; i < len; i++)
		name[i] = chance(95) ? (char)('a' + rn(26)) : (char)(rnd() | 1);
}

/* Backing that is never ordinary RAM of the control guest (or not reachable at all); the
 * range below the pool is made to reach into it. */
static void bad_backing(struct vm_mem_range *r)
{
	uint64_t c[] = { 0x00007fff00000000ull, env.pool_pa, env.pool_pa - PAGE, 0xfee00000ull,
			 env.rt_pa, env.acpi_pa, env.resv_pa, env.phys_top, 0xdead000000000000ull,
			 env.pool_pa + env.pool_size - PAGE };
	unsigned k = (unsigned)rn(sizeof c / sizeof c[0]);
	r->vmr_va = c[k] ? c[k] : env.pool_pa;
	if (k == 2 && r->vmr_size < 2 * PAGE)
		r->vmr_size = 2 * PAGE;
}

/* One or two of the documented ways to be wrong; returns 1 if the backing is bad. */
static int create_mutate(struct vm_create_params *p)
{
	/* A first mutation may have made the count anything (case 0): index only real slots. */
	uint64_t cnt = p->vcp_nmemranges;
	unsigned n = cnt >= 1 && cnt <= VMM_MAX_MEM_RANGES ? (unsigned)cnt : VMM_MAX_MEM_RANGES;
	unsigned i = (unsigned)rn(n);
	struct vm_mem_range *r = &p->vcp_memranges[i];
	switch (rn(14)) {
	case 0: p->vcp_nmemranges = chance(50) ? 0 : chance(50) ? 17 : rnd(); break;
	case 1: p->vcp_ncpus = chance(40) ? 0 : chance(60) ? 65 : rnd(); break;
	case 2: r->vmr_gpa += chance(50) ? 0x800 : 1 + rn(PAGE - 1); break;
	case 3: r->vmr_va += 1 + rn(PAGE - 1); break;
	case 4: r->vmr_size = chance(50) ? 0 : r->vmr_size + 1 + rn(PAGE - 1); break;
	case 5: if (n > 1) p->vcp_memranges[i ? i : 1].vmr_gpa = p->vcp_memranges[i ? i - 1 : 0].vmr_gpa + rn(2) * PAGE;
		else { p->vcp_nmemranges = 2; p->vcp_memranges[1] = *r; p->vcp_memranges[1].vmr_size = MIB; r->vmr_size = MIB; }
		break;
	case 6: if (n > 1) { struct vm_mem_range t = p->vcp_memranges[0]; p->vcp_memranges[0] = p->vcp_memranges[n - 1]; p->vcp_memranges[n - 1] = t; } break;
	case 7: r->vmr_gpa = VMM_MAX_VM_MEM_SIZE - r->vmr_size + rn(4) * PAGE; break;
	case 8: r->vmr_va = 0xfffffffffff00000ull; return 1;   /* wraps, or unmapped */
	case 9: r->vmr_gpa = chance(50) ? VMM_PCI_MMIO_BAR_BASE + rn(1u << 16) * PAGE
					: VMM_PCI_MMIO_BAR_BASE - r->vmr_size / 2; break;
	case 10: r->vmr_size -= PAGE * (r->vmr_size > PAGE); break;
	case 11: r->vmr_gpa = rnd() & ~(PAGE - 1); r->vmr_size = rnd() & ~(PAGE - 1); break;
	case 12: r->vmr_gpa = VMM_PCI_MMIO_BAR_BASE - PAGE; r->vmr_size = 0x10002000ull; break;   /* spans */
	default: bad_backing(r); return 1;
	}
	return 0;
}

static void describe_create(struct call *c)
{
	const struct vm_create_params *p = (const void *)call_before();
	Print(L" nmemranges %ld ncpus %ld", p->vcp_nmemranges, p->vcp_ncpus);
	for (uint64_t i = 0; i < p->vcp_nmemranges && i < VMM_MAX_MEM_RANGES; i++)
		Print(L" [gpa %lx va %lx size %lx]", p->vcp_memranges[i].vmr_gpa,
		      p->vcp_memranges[i].vmr_va, p->vcp_memranges[i].vmr_size);
	(void)c;
}

static int id_seen(uint32_t id)
{
	return id < (1u << 20) ? (seen_ids[id >> 3] >> (id & 7)) & 1 : id <= max_id;
}

/* A new VM: its code, and (mostly) a valid entry state on its first vCPUs. */
static void setup_vm(struct mvm *m)
{
	int mode = (int)rn(3);
	child_fill(m, mode);
	if (chance(15))
		return;
	static struct vm_resetcpu_params r;
	for (uint32_t v = 0; v < m->ncpus && v < 4; v++) {
		r.vrp_vm_id = m->id;
		r.vrp_vcpu_id = v;
		regs_template(&r.vrp_init_state, mode);
		if (!hc_aux(BVMM_OP_RESETCPU, &r, 0)) {
			m->vc[v].pristine = 0;
			m->vc[v].pv_gpa = 0;
		}
	}
}

static void create_success(struct call *c, struct vm_create_params *out, int slot)
{
	uint32_t id = out->vcp_id;
	if (!id || id_seen(id))
		vio("CREATE returned an id 0 or one already used", L"expected a new id, got %d", id);
	if (CompareMem(out, (void *)call_before(), 1272) || CompareMem((uint8_t *)out + 1276, call_before() + 1276, 4))
		vio("CREATE wrote more than vcp_id", L"expected only vcp_id written, got other bytes changed");
	if (id < (1u << 20))
		seen_ids[id >> 3] |= (uint8_t)(1u << (id & 7));
	if (id > max_id)
		max_id = id;
	pool_invalidate();
	struct mvm *m = c->must ? NULL : model_add(out, slot);
	if (!m) {   /* accepted although it breaks a rule (reported): take it away again */
		struct vm_terminate_params t = { id };
		hc_aux(BVMM_OP_TERM, &t, 0);
		return;
	}
	setup_vm(m);
}

void op_create(void)
{
	static struct vm_create_params p;
	struct call c = { .op = BVMM_OP_CREATE, .size = sizeof p, .describe = describe_create };
	int slot = model_free_slot();
	if (slot < 0 || chance(3))
		slot = (int)rn(MAX_VMS);   /* backing shared with a live VM: allowed */
	SetMem(&p, sizeof p, 0);
	if (chance(10))
		for (unsigned i = 0; i < sizeof p; i += 8)
			*(uint64_t *)((uint8_t *)&p + i) = rnd();   /* the fields bvmm ignores */
	create_ranges(&p, env.arena + (uint64_t)slot * SLOT_BYTES);
	uint64_t r = rn(100);
	p.vcp_ncpus = r < 45 ? 1 : r < 65 ? 2 + rn(3) : r < 88 ? 64 : 1 + rn(64);
	gen_name(p.vcp_name);
	p.vcp_id = 0xdeadbeef;
	int bad_va = 0;
	for (unsigned k = chance(30) ? 1 + (unsigned)rn(2) : 0; k--;)
		bad_va |= create_mutate(&p);
	if (!create_rules_ok(&p) || bad_va)
		c.must |= EB(BVMM_EINVAL);
	if (p.vcp_ncpus <= VMM_MAX_VCPUS && model_vcpus() + p.vcp_ncpus > VMM_MAX_VCPUS)
		c.must |= EB(BVMM_ENOSPC);
	c.may = EB(BVMM_ENOMEM);
	c.cls = pc_pick(0);
	if (call_run(&c, &p) == 0 && c.p)
		create_success(&c, (struct vm_create_params *)c.p, slot);
	else if (c.e == 0)
		vio("CREATE succeeded from a structure we cannot see", L"expected an error, got 0");
	else
		check_pool_now();
}

/* ---- INFO against the model ---- */

/* One vm_info_result against the model; returns the VM or NULL. */
struct mvm *info_entry_check(const struct vm_info_result *r)
{
	struct mvm *m = model_find(r->vir_id);
	if (!m) {
		vio("INFO lists a VM the model does not have", L"expected no id %d, got it", r->vir_id);
		return NULL;
	}
	if (r->vir_memory_size != m->mem || r->vir_used_size != m->mem)
		vio("INFO memory size", L"expected %lx, got %lx/%lx", m->mem, r->vir_memory_size, r->vir_used_size);
	if (r->vir_ncpus != m->ncpus)
		vio("INFO vCPU count", L"expected %ld, got %ld", m->ncpus, r->vir_ncpus);
	if (r->vir_creator_pid != 0)
		vio("INFO creator pid", L"expected 0, got %d", r->vir_creator_pid);
	for (unsigned i = 0; i < VMM_MAX_VCPUS_PER_VM; i++)
		if (r->vir_vcpu_state[i] != VCPU_STATE_STOPPED) {
			vio("INFO vCPU state", L"expected STOPPED (0) for vCPU %d, got %d", i, r->vir_vcpu_state[i]);
			break;
		}
	if (CompareMem((void *)r->vir_name, m->name, VMM_MAX_NAME_LEN))
		vio("INFO name", L"expected \"%a\", got \"%.63a\"", m->name, r->vir_name);
	return m;
}

/* INFO with room for everything: exactly the model's VMs. A VM the model lacks is
 * terminated, one INFO lacks is dropped, so the run goes on from a consistent model. */
void check_info_model(void)
{
	static struct vm_info_result res[MAX_VMS + 16];
	static struct call c = { .op = BVMM_OP_INFO };
	struct vm_info_params ip = { sizeof res, 0xfeedull, res };
	int found[MAX_VMS] = { 0 };
	call_enter(&c);
	if (hc_aux(BVMM_OP_INFO, &ip, 0))
		return;
	if (ip.vip_info_ct != model_live() || ip.vip_size != ip.vip_info_ct * sizeof res[0])
		vio("INFO count", L"expected %d VMs, got %ld (vip_size %ld)", model_live(), ip.vip_info_ct, ip.vip_size);
	for (uint64_t i = 0; i < ip.vip_info_ct && i < MAX_VMS + 16; i++) {
		struct mvm *m = info_entry_check(&res[i]);
		if (m)
			found[m - vms]++;
		else {
			struct vm_terminate_params t = { res[i].vir_id };
			hc_aux(BVMM_OP_TERM, &t, 0);
		}
	}
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].live && found[i] != 1) {
			vio("INFO lists a model VM not exactly once", L"expected id %d once, got %d times", vms[i].id, found[i]);
			if (!found[i])
				model_remove(&vms[i]);
		}
	call_clear();
}

void term_all(void)
{
	for (int i = 0; i < MAX_VMS; i++) {
		if (!vms[i].live)
			continue;
		struct vm_terminate_params t = { vms[i].id };
		hc_aux(BVMM_OP_TERM, &t, 0);
		model_remove(&vms[i]);
	}
	pool_invalidate();
}

void batch_reset(void)
{
	for (int i = 0; i < MAX_VMS; i++)
		vms[i].runs = 0;
}
