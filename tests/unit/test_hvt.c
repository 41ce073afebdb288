/* Unit tests of vmmctl's Solo5 hvt tender (control/vmmctl/hvt.c): the ABI1/MFT1 notes and
 * the manifest, loading and its bounds, the boot-time memory Solo5 builds, device attach,
 * and every hypercall on a RAM guest with RAM-backed stub files and a stub TAP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../control/vmmctl/hvt.h"
#include "../../control/vmmctl/plat.h"

/* ---- platform stubs ---- */

static uint64_t now_ns;
static char msgs[4096], console[4096];
static size_t console_len;
static uint8_t disk[4096];
static uint8_t tap_in[2][2048];
static int tap_in_len[2], tap_in_n;
static uint8_t tap_out[2048];
static int tap_out_len, file_fail;

uint64_t plat_now_ns(void) { return now_ns += 1000; }
uint64_t plat_wall_ns(void) { return 1700000000ull * 1000000000ull + 5; }
void plat_msg(const char *f, ...)
{
	va_list ap;
	size_t n = strlen(msgs);
	va_start(ap, f);
	vsnprintf(msgs + n, sizeof msgs - n, f, ap);
	va_end(ap);
	strncat(msgs, "\n", sizeof msgs - strlen(msgs) - 1);
}
void plat_console_out(const void *buf, size_t n)
{
	assert_true(console_len + n <= sizeof console);
	memcpy(console + console_len, buf, n);
	console_len += n;
}
void plat_wait(uint64_t deadline_ns)
{
	if (deadline_ns > now_ns)
		now_ns = deadline_ns;
}
int plat_file_open(const char *path, int writable, uint64_t *size)
{
	assert_true(writable);
	if (!strcmp(path, "disk.img")) {
		*size = sizeof disk;
		return 3;
	}
	if (!strcmp(path, "tiny.img")) {
		*size = 100;
		return 4;
	}
	return -VE_NOENT;
}
int plat_file_pread(int h, void *buf, size_t n, uint64_t off)
{
	assert_int_equal(h, 3);
	assert_true(off + n <= sizeof disk);
	if (file_fail)
		return VE_IO;
	memcpy(buf, disk + off, n);
	return 0;
}
int plat_file_pwrite(int h, const void *buf, size_t n, uint64_t off)
{
	assert_int_equal(h, 3);
	assert_true(off + n <= sizeof disk);
	memcpy(disk + off, buf, n);
	return 0;
}
int plat_tap_open(const char *name) { return strcmp(name, "tap0") ? -VE_NOSYS : 7; }
int plat_tap_read(int h, void *buf, size_t n)
{
	assert_int_equal(h, 7);
	if (!tap_in_n)
		return 0;
	int len = tap_in_len[0] < (int)n ? tap_in_len[0] : (int)n;
	memcpy(buf, tap_in[0], len);
	memmove(tap_in[0], tap_in[1], sizeof tap_in[1]);
	tap_in_len[0] = tap_in_len[1];
	tap_in_n--;
	return len;
}
int plat_tap_write(int h, const void *buf, size_t n)
{
	assert_int_equal(h, 7);
	memcpy(tap_out, buf, n);
	tap_out_len = (int)n;
	return (int)n;
}

/* ---- an hvt executable built in memory ---- */

#define MEM (4u << 20)
static uint8_t img[0x3000], *mem;
static struct hvt h;
static char err[256];

static void w16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void w64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t r32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t r64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void phdr(int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		 uint64_t filesz, uint64_t memsz, uint64_t align)
{
	uint8_t *p = img + 64 + 56 * i;
	w32(p, type); w32(p + 4, flags); w64(p + 8, off); w64(p + 16, vaddr);
	w64(p + 24, vaddr); w64(p + 32, filesz); w64(p + 40, memsz); w64(p + 48, align);
}

#define ABI_OFF 0x300
#define MFT_OFF 0x400
#define MFT_N 3
#define MFT_DESC (12 + MFT_N * MFT_ENTRY_SIZE)
static uint8_t *mft_entry(int i) { return img + MFT_OFF + 24 + 8 + i * MFT_ENTRY_SIZE; }

/* Text (r-x) at 0x100000, data (rw-, with .bss) at 0x101000, the ABI1 note (hvt, version
 * 1) and the MFT1 note: the reserved entry, block "storage", net "service0". */
static void build(void)
{
	memset(img, 0, sizeof img);
	memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
	w16(img + 16, 2); w16(img + 18, 62); w32(img + 20, 1);
	w64(img + 24, 0x100000); w64(img + 32, 64);
	w16(img + 52, 64); w16(img + 54, 56); w16(img + 56, 4);
	phdr(0, 1, 5, 0x1000, 0x100000, 0x20, 0x20, 0x1000);
	phdr(1, 1, 6, 0x2000, 0x101000, 0x10, 0x2000, 0x1000);
	phdr(2, 4, 4, ABI_OFF, 0, 36, 36, 4);
	phdr(3, 4, 4, MFT_OFF, 0, 24 + 8 + MFT_N * MFT_ENTRY_SIZE, 0, 8);
	memset(img + 0x1000, 0x90, 0x20);
	memset(img + 0x2000, 0x5a, 0x10);
	uint8_t *n = img + ABI_OFF;
	w32(n, 6); w32(n + 4, 16); w32(n + 8, 0x31494241); memcpy(n + 12, "Solo5", 6);
	w32(n + 20, HVT_ABI_TARGET); w32(n + 24, HVT_ABI_VERSION);
	n = img + MFT_OFF;
	w32(n, 6); w32(n + 4, MFT_DESC); w32(n + 8, 0x3154464d); memcpy(n + 12, "Solo5", 6);
	w32(n + 24, MFT_VERSION); w32(n + 28, MFT_N);
	w32(mft_entry(0) + MFT_E_TYPE, MFT_RESERVED_FIRST);
	strcpy((char *)mft_entry(1), "storage");
	w32(mft_entry(1) + MFT_E_TYPE, MFT_DEV_BLOCK_BASIC);
	strcpy((char *)mft_entry(2), "service0");
	w32(mft_entry(2) + MFT_E_TYPE, MFT_DEV_NET_BASIC);
}

static int load(const char *cmdline)
{
	memset(mem, 0, MEM);
	err[0] = 0;
	return hvt_load(&h, img, 0x2010, mem, MEM, cmdline, 2000000000ull, err, sizeof err);
}

static void load_fails(const char *why)
{
	assert_int_equal(load("x"), -1);
	if (!strstr(err, why))
		fail_msg("error \"%s\" does not name \"%s\"", err, why);
}

static int setup(void **state)
{
	(void)state;
	if (!mem)
		mem = malloc(MEM);
	build();
	msgs[0] = 0;
	console_len = 0;
	tap_in_n = tap_out_len = file_fail = 0;
	for (unsigned i = 0; i < sizeof disk; i++)
		disk[i] = (uint8_t)i;
	return 0;
}

/* ---- notes and manifest ---- */

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(hvt_detect(img, 0x2010), 1);
	assert_int_equal(hvt_detect(img, 40), 0);              /* truncated header */
	w32(img + ABI_OFF + 20, 2);                            /* spt's note */
	assert_int_equal(hvt_detect(img, 0x2010), 0);
	build();
	img[ABI_OFF + 12] = 's';                               /* owner "solo5" */
	assert_int_equal(hvt_detect(img, 0x2010), 0);
	build();
	w32(img + ABI_OFF + 8, 0x32494241);                    /* "ABI2" */
	assert_int_equal(hvt_detect(img, 0x2010), 0);
	build();
	w32(img + ABI_OFF + 4, 1000);                          /* absurd descsz */
	assert_int_equal(hvt_detect(img, 0x2010), -1);
	build();
	phdr(2, 4, 4, ABI_OFF, 0, 8, 8, 4);                    /* shorter than an Nhdr */
	assert_int_equal(hvt_detect(img, 0x2010), -1);
	build();
	phdr(2, 4, 4, 0x2ff0, 0, 36, 36, 4);                   /* past the end of the file */
	assert_int_equal(hvt_detect(img, 0x2010), -1);
	build();
	w16(img + 16, 3);                                      /* ET_DYN */
	assert_int_equal(hvt_detect(img, 0x2010), 0);
	build();
	w16(img + 56, 0x4000);                                 /* phdrs past the end */
	assert_int_equal(hvt_detect(img, 0x2010), 0);
}

static void test_bad_notes(void **state)
{
	(void)state;
	w32(img + ABI_OFF + 24, 2);             /* versions 1 and 2 share the x86-64 ABI */
	assert_int_equal(load("x"), 0);
	build();
	w32(img + ABI_OFF + 24, 3);
	load_fails("unsupported ABI version 3");
	build();
	w32(img + ABI_OFF + 24, 0);
	load_fails("unsupported ABI version 0");
	build();
	w32(img + ABI_OFF + 20, 3);
	load_fails("not for the solo5-hvt target");
	build();
	w32(img + ABI_OFF + 4, 8);                             /* ABI note too short */
	load_fails("too short");
	build();
	w32(img + ABI_OFF + 8, 0);
	load_fails("no Solo5 ABI information");
	build();
	w32(img + MFT_OFF + 8, 0);
	load_fails("no Solo5 manifest");
	build();
	phdr(3, 4, 4, MFT_OFF, 0, 24 + 8, 0, 8);               /* descriptor truncated */
	load_fails("truncated");
	build();
	w32(img + MFT_OFF + 4, 0xffffffff);
	load_fails("out of range");
	build();
	w32(img + MFT_OFF + 24, 2);
	load_fails("manifest version 2");
	build();
	w32(img + MFT_OFF + 28, 65);
	load_fails("65 entries");
	build();
	w32(img + MFT_OFF + 28, 2);                            /* count disagrees with size */
	load_fails("does not match");
	build();
	w32(mft_entry(0) + MFT_E_TYPE, MFT_DEV_BLOCK_BASIC);
	load_fails("reserved entry");
	build();
	memset(mft_entry(1), 'a', MFT_NAME_SIZE);
	load_fails("not terminated");
	build();
	mft_entry(2)[MFT_E_ATTACHED] = 1;
	load_fails("marked attached");
}

/* ---- loading ---- */

static void test_load_layout(void **state)
{
	(void)state;
	const struct elf_seg *s;
	assert_int_equal(load("status=7 hello"), 0);
	assert_int_equal(h.entry, 0x100000);
	assert_int_equal(hvt_segments(&h, &s), 2);
	assert_int_equal(s[0].start, 0x100000);
	assert_int_equal(s[0].end, 0x101000);
	assert_int_equal(s[0].prot, PROT_READ | PROT_EXEC);
	assert_int_equal(s[1].start, 0x101000);
	assert_int_equal(s[1].end, 0x103000);
	assert_int_equal(s[1].prot, PROT_READ | PROT_WRITE);
	assert_int_equal(mem[0x10001f], 0x90);
	assert_int_equal(mem[0x10100f], 0x5a);
	assert_int_equal(mem[0x101010], 0);
	/* struct hvt_boot_info at 0x10000, the manifest, then the command line. */
	const uint8_t *bi = mem + 0x10000;
	assert_int_equal(r64(bi), MEM);
	assert_int_equal(r64(bi + 8), 0x103000);
	assert_int_equal(r64(bi + 16), 2000000000ull);
	assert_int_equal(r64(bi + 32), 0x10000 + 40);
	assert_int_equal(r64(bi + 24), 0x10000 + 40 + 8 + MFT_N * MFT_ENTRY_SIZE);
	assert_string_equal((char *)mem + r64(bi + 24), "status=7 hello");
	assert_memory_equal(mem + r64(bi + 32), img + MFT_OFF + 24, 8 + MFT_N * MFT_ENTRY_SIZE);
	/* GDT and page tables as Solo5's x86-64 tender builds them. */
	assert_int_equal(r64(mem + 0x1008), 0x00af99000000ffffull);
	assert_int_equal(r64(mem + 0x1010), 0x00cf93000000ffffull);
	assert_int_equal(r64(mem + 0x2000), 0x3003);
	assert_int_equal(r64(mem + 0x3018), 0x7003);
	assert_int_equal(r64(mem + 0x4000), 0x8003);
	assert_int_equal(r64(mem + 0x8000 + 8 * 0xf), 0);        /* 0xf000: not present */
	assert_int_equal(r64(mem + 0x8000 + 8 * 0x10), 0x10001); /* boot info: read-only */
	assert_int_equal(r64(mem + 0x8000 + 8 * 0xff), 0xff001);
	assert_int_equal(r64(mem + 0x8000 + 8 * 0x100), 0x100003);
	assert_int_equal(r64(mem + 0x4008), 0x200083);           /* 2 MiB pages after */
	assert_int_equal(r64(mem + 0x4010), 0);                  /* nothing past memory */
}

static void test_load_bounds(void **state)
{
	(void)state;
	phdr(0, 1, 5, 0x1000, 0xff000, 0x20, 0x20, 0x1000);
	load_fails("below Solo5's minimum");
	build();
	phdr(0, 1, 5, 0x1000, 0x100800, 0x20, 0x20, 0x200000);   /* rounds down to 0 */
	load_fails("rounded down");
	build();
	phdr(1, 1, 6, 0x2000, 0x101000, 0x10, MEM, 0x1000);
	load_fails("outside guest memory");
	build();
	phdr(1, 1, 6, 0x2000, ~0ull - 0x10, 0x10, 0x20, 0x1000);
	load_fails("outside guest memory");
	build();
	phdr(1, 1, 6, 0x2000, 0x101000, 0x10, ~0ull, 0x1000);    /* memsz overflow */
	load_fails("outside guest memory");
	build();
	phdr(1, 1, 6, 0x2000, 0x101000, 0x2000, 0x10, 0x1000);
	load_fails("below file size");
	build();
	phdr(1, 1, 6, 0x2800, 0x101000, 0x1000, 0x1000, 0x1000);  /* past the file */
	load_fails("past the end of the file");
	build();
	phdr(1, 1, 7, 0x2000, 0x101000, 0x10, 0x10, 0x1000);
	load_fails("WRITE and EXEC");
	build();
	phdr(1, 1, 6, 0x2000, 0x100800, 0x10, 0x10, 0x1000);     /* overlaps the text */
	load_fails("overlaps");
	build();
	phdr(0, 1, 5, 0x1000, 0x102000, 0x20, 0x20, 0x1000);     /* descending */
	load_fails("ascending");
	build();
	phdr(1, 1, 6, 0x2000, 0x101000, 0x10, 0x10, 3);
	load_fails("power of 2");
	build();
	phdr(1, 1, 6, 0x2000, 0x101000, 0x10, 0x10, 1);          /* ends mid-page */
	load_fails("not page aligned");
	build();
	w64(img + 24, 0x80000);
	load_fails("entry point");
	build();
	w16(img + 56, 200);
	load_fails("program headers past the end");
	build();
	phdr(0, 6, 0, 0, 0, 0, 0, 0);                            /* PT_PHDR, PT_PHDR */
	phdr(1, 6, 0, 0, 0, 0, 0, 0);
	load_fails("no loadable segments");
	build();
	char big[HVT_CMDLINE_SIZE + 1];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	assert_int_equal(load(big), -1);
	assert_non_null(strstr(err, "too long"));
	big[HVT_CMDLINE_SIZE - 1] = 0;                             /* 8191 characters fit */
	assert_int_equal(load(big), 0);
	assert_int_equal(hvt_load(&h, img, 0x2010, mem, MEM - 4096, "", 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "multiple of 2 MiB"));
	assert_int_equal(hvt_load(&h, img, 0x2010, mem, 1 << 20, "", 1, err, sizeof err), -1);
	assert_int_equal(hvt_load(&h, img, 0x2010, mem, 8ull << 30, "", 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "maximum"));
	assert_int_equal(hvt_load(&h, img, 0x2010, mem, 2 << 20, "", 1, err, sizeof err), 0);
	phdr(1, 1, 6, 0x2000, 0x101000, 0x10, 0x100000, 0x1000); /* .bss to 0x201000 */
	assert_int_equal(hvt_load(&h, img, 0x2010, mem, 2 << 20, "", 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "outside guest memory"));    /* too little memory */
	assert_int_equal(load(""), 0);
	assert_int_equal(hvt_round_mem(5 << 20), 4 << 20);
	assert_int_equal(hvt_round_mem(1000), 2 << 20);
}

/* ---- devices ---- */

static void attach_ok(const char *spec)
{
	if (hvt_attach(&h, spec, err, sizeof err))
		fail_msg("%s: %s", spec, err);
}

static void attach_fails(const char *spec, const char *why)
{
	assert_int_equal(hvt_attach(&h, spec, err, sizeof err), -1);
	if (!strstr(err, why))
		fail_msg("%s: error \"%s\" does not name \"%s\"", spec, err, why);
}

static void test_attach_ready(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	attach_fails("block:nosuch=disk.img", "not declared in manifest: 'nosuch'");
	attach_fails("block:service0=disk.img", "not declared");   /* a net device */
	attach_fails("block:storage=missing.img", "could not open");
	attach_fails("block:storage=tiny.img", "at least 1 block");
	attach_fails("block:sto-rage=disk.img", "malformed");
	attach_fails("block:storage=", "malformed");
	attach_fails("block:=disk.img", "malformed");
	attach_fails("disk:storage=disk.img", "unknown device option");
	attach_fails("net:service0=efinet", "not available");
	attach_fails("net-mac:service0=02:00:00:00:00", "malformed MAC");
	attach_ok("block:storage=disk.img");
	attach_fails("block:storage=disk.img", "attached twice");
	assert_int_equal(hvt_ready(&h, err, sizeof err), -1);      /* Solo5: all or nothing */
	assert_non_null(strstr(err, "'service0' of type NET_BASIC declared but not attached"));
	attach_ok("net-mac:service0=02:aB:cd:00:11:22");
	attach_ok("net:service0=tap0");
	assert_int_equal(hvt_ready(&h, err, sizeof err), 0);
	const uint8_t *m = mem + r64(mem + 0x10000 + 32);
	const uint8_t *e1 = m + 8 + MFT_ENTRY_SIZE, *e2 = e1 + MFT_ENTRY_SIZE;
	assert_int_equal(e1[MFT_E_ATTACHED], 1);
	assert_int_equal(r64(e1 + MFT_E_CAPACITY), sizeof disk);
	assert_int_equal(e1[MFT_E_BLOCK_SIZE], 0);                  /* 512, little-endian */
	assert_int_equal(e1[MFT_E_BLOCK_SIZE + 1], 2);
	assert_int_equal(e2[MFT_E_ATTACHED], 1);
	assert_memory_equal(e2 + MFT_E_MAC, "\x02\xab\xcd\x00\x11\x22", 6);
	assert_int_equal(e2[MFT_E_MTU] | e2[MFT_E_MTU + 1] << 8, 1500);
}

static void test_unattached_allowed(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	attach_ok("block:storage=disk.img");
	h.allow_unattached = 1;
	assert_int_equal(hvt_ready(&h, err, sizeof err), 0);
	const uint8_t *e2 = mem + r64(mem + 0x10000 + 32) + 8 + 2 * MFT_ENTRY_SIZE;
	assert_int_equal(e2[MFT_E_ATTACHED], 0);
}

static void test_generated_mac(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	attach_ok("net:service0=tap0");
	assert_int_equal(h.dev[2].mac[0] & 3, 2);                  /* local, unicast */
}

/* ---- hypercalls ---- */

#define HC 0x200000                     /* where the tests put hypercall structures */
#define BUF 0x300000

static void ready_all(void)
{
	assert_int_equal(load("status=7"), 0);
	attach_ok("block:storage=disk.img");
	attach_ok("net:service0=tap0");
	assert_int_equal(hvt_ready(&h, err, sizeof err), 0);
}

static int hc(int nr) { return hvt_io(&h, HVT_HYPERCALL_PIO_BASE + nr, 0, HC); }

static void assert_aborted(const char *why)
{
	assert_true(h.halted);
	assert_int_equal(h.status, HVT_STATUS_ABORT);
	if (!strstr(msgs, why))
		fail_msg("message \"%s\" does not name \"%s\"", msgs, why);
	h.halted = 0;
	h.status = 0;
	msgs[0] = 0;
}

static void test_walltime_puts(void **state)
{
	(void)state;
	ready_all();
	assert_int_equal(hc(HVT_HYPERCALL_WALLTIME), 1);
	assert_int_equal(r64(mem + HC), 1700000000ull * 1000000000ull + 5);
	memcpy(mem + BUF, "hvt: hello\n", 11);
	w64(mem + HC, BUF); w64(mem + HC + 8, 11);
	assert_int_equal(hc(HVT_HYPERCALL_PUTS), 1);
	assert_false(h.halted);
	assert_int_equal(console_len, 11);
	assert_memory_equal(console, "hvt: hello\n", 11);
	w64(mem + HC, MEM + 0x1000);                                /* pointer outside memory */
	assert_int_equal(hc(HVT_HYPERCALL_PUTS), 1);
	assert_aborted("invalid guest access");
	w64(mem + HC, MEM - 8); w64(mem + HC + 8, 8);               /* ends at mem_size: Solo5 */
	hc(HVT_HYPERCALL_PUTS);                                     /* refuses that too */
	assert_aborted("invalid guest access");
	w64(mem + HC, BUF); w64(mem + HC + 8, ~0ull - 4);           /* length wraps */
	hc(HVT_HYPERCALL_PUTS);
	assert_aborted("invalid guest access");
	assert_int_equal(hvt_io(&h, HVT_HYPERCALL_PIO_BASE + 1, 0, MEM - 4), 1);  /* struct */
	assert_aborted("invalid guest access");
	assert_int_equal(console_len, 11);
}

static void blk(int nr, uint64_t handle, uint64_t off, uint64_t data, uint64_t len)
{
	w64(mem + HC, handle); w64(mem + HC + 8, off); w64(mem + HC + 16, data);
	w64(mem + HC + 24, len); w32(mem + HC + 32, 0xdead);
	assert_int_equal(hc(nr), 1);
}

static void test_block(void **state)
{
	(void)state;
	ready_all();
	blk(HVT_HYPERCALL_BLOCK_READ, 1, 512, BUF, 512);
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_OK);
	assert_memory_equal(mem + BUF, disk + 512, 512);
	memset(mem + BUF, 0xab, 512);
	blk(HVT_HYPERCALL_BLOCK_WRITE, 1, 1024, BUF, 512);
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_OK);
	assert_int_equal(disk[1024], 0xab);
	assert_int_equal(disk[1535], 0xab);
	assert_int_equal(disk[1536], (uint8_t)1536);
	/* Solo5's tender checks only the capacity; alignment is the bindings' business. */
	blk(HVT_HYPERCALL_BLOCK_READ, 1, 100, BUF, 512);
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_OK);
	assert_int_equal(mem[BUF], 100);
	blk(HVT_HYPERCALL_BLOCK_READ, 1, 3800, BUF, 512);          /* unaligned, past the end */
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_EINVAL);
	blk(HVT_HYPERCALL_BLOCK_READ, 1, 4096, BUF, 512);          /* at the capacity */
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_EINVAL);
	blk(HVT_HYPERCALL_BLOCK_WRITE, 1, 512, BUF, ~0ull);        /* length wraps */
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_EINVAL);
	blk(HVT_HYPERCALL_BLOCK_READ, 2, 0, BUF, 512);             /* a net handle */
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_EINVAL);
	blk(HVT_HYPERCALL_BLOCK_READ, 0, 0, BUF, 512);             /* the reserved entry */
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_EINVAL);
	blk(HVT_HYPERCALL_BLOCK_READ, 1ull << 40, 0, BUF, 512);
	assert_int_equal(r32(mem + HC + 32), SOLO5_R_EINVAL);
	assert_false(h.halted);
	blk(HVT_HYPERCALL_BLOCK_READ, 1, 0, MEM - 256, 512);       /* buffer past memory */
	assert_aborted("invalid guest access");
	file_fail = 1;
	blk(HVT_HYPERCALL_BLOCK_READ, 1, 0, BUF, 512);
	assert_aborted("block read");
}

static void test_block_not_attached(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	h.allow_unattached = 1;
	assert_int_equal(hvt_ready(&h, err, sizeof err), 0);
	blk(HVT_HYPERCALL_BLOCK_READ, 1, 0, BUF, 512);
	assert_aborted("no block device");
	w64(mem + HC, 10 * 1000 * 1000);                           /* poll: 10 ms, no net */
	uint64_t t0 = now_ns;
	assert_int_equal(hc(HVT_HYPERCALL_POLL), 1);
	assert_int_equal(r64(mem + HC + 8), 0);
	assert_int_equal(r32(mem + HC + 16), 0);
	assert_true(now_ns >= t0 + 10 * 1000 * 1000);
	assert_false(h.halted);
}

static void test_net(void **state)
{
	(void)state;
	ready_all();
	w64(mem + HC, 5000000);                                    /* nothing waiting */
	hc(HVT_HYPERCALL_POLL);
	assert_int_equal(r64(mem + HC + 8), 0);
	assert_int_equal(r32(mem + HC + 16), 0);
	tap_in_n = 2;
	tap_in_len[0] = 60;
	memset(tap_in[0], 0x11, 60);
	tap_in_len[1] = 70;
	memset(tap_in[1], 0x22, 70);
	w64(mem + HC, 5000000);
	hc(HVT_HYPERCALL_POLL);
	assert_int_equal(r64(mem + HC + 8), 1ull << 2);            /* handle 2: service0 */
	assert_int_equal(r32(mem + HC + 16), 1);
	/* NET_READ: first the frame POLL held, then the next from the TAP. */
	w64(mem + HC, 2); w64(mem + HC + 8, BUF); w64(mem + HC + 16, 1514);
	hc(HVT_HYPERCALL_NET_READ);
	assert_int_equal(r32(mem + HC + 24), SOLO5_R_OK);
	assert_int_equal(r64(mem + HC + 16), 60);
	assert_int_equal(mem[BUF + 59], 0x11);
	w64(mem + HC + 16, 1514);
	hc(HVT_HYPERCALL_NET_READ);
	assert_int_equal(r64(mem + HC + 16), 70);
	assert_int_equal(mem[BUF + 69], 0x22);
	w64(mem + HC + 16, 1514);
	hc(HVT_HYPERCALL_NET_READ);
	assert_int_equal(r32(mem + HC + 24), SOLO5_R_AGAIN);
	w64(mem + HC, 1);                                          /* a block handle */
	hc(HVT_HYPERCALL_NET_READ);
	assert_int_equal(r32(mem + HC + 24), SOLO5_R_EINVAL);
	memset(mem + BUF, 0x33, 64);
	w64(mem + HC, 2); w64(mem + HC + 8, BUF); w64(mem + HC + 16, 64);
	hc(HVT_HYPERCALL_NET_WRITE);
	assert_int_equal(r32(mem + HC + 24), SOLO5_R_OK);
	assert_int_equal(tap_out_len, 64);
	assert_int_equal(tap_out[63], 0x33);
	w64(mem + HC + 8, MEM - 10);
	hc(HVT_HYPERCALL_NET_WRITE);
	assert_aborted("invalid guest access");
}

static void test_halt_and_ports(void **state)
{
	(void)state;
	ready_all();
	assert_int_equal(hvt_io(&h, 0x3f8, 0, 'x'), 0);             /* not ours */
	assert_int_equal(hvt_io(&h, 0x600, 0, 0), 0);
	assert_int_equal(hvt_io(&h, 0x500, 0, HC), 1);              /* number 0: reserved */
	assert_aborted("invalid guest port access");
	assert_int_equal(hvt_io(&h, 0x509, 0, HC), 1);
	assert_aborted("invalid guest port access");
	assert_int_equal(hvt_io(&h, 0x501, 1, 0), 1);               /* IN */
	assert_aborted("invalid guest port access");
	w64(mem + HC, MEM - 100);                                   /* cookie short of 512 */
	w32(mem + HC + 8, 7);
	hc(HVT_HYPERCALL_HALT);
	assert_aborted("invalid guest access");
	w64(mem + HC, BUF);
	hc(HVT_HYPERCALL_HALT);
	assert_true(h.halted);
	assert_int_equal(h.status, 7);
	assert_int_equal(h.halt_cookie, BUF);
	h.halted = 0;
	w64(mem + HC, 0);
	w32(mem + HC + 8, 0);
	hc(HVT_HYPERCALL_HALT);
	assert_true(h.halted);
	assert_int_equal(h.status, 0);
	/* The exit status keeps its low byte: a guest's 0x100 is 0, not HVT_STATUS_ABORT
	 * (found by fuzz_vmmctl_devices). */
	h.halted = 0;
	w32(mem + HC + 8, HVT_STATUS_ABORT);
	hc(HVT_HYPERCALL_HALT);
	assert_true(h.halted);
	assert_int_equal(h.status, 0);
	h.halted = 0;
	w32(mem + HC + 8, 0xfffffe01);
	hc(HVT_HYPERCALL_HALT);
	assert_int_equal(h.status, 1);
	assert_string_equal(msgs, "");
}

static void test_init_state(void **state)
{
	(void)state;
	struct vcpu_reg_state rs;
	ready_all();
	hvt_init_state(&h, &rs);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RIP], 0x100000);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RSP], MEM - 8);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RDI], 0x10000);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RFLAGS], 2);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR0], 0x80010021);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR3], 0x2000);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR4], 0x620);
	assert_int_equal(rs.vrs_msrs[VCPU_REGS_EFER], 0x500);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_CS].vsi_sel, 8);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_CS].vsi_ar, 0xa099);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_SS].vsi_sel, 0x10);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_DS].vsi_ar, 0xc093);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_LDTR].vsi_ar, VSI_AR_UNUSABLE);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_TR].vsi_ar, 0x8b);
	assert_int_equal(rs.vrs_gdtr.vsi_base, 0x1000);
	assert_int_equal(rs.vrs_gdtr.vsi_limit, 23);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_detect, setup),
		cmocka_unit_test_setup(test_bad_notes, setup),
		cmocka_unit_test_setup(test_load_layout, setup),
		cmocka_unit_test_setup(test_load_bounds, setup),
		cmocka_unit_test_setup(test_attach_ready, setup),
		cmocka_unit_test_setup(test_unattached_allowed, setup),
		cmocka_unit_test_setup(test_generated_mac, setup),
		cmocka_unit_test_setup(test_walltime_puts, setup),
		cmocka_unit_test_setup(test_block, setup),
		cmocka_unit_test_setup(test_block_not_attached, setup),
		cmocka_unit_test_setup(test_net, setup),
		cmocka_unit_test_setup(test_halt_and_ports, setup),
		cmocka_unit_test_setup(test_init_state, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
