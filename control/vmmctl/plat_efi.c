/* vmmctl's EFI home (plat.h): the UEFI shell or bvmm.conf's control_args start it; the vmm
 * operations are bvmm hypercalls, files come from the image's own volume. */
#include <efi.h>
#include <efilib.h>
#include <stdarg.h>
#include "../../abi/bvmm.h"
#include "../../hv/fmt.h"
#include "plat.h"
#include "vmmctl.h"

#define MAX_ARGS 64
#define MAX_FILES 8

static EFI_HANDLE self;
static uint64_t tsc_hz;
static EFI_FILE_HANDLE files[MAX_FILES];

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

int plat_vmm(unsigned op, void *params)
{
	return (int)bvmm_hypercall(op, params);
}

/* The firmware's identity map: this block's address is its physical address. */
static struct vm_run_block run_block __attribute__((aligned(4096)));

struct vm_run_block *plat_run_block(void)
{
	return &run_block;
}

int plat_run_block_go(void)
{
	return (int)bvmm_hypercall(BVMM_OP_RUN_PHYS, &run_block);
}

uint64_t plat_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t plat_now_ns(void)
{
	uint64_t t = rdtsc();
	return t / tsc_hz * 1000000000ull + t % tsc_hz * 1000000000ull / tsc_hz;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

uint64_t plat_wall_ns(void)
{
	EFI_TIME t;
	if (EFI_ERROR(uefi_call_wrapper(RT->GetTime, 2, &t, NULL)))
		return 0;
	/* The RTC is taken as UTC, as QEMU keeps it and OVMF reports it (time zone unspecified). */
	int64_t s = days_from_civil(t.Year, t.Month, t.Day) * 86400 + t.Hour * 3600 + t.Minute * 60 + t.Second;
	return (uint64_t)s * 1000000000ull + t.Nanosecond;
}

void plat_msg(const char *f, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, f);
	fmt_v(buf, sizeof buf, f, ap);
	va_end(ap);
	Print(L"vmmctl: %a\n", buf);
}

void plat_console_out(const void *buf, size_t n)
{
	char chunk[257];
	const char *s = buf;
	while (n) {
		size_t k = n < 256 ? n : 256;
		for (size_t i = 0; i < k; i++)
			chunk[i] = s[i];
		chunk[k] = 0;
		Print(L"%a", chunk);
		s += k;
		n -= k;
	}
}

int plat_console_in(uint8_t *c)
{
	EFI_INPUT_KEY key;
	if (EFI_ERROR(uefi_call_wrapper(ST->ConIn->ReadKeyStroke, 2, ST->ConIn, &key)) || !key.UnicodeChar ||
	    key.UnicodeChar > 0x7f)
		return 0;
	*c = (uint8_t)key.UnicodeChar;
	return 1;
}

int plat_console_open(void)
{
	return 1;
}

void *plat_guest_alloc(uint64_t size)
{
	EFI_PHYSICAL_ADDRESS mem;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
					(size + 4095) / 4096, &mem)))
		return NULL;
	SetMem((void *)mem, size, 0);
	return (void *)mem;
}

void plat_guest_free(void *mem, uint64_t size)
{
	uefi_call_wrapper(BS->FreePages, 2, (EFI_PHYSICAL_ADDRESS)mem, (size + 4095) / 4096);
}

void plat_free(void *p)
{
	FreePool(p);
}

static EFI_FILE_HANDLE open_path(const char *path, UINT64 mode)
{
	static CHAR16 wpath[512];
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root, fh;
	unsigned k = 0;
	for (; path[k] && k < 511; k++)
		wpath[k] = (CHAR16)(path[k] == '/' ? '\\' : (uint8_t)path[k]);
	wpath[k] = 0;
	if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, self, &LoadedImageProtocol, (void **)&li)) ||
	    !(root = LibOpenRoot(li->DeviceHandle)))
		return NULL;
	if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &fh, wpath, mode, 0)))
		return NULL;
	return fh;
}

int plat_read_file(const char *path, void **data, size_t *len)
{
	EFI_FILE_HANDLE fh = open_path(path, EFI_FILE_MODE_READ);
	if (!fh)
		return VE_NOENT;
	EFI_FILE_INFO *info = LibFileInfo(fh);
	int e = VE_NOMEM;
	if (info && (*data = AllocatePool(info->FileSize ? info->FileSize : 1))) {
		UINTN n = info->FileSize;
		e = EFI_ERROR(uefi_call_wrapper(fh->Read, 3, fh, &n, *data)) || n != info->FileSize ? VE_IO : 0;
		*len = n;
		if (e)
			FreePool(*data);
	}
	if (info)
		FreePool(info);
	uefi_call_wrapper(fh->Close, 1, fh);
	return e;
}

int plat_file_open(const char *path, int writable, uint64_t *size)
{
	int h = 0;
	while (h < MAX_FILES && files[h])
		h++;
	if (h == MAX_FILES)
		return -VE_NOSPC;
	EFI_FILE_HANDLE fh = open_path(path, EFI_FILE_MODE_READ | (writable ? EFI_FILE_MODE_WRITE : 0));
	if (!fh)
		return -VE_NOENT;
	EFI_FILE_INFO *info = LibFileInfo(fh);
	if (!info) {
		uefi_call_wrapper(fh->Close, 1, fh);
		return -VE_IO;
	}
	*size = info->FileSize;
	FreePool(info);
	files[h] = fh;
	return h;
}

static int file_io(int h, void *buf, size_t n, uint64_t off, int write)
{
	if (h < 0 || h >= MAX_FILES || !files[h])
		return VE_INVAL;
	UINTN k = n;
	if (EFI_ERROR(uefi_call_wrapper(files[h]->SetPosition, 2, files[h], off)))
		return VE_IO;
	EFI_STATUS st = write ? uefi_call_wrapper(files[h]->Write, 3, files[h], &k, buf) :
				uefi_call_wrapper(files[h]->Read, 3, files[h], &k, buf);
	return EFI_ERROR(st) || k != n ? VE_IO : 0;
}

int plat_file_pread(int h, void *buf, size_t n, uint64_t off)
{
	return file_io(h, buf, n, off, 0);
}

int plat_file_pwrite(int h, const void *buf, size_t n, uint64_t off)
{
	return file_io(h, (void *)buf, n, off, 1);
}

int plat_tap_open(const char *name)
{
	(void)name;
	return -VE_NOSYS;
}

int plat_tap_read(int h, void *buf, size_t n)
{
	(void)h, (void)buf, (void)n;
	return -VE_NOSYS;
}

int plat_tap_write(int h, const void *buf, size_t n)
{
	(void)h, (void)buf, (void)n;
	return -VE_NOSYS;
}

int plat_detach(void)
{
	return VE_NOSYS;
}

int plat_poweroff(void)
{
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
	return VE_IO;
}

/* Sleeps in slices of at most 100 ms, so that console input is seen. */
void plat_wait(uint64_t deadline_ns)
{
	uint64_t now = plat_now_ns();
	uint64_t us = deadline_ns > now ? (deadline_ns - now) / 1000 : deadline_ns ? 0 : 100000;
	uefi_call_wrapper(BS->Stall, 1, us > 100000 ? 100000 : us);
}

/* The load options split at blanks, in place, as ASCII. */
static int split_args(const CHAR16 *s, UINTN chars, char *buf, char **argv)
{
	int n = 0;
	UINTN i = 0, k = 0;
	while (i < chars && s[i] && n < MAX_ARGS) {
		while (i < chars && s[i] == L' ')
			i++;
		if (i >= chars || !s[i])
			break;
		argv[n++] = &buf[k];
		while (i < chars && s[i] && s[i] != L' ')
			buf[k++] = (char)(s[i++] & 0x7f);
		buf[k++] = 0;
	}
	return n;
}

static int ends_with_efi(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n > 4 && (s[n - 4] == '.') && (s[n - 3] | 0x20) == 'e' && (s[n - 2] | 0x20) == 'f' &&
	       (s[n - 1] | 0x20) == 'i';
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *li;
	static char *argv[MAX_ARGS];
	static char buf[4096];
	InitializeLib(image, systab);
	self = image;
	uint64_t t0 = rdtsc();
	uefi_call_wrapper(BS->Stall, 1, 10000);   /* 10 ms: the TSC rate, for the clocks */
	tsc_hz = (rdtsc() - t0) * 100;
	if (!tsc_hz)
		tsc_hz = 1;
	if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li)))
		return EFI_LOAD_ERROR;
	uint32_t sig[4];
	__asm__ volatile("cpuid" : "=a"(sig[0]), "=b"(sig[1]), "=c"(sig[2]), "=d"(sig[3])
			 : "a"(BVMM_CPUID_BASE), "c"(0));
	if (sig[1] != BVMM_CPUID_SIG_EBX || sig[2] != BVMM_CPUID_SIG_ECX || sig[3] != BVMM_CPUID_SIG_EDX) {
		plat_msg("bvmm is not running (no \"bvmm\" at CPUID 0x40000000)");
		return EFI_UNSUPPORTED;
	}
	UINTN chars = li->LoadOptions ? li->LoadOptionsSize / 2 : 0;
	if (chars > sizeof buf / 2)
		chars = sizeof buf / 2;
	int argc = split_args(li->LoadOptions, chars, buf, argv);
	int first = argc && ends_with_efi(argv[0]);
	int status = vmmctl_main(argc - first, argv + first, 1);
	return status ? EFI_ABORTED : EFI_SUCCESS;
}
