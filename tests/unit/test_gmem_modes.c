/* Unit tests of hv/gmem.c's walks for 32-bit protected mode: paging off, 32-bit paging
 * (4 KiB pages, 4 MiB PSE pages with PSE-36 high bits, PSE ignored without CR4.PSE) and PAE
 * paging (4-entry PDPT at CR3 & ~0x1f, 2 MiB and 4 KiB pages, PDPTE without R/W). Guest
 * memory is a flat 1 MiB host buffer; GPAs at or above 1 MiB are refused, like MMIO. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../hv/gmem.h"
#include "../../abi/bvmm.h"

#define MEM (1u << 20)
#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)

static uint8_t *mem;

static int to_hpa(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	(void)g;
	if (gpa >= MEM || gpa + len > MEM)
		return BVMM_EFAULT;
	*hpa = (uint64_t)(uintptr_t)(mem + gpa);
	return 0;
}

static struct gview view(uint64_t cr0, uint64_t cr3, uint64_t cr4)
{
	struct gview g = { .cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = 0, .gpa_to_hpa = to_hpa };
	return g;
}

static void put32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(mem + gpa, &v, 8); }

static int setup(void **state)
{
	(void)state;
	mem = aligned_alloc(4096, MEM);
	memset(mem, 0, MEM);
	return mem ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static void test_paging_off_identity(void **state)
{
	(void)state;
	struct gview g = view(CR0_PE, 0, 0);
	uint64_t gpa;
	assert_int_equal(gmem_translate(&g, 0x12345, 1, &gpa), 0);
	assert_int_equal(gpa, 0x12345);
}

/* 32-bit paging: PD at 0x1000, PDE[1] -> PT 0x2000, PT[3] -> 0x5000 (RW), PT[4] -> 0x6000 RO. */
static void test_32bit_4k(void **state)
{
	(void)state;
	put32(0x1000 + 1 * 4, 0x2000 | 0x7);
	put32(0x2000 + 3 * 4, 0x5000 | 0x7);
	put32(0x2000 + 4 * 4, 0x6000 | 0x5);
	struct gview g = view(CR0_PE | CR0_PG | CR0_WP, 0x1000, 0);
	uint64_t gpa;
	assert_int_equal(gmem_translate(&g, 0x403abc, 0, &gpa), 0);
	assert_int_equal(gpa, 0x5abc);
	assert_int_equal(gmem_translate(&g, 0x404010, 0, &gpa), 0);
	assert_int_equal(gpa, 0x6010);
	assert_int_equal(gmem_translate(&g, 0x404010, 1, &gpa), BVMM_EFAULT);   /* read-only */
	assert_int_equal(gmem_translate(&g, 0x405000, 0, &gpa), BVMM_EFAULT);   /* not present */
	assert_int_equal(gmem_translate(&g, 0x800000, 0, &gpa), BVMM_EFAULT);   /* PDE absent */
	/* The upper 32 bits of a linear address do not exist outside long mode. */
	assert_int_equal(gmem_translate(&g, 0xffffffff00403abcull, 0, &gpa), 0);
	assert_int_equal(gpa, 0x5abc);
}

/* A 4 MiB page (PDE.PS with CR4.PSE), PSE-36 bits 39:32 from PDE bits 20:13. */
static void test_32bit_4m_pse36(void **state)
{
	(void)state;
	put32(0x1000 + 2 * 4, 0x00400000u | (0x3u << 13) | 0x87);   /* 0x3_0040_0000 */
	struct gview g = view(CR0_PE | CR0_PG, 0x1000, CR4_PSE);
	uint64_t gpa;
	assert_int_equal(gmem_translate(&g, 0x812345, 0, &gpa), 0);
	assert_int_equal(gpa, 0x300412345ull);
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a "page table" at 0x406000,
	 * beyond the 1 MiB memory, so the walk is refused. */
	struct gview h = view(CR0_PE | CR0_PG, 0x1000, 0);
	assert_int_equal(gmem_translate(&h, 0x812345, 0, &gpa), BVMM_EFAULT);
}

/* PAE: PDPT at 0x3020 (CR3 32-byte aligned), PDPTE[1] -> PD 0x4000; PD[0] -> 2 MiB page
 * 0x200000 (beyond memory, but translation only); PD[1] -> PT 0x5000; PT[2] -> 0x7000. */
static void test_pae(void **state)
{
	(void)state;
	put64(0x3020 + 1 * 8, 0x4000 | 0x1);                 /* PDPTE: P only, no R/W bit */
	put64(0x4000 + 0 * 8, 0x200000 | 0x83);
	put64(0x4000 + 1 * 8, 0x5000 | 0x7);
	put64(0x5000 + 2 * 8, 0x7000 | 0x7);
	put64(0x5000 + 3 * 8, 0x8000 | 0x5);                 /* read-only */
	struct gview g = view(CR0_PE | CR0_PG | CR0_WP, 0x3020, CR4_PAE);
	uint64_t gpa;
	assert_int_equal(gmem_translate(&g, 0x40012345, 1, &gpa), 0);
	assert_int_equal(gpa, 0x212345);
	assert_int_equal(gmem_translate(&g, 0x40202abc, 1, &gpa), 0);
	assert_int_equal(gpa, 0x7abc);
	assert_int_equal(gmem_translate(&g, 0x40203000, 1, &gpa), BVMM_EFAULT);
	assert_int_equal(gmem_translate(&g, 0x40203000, 0, &gpa), 0);
	assert_int_equal(gpa, 0x8000);
	assert_int_equal(gmem_translate(&g, 0x00001000, 0, &gpa), BVMM_EFAULT);   /* PDPTE[0] absent */
}

/* A copy through PAE paging that crosses from one 4 KiB page into another. */
static void test_pae_copy_crossing(void **state)
{
	(void)state;
	put64(0x3000 + 0 * 8, 0x4000 | 0x1);
	put64(0x4000 + 0 * 8, 0x5000 | 0x7);
	put64(0x5000 + 0x10 * 8, 0x9000 | 0x7);
	put64(0x5000 + 0x11 * 8, 0xb000 | 0x7);
	memcpy(mem + 0x9ffe, "ab", 2);
	memcpy(mem + 0xb000, "cd", 2);
	struct gview g = view(CR0_PE | CR0_PG, 0x3000, CR4_PAE);
	char buf[4];
	assert_int_equal(gmem_copy_in(&g, buf, 0x10ffe, 4), 0);
	assert_memory_equal(buf, "abcd", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paging_off_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit_4m_pse36, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae_copy_crossing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
