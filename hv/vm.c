/* VM and vCPU lifetime: CREATE's memory backing and nested map, TERM's teardown, the VM
 * table, per-VM pool accounting, guest-physical access (the pvclock is hv/pvclock.c). */
#include "vm.h"
#include "hv.h"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "validate.h"
#include "percpu.h"
#include "../arch/x86_64/cpu.h"

struct vm *vms[VMM_MAX_VCPUS];
static uint32_t next_vm_id = 1;
static uint32_t total_vcpus;

uint64_t vm_page_alloc(struct vm *vm)
{
	uint64_t pa = pool_alloc(1);
	if (pa)
		vm->pool_pages++;
	return pa;
}

void vm_page_free(struct vm *vm, uint64_t pa)
{
	pool_free(pa, 1);
	vm->pool_pages--;
}

static uint64_t npt_alloc(void *arg) { return vm_page_alloc(arg); }
static void npt_free(void *arg, uint64_t pa) { vm_page_free(arg, pa); }
static void *npt_va(void *arg, uint64_t pa) { (void)arg; return (void *)(uintptr_t)pa; }

struct vm *vm_find_scan(uint32_t id)
{
	for (unsigned i = 0; i < VMM_MAX_VCPUS; i++)
		if (vms[i] && vms[i]->id == id)
			return vms[i];
	return NULL;
}


int vm_gpa_in_ram(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return ranges_contain(vm->ranges, vm->nranges, gpa, len);
}

/* vm_gpa_to_hpa's miss: the memory ranges and the nested tables, then the cache entry. Out of
 * line, so that a hit saves no registers. */
static inline struct gpa_tlb_entry *gpa_tlb_slot(uint64_t gpa)
{
	return &this_cpu()->gpa_tlb[(gpa >> 12) & 7];
}

static __attribute__((noinline)) int gpa_to_hpa_walk(const struct vm *vm, uint64_t gpa, uint64_t len,
						     uint64_t *hpa)
{
	uint64_t size, flags;
	if (!vm_gpa_in_ram(vm, gpa, len) || pt_lookup(&vm->npt, gpa, hpa, &size, &flags))
		return BVMM_EFAULT;
	*gpa_tlb_slot(gpa) = (struct gpa_tlb_entry){ vm->id, gpa >> 12, *hpa & ~0xfffull };
	return 0;
}

int vm_gpa_to_hpa(const struct vm *vm, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	if ((gpa & 0xfff) + len > 4096)
		return BVMM_EFAULT;
	/* The last pages translated on this CPU (percpu.h): the caller's pages backing a VM
	 * are fixed at CREATE (MPROTECT_EPT changes permissions, not addresses). */
	const struct gpa_tlb_entry *t = gpa_tlb_slot(gpa);
	if (t->vm_id == vm->id && t->gpfn == gpa >> 12 && vm->id) {   /* ids start at 1 */
		*hpa = t->hpa + (gpa & 0xfff);
		return 0;
	}
	return gpa_to_hpa_walk(vm, gpa, len, hpa);
}

/* How many bytes from pa on are ordinary RAM of the control guest per the firmware memory
 * map, in pa's own map entry and before the pool (0 if pa is not): never the pool (reserved),
 * never MMIO, runtime services or ACPI memory. */
static uint64_t control_ram_run(uint64_t pa)
{
	static const struct mem_range *hint;
	const struct boot_info *bi = hv.bi;
	const struct mem_range *m = hint && pa >= hint->base && pa - hint->base < hint->size ? hint : NULL;
	for (uint32_t i = 0; !m && i < bi->nmem; i++) {
		const struct mem_range *r = &bi->mem[i];
		if (pa < r->base || pa - r->base >= r->size)
			continue;
		switch (r->type) {
		case EFI_MT_LOADER_CODE: case EFI_MT_LOADER_DATA: case EFI_MT_BS_CODE:
		case EFI_MT_BS_DATA: case EFI_MT_CONVENTIONAL:
			m = hint = r;
			break;
		default:
			return 0;
		}
	}
	if (!m || pool_overlaps(pa, 4096))
		return 0;
	uint64_t n = m->base + m->size - pa, lo = pool_lo;
	return lo > pa && lo - pa < n ? lo - pa : n;
}

/* Map one caller range into the VM: every page present in the caller's tables and ordinary
 * RAM; physically contiguous runs go in whole, so 2 MiB pages are used where they fit. */
static int back_range(struct vm *vm, struct gview *caller, const struct vm_mem_range *r)
{
	uint64_t run_gpa = r->vmr_gpa, run_hpa = 0, run_len = 0, n, ram_lo = 0, ram_end = 0;
	for (uint64_t off = 0; off < r->vmr_size; off += n) {
		/* One walk per leaf of the caller's tables (a 2 MiB page gives 512 pages at once),
		 * as far as its RAM goes; the memory map asked again only outside the last run. */
		uint64_t hpa, leaf, ram;
		if (gmem_translate_span(caller, r->vmr_va + off, 1, &hpa, &leaf))
			return BVMM_EINVAL;
		if (hpa >= ram_lo && hpa < ram_end) {
			ram = ram_end - hpa;
		} else {
			if (!(ram = control_ram_run(hpa)))
				return BVMM_EINVAL;
			ram_lo = hpa;
			ram_end = hpa + ram;
		}
		n = leaf < ram ? leaf : ram;
		if (n > r->vmr_size - off)
			n = r->vmr_size - off;
		n &= ~(uint64_t)4095;   /* whole pages (all of these are page multiples already) */
		if (!n)
			return BVMM_EINVAL;
		if (run_len && hpa == run_hpa + run_len) {
			run_len += n;
			continue;
		}
		if (run_len) {
			int e = pt_map(&vm->npt, run_gpa, run_hpa, run_len, vendor->npt_base |
				       vendor->npt_leaf | vendor->npt_write);
			if (e)
				return e;
		}
		run_gpa = r->vmr_gpa + off;
		run_hpa = hpa;
		run_len = n;
	}
	return pt_map(&vm->npt, run_gpa, run_hpa, run_len, vendor->npt_base | vendor->npt_leaf |
		      vendor->npt_write);
}

static void vm_free(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpus[i])
			continue;
		vendor->vcpu_fini(vm, vm->vcpus[i]);
		vm_page_free(vm, (uint64_t)(uintptr_t)vm->vcpus[i]);
	}
	pt_destroy(&vm->npt);
	if (vm->pool_pages != 1)
		log_err("vm %u: %lu pool pages unaccounted at TERM", vm->id, vm->pool_pages - 1);
	total_vcpus -= vm->ncpus;
	pool_free((uint64_t)(uintptr_t)vm, 1);
}

_Static_assert(sizeof(struct vm) <= 4096, "struct vm fits a page");

/* The name as the log shows it: control characters become '?', so a name cannot forge log
 * lines. */
static const char *printable(const char *name)
{
	static char buf[VMM_MAX_NAME_LEN];
	unsigned i;
	for (i = 0; i < VMM_MAX_NAME_LEN - 1 && name[i]; i++)
		buf[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	buf[i] = 0;
	return buf;
}
_Static_assert(sizeof(struct vcpu) <= 4096, "struct vcpu fits a page");

/*
 * CREATE after validate_create(): allocate the VM, back its memory by the caller's pages,
 * create its vCPUs. Returns 0 with *id set; EINVAL (a backing page absent or not ordinary
 * RAM), ENOMEM (pool exhausted), ENOSPC (VMM_MAX_VCPUS reached, or VM ids used up). Changes nothing on error.
 */
int vm_create(const struct vm_create_params *p, struct gview *caller, uint32_t *id)
{
	unsigned slot;
	if (total_vcpus + p->vcp_ncpus > VMM_MAX_VCPUS || next_vm_id == 0)
		return BVMM_ENOSPC;   /* ids are never reused: after 2^32 - 1 VMs, no more */
	/* Slot id % VMM_MAX_VCPUS when free (vm_find looks there first), else the first free. */
	slot = next_vm_id % VMM_MAX_VCPUS;
	if (vms[slot])
		for (slot = 0; slot < VMM_MAX_VCPUS && vms[slot]; slot++)
			;
	uint64_t pa = pool_alloc(1);
	if (!pa)
		return BVMM_ENOMEM;
	struct vm *vm = (struct vm *)(uintptr_t)pa;
	vm->pool_pages = 1;
	vm->ncpus = 0;
	vm->nranges = (uint32_t)p->vcp_nmemranges;
	for (uint32_t i = 0; i < vm->nranges; i++) {
		vm->ranges[i] = (struct mem_slot){ p->vcp_memranges[i].vmr_gpa, p->vcp_memranges[i].vmr_size };
		vm->mem_size += p->vcp_memranges[i].vmr_size;
	}
	memcpy(vm->name, p->vcp_name, VMM_MAX_NAME_LEN - 1);
	vm->name[VMM_MAX_NAME_LEN - 1] = 0;

	vm->npt = (struct pt_ctx){ .alloc = npt_alloc, .free = npt_free, .pa2va = npt_va, .arg = vm,
				   .table_flags = vendor->npt_base | vendor->npt_write, .max_leaf_level = 2,
				   .present = vendor->npt_present };
	int err = pt_init(&vm->npt);
	for (uint32_t i = 0; !err && i < vm->nranges; i++)
		err = back_range(vm, caller, &p->vcp_memranges[i]);
	for (uint32_t i = 0; !err && i < p->vcp_ncpus; i++) {
		uint64_t vpa = vm_page_alloc(vm);
		if (!vpa) {
			err = BVMM_ENOMEM;
			break;
		}
		struct vcpu *vc = (struct vcpu *)(uintptr_t)vpa;
		vc->id = i;
		vc->exit_regs = VM_RWREGS_ALL;   /* vmm(4): every exit carries all of vrs */
		vm->vcpus[i] = vc;
		vm->ncpus = i + 1;
		err = vendor->vcpu_init(vm, vc);
		if (err)
			vm->vcpus[i] = NULL, vm_page_free(vm, vpa);
	}
	total_vcpus += vm->ncpus;
	if (err) {
		vm_free(vm);
		return err;
	}
	vm->id = next_vm_id++;
	vm->epoch_tsc = rdtsc();
	vms[slot] = vm;
	*id = vm->id;
	log_info("vm %u \"%s\" created: %lu MiB in %u ranges, %u vCPUs, %lu pool pages", vm->id,
		 printable(vm->name), vm->mem_size >> 20, vm->nranges, vm->ncpus, vm->pool_pages);
	return 0;
}

/* TERM, first half: take the VM out of the table (no call finds it any more) and mark it
 * dying. NULL for an unknown id. */
struct vm *vm_detach(uint32_t id)
{
	for (unsigned i = 0; i < VMM_MAX_VCPUS; i++) {
		if (!vms[i] || vms[i]->id != id)
			continue;
		struct vm *vm = vms[i];
		vms[i] = NULL;
		__atomic_store_n(&vm->dying, 1, __ATOMIC_SEQ_CST);
		return vm;
	}
	return NULL;
}

/* TERM, second half, once none of its vCPUs runs: free the VM and every pool page it took. */
void vm_destroy(struct vm *vm)
{
	log_info("vm %u \"%s\" terminated: %lu pool pages returned", vm->id,
		 printable(vm->name), vm->pool_pages);
	vm_free(vm);
}

void vcpu_poweron_state(struct vcpu_reg_state *rs)
{
	memset(rs, 0, sizeof *rs);
	rs->vrs_gprs[VCPU_REGS_RIP] = 0xfff0;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;
	rs->vrs_crs[VCPU_REGS_CR0] = 0x60000010;
	rs->vrs_crs[VCPU_REGS_XCR0] = 1;
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		rs->vrs_sregs[i] = (struct vcpu_segment_info){ 0, 0xffff, 0x93, 0 };
	rs->vrs_sregs[VCPU_REGS_CS] = (struct vcpu_segment_info){ 0xf000, 0xffff, 0x9b, 0xffff0000 };
	rs->vrs_sregs[VCPU_REGS_LDTR].vsi_ar = 0x82;
	rs->vrs_sregs[VCPU_REGS_TR].vsi_ar = 0x8b;
	rs->vrs_gdtr.vsi_limit = 0xffff;
	rs->vrs_idtr.vsi_limit = 0xffff;
	rs->vrs_drs[VCPU_REGS_DR6] = 0xffff0ff0;
	rs->vrs_drs[VCPU_REGS_DR7] = 0x400;
}
