/* Solo5 hvt unikernels for vmmctl (see hvt.h for the facts and the API). The checks follow
 * Solo5's tender (tenders/common/elf.c, mft.c, tenders/hvt) rule for rule; where vmmctl
 * differs the comment says so. Everything the guest or the file supplies is untrusted. */
#include <stdarg.h>

#include "hvt.h"
#include "plat.h"
#include "../libvmm/vmm_state.h"
#include "../../hv/fmt.h"

/* ---- small helpers (freestanding) ---- */

static void mcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	while (n--)
		*dp++ = *sp++;
}

static void mset(void *d, int c, size_t n)
{
	uint8_t *dp = d;
	while (n--)
		*dp++ = (uint8_t)c;
}

static size_t slen_max(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

static int seq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Little-endian fields at any alignment (the file's and the guest's bytes). */
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

static int fail(char *err, size_t errlen, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	if (err && errlen)
		fmt_v(err, errlen, f, ap);
	va_end(ap);
	return -1;
}

/* ---- ELF headers (System V gABI; Solo5's ehdr_is_valid) ---- */

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define PT_NOTE 4
#define NHDR_SIZE 12                     /* Elf64_Nhdr: namesz, descsz, type */
#define SOLO5_NHDR_SIZE 20               /* ... + "Solo5\0" padded to 8 */
#define ABI1_NOTE_TYPE 0x31494241u       /* "ABI1" */
#define MFT1_NOTE_TYPE 0x3154464du       /* "MFT1" */
#define ABI1_NOTE_ALIGN 4                /* alignof(struct abi1_info) */
#define ABI1_INFO_SIZE 16
#define ABI1_NOTE_MAX 32                 /* ABI1_NOTE_MAX_SIZE */
#define MFT1_NOTE_ALIGN 8                /* alignof(struct mft) */
#define MFT1_NOTE_MAX (12 + MFT_MAX_ENTRIES * MFT_ENTRY_SIZE)   /* MFT1_NOTE_MAX_SIZE */

struct phdr { uint32_t type, flags; uint64_t offset, vaddr, filesz, memsz, align; };

static void read_phdr(const uint8_t *img, uint64_t phoff, unsigned i, struct phdr *p)
{
	const uint8_t *q = img + phoff + (uint64_t)i * PHDR_SIZE;
	p->type = rd32(q);
	p->flags = rd32(q + 4);
	p->offset = rd64(q + 8);
	p->vaddr = rd64(q + 16);
	p->filesz = rd64(q + 32);
	p->memsz = rd64(q + 40);
	p->align = rd64(q + 48);
}

/* An ELF64 little-endian x86-64 executable as Solo5 accepts it (e_ident OSABI deliberately
 * unchecked, as Solo5 does), with its program headers inside the file. */
static int ehdr_check(const uint8_t *img, size_t len, uint64_t *phoff, unsigned *phnum,
		      char *err, size_t errlen)
{
	if (len < EHDR_SIZE || img[0] != 0x7f || img[1] != 'E' || img[2] != 'L' || img[3] != 'F')
		return fail(err, errlen, "not an ELF file");
	if (img[4] != 2 || img[5] != 1 || rd32(img + 20) != 1)
		return fail(err, errlen, "not a little-endian ELF64 (version 1) file");
	if (rd16(img + 52) != EHDR_SIZE || rd16(img + 54) != PHDR_SIZE)
		return fail(err, errlen, "ELF header or program header size is not ELF64's");
	if (rd16(img + 16) != 2 || rd16(img + 18) != 62)
		return fail(err, errlen, "not an x86-64 executable (ET_EXEC, EM_X86_64)");
	*phnum = rd16(img + 56);
	*phoff = rd64(img + 32);
	if (*phnum < 1)
		return fail(err, errlen, "no program headers");
	if (*phoff > len || (uint64_t)*phnum * PHDR_SIZE > len - *phoff)
		return fail(err, errlen, "program headers past the end of the file (%zu bytes)", len);
	return 0;
}

/* Solo5's elf_load_note: the first note of each PT_NOTE segment is examined; the one owned
 * by "Solo5" with type `type` is taken, its descriptor past the internal alignment returned
 * as [*off, *off + *size). 1 found, 0 not found, -1 malformed (err says why). */
static int find_note(const uint8_t *img, size_t len, uint64_t phoff, unsigned phnum,
		     uint32_t type, uint64_t align, uint64_t max, uint64_t *off, uint64_t *size,
		     char *err, size_t errlen)
{
	for (unsigned i = 0; i < phnum; i++) {
		struct phdr p;
		read_phdr(img, phoff, i, &p);
		if (p.type != PT_NOTE)
			continue;
		if (p.filesz < NHDR_SIZE)
			return fail(err, errlen, "PT_NOTE %u shorter than a note header", i);
		if (p.filesz < SOLO5_NHDR_SIZE)
			continue;               /* too short to be Solo5's: ignored */
		if (p.offset > len || p.filesz > len - p.offset)
			return fail(err, errlen, "PT_NOTE %u past the end of the file", i);
		const uint8_t *n = img + p.offset;
		if (rd32(n) != 6 || n[12] != 'S' || n[13] != 'o' || n[14] != 'l' ||
		    n[15] != 'o' || n[16] != '5' || n[17] != 0)
			continue;               /* not owned by "Solo5" */
		if (rd32(n + 8) != type)
			continue;
		uint64_t descsz = rd32(n + 4);
		uint64_t pad = ((SOLO5_NHDR_SIZE + align - 1) & ~(align - 1)) - SOLO5_NHDR_SIZE;
		if (descsz < 1 || descsz > max)
			return fail(err, errlen, "Solo5 note 0x%x: descriptor size %llu out of "
				    "range (1..%llu)", type, (unsigned long long)descsz,
				    (unsigned long long)max);
		if (p.filesz < SOLO5_NHDR_SIZE + descsz)
			return fail(err, errlen, "Solo5 note 0x%x: descriptor truncated", type);
		if (descsz <= pad)
			return fail(err, errlen, "Solo5 note 0x%x: descriptor is all padding",
				    type);
		*off = p.offset + SOLO5_NHDR_SIZE + pad;
		*size = descsz - pad;
		return 1;
	}
	return 0;
}

int hvt_detect(const uint8_t *img, size_t len)
{
	uint64_t phoff, off, size;
	unsigned phnum;
	if (ehdr_check(img, len, &phoff, &phnum, NULL, 0))
		return 0;
	int r = find_note(img, len, phoff, phnum, ABI1_NOTE_TYPE, ABI1_NOTE_ALIGN, ABI1_NOTE_MAX,
			  &off, &size, NULL, 0);
	if (r <= 0)
		return r;
	if (size < ABI1_INFO_SIZE)
		return -1;
	return rd32(img + off) == HVT_ABI_TARGET;
}

uint64_t hvt_round_mem(uint64_t mem_size)
{
	uint64_t m = mem_size & ~(HVT_X86_PAGE_2M - 1);
	return m ? m : HVT_X86_PAGE_2M;
}

/* ---- loading ---- */

/* The ABI1 note: target hvt, our version. */
static int check_abi(const uint8_t *img, size_t len, uint64_t phoff, unsigned phnum,
		     char *err, size_t errlen)
{
	uint64_t off, size;
	int r = find_note(img, len, phoff, phnum, ABI1_NOTE_TYPE, ABI1_NOTE_ALIGN, ABI1_NOTE_MAX,
			  &off, &size, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		return fail(err, errlen, "no Solo5 ABI information found in executable");
	if (size < ABI1_INFO_SIZE)
		return fail(err, errlen, "Solo5 ABI note too short (%llu bytes)",
			    (unsigned long long)size);
	if (rd32(img + off) != HVT_ABI_TARGET)
		return fail(err, errlen, "executable is not for the solo5-hvt target (target %u)",
			    rd32(img + off));
	if (rd32(img + off + 4) < HVT_ABI_VERSION || rd32(img + off + 4) > HVT_ABI_VERSION_MAX)
		return fail(err, errlen, "executable requests unsupported ABI version %u "
			    "(supported: %u to %u)", rd32(img + off + 4), HVT_ABI_VERSION, HVT_ABI_VERSION_MAX);
	return 0;
}

/* The MFT1 note, checked as Solo5's mft_validate does; fills h->dev. */
static int load_mft(struct hvt *h, const uint8_t *img, size_t len, uint64_t phoff,
		    unsigned phnum, uint64_t *mft_off, char *err, size_t errlen)
{
	uint64_t off, size;
	int r = find_note(img, len, phoff, phnum, MFT1_NOTE_TYPE, MFT1_NOTE_ALIGN, MFT1_NOTE_MAX,
			  &off, &size, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		return fail(err, errlen, "no Solo5 manifest found in executable");
	const uint8_t *m = img + off;
	if (size < MFT_HDR_SIZE)
		return fail(err, errlen, "manifest too short (%llu bytes)", (unsigned long long)size);
	uint32_t version = rd32(m), n = rd32(m + 4);
	if (version != MFT_VERSION)
		return fail(err, errlen, "manifest version %u unsupported (supported: %u)",
			    version, MFT_VERSION);
	if (n > MFT_MAX_ENTRIES)
		return fail(err, errlen, "manifest has %u entries (at most %u)", n,
			    MFT_MAX_ENTRIES);
	if (size != MFT_HDR_SIZE + (uint64_t)n * MFT_ENTRY_SIZE)
		return fail(err, errlen, "manifest size %llu does not match its %u entries",
			    (unsigned long long)size, n);
	if (n < 1 || rd32(m + MFT_HDR_SIZE + MFT_E_TYPE) != MFT_RESERVED_FIRST ||
	    m[MFT_HDR_SIZE + MFT_E_NAME] != 0)
		return fail(err, errlen, "manifest does not begin with the reserved entry");
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = m + MFT_HDR_SIZE + i * MFT_ENTRY_SIZE;
		if (e[MFT_E_NAME + MFT_NAME_SIZE - 1] != 0)
			return fail(err, errlen, "manifest entry %u: name not terminated", i);
		if (e[MFT_E_ATTACHED] != 0)
			return fail(err, errlen, "manifest entry %u: marked attached", i);
		mcpy(h->dev[i].name, e + MFT_E_NAME, MFT_NAME_SIZE);
		h->dev[i].type = rd32(e + MFT_E_TYPE);
		h->dev[i].handle = -1;
	}
	h->ndevs = n;
	h->mft_size = size;
	*mft_off = off;
	return 0;
}

/* One PT_LOAD (Solo5's elf_load): at p_vaddr, not below HVT_GUEST_MIN_BASE, in ascending
 * order, not overlapping the previous one once rounded to p_align, inside memory and the
 * file, page aligned once rounded, never writable and executable. */
static int load_seg(struct hvt *h, const uint8_t *img, size_t len, const struct phdr *p,
		    unsigned i, uint64_t *last_vaddr, char *err, size_t errlen)
{
	uint64_t a = p->align, start, end;
	if (p->vaddr < HVT_GUEST_MIN_BASE)
		return fail(err, errlen, "segment %u at 0x%llx is below Solo5's minimum 0x%llx",
			    i, (unsigned long long)p->vaddr, HVT_GUEST_MIN_BASE);
	if (p->vaddr < *last_vaddr)
		return fail(err, errlen, "segment %u is not in ascending address order", i);
	*last_vaddr = p->vaddr;
	if (a == 0 || (a & (a - 1)))
		return fail(err, errlen, "segment %u: alignment 0x%llx is not a power of 2", i,
			    (unsigned long long)a);
	start = p->vaddr & ~(a - 1);
	if (start < HVT_GUEST_MIN_BASE)
		return fail(err, errlen, "segment %u rounded down to 0x%llx is below 0x%llx", i,
			    (unsigned long long)start, HVT_GUEST_MIN_BASE);
	if (start < h->kernel_end)
		return fail(err, errlen, "segment %u overlaps the one before", i);
	if (p->vaddr >= h->mem_size || p->filesz > h->mem_size - p->vaddr)
		return fail(err, errlen, "segment %u (0x%llx + 0x%llx) is outside guest memory "
			    "(0x%llx bytes)", i, (unsigned long long)p->vaddr,
			    (unsigned long long)p->filesz, (unsigned long long)h->mem_size);
	if (p->memsz < p->filesz)
		return fail(err, errlen, "segment %u: memory size below file size", i);
	if (p->memsz > h->mem_size - p->vaddr ||
	    ((p->vaddr + p->memsz + a - 1) & ~(a - 1)) > h->mem_size ||
	    p->vaddr + p->memsz + a - 1 < p->vaddr)
		return fail(err, errlen, "segment %u (0x%llx + 0x%llx) is outside guest memory "
			    "(0x%llx bytes)", i, (unsigned long long)p->vaddr,
			    (unsigned long long)p->memsz, (unsigned long long)h->mem_size);
	end = (p->vaddr + p->memsz + a - 1) & ~(a - 1);
	if (p->offset > len || p->filesz > len - p->offset)
		return fail(err, errlen, "segment %u: file data past the end of the file", i);
	if ((start | end) & 0xfff)
		return fail(err, errlen, "segment %u: 0x%llx-0x%llx is not page aligned", i,
			    (unsigned long long)start, (unsigned long long)end);
	int prot = ((p->flags & 4) ? PROT_READ : 0) | ((p->flags & 2) ? PROT_WRITE : 0) |
		   ((p->flags & 1) ? PROT_EXEC : 0);
	if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
		return fail(err, errlen, "segment %u requests WRITE and EXEC permissions", i);
	if (h->nsegs == ELF_MAX_SEGS)
		return fail(err, errlen, "more than %d loadable segments", ELF_MAX_SEGS);
	mcpy(h->mem + p->vaddr, img + p->offset, p->filesz);
	mset(h->mem + p->vaddr + p->filesz, 0, p->memsz - p->filesz);
	h->segs[h->nsegs++] = (struct elf_seg){ start, end, prot };
	if (end > h->kernel_end)
		h->kernel_end = end;
	return 0;
}

static int load_segs(struct hvt *h, const uint8_t *img, size_t len, uint64_t phoff,
		     unsigned phnum, char *err, size_t errlen)
{
	uint64_t last = 0;
	h->entry = rd64(img + 24);
	if (h->entry < HVT_GUEST_MIN_BASE || h->entry >= h->mem_size)
		return fail(err, errlen, "entry point 0x%llx outside 0x%llx..guest memory end",
			    (unsigned long long)h->entry, HVT_GUEST_MIN_BASE);
	for (unsigned i = 0; i < phnum; i++) {
		struct phdr p;
		read_phdr(img, phoff, i, &p);
		if (p.type == 1 /* PT_LOAD */ &&
		    load_seg(h, img, len, &p, i, &last, err, errlen))
			return -1;
	}
	if (!h->nsegs)
		return fail(err, errlen, "no loadable segments");
	return 0;
}

/* Solo5's boot GDT (hvt_x86_setup_gdt): null, code (type 9, L, G), data (type 3, D/B, G). */
static void setup_gdt(uint8_t *mem)
{
	uint8_t *gdt = mem + HVT_X86_GDT_BASE;
	wr64(gdt, 0);
	wr64(gdt + 8, 0x00af99000000ffffull);
	wr64(gdt + 16, 0x00cf93000000ffffull);
}

/* Solo5's page tables (hvt_x86_setup_pagetables): four PDPT entries; the first 2 MiB with
 * 4 KiB pages (below 0x10000 not present, up to 1 MiB read-only), the rest 2 MiB pages. */
static void setup_pagetables(uint8_t *mem, uint64_t mem_size)
{
	uint8_t *pde = mem + HVT_X86_PDE_BASE;
	mset(mem + HVT_X86_PML4_BASE, 0, 0x7000);
	wr64(mem + HVT_X86_PML4_BASE, HVT_X86_PDPTE_BASE | 3);
	for (int i = 0; i < 4; i++)
		wr64(mem + HVT_X86_PDPTE_BASE + 8 * i, (HVT_X86_PDE_BASE + 0x1000 * i) | 3);
	wr64(pde, HVT_X86_PT0_BASE | 3);
	for (uint64_t pa = HVT_X86_BOOT_INFO_BASE; pa < HVT_X86_PAGE_2M; pa += 0x1000)
		wr64(mem + HVT_X86_PT0_BASE + pa / 0x1000 * 8,
		     pa | (pa < HVT_GUEST_MIN_BASE ? 1 : 3));
	for (uint64_t pa = HVT_X86_PAGE_2M; pa < mem_size; pa += HVT_X86_PAGE_2M)
		wr64(pde + pa / HVT_X86_PAGE_2M * 8, pa | 0x83);
}

int hvt_load(struct hvt *h, const uint8_t *img, size_t len, uint8_t *mem, uint64_t mem_size,
	     const char *cmdline, uint64_t tsc_hz, char *err, size_t errlen)
{
	uint64_t phoff, mft_off = 0;
	unsigned phnum;
	size_t cl = cmdline ? slen_max(cmdline, HVT_CMDLINE_SIZE) : 0;

	mset(h, 0, sizeof *h);
	h->mem = mem;
	h->mem_size = mem_size;
	h->tsc_hz = tsc_hz;
	if (mem_size < HVT_X86_PAGE_2M || (mem_size & (HVT_X86_PAGE_2M - 1)))
		return fail(err, errlen, "guest memory of %llu bytes is not a multiple of 2 MiB "
			    "(Solo5 would use %llu)", (unsigned long long)mem_size,
			    (unsigned long long)hvt_round_mem(mem_size));
	if (mem_size > HVT_X86_MAX_MEM)
		return fail(err, errlen, "guest memory of %llu bytes exceeds Solo5's maximum %llu",
			    (unsigned long long)mem_size, HVT_X86_MAX_MEM);
	if (!tsc_hz)
		return fail(err, errlen, "TSC frequency unknown");
	if (cl >= HVT_CMDLINE_SIZE)
		return fail(err, errlen, "guest command line too long (max=%d characters)",
			    HVT_CMDLINE_SIZE - 1);
	if (ehdr_check(img, len, &phoff, &phnum, err, errlen) ||
	    check_abi(img, len, phoff, phnum, err, errlen) ||
	    load_mft(h, img, len, phoff, phnum, &mft_off, err, errlen) ||
	    load_segs(h, img, len, phoff, phnum, err, errlen))
		return -1;

	setup_gdt(mem);
	setup_pagetables(mem, mem_size);
	/* hvt_boot_info_init: the boot info, the manifest right after it, then the command
	 * line; all below HVT_GUEST_MIN_BASE (0x10000 + 40 + 6664 + 8192 < 0x100000). */
	uint8_t *bi = mem + HVT_X86_BOOT_INFO_BASE;
	h->mft_gpa = HVT_X86_BOOT_INFO_BASE + HVT_BOOT_INFO_SIZE;
	uint64_t cl_gpa = h->mft_gpa + h->mft_size;
	h->cmdline_gpa = cl_gpa;
	wr64(bi, mem_size);
	wr64(bi + 8, h->kernel_end);
	wr64(bi + 16, tsc_hz);
	wr64(bi + 24, cl_gpa);
	wr64(bi + 32, h->mft_gpa);
	mcpy(mem + h->mft_gpa, img + mft_off, h->mft_size);
	mcpy(mem + cl_gpa, cmdline ? cmdline : "", cl);
	mem[cl_gpa + cl] = 0;
	return 0;
}

/* ---- devices ---- */

/* "NAME=" with NAME of [A-Za-z0-9]{1,67} (Solo5's sscanf pattern): the index of the
 * manifest entry of that name and type, or -1 with err set. *rest = after the '='. */
static int spec_dev(struct hvt *h, const char *s, uint32_t type, const char **rest,
		    char *err, size_t errlen)
{
	char name[MFT_NAME_SIZE];
	size_t n = 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	       (s[n] >= '0' && s[n] <= '9')) {
		if (n == MFT_NAME_SIZE - 1)
			return fail(err, errlen, "device name longer than %d characters",
				    MFT_NAME_SIZE - 1);
		name[n] = s[n];
		n++;
	}
	name[n] = 0;
	if (!n || s[n] != '=' || !s[n + 1])
		return fail(err, errlen, "malformed device option, expected NAME=VALUE with "
			    "NAME of letters and digits");
	*rest = s + n + 1;
	for (uint32_t i = 0; i < h->ndevs; i++)
		if (h->dev[i].type == type && seq(h->dev[i].name, name))
			return (int)i;
	return fail(err, errlen, "resource not declared in manifest: '%s' (%s)", name,
		    type == MFT_DEV_BLOCK_BASIC ? "block" : "net");
}

static int attach_block(struct hvt *h, const char *s, char *err, size_t errlen)
{
	const char *path;
	uint64_t size;
	int i = spec_dev(h, s, MFT_DEV_BLOCK_BASIC, &path, err, errlen);
	if (i < 0)
		return -1;
	if (h->dev[i].attached)
		return fail(err, errlen, "block device '%s' attached twice", h->dev[i].name);
	int fd = plat_file_open(path, 1, &size);
	if (fd < 0)
		return fail(err, errlen, "could not open block device %s (errno %d)", path, -fd);
	if (size < 512)
		return fail(err, errlen, "%s: backing storage must be at least 1 block (512 "
			    "bytes) in size", path);
	h->dev[i].handle = fd;
	h->dev[i].capacity = size;
	h->dev[i].block_size = 512;
	h->dev[i].attached = 1;
	return 0;
}

/* Solo5's tap_attach_genmac draws 6 random bytes, clears the multicast bit and sets the
 * locally administered one; with no entropy source here, the clocks stand in. */
static void gen_mac(uint8_t *mac, unsigned idx)
{
	uint64_t x = plat_now_ns() ^ (plat_wall_ns() << 7) ^ ((uint64_t)idx << 56);
	x ^= x >> 31; x *= 0x7fb5d329728ea185ull; x ^= x >> 27; x *= 0x81dadef4bc2dd44dull;
	for (int b = 0; b < 6; b++)
		mac[b] = (uint8_t)(x >> (8 * b));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

static int attach_net(struct hvt *h, const char *s, char *err, size_t errlen)
{
	const char *ifname;
	int i = spec_dev(h, s, MFT_DEV_NET_BASIC, &ifname, err, errlen);
	if (i < 0)
		return -1;
	if (h->dev[i].attached)
		return fail(err, errlen, "net device '%s' attached twice", h->dev[i].name);
	if (h->nnet == HVT_NET_MAX)
		return fail(err, errlen, "more than %d net devices", HVT_NET_MAX);
	int t = plat_tap_open(ifname);
	if (t == -VE_NOSYS)
		return fail(err, errlen, "could not attach interface %s: TAP networking is not "
			    "available on this platform", ifname);
	if (t < 0)
		return fail(err, errlen, "could not attach interface %s (errno %d)", ifname, -t);
	static const uint8_t zero[6];
	h->dev[i].handle = t;
	h->dev[i].mtu = 1500;
	h->dev[i].attached = 1;
	h->dev[i].slot = h->nnet++;
	int unset = 1;
	for (int b = 0; b < 6; b++)
		unset &= h->dev[i].mac[b] == zero[b];
	if (unset)
		gen_mac(h->dev[i].mac, (unsigned)i);
	return 0;
}

static int hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int set_mac(struct hvt *h, const char *s, char *err, size_t errlen)
{
	const char *m;
	uint8_t mac[6];
	int i = spec_dev(h, s, MFT_DEV_NET_BASIC, &m, err, errlen);
	if (i < 0)
		return -1;
	for (int b = 0; b < 6; b++, m += 3) {
		int hi = hexdig(m[0]), lo = hi < 0 ? -1 : hexdig(m[1]);
		if (hi < 0 || lo < 0 || m[2] != (b == 5 ? 0 : ':'))
			return fail(err, errlen, "malformed MAC address, expected "
				    "xx:xx:xx:xx:xx:xx");
		mac[b] = (uint8_t)(hi << 4 | lo);
	}
	mcpy(h->dev[i].mac, mac, 6);
	return 0;
}

static int prefix(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

int hvt_attach(struct hvt *h, const char *spec, char *err, size_t errlen)
{
	if (prefix(spec, "block:"))
		return attach_block(h, spec + 6, err, errlen);
	if (prefix(spec, "net:"))
		return attach_net(h, spec + 4, err, errlen);
	if (prefix(spec, "net-mac:"))
		return set_mac(h, spec + 8, err, errlen);
	return fail(err, errlen, "unknown device option '%s' (block:NAME=FILE, net:NAME=TAP, "
		    "net-mac:NAME=MAC)", spec);
}

/* The guest's copy of one manifest entry as the tender's modules leave it. The private
 * word (Solo5 leaves its host descriptor there) is zeroed: it means nothing to the guest. */
static void publish_dev(struct hvt *h, uint32_t i)
{
	uint8_t *e = h->mem + h->mft_gpa + MFT_HDR_SIZE + (uint64_t)i * MFT_ENTRY_SIZE;
	const struct hvt_dev *d = &h->dev[i];
	if (!d->attached)
		return;
	if (d->type == MFT_DEV_BLOCK_BASIC) {
		wr64(e + MFT_E_CAPACITY, d->capacity);
		wr16(e + MFT_E_BLOCK_SIZE, d->block_size);
	} else {
		mcpy(e + MFT_E_MAC, d->mac, 6);
		wr16(e + MFT_E_MTU, d->mtu);
	}
	wr64(e + MFT_E_HOSTFD, 0);
	e[MFT_E_ATTACHED] = 1;
}

int hvt_ready(struct hvt *h, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < h->ndevs; i++) {
		const struct hvt_dev *d = &h->dev[i];
		if (d->type >= MFT_RESERVED_FIRST || d->attached || h->allow_unattached)
			continue;
		return fail(err, errlen, "device '%s' of type %s declared but not attached; all "
			    "declared devices must be attached", d->name,
			    d->type == MFT_DEV_BLOCK_BASIC ? "BLOCK_BASIC" :
			    d->type == MFT_DEV_NET_BASIC ? "NET_BASIC" : "(unknown)");
	}
	for (uint32_t i = 0; i < h->ndevs; i++)
		publish_dev(h, i);
	return 0;
}

/* ---- the vCPU ---- */

void hvt_init_state(const struct hvt *h, struct vcpu_reg_state *rs)
{
	mset(rs, 0, sizeof *rs);
	rs->vrs_gprs[VCPU_REGS_RIP] = h->entry;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;
	/* x86-64 SysV: (%rsp + 8) % 16 == 0 at a function's entry; RDI = its argument. */
	rs->vrs_gprs[VCPU_REGS_RSP] = h->mem_size - 8;
	rs->vrs_gprs[VCPU_REGS_RDI] = HVT_X86_BOOT_INFO_BASE;
	rs->vrs_crs[VCPU_REGS_CR0] = 0x80010021;           /* PG | WP | NE | PE */
	rs->vrs_crs[VCPU_REGS_CR3] = HVT_X86_PML4_BASE;
	rs->vrs_crs[VCPU_REGS_CR4] = 0x620;                /* PAE | OSFXSR | OSXMMEXCPT */
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x500;              /* LME | LMA */
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		vmm_seg(&rs->vrs_sregs[i], 0x10, 0, 0xffffffff, 0xc093);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_CS], 0x8, 0, 0xffffffff, 0xa099);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_LDTR], 0, 0, 0, VSI_AR_UNUSABLE);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_TR], 0, 0, 0, 0x8b);   /* 64-bit TSS, busy */
	vmm_seg(&rs->vrs_gdtr, 0, HVT_X86_GDT_BASE, 23, 0);
	vmm_seg(&rs->vrs_idtr, 0, 0, 0, 0);
	rs->vrs_drs[VCPU_REGS_DR6] = 0xffff0ff0;
	rs->vrs_drs[VCPU_REGS_DR7] = 0x400;
}

int hvt_segments(const struct hvt *h, const struct elf_seg **segs)
{
	*segs = h->segs;
	return h->nsegs;
}

/* ---- hypercalls ---- */

static void abort_guest(struct hvt *h, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void abort_guest(struct hvt *h, const char *f, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, f);
	fmt_v(buf, sizeof buf, f, ap);
	va_end(ap);
	plat_msg("hvt: %s; guest aborted", buf);
	h->halted = 1;
	h->status = HVT_STATUS_ABORT;
}

/* Solo5's HVT_CHECKED_GPA_P: [gpa, gpa + sz) strictly inside guest memory (Solo5 refuses an
 * end equal to mem_size too), else the guest is aborted and NULL returned. */
static uint8_t *gpa_p(struct hvt *h, uint64_t gpa, uint64_t sz)
{
	if (gpa >= h->mem_size || sz >= h->mem_size - gpa) {
		abort_guest(h, "invalid guest access: gpa=0x%llx, sz=%llu",
			    (unsigned long long)gpa, (unsigned long long)sz);
		return NULL;
	}
	return h->mem + gpa;
}

static const struct hvt_dev *dev_by_index(const struct hvt *h, uint64_t handle, uint32_t type)
{
	if (handle >= h->ndevs || h->dev[handle].type != type || !h->dev[handle].attached)
		return NULL;
	return &h->dev[handle];
}

/* A module's hypercalls exist only when one of its devices is attached (Solo5 registers
 * them in the module's setup only then). */
static int module_in_use(const struct hvt *h, uint32_t type)
{
	for (uint32_t i = 0; i < h->ndevs; i++)
		if (h->dev[i].type == type && h->dev[i].attached)
			return 1;
	return 0;
}

static void hc_walltime(struct hvt *h, uint8_t *t)
{
	(void)h;
	wr64(t, plat_wall_ns());
}

static void hc_puts(struct hvt *h, uint8_t *t)
{
	uint64_t len = rd64(t + 8);
	const uint8_t *data = gpa_p(h, rd64(t), len);
	if (data)
		plat_console_out(data, (size_t)len);
}

/* 1 if the net device has a frame for the guest: one held from an earlier POLL, or one the
 * platform has now (read into the device's slot, as there is no way to peek). */
static int net_pending(struct hvt *h, const struct hvt_dev *d)
{
	uint32_t *len = &h->rx_len[d->slot];
	if (*len)
		return 1;
	int r = plat_tap_read(d->handle, h->rx[d->slot], HVT_FRAME_MAX);
	if (r > 0)
		*len = (uint32_t)r;
	return r > 0;
}

/* Wait for a frame on an attached net device or the deadline (Solo5: epoll on the TAPs and
 * a timerfd). ready_set has bit i for manifest entry i (the handle) with a frame; ret is
 * their number. */
static void hc_poll(struct hvt *h, uint8_t *t)
{
	uint64_t timeout = rd64(t), now = plat_now_ns();
	uint64_t deadline = now + timeout < now ? ~0ull : now + timeout;
	uint64_t ready;
	int n;
	for (;;) {
		ready = 0;
		n = 0;
		for (uint32_t i = 0; i < h->ndevs; i++) {
			const struct hvt_dev *d = &h->dev[i];
			if (d->type != MFT_DEV_NET_BASIC || !d->attached)
				continue;
			if (net_pending(h, d)) {
				ready |= 1ull << i;
				n++;
			}
		}
		if (n || plat_now_ns() >= deadline)
			break;
		plat_wait(deadline);
	}
	wr64(t + 8, ready);
	wr32(t + 16, (uint32_t)n);
}

/* Block read/write: Solo5's tender checks the offset and length against the capacity only
 * (block alignment and the one-block size are the bindings' checks, not the tender's). */
static void hc_block(struct hvt *h, uint8_t *t, int write)
{
	const struct hvt_dev *d = dev_by_index(h, rd64(t), MFT_DEV_BLOCK_BASIC);
	uint64_t off = rd64(t + 8), len = rd64(t + 24);
	if (!d || off >= d->capacity || len > d->capacity - off) {
		wr32(t + 32, SOLO5_R_EINVAL);
		return;
	}
	uint8_t *buf = gpa_p(h, rd64(t + 16), len);
	if (!buf)
		return;
	int e = write ? plat_file_pwrite(d->handle, buf, (size_t)len, off) :
			plat_file_pread(d->handle, buf, (size_t)len, off);
	if (e) {
		abort_guest(h, "block %s of %llu bytes at %llu on '%s' failed (errno %d)",
			    write ? "write" : "read", (unsigned long long)len,
			    (unsigned long long)off, d->name, e);
		return;
	}
	wr32(t + 32, SOLO5_R_OK);
}

/* A net call's device and guest buffer (handle at 0, data at 8, length at 16, result at 24,
 * the same in NET_WRITE and NET_READ); NULL once it is answered (EINVAL) or aborted. */
static uint8_t *net_args(struct hvt *h, uint8_t *t, const struct hvt_dev **d, uint64_t *len)
{
	*d = dev_by_index(h, rd64(t), MFT_DEV_NET_BASIC);
	*len = rd64(t + 16);
	if (!*d) {
		wr32(t + 24, SOLO5_R_EINVAL);
		return NULL;
	}
	return gpa_p(h, rd64(t + 8), *len);
}

static void hc_net_write(struct hvt *h, uint8_t *t)
{
	const struct hvt_dev *d;
	uint64_t len;
	uint8_t *buf = net_args(h, t, &d, &len);
	if (!buf)
		return;
	int r = plat_tap_write(d->handle, buf, (size_t)len);
	if (r < 0 || (uint64_t)r != len) {
		abort_guest(h, "net write of %llu bytes on '%s' failed (%d)",
			    (unsigned long long)len, d->name, r);
		return;
	}
	wr32(t + 24, SOLO5_R_OK);
}

static void hc_net_read(struct hvt *h, uint8_t *t)
{
	const struct hvt_dev *d;
	uint64_t len;
	uint8_t *buf = net_args(h, t, &d, &len);
	if (!buf)
		return;
	uint32_t *held = &h->rx_len[d->slot];
	int r;
	if (!len) {
		r = 0;                  /* read(2) of 0 bytes: nothing, the frame stays */
	} else if (*held) {
		/* A frame POLL took: given as read(2) on the TAP would, cut to the buffer. */
		r = (int)(*held < len ? *held : len);
		mcpy(buf, h->rx[d->slot], (size_t)r);
		*held = 0;
	} else {
		r = plat_tap_read(d->handle, buf, (size_t)len);
	}
	if (r == 0) {
		wr32(t + 24, SOLO5_R_AGAIN);
		return;
	}
	if (r < 0) {
		abort_guest(h, "net read on '%s' failed (errno %d)", d->name, -r);
		return;
	}
	wr64(t + 16, (uint64_t)r);
	wr32(t + 24, SOLO5_R_OK);
}

/* HALT: a non-zero cookie must point at HVT_HALT_COOKIE_MAX readable bytes (Solo5 passes it
 * to its halt hooks, e.g. a core dump; vmmctl only records it). The exit status is reduced
 * to its low byte, as Solo5's tender's exit(status) is: a guest's 0x100 must not read as
 * HVT_STATUS_ABORT. */
static void hc_halt(struct hvt *h, uint8_t *t)
{
	uint64_t cookie = rd64(t);
	if (cookie && !gpa_p(h, cookie, HVT_HALT_COOKIE_MAX))
		return;
	h->halt_cookie = cookie;
	h->halted = 1;
	h->status = (int)(rd32(t + 8) & 0xff);
}

static const uint8_t hc_size[HVT_HYPERCALL_MAX] = {
	[HVT_HYPERCALL_WALLTIME] = 8, [HVT_HYPERCALL_PUTS] = 16, [HVT_HYPERCALL_POLL] = 24,
	[HVT_HYPERCALL_BLOCK_WRITE] = 40, [HVT_HYPERCALL_BLOCK_READ] = 40,
	[HVT_HYPERCALL_NET_WRITE] = 32, [HVT_HYPERCALL_NET_READ] = 32,
	[HVT_HYPERCALL_HALT] = 16,
};

int hvt_io(struct hvt *h, uint16_t port, int dir_in, uint32_t value)
{
	if (port < HVT_HYPERCALL_PIO_BASE || port > HVT_HYPERCALL_PIO_BASE + 0xff)
		return 0;
	unsigned nr = port - HVT_HYPERCALL_PIO_BASE;
	if (dir_in || nr == 0 || nr >= HVT_HYPERCALL_MAX) {
		abort_guest(h, "invalid guest port access: port=0x%x%s", port,
			    dir_in ? " (in)" : "");
		return 1;
	}
	if ((nr == HVT_HYPERCALL_BLOCK_READ || nr == HVT_HYPERCALL_BLOCK_WRITE) &&
	    !module_in_use(h, MFT_DEV_BLOCK_BASIC)) {
		abort_guest(h, "invalid guest hypercall: num=%u (no block device)", nr);
		return 1;
	}
	if ((nr == HVT_HYPERCALL_NET_READ || nr == HVT_HYPERCALL_NET_WRITE) &&
	    !module_in_use(h, MFT_DEV_NET_BASIC)) {
		abort_guest(h, "invalid guest hypercall: num=%u (no net device)", nr);
		return 1;
	}
	uint8_t *t = gpa_p(h, value, hc_size[nr]);
	if (!t)
		return 1;
	switch (nr) {
	case HVT_HYPERCALL_WALLTIME: hc_walltime(h, t); break;
	case HVT_HYPERCALL_PUTS: hc_puts(h, t); break;
	case HVT_HYPERCALL_POLL: hc_poll(h, t); break;
	case HVT_HYPERCALL_BLOCK_WRITE: hc_block(h, t, 1); break;
	case HVT_HYPERCALL_BLOCK_READ: hc_block(h, t, 0); break;
	case HVT_HYPERCALL_NET_WRITE: hc_net_write(h, t); break;
	case HVT_HYPERCALL_NET_READ: hc_net_read(h, t); break;
	case HVT_HYPERCALL_HALT: hc_halt(h, t); break;
	}
	return 1;
}
