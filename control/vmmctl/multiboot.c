/* Multiboot v1 loading (see multiboot.h). The image is hostile: every field is checked
 * before it is used, and nothing is written outside [0, mem_size). */
#include "multiboot.h"
#include "../../control/libvmm/vmm_state.h"
#include "../../hv/fmt.h"

#define MB_HF_KNOWN (MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_AOUT_KLUDGE)
#define MB_MAX_SEGS 16
#define PAGE 0x1000ull
#define LOW_AVAIL_END 0x9fc00u   /* a PC's conventional memory ends with the EBDA here */
#define HIGH_START 0x100000u

#define EM_386 3
#define EM_X86_64 62
#define ELF_PT_LOAD 1

struct seg { uint64_t off, vaddr, paddr, filesz, memsz; };

static uint32_t rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void mcpy(uint8_t *d, const uint8_t *s, uint64_t n)
{
	while (n--)
		*d++ = *s++;
}

static void mset(uint8_t *d, uint8_t v, uint64_t n)
{
	while (n--)
		*d++ = v;
}

/* Offset of the first 4-byte aligned magic in the first 8 KiB, -1 if none; *bad_sum tells
 * a magic whose checksum does not add up (the search goes on past it). */
static long find_header(const uint8_t *img, size_t len, int *bad_sum)
{
	size_t lim = len < MB_SEARCH ? len : MB_SEARCH;

	*bad_sum = 0;
	for (size_t off = 0; off + 12 <= lim; off += 4) {
		if (rd32(img + off) != MB_HEADER_MAGIC)
			continue;
		if (rd32(img + off) + rd32(img + off + 4) + rd32(img + off + 8) == 0)
			return (long)off;
		*bad_sum = 1;
	}
	return -1;
}

int mb_detect(const uint8_t *img, size_t len)
{
	int bad;
	return img && find_header(img, len, &bad) >= 0;
}

/* ---- the kernel's segments ---- */

/* The address-fields form (flag 16, spec 3.1.3): one segment from the file, then bss. */
static int aout_segs(const uint8_t *img, size_t len, size_t hoff, struct seg *s, uint32_t *entry,
		     char *err, size_t errlen)
{
	if (len - hoff < 32) {
		fmt(err, errlen, "multiboot: header address fields truncated");
		return -1;
	}
	const uint8_t *h = img + hoff;
	uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16), load_end = rd32(h + 20);
	uint32_t bss_end = rd32(h + 24);

	*entry = rd32(h + 28);
	if (header_addr < load_addr || header_addr - load_addr > hoff) {
		fmt(err, errlen, "multiboot: header_addr 0x%x inconsistent with load_addr 0x%x", header_addr,
		    load_addr);
		return -1;
	}
	s->off = hoff - (header_addr - load_addr);
	if (!load_end) {        /* 0: the rest of the file */
		uint64_t e = (uint64_t)load_addr + (len - s->off);
		if (e > 0xffffffffull) {
			fmt(err, errlen, "multiboot: image loaded at 0x%x runs past 4 GiB", load_addr);
			return -1;
		}
		load_end = (uint32_t)e;
	}
	if (load_end < load_addr || load_end - load_addr > len - s->off) {
		fmt(err, errlen, "multiboot: load_end_addr 0x%x before load_addr or past the file", load_end);
		return -1;
	}
	if (!bss_end)
		bss_end = load_end;
	if (bss_end < load_end) {
		fmt(err, errlen, "multiboot: bss_end_addr 0x%x below load_end_addr 0x%x", bss_end, load_end);
		return -1;
	}
	if (*entry < load_addr || *entry >= load_end) {
		fmt(err, errlen, "multiboot: entry_addr 0x%x outside the loaded image", *entry);
		return -1;
	}
	s->vaddr = s->paddr = load_addr;
	s->filesz = load_end - load_addr;
	s->memsz = bss_end - load_addr;
	return 1;
}

/* ELF32 or ELF64 (kvm-unit-tests' x86_64 tests are ELF64 code in an ELF32 file, objcopy
 * -O elf32-i386): PT_LOAD segments at their physical addresses, as GRUB loads them. */
static int elf_segs(const uint8_t *img, size_t len, struct seg *segs, uint64_t *entry,
		    char *err, size_t errlen)
{
	if (len < 64 || rd32(img) != 0x464c457fu) {
		fmt(err, errlen, "multiboot: no address fields (flag 16) and not an ELF file");
		return -1;
	}
	int is64 = img[4] == 2;
	uint32_t mach = rd16(img + 18);
	if ((img[4] != 1 && !is64) || img[5] != 1 || (mach != EM_386 && mach != EM_X86_64)) {
		fmt(err, errlen, "multiboot: ELF file not little-endian x86 (class %u, machine %u)",
		    img[4], mach);
		return -1;
	}
	uint64_t phoff = is64 ? rd64(img + 32) : rd32(img + 28);
	uint32_t phent = rd16(img + (is64 ? 54 : 42)), phnum = rd16(img + (is64 ? 56 : 44));
	*entry = is64 ? rd64(img + 24) : rd32(img + 24);
	if (phent < (is64 ? 56u : 32u) || phoff > len || (uint64_t)phent * phnum > len - phoff) {
		fmt(err, errlen, "multiboot: ELF program headers (%u of %u bytes at 0x%llx) outside the file",
		    phnum, phent, (unsigned long long)phoff);
		return -1;
	}
	int n = 0;
	for (uint32_t i = 0; i < phnum; i++) {
		const uint8_t *p = img + phoff + (uint64_t)i * phent;
		if (rd32(p) != ELF_PT_LOAD)
			continue;
		struct seg s = is64 ? (struct seg){ rd64(p + 8), rd64(p + 16), rd64(p + 24), rd64(p + 32), rd64(p + 40) }
				    : (struct seg){ rd32(p + 4), rd32(p + 8), rd32(p + 12), rd32(p + 16), rd32(p + 20) };
		if (!s.memsz)
			continue;
		if (n == MB_MAX_SEGS) {
			fmt(err, errlen, "multiboot: more than %d loadable segments", MB_MAX_SEGS);
			return -1;
		}
		segs[n++] = s;
	}
	if (!n) {
		fmt(err, errlen, "multiboot: ELF file without loadable segments");
		return -1;
	}
	return n;
}

/* The ELF entry point is virtual: translate it through the segment that holds it. */
static int elf_entry(const struct seg *segs, int n, uint64_t e, uint32_t *entry, char *err,
		     size_t errlen)
{
	for (int i = 0; i < n; i++)
		if (e >= segs[i].vaddr && e - segs[i].vaddr < segs[i].filesz) {
			*entry = (uint32_t)(e - segs[i].vaddr + segs[i].paddr);
			return 0;
		}
	fmt(err, errlen, "multiboot: entry point 0x%llx outside every loadable segment",
	    (unsigned long long)e);
	return -1;
}

static int check_seg(const struct seg *s, size_t len, uint64_t mem_size, char *err, size_t errlen)
{
	uint64_t end = s->paddr + s->memsz;

	if (s->filesz > s->memsz || s->off > len || s->filesz > len - s->off) {
		fmt(err, errlen, "multiboot: segment at 0x%llx: file bytes outside the file",
		    (unsigned long long)s->paddr);
		return -1;
	}
	if (end < s->paddr || end > mem_size || end > 0x100000000ull) {
		fmt(err, errlen, "multiboot: segment 0x%llx-0x%llx does not fit in guest memory (0x%llx)",
		    (unsigned long long)s->paddr, (unsigned long long)end, (unsigned long long)mem_size);
		return -1;
	}
	if (s->paddr < MB_LOW_END && end > MB_INFO_ADDR) {
		fmt(err, errlen, "multiboot: segment 0x%llx-0x%llx overlaps the boot information at 0x%x-0x%x",
		    (unsigned long long)s->paddr, (unsigned long long)end, MB_INFO_ADDR, MB_LOW_END);
		return -1;
	}
	return 0;
}

/* Check every segment and that none overlaps another, then copy them and clear their bss. */
static int place_segs(struct mb_boot *b, const struct seg *segs, int n, const uint8_t *img,
		      size_t len, uint8_t *mem, uint64_t mem_size, char *err, size_t errlen)
{
	b->kernel_start = 0xffffffffu;
	b->kernel_end = 0;
	for (int i = 0; i < n; i++) {
		if (check_seg(&segs[i], len, mem_size, err, errlen))
			return -1;
		for (int j = 0; j < i; j++)
			if (segs[i].paddr < segs[j].paddr + segs[j].memsz &&
			    segs[j].paddr < segs[i].paddr + segs[i].memsz) {
				fmt(err, errlen, "multiboot: segments at 0x%llx and 0x%llx overlap",
				    (unsigned long long)segs[j].paddr, (unsigned long long)segs[i].paddr);
				return -1;
			}
	}
	for (int i = 0; i < n; i++) {
		const struct seg *s = &segs[i];
		mcpy(mem + s->paddr, img + s->off, s->filesz);
		mset(mem + s->paddr + s->filesz, 0, s->memsz - s->filesz);
		if (s->paddr < b->kernel_start)
			b->kernel_start = (uint32_t)s->paddr;
		if (s->paddr + s->memsz > b->kernel_end)
			b->kernel_end = (uint32_t)(s->paddr + s->memsz);
	}
	return 0;
}

static int load_kernel(struct mb_boot *b, const uint8_t *img, size_t len, uint8_t *mem,
		       uint64_t mem_size, char *err, size_t errlen)
{
	struct seg segs[MB_MAX_SEGS];
	int bad, n;
	long hoff = find_header(img, len, &bad);

	if (hoff < 0) {
		fmt(err, errlen, bad ? "multiboot: header checksum does not add up"
				     : "multiboot: no header in the first 8 KiB");
		return -1;
	}
	uint32_t flags = rd32(img + hoff + 4);
	if (flags & 0xffff & ~MB_HF_KNOWN) {
		fmt(err, errlen, "multiboot: header asks for features vmmctl lacks (flags 0x%x%s)",
		    flags, (flags & MB_HF_VIDEO_MODE) ? ", a video mode" : "");
		return -1;
	}
	if (flags & MB_HF_AOUT_KLUDGE) {
		n = aout_segs(img, len, (size_t)hoff, segs, &b->entry, err, errlen);
	} else {
		uint64_t e;
		n = elf_segs(img, len, segs, &e, err, errlen);
		if (n > 0 && elf_entry(segs, n, e, &b->entry, err, errlen))
			return -1;
	}
	if (n < 0)
		return -1;
	return place_segs(b, segs, n, img, len, mem, mem_size, err, errlen);
}

/* ---- the information structure ---- */

struct low { uint8_t *mem; uint32_t str; };

/* A NUL-terminated copy of s in the strings area; its guest address in *addr. */
static int put_str(struct low *l, const char *s, uint32_t *addr, char *err, size_t errlen)
{
	uint32_t n = 0;

	if (!s)
		s = "";
	while (s[n] && l->str + n < MB_LOW_END)
		n++;
	if (l->str + n + 1 > MB_LOW_END) {
		fmt(err, errlen, "multiboot: command lines do not fit in 0x%x-0x%x", MB_STRINGS_ADDR,
		    MB_LOW_END);
		return -1;
	}
	mcpy(l->mem + l->str, (const uint8_t *)s, n);
	l->mem[l->str + n] = 0;
	*addr = l->str;
	l->str += n + 1;
	return 0;
}

static void put_mmap_entry(uint8_t *p, uint64_t base, uint64_t len, uint32_t type)
{
	wr32(p, 20);
	wr32(p + 4, (uint32_t)base);
	wr32(p + 8, (uint32_t)(base >> 32));
	wr32(p + 12, (uint32_t)len);
	wr32(p + 16, (uint32_t)(len >> 32));
	wr32(p + 20, type);
}

static uint32_t build_mmap(uint8_t *mem, uint64_t mem_size)
{
	uint8_t *p = mem + MB_MMAP_ADDR;

	put_mmap_entry(p, 0, LOW_AVAIL_END, 1);
	put_mmap_entry(p + 24, LOW_AVAIL_END, 0xa0000 - LOW_AVAIL_END, 2);
	put_mmap_entry(p + 48, 0xf0000, 0x10000, 2);
	put_mmap_entry(p + 72, HIGH_START, mem_size - HIGH_START, 1);
	return 4 * 24;
}

/* Modules page-aligned from the first page above the kernel (flag 0 or not: always), and
 * never below 1 MiB: a kernel loaded low (its segments may end below MB_INFO_ADDR) must not
 * have its modules put over the information structure and strings at 0x8000-0x9f000, nor
 * in the 0x9fc00-0x100000 the memory map reserves. */
static int place_mods(struct mb_boot *b, struct low *l, uint8_t *mem, uint64_t mem_size,
		      const struct mb_module *mods, int nmods, char *err, size_t errlen)
{
	uint64_t at = ((uint64_t)b->kernel_end + PAGE - 1) & ~(PAGE - 1);

	if (at < HIGH_START)
		at = HIGH_START;

	b->mods_end = b->kernel_end;
	for (int i = 0; i < nmods; i++) {
		uint8_t *e = mem + MB_MODS_ADDR + 16 * i;
		uint32_t str;
		if (mods[i].len > mem_size || at > mem_size - mods[i].len ||
		    at + mods[i].len > 0xffffffffull) {
			fmt(err, errlen, "multiboot: module %d (%zu bytes at 0x%llx) does not fit in guest memory",
			    i, mods[i].len, (unsigned long long)at);
			return -1;
		}
		if (put_str(l, mods[i].cmdline, &str, err, errlen))
			return -1;
		if (mods[i].len)
			mcpy(mem + at, mods[i].data, mods[i].len);
		wr32(e, (uint32_t)at);
		wr32(e + 4, (uint32_t)(at + mods[i].len));
		wr32(e + 8, str);
		wr32(e + 12, 0);
		b->mods_end = (uint32_t)(at + mods[i].len);
		at = (at + mods[i].len + PAGE - 1) & ~(PAGE - 1);
	}
	return 0;
}

static int build_info(struct mb_boot *b, uint8_t *mem, uint64_t mem_size, const char *cmdline,
		      const struct mb_module *mods, int nmods, char *err, size_t errlen)
{
	struct low l = { mem, MB_STRINGS_ADDR };
	uint8_t *info = mem + MB_INFO_ADDR;
	uint32_t name, cl;
	uint64_t upper_kib = (mem_size - HIGH_START) / 1024;

	mset(info, 0, MB_STRINGS_ADDR - MB_INFO_ADDR);
	if (put_str(&l, "vmmctl", &name, err, errlen) || put_str(&l, cmdline, &cl, err, errlen) ||
	    place_mods(b, &l, mem, mem_size, mods, nmods, err, errlen))
		return -1;
	wr32(info + 0, MB_IF_MEMORY | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP | MB_IF_LOADER);
	wr32(info + 4, LOW_AVAIL_END / 1024);
	wr32(info + 8, upper_kib > 0xffffffffu ? 0xffffffffu : (uint32_t)upper_kib);
	wr32(info + 16, cl);
	wr32(info + 20, (uint32_t)nmods);
	wr32(info + 24, MB_MODS_ADDR);
	wr32(info + 44, build_mmap(mem, mem_size));
	wr32(info + 48, MB_MMAP_ADDR);
	wr32(info + 64, name);
	b->info = MB_INFO_ADDR;
	return 0;
}

int mb_load(struct mb_boot *b, const uint8_t *img, size_t len, uint8_t *mem, uint64_t mem_size,
	    const char *cmdline, const struct mb_module *mods, int nmods, char *err, size_t errlen)
{
	*b = (struct mb_boot){ 0 };
	if (!img || !mem) {
		fmt(err, errlen, "multiboot: no image or no guest memory");
		return -1;
	}
	if (mem_size <= HIGH_START + PAGE) {
		fmt(err, errlen, "multiboot: guest memory (0x%llx bytes) must extend past 1 MiB",
		    (unsigned long long)mem_size);
		return -1;
	}
	if (nmods < 0 || nmods > MB_MAX_MODS || (nmods && !mods)) {
		fmt(err, errlen, "multiboot: %d modules (at most %d)", nmods, MB_MAX_MODS);
		return -1;
	}
	for (int i = 0; i < nmods; i++)
		if (mods[i].len && !mods[i].data) {
			fmt(err, errlen, "multiboot: module %d has no data", i);
			return -1;
		}
	if (load_kernel(b, img, len, mem, mem_size, err, errlen))
		return -1;
	return build_info(b, mem, mem_size, cmdline, mods, nmods, err, errlen);
}

void mb_init_state(const struct mb_boot *b, struct vcpu_reg_state *rs)
{
	vmm_state_prot32(rs, b->entry);   /* flat 4 GiB CS/DS, paging off, IF = VM = 0 */
	rs->vrs_gprs[VCPU_REGS_RAX] = MB_BOOTLOADER_MAGIC;
	rs->vrs_gprs[VCPU_REGS_RBX] = b->info;
}
