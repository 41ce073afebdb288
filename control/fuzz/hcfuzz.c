/* hcfuzz: the control program that fuzzes bvmm's hypercalls from the control guest.
 * Load options: seed=N calls=N [pool=SIZE] [batch=N] [maxvio=N] [verbose]. Runs `calls`
 * generated hypercalls (templates, then mutations; doc/hcfuzz.md), checks every one against
 * bvmm.4 and its model of the hypervisor, checks INFO and the pool every batch, terminates
 * everything, prints one "hcfuzz: done ..." line and powers the machine off. */
#include "call.h"

#define MAX_ARGS 16

uint64_t rng_state, seed, call_no;
unsigned violations;
int verbose;
uint64_t trace;
static unsigned max_violations = 10;
static uint64_t tsc_hz, t_start;

static const char *const ops[BVMM_OP_COUNT] = {
	"HVINFO", "CREATE", "RUN", "INFO", "TERM", "RESETCPU", "INTR", "READREGS", "WRITEREGS",
	"READVMPARAMS", "WRITEVMPARAMS", "MPROTECT_EPT", "RUN_PHYS",
};

const char *op_name(uint64_t op) { return op < BVMM_OP_COUNT ? ops[op] : "UNKNOWN"; }

const char *errno_name(uint64_t e)
{
	switch (e) {
	case 0: return "0";
	case BVMM_EPERM: return "EPERM";
	case BVMM_ENOENT: return "ENOENT";
	case BVMM_EIO: return "EIO";
	case BVMM_ENOMEM: return "ENOMEM";
	case BVMM_EFAULT: return "EFAULT";
	case BVMM_EBUSY: return "EBUSY";
	case BVMM_EEXIST: return "EEXIST";
	case BVMM_EINVAL: return "EINVAL";
	case BVMM_ENOSPC: return "ENOSPC";
	case BVMM_ENOSYS: return "ENOSYS";
	default: return "other";
	}
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t elapsed_ms(void) { return tsc_hz ? (rdtsc() - t_start) * 1000 / tsc_hz : 0; }

void violation(const char *op, const char *what, const CHAR16 *detail)
{
	violations++;
	Print(L"hcfuzz: VIOLATION seed=%ld call=%ld op=%a: %a (%s)\n", seed, call_no, op, what,
	      detail ? detail : L"");
}

/* Every hypercall goes through here: random values in every register but RAX and RDI,
 * which must all be there afterwards. */
uint64_t hc(uint64_t op, void *p)
{
	static const char *const names[13] = { "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11",
					       "r12", "r13", "r14", "r15", "rbp" };
	static uint64_t pat_state = 0x5eed;   /* its own stream: helper calls leave the seed's alone */
	uint64_t pat[13], after[14];
	for (int i = 0; i < 13; i++) {
		uint64_t saved = rng_state;
		rng_state = pat_state;
		pat[i] = rnd();
		pat_state = rng_state;
		rng_state = saved;
	}
	uint64_t e = hf_vmmcall(op, p, pat, after);
	for (int i = 0; i < 13; i++)
		if (after[i] != pat[i])
			vio("register not preserved", L"expected %a=%lx, got %lx", names[i], pat[i], after[i]);
	if (after[13] != (uint64_t)p)
		vio("register not preserved", L"expected rdi=%lx, got %lx", (uint64_t)p, after[13]);
	return e;
}

uint64_t hc_aux(uint64_t op, void *p, uint64_t want)
{
	uint64_t e = hc(op, p);
	if (e != want) {
		CHAR16 *d = PoolPrint(L"expected %a, got %a", errno_name(want), errno_name(e));
		violation(op_name(op), "helper call with valid arguments failed", d);
		FreePool(d);
	}
	return e;
}

/* ---- the environment: memory map, pool, arena ---- */

static void scan_memory_map(void)
{
	UINTN n, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&n, &key, &dsize, &dver), *d;
	uint64_t top = 4 * GIB;
	for (UINTN i = 0; map && i < n; i++) {
		d = (void *)((uint8_t *)map + i * dsize);
		uint64_t end = d->PhysicalStart + d->NumberOfPages * PAGE;
		top = end > top ? end : top;
		if (d->Type == EfiReservedMemoryType && d->NumberOfPages * PAGE == env.pool_size &&
		    !(d->PhysicalStart & (2 * MIB - 1)))
			env.pool_pa = d->PhysicalStart;
		else if (d->Type == EfiReservedMemoryType && !env.resv_pa)
			env.resv_pa = d->PhysicalStart;
		else if (d->Type == EfiRuntimeServicesData && !env.rt_pa)
			env.rt_pa = d->PhysicalStart;
		else if ((d->Type == EfiACPIReclaimMemory || d->Type == EfiACPIMemoryNVS) && !env.acpi_pa)
			env.acpi_pa = d->PhysicalStart;
	}
	env.phys_top = (top + GIB - 1) & ~(GIB - 1);
	if (map)
		FreePool(map);
}

static void *alloc_pages(uint64_t bytes)
{
	EFI_PHYSICAL_ADDRESS a;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
					bytes / PAGE, &a)))
		return NULL;
	SetMem((void *)a, bytes, 0);
	return (void *)a;
}

static int setup_env(uint64_t pool_opt)
{
	struct vm_hvinfo_params h;
	if (hc(BVMM_OP_HVINFO, &h)) {
		Print(L"hcfuzz: HVINFO failed: is bvmm running?\n");
		return 0;
	}
	env.pool_size = pool_opt ? pool_opt : h.vhi_pool_size;
	env.pool_base_free = h.vhi_pool_free;
	scan_memory_map();
	uint8_t *a = alloc_pages(MAX_VMS * SLOT_BYTES + 2 * MIB);
	env.scratch = alloc_pages(SCRATCH_PAGES * PAGE);
	if (!a || !env.scratch) {
		Print(L"hcfuzz: cannot allocate the guest memory arena\n");
		return 0;
	}
	env.arena = (uint8_t *)(((uint64_t)a + 2 * MIB - 1) & ~(2 * MIB - 1));
	regs_init_limits();
	Print(L"hcfuzz: pool %lx (%ld KiB, %ld KiB free), memory map end %lx, arena %lx, phys bits %d\n",
	      env.pool_pa, env.pool_size >> 10, env.pool_base_free >> 10, env.phys_top,
	      (uint64_t)env.arena, env.maxphy);
	if (!env.pool_pa)
		Print(L"hcfuzz: pool not found in the memory map: pool pointers become unmapped ones\n");
	return 1;
}

/* ---- load options ---- */

static uint64_t num(const CHAR16 *v)
{
	uint64_t x = 0;
	if (v[0] == L'0' && (v[1] == L'x' || v[1] == L'X'))
		return xtoi(v + 2);
	for (; *v >= L'0' && *v <= L'9'; v++)
		x = x * 10 + (uint64_t)(*v - L'0');
	if (*v == L'K' || *v == L'k')
		x <<= 10;
	else if (*v == L'M' || *v == L'm')
		x <<= 20;
	else if (*v == L'G' || *v == L'g')
		x <<= 30;
	return x;
}

struct opts { uint64_t calls, pool, batch; };

static void parse(CHAR16 *s, UINTN chars, struct opts *o)
{
	CHAR16 *argv[MAX_ARGS];
	int n = 0;
	for (UINTN i = 0; s && i < chars && s[i] && n < MAX_ARGS;) {
		while (i < chars && s[i] == L' ')
			s[i++] = 0;
		if (i < chars && s[i])
			argv[n++] = &s[i];
		while (i < chars && s[i] && s[i] != L' ')
			i++;
	}
	for (int i = 0; i < n; i++) {
		CHAR16 *a = argv[i];
		if (!StrnCmp(a, L"seed=", 5)) seed = num(a + 5);
		else if (!StrnCmp(a, L"calls=", 6)) o->calls = num(a + 6);
		else if (!StrnCmp(a, L"pool=", 5)) o->pool = num(a + 5);
		else if (!StrnCmp(a, L"batch=", 6)) o->batch = num(a + 6);
		else if (!StrnCmp(a, L"maxvio=", 7)) max_violations = (unsigned)num(a + 7);
		else if (!StrnCmp(a, L"trace=", 6)) trace = num(a + 6);
		else if (!StrCmp(a, L"verbose")) verbose = 1;
	}
}

/* ---- the run ---- */

static void histogram(void)
{
	int first = 1;
	for (unsigned e = 0; e < 64; e++) {
		if (!hist[e])
			continue;
		Print(L"%a%a:%ld", first ? "" : ",", errno_name(e), hist[e]);
		first = 0;
	}
	Print(L"\n");
}

static void batch_end(void)
{
	check_info_model();
	check_pool_now();
	batch_reset();
}

static void finish(void)
{
	term_all();
	check_info_model();
	struct vm_hvinfo_params h;
	if (!hc_aux(BVMM_OP_HVINFO, &h, 0) && h.vhi_pool_free != env.pool_base_free) {
		CHAR16 *d = PoolPrint(L"expected %lx free, got %lx", env.pool_base_free, h.vhi_pool_free);
		violation("HVINFO", "pool not back at its baseline after every VM was terminated", d);
		FreePool(d);
	}
}

static void fuzz(uint64_t calls, uint64_t batch)
{
	uint64_t next_batch = batch, next_progress = 10000, next_pool = 64;
	while (call_no < calls && violations < max_violations) {
		op_one();
		if (call_no >= next_pool) {
			check_pool_now();
			next_pool = call_no + 64;
		}
		if (call_no >= next_batch) {
			batch_end();
			next_batch = call_no + batch;
		}
		if (call_no >= next_progress) {
			Print(L"hcfuzz: progress call=%ld vms=%d violations=%d elapsed=%ld ms\n", call_no,
			      model_live(), violations, elapsed_ms());
			next_progress += 10000;
		}
	}
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *li = NULL;
	struct opts o = { .calls = 10000, .batch = 1000 };
	InitializeLib(image, systab);
	t_start = rdtsc();
	uefi_call_wrapper(BS->Stall, 1, 10000);
	tsc_hz = (rdtsc() - t_start) * 100;
	uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (li && li->LoadOptions)
		parse(li->LoadOptions, li->LoadOptionsSize / 2, &o);
	rng_state = seed;
	Print(L"hcfuzz: seed=%ld calls=%ld batch=%ld\n", seed, o.calls, o.batch ? o.batch : 1);
	if (!setup_env(o.pool))
		return EFI_UNSUPPORTED;
	t_start = rdtsc();
	fuzz(o.calls, o.batch ? o.batch : 1);
	if (violations >= max_violations)
		Print(L"hcfuzz: stopping after %d violations\n", violations);
	finish();
	Print(L"hcfuzz: %ld ms, %ld calls/s; %d unexpected exits, %d refused entries\n", elapsed_ms(),
	      elapsed_ms() ? call_no * 1000 / elapsed_ms() : 0, unexpected_exits, refused_entries);
	Print(L"hcfuzz: done seed=%ld calls=%ld violations=%d errnos=", seed, call_no, violations);
	histogram();
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
	return EFI_SUCCESS;
}
