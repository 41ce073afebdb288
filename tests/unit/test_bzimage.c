/* Unit tests of vmmctl's Linux boot protocol loader (control/vmmctl/bzimage.c): a synthetic
 * bzImage, the boot_params and e820 it gets, the page tables, the entry state, and every
 * refusal of a malformed header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../control/vmmctl/bzimage.h"
#include "../../control/vmmctl/plat.h"
#include "../../hv/validate.h"

#define SETUP_SECTS 2
#define SETUP_LEN ((SETUP_SECTS + 1) * 512)
#define PM_LEN 8192
#define IMG_LEN (SETUP_LEN + PM_LEN)
#define MEM (16u << 20)

static uint8_t img[IMG_LEN];
static uint8_t *mem;
static char err[160];

static void p16(size_t off, uint32_t v) { img[off] = (uint8_t)v; img[off + 1] = (uint8_t)(v >> 8); }
static void p32(size_t off, uint32_t v) { p16(off, v); p16(off + 2, v >> 16); }
static void p64(size_t off, uint64_t v) { p32(off, (uint32_t)v); p32(off + 4, v >> 32); }
static uint32_t g16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t g32(const uint8_t *p) { return g16(p) | g16(p + 2) << 16; }
static uint64_t g64(const uint8_t *p) { return g32(p) | (uint64_t)g32(p + 4) << 32; }

/* A kernel as Debian's looks, scaled down: protocol 2.15, 64-bit, relocatable. */
static void make_image(void)
{
	memset(img, 0, sizeof img);
	img[0x1ef] = 0xff;                    /* the boot sector's byte: not to be copied */
	img[0x1f1] = SETUP_SECTS;
	p32(0x1f4, PM_LEN / 16);              /* syssize */
	p16(0x1fa, 0xffff);                   /* vid_mode */
	p16(0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;                    /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	p16(0x206, 0x020f);
	img[0x211] = 0x01;                    /* loadflags: LOADED_HIGH */
	p32(0x22c, 0x7fffffff);               /* initrd_addr_max */
	p32(0x230, 0x200000);                 /* kernel_alignment */
	img[0x234] = 1;
	p16(0x236, 0x7f);                     /* xloadflags */
	p32(0x238, 2047);                     /* cmdline_size */
	p64(0x258, 0x200000);                 /* pref_address */
	p32(0x260, 0x400000);                 /* init_size */
	for (size_t i = SETUP_LEN; i < IMG_LEN; i++)
		img[i] = (uint8_t)(i * 7);
}

static int setup(void **state)
{
	(void)state;
	make_image();
	mem = aligned_alloc(4096, MEM);
	assert_non_null(mem);
	memset(mem, 0, MEM);
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static int load(struct bz_boot *b, const uint8_t *ird, size_t ird_len, uint64_t mem_size,
		const char *cmd, size_t len)
{
	return bz_load(b, img, len, ird, ird_len, mem, mem_size, cmd, err, sizeof err);
}

static void test_detect(void **state)
{
	(void)state;
	assert_true(bz_detect(img, IMG_LEN));
	assert_false(bz_detect(img, 0x205));
	assert_false(bz_detect(NULL, 0));
	img[0x205] = 's';
	assert_false(bz_detect(img, IMG_LEN));
}

static void test_load_layout(void **state)
{
	(void)state;
	struct bz_boot b;
	static uint8_t ird[5000];
	const char *cmd = "console=ttyS0 panic=-1";
	memset(ird, 0x5a, sizeof ird);
	assert_int_equal(load(&b, ird, sizeof ird, MEM, cmd, IMG_LEN), 0);
	assert_string_equal(err, "");
	assert_int_equal(b.version, 0x020f);
	assert_int_equal(b.kernel_start, 0x200000);
	assert_int_equal(b.kernel_end, 0x600000);
	assert_int_equal(b.entry, 0x200200);
	assert_int_equal(b.boot_params, BZ_BOOT_PARAMS);
	assert_int_equal(b.initrd_start, MEM - 0x2000);   /* page aligned at the top */
	assert_int_equal(b.initrd_end, MEM - 0x2000 + sizeof ird);
	assert_memory_equal(mem + b.kernel_start, img + SETUP_LEN, PM_LEN);
	assert_memory_equal(mem + b.initrd_start, ird, sizeof ird);
	assert_string_equal((char *)mem + b.cmdline, cmd);

	const uint8_t *bp = mem + b.boot_params;
	assert_int_equal(bp[0x1ef], 0);                     /* sentinel stays 0 */
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(g16(bp + 0x206), 0x020f);
	assert_int_equal(g16(bp + 0x1fa), 0xffff);
	assert_int_equal(bp[0x210], 0xff);                  /* type_of_loader */
	assert_int_equal(bp[0x211], 0x81);                  /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(g16(bp + 0x224), 0xfe00);
	assert_int_equal(g32(bp + 0x214), 0x200000);
	assert_int_equal(g32(bp + 0x228), BZ_CMDLINE);
	assert_int_equal(g32(bp + 0x0c8), 0);
	assert_int_equal(g32(bp + 0x218), b.initrd_start);
	assert_int_equal(g32(bp + 0x21c), sizeof ird);
	assert_int_equal(g32(bp + 0x0c0), 0);
	assert_int_equal(g32(bp + 0x0c4), 0);
	for (unsigned i = 0x26c; i < 0x1000; i++)           /* nothing past the header but e820 */
		if (i < 0x2d0 || i >= 0x2d0 + 3 * 20)
			assert_int_equal(bp[i], 0);

	/* e820: low RAM, the hole, RAM from 1 MiB */
	assert_int_equal(bp[0x1e8], 3);
	const uint8_t *e = bp + 0x2d0;
	assert_int_equal(g64(e), 0);
	assert_int_equal(g64(e + 8), 0x9fc00);
	assert_int_equal(g32(e + 16), 1);
	assert_int_equal(g64(e + 20), 0x9fc00);
	assert_int_equal(g64(e + 28), 0x100000 - 0x9fc00);
	assert_int_equal(g32(e + 36), 2);
	assert_int_equal(g64(e + 40), 0x100000);
	assert_int_equal(g64(e + 48), MEM - 0x100000);
	assert_int_equal(g32(e + 56), 1);

	/* GDT and the identity map */
	assert_int_equal(g64(mem + BZ_GDT), 0);
	assert_int_equal(g64(mem + BZ_GDT + 0x10), 0x00af9b000000ffffull);
	assert_int_equal(g64(mem + BZ_GDT + 0x18), 0x00cf93000000ffffull);
	assert_int_equal(g64(mem + 0x2000), 0x3003);
	assert_int_equal(g64(mem + 0x2008), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(g64(mem + 0x3000 + 8 * i), (0x4000 + 0x1000 * i) | 3);
	assert_int_equal(g64(mem + 0x3020), 0);
	assert_int_equal(g64(mem + 0x4000), 0x83);
	assert_int_equal(g64(mem + 0x4008), 0x200083);
	assert_int_equal(g64(mem + 0x7ff8), 0xffe00083ull);
}

static void test_no_initrd_no_cmdline(void **state)
{
	(void)state;
	struct bz_boot b;
	img[0x1f1] = 0;                       /* setup_sects 0 means 4 */
	p32(0x1f4, (IMG_LEN - 5 * 512) / 16);
	assert_int_equal(load(&b, NULL, 0, MEM, NULL, IMG_LEN), 0);
	assert_int_equal(b.initrd_start, 0);
	assert_int_equal(b.initrd_end, 0);
	assert_memory_equal(mem + 0x200000, img + 5 * 512, IMG_LEN - 5 * 512);
	assert_int_equal(mem[b.cmdline], 0);
	assert_int_equal(g32(mem + b.boot_params + 0x218), 0);
	assert_int_equal(g32(mem + b.boot_params + 0x21c), 0);
}

/* initrd_addr_max below the top of memory: the initrd ends at or below it. */
static void test_initrd_addr_max(void **state)
{
	(void)state;
	struct bz_boot b;
	static uint8_t ird[0x1800];
	p32(0x22c, 0x7fffff);
	assert_int_equal(load(&b, ird, sizeof ird, MEM, "", IMG_LEN), 0);
	assert_int_equal(b.initrd_start, 0x7fe000);
	assert_true(b.initrd_end <= 0x800000);
	/* exactly between kernel end and the limit */
	p32(0x22c, 0x600000 + sizeof ird - 1);
	assert_int_equal(load(&b, ird, sizeof ird, MEM, "", IMG_LEN), 0);
	assert_int_equal(b.initrd_start, 0x600000);
	p32(0x22c, 0x600000 + sizeof ird - 2);
	assert_int_equal(load(&b, ird, sizeof ird, MEM, "", IMG_LEN), VE_NOMEM);
	assert_non_null(strstr(err, "initrd"));
	p32(0x22c, 0x100000);                 /* below the kernel's end */
	assert_int_equal(load(&b, ird, sizeof ird, MEM, "", IMG_LEN), VE_NOMEM);
	assert_non_null(strstr(err, "initrd"));
}

static void test_entry_state(void **state)
{
	(void)state;
	struct bz_boot b;
	struct vcpu_reg_state rs;
	assert_int_equal(load(&b, NULL, 0, MEM, "x", IMG_LEN), 0);
	bz_init_state(&b, &rs);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RIP], 0x200200);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RSI], BZ_BOOT_PARAMS);
	assert_int_equal(rs.vrs_gprs[VCPU_REGS_RFLAGS] & 0x200, 0);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_CS].vsi_sel, 0x10);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_CS].vsi_ar & 0xe0ff, 0xa09b);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_DS].vsi_sel, 0x18);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_SS].vsi_sel, 0x18);
	assert_int_equal(rs.vrs_sregs[VCPU_REGS_ES].vsi_sel, 0x18);
	assert_int_equal(rs.vrs_gdtr.vsi_base, BZ_GDT);
	assert_int_equal(rs.vrs_gdtr.vsi_limit, 0x1f);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR3], BZ_PML4);
	assert_int_equal(rs.vrs_crs[VCPU_REGS_CR0] & 0x80000001, 0x80000001);
	assert_int_equal(rs.vrs_msrs[VCPU_REGS_EFER] & 0x500, 0x500);
	/* the stack is mapped RAM below boot_params */
	assert_true(rs.vrs_gprs[VCPU_REGS_RSP] <= BZ_BOOT_PARAMS);
	assert_true(rs.vrs_gprs[VCPU_REGS_RSP] > 0x8000);
	/* the hypervisor takes it (RESETCPU's rules) */
	assert_int_equal(validate_regs(&rs), 0);
}

static void expect_err(int rc, int want, const char *word)
{
	assert_int_equal(rc, want);
	if (!strstr(err, word))
		fail_msg("error \"%s\" lacks \"%s\"", err, word);
}

static void test_refusals(void **state)
{
	(void)state;
	struct bz_boot b;
	static uint8_t ird[4096];
	expect_err(load(&b, NULL, 0, MEM, "", 0x100), VE_INVAL, "HdrS");
	p16(0x206, 0x020b);
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_INVAL, "too old");
	p16(0x206, 0x020f);
	p16(0x236, 0x7e);
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_INVAL, "64-bit");
	p16(0x236, 0x7f);
	/* setup header end outside 0x264..0x290 */
	img[0x201] = 0x10;
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_INVAL, "header");
	img[0x201] = 0xff;
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_INVAL, "header");
	img[0x201] = 0x6a;
	/* truncated: in the header, in the setup, in the kernel (syssize) */
	expect_err(load(&b, NULL, 0, MEM, "", 0x240), VE_INVAL, "truncated");
	expect_err(load(&b, NULL, 0, MEM, "", SETUP_LEN), VE_INVAL, "truncated");
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN - 16), VE_INVAL, "truncated");
	img[0x1f1] = 0xff;
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_INVAL, "truncated");
	img[0x1f1] = SETUP_SECTS;
	/* kernel does not fit: init_size past the end, pref_address absurd */
	p32(0x260, MEM);
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_NOMEM, "init_size");
	p32(0x260, 0x400000);
	p64(0x258, 0xfffffffffffff000ull);
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_NOMEM, "init_size");
	p64(0x258, 0x1000);
	expect_err(load(&b, NULL, 0, MEM, "", IMG_LEN), VE_INVAL, "1 MiB");
	p64(0x258, 0x200000);
	expect_err(load(&b, NULL, 0, 0x100000, "", IMG_LEN), VE_NOMEM, "1 MiB");
	/* initrd does not fit above the kernel, or is absurd */
	expect_err(load(&b, ird, MEM - 0x600000 + 1, MEM, "", IMG_LEN), VE_NOMEM, "initrd");
	expect_err(load(&b, ird, SIZE_MAX, MEM, "", IMG_LEN), VE_NOMEM, "initrd");
	expect_err(load(&b, NULL, 10, MEM, "", IMG_LEN), VE_INVAL, "initrd");
	/* command line longer than cmdline_size */
	p32(0x238, 5);
	assert_int_equal(load(&b, NULL, 0, MEM, "12345", IMG_LEN), 0);
	expect_err(load(&b, NULL, 0, MEM, "123456", IMG_LEN), VE_INVAL, "command line");
	/* a huge cmdline_size is still bounded by the low-memory slot */
	p32(0x238, 0xffffffff);
	static char big[0x80000];
	memset(big, 'a', sizeof big - 1);
	expect_err(load(&b, NULL, 0, MEM, big, IMG_LEN), VE_INVAL, "command line");
	/* a small error buffer is still terminated */
	char tiny[8];
	assert_int_equal(bz_load(&b, img, 0x100, NULL, 0, mem, MEM, "", tiny, sizeof tiny), VE_INVAL);
	assert_int_equal(strlen(tiny), 7);
}

/* Every prefix of the image is refused cleanly or loaded (ASan watches the reads). */
static void test_every_truncation(void **state)
{
	(void)state;
	struct bz_boot b;
	for (size_t len = 0; len < IMG_LEN; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, img, len);
		int rc = bz_load(&b, copy, len, NULL, 0, mem, MEM, "", err, sizeof err);
		assert_int_equal(rc, VE_INVAL);
		assert_true(strlen(err) > 0);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_initrd_no_cmdline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_addr_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
