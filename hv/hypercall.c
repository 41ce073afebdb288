/* Hypercall dispatch: the vmm(4) operations. Every argument is copied in once, validated
 * completely, then acted on; output is copied out only on success, and its destination is
 * checked before anything changes (shared/ABI.md). Unknown VM or vCPU: ENOENT everywhere. */
#include "hv.h"
#include "vm.h"
#include "pool.h"
#include "log.h"
#include "mem.h"
#include "validate.h"
#include "lock.h"
#include "percpu.h"
#include "phase.h"

typedef uint64_t (*hc_fn)(struct gview *caller, uint64_t arg);

#define COPY_IN(c, p, arg) do { int e_ = gmem_copy_in((c), &(p), (arg), sizeof(p)); \
	if (e_) return e_; } while (0)

/* Find the VM and vCPU a request names. */
static inline __attribute__((always_inline)) int lookup(uint32_t vm_id, uint32_t vcpu_id, struct vm **vm,
							   struct vcpu **vc)
{
	*vm = vm_find(vm_id);
	*vc = vcpu_find(*vm, vcpu_id);
	return *vc ? 0 : BVMM_ENOENT;
}

/* HVINFO: ABI version, vendor, pool size and free bytes. EFAULT. */
static uint64_t hc_hvinfo(struct gview *c, uint64_t arg)
{
	phase_report();   /* -DBVMM_PHASES builds only */
	struct vm_hvinfo_params p = {
		.vhi_abi_version = BVMM_ABI_VERSION,
		.vhi_vendor = hv.vendor,
		.vhi_pool_size = pool_size(),
		.vhi_pool_free = pool_free_bytes(),
	};
	return (uint64_t)gmem_copy_out(c, arg, &p, sizeof p);
}

/* CREATE: EFAULT, EINVAL (validate_create, backing pages), ENOMEM, ENOSPC. */
static uint64_t hc_create(struct gview *c, uint64_t arg)
{
	struct vm_create_params p;
	uint32_t id;
	COPY_IN(c, p, arg);
	int e = validate_create(&p);
	if (!e)
		e = gmem_check_out(c, arg, sizeof p);
	if (!e)
		e = vm_create(&p, c, &id);
	if (e)
		return e;
	p.vcp_id = id;
	return gmem_copy_out(c, arg, &p, sizeof p);
}

/* The caller's reply to the previous exit (vrp_continue): only the part that exit uses is
 * read, once. EFAULT. */
static int apply_continue(struct gview *c, struct vcpu *vc, uint64_t exit_va,
			  const struct vm_exit *direct)
{
	if (vc->last_exit == VEXIT_IO && vc->last_io_in) {
		uint32_t data;   /* vei_data: all an IN's reply is */
		int e = 0;
		if (direct)
			__builtin_memcpy(&data, &direct->vei.vei_data, sizeof data);
		else
			e = gmem_copy_in(c, &data, exit_va + __builtin_offsetof(struct vm_exit_inout, vei_data),
					 sizeof data);
		if (!e)
			vendor->io_in_done(vc, vc->last_io_size, data);
		return e;
	}
	if ((vc->last_exit == VEXIT_MMIO || vc->last_exit == VEXIT_PROTECT) &&
	    vc->last_gprs) {   /* an exit without them: the caller uses WRITEREGS */
		/* Only the general registers change: of the rules in validate_regs, only those
		 * on them (RFLAGS: reserved bits, VM in long mode) can newly fail; the rest of
		 * the state is the vCPU's own, as the processor left it. */
		struct vcpu_reg_state rs;   /* vrs_gprs only: regs_write(GPRS) reads no more */
		int e = 0;
		if (direct)
			memcpy(rs.vrs_gprs, direct->vrs.vrs_gprs, sizeof rs.vrs_gprs);
		else
			e = gmem_copy_in(c, rs.vrs_gprs, exit_va + __builtin_offsetof(struct vm_exit, vrs),
					 sizeof rs.vrs_gprs);
		uint64_t rfl = rs.vrs_gprs[VCPU_REGS_RFLAGS];
		if (!e && validate_rflags_mode(rfl, vendor->long_mode(vc)))
			e = BVMM_EINVAL;
		if (!e)
			vendor->regs_write(vc, VM_RWREGS_GPRS, &rs);
		return e;
	}
	return 0;
}

/* Every field of *ex (its padding is left as it is). */
static inline __attribute__((always_inline)) void fill_exit(struct vcpu *vc, const struct vexit *vx,
							    struct vm_exit *ex)
{
	if (vx->kind == VEXIT_IO) {   /* the union: vei, then zeros to its 18 bytes */
		ex->vei = vx->io;
		__builtin_memset((uint8_t *)&ex->vee + sizeof ex->vei, 0, sizeof ex->vee - sizeof ex->vei);
	} else {
		ex->vee = (struct vm_exit_eptviolation){ 0 };   /* 18 bytes: stores, not a call */
	}
	if (vx->kind == VEXIT_MMIO || vx->kind == VEXIT_PROTECT) {
		ex->vee.vee_fault_type = vx->kind == VEXIT_MMIO ? VEE_FAULT_MMIO_ASSIST : VEE_FAULT_PROTECT;
		ex->vee.vee_insn_info = vx->insn_len ? VEE_BYTES_VALID : 0;
		ex->vee.vee_insn_len = vx->insn_len;
		__builtin_memcpy(ex->vee.vee_insn_bytes, vx->insn, sizeof vx->insn);   /* inline */
	}
	ex->cpl = vx->cpl;
	if (vc->exit_regs)
		vendor->regs_read(vc, vc->exit_regs, &ex->vrs);
}

/* What the next RUN needs to know about this exit; EIO for the exits that fail the RUN
 * (a refused entry; HLT with interrupts off, which stops the vCPU for good). */
static int record_exit(struct vm *vm, struct vcpu *vc, const struct vexit *vx)
{
	vc->last_exit = (uint8_t)vx->kind;
	/* Only a plain IN hands data back through vrp_continue; an INS's data goes to guest
	 * memory, which the caller writes itself (with WRITEREGS for RDI/RCX). */
	vc->last_io_in = vx->kind == VEXIT_IO && vx->io.vei_dir == VEI_DIR_IN && !vx->io.vei_string;
	vc->last_io_size = vx->io.vei_size;
	vc->last_gprs = vc->exit_regs & VM_RWREGS_GPRS;
	if (vx->kind == VEXIT_FAILED)
		return BVMM_EIO;
	if (vx->kind == VEXIT_HLT && !vx->intr_enabled) {
		vc->dead = 1;
		log_info("vm %u vcpu %u: HLT with interrupts off, stopped for good", vm->id, vc->id);
		return BVMM_EIO;
	}
	if (vx->kind == VEXIT_UNEXPECTED) {
		vc->dead = 1;
		log_warn("vm %u vcpu %u: unexpected exit %x, stopped", vm->id, vc->id, vx->raw);
	}
	return 0;
}

/* The exit into the caller's buffer (checked writable before the run): straight in when it
 * sits in one page (the common case: no staging copy of 600 bytes on every exit), through
 * the mapping the claim made. */
static void deliver_exit(struct gview *c, struct vcpu *vc, const struct vexit *vx, uint64_t exit_va,
			 struct vm_exit *direct)
{
	struct vm_exit ex;
	if (direct) {
		fill_exit(vc, vx, direct);
		return;
	}
	/* Staged: what fill_exit leaves alone (padding, vrs groups outside vpp_exit_regs) goes
	 * back as the caller had it. Checked writable at the claim, so readable too. */
	if (gmem_copy_in(c, &ex, exit_va, sizeof ex))
		memset(&ex, 0, sizeof ex);
	fill_exit(vc, vx, &ex);
	gmem_copy_out(c, exit_va, &ex, sizeof ex);
}


/* Claim a stopped vCPU for RUN (under hv_lock): EINVAL, EBUSY (not STOPPED, or stopped for
 * good), EFAULT; apply the caller's reply to the previous exit. */
static int run_claim(struct gview *c, uint64_t arg, int out_mapped, struct vm_run_params *p,
		     struct vm **vm, struct vcpu **vc, struct vm_exit **direct)
{
	int e = lookup(p->vrp_vm_id, p->vrp_vcpu_id, vm, vc);
	if (e)
		return e;
	if (p->vrp_irq != VRP_IRQ_NONE && p->vrp_irq > 255)
		return BVMM_EINVAL;
	if ((*vc)->state != VCPU_STATE_STOPPED || (*vc)->dead)
		return BVMM_EBUSY;
	/* The exit buffer: mapped writable once, for the continue and the delivery (the
	 * caller cannot run before RUN returns: the mapping stays its own, as a TLB entry
	 * would), or checked writable page by page when it crosses one. */
	uint64_t exit_va = (uint64_t)(uintptr_t)p->vrp_exit;
	if (!*direct) {   /* RUN_PHYS: the block was checked as a whole, *direct is in it */
		*direct = gmem_direct(c, exit_va, sizeof(struct vm_exit), 1);
		e = *direct ? 0 : gmem_check_out(c, exit_va, sizeof(struct vm_exit));
	}
	if (!e && !out_mapped)   /* the results' bytes, unless mapped writable already */
		e = gmem_check_out(c, arg + VRP_OUT_OFF, VRP_OUT_LEN);
	if (!e && p->vrp_continue)
		e = apply_continue(c, *vc, exit_va, *direct);
	if (e)
		return e;
	(*vc)->state = VCPU_STATE_RUNNING;
	(*vc)->cpu = cpu_index();
	__atomic_store_n(&(*vc)->kick_exit, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* RUN and RUN_PHYS from the parameters on: up and direct are the caller's parameters and exit
 * buffer where they are mapped writable (RUN_PHYS: both, checked as its block), else NULL
 * (reached through the caller's view at arg and vrp_exit; RUN maps the exit buffer itself). */
static uint64_t run_vcpu(struct gview *c, uint64_t arg, struct vm_run_params *up,
			 struct vm_exit *direct)
{
	struct vm_run_params p;
	struct vm *vm;
	struct vcpu *vc;
	struct vexit vx;
	if (up)
		__builtin_memcpy(&p, up, sizeof p);   /* 32 bytes, read once: four moves, inline */
	else
		COPY_IN(c, p, arg);
	phase(PH_COPYIN);
	spin_lock(&hv_lock);
	int e = run_claim(c, arg, up != NULL, &p, &vm, &vc, &direct);
	spin_unlock(&hv_lock);
	phase(PH_CLAIM);
	if (e)
		return e;

	vendor->run(vm, vc, p.vrp_irq == VRP_IRQ_NONE ? -1 : p.vrp_irq, &vx);
	e = record_exit(vm, vc, &vx);
	phase(PH_RECORD);
	/* Read once, before the vCPU is given back without hv_lock (TERM sets dying before it
	 * waits for STOPPED, then frees: vm is not ours after the store). A TERM that sets it
	 * after this read finds this RUN finished, as if it had come after. The store orders
	 * the exit's delivery and the vCPU's state before a new owner's claim (under hv_lock). */
	int dying = __atomic_load_n(&vm->dying, __ATOMIC_SEQ_CST);
	if (!e && !dying) {
		deliver_exit(c, vc, &vx, (uint64_t)(uintptr_t)p.vrp_exit, direct);
		p.vrp_exit_reason = vx.kind == VEXIT_NONE ? VM_EXIT_NONE : (uint16_t)vx.raw;
		p.vrp_irqready = vx.irq_ready;
	}
	phase(PH_DELIVER);
	__atomic_store_n(&vc->state, VCPU_STATE_STOPPED, __ATOMIC_SEQ_CST);
	phase(PH_RELEASE);
	if (dying)
		return BVMM_ENOENT;
	if (e)
		return e;
	/* Only the results: the inputs stay as the caller has them. */
	if (up) {   /* bytes, not fields: the caller's block need not be aligned (3: inline) */
		__builtin_memcpy((uint8_t *)up + VRP_OUT_OFF, (uint8_t *)&p + VRP_OUT_OFF, VRP_OUT_LEN);
		e = 0;
	} else {
		e = gmem_copy_out(c, arg + VRP_OUT_OFF, (uint8_t *)&p + VRP_OUT_OFF, VRP_OUT_LEN);
	}
	phase(PH_COPYOUT);
	return e;
}

/*
 * RUN: EFAULT, ENOENT (also when TERM ends the VM while this RUN runs it), EINVAL (vrp_irq
 * not a vector or 0xffff; after an MMIO or protection exit, a vrs that makes a state that
 * cannot be entered), EBUSY (not STOPPED: another CPU runs it, or stopped for good), EIO
 * (HLT with interrupts off: the vCPU stops for good; or the state could not be entered).
 * hv_lock is held to claim the vCPU, not while it runs; the exit is recorded and delivered
 * while the vCPU is still this CPU's (RUNNING), then it is given back by one atomic store.
 */
static uint64_t hc_run(struct gview *c, uint64_t arg)
{
	phase(PH_DISPATCH);
	/* Parameters in one writable page (the usual case): read once, through one mapping that
	 * also takes the results, and no second walk. */
	return run_vcpu(c, arg, gmem_direct(c, arg, sizeof(struct vm_run_params), 1), NULL);
}

/*
 * RUN_PHYS (bvmm's extension): RUN with the parameters and the exit in the struct vm_run_block
 * at guest-physical address arg, which must lie in the caller's memory as every buffer must
 * (control_gpa_to_hpa: not the pool, the ECAM window or the xAPIC page, below phys_top), else
 * EFAULT. The caller's physical memory is the host's, mapped 1:1 and never moved, so there is
 * no page-table walk and nothing to revalidate; vrp_exit is not read. The rest is RUN's.
 */
static uint64_t hc_run_phys(struct gview *c, uint64_t arg)
{
	/* It reads nothing through the caller's page tables (hypercall_walks): c is NULL, and
	 * with up and direct set run_vcpu and its helpers never use a view. */
	uint64_t hpa = arg;   /* the control guest's memory is the host's, 1:1 */
	phase(PH_DISPATCH);
	/* 1 + the last block this CPU found good (0: none yet; arg ~0 must not match it, its + 1
	 * wraps to 0). The answer depends on the address alone: the pool, ECAM, the xAPIC page
	 * and the memory map's end never change after the launch. Per CPU: threads running
	 * their own blocks on other CPUs do not share (or bounce) the word. */
	struct hv_cpu *hc = this_cpu();
	if (!hc->run_block_ok || arg + 1 != hc->run_block_ok) {
		if (control_gpa_to_hpa(c, arg, sizeof(struct vm_run_block), &hpa))
			return BVMM_EFAULT;
		hc->run_block_ok = arg + 1;
	}
	struct vm_run_block *b = (struct vm_run_block *)(uintptr_t)hpa;
	return run_vcpu(NULL, arg, &b->vrb_params, &b->vrb_exit);
}

/* INFO: EFAULT. A vip_size too small is answered with the size needed and no entries. */
static uint64_t hc_info(struct gview *c, uint64_t arg)
{
	struct vm_info_params p;
	struct vm_info_result r;
	uint64_t n = 0;
	COPY_IN(c, p, arg);
	for (unsigned i = 0; i < VMM_MAX_VCPUS; i++)
		n += vms[i] != NULL;
	uint64_t need = n * sizeof r;
	if (p.vip_size < need) {
		p.vip_size = need;
		p.vip_info_ct = 0;
		return gmem_copy_out(c, arg, &p, sizeof p);
	}
	uint64_t out = (uint64_t)(uintptr_t)p.vip_info;
	int e = gmem_check_out(c, out, need);
	if (!e)
		e = gmem_check_out(c, arg, sizeof p);
	if (e)
		return e;
	for (unsigned i = 0, k = 0; i < VMM_MAX_VCPUS; i++) {
		struct vm *vm = vms[i];
		if (!vm)
			continue;
		memset(&r, 0, sizeof r);
		r.vir_memory_size = vm->mem_size;
		r.vir_used_size = vm->mem_size;   /* all of it is backed by the caller's pages */
		r.vir_ncpus = vm->ncpus;
		for (uint32_t j = 0; j < vm->ncpus; j++)
			r.vir_vcpu_state[j] = vm->vcpus[j]->state;
		r.vir_id = vm->id;
		memcpy(r.vir_name, vm->name, sizeof r.vir_name);
		gmem_copy_out(c, out + k++ * sizeof r, &r, sizeof r);
	}
	p.vip_info_ct = n;
	p.vip_size = need;
	return gmem_copy_out(c, arg, &p, sizeof p);
}

/* TERM: EFAULT, ENOENT. A vCPU running on another CPU is kicked out (its RUN returns
 * ENOENT); TERM waits for that, then frees the VM. */
static uint64_t hc_term(struct gview *c, uint64_t arg)
{
	struct vm_terminate_params p;
	COPY_IN(c, p, arg);
	spin_lock(&hv_lock);
	struct vm *vm = vm_detach(p.vtp_vm_id);
	if (vm)
		for (uint32_t i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i]->state == VCPU_STATE_RUNNING) {
				__atomic_store_n(&vm->vcpus[i]->kick_exit, 1, __ATOMIC_SEQ_CST);
				cpu_kick(&hv_cpus[vm->vcpus[i]->cpu]);
			}
	spin_unlock(&hv_lock);
	if (!vm)
		return BVMM_ENOENT;
	for (uint32_t i = 0; i < vm->ncpus; i++)
		while (__atomic_load_n(&vm->vcpus[i]->state, __ATOMIC_SEQ_CST) == VCPU_STATE_RUNNING)
			cpu_relax();
	spin_lock(&hv_lock);
	vm_destroy(vm);
	spin_unlock(&hv_lock);
	return 0;
}

/* RESETCPU: EFAULT, ENOENT, EBUSY (not STOPPED, or stopped for good), EIO (a state that
 * cannot be entered). */
static uint64_t hc_resetcpu(struct gview *c, uint64_t arg)
{
	struct vm_resetcpu_params p;
	struct vm *vm;
	struct vcpu *vc;
	COPY_IN(c, p, arg);
	int e = lookup(p.vrp_vm_id, p.vrp_vcpu_id, &vm, &vc);
	if (e)
		return e;
	if (vc->state != VCPU_STATE_STOPPED || vc->dead)
		return BVMM_EBUSY;
	if (validate_regs(&p.vrp_init_state))
		return BVMM_EIO;
	vendor->reset(vc, &p.vrp_init_state);
	vc->irq_pending = 0;
	vc->last_exit = VEXIT_NONE;
	pvclock_set(vm, vc, 0);   /* a reset CPU has not registered a clock */
	return 0;
}

/* INTR: EFAULT, ENOENT, EINVAL (vip_intr other than 0 or 1). */
static uint64_t hc_intr(struct gview *c, uint64_t arg)
{
	struct vm_intr_params p;
	struct vm *vm;
	struct vcpu *vc;
	COPY_IN(c, p, arg);
	int e = lookup(p.vip_vm_id, p.vip_vcpu_id, &vm, &vc);
	if (e)
		return e;
	if (p.vip_intr > 1)
		return BVMM_EINVAL;
	vc->irq_pending = (uint8_t)p.vip_intr;
	if (vc->state == VCPU_STATE_RUNNING) {   /* its RUN returns, to be run with the new level */
		__atomic_store_n(&vc->kick_exit, 1, __ATOMIC_SEQ_CST);
		cpu_kick(&hv_cpus[vc->cpu]);
	}
	return 0;
}

/* Overlay the groups of `mask` from `src` onto `dst`. */
static void merge_regs(struct vcpu_reg_state *dst, const struct vcpu_reg_state *src, uint64_t mask)
{
	if (mask & VM_RWREGS_GPRS)
		memcpy(dst->vrs_gprs, src->vrs_gprs, sizeof dst->vrs_gprs);
	if (mask & VM_RWREGS_SREGS) {
		memcpy(dst->vrs_sregs, src->vrs_sregs, sizeof dst->vrs_sregs);
		dst->vrs_gdtr = src->vrs_gdtr;
		dst->vrs_idtr = src->vrs_idtr;
	}
	if (mask & VM_RWREGS_CRS)
		memcpy(dst->vrs_crs, src->vrs_crs, sizeof dst->vrs_crs);
	if (mask & VM_RWREGS_MSRS)
		memcpy(dst->vrs_msrs, src->vrs_msrs, sizeof dst->vrs_msrs);
	if (mask & VM_RWREGS_DRS)
		memcpy(dst->vrs_drs, src->vrs_drs, sizeof dst->vrs_drs);
}

/* READREGS: EFAULT, ENOENT, EINVAL (unknown mask bits), EBUSY (running: its registers are
 * the CPU's). Unselected groups are written back as the caller passed them (the ioctl
 * copy-out of the whole structure, as in OpenBSD). */
static uint64_t hc_readregs(struct gview *c, uint64_t arg)
{
	struct vm_rwregs_params p;
	struct vcpu_reg_state rs;
	struct vm *vm;
	struct vcpu *vc;
	COPY_IN(c, p, arg);
	int e = lookup(p.vrwp_vm_id, p.vrwp_vcpu_id, &vm, &vc);
	if (e)
		return e;
	if (p.vrwp_mask & ~(uint64_t)VM_RWREGS_ALL)
		return BVMM_EINVAL;
	if (vc->state != VCPU_STATE_STOPPED)
		return BVMM_EBUSY;
	memset(&rs, 0, sizeof rs);
	vendor->regs_read(vc, VM_RWREGS_ALL, &rs);
	merge_regs(&p.vrwp_regs, &rs, p.vrwp_mask);
	return gmem_copy_out(c, arg, &p, sizeof p);
}

/* WRITEREGS: EFAULT, ENOENT, EBUSY (not STOPPED), EINVAL (unknown mask bits, or a
 * resulting state that cannot be entered). */
static uint64_t hc_writeregs(struct gview *c, uint64_t arg)
{
	struct vm_rwregs_params p;
	struct vcpu_reg_state rs;
	struct vm *vm;
	struct vcpu *vc;
	COPY_IN(c, p, arg);
	int e = lookup(p.vrwp_vm_id, p.vrwp_vcpu_id, &vm, &vc);
	if (e)
		return e;
	if (p.vrwp_mask & ~(uint64_t)VM_RWREGS_ALL)
		return BVMM_EINVAL;
	if (vc->state != VCPU_STATE_STOPPED)
		return BVMM_EBUSY;
	vendor->regs_read(vc, VM_RWREGS_ALL, &rs);
	merge_regs(&rs, &p.vrwp_regs, p.vrwp_mask);
	if (validate_regs(&rs))
		return BVMM_EINVAL;
	vendor->regs_write(vc, p.vrwp_mask, &rs);
	return 0;
}

#define VMPARAMS_KNOWN ((uint32_t)(VM_RWVMPARAMS_ALL | VM_RWVMPARAMS_XAPIC | \
				   VM_RWVMPARAMS_EXIT_REGS))

/* READVMPARAMS: EFAULT, ENOENT, EINVAL (unknown mask bits). */
static uint64_t hc_readvmparams(struct gview *c, uint64_t arg)
{
	struct vm_rwvmparams_params p;
	struct vm *vm;
	struct vcpu *vc;
	COPY_IN(c, p, arg);
	int e = lookup(p.vpp_vm_id, p.vpp_vcpu_id, &vm, &vc);
	if (e)
		return e;
	if (p.vpp_mask & ~VMPARAMS_KNOWN)
		return BVMM_EINVAL;
	if (p.vpp_mask & VM_RWVMPARAMS_PVCLOCK_SYSTEM_GPA)
		p.vpp_pvclock_system_gpa = vc->pvclock_msr;
	if (p.vpp_mask & VM_RWVMPARAMS_PVCLOCK_VERSION)
		p.vpp_pvclock_version = vc->pvclock_version;
	if (p.vpp_mask & VM_RWVMPARAMS_XAPIC)
		p.vpp_xapic = vc->xapic;
	if (p.vpp_mask & VM_RWVMPARAMS_EXIT_REGS)
		p.vpp_exit_regs = vc->exit_regs;
	return gmem_copy_out(c, arg, &p, sizeof p);
}

/* WRITEVMPARAMS: EFAULT, ENOENT, EINVAL (unknown mask bits; an enabled structure address
 * outside guest RAM or crossing a page; vpp_xapic not a VPP_XAPIC_* value; vpp_exit_regs
 * with unknown groups), EBUSY (running). */
static uint64_t hc_writevmparams(struct gview *c, uint64_t arg)
{
	struct vm_rwvmparams_params p;
	struct vm *vm;
	struct vcpu *vc;
	COPY_IN(c, p, arg);
	int e = lookup(p.vpp_vm_id, p.vpp_vcpu_id, &vm, &vc);
	if (e)
		return e;
	if (p.vpp_mask & ~VMPARAMS_KNOWN)
		return BVMM_EINVAL;
	if (vc->state != VCPU_STATE_STOPPED)
		return BVMM_EBUSY;
	uint64_t gpa = p.vpp_pvclock_system_gpa;
	if ((p.vpp_mask & VM_RWVMPARAMS_PVCLOCK_SYSTEM_GPA) && (gpa & 1) &&
	    validate_pvclock_gpa(gpa & ~1ull, vm->ranges, vm->nranges))
		return BVMM_EINVAL;
	if ((p.vpp_mask & VM_RWVMPARAMS_XAPIC) && p.vpp_xapic > VPP_XAPIC_MMIO)
		return BVMM_EINVAL;
	/* Any set of groups, none included (KVM_RUN without sync_regs): a continue after an MMIO
	 * or protection exit takes the general registers back only if the exit carried them. */
	if ((p.vpp_mask & VM_RWVMPARAMS_EXIT_REGS) && (p.vpp_exit_regs & ~(uint32_t)VM_RWREGS_ALL))
		return BVMM_EINVAL;
	if (p.vpp_mask & VM_RWVMPARAMS_EXIT_REGS)
		vc->exit_regs = (uint8_t)p.vpp_exit_regs;
	if (p.vpp_mask & VM_RWVMPARAMS_XAPIC)
		vc->xapic = (uint8_t)p.vpp_xapic;
	if (p.vpp_mask & VM_RWVMPARAMS_PVCLOCK_SYSTEM_GPA)
		pvclock_set(vm, vc, gpa);
	if (p.vpp_mask & VM_RWVMPARAMS_PVCLOCK_VERSION)
		vc->pvclock_version = p.vpp_pvclock_version;
	return 0;
}

/* Translations of the VM cached on any CPU may be stale after a change that takes rights
 * away: a new generation makes every vCPU take a fresh ASID at its next entry (svm/vcpu.c).
 * A vCPU in guest mode right now (odd guest_seq) is kicked, and this waits until it has left
 * guest mode once, so none runs on old translations when MPROTECT_EPT returns. It waits for
 * the exit only, never for the vCPU to be given back (a RUN may be delivering its exit:
 * with hv_lock held by the caller, no new claim starts meanwhile). */
static void vm_tlb_shootdown(struct vm *vm)
{
	uint32_t seq[VMM_MAX_VCPUS_PER_VM];
	__atomic_fetch_add(&vm->npt_gen, 1, __ATOMIC_SEQ_CST);
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		seq[i] = __atomic_load_n(&v->guest_seq, __ATOMIC_SEQ_CST);
		if (seq[i] & 1)
			cpu_kick(&hv_cpus[v->cpu]);
	}
	for (uint32_t i = 0; i < vm->ncpus; i++)
		if (seq[i] & 1)
			while (__atomic_load_n(&vm->vcpus[i]->guest_seq, __ATOMIC_ACQUIRE) == seq[i])
				cpu_relax();
}

/* MPROTECT_EPT: EFAULT, ENOENT, EBUSY (the named vCPU not STOPPED), EINVAL
 * (validate_mprotect), ENOMEM (splitting a large page; permissions unchanged then). Other
 * vCPUs of the VM may run: the change reaches them before this returns. */
static uint64_t hc_mprotect(struct gview *c, uint64_t arg)
{
	struct vm_mprotect_ept_params p;
	struct vm *vm;
	struct vcpu *vc;
	int r, w, x;
	COPY_IN(c, p, arg);
	int e = lookup(p.vmep_vm_id, p.vmep_vcpu_id, &vm, &vc);
	if (e)
		return e;
	if (vc->state != VCPU_STATE_STOPPED)
		return BVMM_EBUSY;
	e = validate_mprotect(&p, vm->ranges, vm->nranges, &r, &w, &x);
	if (e)
		return e;
	/* Exec-only where the tables can say it (npt_read: EPT with the capability); elsewhere
	 * the read bit is the present bit, never cleared: read+exec. */
	uint64_t set = (w ? vendor->npt_write : 0) | (x ? vendor->npt_exec : vendor->npt_nx) |
		       (r ? vendor->npt_read : 0);
	e = pt_protect(&vm->npt, p.vmep_sgpa, p.vmep_size, vendor->npt_write | vendor->npt_exec |
		       vendor->npt_nx | vendor->npt_read, set);
	if (!e)
		vm_tlb_shootdown(vm);
	return e;
}

static const hc_fn ops[BVMM_OP_COUNT] = {
	[BVMM_OP_HVINFO] = hc_hvinfo,
	[BVMM_OP_CREATE] = hc_create,
	[BVMM_OP_RUN] = hc_run,
	[BVMM_OP_RUN_PHYS] = hc_run_phys,
	[BVMM_OP_INFO] = hc_info,
	[BVMM_OP_TERM] = hc_term,
	[BVMM_OP_RESETCPU] = hc_resetcpu,
	[BVMM_OP_INTR] = hc_intr,
	[BVMM_OP_READREGS] = hc_readregs,
	[BVMM_OP_WRITEREGS] = hc_writeregs,
	[BVMM_OP_READVMPARAMS] = hc_readvmparams,
	[BVMM_OP_WRITEVMPARAMS] = hc_writevmparams,
	[BVMM_OP_MPROTECT_EPT] = hc_mprotect,
};

#ifdef BVMM_TEST_HOOKS
int hv_test_intercept_ud;

/* Test-only operations (bvmm-test.efi): provoke the failure paths the invariants promise. */
static uint64_t test_hook(uint64_t op)
{
	switch (op) {
	case BVMM_OP_TEST_PANIC:
		log_warn("test hook: executing ud2 in host mode");
		__asm__ volatile("ud2");
		return 0;
	case BVMM_OP_TEST_INTERCEPT_UD:
		log_warn("test hook: children created from now on intercept #UD (an exit bvmm does not expect)");
		hv_test_intercept_ud = 1;
		return 0;
	default:
		return BVMM_ENOSYS;
	}
}
#endif

/* The loader's seal: from now on its own calls are gone, and an INIT or SIPI for a CPU bvmm
 * does not run is dropped (arch/x86_64/ipi.c). */
static uint64_t seal(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < hv_ncpus; i++)
		n += __atomic_load_n(&hv_cpus[i].run_state, __ATOMIC_SEQ_CST) != CPU_OFF;
	hv.sealed = 1;
	log_info("launch complete: %u of %u CPUs virtualized", n, hv_ncpus);
	if (n != hv_ncpus)
		log_warn("launch: %u CPUs the firmware disabled stay off (INIT/SIPI to them dropped)",
			 hv_ncpus - n);
	return 0;
}

uint64_t hypercall_other(uint64_t op)
{
#ifdef BVMM_TEST_HOOKS
	if (op >= BVMM_OP_TEST_PANIC)
		return test_hook(op);
#endif
	return op == HV_OP_LOADER_DONE && !hv.sealed ? seal() : BVMM_ENOSYS;
}

uint64_t hypercall(struct gview *caller, uint64_t op, uint64_t arg)
{
	if (__builtin_expect(op >= BVMM_OP_COUNT, 0))
		return hypercall_other(op);
	uint64_t r;
	/* RUN, RUN_PHYS and TERM take hv_lock themselves, not while they wait. */
	if ((1u << op) & ((1u << BVMM_OP_RUN) | (1u << BVMM_OP_RUN_PHYS) | (1u << BVMM_OP_TERM))) {
		r = ops[op](caller, arg);
	} else {
		spin_lock(&hv_lock);
		r = ops[op](caller, arg);
		spin_unlock(&hv_lock);
	}
	if (r)
		log_debug("hypercall %lu: errno %lu", op, r);
	return r;
}

int control_gpa_to_hpa(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	(void)g;
	/* Only what the host maps 1:1 ([0, phys_top): the firmware memory map's extent), never
	 * the pool. The control guest's nested map reaches further (64-bit BARs), the host's
	 * identity map does not. */
	const struct boot_info *bi = hv.bi;
	if (gpa + len < gpa || gpa + len > bi->phys_top || pool_overlaps(gpa, len) ||
	    (bi->ecam_size && gpa < bi->ecam_base + bi->ecam_size && gpa + len > bi->ecam_base) ||
	    (gpa < hv.apic_page + 4096 && gpa + len > hv.apic_page))
		return BVMM_EFAULT;
	*hpa = gpa;
	return 0;
}
