/* Linux/x86 boot protocol loader (bzimage.h). Offsets and rules: Documentation/arch/x86/
 * boot.rst ("The real-mode kernel header", "64-bit boot protocol") and struct boot_params in
 * arch/x86/include/uapi/asm/bootparam.h. Every header value is hostile until checked. */
#include "bzimage.h"
#include "plat.h"
#include "../../hv/fmt.h"
#include "../libvmm/vmm_state.h"

/* Setup header fields: file offsets, and the same offsets in boot_params. */
#define HDR_START           0x1f1   /* setup_sects: the header copied into boot_params */
#define HDR_SETUP_SECTS     0x1f1
#define HDR_SYSSIZE         0x1f4   /* protected-mode size in 16-byte units */
#define HDR_JUMP_LEN        0x201   /* the header ends at 0x202 + this byte */
#define HDR_MAGIC           0x202   /* "HdrS" */
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define HDR_NEED_END        0x264   /* init_size's end: what protocol 2.12 must provide */
#define HDR_AREA_END        0x290   /* boot_params.edd_mbr_sig_buffer: no header beyond */

/* boot_params fields outside the setup header. */
#define BP_SIZE              0x1000
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_E820_TABLE        0x2d0
#define E820_ENTRY_SIZE      20
#define E820_RAM             1
#define E820_RESERVED        2

#define PROTO_MIN         0x020c   /* 2.12: xloadflags, so XLF_KERNEL_64 can be read */
#define XLF_KERNEL_64     0x0001
#define LOADED_HIGH       0x01
#define CAN_USE_HEAP      0x80
#define LOADER_UNDEFINED  0xff
#define ENTRY64_OFFSET    0x200    /* the 64-bit entry is 0x200 past the 32-bit one */
/* A real-mode setup loaded at a segment would get its heap to 0xfe00 (boot.rst's example);
 * the 64-bit entry never runs that code, but CAN_USE_HEAP says the value is meaningful. */
#define HEAP_END          0xfe00
#define INITRD_MAX_OLD    0x37ffffffu   /* boot.rst: initrd_addr_max when the header says 0 */

#define LOW_RAM_END  0x9fc00ull   /* 639 KiB: the EBDA/VGA/BIOS hole starts here */
#define HIGH_RAM     0x100000ull
#define PAGE_MASK_4K 0xfffull

#define PTE_P   0x1ull
#define PTE_W   0x2ull
#define PTE_PS  0x80ull
#define GDT_CODE64 0x00af9b000000ffffull   /* L, G, present, execute/read, accessed */
#define GDT_DATA   0x00cf93000000ffffull   /* D/B, G, present, read/write, accessed */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

static void mset(uint8_t *d, uint8_t v, size_t n)
{
	while (n--)
		*d++ = v;
}

static void mcpy(uint8_t *d, const uint8_t *s, size_t n)
{
	while (n--)
		*d++ = *s++;
}

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void put8(uint8_t *p, uint8_t v) { p[0] = v; }
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Record the reason and return e. */
static int fail(char *err, size_t errlen, int e, const char *f, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int e, const char *f, ...)
{
	va_list ap;
	if (errlen) {
		va_start(ap, f);
		fmt_v(err, errlen, f, ap);
		va_end(ap);
	}
	return e;
}

int bz_detect(const uint8_t *img, size_t len)
{
	return img && len >= HDR_MAGIC + 4 && img[HDR_MAGIC] == 'H' &&
	       img[HDR_MAGIC + 1] == 'd' && img[HDR_MAGIC + 2] == 'r' && img[HDR_MAGIC + 3] == 'S';
}

/* What bz_load learns from the file before it writes anything. */
struct bz_plan {
	size_t hdr_end;         /* file offset where the setup header ends */
	size_t setup_len;       /* boot sector + setup sectors */
	size_t pm_len;          /* the protected-mode kernel's bytes in the file */
	uint64_t load, init_size;
	uint32_t cmdline_size, initrd_max;
};

/* The header checks: 0 or VE_INVAL with the reason. */
static int check_header(struct bz_plan *pl, struct bz_boot *b, const uint8_t *img, size_t len,
			char *err, size_t errlen)
{
	unsigned sects;
	uint64_t sys_bytes;
	if (!bz_detect(img, len))
		return fail(err, errlen, VE_INVAL, "not a bzImage: no \"HdrS\" at 0x202");
	if (len < HDR_NEED_END)
		return fail(err, errlen, VE_INVAL, "truncated: %zu bytes end inside the setup header", len);
	b->version = (uint16_t)get16(img + HDR_VERSION);
	if (b->version < PROTO_MIN)
		return fail(err, errlen, VE_INVAL, "boot protocol %u.%02u too old: 64-bit entry needs 2.12",
			    b->version >> 8, b->version & 0xff);
	pl->hdr_end = 0x202u + img[HDR_JUMP_LEN];
	if (pl->hdr_end < HDR_NEED_END || pl->hdr_end > HDR_AREA_END)
		return fail(err, errlen, VE_INVAL, "setup header ends at 0x%zx: protocol %u.%02u needs 0x%x-0x%x",
			    pl->hdr_end, b->version >> 8, b->version & 0xff, HDR_NEED_END, HDR_AREA_END);
	if (pl->hdr_end > len)
		return fail(err, errlen, VE_INVAL, "truncated: %zu bytes, setup header ends at 0x%zx",
			    len, pl->hdr_end);
	if (!(get16(img + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return fail(err, errlen, VE_INVAL, "no 64-bit entry: xloadflags 0x%x lacks XLF_KERNEL_64",
			    get16(img + HDR_XLOADFLAGS));
	sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;   /* 0 means 4 (boot.rst) */
	pl->setup_len = (size_t)(sects + 1) * 512;
	if (pl->setup_len >= len)
		return fail(err, errlen, VE_INVAL, "truncated: %zu bytes, setup alone is %zu",
			    len, pl->setup_len);
	pl->pm_len = len - pl->setup_len;
	sys_bytes = (uint64_t)get32(img + HDR_SYSSIZE) * 16;
	if (sys_bytes > pl->pm_len)
		return fail(err, errlen, VE_INVAL, "truncated: syssize says %llu kernel bytes, file holds %zu",
			    (unsigned long long)sys_bytes, pl->pm_len);
	pl->load = get64(img + HDR_PREF_ADDRESS);
	pl->init_size = get32(img + HDR_INIT_SIZE);
	if (pl->init_size < pl->pm_len)
		pl->init_size = pl->pm_len;   /* never less than what is copied */
	pl->cmdline_size = get32(img + HDR_CMDLINE_SIZE);
	pl->initrd_max = get32(img + HDR_INITRD_ADDR_MAX);
	if (!pl->initrd_max)
		pl->initrd_max = INITRD_MAX_OLD;
	return 0;
}

/* Where everything goes: 0, or VE_NOMEM / VE_INVAL with the reason. */
static int place(struct bz_plan *pl, struct bz_boot *b, size_t initrd_len, size_t clen,
		 uint64_t mem_size, char *err, size_t errlen)
{
	uint64_t top;
	if (pl->load < HIGH_RAM)
		return fail(err, errlen, VE_INVAL, "pref_address 0x%llx is below 1 MiB",
			    (unsigned long long)pl->load);
	if (pl->load > mem_size || pl->init_size > mem_size - pl->load)
		return fail(err, errlen, VE_NOMEM,
			    "kernel needs 0x%llx-0x%llx (init_size 0x%llx), memory ends at 0x%llx",
			    (unsigned long long)pl->load, (unsigned long long)(pl->load + pl->init_size),
			    (unsigned long long)pl->init_size, (unsigned long long)mem_size);
	b->kernel_start = pl->load;
	b->kernel_end = pl->load + pl->init_size;
	b->entry = pl->load + ENTRY64_OFFSET;
	b->boot_params = BZ_BOOT_PARAMS;
	b->cmdline = BZ_CMDLINE;
	if (clen > pl->cmdline_size || clen >= BZ_LOW_END - BZ_CMDLINE)
		return fail(err, errlen, VE_INVAL, "command line of %zu bytes, the kernel takes at most %u",
			    clen, pl->cmdline_size);
	b->initrd_start = b->initrd_end = 0;
	if (!initrd_len)
		return 0;
	top = (uint64_t)pl->initrd_max + 1;
	if (top > mem_size)
		top = mem_size;
	/* page aligned, as high as it goes, above the kernel's whole init_size */
	if (top < b->kernel_end || initrd_len > top - b->kernel_end ||
	    ((top - initrd_len) & ~PAGE_MASK_4K) < b->kernel_end)
		return fail(err, errlen, VE_NOMEM, "initrd of %zu bytes does not fit between 0x%llx and 0x%llx",
			    initrd_len, (unsigned long long)b->kernel_end, (unsigned long long)top);
	b->initrd_start = (top - initrd_len) & ~PAGE_MASK_4K;
	b->initrd_end = b->initrd_start + initrd_len;
	return 0;
}

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = bp + BP_E820_TABLE + E820_ENTRY_SIZE * bp[BP_E820_ENTRIES];
	put64(e, addr);
	put64(e + 8, size);
	put32(e + 16, type);
	bp[BP_E820_ENTRIES]++;
}

/* The zero page: the file's setup header, then what a boot loader fills in. */
static void write_boot_params(const struct bz_plan *pl, const struct bz_boot *b,
			      const uint8_t *img, uint8_t *mem, uint64_t mem_size)
{
	uint8_t *bp = mem + b->boot_params;
	mset(bp, 0, BP_SIZE);
	mcpy(bp + HDR_START, img + HDR_START, pl->hdr_end - HDR_START);
	put8(bp + HDR_TYPE_OF_LOADER, LOADER_UNDEFINED);
	put8(bp + HDR_LOADFLAGS, bp[HDR_LOADFLAGS] | LOADED_HIGH | CAN_USE_HEAP);
	put32(bp + HDR_CODE32_START, (uint32_t)b->kernel_start);
	put16(bp + HDR_HEAP_END_PTR, HEAP_END);
	put32(bp + HDR_CMD_LINE_PTR, (uint32_t)b->cmdline);
	put32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(b->cmdline >> 32));
	put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)b->initrd_start);
	put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(b->initrd_start >> 32));
	put32(bp + HDR_RAMDISK_SIZE, (uint32_t)(b->initrd_end - b->initrd_start));
	put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((b->initrd_end - b->initrd_start) >> 32));
	e820_add(bp, 0, LOW_RAM_END, E820_RAM);
	e820_add(bp, LOW_RAM_END, HIGH_RAM - LOW_RAM_END, E820_RESERVED);
	e820_add(bp, HIGH_RAM, mem_size - HIGH_RAM, E820_RAM);
}

/* GDT and the 4 GiB identity map (layout in bzimage.h). */
static void write_tables(uint8_t *mem)
{
	uint8_t *pml4 = mem + BZ_PML4, *pdpt = pml4 + 0x1000, *pd = pdpt + 0x1000;
	uint64_t pd_gpa = BZ_PML4 + 0x2000;
	mset(mem + BZ_GDT, 0, 0x1000);
	put64(mem + BZ_GDT + BOOT_CS, GDT_CODE64);
	put64(mem + BZ_GDT + BOOT_DS, GDT_DATA);
	mset(pml4, 0, 0x6000);
	put64(pml4, (BZ_PML4 + 0x1000) | PTE_P | PTE_W);
	for (uint64_t i = 0; i < BZ_MAP_SIZE >> 30; i++)
		put64(pdpt + 8 * i, (pd_gpa + 0x1000 * i) | PTE_P | PTE_W);
	for (uint64_t i = 0; i < BZ_MAP_SIZE >> 21; i++)
		put64(pd + 8 * i, (i << 21) | PTE_P | PTE_W | PTE_PS);
}

/* strlen, but stops counting past max (a hostile cmdline may be unterminated garbage). */
static size_t slen(const char *s, size_t max)
{
	size_t n = 0;
	while (s && n <= max && s[n])
		n++;
	return n;
}

int bz_load(struct bz_boot *b, const uint8_t *img, size_t len, const uint8_t *initrd,
	    size_t initrd_len, uint8_t *mem, uint64_t mem_size, const char *cmdline, char *err,
	    size_t errlen)
{
	struct bz_plan pl = { 0 };
	size_t clen;
	int e;
	if (errlen)
		err[0] = '\0';
	mset((uint8_t *)b, 0, sizeof *b);
	if (initrd_len && !initrd)
		return fail(err, errlen, VE_INVAL, "initrd of %zu bytes but no data", initrd_len);
	if (!mem || mem_size <= HIGH_RAM)
		return fail(err, errlen, VE_NOMEM, "guest memory of 0x%llx bytes: need more than 1 MiB",
			    (unsigned long long)mem_size);
	e = check_header(&pl, b, img, len, err, errlen);
	if (e)
		return e;
	clen = slen(cmdline, BZ_LOW_END - BZ_CMDLINE);
	e = place(&pl, b, initrd_len, clen, mem_size, err, errlen);
	if (e)
		return e;
	mcpy(mem + b->kernel_start, img + pl.setup_len, pl.pm_len);
	if (initrd_len)
		mcpy(mem + b->initrd_start, initrd, initrd_len);
	mcpy(mem + b->cmdline, (const uint8_t *)(cmdline ? cmdline : ""), clen);
	mem[b->cmdline + clen] = '\0';
	write_boot_params(&pl, b, img, mem, mem_size);
	write_tables(mem);
	return 0;
}

void bz_init_state(const struct bz_boot *b, struct vcpu_reg_state *rs)
{
	vmm_state_long64(rs, b->entry);
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		if (i != VCPU_REGS_LDTR && i != VCPU_REGS_TR)
			vmm_seg(&rs->vrs_sregs[i], BOOT_DS, 0, 0xffffffff, 0xc093);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_CS], BOOT_CS, 0, 0xffffffff, 0xa09b);
	vmm_seg(&rs->vrs_gdtr, 0, BZ_GDT, BOOT_DS + 7, 0);
	rs->vrs_crs[VCPU_REGS_CR3] = BZ_PML4;
	rs->vrs_gprs[VCPU_REGS_RSI] = b->boot_params;
	rs->vrs_gprs[VCPU_REGS_RSP] = BZ_STACK_TOP;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;   /* IF clear: boot.rst's "interrupts disabled" */
}
