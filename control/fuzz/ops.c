/* hcfuzz's operations other than CREATE and RUN: HVINFO, INFO, TERM, RESETCPU, INTR,
 * READREGS, WRITEREGS, READ/WRITEVMPARAMS, MPROTECT_EPT and unknown numbers, each from a
 * valid template, then mutated, with its errno predicted and its output checked. Also the
 * choice of the next operation. */
#include "call.h"

void op_create(void);
void op_run(struct call *c);
struct mvm *info_entry_check(const struct vm_info_result *r);

/* ---- naming a VM and a vCPU: live ones mostly; stale, 0, not yet created, huge ---- */

static void pick_ids(struct call *c)
{
	uint64_t r = rn(100);
	uint32_t id;
	c->vm = r < 85 ? model_pick() : NULL;
	if (c->vm)
		id = c->vm->id;
	else if (r < 90 && nstale)
		id = stale[rn(nstale < MAX_STALE ? nstale : MAX_STALE)];
	else if (r < 94)
		id = 0;
	else if (r < 97)
		id = max_id + 1 + (uint32_t)rn(3);
	else
		id = chance(50) ? 0xffffffffu : (uint32_t)rnd();
	if (!c->vm)
		c->vm = model_find(id);   /* a random id can still name a live VM */
	c->vcpu = 0;
	if (c->vm && chance(92))
		c->vcpu = chance(50) ? 0 : (uint32_t)rn(c->vm->ncpus);
	else if (chance(90))
		c->vcpu = c->vm ? (uint32_t)c->vm->ncpus + (uint32_t)rn(3) : (uint32_t)rn(3);
	else
		c->vcpu = chance(50) ? 0xffffffffu : (uint32_t)rnd();
	c->vcpu_ok = c->vm && c->vcpu < c->vm->ncpus;
	c->must = c->vcpu_ok ? 0 : EB(BVMM_ENOENT);
	c->id = id;
}

static uint32_t vm_id_of(struct call *c) { return c->id; }

static uint64_t rw_mask(void)
{
	uint64_t r = rn(100);
	return r < 40 ? VM_RWREGS_ALL : r < 85 ? rn(32) : rn(32) | (1ull << (5 + rn(59)));
}

static void describe_ids(struct call *c)
{
	const uint32_t *ids = (const uint32_t *)call_before();
	Print(L" vm %d vcpu %d", ids[0], ids[1]);
	(void)c;
}

/* READREGS ALL through the checked stub; 0 on success. */
static int read_state(uint32_t id, uint32_t vcpu, struct vcpu_reg_state *rs)
{
	static struct vm_rwregs_params r;
	SetMem(&r, sizeof r, 0);
	r.vrwp_vm_id = id;
	r.vrwp_vcpu_id = vcpu;
	r.vrwp_mask = VM_RWREGS_ALL;
	if (hc_aux(BVMM_OP_READREGS, &r, 0))
		return 1;
	*rs = r.vrwp_regs;
	return 0;
}

/* After RESETCPU or WRITEREGS: what READREGS returns of the groups written. Compared are
 * the values bvmm keeps as given (GPRs, CR2, CR3, usable segments' selectors and bases). */
static void roundtrip(struct call *c, const struct vcpu_reg_state *want, uint64_t mask)
{
	struct vcpu_reg_state got;
	if (read_state(c->vm->id, c->vcpu, &got))
		return;
	if ((mask & VM_RWREGS_GPRS) && CompareMem(got.vrs_gprs, (void *)want->vrs_gprs, sizeof got.vrs_gprs))
		vio("READREGS after a write: GPRs differ", L"expected rip %lx rflags %lx, got rip %lx rflags %lx",
		    want->vrs_gprs[VCPU_REGS_RIP], want->vrs_gprs[VCPU_REGS_RFLAGS],
		    got.vrs_gprs[VCPU_REGS_RIP], got.vrs_gprs[VCPU_REGS_RFLAGS]);
	if ((mask & VM_RWREGS_CRS) && (got.vrs_crs[VCPU_REGS_CR3] != want->vrs_crs[VCPU_REGS_CR3] ||
				       got.vrs_crs[VCPU_REGS_CR2] != want->vrs_crs[VCPU_REGS_CR2]))
		vio("READREGS after a write: CR2/CR3 differ", L"expected %lx/%lx, got %lx/%lx",
		    want->vrs_crs[VCPU_REGS_CR2], want->vrs_crs[VCPU_REGS_CR3],
		    got.vrs_crs[VCPU_REGS_CR2], got.vrs_crs[VCPU_REGS_CR3]);
	for (int i = 0; (mask & VM_RWREGS_SREGS) && i < VCPU_REGS_NSREGS; i++) {
		const struct vcpu_segment_info *w = &want->vrs_sregs[i], *g = &got.vrs_sregs[i];
		if ((w->vsi_ar & VSI_AR_UNUSABLE) || !(w->vsi_ar & VSI_AR_P))
			continue;
		if (w->vsi_sel != g->vsi_sel || w->vsi_base != g->vsi_base)
			vio("READREGS after a write: segment differs", L"expected seg %d %x/%lx, got %x/%lx",
			    i, w->vsi_sel, w->vsi_base, g->vsi_sel, g->vsi_base);
	}
}

/* ---- HVINFO ---- */

static void op_hvinfo(struct call *c)
{
	static struct vm_hvinfo_params h;
	SetMem(&h, sizeof h, 0xa5);
	if (call_run(c, &h) || !c->p)
		return;
	const struct vm_hvinfo_params *o = (const void *)c->p;
	if (o->vhi_abi_version != BVMM_ABI_VERSION || o->vhi_vendor != BVMM_VENDOR_AMD_SVM ||
	    o->vhi_pool_size != env.pool_size || o->vhi_pool_free > o->vhi_pool_size ||
	    o->vhi_pool_free % PAGE)
		vio("HVINFO answer", L"expected abi 1 vendor 1 pool %lx, got abi %d vendor %d pool %lx free %lx",
		    env.pool_size, o->vhi_abi_version, o->vhi_vendor, o->vhi_pool_size, o->vhi_pool_free);
}

/* ---- INFO ---- */

static void op_info(struct call *c)
{
	static struct vm_info_params ip;
	uint64_t need = model_live() * sizeof(struct vm_info_result), r = rn(100);
	int cls = pc_pick(1);
	uint8_t *buf = env.scratch + 8 * PAGE;
	SetMem(buf, 4 * PAGE, 0x77);
	ip.vip_size = r < 45 ? need : r < 60 ? need + rn(400) : r < 70 ? 0 : r < 85 && need ? need - 1 - rn(need) : rnd();
	ip.vip_info_ct = 0xc0ffee;
	ip.vip_info = (struct vm_info_result *)pc_addr(cls, (unsigned)need, 2, 1);
	c->must = 0;
	if (ip.vip_size >= need && pc_bad(cls))
		c->must = need ? EB(BVMM_EFAULT) : 0;
	c->may = ip.vip_size >= need && pc_bad(cls) && !need ? EB(BVMM_EFAULT) : 0;
	c->cls = pc_pick(0) == PC_VALID ? PC_VALID : (chance(50) ? PC_CROSS : PC_UNMAPPED + (int)rn(6));
	if (call_run(c, &ip) || !c->p)
		return;
	const struct vm_info_params *o = (const void *)c->p;
	if (o->vip_info != ip.vip_info)
		vio("INFO changed vip_info", L"expected %lx, got %lx", (uint64_t)ip.vip_info, (uint64_t)o->vip_info);
	if (o->vip_size != need || o->vip_info_ct != (ip.vip_size < need ? 0 : model_live()))
		vio("INFO size or count", L"expected size %ld count %d, got %ld %ld", need,
		    ip.vip_size < need ? 0 : model_live(), o->vip_size, o->vip_info_ct);
	if (!pc_good(cls))
		return;
	uint8_t *res = (uint8_t *)ip.vip_info;
	uint64_t written = ip.vip_size < need ? 0 : need;
	for (uint64_t i = 0; written && i < model_live(); i++)
		info_entry_check((const struct vm_info_result *)(res + i * sizeof(struct vm_info_result)));
	for (uint8_t *q = res + written; q < buf + 4 * PAGE; q++)
		if (*q != 0x77) {
			vio("INFO wrote past the bytes it reports", L"expected %ld bytes, got a write at +%ld",
			    written, (uint64_t)(q - res));
			break;
		}
}

/* ---- TERM ---- */

static void op_term(struct call *c)
{
	struct vm_terminate_params t = { vm_id_of(c) };
	c->must = c->vm ? 0 : EB(BVMM_ENOENT);
	c->describe = describe_ids;
	if (call_run(c, &t) == 0 && c->vm) {
		model_remove(c->vm);
		pool_invalidate();
	}
}

/* ---- RESETCPU ---- */

static void op_resetcpu(struct call *c)
{
	static struct vm_resetcpu_params r;
	r.vrp_vm_id = vm_id_of(c);
	r.vrp_vcpu_id = c->vcpu;
	regs_template(&r.vrp_init_state, (int)rn(3));
	if (chance(40))
		regs_mutate(&r.vrp_init_state);
	if (chance(3))
		for (unsigned i = 0; i < sizeof r.vrp_init_state; i += 8)
			*(uint64_t *)((uint8_t *)&r.vrp_init_state + i) = rnd() & ~0xffull;   /* DR7 enables clear too */
	r.vrp_init_state.vrs_drs[VCPU_REGS_DR7] &= ~0xffull;
	c->describe = describe_ids;
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	int rule = regs_rules(&r.vrp_init_state);
	if (v && v->dead)
		c->must |= EB(BVMM_EBUSY);
	if (v && rule == RULE_BAD)
		c->must |= EB(BVMM_EIO);
	c->may = v && rule == RULE_UNSURE ? EB(BVMM_EIO) : 0;
	if (call_run(c, &r) || !v)
		return;
	v->pristine = 0;
	v->last = LX_NONE;
	v->pv_known = 1;
	v->pv_gpa = 0;   /* a reset CPU has not registered a clock */
	v->pv_ver = 0xffffffffu;   /* not documented after RESETCPU: not compared */
	roundtrip(c, &r.vrp_init_state, VM_RWREGS_ALL);
}

/* ---- INTR ---- */

static void op_intr(struct call *c)
{
	struct vm_intr_params p;
	SetMem(&p, sizeof p, (int)rn(256));
	p.vip_vm_id = vm_id_of(c);
	p.vip_vcpu_id = c->vcpu;
	p.vip_intr = (uint16_t)(chance(85) ? rn(2) : 2 + rn(0xfffe));
	if (p.vip_intr > 1)
		c->must |= EB(BVMM_EINVAL);
	c->describe = describe_ids;
	call_run(c, &p);
}

/* ---- READREGS / WRITEREGS ---- */

static const struct { uint64_t bit; unsigned off, len; } groups[] = {
	{ VM_RWREGS_GPRS, __builtin_offsetof(struct vcpu_reg_state, vrs_gprs), 18 * 8 },
	{ VM_RWREGS_CRS, __builtin_offsetof(struct vcpu_reg_state, vrs_crs), 10 * 8 },
	{ VM_RWREGS_MSRS, __builtin_offsetof(struct vcpu_reg_state, vrs_msrs), 7 * 8 },
	{ VM_RWREGS_DRS, __builtin_offsetof(struct vcpu_reg_state, vrs_drs), 6 * 8 },
	{ VM_RWREGS_SREGS, __builtin_offsetof(struct vcpu_reg_state, vrs_sregs), 10 * 24 },
};

static void op_readregs(struct call *c)
{
	static struct vm_rwregs_params p;
	for (unsigned i = 0; i < sizeof p; i += 8)
		*(uint64_t *)((uint8_t *)&p + i) = rnd();
	p.vrwp_vm_id = vm_id_of(c);
	p.vrwp_vcpu_id = c->vcpu;
	p.vrwp_mask = rw_mask();
	if (p.vrwp_mask & ~(uint64_t)VM_RWREGS_ALL)
		c->must |= EB(BVMM_EINVAL);
	c->describe = describe_ids;
	if (call_run(c, &p) || !c->p)
		return;
	const struct vm_rwregs_params *o = (const void *)c->p;
	if (CompareMem((void *)o, (void *)call_before(), 16))
		vio("READREGS changed ids or mask", L"expected them as sent, got changes");
	for (unsigned g = 0; g < 5; g++)
		if (!(p.vrwp_mask & groups[g].bit) &&
		    CompareMem((uint8_t *)&o->vrwp_regs + groups[g].off, call_before() + 16 + groups[g].off, groups[g].len))
			vio("READREGS wrote a group not selected", L"expected group %x untouched, got changes", groups[g].bit);
	if (p.vrwp_mask == VM_RWREGS_ALL && c->vcpu_ok && c->vm->vc[c->vcpu].pristine && regs_poweron(&o->vrwp_regs))
		vio("a new vCPU is not in the power-on state", L"expected 0 differences, got mask %x", regs_poweron(&o->vrwp_regs));
}

static void op_writeregs(struct call *c)
{
	static struct vm_rwregs_params p;
	struct vcpu_reg_state cur;
	SetMem(&cur, sizeof cur, 0);
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	int have = v && !read_state(c->vm->id, c->vcpu, &cur);
	p.vrwp_vm_id = vm_id_of(c);
	p.vrwp_vcpu_id = c->vcpu;
	p.vrwp_mask = rw_mask();
	if (have && chance(70))
		p.vrwp_regs = cur;
	else
		regs_template(&p.vrwp_regs, (int)rn(3));
	if (chance(60))
		regs_mutate(&p.vrwp_regs);
	p.vrwp_regs.vrs_drs[VCPU_REGS_DR7] &= ~0xffull;   /* never an armed breakpoint (regs.c) */
	if (p.vrwp_mask & ~(uint64_t)VM_RWREGS_ALL)
		c->must |= EB(BVMM_EINVAL);
	struct vcpu_reg_state merged = cur;
	if (have) {
		regs_merge(&merged, &p.vrwp_regs, p.vrwp_mask);
		int rule = regs_rules(&merged);
		c->must |= rule == RULE_BAD ? EB(BVMM_EINVAL) : 0;
		c->may |= rule == RULE_UNSURE ? EB(BVMM_EINVAL) : 0;
	}
	if (v && v->dead)   /* bvmm.4: EBUSY when not STOPPED; a dead vCPU shows as STOPPED */
		c->may |= EB(BVMM_EBUSY);
	c->describe = describe_ids;
	if (call_run(c, &p) || !v)
		return;
	v->pristine = 0;
	if (have)
		roundtrip(c, &merged, p.vrwp_mask);
}

/* ---- READVMPARAMS / WRITEVMPARAMS ---- */

static uint32_t vp_mask(void)
{
	uint64_t r = rn(100);
	return (uint32_t)(r < 80 ? 1 + rn(15) : r < 85 ? 0 : rn(16) | (1u << (4 + rn(28))));
}

#define VP_KNOWN ((uint32_t)(VM_RWVMPARAMS_ALL | VM_RWVMPARAMS_XAPIC | VM_RWVMPARAMS_EXIT_REGS))

static void op_readvmparams(struct call *c)
{
	static struct vm_rwvmparams_params p;
	for (unsigned i = 0; i < sizeof p; i += 8)
		*(uint64_t *)((uint8_t *)&p + i) = rnd();
	p.vpp_vm_id = vm_id_of(c);
	p.vpp_vcpu_id = c->vcpu;
	p.vpp_mask = vp_mask();
	if (p.vpp_mask & ~VP_KNOWN)
		c->must |= EB(BVMM_EINVAL);
	c->describe = describe_ids;
	if (call_run(c, &p) || !c->p)
		return;
	const struct vm_rwvmparams_params *o = (const void *)c->p, *b = (const void *)call_before();
	if (!(p.vpp_mask & 1) && o->vpp_pvclock_system_gpa != b->vpp_pvclock_system_gpa)
		vio("READVMPARAMS wrote the gpa not selected", L"expected %lx, got %lx", b->vpp_pvclock_system_gpa, o->vpp_pvclock_system_gpa);
	if (!(p.vpp_mask & 2) && o->vpp_pvclock_version != b->vpp_pvclock_version)
		vio("READVMPARAMS wrote the version not selected", L"expected %x, got %x", b->vpp_pvclock_version, o->vpp_pvclock_version);
	if (!(p.vpp_mask & VM_RWVMPARAMS_XAPIC) && o->vpp_xapic != b->vpp_xapic)
		vio("READVMPARAMS wrote vpp_xapic not selected", L"expected %x, got %x", b->vpp_xapic, o->vpp_xapic);
	if (!(p.vpp_mask & VM_RWVMPARAMS_EXIT_REGS) && o->vpp_exit_regs != b->vpp_exit_regs)
		vio("READVMPARAMS wrote vpp_exit_regs not selected", L"expected %x, got %x", b->vpp_exit_regs, o->vpp_exit_regs);
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	if (v && (p.vpp_mask & VM_RWVMPARAMS_EXIT_REGS) && o->vpp_exit_regs != v->exit_regs)
		vio("vpp_exit_regs", L"expected %x, got %x", v->exit_regs, o->vpp_exit_regs);
	if (v && (p.vpp_mask & VM_RWVMPARAMS_XAPIC) && o->vpp_xapic != v->xapic)
		vio("vpp_xapic", L"expected %u, got %u", v->xapic, o->vpp_xapic);
	if (v && v->pv_known && (p.vpp_mask & 1) && o->vpp_pvclock_system_gpa != v->pv_gpa)
		vio("pvclock gpa", L"expected %lx, got %lx", v->pv_gpa, o->vpp_pvclock_system_gpa);
	if (v && v->pv_known && (p.vpp_mask & 2) && v->pv_ver != 0xffffffffu &&
	    o->vpp_pvclock_version != v->pv_ver && o->vpp_pvclock_version != (v->pv_ver & ~1u))
		vio("pvclock version", L"expected %x, got %x", v->pv_ver, o->vpp_pvclock_version);
}

static uint64_t pv_gpa(void)
{
	uint64_t r = rn(100);
	if (r < 40)
		return 0x5000 + rn(PAGE / 8) * 8;
	if (r < 55)
		return 0x5fe1 + rn(31);   /* the 32 bytes cross a page */
	if (r < 70)
		return 0x100000 + rn(64) * PAGE;
	return chance(50) ? rnd() : (uint64_t)rn(1u << 24);
}

static void op_writevmparams(struct call *c)
{
	struct vm_rwvmparams_params p;
	SetMem(&p, sizeof p, (int)rn(256));
	p.vpp_vm_id = vm_id_of(c);
	p.vpp_vcpu_id = c->vcpu;
	p.vpp_mask = vp_mask();
	p.vpp_pvclock_system_gpa = pv_gpa() | (chance(75) ? 1 : 0);
	p.vpp_pvclock_version = (uint32_t)rnd();
	uint64_t gpa = p.vpp_pvclock_system_gpa & ~1ull;
	if (chance(50))
		p.vpp_xapic = (uint32_t)rn(3);   /* else SetMem's byte: mostly not a VPP_XAPIC_* */
	if (chance(60))   /* a valid set of groups, mostly with the GPRs; else SetMem's bytes */
		p.vpp_exit_regs = chance(80) ? VM_RWREGS_GPRS | (uint32_t)rn(32) : (uint32_t)rn(32);
	if (p.vpp_mask & ~VP_KNOWN)
		c->must |= EB(BVMM_EINVAL);
	else if ((p.vpp_mask & VM_RWVMPARAMS_XAPIC) && p.vpp_xapic > VPP_XAPIC_MMIO)
		c->must |= EB(BVMM_EINVAL);
	else if ((p.vpp_mask & VM_RWVMPARAMS_EXIT_REGS) && (p.vpp_exit_regs & ~(uint32_t)VM_RWREGS_ALL))
		c->must |= EB(BVMM_EINVAL);
	else if (c->vm && (p.vpp_mask & 1) && (p.vpp_pvclock_system_gpa & 1) &&
		 ((gpa & 0xfff) + 32 > PAGE || !model_contains(c->vm, gpa, 32)))
		c->must |= EB(BVMM_EINVAL);
	c->describe = describe_ids;
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	if (call_run(c, &p) || !v)
		return;
	if (p.vpp_mask & 1)
		v->pv_gpa = p.vpp_pvclock_system_gpa;
	if (p.vpp_mask & 2)
		v->pv_ver = p.vpp_pvclock_version;
	if (p.vpp_mask & VM_RWVMPARAMS_XAPIC)
		v->xapic = (uint8_t)p.vpp_xapic;
	if (p.vpp_mask & VM_RWVMPARAMS_EXIT_REGS)
		v->exit_regs = (uint8_t)p.vpp_exit_regs;
	v->pv_known = v->pv_known || (p.vpp_mask & VM_RWVMPARAMS_ALL) == VM_RWVMPARAMS_ALL;
}

/* ---- MPROTECT_EPT ---- */

static int mprotect_ok(const struct vm_mprotect_ept_params *p, const struct mvm *m)
{
	int prot = p->vmep_prot;
	uint64_t a = p->vmep_sgpa, sz = p->vmep_size;
	if (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE) && prot != (PROT_READ | PROT_EXEC) &&
	    prot != PROT_EXEC)
		return 0;
	if ((a | sz) & (PAGE - 1) || !sz || a + sz < a || a + sz > (512ull << 30))
		return 0;
	if (a <= VMM_PCI_MMIO_BAR_END && a + sz > VMM_PCI_MMIO_BAR_BASE)
		return 0;
	return model_contains(m, a, sz);
}

static void op_mprotect(struct call *c)
{
	struct vm_mprotect_ept_params p;
	static const int bad_prot[] = { 0, PROT_WRITE, PROT_WRITE | PROT_EXEC, 7, 8 | PROT_READ, -1 };
	static const int good_prot[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC, PROT_EXEC };
	SetMem(&p, sizeof p, (int)rn(256));
	p.vmep_vm_id = vm_id_of(c);
	p.vmep_vcpu_id = c->vcpu;
	const struct vm_mem_range *r = c->vm ? &c->vm->r[rn(c->vm->nranges)] : NULL;
	uint64_t pages = r ? r->vmr_size / PAGE : 256, off = rn(pages);
	p.vmep_sgpa = (r ? r->vmr_gpa : 0) + off * PAGE;
	p.vmep_size = (1 + rn(pages - off)) * PAGE;
	p.vmep_prot = chance(80) ? good_prot[rn(4)] : bad_prot[rn(6)];
	switch (chance(30) ? rn(7) : 7) {
	case 0: p.vmep_sgpa += 1 + rn(PAGE - 1); break;
	case 1: p.vmep_size = chance(50) ? 0 : p.vmep_size + 8; break;
	case 2: p.vmep_sgpa = (512ull << 30) - (chance(50) ? 0 : PAGE); break;
	case 3: p.vmep_sgpa = 0xfffffffffffff000ull; p.vmep_size = 0x2000; break;
	case 4: p.vmep_sgpa = VMM_PCI_MMIO_BAR_BASE - PAGE * rn(2); break;
	case 5: p.vmep_size += PAGE * (1 + rn(512)); break;   /* past the range, maybe into the next */
	case 6: p.vmep_sgpa = rnd() & ~(PAGE - 1); break;
	default: break;
	}
	if (!c->vm || !mprotect_ok(&p, c->vm))
		c->must |= c->vm ? EB(BVMM_EINVAL) : 0;
	c->may = EB(BVMM_ENOMEM) | (c->vcpu_ok && c->vm->vc[c->vcpu].dead ? EB(BVMM_EBUSY) : 0);
	c->describe = describe_ids;
	if (call_run(c, &p) == 0)
		pool_invalidate();
	else
		check_pool_now();
}

/* ---- unknown operation numbers ---- */

static void op_unknown(struct call *c)
{
	static const uint64_t odd[] = { BVMM_OP_COUNT, 14, 0xff, 0x100000000ull | BVMM_OP_RUN,
					0x100000000ull | BVMM_OP_RUN_PHYS,
					0x8000000000000000ull, ~0ull, BVMM_OP_TEST_PANIC,
					BVMM_OP_TEST_INTERCEPT_UD, 0x7f000000 };
	c->op = chance(50) ? odd[rn(sizeof odd / sizeof odd[0])] : BVMM_OP_COUNT + rn(~0ull - BVMM_OP_COUNT);
	uint8_t junk[32];
	for (unsigned i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)rnd();
	c->size = sizeof junk;
	call_run(c, junk);
	if (c->e != BVMM_ENOSYS)
		vio("unknown operation not ENOSYS", L"expected ENOSYS, got %a", errno_name(c->e));
}

/* ---- the mix ---- */

static uint64_t pick_op(void)
{
	static const struct { uint64_t op; unsigned w; } mix[] = {
		{ BVMM_OP_HVINFO, 30 }, { BVMM_OP_CREATE, 70 }, { BVMM_OP_RUN, 200 },
		{ BVMM_OP_INFO, 50 }, { BVMM_OP_TERM, 50 }, { BVMM_OP_RESETCPU, 90 },
		{ BVMM_OP_INTR, 50 }, { BVMM_OP_READREGS, 80 }, { BVMM_OP_WRITEREGS, 90 },
		{ BVMM_OP_READVMPARAMS, 40 }, { BVMM_OP_WRITEVMPARAMS, 50 },
		{ BVMM_OP_MPROTECT_EPT, 80 }, { BVMM_OP_COUNT, 30 },
	};
	unsigned live = model_live();
	if (live == 0 && chance(70))
		return BVMM_OP_CREATE;
	if (live >= MAX_VMS - 2)
		return chance(50) ? BVMM_OP_TERM : BVMM_OP_RUN;
	unsigned total = 0;
	for (unsigned i = 0; i < sizeof mix / sizeof mix[0]; i++)
		total += mix[i].w;
	unsigned r = (unsigned)rn(total);
	for (unsigned i = 0; i < sizeof mix / sizeof mix[0]; i++) {
		if (r < mix[i].w)
			return mix[i].op;
		r -= mix[i].w;
	}
	return BVMM_OP_HVINFO;
}

void op_one(void)
{
	struct call c = { .op = pick_op() };
	static const unsigned sizes[BVMM_OP_COUNT] = { 24, 1280, 32, 24, 4, 576, 12, 584, 584, 32, 32, 32, 664 };
	if (c.op == BVMM_OP_CREATE) {
		op_create();
		return;
	}
	pick_ids(&c);
	c.size = c.op < BVMM_OP_COUNT ? sizes[c.op] : 32;
	c.cls = pc_pick(0);
	if (c.cls == PC_NULL && c.op != BVMM_OP_HVINFO)
		c.cls = PC_UNMAPPED;   /* low memory may hold ids and pointers of earlier calls */
	switch (c.op) {
	case BVMM_OP_HVINFO: c.must = 0; op_hvinfo(&c); break;
	case BVMM_OP_RUN: op_run(&c); break;
	case BVMM_OP_INFO: op_info(&c); break;
	case BVMM_OP_TERM: op_term(&c); break;
	case BVMM_OP_RESETCPU: op_resetcpu(&c); break;
	case BVMM_OP_INTR: op_intr(&c); break;
	case BVMM_OP_READREGS: op_readregs(&c); break;
	case BVMM_OP_WRITEREGS: op_writeregs(&c); break;
	case BVMM_OP_READVMPARAMS: op_readvmparams(&c); break;
	case BVMM_OP_WRITEVMPARAMS: op_writevmparams(&c); break;
	case BVMM_OP_MPROTECT_EPT: op_mprotect(&c); break;
	default: c.must = EB(BVMM_ENOSYS); op_unknown(&c); break;
	}
	call_clear();
}
