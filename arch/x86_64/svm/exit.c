/* Control-guest exits on SVM: a switch that calls one named handler per exit code. Anything
 * unexpected is logged with its raw code and the guest state, then the host panics. */
#include "svm.h"
#include "../cpu.h"
#include "../cpuid.h"
#include "../msr.h"
#include "../pcicfg.h"
#include "../ipi.h"
#include "../lapic.h"
#include "../../../abi/bvmm.h"
#include "../../../hv/hv.h"
#include "../../../hv/log.h"
#include "../../../hv/panic.h"
#include "../../../hv/phase.h"
#include "../../../hv/pool.h"
#include "../../../hv/percpu.h"

static void skip_insn(struct vmcb *v)
{
	svm_skip_to(v, svm_next_rip(v, svm_host.nrips));
}

void svm_log_control_state(int level, const struct svm_guest *g)
{
	const struct vmcb *v = g->vmcb;
	log_write(level, "  exitcode %lx info1 %lx info2 %lx intinfo %lx", v->c.exitcode,
		  v->c.exitinfo1, v->c.exitinfo2, v->c.exitintinfo);
	log_write(level, "  rip %016lx rsp %016lx rflags %08lx cpl %u cs %04x/%04x", v->s.rip,
		  v->s.rsp, v->s.rflags, v->s.cpl, v->s.cs.sel, v->s.cs.attrib);
	log_write(level, "  cr0 %08lx cr3 %016lx cr4 %08lx efer %lx", v->s.cr0, v->s.cr3,
		  v->s.cr4, v->s.efer);
	log_write(level, "  rax %016lx rbx %016lx rcx %016lx rdx %016lx", v->s.rax,
		  g->gprs[GPR_RBX], g->gprs[GPR_RCX], g->gprs[GPR_RDX]);
	/* After a light exit gprs[]'s RBP may be an earlier exit's (run.S): not shown then. */
	uint32_t code = (uint32_t)v->c.exitcode;
	if (code == SVM_EXIT_CPUID || code == SVM_EXIT_MSR || code == SVM_EXIT_VMMCALL)
		log_write(level, "  rsi %016lx rdi %016lx", g->gprs[GPR_RSI], g->gprs[GPR_RDI]);
	else
		log_write(level, "  rsi %016lx rdi %016lx rbp %016lx", g->gprs[GPR_RSI],
			  g->gprs[GPR_RDI], g->gprs[GPR_RBP]);
}

static inline __attribute__((always_inline)) void exit_cpuid(struct svm_guest *g)
{
	struct vmcb *v = g->vmcb;
	uint32_t leaf = (uint32_t)v->s.rax, sub = (uint32_t)g->gprs[GPR_RCX];
	struct cpuid_regs r = cpuid(leaf, sub);
	cpuid_filter_control(leaf, sub, v->s.cr4, &r);
	v->s.rax = r.eax;
	g->gprs[GPR_RBX] = r.ebx;
	g->gprs[GPR_RCX] = r.ecx;
	g->gprs[GPR_RDX] = r.edx;
	svm_skip_to(v, svm_next_rip_len(v, svm_host.nrips, 2));   /* 0f a2 */
}


/* The MSRs the control guest reaches through the hypervisor (msr.h): the emulated ones, and
 * the allowed ones the permission map cannot pass (filtered writes). 0, or -1 for #GP. */
static int msr_read(struct vmcb *v, uint32_t msr, uint64_t *val)
{
	int r = msr_control_rdmsr(msr, val);
	if (r <= 0)
		return r;
	switch (msr) {
	case MSR_EFER:
		*val = v->s.efer & ~EFER_SVME;
		return 0;
	case MSR_VM_CR:
		*val = VM_CR_LOCK | VM_CR_SVMDIS;   /* what SVM disabled by firmware looks like */
		return 0;
	case MSR_VM_HSAVE_PA:
	case MSR_SEV_STATUS:
		*val = 0;
		return 0;
	case MSR_X2APIC_ICR:
		return rdmsr_safe(msr, val);
	default:
		return -1;
	}
}

static int msr_write(struct vmcb *v, uint32_t msr, uint64_t val)
{
	int r = msr_control_wrmsr(msr, val);
	if (r <= 0)
		return r;
	if (msr == MSR_X2APIC_ICR)   /* INIT and SIPI emulated, other IPIs sent (ipi.c) */
		return ipi_control_icr(1, val);
	if (msr != MSR_EFER)
		return -1;   /* VM_CR, VM_HSAVE_PA: locked */
	uint64_t efer = efer_write(v->s.efer, val, v->s.cr0, v->s.cr4, svm_host.efer_control);
	if (efer == EFER_BAD)
		return -1;
	v->s.efer = efer;
	return 0;
}

static void exit_msr(struct svm_guest *g)
{
	struct vmcb *v = g->vmcb;
	uint32_t msr = (uint32_t)g->gprs[GPR_RCX];
	int write = v->c.exitinfo1 == VMCB_MSR_WRITE;
	uint64_t val = 0;
	int r = write ? msr_write(v, msr, (v->s.rax & 0xffffffff) | (g->gprs[GPR_RDX] << 32))
		      : msr_read(v, msr, &val);
	if (r) {
		log_info("control guest %s of MSR %x refused: #GP", write ? "write" : "read", msr);
		svm_inject_exception(v, EXC_GP, 1, 0);
		return;
	}
	if (!write) {
		v->s.rax = val & 0xffffffff;
		g->gprs[GPR_RDX] = val >> 32;
	}
	skip_insn(v);
}

/* The control guest's address space as its registers define it now (wc: its CPU's walk
 * cache). */
static void control_view(const struct vmcb *v, struct gwalk_cache *wc, struct gview *gv)
{
	gview_init(gv, v->s.cr0, v->s.cr3, v->s.cr4, v->s.efer, control_gpa_to_hpa, NULL, wc);
}

static void exit_vmmcall(struct svm_cpu *c)
{
	struct svm_guest *g = &c->control;
	struct vmcb *v = g->vmcb;
	if (v->s.cpl != 0) {
		svm_inject_exception(v, EXC_UD, 0, 0);
		return;
	}
	uint64_t op = v->s.rax;
	if (__builtin_expect(op < BVMM_OP_COUNT, 1)) {
		struct gview caller;
		int walks = hypercall_walks(op);
		if (walks)
			control_view(v, &c->cpu->wc, &caller);
		v->s.rax = hypercall(walks ? &caller : NULL, op, g->gprs[GPR_RDI]);
	} else {
		if (op == HV_OP_LOADER_DEVIRT && !hv.sealed)
			svm_devirt(c);
		v->s.rax = hypercall_other(op);
	}
	svm_skip_to(v, svm_next_rip_len(v, svm_host.nrips, 3));   /* 0f 01 d9 */
}

static uint64_t control_gpr(const struct svm_guest *g, unsigned vrs)
{
	const struct vmcb *v = g->vmcb;
	return vrs == VCPU_REGS_RAX ? v->s.rax : vrs == VCPU_REGS_RSP ? v->s.rsp : g->gprs[vrs];
}

/* The instruction at the control guest's RIP: as many bytes as are mapped, up to 15. */
static unsigned control_fetch(const struct vmcb *v, int cs_l, uint8_t b[15])
{
	struct gview gv;
	control_view(v, &this_cpu()->wc, &gv);
	return gmem_fetch_at(&gv, cs_l, v->s.cs.base, v->s.rip, b);
}

/* A CR0 write that changes more than TS/MP (the selective intercept, exit 0x65), or any CR4
 * write (exit 0x14): decoded from the guest's memory (no decode assists under QEMU) and
 * emulated with the CPU's rules (cpu.h cr0_write, cr4_write), which keep EFER.LME = 1 with
 * CR4.PAE = 0 out of reach: QEMU's #VMEXIT loses the host's CR0 in that state (PLATFORM.md).
 * Every CR4 write is judged, not only those made with paging off: an intercept switched on
 * and off with the mode can be outrun by EFER writes in between. */
static void exit_cr_write(struct svm_guest *g, unsigned crn)
{
	struct vmcb *v = g->vmcb;
	uint8_t b[15];
	unsigned cr = 99, gpr, len = 0;
	int cs_l = (v->s.efer & EFER_LMA) && (v->s.cs.attrib & VMCB_ATTR_L);
	uint64_t val = CR0_BAD, efer = v->s.efer, nv;
	int l_bit = !!(v->s.cs.attrib & VMCB_ATTR_L);
	unsigned n = control_fetch(v, cs_l, b);
	if (decode_mov_to_cr(b, n, cs_l, &cr, &gpr, &len) == 0 && cr == crn)
		val = control_gpr(g, gpr) & (cs_l ? ~0ull : 0xffffffffull);
	else if (crn == 0 && !decode_lmsw(b, n, cs_l, &gpr, &len))
		val = lmsw_cr0(v->s.cr0, control_gpr(g, gpr));
	if (v->s.cpl) {   /* MOV to CR and LMSW are privileged */
		svm_inject_exception(v, EXC_GP, 1, 0);
		return;
	}
	if (val == CR0_BAD) {
		log_warn("control guest CR%u write at rip %lx not emulated: #UD", crn, v->s.rip);
		svm_inject_exception(v, EXC_UD, 0, 0);
		return;
	}
	nv = crn == 0 ? cr0_write(v->s.cr0, val, v->s.cr4, l_bit, &efer)
		      : cr4_write(v->s.cr4, val, efer, v->s.cr3, svm_host.cr4_control);
	if (nv == CR0_BAD) {   /* == CR4_BAD */
		log_info("control guest CR%u write %lx at rip %lx refused: #GP", crn, val, v->s.rip);
		svm_inject_exception(v, EXC_GP, 1, 0);
		return;
	}
	if (crn == 0)
		v->s.cr0 = nv;
	else
		v->s.cr4 = nv;
	v->s.efer = efer;
	v->c.tlb_control = VMCB_TLB_FLUSH_ALL;   /* PG, WP, CD, PGE, ...: as the MOV would flush */
	svm_skip_to(v, v->s.rip + len);
}

/* A store of the control guest into a write-protected page (the ECAM window, the xAPIC
 * page): decoded from its memory (no decode assists under QEMU), handed to `sink` (pcicfg.c,
 * ipi.c judge and replay it), then completed. 0, or -1 for #GP (not a store bvmm emulates,
 * CPL > 0, or refused by the sink). */
static int control_store(struct svm_guest *g, uint64_t gpa,
			 int (*sink)(uint64_t gpa, uint64_t val, unsigned size))
{
	struct vmcb *v = g->vmcb;
	uint8_t b[15];
	struct store_insn si;
	int cs_l = (v->s.efer & EFER_LMA) && (v->s.cs.attrib & VMCB_ATTR_L);
	int mode = cs_l ? 64 : (v->s.cs.attrib & VMCB_ATTR_DB) ? 32 : 16;
	unsigned n = control_fetch(v, cs_l, b);
	if (v->s.cpl || decode_store(b, n, mode, &si))
		return -1;
	uint64_t val = si.src_gpr < 0 ? si.imm
				      : control_gpr(g, (unsigned)si.src_gpr) >> (si.src_high8 ? 8 : 0);
	if (sink(gpa, val, si.size))
		return -1;
	svm_skip_to(v, v->s.rip + si.len);
	return 0;
}

static int apic_sink(uint64_t gpa, uint64_t val, unsigned size)
{
	return ipi_control_xapic_write(gpa & 0xfff, val, size);
}

static void exit_npf(struct svm_guest *g)
{
	struct vmcb *v = g->vmcb;
	uint64_t gpa = v->c.exitinfo2;
	/* A store of the instruction itself (not a page-table walk, bit 33; not an event's
	 * delivery, EXITINTINFO) into the xAPIC page or ECAM is emulated. */
	int store = (v->c.exitinfo1 & VMCB_NPF_WRITE) && !(v->c.exitinfo1 & VMCB_NPF_TABLE_WALK) &&
		    !(v->c.exitintinfo & VMCB_EVENT_VALID);
	if (store && (gpa & ~0xfffull) == svm_host.apic_page) {
		if (control_store(g, gpa, apic_sink))
			svm_inject_exception(v, EXC_GP, 1, 0);
		return;
	}
	if (store && pcicfg_in_ecam(gpa) && !control_store(g, gpa, pcicfg_ecam_store_value))
		return;
	/* The control guest holding the hypervisor's own registers: its #GP would fault on the
	 * pool again, forever; say so and stop instead. */
	if (svm_vmcb_holds_host(v))
		panic("the control guest's VMCB holds the hypervisor's own state (rip %lx, rax %lx): "
		      "a VMRUN ran the host save area; known under QEMU multi-threaded TCG, see README",
		      v->s.rip, v->s.rax);
	log_warn("control guest %s %lx (%s) at rip %lx: #GP(0) injected",
		 (v->c.exitinfo1 & VMCB_NPF_WRITE) ? "write to" : "access to", gpa,
		 pool_overlaps(gpa, 1) ? "hypervisor pool" : pcicfg_in_ecam(gpa) ?
		 "PCI ECAM, not a store bvmm emulates" : "beyond the nested map", v->s.rip);
	svm_inject_exception(v, EXC_GP, 1, 0);
}

/* Ports 0xCFC-0xCFF (PCI configuration data): reads pass through, writes are judged. */
static void exit_ioio(struct svm_guest *g)
{
	struct vmcb *v = g->vmcb;
	uint64_t info = v->c.exitinfo1;
	uint16_t port = (uint16_t)(info >> VMCB_IOIO_PORT_SHIFT);
	unsigned size = (info & VMCB_IOIO_SZ8) ? 1 : (info & VMCB_IOIO_SZ16) ? 2 : 4;
	uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
	if (info & VMCB_IOIO_STR) {   /* INS/OUTS on configuration data: no firmware or OS does it */
		log_info("control guest string I/O on port %x: #GP", port);
		svm_inject_exception(v, EXC_GP, 1, 0);
		return;
	}
	if (info & VMCB_IOIO_IN)
		v->s.rax = size == 4 ? pcicfg_port_in(port, size)
				     : (v->s.rax & ~mask) | pcicfg_port_in(port, size);
	else
		pcicfg_port_out(port, size, (uint32_t)(v->s.rax & mask));
	svm_skip_to(v, v->c.exitinfo2);   /* next RIP, always provided for IOIO */
}

static void __attribute__((noreturn)) exit_shutdown(struct svm_guest *g)
{
	log_err("control guest shutdown (triple fault): resetting the machine");
	svm_log_control_state(HV_LOG_ERROR, g);
	outb(0xcf9, 0x02);   /* PCI reset control: hard reset */
	outb(0xcf9, 0x06);
	outb(0x64, 0xfe);    /* keyboard controller reset line */
	panic("machine reset did not happen");
}

/* The NMI the control guest is owed (hv_nmi), when it can take one: not while the previous
 * one's handler runs (until its IRET, intercepted for that) and not over another event. */
static void deliver_nmi(struct svm_cpu *c, struct hv_cpu *hc, struct vmcb *v)
{
	if (c->nmi_masked || (v->c.eventinj & VMCB_EVENT_VALID))
		return;
	hc->nmi_for_guest = 0;
	c->nmi_masked = 1;
	v->c.eventinj = 2 | VMCB_EVENT_TYPE_NMI | VMCB_EVENT_VALID;
	v->c.intercept_misc1 |= VMCB_INTERCEPT_IRET;
}

/* Requests for this CPU (rare): an INIT from another CPU (ipi.c), after which it parks for a
 * SIPI; an NMI the control guest is owed (hv_nmi). */
static inline int control_requests(struct svm_cpu *c)
{
	struct hv_cpu *hc = c->cpu;
	int ret = SVM_LOOP_AGAIN;
	if (__builtin_expect(__atomic_load_n(&hc->init_req, __ATOMIC_ACQUIRE) | hc->nmi_for_guest,
			     0)) {
		if (hc->init_req) {
			svm_control_init(c);
			ret = SVM_LOOP_RELOAD;   /* INIT set every GPR */
		}
		if (hc->nmi_for_guest)
			deliver_nmi(c, hc, c->control.vmcb);
	}
	phase(PH_RETURN);
	return ret;
}

static void control_exit_other(struct svm_cpu *c, struct svm_guest *g, struct vmcb *v);

static __attribute__((noinline)) int control_vmmcall(struct svm_cpu *c)
{
	exit_vmmcall(c);
	return control_requests(c);
}

static __attribute__((noinline)) int control_other(struct svm_cpu *c)
{
	control_exit_other(c, &c->control, c->control.vmcb);
	return control_requests(c);
}

/* After each exit of the control guest (svm_loop): handle it, then what other CPUs asked of
 * this one. The hot exits' handlers are reached by a jump, with no frame here. */
static int control_exit(void *arg)
{
	struct svm_cpu *c = arg;
	struct svm_guest *g = &c->control;
	struct vmcb *v = g->vmcb;
	phase(PH_CONTROL);
	v->c.tlb_control = 0;   /* a flush asked for by an emulated CR0 write is done */
	/* An event cut short by the exit is delivered again unless a handler injects. */
	v->c.eventinj = vmcb_reinject(v->c.exitintinfo);
	uint64_t code = v->c.exitcode;
	if (__builtin_expect(code == SVM_EXIT_VMMCALL, 1))   /* the one that counts */
		return control_vmmcall(c);
	if (code != SVM_EXIT_CPUID)
		return control_other(c);
	/* CPUID (Linux's paravirtual probes, CPUID-serializing). Of the requests only an NMI
	 * owed to the control guest can be pending here (one that deliver_nmi had to hold back
	 * behind another event): another CPU's INIT comes with an NMI kick, which GIF = 0 holds
	 * until the entry, and which then exits at once into the full check. */
	exit_cpuid(g);
	if (__builtin_expect(c->cpu->nmi_for_guest, 0))
		deliver_nmi(c, c->cpu, v);
	phase(PH_RETURN);
	return SVM_LOOP_AGAIN;
}

static void control_exit_other(struct svm_cpu *c, struct svm_guest *g, struct vmcb *v)
{
	switch ((uint32_t)v->c.exitcode) {   /* SVM_EXIT_INVALID is a 32-bit -1 (vmcb.h) */
	case SVM_EXIT_NMI:   /* held by GIF = 0 since the exit: take it now */
		svm_nmi_window();
		break;
	case SVM_EXIT_IRET:  /* the injected NMI's handler returns: NMIs unblocked after it */
		c->nmi_masked = 0;
		v->c.intercept_misc1 &= ~VMCB_INTERCEPT_IRET;
		break;
	case SVM_EXIT_MSR:
		exit_msr(g);
		break;
	case SVM_EXIT_CR0_SEL_WRITE:
		exit_cr_write(g, 0);
		break;
	case SVM_EXIT_CR4_WRITE:
		exit_cr_write(g, 4);
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		log_info("control guest SVM instruction (exit %lx) at rip %lx: #UD", v->c.exitcode,
			 v->s.rip);
		svm_inject_exception(v, EXC_UD, 0, 0);
		break;
	case SVM_EXIT_NPF:
		exit_npf(g);
		break;
	case SVM_EXIT_IOIO:
		exit_ioio(g);
		break;
	case SVM_EXIT_INVD:   /* INVD would drop the hypervisor's dirty cache lines too */
		__asm__ volatile("wbinvd" ::: "memory");
		skip_insn(v);
		break;
	case SVM_EXIT_SHUTDOWN:
		exit_shutdown(g);
	case SVM_EXIT_INVALID:
		svm_log_control_state(HV_LOG_ERROR, g);
		panic("VMRUN of the control guest failed (VMEXIT_INVALID)");
	default:
		log_err("unexpected control-guest exit %lx", v->c.exitcode);
		svm_log_control_state(HV_LOG_ERROR, g);
		panic("unhandled exit %lx", v->c.exitcode);
	}
}

/* Leave SVM on this CPU and resume what the control guest was doing, natively: the loader
 * asks for it on every virtualized CPU when another CPU's launch failed (the launch is all
 * or nothing). The state goes where boot/launch.S's launch_abort reads it: the boot info,
 * in the pool, which the firmware's page tables map too. */
void svm_devirt(struct svm_cpu *c)
{
	struct vmcb *v = c->control.vmcb;
	struct boot_info *bi = hv.bi;
	unsigned i = cpu_index();
	struct boot_cpu_state *st = i == bi->boot_cpu ? &bi->guest : &bi->ap_state[i];
	st->rip = svm_next_rip(v, svm_host.nrips);
	st->rsp = v->s.rsp;
	st->rflags = v->s.rflags;
	st->cr3 = v->s.cr3;
	st->efer = v->s.efer & ~EFER_SVME;
	st->cs.sel = v->s.cs.sel;
	st->ss.sel = v->s.ss.sel;
	st->ds.sel = v->s.ds.sel;
	st->es.sel = v->s.es.sel;
	st->gdtr_base = v->s.gdtr.base;
	st->gdtr_limit = (uint16_t)v->s.gdtr.limit;
	st->idtr_base = v->s.idtr.base;
	st->idtr_limit = (uint16_t)v->s.idtr.limit;
	__atomic_store_n(&hv_cpus[i].run_state, CPU_OFF, __ATOMIC_SEQ_CST);
	log_info("launch undone: this CPU leaves guest mode at rip %lx", st->rip);
	write_cr0(v->s.cr0);
	write_cr4(v->s.cr4);
	/* GIF = 1 for native operation (IF comes back with RFLAGS); then FS, GS, TR, LDTR and
	 * the syscall MSRs as the guest had them. */
	__asm__ volatile("cli; stgi; vmload %0" : : "a"((uint64_t)v) : "memory");
	typedef void (*abort_fn)(struct boot_cpu_state *, uint64_t) __attribute__((noreturn));
	((abort_fn)bi->abort_rip)(st, 0);
}

static int stop(void *arg) { (void)arg; return SVM_LOOP_DONE; }

int svm_run_control(struct svm_cpu *c)
{
	struct svm_guest *g = &c->control;
	struct vmcb *v = g->vmcb;
	struct hv_cpu *hc = c->cpu;
	__atomic_store_n(&hc->run_state, CPU_GUEST, __ATOMIC_SEQ_CST);
	svm_loop((uint64_t)v, g->gprs, c->host_save, stop, NULL);
	if ((uint32_t)v->c.exitcode == SVM_EXIT_INVALID) {
		__atomic_store_n(&hc->run_state, CPU_OFF, __ATOMIC_SEQ_CST);
		log_err("first VMRUN failed (VMEXIT_INVALID): the captured state was refused");
		svm_log_control_state(HV_LOG_ERROR, g);
		/* Back to the firmware: GIF = 1, and its TR, FS, GS, LDTR and syscall MSRs (the
		 * VMCB still holds what VMSAVE captured at launch), not the host's. */
		__asm__ volatile("cli; stgi; vmload %0" : : "a"((uint64_t)v) : "memory");
		return BVMM_EIO;
	}
	log_info("launch: control guest running (first exit %lx)", v->c.exitcode);
	control_exit(c);
	svm_loop((uint64_t)v, g->gprs, c->host_save, control_exit, c);
	panic("control guest loop returned");
}
