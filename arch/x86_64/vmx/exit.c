/* Control-guest exits on VMX: a switch that calls one named handler per exit reason, with
 * the same policy as on SVM (svm/exit.c): CPUID view, MSR allowlist, VMCALL from CPL 0, VMX
 * instructions #UD, CR writes emulated where VMX makes them exit, the pool absent from EPT,
 * PCI configuration writes judged. Anything unexpected is logged, then the host panics. */
#include "vmx.h"
#include "insn.h"
#include "event.h"
#include "../cpu.h"
#include "../cpuid.h"
#include "../msr.h"
#include "../lapic.h"
#include "../pcicfg.h"
#include "../svm/svm.h"   /* decode_store, decode_mov_to_cr: the shared x86 decoder */
#include "../../../abi/bvmm.h"
#include "../../../hv/hv.h"
#include "../../../hv/log.h"
#include "../../../hv/panic.h"
#include "../../../hv/pool.h"
#include "../../../hv/vm.h"

#define CR4_VMXE (1ull << 13)

/* The control guest of this CPU. */
static struct vmx_guest *guest(void) { return &vmx_this_cpu()->control; }

/* An NMI taken in host mode (VMX root mode does not hold them off): the control guest's. */
void vmx_host_nmi(void) { vmx_this_cpu()->control_nmi = 1; }

/* Deliver what a child's exit took from the control guest: the NMI at once, the interrupt
 * when the control guest can take it (else at its interrupt window). */
static void deliver_taken_events(struct vmx_cpu *c)
{
	if (!c->control_nmi && c->control_irq < 0)
		return;   /* the common case: nothing owed, no VMCS access on the exit path */
	if (vmread(VMCS_ENTRY_INTR) & INTR_INFO_VALID)
		return;   /* an event is being re-delivered: ours wait for the next exit */
	if (c->control_nmi) {
		vmwrite(VMCS_ENTRY_INTR, 2 | INTR_TYPE_NMI | INTR_INFO_VALID);
		c->control_nmi = 0;
		return;
	}
	if (c->control_irq < 0)
		return;
	uint64_t proc = vmread(VMCS_PROC);
	if ((vmread(GUEST_RFLAGS) & RFLAGS_IF) && !(vmread(GUEST_INTERRUPTIBILITY) & 3)) {
		vmwrite(VMCS_ENTRY_INTR, (uint32_t)c->control_irq | INTR_TYPE_EXT | INTR_INFO_VALID);
		c->control_irq = -1;
		vmwrite(VMCS_PROC, proc & ~PROC_INT_WINDOW);
	} else {
		vmwrite(VMCS_PROC, proc | PROC_INT_WINDOW);
	}
}

static uint64_t gpr(unsigned vrs)
{
	return vrs == VCPU_REGS_RSP ? vmread(GUEST_RSP) : guest()->gprs[vrs];
}


/* What the guest sees in CR0/CR4: its own bits where the mask says so (SDM 25.3). */
static uint64_t visible(uint64_t real_field, uint64_t mask_field, uint64_t shadow_field)
{
	uint64_t mask = vmread(mask_field);
	return (vmread(real_field) & ~mask) | (vmread(shadow_field) & mask);
}

static void log_state(int level)
{
	log_write(level, "  reason %lx qual %lx rip %016lx rsp %016lx rflags %08lx cpl %u",
		  vmread(VMCS_EXIT_REASON), vmread(VMCS_EXIT_QUAL), vmread(GUEST_RIP),
		  vmread(GUEST_RSP), vmread(GUEST_RFLAGS), vmx_cpl());
	log_write(level, "  cr0 %08lx cr3 %016lx cr4 %08lx efer %lx cs %04lx/%lx",
		  vmread(GUEST_CR0), vmread(GUEST_CR3), vmread(GUEST_CR4), vmread(GUEST_EFER),
		  vmread(GUEST_CS_SEL), vmread(GUEST_CS_AR));
	log_write(level, "  rax %016lx rbx %016lx rcx %016lx rdx %016lx", guest()->gprs[0],
		  guest()->gprs[1], guest()->gprs[2], guest()->gprs[3]);
}

static void control_view(struct gview *gv)
{
	gview_init(gv, vmread(GUEST_CR0), vmread(GUEST_CR3), vmread(GUEST_CR4), vmread(GUEST_EFER),
		   control_gpa_to_hpa, NULL, &this_cpu()->wc);
}

/* ---- handlers ---- */

static void exit_cpuid(void)
{
	uint64_t *gprs = guest()->gprs;   /* this CPU's control guest, found once */
	uint32_t leaf = (uint32_t)gprs[VCPU_REGS_RAX], sub = (uint32_t)gprs[VCPU_REGS_RCX];
	struct cpuid_regs r = cpuid(leaf, sub);
	cpuid_filter_control(leaf, sub, visible(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW), &r);
	gprs[VCPU_REGS_RAX] = r.eax;
	gprs[VCPU_REGS_RBX] = r.ebx;
	gprs[VCPU_REGS_RCX] = r.ecx;
	gprs[VCPU_REGS_RDX] = r.edx;
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

static int msr_read(uint32_t msr, uint64_t *val)
{
	int r = msr_control_rdmsr(msr, val);
	if (r <= 0)
		return r;
	switch (msr) {
	case MSR_EFER:
		*val = vmread(GUEST_EFER);
		return 0;
	case MSR_IA32_FEATURE_CONTROL:   /* what a firmware that locked VMX off shows */
		*val = FEATURE_CONTROL_LOCK;
		return 0;
	case MSR_X2APIC_ICR:
		return rdmsr_safe(msr, val);
	default:
		return -1;   /* the SVM MSRs: not on this CPU */
	}
}

static int msr_write(uint32_t msr, uint64_t val)
{
	int r = msr_control_wrmsr(msr, val);
	if (r <= 0)
		return r;
	/* One CPU on VMX so far (the loader refuses more): no other CPU an INIT could reach. */
	if (msr == MSR_X2APIC_ICR)
		return wrmsr_safe(msr, val);
	if (msr != MSR_EFER)
		return -1;
	uint64_t cr0 = vmread(GUEST_CR0), cr4 = visible(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW);
	uint64_t efer = efer_write(vmread(GUEST_EFER), val, cr0, cr4, vmx_host.efer_control);
	if (efer == EFER_BAD)
		return -1;
	vmwrite(GUEST_EFER, efer & ~EFER_SVME);   /* efer_write keeps SVM's SVME: not on VMX */
	return 0;
}

static void exit_msr(int write)
{
	uint64_t *gprs = guest()->gprs;   /* this CPU's control guest, found once */
	uint32_t msr = (uint32_t)gprs[VCPU_REGS_RCX];
	uint64_t val = 0;
	int r = write ? msr_write(msr, (gprs[VCPU_REGS_RAX] & 0xffffffff) |
					    (gprs[VCPU_REGS_RDX] << 32))
		      : msr_read(msr, &val);
	if (r) {
		log_info("control guest %s of MSR %x refused: #GP", write ? "write" : "read", msr);
		vmx_inject_exc(EXC_GP, 1, 0);
		return;
	}
	if (!write) {
		gprs[VCPU_REGS_RAX] = val & 0xffffffff;
		gprs[VCPU_REGS_RDX] = val >> 32;
	}
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

static void hypercall_from(unsigned len)
{
	uint64_t *gprs = guest()->gprs;   /* this CPU's control guest, found once */
	if (vmx_cpl()) {
		vmx_inject_exc(EXC_UD, 0, 0);
		return;
	}
	struct gview caller;
	uint64_t op = gprs[VCPU_REGS_RAX];
	int walks = hypercall_walks(op);
	if (walks)
		control_view(&caller);
	gprs[VCPU_REGS_RAX] = hypercall(walks ? &caller : NULL, op, gprs[VCPU_REGS_RDI]);
	vmx_skip(len);
}

static void exit_vmcall(void) { hypercall_from((unsigned)vmread(VMCS_EXIT_INSN_LEN)); }

/* #UD (the only exception the control guest's bitmap intercepts): AMD's VMMCALL (0F 01 D9)
 * is the hypercall too, so that one binary runs on both vendors (KVM does the same); any
 * other #UD goes back to the guest. */
static void exit_exception(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR);
	if ((info & 0xff) == EXC_UD && (info & INTR_TYPE_MASK) == INTR_TYPE_HW_EXC) {
		struct gview gv;
		uint8_t b[15];
		int cs_l = vmx_cs_l();
		control_view(&gv);
		unsigned n = vmx_fetch_insn(&gv, cs_l, b);
		if (n >= 3 && b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xd9) {
			hypercall_from(3);
			return;
		}
		vmx_inject_exc(EXC_UD, 0, 0);
		return;
	}
	log_err("unexpected control-guest exception exit (interruption info %x)", info);
	log_state(HV_LOG_ERROR);
	panic("exception exit the bitmap does not ask for");
}

/* The entry control "IA-32e mode guest" must equal the guest's EFER.LMA at every entry. */
static void sync_ia32e(void)
{
	uint64_t entry = vmread(VMCS_ENTRY_CTLS), lma = vmread(GUEST_EFER) & EFER_LMA;
	if (!!(entry & ENTRY_IA32E) != !!lma)
		vmwrite(VMCS_ENTRY_CTLS, lma ? entry | ENTRY_IA32E : entry & ~ENTRY_IA32E);
}

/* MOV to CR0/CR4 that touches a bit the masks own (CR0.NE, CR4.VMXE, bits the CPU lacks):
 * emulated with the CPU's rules (cpu.h), the guest seeing its value through the shadow. */
static void exit_cr(void)
{
	struct vmx_cr c;
	vmx_decode_cr(vmread(VMCS_EXIT_QUAL), &c);
	int cs_l = (vmread(GUEST_EFER) & EFER_LMA) && (vmread(GUEST_CS_AR) & (1u << 13));
	uint64_t val = c.type == 3 ? lmsw_cr0(visible(GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW), c.lmsw)
				   : gpr(c.gpr) & (cs_l ? ~0ull : 0xffffffffull);
	if (c.type == 1 || c.type == 2 || (c.cr != 0 && c.cr != 4) || vmx_cpl()) {
		log_err("unexpected control-guest CR access (qualification %lx)", vmread(VMCS_EXIT_QUAL));
		log_state(HV_LOG_ERROR);
		panic("CR access exit the controls do not ask for");
	}
	uint64_t efer = vmread(GUEST_EFER), nv;
	if (c.cr == 0) {
		uint64_t cur0 = visible(GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW);
		nv = cr0_write(cur0, val, visible(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW),
			       !!(vmread(GUEST_CS_AR) & (1u << 13)), &efer);
		if (nv != CR0_BAD) {
			uint64_t fixed = vmx_host.cr0_fixed0 & ~(CR0_PE | CR0_PG);
			vmwrite(GUEST_CR0, (nv | fixed) & vmx_host.cr0_fixed1);
			vmwrite(VMCS_CR0_SHADOW, nv);
			vmwrite(GUEST_EFER, efer);
			sync_ia32e();
		}
	} else {
		uint64_t cur4 = visible(GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW);
		nv = cr4_write(cur4, val, efer, vmread(GUEST_CR3), vmx_host.cr4_control);
		if (nv != CR4_BAD) {
			vmwrite(GUEST_CR4, (nv | vmx_host.cr4_fixed0) & vmx_host.cr4_fixed1);
			vmwrite(VMCS_CR4_SHADOW, nv);
		}
	}
	if (nv == CR0_BAD) {
		log_info("control guest CR%u write %lx at rip %lx refused: #GP", c.cr, val, vmread(GUEST_RIP));
		vmx_inject_exc(EXC_GP, 1, 0);
		return;
	}
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

/* Ports 0xCFC-0xCFF: reads pass, configuration writes are judged (pcicfg.c). */
static void exit_io(void)
{
	struct vmx_io io;
	vmx_decode_io(vmread(VMCS_EXIT_QUAL), &io);
	uint64_t mask = io.size == 4 ? 0xffffffffull : (1ull << (io.size * 8)) - 1;
	if (io.string) {
		log_info("control guest string I/O on port %x: #GP", io.port);
		vmx_inject_exc(EXC_GP, 1, 0);
		return;
	}
	uint64_t *rax = &guest()->gprs[VCPU_REGS_RAX];
	if (io.in)
		*rax = io.size == 4 ? pcicfg_port_in(io.port, io.size)
				    : (*rax & ~mask) | pcicfg_port_in(io.port, io.size);
	else
		pcicfg_port_out(io.port, io.size, (uint32_t)(*rax & mask));
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

static uint64_t gpr_cb(void *ctx, unsigned vrs) { (void)ctx; return gpr(vrs); }

/* EPT violations: an ECAM store is emulated; the pool (and anything else) gets #GP(0). */
static void exit_ept(void)
{
	uint64_t gpa = vmread(VMCS_GUEST_PHYS), q = vmread(VMCS_EXIT_QUAL);
	/* The instruction's own store (bit 8: the access to a linear address's translation, not
	 * a paging-structure walk; no event being delivered) into ECAM is emulated. */
	if ((q & EPT_QUAL_WRITE) && (q & EPT_QUAL_FINAL) && !(vmread(VMCS_IDT_VEC) & INTR_INFO_VALID) &&
	    pcicfg_in_ecam(gpa) && !vmx_cpl()) {
		struct gview gv;
		uint8_t b[15];
		unsigned len;
		int cs_l = vmx_cs_l();
		int mode = cs_l ? 64 : (vmread(GUEST_CS_AR) & (1u << 14)) ? 32 : 16;
		control_view(&gv);
		unsigned n = vmx_fetch_insn(&gv, cs_l, b);
		if (!pcicfg_ecam_store(b, n, mode, gpa, gpr_cb, NULL, &len)) {
			vmx_skip(len);
			return;
		}
	}
	log_warn("control guest %s %lx (%s) at rip %lx: #GP(0) injected",
		 (q & EPT_QUAL_WRITE) ? "write to" : "access to", gpa,
		 pool_overlaps(gpa, 1) ? "hypervisor pool" : pcicfg_in_ecam(gpa) ?
		 "PCI ECAM, not a store bvmm emulates" : "beyond the nested map", vmread(GUEST_RIP));
	vmx_inject_exc(EXC_GP, 1, 0);
}

/* XSETBV always exits under VMX: the value is checked against the architecture (SDM vol. 1,
 * 13.3) and this CPU's components before the host executes it. */
static void exit_xsetbv(void)
{
	uint64_t *gprs = guest()->gprs;   /* this CPU's control guest, found once */
	uint64_t v = (gprs[VCPU_REGS_RAX] & 0xffffffff) | (gprs[VCPU_REGS_RDX] << 32);
	uint32_t idx = (uint32_t)gprs[VCPU_REGS_RCX];
	int bad = vmx_cpl() || idx != 0 || !(v & 1) || (v & ~vmx_host.xcr0_supported) ||
		  ((v & 4) && !(v & 2)) || (!!(v & 8) != !!(v & 16)) ||
		  ((v & 0xe0) && (v & 0xe0) != 0xe0) || ((v & 0xe0) && !(v & 4)) ||
		  (!!(v & (1ull << 17)) != !!(v & (1ull << 18)));   /* AMX: both tile parts */
	if (bad || xsetbv_safe(0, v)) {   /* and whatever else this CPU refuses */
		vmx_inject_exc(EXC_GP, 1, 0);
		return;
	}
	vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
}

static void __attribute__((noreturn)) exit_reset(const char *why)
{
	log_err("control guest %s: resetting the machine", why);
	log_state(HV_LOG_ERROR);
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	outb(0x64, 0xfe);
	panic("machine reset did not happen");
}

static void control_exit(uint32_t reason)
{
	vmx_reinject();
	switch (reason) {
	case VMX_EXIT_CPUID:
		exit_cpuid();
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		exit_msr(reason == VMX_EXIT_WRMSR);
		break;
	case VMX_EXIT_VMCALL:
		exit_vmcall();
		break;
	case VMX_EXIT_EXC_NMI:
		exit_exception();
		break;
	case VMX_EXIT_CR:
		exit_cr();
		break;
	case VMX_EXIT_IO:
		exit_io();
		break;
	case VMX_EXIT_EPT_VIOLATION:
		exit_ept();
		break;
	case VMX_EXIT_XSETBV:
		exit_xsetbv();
		break;
	case VMX_EXIT_INT_WINDOW:   /* armed by deliver_taken_events: the loop injects now */
		break;
	case VMX_EXIT_INVD:   /* INVD would drop the hypervisor's dirty cache lines too */
		__asm__ volatile("wbinvd" ::: "memory");
		vmx_skip(vmread(VMCS_EXIT_INSN_LEN));
		break;
	case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD: case VMX_EXIT_VMPTRST:
	case VMX_EXIT_VMREAD: case VMX_EXIT_VMRESUME: case VMX_EXIT_VMWRITE: case VMX_EXIT_VMXOFF:
	case VMX_EXIT_VMXON: case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID: case VMX_EXIT_VMFUNC:
	case VMX_EXIT_GETSEC:
		log_info("control guest VMX instruction (exit %u) at rip %lx: #UD", reason, vmread(GUEST_RIP));
		vmx_inject_exc(EXC_UD, 0, 0);
		break;
	case VMX_EXIT_TASK_SWITCH:   /* always exits on VMX; no 64-bit OS switches tasks */
		log_info("control guest task switch at rip %lx: #GP", vmread(GUEST_RIP));
		vmx_inject_exc(EXC_GP, 1, 0);
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		exit_reset("triple fault");
	case VMX_EXIT_INIT:   /* one CPU: an INIT to it is a reset (the SMP issue handles APs) */
		exit_reset("INIT");
	default:
		log_err("unexpected control-guest exit %u", reason);
		log_state(HV_LOG_ERROR);
		if (reason == VMX_EXIT_EPT_MISCONFIG)
			panic("EPT misconfiguration at %lx: a bug in bvmm's tables", vmread(VMCS_GUEST_PHYS));
		panic("unhandled exit %u", reason);
	}
}

/* A refused VM entry, explained: the VM-instruction error, or the exit reason with bit 31. */
static void log_entry_failure(int r)
{
	if (r == 1)
		log_err("VM entry failed: VMfailInvalid (no current VMCS)");
	else if (r == 2)
		log_err("VM entry failed: %s (VM-instruction error %lu)",
			vmx_insn_error_name((uint32_t)vmread(VMCS_INSN_ERROR)), vmread(VMCS_INSN_ERROR));
	else
		log_err("VM entry failed: exit reason %lx (%s), qualification %lx",
			vmread(VMCS_EXIT_REASON), (vmread(VMCS_EXIT_REASON) & 0xffff) == VMX_EXIT_BAD_GUEST ?
			"invalid guest state" : (vmread(VMCS_EXIT_REASON) & 0xffff) == VMX_EXIT_BAD_MSR_LOAD ?
			"MSR loading" : "machine check", vmread(VMCS_EXIT_QUAL));
}

int vmx_run_control(struct vmx_cpu *cpu, struct boot_info *bi)
{
	(void)bi;
	int r = vmx_enter(cpu->control.gprs, 0);
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	if (r || (reason & VMX_EXIT_FAILED_ENTRY)) {
		log_entry_failure(r);
		log_state(HV_LOG_ERROR);
		return BVMM_EIO;
	}
	log_info("launch: control guest running (first exit %u)", reason & 0xffff);
	for (;;) {
		control_exit(reason & 0xffff);
		deliver_taken_events(cpu);
		r = vmx_enter(cpu->control.gprs, 1);
		reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		if (r || (reason & VMX_EXIT_FAILED_ENTRY)) {
			log_entry_failure(r);
			log_state(HV_LOG_ERROR);
			panic("VM entry of the control guest failed");
		}
	}
}

