/* Scenario 4: the vmm(4) operations from the control guest, with real child VMs on SVM.
 * Every operation and every errno ABI.md lists; real-mode, 32-bit and 64-bit (Solo5-style)
 * guests; I/O, MMIO, MPROTECT_EPT, HLT, triple fault, interrupts, pvclock; two VMs at once;
 * TERM returning every pool page. Runs with bvmm.conf "pool=4M" (for the ENOMEM check). */
#include "lib/scenario.h"
#include "../../abi/bvmm.h"
#include "../../control/libvmm/vmm_state.h"

extern uint8_t guest_real16[], guest_real16_end[], guest_prot32[], guest_prot32_end[];
extern uint8_t guest_triple[], guest_triple_end[], guest_long64[], guest_long64_end[];

#define MIB (1ull << 20)
#define MSR_TSC_AUX 0xc0000103u
#define CHECK(cond, name, ...) sc_check(!!(cond), name, __VA_ARGS__)

static uint64_t hc(uint64_t op, void *p) { return bvmm_hypercall(op, p); }

/* Exit codes are the vendor's (ABI.md): the caller-visible ones this scenario expects. */
static uint16_t X_IO = SVM_VMEXIT_IOIO, X_HLT = SVM_VMEXIT_HLT, X_NPF = SVM_VMEXIT_NPF,
		X_SHUTDOWN = SVM_VMEXIT_SHUTDOWN, X_IRQWIN = SVM_VMEXIT_VINTR;

static void exit_codes_for_vendor(void)
{
	uint32_t r[4];
	sc_cpuid(0, 0, r);
	if (r[1] != 0x756e6547)   /* "Genu": Intel */
		return;
	X_IO = VMX_EXIT_IO;
	X_HLT = VMX_EXIT_HLT;
	X_NPF = VMX_EXIT_EPT_VIOLATION;
	X_SHUTDOWN = VMX_EXIT_TRIPLE_FAULT;
	X_IRQWIN = VMX_EXIT_INT_WINDOW;
}

static uint8_t *alloc_mem(uint64_t bytes)
{
	EFI_PHYSICAL_ADDRESS a;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
					bytes / 4096, &a)))
		return NULL;
	SetMem((void *)a, bytes, 0);
	return (uint8_t *)a;
}

static void one_range(struct vm_create_params *p, uint64_t gpa, void *mem, uint64_t size)
{
	SetMem(p, sizeof *p, 0);
	p->vcp_nmemranges = 1;
	p->vcp_ncpus = 1;
	p->vcp_memranges[0] = (struct vm_mem_range){ gpa, (uint64_t)mem, size };
}

static uint32_t create(const char *name, void *mem, uint64_t size, uint64_t ncpus, uint64_t *err)
{
	struct vm_create_params p;
	one_range(&p, 0, mem, size);
	p.vcp_ncpus = ncpus;
	for (int i = 0; name[i] && i < 63; i++)
		p.vcp_name[i] = name[i];
	*err = hc(BVMM_OP_CREATE, &p);
	return *err ? 0 : p.vcp_id;
}

static uint64_t term(uint32_t id)
{
	struct vm_terminate_params t = { id };
	return hc(BVMM_OP_TERM, &t);
}

static uint64_t reset(uint32_t vm, uint32_t vcpu, const struct vcpu_reg_state *rs)
{
	static struct vm_resetcpu_params r;
	r.vrp_vm_id = vm;
	r.vrp_vcpu_id = vcpu;
	r.vrp_init_state = *rs;
	return hc(BVMM_OP_RESETCPU, &r);
}

static struct vm_exit ex;
static struct vm_run_params rp;

static uint64_t run(uint32_t vm, int cont, uint16_t irq)
{
	rp.vrp_vm_id = vm;
	rp.vrp_vcpu_id = 0;
	rp.vrp_continue = (uint8_t)cont;
	rp.vrp_irq = irq;
	rp.vrp_exit = &ex;
	rp.vrp_exit_reason = 0x1234;
	return hc(BVMM_OP_RUN, &rp);
}

/* RUN until something other than VM_EXIT_NONE (a physical interrupt for the control guest). */
static uint64_t run_until(uint32_t vm, int cont, uint16_t irq)
{
	uint64_t e;
	for (int i = 0; i < 1000; i++) {
		e = run(vm, cont, irq);
		if (e || rp.vrp_exit_reason != VM_EXIT_NONE)
			return e;
		cont = 0;   /* nothing to hand back after VM_EXIT_NONE */
	}
	return e;
}

static int io_exit(uint16_t port, uint8_t size, uint8_t dir, uint32_t data)
{
	return rp.vrp_exit_reason == X_IO && ex.vei.vei_port == port &&
	       ex.vei.vei_size == size && ex.vei.vei_dir == dir && ex.vei.vei_data == data;
}

static int all_bytes(const void *p, uint64_t n, uint8_t v)
{
	for (uint64_t i = 0; i < n; i++)
		if (((const uint8_t *)p)[i] != v)
			return 0;
	return 1;
}

static uint64_t readregs(uint32_t vm, uint64_t mask, struct vcpu_reg_state *rs)
{
	static struct vm_rwregs_params p;
	SetMem(&p, sizeof p, 0);
	p.vrwp_vm_id = vm;
	p.vrwp_mask = mask;
	uint64_t e = hc(BVMM_OP_READREGS, &p);
	*rs = p.vrwp_regs;
	return e;
}

static uint64_t writeregs(uint32_t vm, uint64_t mask, const struct vcpu_reg_state *rs)
{
	static struct vm_rwregs_params p;
	p.vrwp_vm_id = vm;
	p.vrwp_vcpu_id = 0;
	p.vrwp_mask = mask;
	p.vrwp_regs = *rs;
	return hc(BVMM_OP_WRITEREGS, &p);
}

static uint64_t mprotect(uint32_t vm, uint32_t vcpu, uint64_t gpa, uint64_t size, int prot)
{
	struct vm_mprotect_ept_params p = { vm, vcpu, gpa, size, prot };
	return hc(BVMM_OP_MPROTECT_EPT, &p);
}

static uint64_t intr(uint32_t vm, uint32_t vcpu, uint16_t level)
{
	struct vm_intr_params p = { vm, vcpu, level };
	return hc(BVMM_OP_INTR, &p);
}

/* ---- CREATE validation ---- */

static void check_create_errors(uint8_t *mem, uint64_t pool_pa)
{
	static struct vm_create_params p;
	uint64_t e, before = vmm_pool_free();
#define BAD(label, stmt) do { one_range(&p, 0, mem, 2 * MIB); stmt; e = hc(BVMM_OP_CREATE, &p); \
	CHECK(e == BVMM_EINVAL, "create-einval-" label, L"errno %ld", e); } while (0)
	BAD("no-ranges", p.vcp_nmemranges = 0);
	BAD("17-ranges", p.vcp_nmemranges = 17);
	BAD("unaligned-gpa", p.vcp_memranges[0].vmr_gpa = 0x800);
	BAD("unaligned-va", p.vcp_memranges[0].vmr_va += 0x10);
	BAD("unaligned-size", p.vcp_memranges[0].vmr_size = MIB + 0x100);
	BAD("zero-size", p.vcp_memranges[0].vmr_size = 0);
	BAD("beyond-32g", p.vcp_memranges[0].vmr_gpa = (32ull << 30) - MIB);
	BAD("size-wraps", p.vcp_memranges[0].vmr_gpa = 0xfffffffffff00000ull);
	BAD("not-1mib-multiple", p.vcp_memranges[0].vmr_size = MIB + 4096);
	BAD("zero-cpus", p.vcp_ncpus = 0);
	BAD("65-cpus", p.vcp_ncpus = 65);
	BAD("starts-in-mmio-window", p.vcp_memranges[0].vmr_gpa = 0xf0000000ull);
	BAD("ends-in-mmio-window", p.vcp_memranges[0].vmr_gpa = 0xf0000000ull - MIB);
	BAD("overlapping", (p.vcp_nmemranges = 2, p.vcp_memranges[1] = (struct vm_mem_range){ MIB, (uint64_t)mem + MIB, MIB }));
	BAD("descending", (p.vcp_nmemranges = 2, p.vcp_memranges[0].vmr_gpa = 4 * MIB,
			   p.vcp_memranges[0].vmr_size = MIB,
			   p.vcp_memranges[1] = (struct vm_mem_range){ 0, (uint64_t)mem + MIB, MIB }));
	BAD("backing-unmapped", p.vcp_memranges[0].vmr_va = 0x00007fff00000000ull);
	BAD("backing-in-pool", p.vcp_memranges[0].vmr_va = pool_pa);
	/* CREATE walks once per leaf of the caller's tables: a 2 MiB range whose second half is the
	 * pool's first MiB (one 2 MiB leaf in the firmware's identity map) must still be refused. */
	BAD("backing-runs-into-pool", p.vcp_memranges[0].vmr_va = pool_pa - MIB);
	BAD("backing-mmio", p.vcp_memranges[0].vmr_va = 0xfec00000ull);   /* the IOAPIC */
#undef BAD
	e = hc(BVMM_OP_CREATE, (void *)0x00007fff00000000ull);
	CHECK(e == BVMM_EFAULT, "create-efault", L"errno %ld", e);
	CHECK(vmm_pool_free() == before, "create-errors-change-nothing", L"pool %lx -> %lx", before, vmm_pool_free());
}

/* ENOMEM: VMs of 64 vCPUs until the 4 MiB pool is full; then TERM gives everything back. */
static void check_enomem(uint8_t *mem)
{
	uint32_t ids[16];
	unsigned n = 0;
	uint64_t e = 0, before = vmm_pool_free();
	while (n < 16) {
		ids[n] = create("big", mem, MIB, 64, &e);
		if (e)
			break;
		n++;
	}
	CHECK(e == BVMM_ENOMEM && n > 0, "create-enomem", L"errno %ld after %d VMs", e, n);
	for (unsigned i = 0; i < n; i++)
		term(ids[i]);
	CHECK(vmm_pool_free() == before, "enomem-term-returns-pool", L"%lx != %lx", vmm_pool_free(), before);
}

/* ---- the real-mode guest: reset vector, OUT, IN with copy-back, HLT with IF=1 ---- */

/* A 1 MiB VM of the real-mode guest, its vCPU at the reset vector; 0 after a failed check
 * "NAME-create" (*e: RESETCPU's errno otherwise). */
static uint32_t real16_vm(const char *name, const char *check, uint64_t *e)
{
	uint8_t *mem = alloc_mem(MIB);
	struct vcpu_reg_state rs;
	CopyMem(mem + 0xf0000, guest_real16, guest_real16_end - guest_real16);
	uint32_t vm = create(name, mem, MIB, 1, e);
	if (!sc_check(!*e, check, L"errno %ld", *e))
		return 0;
	vmm_state_real(&rs, 0xf000, 0xfff0);
	*e = reset(vm, 0, &rs);
	return vm;
}

static void check_real16(void)
{
	uint64_t e;
	uint32_t vm = real16_vm("real16", "real16-create", &e);
	if (!vm)
		return;
	CHECK(!e, "real16-resetcpu-reset-vector", L"errno %ld", e);
	e = run_until(vm, 0, 0xffff);
	CHECK(!e && io_exit(0x80, 1, VEI_DIR_OUT, 0x42), "real16-out-port-0x80",
	      L"errno %ld reason %x port %x data %x", e, rp.vrp_exit_reason, ex.vei.vei_port, ex.vei.vei_data);
	CHECK(ex.vrs.vrs_gprs[VCPU_REGS_RIP] == 0x4 && ex.vrs.vrs_sregs[VCPU_REGS_CS].vsi_sel == 0xf000,
	      "real16-out-rip-advanced", L"rip %lx", ex.vrs.vrs_gprs[VCPU_REGS_RIP]);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_IO && ex.vei.vei_port == 0x71 &&
	      ex.vei.vei_dir == VEI_DIR_IN && ex.vei.vei_size == 1, "real16-in-port-0x71",
	      L"errno %ld port %x dir %d", e, ex.vei.vei_port, ex.vei.vei_dir);
	ex.vei.vei_data = 0x55;
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x81, 1, VEI_DIR_OUT, 0x56), "real16-in-data-copied-back",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x3f8, 2, VEI_DIR_OUT, 0x1234), "real16-outw-dx",
	      L"port %x size %d data %x", ex.vei.vei_port, ex.vei.vei_size, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_HLT && ex.vrs.vrs_gprs[VCPU_REGS_RIP] == 0x13,
	      "real16-hlt-if1-exit", L"errno %ld reason %x rip %lx", e, rp.vrp_exit_reason,
	      ex.vrs.vrs_gprs[VCPU_REGS_RIP]);
	CHECK(rp.vrp_irqready == 1, "real16-hlt-irqready", L"%d", rp.vrp_irqready);
	term(vm);
}

/* ---- RUN_PHYS: the real-mode guest again, its parameters and exits in a block named by
 * physical address (this program's memory is identity-mapped); mixed with RUN ---- */

static struct vm_run_block blk __attribute__((aligned(4096)));
static uint8_t blk_before[sizeof blk];

static uint64_t run_phys(uint64_t pa, uint32_t vm, int cont, uint16_t irq)
{
	blk.vrb_params.vrp_vm_id = vm;
	blk.vrb_params.vrp_vcpu_id = 0;
	blk.vrb_params.vrp_continue = (uint8_t)cont;
	blk.vrb_params.vrp_irq = irq;
	blk.vrb_params.vrp_exit = (struct vm_exit *)0xdead0000beef0000ull;   /* not read */
	blk.vrb_params.vrp_exit_reason = 0x1234;
	CopyMem(blk_before, &blk, sizeof blk);
	return hc(BVMM_OP_RUN_PHYS, (void *)pa);
}

/* RUN_PHYS until something other than VM_EXIT_NONE. */
static uint64_t run_phys_until(uint32_t vm, int cont)
{
	uint64_t e = 0;
	for (int i = 0; i < 1000; i++) {
		e = run_phys((uint64_t)&blk, vm, cont, 0xffff);
		if (e || blk.vrb_params.vrp_exit_reason != VM_EXIT_NONE)
			return e;
		cont = 0;
	}
	return e;
}

static int blk_io(uint16_t port, uint8_t size, uint8_t dir, uint32_t data)
{
	const struct vm_exit *x = &blk.vrb_exit;
	return blk.vrb_params.vrp_exit_reason == X_IO && x->vei.vei_port == port &&
	       x->vei.vei_size == size && x->vei.vei_dir == dir && x->vei.vei_data == data;
}

/* Only vrp_exit_reason, vrp_irqready and the exit written: the inputs (vrp_exit too) and
 * the padding as the caller left them. */
static int blk_inputs_kept(void)
{
	return !CompareMem(&blk, blk_before, 24) && !CompareMem((uint8_t *)&blk + 27, blk_before + 27, 37);
}

static void check_run_phys(uint64_t pool)
{
	uint64_t e;
	uint32_t vm = real16_vm("runphys", "run-phys-create", &e);
	if (!vm)
		return;
	/* Refused: blocks outside the caller's memory (first, before any good block: the last
	 * good one is remembered per CPU, and ~0 + 1 is 0, "none yet"). The vCPU has not run:
	 * checked below (the first good RUN's exit is the guest's first OUT). */
	static const struct { const char *name; uint64_t pa; } bad[] = {
		{ "run-phys-all-ones-efault", ~0ull }, { "run-phys-wraps-efault", ~0ull - 100 },
		{ "run-phys-past-top-efault", 1ull << 52 }, { "run-phys-xapic-page-efault", 0xfee00000ull },
		{ "run-phys-in-pool-efault", 0 }, { "run-phys-into-pool-efault", 1 },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (i >= 4 && !pool)
			break;   /* pool-found failed already */
		uint64_t pa = i == 4 ? pool + 4096 : i == 5 ? pool - 100 : bad[i].pa;
		uint64_t er = run_phys(pa, vm, 0, 0xffff);
		CHECK(er == BVMM_EFAULT, bad[i].name, L"errno %ld at %lx", er, pa);
	}
	uint64_t er = run_phys((uint64_t)&blk, vm + 1000, 0, 0xffff);
	CHECK(er == BVMM_ENOENT && !CompareMem(&blk, blk_before, sizeof blk), "run-phys-unknown-vm-enoent",
	      L"errno %ld", er);
	er = run_phys((uint64_t)&blk, vm, 0, 256);
	CHECK(er == BVMM_EINVAL && !CompareMem(&blk, blk_before, sizeof blk), "run-phys-irq-256-einval",
	      L"errno %ld", er);
	/* The guest's exits, through the block. */
	SetMem(&blk.vrb_exit, sizeof blk.vrb_exit, 0x5a);
	e = e ? e : run_phys_until(vm, 0);
	CHECK(!e && blk_io(0x80, 1, VEI_DIR_OUT, 0x42) && blk.vrb_exit.vrs.vrs_gprs[VCPU_REGS_RIP] == 0x4,
	      "run-phys-out-exit-in-block", L"errno %ld reason %x port %x data %x", e,
	      blk.vrb_params.vrp_exit_reason, blk.vrb_exit.vei.vei_port, blk.vrb_exit.vei.vei_data);
	CHECK(blk_inputs_kept(), "run-phys-inputs-and-padding-kept", L"");
	/* An IN answered through the block. */
	e = e ? e : run_phys_until(vm, 1);
	CHECK(!e && blk.vrb_params.vrp_exit_reason == X_IO && blk.vrb_exit.vei.vei_port == 0x71 &&
	      blk.vrb_exit.vei.vei_dir == VEI_DIR_IN, "run-phys-in-exit", L"errno %ld port %x", e,
	      blk.vrb_exit.vei.vei_port);
	blk.vrb_exit.vei.vei_data = 0x55;
	e = e ? e : run_phys_until(vm, 1);
	CHECK(!e && blk_io(0x81, 1, VEI_DIR_OUT, 0x56), "run-phys-in-data-from-block",
	      L"errno %ld port %x data %x", e, blk.vrb_exit.vei.vei_port, blk.vrb_exit.vei.vei_data);
	/* The same vCPU through RUN next: the exits are one sequence, whichever call. */
	e = e ? e : run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x3f8, 2, VEI_DIR_OUT, 0x1234), "run-after-run-phys",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = e ? e : run_phys_until(vm, 1);
	CHECK(!e && blk.vrb_params.vrp_exit_reason == X_HLT && blk.vrb_params.vrp_irqready == 1,
	      "run-phys-hlt-irqready", L"errno %ld reason %x irqready %d", e,
	      blk.vrb_params.vrp_exit_reason, blk.vrb_params.vrp_irqready);
	/* After good blocks (remembered as known good), a bad one is still refused. */
	er = pool ? run_phys(pool + 4096, vm, 0, 0xffff) : BVMM_EFAULT;
	CHECK(pool && er == BVMM_EFAULT, "run-phys-bad-after-good-efault", L"errno %ld", er);
	term(vm);
	er = run_phys((uint64_t)&blk, vm, 0, 0xffff);
	CHECK(er == BVMM_ENOENT, "run-phys-after-term-enoent", L"errno %ld", er);
}

/* ---- two VMs whose MMIO instructions sit at the same GPA with different bytes, run in turn:
 * the bytes each exit reports are its own VM's (the hypervisor's per-CPU cache of children's
 * GPA -> host pages is keyed by VM) ---- */

static void check_fetch_per_vm(void)
{
	/* mov ax, 0xffff; mov ds, ax; then at 0x7c05 mov al/ax, [0x10] (GPA 1 MiB: MMIO); jmp back */
	static const uint8_t code[] = { 0xb8, 0xff, 0xff, 0x8e, 0xd8, 0xa0, 0x10, 0x00, 0xeb, 0xfb };
	uint8_t *mem[2] = { alloc_mem(MIB), alloc_mem(MIB) };
	uint32_t id[2];
	uint64_t e = 0;
	struct vcpu_reg_state rs;
	for (int i = 0; i < 2; i++) {
		CopyMem(mem[i] + 0x7c00, (void *)code, sizeof code);
		mem[i][0x7c05] = (uint8_t)(0xa0 + i);   /* A: a0 (byte), B: a1 (word) */
		id[i] = create(i ? "fetch-b" : "fetch-a", mem[i], MIB, 1, &e);
		vmm_state_real(&rs, 0, 0x7c00);
		e = e ? e : reset(id[i], 0, &rs);
	}
	static struct vm_exit last[2];   /* each VM's own exit, for its continue */
	int ok = !e, n = 0;
	for (int round = 0; ok && round < 6; round++) {
		int i = round & 1;
		ex = last[i];
		e = run_until(id[i], round >= 2, 0xffff);
		ok = !e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_insn_len >= 3 &&
		     ex.vee.vee_insn_bytes[0] == 0xa0 + i;
		ex.vrs.vrs_gprs[VCPU_REGS_RIP] += 3;   /* the caller emulated it */
		last[i] = ex;
		n += ok;
	}
	CHECK(ok, "mmio-insn-bytes-per-vm", L"%d good exits of 6, errno %ld, reason %x, byte %x", n, e,
	      rp.vrp_exit_reason, ex.vee.vee_insn_bytes[0]);
	/* vpp_exit_regs 0 (no groups, KVM_RUN without sync_regs): vrs is left as the caller
	 * wrote it, and a continue takes no GPRs back (RIP not advanced: the same exit again,
	 * at the same RIP), until WRITEREGS moves RIP. */
	static struct vm_rwvmparams_params xp;
	xp = (struct vm_rwvmparams_params){ .vpp_vm_id = id[1], .vpp_mask = VM_RWVMPARAMS_EXIT_REGS };
	e = hc(BVMM_OP_WRITEVMPARAMS, &xp);
	SetMem(&ex, sizeof ex, 0x5a);
	e = e ? e : run_until(id[1], 0, 0xffff);   /* the instruction again (RIP not advanced) */
	CHECK(!e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_insn_bytes[0] == 0xa1 &&
	      all_bytes(&ex.vrs, sizeof ex.vrs, 0x5a), "exit-regs-none-vrs-untouched",
	      L"errno %ld reason %x byte %x", e, rp.vrp_exit_reason, ex.vee.vee_insn_bytes[0]);
	struct vcpu_reg_state before;
	uint64_t er = readregs(id[1], VM_RWREGS_GPRS, &before);
	ex.vrs.vrs_gprs[VCPU_REGS_RIP] = 0x7c08;   /* would skip the instruction if taken back */
	/* The GPRs asked for again before the continue: what counts is what that exit carried
	 * (none), else the 0x5a bytes in vrs would be taken back (and refused: RFLAGS). */
	xp.vpp_exit_regs = VM_RWREGS_GPRS;
	er = er ? er : hc(BVMM_OP_WRITEVMPARAMS, &xp);
	e = e ? e : run_until(id[1], 1, 0xffff);
	struct vcpu_reg_state after;
	er = er ? er : readregs(id[1], VM_RWREGS_GPRS, &after);
	CHECK(!e && !er && rp.vrp_exit_reason == X_NPF &&
	      after.vrs_gprs[VCPU_REGS_RIP] == before.vrs_gprs[VCPU_REGS_RIP] &&
	      before.vrs_gprs[VCPU_REGS_RIP] == 0x7c05, "exit-regs-none-continue-takes-no-gprs",
	      L"errno %ld/%ld reason %x rip %lx then %lx", e, er, rp.vrp_exit_reason,
	      before.vrs_gprs[VCPU_REGS_RIP], after.vrs_gprs[VCPU_REGS_RIP]);
	term(id[0]);
	term(id[1]);
}

/* ---- two 32-bit VMs at once: different memory, READREGS, WRITEREGS, isolation, EIO ---- */

static uint32_t prot32_vm(const char *name, uint32_t value, uint8_t **memp)
{
	uint64_t e;
	struct vcpu_reg_state rs;
	uint8_t *mem = alloc_mem(MIB);
	CopyMem(mem + 0x2000, guest_prot32, guest_prot32_end - guest_prot32);
	*(uint32_t *)(mem + 0x3000) = value;
	uint32_t vm = create(name, mem, MIB, 1, &e);
	vmm_state_prot32(&rs, 0x2000);
	rs.vrs_gprs[VCPU_REGS_RBX] = 20;
	if (!e)
		e = reset(vm, 0, &rs);
	sc_check(!e, name, L"create/reset errno %ld", e);
	*memp = mem;
	return e ? 0 : vm;
}

static void check_two_vms(void)
{
	static uint32_t magic[1024] __attribute__((aligned(4096)));
	uint8_t *ma, *mb;
	struct vcpu_reg_state rs;
	uint64_t e;
	uint32_t a = prot32_vm("prot32-a-create", 1000, &ma), b = prot32_vm("prot32-b-create", 2000, &mb);
	if (!a || !b)
		return;
	CHECK(a != b && b > a, "vm-ids-distinct-ascending", L"%d %d", a, b);

	/* WRITEREGS: EBX = 100 for B changes what B computes. */
	e = readregs(b, VM_RWREGS_GPRS, &rs);
	rs.vrs_gprs[VCPU_REGS_RBX] = 100;
	rs.vrs_gprs[VCPU_REGS_RSI] = (uint64_t)magic;
	uint64_t e2 = writeregs(b, VM_RWREGS_GPRS, &rs);
	CHECK(!e && !e2, "writeregs-ok", L"%ld %ld", e, e2);
	e = readregs(a, VM_RWREGS_GPRS, &rs);
	rs.vrs_gprs[VCPU_REGS_RSI] = sc_find_pool(4 * MIB) + 0x1000;   /* A peeks into the hypervisor pool */
	writeregs(a, VM_RWREGS_GPRS, &rs);

	e = run_until(a, 0, 0xffff);
	CHECK(!e && io_exit(0x90, 4, VEI_DIR_OUT, 1040), "vm-a-own-memory-result",
	      L"errno %ld port %x data %d", e, ex.vei.vei_port, ex.vei.vei_data);
	e = readregs(a, VM_RWREGS_ALL, &rs);
	CHECK(!e && rs.vrs_gprs[VCPU_REGS_RAX] == 1040 && rs.vrs_gprs[VCPU_REGS_RBX] == 20 &&
	      rs.vrs_gprs[VCPU_REGS_RIP] == 0x200b && rs.vrs_crs[VCPU_REGS_CR0] == 0x11 &&
	      rs.vrs_sregs[VCPU_REGS_CS].vsi_ar == 0xc09b &&
	      (rs.vrs_sregs[VCPU_REGS_LDTR].vsi_ar & VSI_AR_UNUSABLE),
	      "readregs-after-exit-matches", L"rax %ld rbx %ld rip %lx cr0 %lx cs.ar %x",
	      rs.vrs_gprs[VCPU_REGS_RAX], rs.vrs_gprs[VCPU_REGS_RBX], rs.vrs_gprs[VCPU_REGS_RIP],
	      rs.vrs_crs[VCPU_REGS_CR0], rs.vrs_sregs[VCPU_REGS_CS].vsi_ar);
	CHECK(ex.vrs.vrs_gprs[VCPU_REGS_RAX] == 1040 && ex.vrs.vrs_gprs[VCPU_REGS_RIP] == 0x200b,
	      "exit-vrs-matches", L"rax %ld rip %lx", ex.vrs.vrs_gprs[VCPU_REGS_RAX], ex.vrs.vrs_gprs[VCPU_REGS_RIP]);

	e = run_until(b, 0, 0xffff);
	CHECK(!e && io_exit(0x90, 4, VEI_DIR_OUT, 2200), "vm-b-writeregs-changes-result",
	      L"errno %ld data %d", e, ex.vei.vei_data);

	/* Isolation: B peeks at a control-guest page holding a magic: an MMIO exit, not data. */
	magic[0] = 0xc0ffee11;
	e = run_until(b, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_fault_type == VEE_FAULT_MMIO_ASSIST &&
	      (ex.vee.vee_insn_info & VEE_BYTES_VALID) && ex.vee.vee_insn_bytes[0] == 0x8b &&
	      ex.vee.vee_insn_bytes[1] == 0x06, "child-cannot-read-control-memory",
	      L"errno %ld reason %x type %d bytes %x %x", e, rp.vrp_exit_reason,
	      ex.vee.vee_fault_type, ex.vee.vee_insn_bytes[0], ex.vee.vee_insn_bytes[1]);
	ex.vrs.vrs_gprs[VCPU_REGS_RIP] += 2;   /* emulate: the read returns 7 */
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 7;
	e = run_until(b, 1, 0xffff);
	CHECK(!e && io_exit(0x91, 4, VEI_DIR_OUT, 7), "mmio-continue-takes-gprs", L"data %x", ex.vei.vei_data);

	e = run_until(a, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_fault_type == VEE_FAULT_MMIO_ASSIST,
	      "child-cannot-read-pool", L"reason %x", rp.vrp_exit_reason);
	/* RUN with an unwritable exit buffer: EFAULT, and the vCPU does not move. */
	rp.vrp_vm_id = a;
	rp.vrp_continue = 0;
	rp.vrp_irq = 0xffff;
	rp.vrp_exit = (struct vm_exit *)0x00007fff00000000ull;
	e = hc(BVMM_OP_RUN, &rp);
	readregs(a, VM_RWREGS_GPRS, &rs);
	CHECK(e == BVMM_EFAULT && rs.vrs_gprs[VCPU_REGS_RIP] == 0x200b, "run-efault-exit-buffer",
	      L"errno %ld rip %lx", e, rs.vrs_gprs[VCPU_REGS_RIP]);
	rs.vrs_gprs[VCPU_REGS_RIP] += 2;
	writeregs(a, VM_RWREGS_GPRS, &rs);
	e = run_until(a, 0, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x91, "vm-a-after-skip", L"port %x", ex.vei.vei_port);
	e = run_until(a, 0, 0xffff);
	CHECK(e == BVMM_EIO, "run-hlt-if0-eio", L"errno %ld", e);
	e = run_until(a, 0, 0xffff);
	CHECK(e == BVMM_EBUSY, "run-after-stop-ebusy", L"errno %ld", e);
	vmm_state_prot32(&rs, 0x2000);
	e = reset(a, 0, &rs);
	CHECK(e == BVMM_EBUSY, "resetcpu-stopped-for-good-ebusy", L"errno %ld", e);

	/* INFO: the size probe, then the entries. */
	static struct vm_info_result res[8];
	struct vm_info_params ip = { 0, 99, res };
	e = hc(BVMM_OP_INFO, &ip);
	CHECK(!e && ip.vip_info_ct == 0 && ip.vip_size == 2 * sizeof(struct vm_info_result),
	      "info-size-probe", L"errno %ld ct %ld size %ld", e, ip.vip_info_ct, ip.vip_size);
	ip.vip_size = sizeof res;
	e = hc(BVMM_OP_INFO, &ip);
	int ok = !e && ip.vip_info_ct == 2;
	for (unsigned i = 0; ok && i < 2; i++)
		ok = (res[i].vir_id == a || res[i].vir_id == b) && res[i].vir_memory_size == MIB &&
		     res[i].vir_ncpus == 1 && res[i].vir_name[0] == 'p' && res[i].vir_name[6] == '-' &&
		     res[i].vir_vcpu_state[0] == VCPU_STATE_STOPPED;
	CHECK(ok, "info-lists-both-vms", L"errno %ld ct %ld id %d", e, ip.vip_info_ct, res[0].vir_id);
	ip.vip_info = (struct vm_info_result *)0x00007fff00000000ull;
	e = hc(BVMM_OP_INFO, &ip);
	CHECK(e == BVMM_EFAULT, "info-efault", L"errno %ld", e);

	CHECK(!term(a) && !term(b), "term-both", L"");
	CHECK(term(a) == BVMM_ENOENT, "term-twice-enoent", L"");
	ip.vip_size = 0;
	e = hc(BVMM_OP_INFO, &ip);
	CHECK(!e && ip.vip_size == 0, "info-empty-after-term", L"size %ld", ip.vip_size);
	(void)ma;
	(void)mb;
}

/* ---- the 64-bit guest ---- */

static void long64_memory(uint8_t *m)
{
	vmm_solo5_tables(m);
	CopyMem(m + 0x100000, guest_long64, guest_long64_end - guest_long64);
}

/* RUN with xmm6/xmm7 holding a pattern; reports whether they survived the child. */
static int run_keeps_sse(uint32_t vm, uint64_t *err)
{
	static uint8_t pat[32] __attribute__((aligned(16))), back[32] __attribute__((aligned(16)));
	for (int i = 0; i < 32; i++)
		pat[i] = (uint8_t)(0x5a + i);
	rp.vrp_vm_id = vm;
	rp.vrp_vcpu_id = 0;
	rp.vrp_continue = 0;
	rp.vrp_irq = 0xffff;
	rp.vrp_exit = &ex;
	uint64_t r;
	__asm__ volatile("movdqa (%3), %%xmm6\n\t"
			 "movdqa 16(%3), %%xmm7\n\t"
			 "vmmcall\n\t"
			 "movdqa %%xmm6, (%4)\n\t"
			 "movdqa %%xmm7, 16(%4)\n\t"
			 : "=a"(r) : "a"((uint64_t)BVMM_OP_RUN), "D"(&rp), "r"(pat), "r"(back)
			 : "memory", "xmm6", "xmm7");
	*err = r;
	return !CompareMem(pat, back, 32);
}

static void check_long64(void)
{
	uint8_t *mem = alloc_mem(4 * MIB);
	struct vcpu_reg_state rs;
	uint64_t e;
	long64_memory(mem);
	uint32_t vm = create("solo5-like", mem, 4 * MIB, 1, &e);
	if (!CHECK(!e, "long64-create", L"errno %ld", e))
		return;
	vmm_state_long64(&rs, 0x100000);
	e = reset(vm, 0, &rs);
	CHECK(!e, "long64-resetcpu-solo5-state", L"errno %ld", e);
	e = mprotect(vm, 0, 0x200000, 4096, PROT_READ);
	CHECK(!e, "mprotect-read-only", L"errno %ld", e);

	/* 1. Solo5 hypercall port; the child's SSE use leaves ours alone. */
	int sse = run_keeps_sse(vm, &e);
	while (!e && rp.vrp_exit_reason == VM_EXIT_NONE)
		e = run(vm, 0, 0xffff);
	CHECK(!e && io_exit(0x501, 4, VEI_DIR_OUT, 0x10000), "long64-solo5-outl",
	      L"errno %ld reason %x port %x data %x", e, rp.vrp_exit_reason, ex.vei.vei_port, ex.vei.vei_data);
	CHECK(sse, "child-sse-does-not-leak-into-control", L"xmm6/xmm7 changed");
	CHECK(ex.cpl == 0 && ex.vrs.vrs_msrs[VCPU_REGS_EFER] == 0x500, "long64-exit-cpl-efer",
	      L"cpl %d efer %lx", ex.cpl, ex.vrs.vrs_msrs[VCPU_REGS_EFER]);

	/* 2. MMIO write: the bytes of "movl $0xdeadbeef, 0x3fe00000". */
	static const uint8_t wr[] = { 0xc7, 0x04, 0x25, 0x00, 0x00, 0xe0, 0x3f, 0xef, 0xbe, 0xad, 0xde };
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_fault_type == VEE_FAULT_MMIO_ASSIST &&
	      ex.vee.vee_insn_len == 15 && !CompareMem(ex.vee.vee_insn_bytes, wr, sizeof wr),
	      "long64-mmio-write-insn-bytes", L"errno %ld reason %x type %d len %d b0 %x",
	      e, rp.vrp_exit_reason, ex.vee.vee_fault_type, ex.vee.vee_insn_len, ex.vee.vee_insn_bytes[0]);
	ex.vrs.vrs_gprs[VCPU_REGS_RIP] += sizeof wr;
	/* 3. MMIO read: we answer 0x12345678 in EAX. */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_insn_bytes[0] == 0x8b,
	      "long64-mmio-read", L"errno %ld reason %x", e, rp.vrp_exit_reason);
	ex.vrs.vrs_gprs[VCPU_REGS_RIP] += 7;
	ex.vrs.vrs_gprs[VCPU_REGS_RAX] = 0x12345678;
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x502, 4, VEI_DIR_OUT, 0x12345678), "long64-mmio-read-continue",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	/* 4. The read-only page. */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_fault_type == VEE_FAULT_PROTECT &&
	      ex.vee.vee_insn_bytes[0] == 0x48, "mprotect-write-exits-protect",
	      L"errno %ld reason %x type %d", e, rp.vrp_exit_reason, ex.vee.vee_fault_type);
	e = mprotect(vm, 0, 0x200000, 4096, PROT_READ | PROT_WRITE);
	CHECK(!e, "mprotect-read-write", L"errno %ld", e);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x506, 4, VEI_DIR_OUT, 0x77) && mem[0x200000] == 0x77,
	      "protected-write-retried", L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	/* 5. pvclock: the MSR refuses a structure crossing a page and one outside RAM (#GP). */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x509, 4, VEI_DIR_OUT, 13), "pvclock-msr-page-crossing-gp",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x509, 4, VEI_DIR_OUT, 13), "pvclock-msr-outside-ram-gp",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x503, "pvclock-first-read", L"port %x", ex.vei.vei_port);
	struct vm_rwvmparams_params vp = { .vpp_vm_id = vm, .vpp_mask = VM_RWVMPARAMS_ALL };
	e = hc(BVMM_OP_READVMPARAMS, &vp);
	CHECK(!e && vp.vpp_pvclock_system_gpa == 0x300001 && vp.vpp_pvclock_version >= 2 &&
	      !(vp.vpp_pvclock_version & 1), "readvmparams-pvclock",
	      L"errno %ld gpa %lx version %d", e, vp.vpp_pvclock_system_gpa, vp.vpp_pvclock_version);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x504, 4, VEI_DIR_OUT, 1), "pvclock-advanced-and-stable",
	      L"errno %ld data %x", e, ex.vei.vei_data);
	/* 6. CPUID 0x40000001. */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x507, 4, VEI_DIR_OUT, KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT),
	      "child-cpuid-pvclock-features", L"data %x", ex.vei.vei_data);
	/* 6a. The local APIC: none until the control program says it models an xAPIC. */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x510 && !(ex.vei.vei_data & (1u << 9)), "child-cpuid-no-apic",
	      L"errno %ld port %x edx %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x509, 4, VEI_DIR_OUT, 13), "child-apic-base-gp-without-xapic",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);   /* the probe's 0 after the #GP */
	struct vm_rwvmparams_params xp = { .vpp_vm_id = vm, .vpp_mask = VM_RWVMPARAMS_XAPIC,
					   .vpp_xapic = 2 };
	e = hc(BVMM_OP_WRITEVMPARAMS, &xp);
	CHECK(e == BVMM_EINVAL, "writevmparams-xapic-bad-value-einval", L"errno %ld", e);
	xp.vpp_xapic = VPP_XAPIC_MMIO;
	e = hc(BVMM_OP_WRITEVMPARAMS, &xp);
	CHECK(!e, "writevmparams-xapic", L"errno %ld", e);
	xp = (struct vm_rwvmparams_params){ .vpp_vm_id = vm, .vpp_mask = VM_RWVMPARAMS_XAPIC,
					    .vpp_pvclock_version = 77 };
	e = hc(BVMM_OP_READVMPARAMS, &xp);
	CHECK(!e && xp.vpp_xapic == VPP_XAPIC_MMIO && xp.vpp_pvclock_version == 77,
	      "readvmparams-xapic-only", L"errno %ld xapic %u version %u", e, xp.vpp_xapic,
	      xp.vpp_pvclock_version);
	/* 6a'. vpp_exit_regs (bvmm): the vrs groups each exit writes; the rest stays as the
	 * caller left it. */
	xp = (struct vm_rwvmparams_params){ .vpp_vm_id = vm, .vpp_mask = VM_RWVMPARAMS_EXIT_REGS };
	e = hc(BVMM_OP_READVMPARAMS, &xp);
	CHECK(!e && xp.vpp_exit_regs == VM_RWREGS_ALL, "readvmparams-exit-regs-default-all",
	      L"errno %ld groups %x", e, xp.vpp_exit_regs);
	xp.vpp_exit_regs = VM_RWREGS_GPRS | 0x20;
	e = hc(BVMM_OP_WRITEVMPARAMS, &xp);
	CHECK(e == BVMM_EINVAL, "writevmparams-exit-regs-unknown-group-einval", L"errno %ld", e);
	xp.vpp_exit_regs = 0;
	e = hc(BVMM_OP_READVMPARAMS, &xp);
	CHECK(!e && xp.vpp_exit_regs == VM_RWREGS_ALL, "writevmparams-exit-regs-refused-unchanged",
	      L"errno %ld groups %x", e, xp.vpp_exit_regs);
	xp.vpp_exit_regs = VM_RWREGS_SREGS | VM_RWREGS_CRS;   /* no GPRs: allowed (none too) */
	e = hc(BVMM_OP_WRITEVMPARAMS, &xp);
	CHECK(!e, "writevmparams-exit-regs-without-gprs", L"errno %ld", e);
	xp.vpp_exit_regs = VM_RWREGS_GPRS | VM_RWREGS_CRS;
	e = hc(BVMM_OP_WRITEVMPARAMS, &xp);
	CHECK(!e, "writevmparams-exit-regs", L"errno %ld", e);
	SetMem(&ex.vrs, sizeof ex.vrs, 0x5a);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x510 && (ex.vei.vei_data & (1u << 9)), "child-cpuid-apic-declared",
	      L"errno %ld port %x edx %x", e, ex.vei.vei_port, ex.vei.vei_data);
	CHECK(!e && (ex.vrs.vrs_crs[VCPU_REGS_CR0] & 0x80000001) == 0x80000001 &&
	      ex.vrs.vrs_gprs[VCPU_REGS_RIP] < 0x200000 && ex.vrs.vrs_gprs[VCPU_REGS_RFLAGS] < 0x400000 &&
	      all_bytes(ex.vrs.vrs_sregs, sizeof ex.vrs.vrs_sregs, 0x5a) &&
	      all_bytes(&ex.vrs.vrs_gdtr, 2 * sizeof ex.vrs.vrs_gdtr, 0x5a) &&
	      all_bytes(ex.vrs.vrs_msrs, sizeof ex.vrs.vrs_msrs, 0x5a) &&
	      all_bytes(ex.vrs.vrs_drs, sizeof ex.vrs.vrs_drs, 0x5a),
	      "exit-regs-gprs-crs-only-written", L"errno %ld cr0 %lx rip %lx cs sel %x efer %lx dr7 %lx",
	      e, ex.vrs.vrs_crs[VCPU_REGS_CR0], ex.vrs.vrs_gprs[VCPU_REGS_RIP],
	      ex.vrs.vrs_sregs[VCPU_REGS_CS].vsi_sel, ex.vrs.vrs_msrs[VCPU_REGS_EFER], ex.vrs.vrs_drs[VCPU_REGS_DR7]);
	xp.vpp_exit_regs = VM_RWREGS_ALL;
	e = hc(BVMM_OP_WRITEVMPARAMS, &xp);
	e = e ? e : run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x511, 4, VEI_DIR_OUT, 0xfee00900), "child-apic-base-bsp-enabled",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	CHECK(!e && (ex.vrs.vrs_msrs[VCPU_REGS_EFER] & 0x500) == 0x500 &&
	      ex.vrs.vrs_sregs[VCPU_REGS_CS].vsi_sel != 0x5a5a && ex.vrs.vrs_drs[VCPU_REGS_DR7] == 0x400,
	      "exit-regs-all-again", L"errno %ld efer %lx cs sel %x dr7 %lx", e,
	      ex.vrs.vrs_msrs[VCPU_REGS_EFER], ex.vrs.vrs_sregs[VCPU_REGS_CS].vsi_sel,
	      ex.vrs.vrs_drs[VCPU_REGS_DR7]);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x509, 4, VEI_DIR_OUT, 13), "child-apic-base-move-gp",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x509, 4, VEI_DIR_OUT, 13), "child-apic-base-disable-gp",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x511, 4, VEI_DIR_OUT, 0xfee00900), "child-apic-base-unchanged",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	/* 6b. CR4.OSXSAVE refused (#GP in the child), CR4.PGE accepted, RDPMC refused, INVD
	 * emulated, single-step #DB re-injected. */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x509, 4, VEI_DIR_OUT, 13), "child-cr4-osxsave-gp",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x50b && !(ex.vei.vei_data & (1u << 18)) &&
	      (ex.vei.vei_data & 0x80) && ex.vrs.vrs_crs[VCPU_REGS_CR4] == ex.vei.vei_data,
	      "child-cr4-pge-allowed", L"port %x cr4 %x", ex.vei.vei_port, ex.vei.vei_data);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x509, 4, VEI_DIR_OUT, 13), "child-rdpmc-gp",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	/* RDTSCP: a control-guest TSC_AUX must not reach the child, and must survive it. QEMU
	 * TCG does not honour the RDTSCP intercept (measured): there the child reads its own. */
	uint64_t aux = 0;
	sc_probe(sc_wrmsr, MSR_TSC_AUX, 0x5a5a, NULL);
	e = run_until(vm, 1, 0xffff);
	int ud = !e && io_exit(0x509, 4, VEI_DIR_OUT, 6);
	if (ud)
		e = run_until(vm, 1, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x50e && ex.vei.vei_data == (ud ? 0xffffffffu : 0),
	      "child-rdtscp-no-control-tsc-aux", L"errno %ld ud %d port %x ecx %x", e, ud,
	      ex.vei.vei_port, ex.vei.vei_data);
	sc_probe(sc_rdmsr, MSR_TSC_AUX, 0, &aux);
	CHECK(aux == 0x5a5a, "control-tsc-aux-kept", L"%lx", aux);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x50a, 4, VEI_DIR_OUT, 1), "child-invd-then-single-step-db",
	      L"errno %ld port %x data %x", e, ex.vei.vei_port, ex.vei.vei_data);
	/* 7. HLT with IF=1, then an injected vector 0x30 runs the guest's handler. */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_HLT && rp.vrp_irqready, "long64-hlt-irqready",
	      L"errno %ld reason %x ready %d", e, rp.vrp_exit_reason, rp.vrp_irqready);
	e = run_until(vm, 0, 0x30);
	CHECK(!e && io_exit(0x505, 4, VEI_DIR_OUT, 0x30), "injected-interrupt-taken",
	      L"errno %ld reason %x port %x", e, rp.vrp_exit_reason, ex.vei.vei_port);
	/* 8a. INTR raised while IF=0 arms the window; lowered again, it must not fire. */
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x508 && !rp.vrp_irqready, "guest-cli-not-ready",
	      L"port %x ready %d", ex.vei.vei_port, rp.vrp_irqready);
	intr(vm, 0, 1);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && io_exit(0x50c, 1, VEI_DIR_OUT, ex.vei.vei_data), "window-armed-guest-still-cli",
	      L"errno %ld reason %x port %x", e, rp.vrp_exit_reason, ex.vei.vei_port);
	intr(vm, 0, 0);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && ex.vei.vei_port == 0x50d && rp.vrp_exit_reason == X_IO,
	      "intr-lowered-no-window-exit", L"errno %ld reason %x port %x", e, rp.vrp_exit_reason,
	      ex.vei.vei_port);
	/* 8b. The interrupt window. */
	e = intr(vm, 0, 1);
	CHECK(!e, "intr-raise", L"errno %ld", e);
	e = run_until(vm, 1, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_IRQWIN && rp.vrp_irqready == 1,
	      "interrupt-window-exit", L"errno %ld reason %x ready %d", e, rp.vrp_exit_reason, rp.vrp_irqready);
	intr(vm, 0, 0);
	e = run_until(vm, 0, 0x30);
	CHECK(!e && io_exit(0x505, 4, VEI_DIR_OUT, 0x30), "window-interrupt-taken",
	      L"errno %ld port %x", e, ex.vei.vei_port);
	/* 9. HLT with IF=0. */
	e = run_until(vm, 1, 0xffff);
	CHECK(e == BVMM_EIO, "long64-hlt-if0-eio", L"errno %ld", e);
	term(vm);
}

static void check_triple(void)
{
	uint8_t *mem = alloc_mem(MIB);
	struct vcpu_reg_state rs;
	uint64_t e;
	CopyMem(mem + 0x7c00, guest_triple, guest_triple_end - guest_triple);
	uint32_t vm = create("triple", mem, MIB, 1, &e);
	vmm_state_real(&rs, 0, 0x7c00);
	if (!e)
		e = reset(vm, 0, &rs);
	e = e ? e : run_until(vm, 0, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == X_SHUTDOWN, "triple-fault-shutdown-exit",
	      L"errno %ld reason %x", e, rp.vrp_exit_reason);
	/* The VMCB is undefined after a shutdown: the vCPU comes back in its power-on state. */
	CHECK(ex.vrs.vrs_gprs[VCPU_REGS_RIP] == 0xfff0 && ex.vrs.vrs_sregs[VCPU_REGS_CS].vsi_sel == 0xf000 &&
	      ex.vrs.vrs_sregs[VCPU_REGS_CS].vsi_base == 0xffff0000 && ex.vrs.vrs_crs[VCPU_REGS_CR0] == 0x60000010,
	      "shutdown-resets-to-power-on", L"rip %lx cs %x", ex.vrs.vrs_gprs[VCPU_REGS_RIP],
	      ex.vrs.vrs_sregs[VCPU_REGS_CS].vsi_sel);
	vmm_state_real(&rs, 0, 0x7c00);
	e = reset(vm, 0, &rs);
	CHECK(!e, "resetcpu-after-shutdown", L"errno %ld", e);
	term(vm);
}

/* MPROTECT_EPT without exec: the first instruction fetch from the page is a protection exit
 * (RIP not advanced); with read+exec the same RUN goes on. */
static void check_mprotect_exec(void)
{
	uint8_t *mem;
	uint64_t e;
	uint32_t vm = prot32_vm("prot32-nx-create", 3000, &mem);
	if (!vm)
		return;
	e = mprotect(vm, 0, 0x2000, 4096, PROT_READ);
	e = e ? e : run_until(vm, 0, VRP_IRQ_NONE);
	CHECK(!e && rp.vrp_exit_reason == X_NPF && ex.vee.vee_fault_type == VEE_FAULT_PROTECT &&
	      ex.vrs.vrs_gprs[VCPU_REGS_RIP] == 0x2000, "mprotect-no-exec-fetch-exits",
	      L"errno %ld reason %x type %d rip %lx", e, rp.vrp_exit_reason, ex.vee.vee_fault_type,
	      ex.vrs.vrs_gprs[VCPU_REGS_RIP]);
	e = mprotect(vm, 0, 0x2000, 4096, PROT_READ | PROT_EXEC);
	e = e ? e : run_until(vm, 1, VRP_IRQ_NONE);
	CHECK(!e && io_exit(0x90, 4, VEI_DIR_OUT, 3040), "mprotect-exec-restored-runs",
	      L"errno %ld port %x data %d", e, ex.vei.vei_port, ex.vei.vei_data);
	term(vm);
}

/* A child spinning with interrupts off must not hold the CPU: the control guest's own timer
 * interrupt ends RUN with VM_EXIT_NONE (the hypervisor has no timer). */
static void check_spin(void)
{
	static const uint8_t spin[] = { 0xfa, 0xeb, 0xfe };   /* cli; jmp . */
	uint8_t *mem = alloc_mem(MIB);
	struct vcpu_reg_state rs;
	uint64_t e;
	CopyMem(mem + 0x7c00, spin, sizeof spin);
	uint32_t vm = create("spin", mem, MIB, 1, &e);
	vmm_state_real(&rs, 0, 0x7c00);
	if (!e)
		e = reset(vm, 0, &rs);
	uint64_t t0 = sc_rdtsc();
	e = e ? e : run(vm, 0, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == VM_EXIT_NONE && sc_rdtsc() > t0, "spinning-child-returns-exit-none",
	      L"errno %ld reason %x", e, rp.vrp_exit_reason);
	e = run(vm, 0, 0xffff);
	CHECK(!e && rp.vrp_exit_reason == VM_EXIT_NONE && ex.vrs.vrs_gprs[VCPU_REGS_RIP] == 0x7c01,
	      "spinning-child-resumes", L"errno %ld reason %x rip %lx", e, rp.vrp_exit_reason,
	      ex.vrs.vrs_gprs[VCPU_REGS_RIP]);
	term(vm);
}

/* ---- errno for each remaining operation and rule ---- */

static void check_errnos(uint8_t *mem)
{
	struct vcpu_reg_state rs, good;
	uint64_t e;
	uint32_t vm = create("errnos", mem, 2 * MIB, 2, &e);
	if (!CHECK(!e, "errnos-create-2-vcpus", L"errno %ld", e))
		return;
	vmm_state_prot32(&good, 0x2000);

	e = run(vm + 100, 0, 0xffff);
	CHECK(e == BVMM_ENOENT, "run-enoent-vm", L"%ld", e);
	rp.vrp_vm_id = vm;
	rp.vrp_vcpu_id = 2;
	rp.vrp_exit = &ex;
	rp.vrp_irq = 0xffff;
	e = hc(BVMM_OP_RUN, &rp);
	CHECK(e == BVMM_ENOENT, "run-enoent-vcpu", L"%ld", e);
	e = run(vm, 0, 0x100);
	CHECK(e == BVMM_EINVAL, "run-einval-irq", L"%ld", e);
	e = hc(BVMM_OP_RUN, (void *)0x00007fff00000000ull);
	CHECK(e == BVMM_EFAULT, "run-efault", L"%ld", e);

	e = reset(vm + 100, 0, &good);
	CHECK(e == BVMM_ENOENT, "resetcpu-enoent", L"%ld", e);
	e = reset(vm, 1, &good);
	CHECK(!e, "resetcpu-second-vcpu", L"%ld", e);
	rs = good;
	rs.vrs_crs[VCPU_REGS_CR0] = 0x80000000;   /* PG without PE */
	CHECK(reset(vm, 0, &rs) == BVMM_EIO, "resetcpu-eio-pg-without-pe", L"");
	rs = good;
	rs.vrs_msrs[VCPU_REGS_EFER] = 0x500;
	rs.vrs_crs[VCPU_REGS_CR0] = 0x80000011;   /* long mode without PAE */
	CHECK(reset(vm, 0, &rs) == BVMM_EIO, "resetcpu-eio-long-mode-without-pae", L"");
	rs = good;
	rs.vrs_sregs[VCPU_REGS_CS].vsi_ar = VSI_AR_UNUSABLE;
	CHECK(reset(vm, 0, &rs) == BVMM_EIO, "resetcpu-eio-cs-unusable", L"");
	rs = good;
	rs.vrs_gprs[VCPU_REGS_RFLAGS] = 0;
	CHECK(reset(vm, 0, &rs) == BVMM_EIO, "resetcpu-eio-rflags-bit1", L"");
	CHECK(hc(BVMM_OP_RESETCPU, (void *)0x00007fff00000000ull) == BVMM_EFAULT, "resetcpu-efault", L"");

	struct vm_intr_params ip = { vm, 0, 2 };
	CHECK(hc(BVMM_OP_INTR, &ip) == BVMM_EINVAL, "intr-einval-level", L"");
	ip.vip_intr = 1;
	ip.vip_vcpu_id = 9;
	CHECK(hc(BVMM_OP_INTR, &ip) == BVMM_ENOENT, "intr-enoent", L"");
	CHECK(hc(BVMM_OP_INTR, (void *)0x00007fff00000000ull) == BVMM_EFAULT, "intr-efault", L"");

	CHECK(readregs(vm, 0x20, &rs) == BVMM_EINVAL, "readregs-einval-mask", L"");
	CHECK(readregs(vm + 100, 1, &rs) == BVMM_ENOENT, "readregs-enoent", L"");
	CHECK(hc(BVMM_OP_READREGS, (void *)0x00007fff00000000ull) == BVMM_EFAULT, "readregs-efault", L"");
	struct vcpu_reg_state before;
	readregs(vm, VM_RWREGS_ALL, &before);
	rs = before;
	CHECK(writeregs(vm, 0x40, &rs) == BVMM_EINVAL, "writeregs-einval-mask", L"");
	rs.vrs_crs[VCPU_REGS_CR4] = 1ull << 12;   /* LA57 */
	CHECK(writeregs(vm, VM_RWREGS_CRS, &rs) == BVMM_EINVAL, "writeregs-einval-state", L"");
	readregs(vm, VM_RWREGS_ALL, &rs);
	CHECK(!CompareMem(&rs, &before, sizeof rs), "writeregs-einval-changes-nothing",
	      L"cr4 %lx", rs.vrs_crs[VCPU_REGS_CR4]);
	rs = good;
	rs.vrs_gprs[VCPU_REGS_RSI] = 0xabcdef;
	e = writeregs(vm, VM_RWREGS_GPRS, &rs);
	readregs(vm, VM_RWREGS_GPRS, &rs);
	CHECK(!e && rs.vrs_gprs[VCPU_REGS_RSI] == 0xabcdef, "writeregs-readregs-roundtrip", L"%ld", e);

	struct vm_rwvmparams_params vp = { .vpp_vm_id = vm, .vpp_mask = 0x10 };
	CHECK(hc(BVMM_OP_READVMPARAMS, &vp) == BVMM_EINVAL, "readvmparams-einval-mask", L"");
	CHECK(hc(BVMM_OP_WRITEVMPARAMS, &vp) == BVMM_EINVAL, "writevmparams-einval-mask", L"");
	vp = (struct vm_rwvmparams_params){ .vpp_vm_id = vm, .vpp_mask = VM_RWVMPARAMS_PVCLOCK_SYSTEM_GPA,
					    .vpp_pvclock_system_gpa = 0x10000001 };
	CHECK(hc(BVMM_OP_WRITEVMPARAMS, &vp) == BVMM_EINVAL, "writevmparams-einval-outside-ram", L"");
	vp.vpp_pvclock_system_gpa = 0x1ff1;   /* 32 bytes from 0x1ff0 cross a page */
	CHECK(hc(BVMM_OP_WRITEVMPARAMS, &vp) == BVMM_EINVAL, "writevmparams-einval-crosses-page", L"");
	vp = (struct vm_rwvmparams_params){ .vpp_vm_id = vm, .vpp_vcpu_id = 1, .vpp_mask = VM_RWVMPARAMS_ALL,
					    .vpp_pvclock_system_gpa = 0x5001, .vpp_pvclock_version = 6 };
	e = hc(BVMM_OP_WRITEVMPARAMS, &vp);
	struct vm_rwvmparams_params rv = { .vpp_vm_id = vm, .vpp_vcpu_id = 1, .vpp_mask = VM_RWVMPARAMS_ALL };
	uint64_t e2 = hc(BVMM_OP_READVMPARAMS, &rv);
	CHECK(!e && !e2 && rv.vpp_pvclock_system_gpa == 0x5001 && rv.vpp_pvclock_version == 6,
	      "writevmparams-roundtrip", L"%ld %ld %lx %d", e, e2, rv.vpp_pvclock_system_gpa, rv.vpp_pvclock_version);
	vp.vpp_vm_id = vm + 100;
	CHECK(hc(BVMM_OP_WRITEVMPARAMS, &vp) == BVMM_ENOENT, "writevmparams-enoent", L"");
	CHECK(hc(BVMM_OP_READVMPARAMS, &vp) == BVMM_ENOENT, "readvmparams-enoent", L"");
	CHECK(hc(BVMM_OP_WRITEVMPARAMS, (void *)0x00007fff00000000ull) == BVMM_EFAULT, "writevmparams-efault", L"");

	static const struct { const char *name; uint64_t gpa, size; int prot; } bad[] = {
		{ "mprotect-einval-prot-0", 0, 4096, 0 },
		{ "mprotect-einval-write-only", 0, 4096, PROT_WRITE },
		{ "mprotect-einval-write-exec", 0, 4096, PROT_WRITE | PROT_EXEC },
		{ "mprotect-einval-rwx", 0, 4096, 7 },
		{ "mprotect-einval-prot-bit-3", 0, 4096, 8 | PROT_READ },
		{ "mprotect-einval-unaligned", 0x800, 4096, PROT_READ },
		{ "mprotect-einval-zero-size", 0, 0, PROT_READ },
		{ "mprotect-einval-512g", 512ull << 30, 4096, PROT_READ },
		{ "mprotect-einval-wraps", 0xfffffffffffff000ull, 0x2000, PROT_READ },
		{ "mprotect-einval-mmio-window", 0xf0000000ull, 4096, PROT_READ },
		{ "mprotect-einval-outside-ram", 2 * MIB, 4096, PROT_READ },
		{ "mprotect-einval-partly-outside", MIB, 2 * MIB, PROT_READ },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e = mprotect(vm, 0, bad[i].gpa, bad[i].size, bad[i].prot);
		CHECK(e == BVMM_EINVAL, bad[i].name, L"errno %ld", e);
	}
	CHECK(mprotect(vm, 5, 0, 4096, PROT_READ) == BVMM_ENOENT, "mprotect-enoent", L"");
	CHECK(!mprotect(vm, 0, 0, 2 * MIB, PROT_EXEC), "mprotect-exec-only-accepted", L"");
	CHECK(hc(BVMM_OP_MPROTECT_EPT, (void *)0x00007fff00000000ull) == BVMM_EFAULT, "mprotect-efault", L"");
	CHECK(hc(BVMM_OP_TERM, (void *)0x00007fff00000000ull) == BVMM_EFAULT, "term-efault", L"");
	CHECK(hc(BVMM_OP_INFO, (void *)0x00007fff00000000ull) == BVMM_EFAULT, "info-param-efault", L"");
	CHECK(term(vm + 100) == BVMM_ENOENT, "term-enoent", L"");
	term(vm);
}

/* Pool bytes a VM costs: one vCPU, then two, with 2 MiB of memory. */
static void measure_pool(uint8_t *mem)
{
	uint64_t e, base = vmm_pool_free();
	uint32_t a = create("m1", mem, 2 * MIB, 1, &e);
	uint64_t one = base - vmm_pool_free();
	term(a);
	a = create("m2", mem, 2 * MIB, 2, &e);
	uint64_t two = base - vmm_pool_free();
	term(a);
	Print(L"METRIC pool-bytes-vm-1vcpu-2mib %ld\nMETRIC pool-bytes-per-extra-vcpu %ld\n", one, two - one);
	CHECK(one > 0 && two > one && vmm_pool_free() == base, "pool-accounting", L"%ld %ld", one, two);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	sc_init(image, systab, "s4-vmm");
	exit_codes_for_vendor();
	uint64_t baseline = vmm_pool_free();
	uint8_t *scratch = alloc_mem(4 * MIB);
	uint64_t pool = sc_find_pool(4 * MIB);
	CHECK(pool != 0, "pool-found", L"");
	check_create_errors(scratch, pool);
	check_real16();
	check_run_phys(pool);
	check_fetch_per_vm();
	check_two_vms();
	check_long64();
	check_triple();
	check_spin();
	check_mprotect_exec();
	check_errnos(scratch);
	measure_pool(scratch);
	check_enomem(scratch);
	CHECK(vmm_pool_free() == baseline, "every-pool-page-returned", L"free %lx baseline %lx", vmm_pool_free(), baseline);
	sc_finish();
}
