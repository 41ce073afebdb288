/* Unit tests of vmmctl's Multiboot v1 loader (control/vmmctl/multiboot.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../control/vmmctl/multiboot.h"

#define MEM_SIZE (8ull << 20)
static uint8_t *mem;
static uint8_t img[0x4000];
static char err[160];

static int setup(void **state)
{
	(void)state;
	mem = calloc(1, MEM_SIZE);
	return mem ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint32_t get32(uint64_t pa) { uint32_t v; memcpy(&v, mem + pa, 4); return v; }
static uint64_t get64(uint64_t pa) { uint64_t v; memcpy(&v, mem + pa, 8); return v; }

static void header(uint8_t *p, uint32_t flags)
{
	put32(p, MB_HEADER_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, -(MB_HEADER_MAGIC + flags));
}

/* An address-fields kernel: 0x3000 bytes of file at 1 MiB, header at file offset 0x40. */
static void aout_image(uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	memset(img, 0, sizeof img);
	for (unsigned i = 0x100; i < 0x3000; i++)
		img[i] = (uint8_t)i;
	header(img + 0x40, MB_HF_AOUT_KLUDGE | MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO);
	put32(img + 0x4c, 0x100040);
	put32(img + 0x50, 0x100000);
	put32(img + 0x54, load_end);
	put32(img + 0x58, bss_end);
	put32(img + 0x5c, entry);
}

static int load(const char *cmdline, const struct mb_module *mods, int n, size_t len,
		struct mb_boot *b)
{
	err[0] = 0;
	memset(mem, 0, MEM_SIZE);
	int r = mb_load(b, img, len, mem, MEM_SIZE, cmdline, mods, n, err, sizeof err);
	if (r)
		print_message("(expected?) %s\n", err);
	return r;
}

static void test_detect(void **state)
{
	(void)state;
	aout_image(0, 0, 0x100080);
	assert_true(mb_detect(img, 0x3000));
	assert_false(mb_detect(img, 0x4b));            /* header cut short */
	put32(img + 0x48, 0);                          /* bad checksum */
	assert_false(mb_detect(img, 0x3000));
	memset(img, 0, sizeof img);
	header(img + 0x2000, 0);                       /* past the first 8 KiB */
	assert_false(mb_detect(img, sizeof img));
	header(img + 0x1ff2, 0);                       /* not 4-byte aligned */
	assert_false(mb_detect(img, sizeof img));
	header(img + 0x1ff4, 0);                       /* last aligned slot that fits */
	assert_true(mb_detect(img, sizeof img));
	assert_false(mb_detect(NULL, 0));
}

static void test_aout_load_and_info(void **state)
{
	(void)state;
	struct mb_boot b;
	static const uint8_t mod0[] = "MODULE-ZERO";
	uint8_t mod1[5000];
	memset(mod1, 0xa5, sizeof mod1);
	struct mb_module mods[2] = {
		{ mod0, sizeof mod0 - 1, "initrd arg=1" },
		{ mod1, sizeof mod1, NULL },
	};
	aout_image(0x102800, 0x104000, 0x100080);
	assert_int_equal(load("kernel status=3", mods, 2, 0x3000, &b), 0);
	assert_int_equal(b.entry, 0x100080);
	assert_int_equal(b.info, MB_INFO_ADDR);
	assert_int_equal(b.kernel_start, 0x100000);
	assert_int_equal(b.kernel_end, 0x104000);
	assert_int_equal(mem[0x100100], 0x00);
	assert_int_equal(mem[0x100101], 0x01);
	assert_int_equal(mem[0x1027ff], 0xff);         /* last byte of the loaded part */
	assert_int_equal(mem[0x102800], 0);            /* bss */

	uint32_t flags = get32(MB_INFO_ADDR);
	assert_int_equal(flags, MB_IF_MEMORY | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP | MB_IF_LOADER);
	assert_int_equal(get32(MB_INFO_ADDR + 4), 639);
	assert_int_equal(get32(MB_INFO_ADDR + 8), (MEM_SIZE - 0x100000) / 1024);
	assert_string_equal((char *)mem + get32(MB_INFO_ADDR + 16), "kernel status=3");
	assert_string_equal((char *)mem + get32(MB_INFO_ADDR + 64), "vmmctl");

	/* modules: page-aligned above the kernel, with their strings */
	assert_int_equal(get32(MB_INFO_ADDR + 20), 2);
	uint32_t ma = get32(MB_INFO_ADDR + 24);
	assert_int_equal(get32(ma), 0x104000);
	assert_int_equal(get32(ma + 4), 0x104000 + 11);
	assert_memory_equal(mem + 0x104000, "MODULE-ZERO", 11);
	assert_string_equal((char *)mem + get32(ma + 8), "initrd arg=1");
	assert_int_equal(get32(ma + 16), 0x105000);
	assert_int_equal(get32(ma + 20), 0x105000 + 5000);
	assert_int_equal(mem[0x105000 + 4999], 0xa5);
	assert_string_equal((char *)mem + get32(ma + 24), "");
	assert_int_equal(b.mods_end, 0x105000 + 5000);

	/* the memory map */
	uint32_t ml = get32(MB_INFO_ADDR + 44), mm = get32(MB_INFO_ADDR + 48);
	assert_int_equal(ml, 4 * 24);
	static const uint64_t want[4][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 },
		{ 0x100000, MEM_SIZE - 0x100000, 1 },
	};
	for (int i = 0; i < 4; i++) {
		uint32_t e = mm + 24 * i;
		assert_int_equal(get32(e), 20);
		assert_int_equal(get64(e + 4), want[i][0]);
		assert_int_equal(get64(e + 12), want[i][1]);
		assert_int_equal(get32(e + 20), want[i][2]);
	}

	struct vcpu_reg_state rs;
	mb_init_state(&b, &rs);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RAX], 0x2badb002);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RBX], MB_INFO_ADDR);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RIP], 0x100080);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RFLAGS] & (1u << 9 | 1u << 17), 0);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR0] & 0x80000001u, 1);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_CS].vsi_limit, 0xffffffffu);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_DS].vsi_base, 0);
}

static void test_aout_bad_fields(void **state)
{
	(void)state;
	struct mb_boot b;
	aout_image(0x0ff000, 0, 0x100080);                     /* load_end < load_addr */
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "load_end_addr"));
	aout_image(0x104000, 0, 0x100080);                     /* load_end past the file */
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "load_end_addr"));
	aout_image(0, 0, 0x200000);                            /* entry outside */
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "entry_addr"));
	aout_image(0, 0x101000, 0x100080);                     /* bss end below load end */
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "bss_end_addr"));
	aout_image(0, 0xf0000000u, 0x100080);                  /* bss past memory */
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "does not fit"));
	aout_image(0, 0, 0x100080);
	put32(img + 0x4c, 0x100100);                           /* header before the file start */
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "header_addr"));
	aout_image(0, 0, 0x100080);                            /* truncated address fields */
	assert_int_equal(load("", NULL, 0, 0x50, &b), -1);
	assert_non_null(strstr(err, "truncated"));
	aout_image(0, 0, 0x100080);                            /* loaded over the info area */
	put32(img + 0x4c, 0x9040);
	put32(img + 0x50, 0x9000);
	put32(img + 0x5c, 0x9080);
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "overlaps the boot information"));
	aout_image(0, 0, 0x100080);                            /* video mode: refused */
	header(img + 0x40, MB_HF_AOUT_KLUDGE | MB_HF_VIDEO_MODE);
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "video mode"));
	aout_image(0, 0, 0x100080);
	put32(img + 0x48, 1);
	assert_int_equal(load("", NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "checksum"));
	memset(img, 0, sizeof img);
	assert_int_equal(load("", NULL, 0, sizeof img, &b), -1);
	assert_non_null(strstr(err, "no header"));
}

static void test_modules_bounds(void **state)
{
	(void)state;
	struct mb_boot b;
	struct mb_module big = { img, MEM_SIZE, "" };
	aout_image(0, 0, 0x100080);
	assert_int_equal(load("", &big, 1, 0x3000, &b), -1);
	assert_non_null(strstr(err, "module 0"));
	struct mb_module m = { img, 16, "" };
	assert_int_equal(load("", &m, MB_MAX_MODS + 1, 0x3000, &b), -1);
	/* a command line larger than the strings area */
	static char huge[0xa0000];
	memset(huge, 'x', sizeof huge - 1);
	assert_int_equal(load(huge, NULL, 0, 0x3000, &b), -1);
	assert_non_null(strstr(err, "command lines"));
}

/* A kernel loaded below the information structure (0x1000-0x2000): its modules still go
 * at 1 MiB, not on the first page above it, where a large one covered the information
 * structure, module list and strings at 0x8000 (found by fuzz_vmmctl_load). */
static void test_modules_above_low_kernel(void **state)
{
	(void)state;
	struct mb_boot b;
	static uint8_t big[0x10000];
	memset(big, 0xa5, sizeof big);
	struct mb_module m[2] = { { big, sizeof big, "big" }, { big, 100, NULL } };
	memset(img, 0, sizeof img);
	header(img, MB_HF_AOUT_KLUDGE);
	put32(img + 12, 0x1000);                /* header_addr = load_addr: header at offset 0 */
	put32(img + 16, 0x1000);
	put32(img + 20, 0x2000);                /* 0x1000 bytes of file at 0x1000 */
	put32(img + 24, 0x2000);
	put32(img + 28, 0x1010);
	assert_int_equal(load("low", m, 2, 0x1000, &b), 0);
	assert_int_equal(b.kernel_start, 0x1000);
	assert_int_equal(b.kernel_end, 0x2000);
	uint32_t ma = get32(MB_INFO_ADDR + 24);
	assert_int_equal(ma, MB_MODS_ADDR);
	assert_int_equal(get32(MB_INFO_ADDR + 20), 2);
	assert_int_equal(get32(ma), 0x100000);
	assert_int_equal(get32(ma + 4), 0x100000 + sizeof big);
	assert_int_equal(get32(ma + 16), 0x110000);
	assert_int_equal(get32(ma + 20), 0x110000 + 100);
	assert_int_equal(b.mods_end, 0x110000 + 100);
	assert_memory_equal(mem + 0x100000, big, sizeof big);
	assert_string_equal((char *)mem + get32(MB_INFO_ADDR + 16), "low");
	assert_string_equal((char *)mem + get32(ma + 8), "big");
	for (unsigned a = 0x2000; a < 0x8000; a++)
		assert_int_equal(mem[a], 0);
}

/* An ELF32 kernel: 2 PT_LOADs, text at paddr 0x100000 (vaddr 0xc0100000), data + bss. */
static size_t elf32_image(void)
{
	memset(img, 0, sizeof img);
	memcpy(img, "\x7f" "ELF\x01\x01\x01", 7);
	put16(img + 16, 2);
	put16(img + 18, 3);                     /* EM_386 */
	put32(img + 24, 0xc0100010);            /* virtual entry */
	put32(img + 28, 52);                    /* phoff */
	put16(img + 42, 32);
	put16(img + 44, 2);
	uint8_t *p = img + 52;
	put32(p, 1); put32(p + 4, 0x1000); put32(p + 8, 0xc0100000); put32(p + 12, 0x100000);
	put32(p + 16, 0x1000); put32(p + 20, 0x1000);
	p += 32;
	put32(p, 1); put32(p + 4, 0x2000); put32(p + 8, 0xc0101000); put32(p + 12, 0x101000);
	put32(p + 16, 0x100); put32(p + 20, 0x3000);
	header(img + 0x1000, MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO);
	img[0x1010] = 0xf4;
	img[0x2000] = 0x77;
	return 0x2100;
}

static void test_elf(void **state)
{
	(void)state;
	struct mb_boot b;
	size_t len = elf32_image();
	assert_int_equal(load("k", NULL, 0, len, &b), 0);
	assert_int_equal(b.entry, 0x100010);            /* translated to physical */
	assert_int_equal(mem[0x100010], 0xf4);
	assert_int_equal(mem[0x101000], 0x77);
	assert_int_equal(b.kernel_end, 0x104000);
	assert_int_equal(get32(MB_INFO_ADDR + 20), 0);

	put32(img + 24, 0x400000);                      /* entry in no segment */
	assert_int_equal(load("k", NULL, 0, len, &b), -1);
	assert_non_null(strstr(err, "entry point"));
	len = elf32_image();
	put32(img + 52 + 32 + 12, 0x100800);            /* overlapping segments */
	assert_int_equal(load("k", NULL, 0, len, &b), -1);
	assert_non_null(strstr(err, "overlap"));
	len = elf32_image();
	put32(img + 52 + 32 + 16, 0x4000);              /* filesz > memsz and past the file */
	assert_int_equal(load("k", NULL, 0, len, &b), -1);
	assert_non_null(strstr(err, "outside the file"));
	len = elf32_image();
	put32(img + 28, 0x2000);                        /* program headers past the end */
	put16(img + 44, 0x200);
	assert_int_equal(load("k", NULL, 0, len, &b), -1);
	assert_non_null(strstr(err, "program headers"));
	len = elf32_image();
	put32(img + 52 + 32 + 12, 0xfffff000u);         /* wraps past 4 GiB / out of memory */
	assert_int_equal(load("k", NULL, 0, len, &b), -1);
	assert_non_null(strstr(err, "does not fit"));
	len = elf32_image();
	img[0] = 0;                                     /* not ELF, no address fields */
	assert_int_equal(load("k", NULL, 0, len, &b), -1);
	assert_non_null(strstr(err, "not an ELF"));
}

static void test_elf64(void **state)
{
	(void)state;
	struct mb_boot b;
	memset(img, 0, sizeof img);
	memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
	put16(img + 18, 62);
	put32(img + 24, 0x200000);
	put32(img + 32, 64);
	put16(img + 54, 56);
	put16(img + 56, 1);
	uint8_t *p = img + 64;
	put32(p, 1); put32(p + 8, 0x1000); put32(p + 16, 0x200000); put32(p + 24, 0x200000);
	put32(p + 32, 0x1000); put32(p + 40, 0x1000);
	header(img + 0x1000, 0);
	assert_int_equal(load("", NULL, 0, 0x2000, &b), 0);
	assert_int_equal(b.entry, 0x200000);
	assert_int_equal(get32(0x200000), MB_HEADER_MAGIC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_aout_load_and_info),
		cmocka_unit_test(test_aout_bad_fields),
		cmocka_unit_test(test_modules_bounds),
		cmocka_unit_test(test_modules_above_low_kernel),
		cmocka_unit_test(test_elf),
		cmocka_unit_test(test_elf64),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
