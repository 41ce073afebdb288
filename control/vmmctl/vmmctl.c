/* vmmctl: the control program that runs guests from the UEFI shell or from bvmm.conf, in the
 * manner of OpenBSD's vmctl(8). Commands, executed in order from the load options:
 *   info                                      the hypervisor, its pool and its VMs
 *   run FILE [mem=MiB] [load=ADDR] [entry=ADDR] [mode=real|prot32|long64] [name=NAME]
 *                                             a raw image or an ELF64 executable, its COM1
 *                                             on our console
 *   poweroff                                  power the machine off
 * The guest's COM1 (ns8250 at 0x3f8) is a write-only console; the i8259 pair and the i8253's
 * channel 0 are modelled (devices.c), so guests can take timer interrupts; other ports read
 * as all ones (vmd's convention) and ignore writes. The run ends at HLT with interrupts off,
 * a triple fault, or an access outside guest memory. */
#include <efi.h>
#include <efilib.h>
#include "../../abi/bvmm.h"
#include "../libvmm/vmm_state.h"
#include "../libvmm/vmm_exit.h"
#include "devices.h"
#include "elf.h"

#define COM_THR 0x3f8
#define COM_LSR 0x3fd
#define LSR_THRE_TEMT 0x60
#define MIB (1ull << 20)
#define MAX_ARGS 32

enum mode { MODE_REAL, MODE_PROT32, MODE_LONG64 };

struct run_opts {
	CHAR16 *file;
	uint64_t mem, load, entry;
	enum mode mode;
	char name[VMM_MAX_NAME_LEN];
};

static EFI_HANDLE self;

static int streq(const CHAR16 *a, const CHAR16 *b) { return !StrCmp(a, b); }

static CHAR16 *find_eq(CHAR16 *s)
{
	for (; *s; s++)
		if (*s == L'=')
			return s;
	return NULL;
}

/* A hexadecimal number, with or without 0x. */
static uint64_t hex(const CHAR16 *v)
{
	if (v[0] == L'0' && (v[1] == L'x' || v[1] == L'X'))
		v += 2;
	return xtoi(v);
}

static int prefix(const CHAR16 *s, const CHAR16 *p)
{
	return !StrnCmp(s, p, StrLen(p));
}

/* Split the load options at blanks, in place. */
static int split_args(CHAR16 *s, UINTN chars, CHAR16 **argv)
{
	int n = 0;
	for (UINTN i = 0; i < chars && s[i] && n < MAX_ARGS;) {
		while (i < chars && s[i] == L' ')
			s[i++] = 0;
		if (i >= chars || !s[i])
			break;
		argv[n++] = &s[i];
		while (i < chars && s[i] && s[i] != L' ')
			i++;
	}
	return n;
}

static EFI_STATUS read_file(const CHAR16 *path, void **data, UINTN *len)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root, fh;
	EFI_STATUS st = uefi_call_wrapper(BS->HandleProtocol, 3, self, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st) || !(root = LibOpenRoot(li->DeviceHandle)))
		return EFI_NOT_FOUND;
	st = uefi_call_wrapper(root->Open, 5, root, &fh, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	EFI_FILE_INFO *info = LibFileInfo(fh);
	st = EFI_OUT_OF_RESOURCES;
	if (info && (*data = AllocatePool(info->FileSize))) {
		*len = info->FileSize;
		st = uefi_call_wrapper(fh->Read, 3, fh, len, *data);
	}
	if (info)
		FreePool(info);
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}

/* The hypervisor's vendor (HVINFO): RUN's exit codes are its own (vmm_exit.h). */
static uint32_t vendor = BVMM_VENDOR_AMD_SVM;

static void cmd_info(void)
{
	struct vm_hvinfo_params h;
	static struct vm_info_result res[16];
	struct vm_info_params ip = { sizeof res, 0, res };
	uint64_t e = bvmm_hypercall(BVMM_OP_HVINFO, &h);
	if (e) {
		Print(L"vmmctl: no bvmm (HVINFO errno %ld)\n", e);
		return;
	}
	Print(L"vmmctl: bvmm ABI %d, %a, pool %ld KiB, %ld KiB free\n", h.vhi_abi_version,
	      h.vhi_vendor == BVMM_VENDOR_AMD_SVM ? "AMD SVM" : "Intel VMX",
	      h.vhi_pool_size >> 10, h.vhi_pool_free >> 10);
	e = bvmm_hypercall(BVMM_OP_INFO, &ip);
	Print(L"vmmctl: %ld VMs (errno %ld)\n", ip.vip_info_ct, e);
	for (uint64_t i = 0; !e && i < ip.vip_info_ct && i < 16; i++)
		Print(L"vmmctl:   id %d \"%a\" %ld MiB %ld vCPUs\n", res[i].vir_id, res[i].vir_name,
		      res[i].vir_memory_size >> 20, res[i].vir_ncpus);
}

static void protect_segments(uint32_t id, const struct elf_seg *segs, int n)
{
	for (int i = 0; i < n; i++) {
		struct vm_mprotect_ept_params mp = { id, 0, segs[i].start, segs[i].end - segs[i].start,
						     segs[i].prot };
		uint64_t e = bvmm_hypercall(BVMM_OP_MPROTECT_EPT, &mp);
		Print(L"vmmctl:   segment %lx-%lx %c%c%c (MPROTECT_EPT errno %ld)\n", segs[i].start,
		      segs[i].end, segs[i].prot & PROT_READ ? 'r' : '-', segs[i].prot & PROT_WRITE ? 'w' : '-',
		      segs[i].prot & PROT_EXEC ? 'x' : '-', e);
	}
}

static uint64_t tsc_hz;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Everything the guest's ports reach: COM1 (output only), the PICs, the PIT. */
struct machine {
	struct pics pic;
	struct i8253 pit;
	const char *name;
	CHAR16 line[200];
	unsigned n;
};

static void com1_out(struct machine *m, char ch)
{
	if (ch != '\n' && ch != '\r' && m->n < 198)
		m->line[m->n++] = (CHAR16)(uint8_t)ch;
	if (ch == '\n') {
		m->line[m->n] = 0;
		Print(L"%a: %s\n", m->name, m->line);
		m->n = 0;
	}
}

static void port_io(struct machine *m, struct vm_exit_inout *io, uint64_t now)
{
	int in = io->vei_dir == VEI_DIR_IN;
	if (pic_io(&m->pic, io->vei_port, in, &io->vei_data) ||
	    pit_io(&m->pit, io->vei_port, in, &io->vei_data, now))
		return;
	if (in)
		io->vei_data = io->vei_port == COM_LSR ? LSR_THRE_TEMT : 0xffffffff;
	else if (io->vei_port == COM_THR)
		com1_out(m, (char)io->vei_data);
}

/* A guest in HLT waits for its next interrupt: sleep until the PIT's next period. Returns 0
 * if nothing could ever wake it. */
static int wait_for_interrupt(struct machine *m)
{
	if (pic_pending(&m->pic))
		return 1;
	if (!m->pit.running)
		return 0;
	uint64_t now = rdtsc();
	if (m->pit.next_tsc > now) {
		uint64_t us = (m->pit.next_tsc - now) * 1000000 / tsc_hz;
		uefi_call_wrapper(BS->Stall, 1, us > 100000 ? 100000 : us);
	}
	return 1;
}

/* The vmd-style loop: the interrupt level from the PIC (INTR), a vector when the guest can
 * take it, RUN, answer the port the guest used, continue. */
static void run_loop(uint32_t id, const char *name)
{
	static struct vm_exit ex;
	static struct machine m;
	struct vm_run_params rp = { .vrp_vm_id = id, .vrp_irq = VRP_IRQ_NONE, .vrp_exit = &ex };
	struct vm_intr_params intr = { id, 0, 0 };
	unsigned io = 0, none = 0, irqs = 0;
	uint64_t err;

	pic_init(&m.pic);
	pit_init(&m.pit, tsc_hz);
	m.name = name;
	m.n = 0;
	for (;;) {
		pit_tick(&m.pit, &m.pic, rdtsc());
		uint16_t level = (uint16_t)pic_pending(&m.pic);
		if (level != intr.vip_intr) {
			intr.vip_intr = level;
			bvmm_hypercall(BVMM_OP_INTR, &intr);
		}
		int vec = level && rp.vrp_irqready ? pic_ack(&m.pic) : -1;
		rp.vrp_irq = vec >= 0 ? (uint16_t)vec : VRP_IRQ_NONE;
		irqs += vec >= 0;
		if ((err = bvmm_hypercall(BVMM_OP_RUN, &rp)))
			break;
		rp.vrp_continue = 1;
		switch (vmm_exit_kind(rp.vrp_exit_reason, vendor)) {
		case VMM_EXIT_KIND_NONE:
			none++;
			continue;
		case VMM_EXIT_KIND_IO:
			io++;
			port_io(&m, &ex.vei, rdtsc());
			continue;
		case VMM_EXIT_KIND_IRQWIN:   /* the interrupt window opened: irqready is set */
			continue;
		case VMM_EXIT_KIND_HLT:
			if (wait_for_interrupt(&m))
				continue;
			Print(L"vmmctl: %a: HLT with nothing that could wake it: stopping\n", name);
			break;
		default:
			if (vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_NPF &&
			    ex.vee.vee_fault_type == VEE_FAULT_PROTECT)
				Print(L"vmmctl: %a: access against MPROTECT_EPT at rip %lx: stopping\n", name,
				      ex.vrs.vrs_gprs[VCPU_REGS_RIP]);
			else
				Print(L"vmmctl: %a: exit %x at rip %lx: stopping\n", name, rp.vrp_exit_reason,
				      ex.vrs.vrs_gprs[VCPU_REGS_RIP]);
			break;
		}
		break;
	}
	if (err == BVMM_EIO)
		Print(L"vmmctl: %a halted (HLT with interrupts off)", name);
	else if (err)
		Print(L"vmmctl: %a: RUN errno %ld", name, err);
	else
		Print(L"vmmctl: %a stopped", name);
	Print(L" after %d I/O exits, %d interrupts injected, %d returns for our own interrupts\n",
	      io, irqs, none);
}

static void cmd_run(const struct run_opts *o)
{
	static struct vm_create_params cp;
	static struct vm_resetcpu_params rr;
	void *image;
	UINTN len;
	EFI_PHYSICAL_ADDRESS mem;
	EFI_STATUS st = read_file(o->file, &image, &len);
	if (EFI_ERROR(st)) {
		Print(L"vmmctl: cannot read %s: %r\n", o->file, st);
		return;
	}
	int elf = is_elf64(image, len);
	if (!elf && (o->load > o->mem || len > o->mem - o->load || o->entry >= o->mem)) {
		Print(L"vmmctl: %s (%ld bytes at %lx) does not fit %ld MiB\n", o->file, len, o->load, o->mem >> 20);
		FreePool(image);
		return;
	}
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
					o->mem / 4096, &mem))) {
		Print(L"vmmctl: cannot allocate %ld MiB\n", o->mem >> 20);
		FreePool(image);
		return;
	}
	SetMem((void *)mem, o->mem, 0);
	struct elf_seg segs[ELF_MAX_SEGS];
	int nsegs = 0;
	uint64_t entry = o->entry;
	enum mode mode = elf ? MODE_LONG64 : o->mode;   /* an ELF64 image starts in long mode */
	if (mode == MODE_LONG64)
		vmm_solo5_tables((uint8_t *)mem);
	if (elf)
		nsegs = load_elf(image, len, (uint8_t *)mem, o->mem, segs, &entry);
	else
		CopyMem((uint8_t *)mem + o->load, image, len);
	FreePool(image);
	if (nsegs < 0) {
		Print(L"vmmctl: %s: malformed ELF, or it does not fit %ld MiB\n", o->file, o->mem >> 20);
		uefi_call_wrapper(BS->FreePages, 2, mem, o->mem / 4096);
		return;
	}
	SetMem(&cp, sizeof cp, 0);
	cp.vcp_nmemranges = 1;
	cp.vcp_ncpus = 1;
	cp.vcp_memranges[0] = (struct vm_mem_range){ 0, mem, o->mem };
	CopyMem(cp.vcp_name, o->name, sizeof cp.vcp_name);
	uint64_t e = bvmm_hypercall(BVMM_OP_CREATE, &cp);
	if (e) {
		Print(L"vmmctl: CREATE errno %ld\n", e);
	} else {
		rr.vrp_vm_id = cp.vcp_id;
		if (mode == MODE_REAL)
			vmm_state_real(&rr.vrp_init_state, (uint16_t)(entry >> 4) & 0xf000, entry & 0xffff);
		else if (mode == MODE_PROT32)
			vmm_state_prot32(&rr.vrp_init_state, entry);
		else
			vmm_state_long64(&rr.vrp_init_state, entry);
		e = bvmm_hypercall(BVMM_OP_RESETCPU, &rr);
		if (elf)
			Print(L"vmmctl: VM %d \"%a\": %ld MiB, ELF %s, %d segments, entry %lx (errno %ld)\n",
			      cp.vcp_id, o->name, o->mem >> 20, o->file, nsegs, entry, e);
		else
			Print(L"vmmctl: VM %d \"%a\": %ld MiB, %s loaded at %lx, entry %lx (errno %ld)\n",
			      cp.vcp_id, o->name, o->mem >> 20, o->file, o->load, entry, e);
		protect_segments(cp.vcp_id, segs, nsegs);
		if (!e)
			run_loop(cp.vcp_id, o->name);
		struct vm_terminate_params t = { cp.vcp_id };
		Print(L"vmmctl: VM %d terminated (errno %ld)\n", cp.vcp_id, bvmm_hypercall(BVMM_OP_TERM, &t));
	}
	uefi_call_wrapper(BS->FreePages, 2, mem, o->mem / 4096);
}

/* run's options after FILE; returns the index of the next command. */
static int parse_run(CHAR16 **argv, int argc, int i, struct run_opts *o)
{
	*o = (struct run_opts){ .file = argv[i++], .mem = MIB, .load = 0x7c00, .entry = ~0ull,
				 .mode = MODE_REAL };
	CopyMem(o->name, "guest", 6);
	for (; i < argc && find_eq(argv[i]); i++) {
		CHAR16 *v = find_eq(argv[i]) + 1;
		if (prefix(argv[i], L"mem="))
			o->mem = Atoi(v) * MIB;
		else if (prefix(argv[i], L"load="))
			o->load = hex(v);
		else if (prefix(argv[i], L"entry="))
			o->entry = hex(v);
		else if (prefix(argv[i], L"mode="))
			o->mode = streq(v, L"long64") ? MODE_LONG64 : streq(v, L"prot32") ? MODE_PROT32 : MODE_REAL;
		else if (prefix(argv[i], L"name=")) {
			unsigned k = 0;
			for (; v[k] && k < VMM_MAX_NAME_LEN - 1; k++)
				o->name[k] = (char)v[k];
			o->name[k] = 0;
		} else
			Print(L"vmmctl: unknown option %s\n", argv[i]);
	}
	if (o->entry == ~0ull)
		o->entry = o->load;
	if (!o->mem)
		o->mem = MIB;
	return i;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *li;
	CHAR16 *argv[MAX_ARGS];
	InitializeLib(image, systab);
	self = image;
	uint64_t t0 = rdtsc();
	uefi_call_wrapper(BS->Stall, 1, 10000);   /* 10 ms: the TSC rate, for the PIT model */
	tsc_hz = (rdtsc() - t0) * 100;
	if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li)))
		return EFI_LOAD_ERROR;
	uint32_t sig[4];
	__asm__ volatile("cpuid" : "=a"(sig[0]), "=b"(sig[1]), "=c"(sig[2]), "=d"(sig[3])
			 : "a"(BVMM_CPUID_BASE), "c"(0));
	if (sig[1] != BVMM_CPUID_SIG_EBX || sig[2] != BVMM_CPUID_SIG_ECX || sig[3] != BVMM_CPUID_SIG_EDX) {
		Print(L"vmmctl: bvmm is not running (no \"bvmm\" at CPUID 0x40000000)\n");
		return EFI_UNSUPPORTED;
	}
	struct vm_hvinfo_params h;
	if (!bvmm_hypercall(BVMM_OP_HVINFO, &h))
		vendor = h.vhi_vendor;
	int argc = li->LoadOptions ? split_args(li->LoadOptions, li->LoadOptionsSize / 2, argv) : 0;
	int i = argc && StriCmp(argv[0] + (StrLen(argv[0]) > 4 ? StrLen(argv[0]) - 4 : 0), L".efi") == 0;
	if (i >= argc)
		Print(L"usage: vmmctl info | run FILE [mem=MiB] [load=ADDR] [entry=ADDR] "
		      L"[mode=real|prot32|long64] [name=NAME] | poweroff ...\n");
	while (i < argc) {
		if (streq(argv[i], L"info")) {
			cmd_info();
			i++;
		} else if (streq(argv[i], L"run") && i + 1 < argc) {
			struct run_opts o;
			i = parse_run(argv, argc, i + 1, &o);
			cmd_run(&o);
		} else if (streq(argv[i], L"poweroff")) {
			uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
			i++;
		} else {
			Print(L"vmmctl: unknown command %s\n", argv[i]);
			i++;
		}
	}
	return EFI_SUCCESS;
}
