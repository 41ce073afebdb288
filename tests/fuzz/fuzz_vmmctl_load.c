/* libFuzzer harness for vmmctl's guest-image loaders (control/vmmctl/hvt.c, multiboot.c,
 * bzimage.c, elf.c): the input is an image a user hands vmmctl; its last byte also picks the
 * guest memory size, the command line and the Multiboot modules / initrd, which are slices
 * of the input copied into buffers of their own (so an over-read of one is an ASan error).
 * Guest memory is one mapping allocated once, zeroed again (MADV_DONTNEED) after each loader
 * that may have written it, between inaccessible pages; the part beyond a smaller mem_size is ASan-poisoned, so
 * a write or read outside [0, mem_size) is reported. Oracles: every loader returns 0 or -1
 * (bz_load: 0, VE_INVAL or VE_NOMEM) with a NUL-terminated reason, and what it reports
 * loaded lies inside guest memory, clear of the structures it builds itself. */
#include <sanitizer/asan_interface.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include "fuzz_input.h"
#include "../../control/vmmctl/bzimage.h"
#include "../../control/vmmctl/elf.h"
#include "../../control/vmmctl/hvt.h"
#include "../../control/vmmctl/multiboot.h"
#include "../../control/vmmctl/plat.h"

#define MEM_MAX (16ull << 20)
#define PAGE 4096ull
#define LONG_CMDLINE (HVT_CMDLINE_SIZE + 1024)

/* hvt.c's platform calls: hvt_load and hvt_detect make none, the rest must not be reached. */
uint64_t plat_now_ns(void) { return 0; }
uint64_t plat_wall_ns(void) { return 0; }
void plat_msg(const char *f, ...) { (void)f; }
void plat_console_out(const void *buf, size_t n) { (void)buf; (void)n; FUZZ_CHECK(0); }
void plat_wait(uint64_t deadline_ns) { (void)deadline_ns; FUZZ_CHECK(0); }
int plat_file_open(const char *p, int w, uint64_t *s) { (void)p; (void)w; (void)s; return -VE_NOENT; }
int plat_file_pread(int h, void *b, size_t n, uint64_t o) { (void)h; (void)b; (void)n; (void)o; FUZZ_CHECK(0); return VE_IO; }
int plat_file_pwrite(int h, const void *b, size_t n, uint64_t o) { (void)h; (void)b; (void)n; (void)o; FUZZ_CHECK(0); return VE_IO; }
int plat_tap_open(const char *name) { (void)name; return -VE_NOSYS; }
int plat_tap_read(int h, void *b, size_t n) { (void)h; (void)b; (void)n; FUZZ_CHECK(0); return 0; }
int plat_tap_write(int h, const void *b, size_t n) { (void)h; (void)b; (void)n; FUZZ_CHECK(0); return 0; }

static uint8_t *region;            /* MEM_MAX bytes of guest memory, then a PROT_NONE page */
static char *long_cmdline;         /* longer than hvt's 8 KiB and a bzImage's cmdline_size */

static void init_once(void)
{
	if (region)
		return;
	uint8_t *r = mmap(NULL, MEM_MAX + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FUZZ_CHECK(r != MAP_FAILED);
	FUZZ_CHECK(mprotect(r + PAGE, MEM_MAX, PROT_READ | PROT_WRITE) == 0);
	region = r + PAGE;
	(void)madvise(region, MEM_MAX, MADV_NOHUGEPAGE);   /* re-zeroing 2 MiB pages is slow */
	long_cmdline = malloc(LONG_CMDLINE);
	FUZZ_CHECK(long_cmdline);
	memset(long_cmdline, 'c', LONG_CMDLINE - 1);
	long_cmdline[LONG_CMDLINE - 1] = 0;
}

/* Guest memory of mem_size bytes: the region with the part beyond mem_size poisoned (kept
 * from run to run while the size stays the same: poisoning megabytes is not free). */
static uint8_t *mem_get(uint64_t mem_size)
{
	static uint64_t poisoned = MEM_MAX;     /* the size the poisoning is for now */
	if (mem_size != poisoned) {
		if (poisoned < MEM_MAX)
			ASAN_UNPOISON_MEMORY_REGION(region + poisoned, MEM_MAX - poisoned);
		if (mem_size < MEM_MAX)
			ASAN_POISON_MEMORY_REGION(region + mem_size, MEM_MAX - mem_size);
		poisoned = mem_size;
	}
	return region;
}

/* Zero guest memory again after a loader that may have written it (anonymous pages come
 * back zeroed, and only the touched ones cost anything). */
static void mem_put(int dirty)
{
	if (dirty)
		FUZZ_CHECK(madvise(region, MEM_MAX, MADV_DONTNEED) == 0);
}

static uint8_t *copy_of(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	FUZZ_CHECK(c);
	memcpy(c, p, n);
	return c;
}

static void check_err(int r, const char *err, size_t errlen)
{
	if (r)
		FUZZ_CHECK(memchr(err, 0, errlen) != NULL);
}

static void run_hvt(const uint8_t *img, size_t len, uint64_t mem_size, const char *cmdline)
{
	static struct hvt h;
	char err[160];
	int det = hvt_detect(img, len);
	FUZZ_CHECK(det >= -1 && det <= 1);
	uint8_t *mem = mem_get(mem_size);
	memset(err, 0x55, sizeof err);
	int r = hvt_load(&h, img, len, mem, mem_size, cmdline, 1000000000ull, err, sizeof err);
	FUZZ_CHECK(r == 0 || r == -1);
	check_err(r, err, sizeof err);
	if (!r) {
		FUZZ_CHECK(det == 1);
		FUZZ_CHECK(h.entry >= HVT_GUEST_MIN_BASE && h.entry < mem_size);
		FUZZ_CHECK(h.kernel_end <= mem_size);
		FUZZ_CHECK(h.nsegs >= 1 && h.nsegs <= ELF_MAX_SEGS);
		for (int i = 0; i < h.nsegs; i++) {
			const struct elf_seg *s = &h.segs[i];
			FUZZ_CHECK(s->start >= HVT_GUEST_MIN_BASE && s->start < s->end);
			FUZZ_CHECK(s->end <= mem_size && !((s->start | s->end) & 0xfff));
			FUZZ_CHECK(!((s->prot & PROT_WRITE) && (s->prot & PROT_EXEC)));
			FUZZ_CHECK(i == 0 || s->start >= h.segs[i - 1].end);
		}
		FUZZ_CHECK(h.ndevs >= 1 && h.ndevs <= MFT_MAX_ENTRIES);
		FUZZ_CHECK(h.mft_gpa >= HVT_X86_BOOT_INFO_BASE + HVT_BOOT_INFO_SIZE);
		FUZZ_CHECK(h.cmdline_gpa == h.mft_gpa + h.mft_size);
		FUZZ_CHECK(h.cmdline_gpa + HVT_CMDLINE_SIZE <= HVT_GUEST_MIN_BASE);
		size_t cl = strlen((const char *)mem + h.cmdline_gpa);
		FUZZ_CHECK(cl < HVT_CMDLINE_SIZE);
	}
	mem_put(det == 1);                      /* segments are copied only past the ABI1 check */
}

static void run_mb(const uint8_t *img, size_t len, uint64_t mem_size, const char *cmdline,
		   const struct mb_module *mods, int nmods)
{
	struct mb_boot b;
	char err[160];
	int det = mb_detect(img, len);
	FUZZ_CHECK(det == 0 || det == 1);
	uint8_t *mem = mem_get(mem_size);
	memset(err, 0x55, sizeof err);
	int r = mb_load(&b, img, len, mem, mem_size, cmdline, mods, nmods, err, sizeof err);
	FUZZ_CHECK(r == 0 || r == -1);
	check_err(r, err, sizeof err);
	if (!r) {
		FUZZ_CHECK(det == 1);
		FUZZ_CHECK(b.kernel_start < b.kernel_end && b.kernel_end <= mem_size);
		FUZZ_CHECK(b.entry >= b.kernel_start && b.entry < b.kernel_end);
		FUZZ_CHECK(b.info == MB_INFO_ADDR);
		FUZZ_CHECK(b.mods_end >= b.kernel_end && b.mods_end <= mem_size);
		const uint8_t *info = mem + MB_INFO_ADDR;
		uint32_t count, at;
		memcpy(&count, info + 20, 4);
		memcpy(&at, info + 24, 4);
		FUZZ_CHECK(count == (uint32_t)nmods && at == MB_MODS_ADDR);
		for (int i = 0; i < nmods; i++) {
			struct mb_mod_entry e;
			memcpy(&e, mem + MB_MODS_ADDR + 16 * i, sizeof e);
			FUZZ_CHECK(e.mod_start % PAGE == 0 && e.mod_end - e.mod_start == mods[i].len);
			FUZZ_CHECK(e.mod_start >= b.kernel_end && e.mod_end <= mem_size);
			/* A module is the guest's data: never where the information structure,
			 * memory map, module list and strings are (0x8000-0x9f000), nor in the
			 * reserved 0x9fc00-0x100000 the memory map tells the guest to avoid. */
			if (mods[i].len) {
				FUZZ_CHECK(e.mod_end <= MB_INFO_ADDR || e.mod_start >= MB_LOW_END);
				FUZZ_CHECK(e.mod_end <= 0x9fc00 || e.mod_start >= 0x100000);
				FUZZ_CHECK(memcmp(mem + e.mod_start, mods[i].data, mods[i].len) == 0);
			}
		}
	}
	mem_put(det);                           /* no header: nothing written */
}

static void run_bz(const uint8_t *img, size_t len, uint64_t mem_size, const char *cmdline,
		   const uint8_t *initrd, size_t initrd_len)
{
	struct bz_boot b;
	char err[160];
	int det = bz_detect(img, len);
	FUZZ_CHECK(det == 0 || det == 1);
	uint8_t *mem = mem_get(mem_size);
	memset(err, 0x55, sizeof err);
	int r = bz_load(&b, img, len, initrd, initrd_len, mem, mem_size, cmdline, err, sizeof err);
	FUZZ_CHECK(r == 0 || r == VE_INVAL || r == VE_NOMEM);
	FUZZ_CHECK(memchr(err, 0, sizeof err) != NULL);
	if (!r) {
		FUZZ_CHECK(det == 1);
		FUZZ_CHECK(b.kernel_start >= 0x100000 && b.kernel_start <= b.kernel_end);
		FUZZ_CHECK(b.kernel_end <= mem_size && b.entry == b.kernel_start + 0x200);
		FUZZ_CHECK(b.boot_params == BZ_BOOT_PARAMS && b.cmdline == BZ_CMDLINE);
		FUZZ_CHECK(b.cmdline + strlen((const char *)mem + b.cmdline) < BZ_LOW_END);
		if (initrd_len) {
			FUZZ_CHECK(b.initrd_start % PAGE == 0 && b.initrd_start >= b.kernel_end);
			FUZZ_CHECK(b.initrd_end - b.initrd_start == initrd_len);
			FUZZ_CHECK(b.initrd_end <= mem_size);
			FUZZ_CHECK(memcmp(mem + b.initrd_start, initrd, initrd_len) == 0);
		} else {
			FUZZ_CHECK(b.initrd_start == 0 && b.initrd_end == 0);
		}
	}
	mem_put(r == 0);                        /* bz_load writes only once all is placed */
}

static void run_elf(const uint8_t *img, size_t len, uint64_t mem_size)
{
	struct elf_seg segs[ELF_MAX_SEGS];
	uint64_t entry = 0;
	int is = is_elf64(img, len);
	uint8_t *mem = mem_get(mem_size);
	int n = load_elf(img, len, mem, mem_size, segs, &entry);
	FUZZ_CHECK(n >= -1 && n <= ELF_MAX_SEGS);
	FUZZ_CHECK(n == -1 || is);
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(segs[i].start <= segs[i].end && segs[i].end <= mem_size);
	mem_put(is);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Guest memory sizes: Solo5's smallest, vmmctl's usual, the most here; one above 1 MiB
	 * by a page (Multiboot's and Linux's least), one not a 2 MiB multiple (hvt refuses). */
	static const uint64_t sizes[8] = {
		2ull << 20, 8ull << 20, MEM_MAX, (1ull << 20) + 2 * PAGE,
		(6ull << 20) + PAGE, 4ull << 20, 8ull << 20, 8ull << 20,
	};
	init_once();
	if (size < 1)
		return 0;
	uint8_t c = data[size - 1];
	uint64_t mem_size = sizes[c & 7];
	static const char *const cmdlines[4] = { NULL, "", "console=ttyS0 -- arg", NULL };
	const char *cmdline = (c >> 3 & 3) == 3 ? long_cmdline : cmdlines[c >> 3 & 3];
	/* The image: the whole input, in a buffer of its own size (a libFuzzer-owned copy). */
	uint8_t *img = copy_of(data, size);

	run_hvt(img, size, mem_size, cmdline);
	run_elf(img, size, mem_size);

	/* Multiboot modules and the initrd: the input's last quarter and last sixteenth. */
	int nmods = (c >> 5) % 3;
	struct mb_module mods[2];
	size_t q = size / 4, s = size / 16;
	mods[0] = (struct mb_module){ copy_of(data + size - q, q), q, (c & 0x80) ? "mod0 a" : NULL };
	mods[1] = (struct mb_module){ copy_of(data + size - s, s), s, long_cmdline + LONG_CMDLINE - 9 };
	run_mb(img, size, mem_size, cmdline, mods, nmods);
	run_bz(img, size, mem_size, cmdline, mods[c & 0x40 ? 0 : 1].data,
	       (c & 0x20) ? 0 : mods[c & 0x40 ? 0 : 1].len);
	free((void *)mods[0].data);
	free((void *)mods[1].data);
	free(img);
	return 0;
}
