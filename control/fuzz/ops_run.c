/* hcfuzz's RUN bursts: up to 8 RUNs per VM per batch, continuing through I/O and MMIO exits
 * with random IN data, RIP advances and register noise, random vrp_irq and vrp_continue,
 * and every exit checked against bvmm.4's "Exit reasons". */
#include "call.h"

#define RUNS_PER_BATCH 8

static struct vm_exit ex_before;
static struct vcpu_reg_state pre;   /* verbose: the state before the RUN, for a refused entry */

static void dump_state(const struct vcpu_reg_state *rs)
{
	const uint64_t *g = rs->vrs_gprs, *c = rs->vrs_crs;
	Print(L"hcfuzz:   state before: rip %lx rflags %lx cr0 %lx cr3 %lx cr4 %lx efer %lx dr6 %lx dr7 %lx\n",
	      g[VCPU_REGS_RIP], g[VCPU_REGS_RFLAGS], c[VCPU_REGS_CR0], c[VCPU_REGS_CR3], c[VCPU_REGS_CR4],
	      rs->vrs_msrs[VCPU_REGS_EFER], rs->vrs_drs[VCPU_REGS_DR6], rs->vrs_drs[VCPU_REGS_DR7]);
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		Print(L"hcfuzz:   seg %d: sel %x limit %x ar %x base %lx\n", i, rs->vrs_sregs[i].vsi_sel,
		      rs->vrs_sregs[i].vsi_limit, rs->vrs_sregs[i].vsi_ar, rs->vrs_sregs[i].vsi_base);
	Print(L"hcfuzz:   gdtr %x/%lx idtr %x/%lx cr8 %lx xcr0 %lx\n", rs->vrs_gdtr.vsi_limit, rs->vrs_gdtr.vsi_base,
	      rs->vrs_idtr.vsi_limit, rs->vrs_idtr.vsi_base, c[VCPU_REGS_CR8], c[VCPU_REGS_XCR0]);
}

static void describe_run(struct call *c)
{
	const struct vm_run_params *p = (const void *)call_before();
	Print(L" vm %d vcpu %d continue %d irq %x exit %lx", p->vrp_vm_id, p->vrp_vcpu_id,
	      p->vrp_continue, p->vrp_irq, (uint64_t)p->vrp_exit);
	(void)c;
}

static int rflags_bad(uint64_t f) { return (f & ~0x3f7fd7ull) || !(f & 2); }

/* The reply to the previous exit, in the exit buffer: IN data, or the GPRs of an NPF exit
 * (RIP unchanged, advanced, or some register noise). */
static void prepare_continue(struct vm_exit *ex, const struct mvcpu *v)
{
	ex->vei.vei_data = (uint32_t)rnd();
	if (v->last != LX_NPF)
		return;
	CopyMem(ex->vrs.vrs_gprs, (void *)v->gprs, sizeof v->gprs);
	uint64_t *g = ex->vrs.vrs_gprs;
	uint64_t r = rn(10);
	if (r < 4)
		g[VCPU_REGS_RIP] += 1 + rn(15);
	else if (r == 4)
		g[VCPU_REGS_RFLAGS] ^= 1ull << rn(23);
	else if (r == 5)
		g[rn(VCPU_REGS_NGPRS)] = rnd();
}

/* RUN_PHYS's block (its template: placed by the call engine per the call's class). */
static struct vm_run_block blk;

static void build(struct call *c, struct vm_run_params *p, struct vm_exit **ex, int *ex_cls, int phys)
{
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	for (unsigned i = 0; i < sizeof *p; i += 8)
		*(uint64_t *)((uint8_t *)p + i) = rnd();   /* padding too: it must come back as sent */
	p->vrp_vm_id = c->id;
	p->vrp_vcpu_id = c->vcpu;
	int want_cont = v && (v->last == LX_IO_IN || v->last == LX_NPF) && chance(85);
	p->vrp_continue = (uint8_t)(want_cont ? 1 : chance(70) ? 0 : rnd());
	uint64_t r = rn(100);
	p->vrp_irq = (uint16_t)(r < 85 ? VRP_IRQ_NONE : r < 95 ? rn(256) : 256 + rn(0xfeff));
	if (phys) {   /* the exit goes into the block; vrp_exit is not read (noise) */
		*ex_cls = c->cls;
		*ex = &blk.vrb_exit;
		p->vrp_exit = (struct vm_exit *)rnd();
	} else {
		*ex_cls = pc_pick(1);
		uint64_t a = pc_addr(*ex_cls, sizeof **ex, 1, 1);
		*ex = pc_good(*ex_cls) ? (struct vm_exit *)a : NULL;
		p->vrp_exit = (struct vm_exit *)a;
	}
	p->vrp_exit_reason = 0xbeef;
	p->vrp_irqready = 0xab;
	if (*ex) {
		SetMem(*ex, sizeof **ex, 0x5a);
		if (v && p->vrp_continue)
			prepare_continue(*ex, v);
		ex_before = **ex;
	}
}

static void predict(struct call *c, const struct vm_run_params *p, const struct vm_exit *ex, int ex_cls)
{
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	if (p->vrp_irq != VRP_IRQ_NONE && p->vrp_irq > 255)
		c->must |= EB(BVMM_EINVAL);
	if (v && v->dead)
		c->must |= EB(BVMM_EBUSY);
	if (pc_bad(ex_cls))
		c->must |= EB(BVMM_EFAULT);
	if (!v || v->dead)
		return;
	c->may |= EB(BVMM_EIO);
	if (!p->vrp_continue || v->last != LX_NPF || !v->last_gprs)
		return;   /* GPRs taken back only after an NPF exit that carried them */
	c->may |= EB(BVMM_EINVAL);   /* the merged state's other rules are not ours to see */
	if (ex && rflags_bad(ex->vrs.vrs_gprs[VCPU_REGS_RFLAGS]))
		c->must |= EB(BVMM_EINVAL);
}

static void check_union_zero(const struct vm_exit *ex, unsigned from)
{
	const uint8_t *u = (const uint8_t *)ex;
	for (unsigned i = from; i < sizeof(struct vm_exit_eptviolation); i++)   /* the union: 18 bytes */
		if (u[i]) {
			vio("exit union not zero past the exit's fields", L"expected 0 at byte %d, got %x", i, u[i]);
			return;
		}
}

static void check_io(const struct vm_exit *ex)
{
	const struct vm_exit_inout *io = &ex->vei;
	if ((io->vei_size != 1 && io->vei_size != 2 && io->vei_size != 4) || io->vei_dir > 1 ||
	    io->vei_rep > 1 || io->vei_string > 1 || io->vei_encoding)
		vio("bad I/O exit", L"expected size 1/2/4, dir/rep/string 0/1, encoding 0, got %d %d %d %d %d",
		    io->vei_size, io->vei_dir, io->vei_rep, io->vei_string, io->vei_encoding);
	if (io->vei_dir == VEI_DIR_OUT && io->vei_size < 4 && io->vei_data >> (8 * io->vei_size))
		vio("OUT data wider than the access", L"expected %d bytes, got %x", io->vei_size, io->vei_data);
	check_union_zero(ex, 12);
}

static void check_npf(const struct vm_exit *ex)
{
	const struct vm_exit_eptviolation *v = &ex->vee;
	if (v->vee_fault_type != VEE_FAULT_MMIO_ASSIST && v->vee_fault_type != VEE_FAULT_PROTECT)
		vio("NPF fault type", L"expected MMIO_ASSIST or PROTECT, got %d", v->vee_fault_type);
	if (v->vee_insn_len > 15 || (v->vee_insn_info != (v->vee_insn_len ? VEE_BYTES_VALID : 0)))
		vio("NPF instruction bytes", L"expected info BYTES_VALID iff 0 < len <= 15, got info %x len %d",
		    v->vee_insn_info, v->vee_insn_len);
}

/* vrs's groups outside the vCPU's vpp_exit_regs: as the caller left them. */
static void check_untouched(const struct vm_exit *ex, unsigned groups)
{
	const struct vcpu_reg_state *a = &ex->vrs, *b = &ex_before.vrs;
	int bad = 0;
	if (!(groups & VM_RWREGS_GPRS))
		bad |= CompareMem((void *)a->vrs_gprs, (void *)b->vrs_gprs, sizeof a->vrs_gprs) != 0;
	if (!(groups & VM_RWREGS_SREGS))
		bad |= (CompareMem((void *)a->vrs_sregs, (void *)b->vrs_sregs, sizeof a->vrs_sregs) ||
			CompareMem((void *)&a->vrs_gdtr, (void *)&b->vrs_gdtr, sizeof a->vrs_gdtr) ||
			CompareMem((void *)&a->vrs_idtr, (void *)&b->vrs_idtr, sizeof a->vrs_idtr)) << 1;
	if (!(groups & VM_RWREGS_CRS))
		bad |= (CompareMem((void *)a->vrs_crs, (void *)b->vrs_crs, sizeof a->vrs_crs) != 0) << 2;
	if (!(groups & VM_RWREGS_MSRS))
		bad |= (CompareMem((void *)a->vrs_msrs, (void *)b->vrs_msrs, sizeof a->vrs_msrs) != 0) << 3;
	if (!(groups & VM_RWREGS_DRS))
		bad |= (CompareMem((void *)a->vrs_drs, (void *)b->vrs_drs, sizeof a->vrs_drs) != 0) << 4;
	if (bad)
		vio("RUN wrote vrs groups outside vpp_exit_regs", L"expected groups %x only, got also %x", groups, bad);
}

/* regs_poweron()'s difference bits that the groups an exit writes can show. */
static int poweron_bits(unsigned groups)
{
	return ((groups & VM_RWREGS_GPRS) ? 0x05 : 0) | ((groups & VM_RWREGS_SREGS) ? 0x42 : 0) |
	       ((groups & VM_RWREGS_CRS) ? 0x18 : 0) | ((groups & VM_RWREGS_DRS) ? 0x20 : 0);
}

/* Every documented property of a successful RUN's answer; updates the vCPU's model. */
static void run_success(struct call *c, const struct vm_run_params *p, const struct vm_exit *ex)
{
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	if (CompareMem((void *)p, (void *)call_before(), 24) || CompareMem((uint8_t *)p + 27, call_before() + 27, 5))
		vio("RUN changed input fields or padding", L"expected only exit_reason/irqready written, got more");
	if (p->vrp_irqready > 1)
		vio("vrp_irqready", L"expected 0 or 1, got %d", p->vrp_irqready);
	if (!v || !ex)
		return;
	check_untouched(ex, v->exit_regs);
	v->last = LX_NONE;
	switch (p->vrp_exit_reason) {
	case SVM_VMEXIT_IOIO:
		check_io(ex);
		v->last = ex->vei.vei_dir == VEI_DIR_IN && !ex->vei.vei_string ? LX_IO_IN : LX_OTHER;
		break;
	case SVM_VMEXIT_NPF:
		check_npf(ex);
		v->last = LX_NPF;
		v->last_gprs = !!(v->exit_regs & VM_RWREGS_GPRS);
		CopyMem(v->gprs, (void *)ex->vrs.vrs_gprs, sizeof v->gprs);
		break;
	case SVM_VMEXIT_SHUTDOWN:
		check_union_zero(ex, 0);
		if ((regs_poweron(&ex->vrs) & poweron_bits(v->exit_regs)) || ex->cpl)
			vio("state after SHUTDOWN is not the power-on state", L"expected 0 differences, got mask %x cpl %d",
			    regs_poweron(&ex->vrs) & poweron_bits(v->exit_regs), ex->cpl);
		break;
	case SVM_VMEXIT_VINTR:
		if (p->vrp_irqready != 1)
			vio("VINTR exit without vrp_irqready", L"expected 1, got %d", p->vrp_irqready);
		/* fall through */
	case SVM_VMEXIT_HLT:
	case VM_EXIT_NONE:
		check_union_zero(ex, 0);
		break;
	default:   /* documented: reported raw, the vCPU stopped for good */
		check_union_zero(ex, 0);
		unexpected_exits++;
		v->dead = 1;
		if (verbose)
			Print(L"hcfuzz: note: call %ld: unexpected exit %x at rip %lx, vCPU stopped\n", call_no,
			      p->vrp_exit_reason, ex->vrs.vrs_gprs[VCPU_REGS_RIP]);
	}
	if ((unsigned)ex->cpl > 3)
		vio("exit cpl", L"expected 0-3, got %d", ex->cpl);
}

/* EIO: HLT with IF=0 (stopped for good) or a refused entry (reset to power-on). */
static void run_eio(struct call *c)
{
	static struct vm_rwregs_params r;
	struct mvcpu *v = &c->vm->vc[c->vcpu];
	SetMem(&r, sizeof r, 0);
	r.vrwp_vm_id = c->vm->id;
	r.vrwp_vcpu_id = c->vcpu;
	r.vrwp_mask = VM_RWREGS_ALL;
	if (hc_aux(BVMM_OP_READREGS, &r, 0))
		return;
	v->last = LX_NONE;
	if (regs_poweron(&r.vrwp_regs)) {
		v->dead = 1;
		return;
	}
	refused_entries++;
	if (verbose) {
		Print(L"hcfuzz: note: call %ld: RUN EIO with the vCPU reset (a refused entry)\n", call_no);
		dump_state(&pre);
	}
}

/* One RUN; returns the exit reason, or 0x10000 + errno. */
static uint32_t run_once(struct call *c)
{
	static struct vm_run_params p;
	struct vm_exit *ex;
	int ex_cls;
	c->must = c->vcpu_ok ? 0 : EB(BVMM_ENOENT);
	c->may = 0;
	/* A quarter through RUN_PHYS: the same RUN with the block named by physical address
	 * (this program's memory is identity-mapped: its addresses are physical ones). The
	 * block is an output: no device or NULL class. */
	int phys = chance(25), cls = c->cls;
	c->op = phys ? BVMM_OP_RUN_PHYS : BVMM_OP_RUN;
	c->size = phys ? sizeof blk : sizeof p;
	if (phys && !pc_good(c->cls) && !pc_bad(c->cls))
		c->cls = PC_VALID;
	build(c, &p, &ex, &ex_cls, phys);
	if (verbose && c->vcpu_ok) {
		static struct vm_rwregs_params r;
		SetMem(&r, sizeof r, 0);
		r.vrwp_vm_id = c->id;
		r.vrwp_vcpu_id = c->vcpu;
		r.vrwp_mask = VM_RWREGS_ALL;
		hc(BVMM_OP_READREGS, &r);
		pre = r.vrwp_regs;
	}
	predict(c, &p, ex, ex_cls);
	if (c->vm)
		c->vm->runs++;
	if (phys) {
		for (unsigned i = 0; i < sizeof blk.vrb_pad; i++)
			blk.vrb_pad[i] = (uint8_t)rnd();   /* must come back as sent, too */
		blk.vrb_params = p;
		ex_before = blk.vrb_exit;
		call_run(c, &blk);
		c->cls = cls;
		ex = c->p ? &((struct vm_run_block *)c->p)->vrb_exit : NULL;
		if (c->e == 0 && c->p && CompareMem(c->p + 32, call_before() + 32, sizeof blk.vrb_pad))
			vio("RUN_PHYS wrote the block's padding", L"expected bytes 32-63 as sent, got a change");
	} else {
		call_run(c, &p);
	}
	struct mvcpu *v = c->vcpu_ok ? &c->vm->vc[c->vcpu] : NULL;
	if (v && (c->e == 0 || c->e == BVMM_EIO)) {
		v->pristine = 0;
		v->pv_known = 0;   /* the child may have registered a clock; updates move the version */
	}
	if (c->e == 0 && c->p)
		run_success(c, (struct vm_run_params *)c->p, ex);
	else if (c->e == 0 && v)
		v->last = LX_OTHER;
	if (c->e && ex && CompareMem(ex, &ex_before, sizeof *ex))
		vio("failed RUN wrote the exit buffer", L"expected no write, got one");
	if (c->e == BVMM_EIO && v)
		run_eio(c);
	if (c->e)
		return 0x10000u + (uint32_t)c->e;
	return c->p ? ((struct vm_run_params *)c->p)->vrp_exit_reason : VM_EXIT_NONE;
}

/* A burst of RUNs on one vCPU (the VM chosen among those with budget left). */
void op_run(struct call *c)
{
	c->describe = describe_run;
	if (c->vm && c->vm->runs >= RUNS_PER_BATCH)
		c->vm = NULL, c->vcpu_ok = 0, c->id = 0;   /* budget spent: a RUN that must fail */
	unsigned n = c->vm ? 1 + (unsigned)rn(RUNS_PER_BATCH - c->vm->runs) : 1, none = 0;
	while (n--) {
		uint32_t r = run_once(c);
		none = r == VM_EXIT_NONE ? none + 1 : 0;
		if (r >= 0x10000 || r == SVM_VMEXIT_SHUTDOWN || none >= 2 ||
		    (c->vcpu_ok && c->vm->vc[c->vcpu].dead))
			break;
	}
}
