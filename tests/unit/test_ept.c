/* Unit tests of EPT entries as bvmm builds them (pt.c with the VMX backend's bits, vmx/vcpu.c
 * and vmx.c): leaves readable, writable, executable, write-back, large where they can be;
 * tables R|W|X with no memory type (reserved there); MPROTECT_EPT through W and X. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/pt.h"
#include "../../arch/x86_64/vmx/vmcs.h"

static uint64_t page_alloc(void *arg)
{
	(void)arg;
	void *p = aligned_alloc(4096, 4096);
	memset(p, 0, 4096);
	return (uint64_t)(uintptr_t)p;
}
static void *page_va(void *arg, uint64_t pa) { (void)arg; return (void *)(uintptr_t)pa; }
static void page_free(void *arg, uint64_t pa) { (void)arg; free((void *)(uintptr_t)pa); }

/* The child's EPT as hv/vm.c builds it with vmx_vendor_ops: tables npt_base|npt_write, leaves
 * npt_base|npt_leaf|npt_write. */
static struct pt_ctx child_ept(void)
{
	struct pt_ctx c = { .alloc = page_alloc, .pa2va = page_va, .free = page_free,
			    .table_flags = EPT_X | EPT_W, .max_leaf_level = 2 };
	assert_int_equal(pt_init(&c), 0);
	return c;
}

static uint64_t entry(const struct pt_ctx *c, uint64_t va, int level)
{
	uint64_t t = c->root;
	for (int l = 4; l > level; l--)
		t = ((uint64_t *)(uintptr_t)t)[(va >> (12 + 9 * (l - 1))) & 511] & PTE_ADDR;
	return ((uint64_t *)(uintptr_t)t)[(va >> (12 + 9 * (level - 1))) & 511];
}

static void test_leaves_and_tables(void **state)
{
	(void)state;
	struct pt_ctx c = child_ept();
	uint64_t leaf = EPT_X | EPT_MT_WB | EPT_W;
	/* 4 MiB at GPA 0 backed by 2 MiB-aligned memory: two 2 MiB leaves */
	assert_int_equal(pt_map(&c, 0, 0x40000000, 4 << 20, leaf), 0);
	uint64_t e = entry(&c, 0x200000, 2);
	assert_int_equal(e & 0xfff, EPT_R | EPT_W | EPT_X | EPT_MT_WB | PTE_PS);
	assert_int_equal(e & PTE_ADDR, 0x40200000);
	/* non-leaf entries: R|W|X, no memory type bits (5:3 reserved there), no large bit */
	uint64_t pml4e = ((uint64_t *)(uintptr_t)c.root)[0];
	assert_int_equal(pml4e & 0xff, EPT_R | EPT_W | EPT_X);
	assert_int_equal(entry(&c, 0, 3) & 0xff, EPT_R | EPT_W | EPT_X);
	/* 4 KiB backing where 2 MiB cannot be used */
	assert_int_equal(pt_map(&c, 0x800000, 0x12345000, 0x3000, leaf), 0);
	e = entry(&c, 0x801000, 1);
	assert_int_equal(e & 0xfff, EPT_R | EPT_W | EPT_X | EPT_MT_WB);
	assert_int_equal(e & PTE_ADDR, 0x12346000);
	/* bit 63 (suppress #VE) never set */
	assert_false(e >> 63);
	pt_destroy(&c);
}

static void test_mprotect_bits(void **state)
{
	(void)state;
	struct pt_ctx c = child_ept();
	assert_int_equal(pt_map(&c, 0, 0x40000000, 2 << 20, EPT_X | EPT_MT_WB | EPT_W), 0);
	/* read+exec on one 4 KiB page (hypercall.c: clear W|X, set X): the 2 MiB leaf splits and
	 * keeps its memory type in every 4 KiB leaf */
	assert_int_equal(pt_protect(&c, 0x1000, 0x1000, EPT_W | EPT_X, EPT_X), 0);
	assert_int_equal(entry(&c, 0x1000, 1) & 0xfff, EPT_R | EPT_X | EPT_MT_WB);
	assert_int_equal(entry(&c, 0x2000, 1) & 0xfff, EPT_R | EPT_W | EPT_X | EPT_MT_WB);
	/* read only: neither W nor X; read+write: W, no X */
	assert_int_equal(pt_protect(&c, 0x3000, 0x1000, EPT_W | EPT_X, 0), 0);
	assert_int_equal(entry(&c, 0x3000, 1) & 0xfff, EPT_R | EPT_MT_WB);
	assert_int_equal(pt_protect(&c, 0x4000, 0x1000, EPT_W | EPT_X, EPT_W), 0);
	assert_int_equal(entry(&c, 0x4000, 1) & 0xfff, EPT_R | EPT_W | EPT_MT_WB);
	pt_destroy(&c);
}

/* Execute-only pages (PROT_EXEC on an EPT with that capability): R cleared, the entry still
 * present to pt.c (present = R|W|X), so lookups and a later MPROTECT still find it. */
static void test_exec_only(void **state)
{
	(void)state;
	struct pt_ctx c = child_ept();
	c.present = EPT_R | EPT_W | EPT_X;
	assert_int_equal(pt_map(&c, 0, 0x40000000, 2 << 20, EPT_X | EPT_MT_WB | EPT_W), 0);
	assert_int_equal(pt_protect(&c, 0x5000, 0x1000, EPT_R | EPT_W | EPT_X, EPT_X), 0);
	assert_int_equal(entry(&c, 0x5000, 1) & 0xfff, EPT_X | EPT_MT_WB);
	uint64_t pa, size, flags;
	assert_int_equal(pt_lookup(&c, 0x5000, &pa, &size, &flags), 0);
	assert_int_equal(pa, 0x40005000);
	/* and back to read+write */
	assert_int_equal(pt_protect(&c, 0x5000, 0x1000, EPT_R | EPT_W | EPT_X, EPT_R | EPT_W), 0);
	assert_int_equal(entry(&c, 0x5000, 1) & 0xfff, EPT_R | EPT_W | EPT_MT_WB);
	pt_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaves_and_tables),
		cmocka_unit_test(test_mprotect_bits),
		cmocka_unit_test(test_exec_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
