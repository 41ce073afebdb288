/* bvmm.efi: read the configuration, check the CPU, take the pool, build the hypervisor's
 * host environment in it, launch (the firmware resumes as the control guest), then load and
 * start the control image. Uses UEFI boot services only before and after the launch instant,
 * never from the hypervisor. */
#include <efi.h>
#include <efilib.h>
#include "config.h"
#include "../hv/bootinfo.h"
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/desc.h"
#include "../arch/x86_64/pt.h"

#define LOG(fmt, ...) Print(L"bvmm: " fmt L"\n", ##__VA_ARGS__)

extern uint8_t hv_image_start[], hv_image_end[];
uint64_t bvmm_launch(struct boot_info *bi, uint64_t entry, uint64_t host_cr3, uint64_t host_rsp,
		     struct boot_cpu_state *st);
void launch_abort(struct boot_cpu_state *st, uint64_t err);
uint64_t bvmm_loader_call(uint64_t op, int intel);

struct cpu_caps { int has_1g, has_nx; };

/* NULL if the CPU can run bvmm, else why not. */
/* Intel VMX with what bvmm needs: secondary controls with EPT and unrestricted guest (real-mode
 * children, the firmware's own real-mode moments), VMX not locked off, not in use. */
static const CHAR16 *vmx_check(void)
{
	uint64_t fc = rdmsr(0x3a);
	if ((fc & 1) && !(fc & 4))
		return L"Intel VMX is disabled by the firmware (IA32_FEATURE_CONTROL locked without "
		       L"VMX): enable virtualization in the setup";
	if (read_cr4() & (1ull << 13))
		return L"Intel VMX is already in use (CR4.VMXE is set): another hypervisor runs";
	if (!(rdmsr(0x482) >> 63))
		return L"this CPU has Intel VMX but no secondary processor-based controls";
	uint64_t p2 = rdmsr(0x48b) >> 32;
	if (!(p2 & (1u << 1)))
		return L"this CPU has Intel VMX but no EPT";
	if (!(p2 & (1u << 7)))
		return L"this CPU has Intel VMX with EPT but without unrestricted guest";
	return NULL;
}

static const CHAR16 *svm_check(void)
{
	if (!(cpuid(0x8000000a, 0).edx & CPUID_8000000A_EDX_NP))
		return L"this CPU has AMD SVM but no nested paging (NPT)";
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
		return L"AMD SVM is disabled by the firmware (VM_CR.SVMDIS): enable it in the setup";
	if (rdmsr(MSR_EFER) & EFER_SVME)
		return L"AMD SVM is already in use (EFER.SVME is set): another hypervisor runs";
	return NULL;
}

static const CHAR16 *cpu_check(struct cpu_caps *caps)
{
	uint32_t max_ext = cpuid(0x80000000, 0).eax;
	int svm = max_ext >= 0x8000000a && (cpuid(0x80000001, 0).ecx & CPUID_80000001_ECX_SVM);
	int vmx = !!(cpuid(1, 0).ecx & CPUID1_ECX_VMX);
	if (!svm && !vmx)
		return L"this CPU has neither AMD SVM nor Intel VMX";
	const CHAR16 *why = svm ? svm_check() : vmx_check();
	if (why)
		return why;
	uint32_t edx = cpuid(0x80000001, 0).edx;
	caps->has_1g = !!(edx & CPUID_80000001_EDX_PDPE1GB);
	caps->has_nx = !!(edx & CPUID_80000001_EDX_NX);
	return NULL;
}

/* EFI_MP_SERVICES_PROTOCOL (PI spec vol. 2, 13.4), which gnu-efi does not define. */
typedef void (EFIAPI *ap_procedure)(void *arg);
struct processor_info {
	UINT64 processor_id;    /* the local APIC ID */
	UINT32 status_flag;     /* bit 0 BSP, bit 1 enabled, bit 2 healthy */
	UINT32 location[3];
	UINT32 extended[6];     /* PI 1.7 ExtendedInformation: room for it, unused */
};
#define MP_STATUS_BSP     1u
#define MP_STATUS_ENABLED 2u
struct mp_services {
	EFI_STATUS (EFIAPI *get_number_of_processors)(struct mp_services *self, UINTN *total,
						      UINTN *enabled);
	EFI_STATUS (EFIAPI *get_processor_info)(struct mp_services *self, UINTN n,
						struct processor_info *info);
	EFI_STATUS (EFIAPI *startup_all_aps)(struct mp_services *self, ap_procedure proc,
					     BOOLEAN single_thread, EFI_EVENT wait, UINTN timeout_us,
					     void *arg, UINTN **failed);
	EFI_STATUS (EFIAPI *startup_this_ap)(struct mp_services *self, ap_procedure proc, UINTN n,
					     EFI_EVENT wait, UINTN timeout_us, void *arg,
					     BOOLEAN *finished);
	void *switch_bsp, *enable_disable_ap;
	EFI_STATUS (EFIAPI *whoami)(struct mp_services *self, UINTN *n);
};
static EFI_GUID mp_services_guid = { 0x3fdda605, 0xa76e, 0x4f46,
				     { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } };

/* The CPUs the firmware runs, by its processor numbers (which become bvmm's CPU indices):
 * their APIC IDs, and which one this is. Without MP services: this CPU alone. */
static struct mp_services *mp;

static EFI_STATUS cpu_inventory(struct boot_info *bi)
{
	UINTN total = 1, enabled = 1, me = 0;
	struct processor_info info;
	if (EFI_ERROR(LibLocateProtocol(&mp_services_guid, (void **)&mp)) ||
	    EFI_ERROR(mp->get_number_of_processors(mp, &total, &enabled)) ||
	    EFI_ERROR(mp->whoami(mp, &me))) {
		mp = NULL;
		bi->ncpus = 1;
		bi->boot_cpu = 0;
		bi->apic_id[0] = cpuid(1, 0).ebx >> 24;
		return EFI_SUCCESS;
	}
	if (total > HV_MAX_CPUS) {
		LOG(L"not starting: %d CPUs, bvmm runs at most %d", total, HV_MAX_CPUS);
		return EFI_UNSUPPORTED;
	}
	bi->ncpus = (uint32_t)total;
	bi->boot_cpu = (uint32_t)me;
	for (UINTN i = 0; i < total; i++) {
		SetMem(&info, sizeof info, 0);
		if (EFI_ERROR(mp->get_processor_info(mp, i, &info)))
			return EFI_DEVICE_ERROR;
		bi->apic_id[i] = (uint32_t)info.processor_id;
		if (!(info.status_flag & MP_STATUS_ENABLED))
			LOG(L"CPU %d (APIC %d) is disabled by the firmware: it stays off", i,
			    info.processor_id);
	}
	return EFI_SUCCESS;
}

/* ---- the APs ---- */

static void capture_cpu(struct boot_cpu_state *st);

/* What each AP procedure (run by MP services on that AP) reports to the boot CPU. */
static struct {
	struct boot_info *bi;          /* in the pool: only an AP about to launch (still native)
					* may touch it; the boot CPU, in guest mode, may not */
	uint32_t ncpus, boot_cpu, apic_id[HV_MAX_CPUS];   /* copies the boot CPU can read */
	uint64_t entry;
	int has_nx, intel;
	uint64_t err[HV_MAX_CPUS];     /* 0: launched */
	uint64_t ticks[HV_MAX_CPUS];   /* TSC ticks of its launch */
	uint32_t launched[HV_MAX_CPUS];
	const CHAR16 *why[HV_MAX_CPUS];   /* the AP cannot run bvmm: why */
} aps;

/* The checks cpu_check made on the boot CPU, on an AP, natively (before anything launched):
 * firmware setups can differ per CPU (SVM disabled on some, a hypervisor left on one). */
static void EFIAPI ap_check(void *arg)
{
	(void)arg;
	UINTN me;
	struct cpu_caps caps;
	if (EFI_ERROR(mp->whoami(mp, &me)) || me >= HV_MAX_CPUS)
		return;
	aps.why[me] = cpu_check(&caps);
	if (!aps.why[me] && (caps.has_nx != aps.has_nx))
		aps.why[me] = L"its NX support differs from the boot CPU's";
}

/* Launch this AP: its firmware state at this instant becomes its control-guest state (as the
 * boot CPU's did), on its own host stack slot. */
static void EFIAPI ap_launch(void *arg)
{
	(void)arg;
	UINTN me;
	if (EFI_ERROR(mp->whoami(mp, &me)) || me >= HV_MAX_CPUS)
		return;
	struct boot_info *bi = aps.bi;
	capture_cpu(&bi->ap_state[me]);
	if (aps.has_nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	uint64_t t = rdtsc();
	aps.err[me] = bvmm_launch(bi, aps.entry, bi->host_cr3, HV_STACK_TOP(me), &bi->ap_state[me]);
	aps.ticks[me] = rdtsc() - t;
	aps.launched[me] = !aps.err[me];
}

static void EFIAPI ap_devirt(void *arg)
{
	(void)arg;
	bvmm_loader_call(HV_OP_LOADER_DEVIRT, aps.intel);
}

/* Every AP natively can run bvmm: EFI_SUCCESS, or the first reason one cannot. */
static EFI_STATUS check_aps(const struct boot_info *bi)
{
	if (!mp || bi->ncpus == 1)
		return EFI_SUCCESS;
	EFI_STATUS st = mp->startup_all_aps(mp, ap_check, FALSE, NULL, 5000000, NULL, NULL);
	if (EFI_ERROR(st) && st != EFI_NOT_STARTED) {
		LOG(L"not starting: the APs did not run the CPU check: %r", st);
		return st;
	}
	for (uint32_t i = 0; i < bi->ncpus; i++)
		if (aps.why[i]) {
			LOG(L"not starting: CPU %d: %s", i, aps.why[i]);
			return EFI_UNSUPPORTED;
		}
	return EFI_SUCCESS;
}

/* After the boot CPU: every enabled AP, one at a time. All launched, or none left: an AP that
 * fails (or a firmware error) undoes the launch on every CPU already virtualized. */
static EFI_STATUS launch_aps(void)
{
	if (!mp || aps.ncpus == 1)
		return EFI_SUCCESS;
	EFI_STATUS st = mp->startup_all_aps(mp, ap_launch, TRUE, NULL, 10000000, NULL, NULL);
	if (st == EFI_NOT_STARTED)
		st = EFI_SUCCESS;   /* no enabled AP */
	uint32_t bad = aps.ncpus;
	for (uint32_t i = 0; i < aps.ncpus; i++) {
		if (i == aps.boot_cpu)
			continue;
		if (aps.err[i] && bad == aps.ncpus)
			bad = i;
		if (aps.launched[i])
			LOG(L"CPU %d (APIC %d) launched in %ld TSC ticks", i, aps.apic_id[i], aps.ticks[i]);
	}
	if (!EFI_ERROR(st) && bad == aps.ncpus)
		return EFI_SUCCESS;
	if (bad < aps.ncpus)
		LOG(L"CPU %d failed to launch (errno %ld): undoing the launch on every CPU", bad,
		    aps.err[bad]);
	else
		LOG(L"MP services failed (%r): undoing the launch on every CPU", st);
	for (uint32_t i = 0; i < aps.ncpus; i++)
		if (aps.launched[i]) {
			BOOLEAN fin = FALSE;
			EFI_STATUS d = mp->startup_this_ap(mp, ap_devirt, i, NULL, 5000000, NULL, &fin);
			if (EFI_ERROR(d))
				LOG(L"CPU %d: undoing its launch failed: %r", i, d);
			else
				aps.launched[i] = 0;
		}
	bvmm_loader_call(HV_OP_LOADER_DEVIRT, aps.intel);
	return EFI_ABORTED;
}

/* ---- files and paths ---- */

static CHAR16 *ascii_to_wide(const char *s)
{
	UINTN n = 0;
	while (s[n])
		n++;
	CHAR16 *w = AllocatePool((n + 1) * sizeof(CHAR16));
	if (w) {
		for (UINTN i = 0; i <= n; i++)
			w[i] = s[i] == '/' ? L'\\' : (CHAR16)(uint8_t)s[i];
	}
	return w;
}

/* The directory of this image ("\EFI\BOOT\"), from its file path. */
static CHAR16 *image_dir(EFI_LOADED_IMAGE *li)
{
	CHAR16 *p = DevicePathToStr(li->FilePath);
	if (!p)
		return NULL;
	UINTN cut = 0;
	for (UINTN i = 0; p[i]; i++)
		if (p[i] == L'\\' || p[i] == L'/')
			cut = i + 1;
	p[cut] = 0;
	return p;
}

/* An absolute path (leading '\') as it is, else relative to dir. */
static CHAR16 *resolve(const CHAR16 *dir, const char *path)
{
	CHAR16 *w = ascii_to_wide(path);
	if (!w || w[0] == L'\\')
		return w;
	CHAR16 *full = PoolPrint(L"%s%s", dir, w);
	FreePool(w);
	return full;
}

static EFI_STATUS read_file(EFI_HANDLE dev, const CHAR16 *path, char **data, UINTN *len)
{
	EFI_FILE_HANDLE root = LibOpenRoot(dev), fh;
	if (!root)
		return EFI_NOT_FOUND;
	EFI_STATUS st = uefi_call_wrapper(root->Open, 5, root, &fh, (CHAR16 *)path,
					  EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	EFI_FILE_INFO *info = LibFileInfo(fh);
	st = EFI_OUT_OF_RESOURCES;
	if (info && (*data = AllocatePool(info->FileSize + 1))) {
		*len = info->FileSize;
		st = uefi_call_wrapper(fh->Read, 3, fh, len, *data);
		(*data)[*len] = 0;
	}
	if (info)
		FreePool(info);
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}

/* ---- configuration ---- */

static void load_config(EFI_LOADED_IMAGE *li, const CHAR16 *dir, struct bvmm_config *cfg)
{
	char *text, opts[CONFIG_ARGS_MAX + CONFIG_PATH_MAX];
	UINTN len;
	CHAR16 *path = PoolPrint(L"%sbvmm.conf", dir);

	config_defaults(cfg);
	if (path && !EFI_ERROR(read_file(li->DeviceHandle, path, &text, &len))) {
		if (config_parse_file(cfg, text, len))
			LOG(L"%s: %a (bad lines ignored)", path, cfg->error);
		FreePool(text);
	}
	if (path)
		FreePool(path);

	/* Load options are UCS-2 text from the shell or a boot entry; anything else (a boot
	 * manager's binary optional data) is not ours to parse. */
	UINTN n = li->LoadOptionsSize / sizeof(CHAR16), k = 0;
	CHAR16 *o = li->LoadOptions;
	for (; o && k < n && k < sizeof opts - 1 && o[k]; k++) {
		if (o[k] > 0x7e || (o[k] < 0x20 && o[k] != L'\t'))
			return;
		opts[k] = (char)o[k];
	}
	opts[k] = 0;
	cfg->error[0] = 0;
	if (config_parse_options(cfg, opts, k))
		LOG(L"load options: %a (ignored)", cfg->error);
}

/* ---- the pool and the host environment ---- */

struct bump { uint64_t base, next, end; };

static uint64_t bump_alloc(void *arg)
{
	struct bump *b = arg;
	if (b->next + 4096 > b->end)
		return 0;
	uint64_t pa = b->next;
	b->next += 4096;
	SetMem((void *)(uintptr_t)pa, 4096, 0);
	return pa;
}

static void *identity(void *arg, uint64_t pa)
{
	(void)arg;
	return (void *)(uintptr_t)pa;
}

/* Reserve the pool, 2 MiB aligned so the nested map around it needs no 4 KiB tables. */
static EFI_STATUS alloc_pool(uint64_t size, uint64_t *base)
{
	EFI_PHYSICAL_ADDRESS a = 0;
	UINTN pages = (size + SZ_2M) / 4096;
	EFI_STATUS st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
					  EfiReservedMemoryType, pages, &a);
	if (EFI_ERROR(st))
		return st;
	uint64_t aligned = (a + SZ_2M - 1) & ~(SZ_2M - 1);
	if (aligned > a)
		uefi_call_wrapper(BS->FreePages, 2, a, (aligned - a) / 4096);
	if (a + pages * 4096 > aligned + size)
		uefi_call_wrapper(BS->FreePages, 2, aligned + size, (a + pages * 4096 - aligned - size) / 4096);
	*base = aligned;
	return EFI_SUCCESS;
}

/* Copy the firmware memory map into the boot info (adjacent same-type ranges merged). */
static EFI_STATUS capture_memmap(struct boot_info *bi)
{
	UINTN n, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&n, &key, &dsize, &dver);
	if (!map)
		return EFI_OUT_OF_RESOURCES;
	uint64_t top = 4ull << 30;
	bi->nmem = 0;
	for (UINTN i = 0; i < n; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((uint8_t *)map + i * dsize);
		uint64_t end = d->PhysicalStart + d->NumberOfPages * 4096;
		struct mem_range *last = bi->nmem ? &bi->mem[bi->nmem - 1] : NULL;
		if (end > top)
			top = end;
		if (last && last->type == d->Type && last->base + last->size == d->PhysicalStart) {
			last->size += d->NumberOfPages * 4096;
			continue;
		}
		if (bi->nmem == BOOTINFO_MAX_MEM) {
			FreePool(map);
			return EFI_BUFFER_TOO_SMALL;
		}
		bi->mem[bi->nmem++] = (struct mem_range){ d->PhysicalStart, d->NumberOfPages * 4096,
							  d->Type, 0 };
	}
	FreePool(map);
	bi->phys_top = (top + SZ_1G - 1) & ~(SZ_1G - 1);
	return EFI_SUCCESS;
}

/* Host page tables: physical memory 1:1 below phys_top, and the image (text read-only, data
 * no-execute), a guard page and the stack at HV_BASE. */
static EFI_STATUS build_host(struct boot_info *bi, struct bump *b, const struct hv_header *h,
			     const struct cpu_caps *caps)
{
	uint64_t nx = caps->has_nx ? PTE_NX : 0;
	struct pt_ctx pt = { .alloc = bump_alloc, .pa2va = identity, .arg = b,
			     .table_flags = PTE_RW, .max_leaf_level = caps->has_1g ? 3 : 2 };
	int r = pt_init(&pt);
	if (!r)
		r = pt_map(&pt, 0, 0, bi->phys_top, PTE_RW);
	/* ECAM where the memory map does not reach: mapped uncached, so that the hypervisor can
	 * replay the control guest's configuration writes there (arch/x86_64/pcicfg.c). */
	uint64_t ecam_end = bi->ecam_base + bi->ecam_size;
	if (!r && bi->ecam_size && ecam_end > bi->phys_top) {
		uint64_t from = bi->ecam_base > bi->phys_top ? bi->ecam_base : bi->phys_top;
		r = pt_map(&pt, from, from, ecam_end - from, PTE_RW | PTE_PCD | PTE_PWT | nx);
	}
	if (!r)
		r = pt_map(&pt, HV_BASE, bi->image_pa, h->text_end, 0);
	if (!r)
		r = pt_map(&pt, HV_BASE + h->text_end, bi->image_pa + h->text_end,
			   h->mem_size - h->text_end, PTE_RW | nx);
	/* Each CPU's slot (hv/bootinfo.h): its stack and IST stacks, guard pages between. */
	for (uint32_t i = 0; !r && i < bi->ncpus; i++) {
		uint64_t pa = b->next;
		b->next += HV_CPU_PAGES * 4096;
		r = pt_map(&pt, HV_STACK_BOTTOM(i), pa, HV_STACK_PAGES * 4096, PTE_RW | nx);
		for (unsigned k = 0; !r && k < 3; k++)
			r = pt_map(&pt, HV_IST_TOP(i, k) - 4096, pa + (HV_STACK_PAGES + k) * 4096, 4096,
				   PTE_RW | nx);
	}
	if (b->next > b->end)
		r = -1;
	if (r)
		return EFI_OUT_OF_RESOURCES;
	bi->host_cr3 = pt.root;
	bi->host_tables = pt.tables;
	return EFI_SUCCESS;
}

struct dtr { uint16_t limit; uint64_t base; } __attribute__((packed));

static void capture_seg(struct seg_state *s, uint16_t sel, const struct dtr *gdt)
{
	uint64_t d = 0;
	s->sel = sel;
	if ((sel & ~7u) && (sel | 7u) <= gdt->limit && !(sel & 4))
		d = ((const uint64_t *)(uintptr_t)gdt->base)[sel >> 3];
	s->attrib = seg_attrib_from_desc(d);
	s->limit = seg_limit_from_desc(d);
	s->base = seg_base_from_desc(d);
}

/* The firmware's state that stays put until the launch instant (launch.S takes the rest). */
static void capture_cpu(struct boot_cpu_state *st)
{
	struct dtr gdt, idt;
	uint16_t cs, ss, ds, es;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdt), "=m"(idt));
	__asm__ volatile("mov %%cs, %0; mov %%ss, %1; mov %%ds, %2; mov %%es, %3"
			 : "=r"(cs), "=r"(ss), "=r"(ds), "=r"(es));
	st->cr0 = read_cr0();
	st->cr2 = read_cr2();
	st->cr3 = read_cr3();
	st->cr4 = read_cr4();
	st->efer = rdmsr(MSR_EFER);
	st->pat = rdmsr(MSR_PAT);
	capture_seg(&st->cs, cs, &gdt);
	capture_seg(&st->ss, ss, &gdt);
	capture_seg(&st->ds, ds, &gdt);
	capture_seg(&st->es, es, &gdt);
	st->gdtr_base = gdt.base;
	st->gdtr_limit = gdt.limit;
	st->idtr_base = idt.base;
	st->idtr_limit = idt.limit;
}

static uint16_t log_port(enum log_target t)
{
	static const uint16_t ports[] = { 0, 0x3f8, 0x2f8, 0xe9 };
	return ports[t];
}

/* Everything up to and including the launch; EFI_SUCCESS means we now run as a guest. */
/* 10 ms of Stall against the TSC: the rate pvclock scales by. */
static uint64_t tsc_rate(void)
{
	uint64_t t = rdtsc();
	uefi_call_wrapper(BS->Stall, 1, 10000);
	return (rdtsc() - t) * 100;
}

/* ACPI (6.x, 5.2.5-5.2.7) and PCI Firmware 3.2 (4.1.2 MCFG): the RSDP from the EFI
 * configuration table, the XSDT, the MCFG's first allocation for segment 0. */
static EFI_GUID acpi20_guid = { 0x8868e871, 0xe4f1, 0x11d3,
				{ 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 } };

static int acpi_sum_ok(const uint8_t *t, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	return sum == 0;
}

static void find_ecam(struct boot_info *bi)
{
	const uint8_t *rsdp = NULL;
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
		if (!CompareMem(&ST->ConfigurationTable[i].VendorGuid, &acpi20_guid, sizeof acpi20_guid))
			rsdp = ST->ConfigurationTable[i].VendorTable;
	if (!rsdp || CompareMem(rsdp, "RSD PTR ", 8) || rsdp[15] < 2)
		return;
	const uint8_t *xsdt = (const uint8_t *)(uintptr_t)*(const uint64_t *)(rsdp + 24);
	if (!xsdt || CompareMem(xsdt, "XSDT", 4))
		return;
	uint32_t len = *(const uint32_t *)(xsdt + 4);
	if (len > 65536 || !acpi_sum_ok(xsdt, len))
		return;
	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)*(const uint64_t *)(xsdt + off);
		if (!t || CompareMem(t, "MCFG", 4))
			continue;
		uint32_t tlen = *(const uint32_t *)(t + 4);
		if (tlen > 65536 || !acpi_sum_ok(t, tlen))
			continue;
		for (uint32_t e = 44; e + 16 <= tlen; e += 16) {
			const uint8_t *a = t + e;
			if (*(const uint16_t *)(a + 8) != 0 || a[11] < a[10])
				continue;   /* other PCI segments are not reachable through 0xCF8 */
			bi->ecam_bus0 = a[10];
			bi->ecam_base = *(const uint64_t *)a + ((uint64_t)a[10] << 20);
			bi->ecam_size = (uint64_t)(a[11] - a[10] + 1) << 20;
			/* Whole pages (PCIe puts it on a 1 MiB boundary; a table that does not is
			 * rounded outward): the hypervisor write-protects and refuses it by page. */
			uint64_t end = (bi->ecam_base + bi->ecam_size + 0xfff) & ~0xfffull;
			bi->ecam_base &= ~0xfffull;
			bi->ecam_size = end - bi->ecam_base;
			return;
		}
	}
}

/* The start of the pool: the hypervisor image (its .bss zeroed), then the boot info. */
static struct boot_info *place_image(const struct bvmm_config *cfg, const struct hv_header *h,
				     struct bump *b)
{
	uint64_t image_pa = b->next;
	b->next += h->mem_size;
	struct boot_info *bi = (void *)(uintptr_t)b->next;
	b->next += (sizeof *bi + 4095) & ~4095ull;
	SetMem(bi, sizeof *bi, 0);
	CopyMem((void *)(uintptr_t)image_pa, h, h->file_size);
	SetMem((void *)(uintptr_t)(image_pa + h->file_size), h->mem_size - h->file_size, 0);
	bi->magic = BOOTINFO_MAGIC;
	bi->pool_base = b->base;
	bi->pool_size = cfg->pool_size;
	bi->image_pa = image_pa;
	bi->log_port = log_port(cfg->log);
	bi->log_level = cfg->log_level;
	bi->test_flags = cfg->test_flags;
	bi->tsc_hz = tsc_rate();
	bi->abort_rip = (uint64_t)(uintptr_t)launch_abort;
	find_ecam(bi);
	return bi;
}

static EFI_STATUS launch(const struct bvmm_config *cfg, const struct cpu_caps *caps)
{
	const struct hv_header *h = (const void *)hv_image_start;
	uint64_t image_bytes = (uint64_t)(hv_image_end - hv_image_start), base;
	if (h->magic != HV_HEADER_MAGIC || h->file_size > image_bytes || h->mem_size > HV_IMAGE_MAX) {
		LOG(L"the embedded hypervisor image is damaged");
		return EFI_LOAD_ERROR;
	}
	EFI_STATUS st = alloc_pool(cfg->pool_size, &base);
	if (EFI_ERROR(st)) {
		LOG(L"cannot reserve a %ld MiB pool: %r", cfg->pool_size >> 20, st);
		return st;
	}
	struct bump b = { base, base, base + cfg->pool_size };
	struct boot_info *bi = place_image(cfg, h, &b);
	st = cpu_inventory(bi);
	if (!EFI_ERROR(st) && bi->ncpus > 1 && !(cpuid(0x80000001, 0).ecx & CPUID_80000001_ECX_SVM)) {
		LOG(L"not starting: %d CPUs; on Intel VMX bvmm virtualizes one CPU only so far, and "
		    L"an OS would start the others outside guest mode. Boot with one CPU.", bi->ncpus);
		st = EFI_UNSUPPORTED;
	}
	aps.bi = bi;
	aps.ncpus = bi->ncpus;
	aps.boot_cpu = bi->boot_cpu;
	CopyMem(aps.apic_id, bi->apic_id, sizeof aps.apic_id);
	aps.entry = h->ap_entry;
	aps.has_nx = caps->has_nx;
	aps.intel = !(cpuid(0x80000001, 0).ecx & CPUID_80000001_ECX_SVM);
	if (!EFI_ERROR(st))
		st = check_aps(bi);
	if (!EFI_ERROR(st))
		st = capture_memmap(bi);
	if (!EFI_ERROR(st))
		st = build_host(bi, &b, h, caps);
	if (EFI_ERROR(st)) {
		LOG(L"cannot prepare the hypervisor: %r", st);
		uefi_call_wrapper(BS->FreePages, 2, base, cfg->pool_size / 4096);
		return st;
	}
	bi->pool_used = b.next - base;
	LOG(L"pool %lx-%lx (%ld MiB), log %a; launching", base, base + cfg->pool_size - 1,
	    cfg->pool_size >> 20, config_log_name(cfg->log));

	capture_cpu(&bi->guest);
	if (caps->has_nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);   /* host NX; the guest keeps its EFER */
	uint64_t t_launch = rdtsc();
	uint64_t err = bvmm_launch(bi, h->entry, bi->host_cr3, HV_STACK_TOP(bi->boot_cpu), &bi->guest);
	t_launch = rdtsc() - t_launch;
	if (err) {
		LOG(L"launch failed (errno %ld): the firmware continues without bvmm", err);
		uefi_call_wrapper(BS->FreePages, 2, base, cfg->pool_size / 4096);
		return EFI_LOAD_ERROR;
	}
	LOG(L"launch instant %ld TSC ticks (bvmm_launch to resuming as the control guest)", t_launch);
	if (EFI_ERROR(launch_aps())) {
		LOG(L"launch failed: the firmware continues without bvmm on every CPU");
		uefi_call_wrapper(BS->FreePages, 2, base, cfg->pool_size / 4096);
		return EFI_LOAD_ERROR;
	}
	bvmm_loader_call(HV_OP_LOADER_DONE, aps.intel);
	LOG(L"%d CPU%s virtualized", aps.ncpus, aps.ncpus > 1 ? L"s" : L"");
	return EFI_SUCCESS;
}

static EFI_STATUS start_control(EFI_HANDLE self, EFI_LOADED_IMAGE *li, const CHAR16 *dir,
				const struct bvmm_config *cfg, uint64_t tsc0)
{
	EFI_HANDLE child;
	EFI_LOADED_IMAGE *cli;
	CHAR16 *path = resolve(dir, cfg->control);
	EFI_DEVICE_PATH *dp = path ? FileDevicePath(li->DeviceHandle, path) : NULL;
	EFI_STATUS st = dp ? uefi_call_wrapper(BS->LoadImage, 6, FALSE, self, dp, NULL, 0, &child)
			   : EFI_OUT_OF_RESOURCES;
	if (EFI_ERROR(st)) {
		LOG(L"cannot load the control image %s: %r", path ? path : L"?", st);
		return st;
	}
	CHAR16 *args = ascii_to_wide(cfg->control_args);
	if (args && args[0] && !EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, child,
							    &LoadedImageProtocol, (void **)&cli))) {
		cli->LoadOptions = args;
		cli->LoadOptionsSize = (StrLen(args) + 1) * sizeof(CHAR16);
	}
	uint64_t ticks = rdtsc() - tsc0;
	LOG(L"launch cost %ld TSC ticks from efi_main to the control image; starting %s", ticks, path);
	st = uefi_call_wrapper(BS->StartImage, 3, child, NULL, NULL);
	LOG(L"control image returned: %r", st);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint64_t tsc0 = rdtsc();
	EFI_LOADED_IMAGE *li;
	struct bvmm_config cfg;
	struct cpu_caps caps;

	InitializeLib(image, systab);
	EFI_STATUS st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					  (void **)&li);
	if (EFI_ERROR(st))
		return st;
	CHAR16 *dir = image_dir(li);
	if (!dir)
		return EFI_OUT_OF_RESOURCES;
	load_config(li, dir, &cfg);

	const CHAR16 *why = cpu_check(&caps);
	if (why) {
		LOG(L"not starting: %s. Returning to the firmware.", why);
		return EFI_UNSUPPORTED;
	}
	st = launch(&cfg, &caps);
	if (EFI_ERROR(st))
		return st;
	LOG(L"running as the control guest");
	return start_control(image, li, dir, &cfg, tsc0);
}
