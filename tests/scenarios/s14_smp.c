/* Scenario 14: every CPU is bvmm's control guest, not only the boot CPU. Through the
 * firmware's EFI_MP_SERVICES_PROTOCOL the same checks run on each CPU in turn (StartupThisAP,
 * the BSP directly): the "bvmm" CPUID signature, SVM hidden, a hypercall answered with the
 * BSP's pool (registers preserved), the pool's first page #GP, the MSR rules, the CPU's own
 * APIC ID; then all CPUs at once hammer HVINFO and CPUID (per-CPU state in the hypervisor).
 * Load options "expect=bvmm cpus=N" (bvmm.conf's control_args). Without "expect=bvmm" (started
 * by the firmware after a failed launch) it checks the opposite: no CPU is left virtualized.
 * The code that runs on an AP calls no boot service: it loads its own IDT (so a fault is
 * caught on that CPU), fills its struct cpu_ctx, and the BSP prints the checks afterwards. */
#include "lib/scenario.h"
#include "../../abi/bvmm.h"

#define MSR_FEATURE_CONTROL 0x3au
#define MSR_EFER            0xc0000080u
#define MSR_VM_CR           0xc0010114u
#define MSR_VM_HSAVE_PA     0xc0010117u
#define EFER_SVME           (1ull << 12)
#define VM_CR_SVMDIS        (1ull << 4)
#define CPUID1_ECX_VMX      (1u << 5)
#define CPUID1_ECX_HV       (1u << 31)
#define CPUID_EXT1_ECX_SVM  (1u << 2)
#define VEC_UD 6
#define VEC_GP 13
#define MAX_CPUS 64
#define AP_TIMEOUT_US 10000000u   /* a CPU that does not come back in 10 s has failed */
#define HAMMER_ROUNDS 2000
#define HV_REGS_MISMATCH (1ull << 32)   /* s14_hv_regs: a register changed across the call */

/* ---- EFI_MP_SERVICES_PROTOCOL (PI spec vol. 2, 13.4), which gnu-efi does not define ---- */
typedef void (EFIAPI *ap_procedure)(void *arg);
struct processor_info {
	uint64_t processor_id;   /* the local APIC ID */
	uint32_t status_flag;    /* bit 0 BSP, bit 1 enabled, bit 2 healthy */
	uint32_t package, core, thread;
	uint32_t extended[6];    /* PI 1.7's EXTENDED_PROCESSOR_INFORMATION, if the firmware fills it */
};
#define PROCESSOR_ENABLED 2u
struct mp_services {
	EFI_STATUS (EFIAPI *get_number_of_processors)(struct mp_services *self, UINTN *total,
						      UINTN *enabled);
	EFI_STATUS (EFIAPI *get_processor_info)(struct mp_services *self, UINTN n,
						struct processor_info *info);
	EFI_STATUS (EFIAPI *startup_all_aps)(struct mp_services *self, ap_procedure proc,
					     BOOLEAN single_thread, EFI_EVENT wait_event,
					     UINTN timeout_us, void *arg, UINTN **failed_cpus);
	EFI_STATUS (EFIAPI *startup_this_ap)(struct mp_services *self, ap_procedure proc, UINTN n,
					     EFI_EVENT wait_event, UINTN timeout_us, void *arg,
					     BOOLEAN *finished);
	void *switch_bsp, *enable_disable_ap;
	EFI_STATUS (EFIAPI *who_am_i)(struct mp_services *self, UINTN *n);
};
static EFI_GUID mp_services_guid = { 0x3fdda605, 0xa76e, 0x4f46,
				     { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } };

/* ---- per-CPU context: its IDT first (the exception stub finds the context by SIDT) ---- */
struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type_attr;   /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_hi, zero;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gates are 16 bytes");

enum task { TASK_HVINFO, TASK_CHECKS, TASK_NATIVE, TASK_HAMMER };

struct cpu_ctx {
	struct idt_gate idt[32];              /*   0 */
	uint64_t recover_rsp;                 /* 512: s14_guarded's stack, for an unexpected fault */
	volatile uint64_t fault_vector;       /* 520: the last fault's vector, ~0 if none */
	volatile uint64_t fault_error;        /* 528 */
	volatile uint64_t fault_rip;          /* 536 */
	volatile uint64_t unexpected;         /* 544: a fault outside a probe ended the procedure */
	/* set by the BSP */
	enum task task;
	int intel;
	uint64_t pool;                        /* the pool's base (the BSP found it), 0 if unknown */
	/* results, written on the CPU itself */
	volatile int done;
	uint32_t apic_id, cpuid1_ecx, ext1_ecx, sig[4];
	int hv_fault;
	uint64_t hv_err;
	struct vm_hvinfo_params hv;
	int pool_fault;
	uint64_t pool_val, pool_error;
	int efer_fault, efer_w_fault, efer_restore_fault;
	uint64_t efer, efer_after;
	int hsave_r_fault, hsave_w_fault, vmcr_fault, fctl_fault;
	uint64_t hsave, vmcr, fctl;
	unsigned hammer_ok, hammer_bad;
	uint64_t hammer_first_bad;
} __attribute__((aligned(64)));
/* The fields the assembly below uses, by offset. */
#define CTX_RECOVER_RSP  "512"
#define CTX_FAULT_VECTOR "520"
#define CTX_FAULT_ERROR  "528"
#define CTX_FAULT_RIP    "536"
#define CTX_UNEXPECTED   "544"
_Static_assert(__builtin_offsetof(struct cpu_ctx, recover_rsp) == 512, "CTX_RECOVER_RSP");
_Static_assert(__builtin_offsetof(struct cpu_ctx, fault_vector) == 520, "CTX_FAULT_VECTOR");
_Static_assert(__builtin_offsetof(struct cpu_ctx, fault_error) == 528, "CTX_FAULT_ERROR");
_Static_assert(__builtin_offsetof(struct cpu_ctx, fault_rip) == 536, "CTX_FAULT_RIP");
_Static_assert(__builtin_offsetof(struct cpu_ctx, unexpected) == 544, "CTX_UNEXPECTED");

/* ---- the exception stubs, s14_guarded and the one-instruction probes (SysV calls) ----
 * Stub v is 16 bytes at s14_stubs + 16 * v. The common part finds its CPU's cpu_ctx through
 * SIDT, records the fault; a fault inside [s14_probe_begin, s14_probe_end) resumes at
 * s14_probe_fixup (the probe returns ~0), any other one returns from s14_guarded with 1. */
#define SAME(k, r) "	leaq " #k "(%rsi), %rax\n	cmpq %rax, %" #r "\n	jne 5f\n"
__asm__(
	"	.text\n"
	"	.balign 16\n"
	"s14_stubs:\n"
	"	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	.balign 16\n"
	"	.if (\\v == 8) || (\\v >= 10 && \\v <= 14) || (\\v == 17) || (\\v == 21) || (\\v == 29) || (\\v == 30)\n"
	"	.else\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $\\v\n"
	"	jmp s14_exc_common\n"
	"	.endr\n"
	"	.balign 16\n"
	"s14_exc_common:\n"          /* stack: vector, error, rip, cs, rflags, rsp, ss */
	"	pushq %rax\n"
	"	pushq %rcx\n"
	"	pushq %rdx\n"              /* 0 rdx, 8 rcx, 16 rax, 24 vector, 32 error, 40 rip */
	"	subq $16, %rsp\n"
	"	sidt 6(%rsp)\n"
	"	movq 8(%rsp), %rdx\n"      /* the IDT's base: this CPU's cpu_ctx */
	"	addq $16, %rsp\n"
	"	movq 24(%rsp), %rax\n"
	"	movq %rax, " CTX_FAULT_VECTOR "(%rdx)\n"
	"	movq 32(%rsp), %rax\n"
	"	movq %rax, " CTX_FAULT_ERROR "(%rdx)\n"
	"	movq 40(%rsp), %rax\n"
	"	movq %rax, " CTX_FAULT_RIP "(%rdx)\n"
	"	leaq s14_probe_begin(%rip), %rcx\n"
	"	cmpq %rcx, %rax\n"
	"	jb 1f\n"
	"	leaq s14_probe_end(%rip), %rcx\n"
	"	cmpq %rcx, %rax\n"
	"	jae 1f\n"
	"	leaq s14_probe_fixup(%rip), %rcx\n"
	"	movq %rcx, 40(%rsp)\n"
	"	popq %rdx\n"
	"	popq %rcx\n"
	"	popq %rax\n"
	"	addq $16, %rsp\n"
	"	iretq\n"
	"1:	movq $1, " CTX_UNEXPECTED "(%rdx)\n"
	"	movq " CTX_RECOVER_RSP "(%rdx), %rsp\n"
	"	jmp s14_guarded_out\n"
	/* uint64_t s14_guarded(void (*fn)(struct cpu_ctx *), struct cpu_ctx *c): 0, or 1 after an
	 * unexpected fault */
	"	.globl s14_guarded\n"
	"	.hidden s14_guarded\n"
	"s14_guarded:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	movq %rsp, " CTX_RECOVER_RSP "(%rsi)\n"
	"	movq %rdi, %rax\n"
	"	movq %rsi, %rdi\n"
	"	call *%rax\n"
	"	xorl %eax, %eax\n"
	"	jmp 2f\n"
	"s14_guarded_out:\n"
	"	movl $1, %eax\n"
	"2:	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	/* uint64_t s14_hv_regs(void *params, uint64_t pattern, int intel): HVINFO with rbx rcx
	 * rdx rbp r8-r15 loaded from pattern; its errno (~0 if the instruction faulted), with
	 * HV_REGS_MISMATCH set if any register but rax differs afterwards (rdi, rsi included). */
	"	.globl s14_hv_regs\n"
	"	.hidden s14_hv_regs\n"
	"s14_hv_regs:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	pushq %rdi\n"
	"	pushq %rsi\n"
	"	leaq s14_vmmcall0(%rip), %rax\n"
	"	testl %edx, %edx\n"
	"	jz 3f\n"
	"	leaq s14_vmcall0(%rip), %rax\n"
	"3:	pushq %rax\n"              /* 0 leaf, 8 pattern, 16 params */
	"	leaq 1(%rsi), %rbx\n"
	"	leaq 2(%rsi), %rbp\n"
	"	leaq 3(%rsi), %r12\n"
	"	leaq 4(%rsi), %r13\n"
	"	leaq 5(%rsi), %r14\n"
	"	leaq 6(%rsi), %r15\n"
	"	leaq 7(%rsi), %rcx\n"
	"	leaq 8(%rsi), %rdx\n"
	"	leaq 9(%rsi), %r8\n"
	"	leaq 10(%rsi), %r9\n"
	"	leaq 11(%rsi), %r10\n"
	"	leaq 12(%rsi), %r11\n"
	"	call *(%rsp)\n"
	"	pushq %rax\n"              /* 0 errno, 8 leaf, 16 pattern, 24 params */
	"	cmpq 16(%rsp), %rsi\n"
	"	jne 5f\n"
	"	cmpq 24(%rsp), %rdi\n"
	"	jne 5f\n"
	SAME(1, rbx) SAME(2, rbp) SAME(3, r12) SAME(4, r13) SAME(5, r14) SAME(6, r15)
	SAME(7, rcx) SAME(8, rdx) SAME(9, r8) SAME(10, r9) SAME(11, r10) SAME(12, r11)
	"	jmp 4f\n"
	"5:	popq %rax\n"
	"	btsq $32, %rax\n"
	"	jmp 6f\n"
	"4:	popq %rax\n"
	"6:	addq $24, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	/* the probes: each one instruction that may fault */
	"	.globl s14_read64, s14_rdmsr, s14_wrmsr\n"
	"	.hidden s14_read64, s14_rdmsr, s14_wrmsr\n"
	"s14_probe_begin:\n"
	"s14_read64:\n"
	"	movq (%rdi), %rax\n"
	"	ret\n"
	"s14_rdmsr:\n"
	"	movl %edi, %ecx\n"
	"	rdmsr\n"
	"	shlq $32, %rdx\n"
	"	orq %rdx, %rax\n"
	"	ret\n"
	"s14_wrmsr:\n"
	"	movl %edi, %ecx\n"
	"	movl %esi, %eax\n"
	"	movq %rsi, %rdx\n"
	"	shrq $32, %rdx\n"
	"	wrmsr\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	"s14_vmmcall0:\n"
	"	xorl %eax, %eax\n"
	"	vmmcall\n"
	"	ret\n"
	"s14_vmcall0:\n"
	"	xorl %eax, %eax\n"
	"	vmcall\n"
	"	ret\n"
	"s14_probe_end:\n"
	"s14_probe_fixup:\n"
	"	movq $-1, %rax\n"
	"	ret\n");

extern char s14_stubs[];
uint64_t s14_guarded(void (*fn)(struct cpu_ctx *), struct cpu_ctx *c);
uint64_t s14_hv_regs(void *params, uint64_t pattern, int intel);
uint64_t s14_read64(uint64_t addr, uint64_t unused);
uint64_t s14_rdmsr(uint64_t msr, uint64_t unused);
uint64_t s14_wrmsr(uint64_t msr, uint64_t val);

static struct mp_services *mp;
static struct cpu_ctx *ctxs;
static struct processor_info info[MAX_CPUS];
static EFI_STATUS started[MAX_CPUS];
static UINTN ncpus, bsp;
static struct vm_hvinfo_params bsp_hv;   /* the BSP's HVINFO: every CPU must see this pool */
static volatile unsigned hammer_arrived, hammer_parties, who_am_i_failed;

/* ---- what runs on each CPU: no boot services, no Print ---- */

/* fn(a, b) on this CPU: the vector it raised, -1 if none (*ret then gets its value). */
static int probe(struct cpu_ctx *c, uint64_t (*fn)(uint64_t, uint64_t), uint64_t a, uint64_t b,
		 uint64_t *ret)
{
	c->fault_vector = ~0ull;
	uint64_t r = fn(a, b);
	if (c->fault_vector != ~0ull)
		return (int)c->fault_vector;
	if (ret)
		*ret = r;
	return -1;
}

static void read_cpuid(struct cpu_ctx *c)
{
	uint32_t r[4];
	sc_cpuid(1, 0, r);
	c->apic_id = r[1] >> 24;
	c->cpuid1_ecx = r[2];
	sc_cpuid(0x80000001, 0, r);
	c->ext1_ecx = r[2];
	sc_cpuid(BVMM_CPUID_BASE, 0, c->sig);
}

static void hvinfo(struct cpu_ctx *c)
{
	c->fault_vector = ~0ull;
	c->hv_err = s14_hv_regs(&c->hv, 0x5a5a000000000000ull | (uint64_t)c->apic_id << 40, c->intel);
	c->hv_fault = c->fault_vector == ~0ull ? -1 : (int)c->fault_vector;
}

static void task_hvinfo(struct cpu_ctx *c)
{
	read_cpuid(c);
	hvinfo(c);
}

/* EFER.SVME set must #GP (SVM is hidden); where it does not (a CPU running natively), EFER
 * is put back at once. */
static void efer_checks(struct cpu_ctx *c)
{
	c->efer_fault = probe(c, s14_rdmsr, MSR_EFER, 0, &c->efer);
	if (c->efer_fault >= 0)
		return;
	c->efer_w_fault = probe(c, s14_wrmsr, MSR_EFER, c->efer | EFER_SVME, NULL);
	if (c->efer_w_fault < 0)
		c->efer_restore_fault = probe(c, s14_wrmsr, MSR_EFER, c->efer, NULL);
	probe(c, s14_rdmsr, MSR_EFER, 0, &c->efer_after);
}

static void task_checks(struct cpu_ctx *c)
{
	read_cpuid(c);
	hvinfo(c);
	c->pool_fault = -2;
	if (c->pool) {
		c->pool_fault = probe(c, s14_read64, c->pool, 0, &c->pool_val);
		c->pool_error = c->fault_error;
	}
	efer_checks(c);
	if (c->intel) {
		c->fctl_fault = probe(c, s14_rdmsr, MSR_FEATURE_CONTROL, 0, &c->fctl);
		return;
	}
	c->vmcr_fault = probe(c, s14_rdmsr, MSR_VM_CR, 0, &c->vmcr);
	/* VM_HSAVE_PA written with the value it reads: a no-op on a native CPU, #GP under bvmm. */
	c->hsave_r_fault = probe(c, s14_rdmsr, MSR_VM_HSAVE_PA, 0, &c->hsave);
	c->hsave_w_fault = probe(c, s14_wrmsr, MSR_VM_HSAVE_PA, c->hsave_r_fault < 0 ? c->hsave : 0, NULL);
}

static void task_native(struct cpu_ctx *c)
{
	read_cpuid(c);
	hvinfo(c);
	c->efer_fault = probe(c, s14_rdmsr, MSR_EFER, 0, &c->efer);
}

/* All CPUs at once: HVINFO (registers checked) and the signature, HAMMER_ROUNDS times each. A
 * hypervisor that kept one save area or one stack for all CPUs mixes them up here. */
static void task_hammer(struct cpu_ctx *c)
{
	struct vm_hvinfo_params p;
	uint32_t r[4];
	read_cpuid(c);
	__atomic_add_fetch(&hammer_arrived, 1, __ATOMIC_SEQ_CST);
	for (unsigned spin = 0; hammer_arrived < hammer_parties && spin < 50000000; spin++)
		__asm__ volatile("pause");
	for (unsigned i = 0; i < HAMMER_ROUNDS; i++) {
		p.vhi_pool_size = 0;
		uint64_t e = s14_hv_regs(&p, (uint64_t)c->apic_id << 48 | (uint64_t)i << 20, c->intel);
		int ok = e == 0 && p.vhi_pool_size == bsp_hv.vhi_pool_size &&
			 p.vhi_abi_version == bsp_hv.vhi_abi_version;
		sc_cpuid(BVMM_CPUID_BASE, 0, r);
		int ok2 = r[1] == BVMM_CPUID_SIG_EBX && r[0] == c->sig[0];
		c->hammer_ok += ok + ok2;
		if ((!ok || !ok2) && !c->hammer_bad++)
			c->hammer_first_bad = ok ? 0x40000000ull << 32 | r[1] : e;
	}
}

static void (*const tasks[])(struct cpu_ctx *) = {
	[TASK_HVINFO] = task_hvinfo, [TASK_CHECKS] = task_checks,
	[TASK_NATIVE] = task_native, [TASK_HAMMER] = task_hammer,
};

struct __attribute__((packed)) dtr { uint16_t limit; uint64_t base; };

/* The MP services procedure (the BSP calls it directly too): this CPU on its own IDT with
 * interrupts off for the task, then the firmware's IDT and flags back. */
static void EFIAPI cpu_proc(void *arg)
{
	struct cpu_ctx *c = arg;
	struct dtr saved, mine = { sizeof c->idt - 1, (uint64_t)c->idt };
	uint64_t flags;
	uint16_t cs;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	__asm__ volatile("sidt %0" : "=m"(saved));
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	for (unsigned v = 0; v < 32; v++) {
		uint64_t a = (uint64_t)s14_stubs + 16 * v;
		c->idt[v] = (struct idt_gate){ (uint16_t)a, cs, 0, 0x8e, (uint16_t)(a >> 16),
					       (uint32_t)(a >> 32), 0 };
	}
	__asm__ volatile("lidt %0" : : "m"(mine) : "memory");
	s14_guarded(tasks[c->task], c);
	__asm__ volatile("lidt %0" : : "m"(saved) : "memory");
	if (flags & 0x200)
		__asm__ volatile("sti");
	c->done = 1;
}

/* StartupAllAPs' procedure: each AP finds its own context. */
static void EFIAPI hammer_entry(void *arg)
{
	UINTN n;
	(void)arg;
	if (EFI_ERROR(mp->who_am_i(mp, &n)) || n >= ncpus) {
		__atomic_add_fetch(&who_am_i_failed, 1, __ATOMIC_SEQ_CST);
		return;
	}
	cpu_proc(&ctxs[n]);
}

/* ---- the BSP: start the tasks, judge and print ---- */

static int enabled(UINTN i) { return !!(info[i].status_flag & PROCESSOR_ENABLED); }

static void prepare(UINTN i, enum task t, int intel, uint64_t pool)
{
	SetMem(&ctxs[i], sizeof ctxs[i], 0);
	ctxs[i].task = t;
	ctxs[i].intel = intel;
	ctxs[i].pool = pool;
}

/* Task t on CPU i, to its end (or the timeout). */
static void run_on(UINTN i, enum task t, int intel, uint64_t pool)
{
	prepare(i, t, intel, pool);
	if (i == bsp) {
		cpu_proc(&ctxs[i]);
		started[i] = EFI_SUCCESS;
	} else {
		started[i] = mp->startup_this_ap(mp, cpu_proc, i, NULL, AP_TIMEOUT_US, &ctxs[i], NULL);
	}
}

static int ran(UINTN i)
{
	return !EFI_ERROR(started[i]) && ctxs[i].done && !ctxs[i].unexpected;
}

static void cpu_name(UINTN i, const char *check, char name[80])
{
	unsigned n = 0;
	name[n++] = 'c', name[n++] = 'p', name[n++] = 'u';
	if (i >= 10)
		name[n++] = (char)('0' + i / 10);
	name[n++] = (char)('0' + i % 10);
	name[n++] = '/';
	for (const char *p = check; *p && n < 79; p++)
		name[n++] = *p;
	name[n] = 0;
}

/* "PASS cpuN/check" or "FAIL cpuN/check: why"; a CPU whose task did not run to its end fails
 * every check. */
static void cpu_check(UINTN i, int ok, const char *check, const CHAR16 *why, ...)
{
	char name[80];
	cpu_name(i, check, name);
	if (!ran(i)) {
		sc_check(0, name, L"the task did not run to its end");
		return;
	}
	va_list ap;
	va_start(ap, why);
	CHAR16 *msg = VPoolPrint(why, ap);
	va_end(ap);
	sc_check(ok, name, L"%s", msg ? msg : L"");
	if (msg)
		FreePool(msg);
}

static void sig_text(const uint32_t sig[4], CHAR16 out[13])
{
	for (unsigned k = 0; k < 12; k++) {
		uint8_t ch = (uint8_t)(sig[1 + k / 4] >> (8 * (k % 4)));
		out[k] = ch >= 0x20 && ch < 0x7f ? ch : L'.';
	}
	out[12] = 0;
}

/* What the CPU answered (for the record), and whether its task started and ended. */
static void report_ran(UINTN i)
{
	struct cpu_ctx *c = &ctxs[i];
	CHAR16 sig[13];
	char name[80];
	sig_text(c->sig, sig);
	Print(L"INFO cpu%d: apic id %d (firmware %ld%s), cpuid 40000000 eax %x '%s', 1.ecx %x, "
	      L"80000001.ecx %x\n", i, c->apic_id, info[i].processor_id, i == bsp ? L", BSP" : L"",
	      c->sig[0], sig, c->cpuid1_ecx, c->ext1_ecx);
	cpu_name(i, "ran", name);
	sc_check(ran(i), name, L"start %r, done %d, unexpected vector %ld at rip %lx error %lx",
		 started[i], c->done, c->unexpected ? c->fault_vector : 0, c->fault_rip, c->fault_error);
}

static void check_apic_ids(UINTN i)
{
	struct cpu_ctx *c = &ctxs[i];
	cpu_check(i, c->apic_id == (info[i].processor_id & 0xff), "apic-id-matches-firmware",
		  L"cpuid %d, firmware %ld", c->apic_id, info[i].processor_id);
	int dup = 0;
	for (UINTN j = 0; j < ncpus; j++)
		dup |= j != i && enabled(j) && ran(j) && ctxs[j].apic_id == c->apic_id;
	cpu_check(i, !dup, "apic-id-distinct", L"apic id %d seen on another CPU", c->apic_id);
}

/* The control guest's view on CPU i, as s1 checks it on the boot CPU. */
static void report_checks(UINTN i, int intel)
{
	struct cpu_ctx *c = &ctxs[i];
	CHAR16 sig[13];
	sig_text(c->sig, sig);
	report_ran(i);
	cpu_check(i, c->sig[0] >= BVMM_CPUID_BASE && c->sig[1] == BVMM_CPUID_SIG_EBX &&
		  c->sig[2] == BVMM_CPUID_SIG_ECX && c->sig[3] == BVMM_CPUID_SIG_EDX,
		  "cpuid-signature", L"eax %x ebx %x ecx %x edx %x '%s'", c->sig[0], c->sig[1],
		  c->sig[2], c->sig[3], sig);
	cpu_check(i, c->cpuid1_ecx & CPUID1_ECX_HV, "cpuid-hypervisor-bit", L"1.ecx %x", c->cpuid1_ecx);
	if (intel)
		cpu_check(i, !(c->cpuid1_ecx & CPUID1_ECX_VMX), "cpuid-vmx-hidden", L"1.ecx %x",
			  c->cpuid1_ecx);
	else
		cpu_check(i, !(c->ext1_ecx & CPUID_EXT1_ECX_SVM), "cpuid-svm-hidden",
			  L"80000001.ecx %x", c->ext1_ecx);
	cpu_check(i, c->hv_fault < 0 && c->hv_err == 0, "hvinfo-ok", L"vector %d, result %lx",
		  c->hv_fault, c->hv_err);
	cpu_check(i, c->hv_fault < 0 && !(c->hv_err & HV_REGS_MISMATCH), "hypercall-preserves-registers",
		  L"vector %d, result %lx", c->hv_fault, c->hv_err);
	cpu_check(i, c->hv_fault < 0 && c->hv.vhi_abi_version == bsp_hv.vhi_abi_version &&
		  c->hv.vhi_vendor == bsp_hv.vhi_vendor && c->hv.vhi_pool_size == bsp_hv.vhi_pool_size &&
		  c->hv.vhi_pool_free == bsp_hv.vhi_pool_free, "hvinfo-same-pool",
		  L"abi %d vendor %d pool %lx free %lx; the BSP's: abi %d vendor %d pool %lx free %lx",
		  c->hv.vhi_abi_version, c->hv.vhi_vendor, c->hv.vhi_pool_size, c->hv.vhi_pool_free,
		  bsp_hv.vhi_abi_version, bsp_hv.vhi_vendor, bsp_hv.vhi_pool_size, bsp_hv.vhi_pool_free);
	cpu_check(i, c->pool_fault == VEC_GP && c->pool_error == 0, "pool-read-gp",
		  L"read of %lx: vector %d error %lx (value %lx)", c->pool, c->pool_fault, c->pool_error,
		  c->pool_val);
	cpu_check(i, c->efer_fault < 0 && !(c->efer & EFER_SVME), "efer-svme-hidden",
		  L"vector %d efer %lx", c->efer_fault, c->efer);
	cpu_check(i, c->efer_w_fault == VEC_GP && c->efer_after == c->efer, "efer-svme-write-gp",
		  L"vector %d, efer %lx after (restored: vector %d)", c->efer_w_fault, c->efer_after,
		  c->efer_restore_fault);
	if (intel) {
		cpu_check(i, c->fctl_fault < 0 && c->fctl == 1, "feature-control-reads-locked-vmx-off",
			  L"vector %d value %lx", c->fctl_fault, c->fctl);
	} else {
		cpu_check(i, c->vmcr_fault < 0 && (c->vmcr & VM_CR_SVMDIS), "vm-cr-reads-svmdis",
			  L"vector %d vm_cr %lx", c->vmcr_fault, c->vmcr);
		cpu_check(i, c->hsave_w_fault == VEC_GP, "vm-hsave-pa-write-gp",
			  L"vector %d (wrote %lx, read with vector %d)", c->hsave_w_fault, c->hsave,
			  c->hsave_r_fault);
	}
	check_apic_ids(i);
}

/* After a failed launch: this CPU runs natively, nothing of bvmm left on it. */
static void report_native(UINTN i)
{
	struct cpu_ctx *c = &ctxs[i];
	CHAR16 sig[13];
	sig_text(c->sig, sig);
	report_ran(i);
	cpu_check(i, c->sig[1] != BVMM_CPUID_SIG_EBX, "no-bvmm-signature",
		  L"eax %x ebx %x ecx %x edx %x '%s'", c->sig[0], c->sig[1], c->sig[2], c->sig[3], sig);
	cpu_check(i, c->hv_fault == VEC_UD, "hypercall-ud", L"vector %d, result %lx", c->hv_fault,
		  c->hv_err);
	cpu_check(i, c->efer_fault < 0 && !(c->efer & EFER_SVME), "efer-svme-clear",
		  L"vector %d efer %lx", c->efer_fault, c->efer);
	check_apic_ids(i);
}

/* Every enabled CPU at once (StartupAllAPs without waiting, the BSP meanwhile its own part). */
static void hammer_all(int intel)
{
	EFI_EVENT ev;
	UINTN idx;
	hammer_arrived = 0;
	hammer_parties = 0;
	for (UINTN i = 0; i < ncpus; i++) {
		if (enabled(i)) {
			prepare(i, TASK_HAMMER, intel, 0);
			hammer_parties++;
		}
	}
	EFI_STATUS st = uefi_call_wrapper(BS->CreateEvent, 5, 0, 0, NULL, NULL, &ev);
	if (!EFI_ERROR(st))
		st = mp->startup_all_aps(mp, hammer_entry, FALSE, ev, AP_TIMEOUT_US, NULL, NULL);
	sc_check(!EFI_ERROR(st), "all-aps-started", L"%r", st);
	cpu_proc(&ctxs[bsp]);
	if (!EFI_ERROR(st))
		uefi_call_wrapper(BS->WaitForEvent, 3, 1, &ev, &idx);
	sc_check(!who_am_i_failed, "all-aps-who-am-i", L"%d APs could not tell who they are",
		 who_am_i_failed);
	for (UINTN i = 0; i < ncpus; i++) {
		if (!enabled(i))
			continue;
		struct cpu_ctx *c = &ctxs[i];
		started[i] = i == bsp || !EFI_ERROR(st) ? EFI_SUCCESS : st;
		cpu_check(i, c->hammer_ok == 2 * HAMMER_ROUNDS && !c->hammer_bad, "concurrent-hvinfo-cpuid",
			  L"%d of %d answers right, first wrong: %lx", c->hammer_ok, 2 * HAMMER_ROUNDS,
			  c->hammer_first_bad);
	}
}

/* "key=" in the load options: its value's first character, or NULL. */
static const CHAR16 *option(EFI_HANDLE image, const CHAR16 *key)
{
	EFI_LOADED_IMAGE *li = NULL;
	uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (!li || !li->LoadOptions)
		return NULL;
	const CHAR16 *o = li->LoadOptions;
	UINTN n = li->LoadOptionsSize / sizeof(CHAR16), k = StrLen(key);
	for (UINTN i = 0; i + k <= n && o[i]; i++)
		if ((i == 0 || o[i - 1] == L' ') && !CompareMem(o + i, key, k * sizeof(CHAR16)))
			return o + i + k;
	return NULL;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint32_t r[4];
	UINTN total = 0, on = 0;
	EFI_PHYSICAL_ADDRESS mem;

	sc_init(image, systab, "s14-smp");
	const CHAR16 *expect = option(image, L"expect="), *want = option(image, L"cpus=");
	int bvmm = expect && !StrnCmp(expect, L"bvmm", 4);
	sc_cpuid(0, 0, r);
	int intel = r[1] == 0x756e6547;   /* "Genu" */

	EFI_STATUS st = LibLocateProtocol(&mp_services_guid, (void **)&mp);
	if (!sc_check(!EFI_ERROR(st), "mp-services", L"%r", st))
		sc_finish();
	st = mp->get_number_of_processors(mp, &total, &on);
	if (!EFI_ERROR(st))
		st = mp->who_am_i(mp, &bsp);
	ncpus = total < MAX_CPUS ? total : MAX_CPUS;
	Print(L"INFO %d CPUs, %d enabled, BSP %d; expecting %s\n", total, on, bsp,
	      bvmm ? L"bvmm on every CPU" : L"no CPU virtualized");
	if (want)
		sc_check(on == Atoi((CHAR16 *)want), "cpu-count", L"%d enabled CPUs, %d expected", on,
			 Atoi((CHAR16 *)want));
	UINTN pages = (ncpus * sizeof *ctxs + 4095) / 4096;
	if (EFI_ERROR(st) || EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
							EfiLoaderData, pages, &mem))) {
		sc_check(0, "setup", L"%r", st);
		sc_finish();
	}
	ctxs = (struct cpu_ctx *)mem;
	for (UINTN i = 0; i < ncpus; i++) {
		st = mp->get_processor_info(mp, i, &info[i]);
		if (EFI_ERROR(st))
			info[i].status_flag = 0;
		if (!enabled(i))
			Print(L"INFO cpu%d: disabled or unknown (%r), not tested\n", i, st);
	}

	if (bvmm) {
		/* The BSP's HVINFO: the pool every CPU must see, and where it lies. */
		run_on(bsp, TASK_HVINFO, intel, 0);
		bsp_hv = ctxs[bsp].hv;
		uint64_t pool = ran(bsp) && !ctxs[bsp].hv_err ? sc_find_pool(bsp_hv.vhi_pool_size) : 0;
		sc_check(pool != 0, "pool-found", L"HVINFO vector %d result %lx size %lx",
			 ctxs[bsp].hv_fault, ctxs[bsp].hv_err, bsp_hv.vhi_pool_size);
		Print(L"INFO pool at %lx, %ld KiB\n", pool, bsp_hv.vhi_pool_size >> 10);
		for (UINTN i = 0; i < ncpus; i++)
			if (enabled(i))
				run_on(i, TASK_CHECKS, intel, pool);
		for (UINTN i = 0; i < ncpus; i++)
			if (enabled(i))
				report_checks(i, intel);
		hammer_all(intel);
	} else {
		for (UINTN i = 0; i < ncpus; i++)
			if (enabled(i))
				run_on(i, TASK_NATIVE, intel, 0);
		for (UINTN i = 0; i < ncpus; i++)
			if (enabled(i))
				report_native(i);
	}
	sc_finish();
}
