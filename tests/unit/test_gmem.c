/* Unit tests of hv/gmem.c: the walk of a guest's own 4-level page tables and the page-by-page
 * copies. Guest-physical memory is a sparse set of host pages ("frames"); gpa_to_hpa refuses
 * unknown frames and a "pool" range, as the hypervisor refuses memory a guest may not reach.
 *
 * Guest layout (cr3 = 0x1000):
 *   PML4[0]   -> PDPT 0x2000            PML4[256] -> PDPT 0x7000 (PDPT[0]: 1G page 0x80000000)
 *   PDPT[0]   -> PD 0x3000              PDPT[1]: 1G page 0x80000000, NX and PAT bits set
 *   PDPT[2]   -> PD 0x60000 (in the pool: refused)
 *   PDPT[3]   -> PD 0x6000, read-only table entry; PD 0x6000[0]: RW 2M page 0x40400000
 *   PD[2]     -> PT 0x4000              PD[3]: 2M page 0x40000000 (PAT bit set)
 *   PD[4]: read-only 2M page 0x40200000
 *   PT[0] 0x400000 -> 0x10000 RW   PT[1] 0x401000 -> 0x30000 RW   PT[2] 0x402000 -> 0x11000 RO
 *   PT[3] not present              PT[4] 0x404000 -> 0x50000 (pool)
 *   PT[5] 0x405000 -> 0x12000 RW   PT[6] not present
 *   PT[7] 0x407000 -> 0x13000 RW   PT[8] 0x408000 -> 0x51000 (pool)
 *   PML4[1], PDPT[5], PD[5] not present. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../hv/gmem.h"
#include "../../arch/x86_64/cpu.h"
#include "../../arch/x86_64/pt.h"
#include "../../abi/bvmm.h"

#define CR0_WP (1ull << 16)
#define CR4_LA57 (1ull << 12)
#define PTE_PAT_LARGE (1ull << 12)

#define POOL_LO 0x50000ull
#define POOL_HI 0x70000ull

#define MAX_FRAMES 64

struct gphys {
	struct { uint64_t gpa; uint8_t *host; } frames[MAX_FRAMES];
	unsigned n;
	unsigned calls;      /* gpa_to_hpa calls */
	unsigned bad_len;    /* calls whose range was empty or crossed a page */
	struct gview g;
};

static uint8_t *frame(struct gphys *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->frames[i].gpa == (gpa & ~0xfffull))
			return m->frames[i].host + (gpa & 0xfff);
	return NULL;
}

static uint8_t *add_frame(struct gphys *m, uint64_t gpa)
{
	assert_true(m->n < MAX_FRAMES);
	assert_null(frame(m, gpa));
	uint8_t *p = aligned_alloc(4096, 4096);
	assert_non_null(p);
	memset(p, 0, 4096);
	m->frames[m->n].gpa = gpa;
	m->frames[m->n].host = p;
	m->n++;
	return p;
}

static int gpa_to_hpa(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	struct gphys *m = g->ctx;
	m->calls++;
	if (!len || (gpa & 0xfff) + len > 4096) {
		m->bad_len++;
		return BVMM_EFAULT;
	}
	if (gpa >= POOL_LO && gpa < POOL_HI)
		return BVMM_EFAULT;
	uint8_t *p = frame(m, gpa);
	if (!p)
		return BVMM_EFAULT;
	*hpa = (uint64_t)(uintptr_t)p;
	return 0;
}

static void set_pte(struct gphys *m, uint64_t table_gpa, unsigned idx, uint64_t val)
{
	uint64_t *t = (uint64_t *)frame(m, table_gpa);
	assert_non_null(t);
	t[idx] = val;
}

static void fill(struct gphys *m, uint64_t gpa, uint8_t seed)
{
	uint8_t *p = frame(m, gpa);
	for (unsigned i = 0; i < 4096; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

#define RW (PTE_P | PTE_RW)

static int setup(void **state)
{
	struct gphys *m = calloc(1, sizeof *m);
	assert_non_null(m);
	uint64_t tables[] = { 0x1000, 0x2000, 0x3000, 0x4000, 0x6000, 0x7000, 0x60000 };
	for (unsigned i = 0; i < sizeof tables / sizeof tables[0]; i++)
		add_frame(m, tables[i]);
	uint64_t data[] = { 0x10000, 0x30000, 0x11000, 0x12000, 0x13000, 0x50000, 0x51000,
			    0x40012000, 0x40013000, 0x40014000, 0x40015000, 0x401ff000,
			    0x40200000, 0x40400000, 0x81234000, 0x80000000 };
	for (unsigned i = 0; i < sizeof data / sizeof data[0]; i++) {
		add_frame(m, data[i]);
		fill(m, data[i], (uint8_t)(i * 31 + 1));
	}

	set_pte(m, 0x1000, 0, 0x2000 | RW);
	set_pte(m, 0x1000, 256, 0x7000 | RW);
	set_pte(m, 0x7000, 0, 0x80000000 | RW | PTE_PS);
	set_pte(m, 0x2000, 0, 0x3000 | RW);
	set_pte(m, 0x2000, 1, 0x80000000 | RW | PTE_PS | PTE_PAT_LARGE | PTE_NX);
	set_pte(m, 0x2000, 2, 0x60000 | RW);
	set_pte(m, 0x2000, 3, 0x6000 | PTE_P);              /* read-only table entry */
	set_pte(m, 0x6000, 0, 0x40400000 | RW | PTE_PS);
	/* the pool's table maps something valid: only gpa_to_hpa's refusal stops the walk */
	set_pte(m, 0x60000, 0, 0x40000000 | RW | PTE_PS);
	set_pte(m, 0x3000, 2, 0x4000 | RW);
	set_pte(m, 0x3000, 3, 0x40000000 | RW | PTE_PS | PTE_PAT_LARGE);
	set_pte(m, 0x3000, 4, 0x40200000 | PTE_P | PTE_PS);
	set_pte(m, 0x4000, 0, 0x10000 | RW);
	set_pte(m, 0x4000, 1, 0x30000 | RW);
	set_pte(m, 0x4000, 2, 0x11000 | PTE_P);
	set_pte(m, 0x4000, 4, 0x50000 | RW);
	set_pte(m, 0x4000, 5, 0x12000 | RW);
	set_pte(m, 0x4000, 7, 0x13000 | RW);
	set_pte(m, 0x4000, 8, 0x51000 | RW);

	m->g = (struct gview){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PAE,
			       .efer = EFER_LME | EFER_LMA, .gpa_to_hpa = gpa_to_hpa, .ctx = m };
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct gphys *m = *state;
	assert_int_equal(m->bad_len, 0);   /* gpa_to_hpa never asked for a range across pages */
	for (unsigned i = 0; i < m->n; i++)
		free(m->frames[i].host);
	free(m);
	return 0;
}

static void expect_gpa(struct gview *g, uint64_t va, int write, uint64_t want)
{
	uint64_t gpa = 0xdeadull;
	int r = gmem_translate(g, va, write, &gpa);
	if (r || gpa != want)
		fail_msg("va 0x%llx (%s): r=%d gpa=0x%llx, expected 0 and 0x%llx",
			 (unsigned long long)va, write ? "write" : "read", r,
			 (unsigned long long)gpa, (unsigned long long)want);
}

static void expect_fault(struct gview *g, uint64_t va, int write)
{
	uint64_t gpa = 0;
	int r = gmem_translate(g, va, write, &gpa);
	if (r != BVMM_EFAULT)
		fail_msg("va 0x%llx (%s): r=%d gpa=0x%llx, expected EFAULT", (unsigned long long)va,
			 write ? "write" : "read", r, (unsigned long long)gpa);
}

/* ---- translation ---- */

static void test_translate_4k(void **state)
{
	struct gphys *m = *state;
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
	expect_gpa(&m->g, 0x400123, 1, 0x10123);
	expect_gpa(&m->g, 0x400fff, 0, 0x10fff);
	expect_gpa(&m->g, 0x401000, 1, 0x30000);
	expect_gpa(&m->g, 0x405abc, 0, 0x12abc);
	/* CR3's low bits (PCID, PWT, PCD) are not part of the table address */
	m->g.cr3 = 0x1000 | 0x18 | 0x5;
	expect_gpa(&m->g, 0x400123, 0, 0x10123);
}

static void test_translate_2m(void **state)
{
	struct gphys *m = *state;
	/* the PAT bit (12) of a large page is not an address bit */
	expect_gpa(&m->g, 0x600000, 0, 0x40000000);
	expect_gpa(&m->g, 0x612345, 1, 0x40012345);
	expect_gpa(&m->g, 0x7fffff, 0, 0x401fffff);
}

static void test_translate_1g(void **state)
{
	struct gphys *m = *state;
	/* PAT and NX bits of the PDPTE are not address bits */
	expect_gpa(&m->g, 0x40000000, 0, 0x80000000);
	expect_gpa(&m->g, 0x41234567, 1, 0x81234567);
	expect_gpa(&m->g, 0x7fffffff, 0, 0xbfffffff);
	/* the upper half: PML4[256] */
	expect_gpa(&m->g, 0xffff800000000000ull, 0, 0x80000000);
	expect_gpa(&m->g, 0xffff800001234567ull, 1, 0x81234567);
}

static void test_not_present_each_level(void **state)
{
	struct gphys *m = *state;
	expect_fault(&m->g, 0x8000000000ull, 0);     /* PML4[1] */
	expect_fault(&m->g, 0x7ffffffff000ull, 0);   /* PML4[255] */
	expect_fault(&m->g, 0x140000000ull, 0);      /* PDPT[5] */
	expect_fault(&m->g, 0xa00000, 0);            /* PD[5] */
	expect_fault(&m->g, 0x403000, 0);            /* PT[3] */
	expect_fault(&m->g, 0x403fff, 1);
	expect_fault(&m->g, 0x406000, 0);            /* PT[6] */
	/* a present entry next to them still translates */
	expect_gpa(&m->g, 0x402fff, 0, 0x11fff);
}

static void test_non_canonical(void **state)
{
	struct gphys *m = *state;
	/* both have a present chain at their index bits: only canonicality refuses them */
	expect_fault(&m->g, 0x0000800000000000ull, 0);       /* PML4[256], bit 47 not extended */
	expect_fault(&m->g, 0x0000800001234567ull, 0);
	expect_fault(&m->g, 0xffff000000400000ull, 0);       /* PML4[0] chain -> PT[0] */
	expect_fault(&m->g, 0x0001000000400000ull, 0);
	expect_fault(&m->g, 0x8000000000400000ull, 1);
	expect_fault(&m->g, 0xffff7fffffffffffull, 0);
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
}

static void test_paging_off_identity(void **state)
{
	struct gphys *m = *state;
	m->g.cr0 = CR0_PE | CR0_WP;
	m->g.cr3 = 0xdead000;   /* not used */
	expect_gpa(&m->g, 0x12345678, 0, 0x12345678);
	expect_gpa(&m->g, 0x403000, 1, 0x403000);    /* not-present in the tables: irrelevant */
	expect_gpa(&m->g, 0xfffff000, 1, 0xfffff000);
	assert_int_equal(m->calls, 0);               /* no table read */
	/* copies go straight to guest-physical memory */
	uint8_t buf[8];
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x30010, sizeof buf), 0);
	assert_memory_equal(buf, frame(m, 0x30010), sizeof buf);
	/* across two existing frames (0x11000 is read-only in the tables: irrelevant now) */
	uint8_t out[4] = { 1, 2, 3, 4 };
	assert_int_equal(gmem_copy_out(&m->g, 0x10ffe, out, 4), 0);
	assert_memory_equal(frame(m, 0x10ffe), out, 2);
	assert_memory_equal(frame(m, 0x11000), out + 2, 2);
	/* memory the guest may not reach still faults */
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x50000, 4), BVMM_EFAULT);
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x9000, 4), BVMM_EFAULT);
}

/* 5-level paging (CR4.LA57): a PML5 at 0x9000 whose entry 0 leads to the PML4 at 0x1000
 * translates as the 4-level tables do; canonical means 57 bits; PS in a PML5 entry is
 * reserved. */
static void test_five_level_walk(void **state)
{
	struct gphys *m = *state;
	add_frame(m, 0x9000);
	set_pte(m, 0x9000, 0, 0x1000 | RW);
	set_pte(m, 0x9000, 1, 0x1000 | RW | PTE_PS);
	m->g.cr3 = 0x9000;
	m->g.cr4 |= CR4_LA57;
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
	expect_gpa(&m->g, 0x40001234, 0, 0x80001234);   /* PDPT[1]: a 1 GiB page */
	expect_fault(&m->g, 0x0100000000000000ull, 0);   /* bit 56 set, not sign-extended */
	expect_fault(&m->g, 0x0001000000400000ull, 0);   /* PML5[1]: PS is reserved */
	expect_fault(&m->g, 0x0002000000400000ull, 0);   /* PML5[2]: not present */
	/* Under 4-level paging the same tables start at the PML4: 0x0000800000000000 is not
	 * canonical there. */
	m->g.cr4 &= ~CR4_LA57;
	m->g.cr3 = 0x1000;
	m->g.tlb_n = 0;
	m->g.psc_size = 0;
	expect_fault(&m->g, 0x0000800000000000ull, 0);
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
}

static void test_read_only_with_wp(void **state)
{
	struct gphys *m = *state;
	/* read-only PTE */
	expect_fault(&m->g, 0x402000, 1);
	expect_fault(&m->g, 0x402abc, 1);
	expect_gpa(&m->g, 0x402abc, 0, 0x11abc);
	/* read-only 2M PDE */
	expect_fault(&m->g, 0x800000, 1);
	expect_gpa(&m->g, 0x812345, 0, 0x40212345);
	/* RW leaf under a read-only PDPTE: the table entry's R/W also counts */
	expect_fault(&m->g, 0xc0000000ull, 1);
	expect_gpa(&m->g, 0xc0000000ull, 0, 0x40400000);
	/* and the copies */
	uint8_t b[4] = { 9, 9, 9, 9 }, before[4];
	memcpy(before, frame(m, 0x11000), 4);
	assert_int_equal(gmem_copy_out(&m->g, 0x402000, b, 4), BVMM_EFAULT);
	assert_memory_equal(frame(m, 0x11000), before, 4);
	assert_int_equal(gmem_copy_in(&m->g, b, 0x402000, 4), 0);
	assert_memory_equal(b, before, 4);
}

static void test_read_only_without_wp(void **state)
{
	struct gphys *m = *state;
	m->g.cr0 &= ~CR0_WP;   /* supervisor writes ignore R/W */
	expect_gpa(&m->g, 0x402abc, 1, 0x11abc);
	expect_gpa(&m->g, 0x812345, 1, 0x40212345);
	expect_gpa(&m->g, 0xc0000123ull, 1, 0x40400123);
	uint8_t b[4] = { 0xaa, 0xbb, 0xcc, 0xdd };
	assert_int_equal(gmem_copy_out(&m->g, 0x402100, b, 4), 0);
	assert_memory_equal(frame(m, 0x11100), b, 4);
	/* not-present still faults */
	expect_fault(&m->g, 0x403000, 1);
}

/* ---- copies ---- */

static void test_copy_in_across_pages(void **state)
{
	struct gphys *m = *state;
	uint8_t buf[32], want[32];
	memcpy(want, frame(m, 0x10ff0), 16);
	memcpy(want + 16, frame(m, 0x30000), 16);
	memset(buf, 0, sizeof buf);
	/* VA 0x400ff0..0x40100f: GPA 0x10ff0.. then 0x30000.. (not contiguous) */
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x400ff0, 32), 0);
	assert_memory_equal(buf, want, 32);
	/* more than a page, unaligned: 0x100 of A, all of B, 0x100 of the read-only C */
	uint8_t *big = malloc(0x1200);
	assert_non_null(big);
	assert_int_equal(gmem_copy_in(&m->g, big, 0x400f00, 0x1200), 0);
	assert_memory_equal(big, frame(m, 0x10f00), 0x100);
	assert_memory_equal(big + 0x100, frame(m, 0x30000), 0x1000);
	assert_memory_equal(big + 0x1100, frame(m, 0x11000), 0x100);
	free(big);
}

static void test_copy_in_2m_and_1g_pages(void **state)
{
	struct gphys *m = *state;
	/* inside a 2M page, across three 4K boundaries: 0x40012f00 .. 0x40015100 */
	size_t n = 0x2200;
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x612f00, n), 0);
	assert_memory_equal(buf, frame(m, 0x40012f00), 0x100);
	assert_memory_equal(buf + 0x100, frame(m, 0x40013000), 0x1000);
	assert_memory_equal(buf + 0x1100, frame(m, 0x40014000), 0x1000);
	assert_memory_equal(buf + 0x2100, frame(m, 0x40015000), 0x100);
	/* through the 1G page */
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x41234100, 64), 0);
	assert_memory_equal(buf, frame(m, 0x81234100), 64);
	assert_int_equal(gmem_copy_in(&m->g, buf, 0xffff800001234200ull, 64), 0);
	assert_memory_equal(buf, frame(m, 0x81234200), 64);
	free(buf);
}

static void test_copy_out_across_pages(void **state)
{
	struct gphys *m = *state;
	uint8_t a[4096], b[4096];
	memcpy(a, frame(m, 0x10000), 4096);
	memcpy(b, frame(m, 0x30000), 4096);
	uint8_t src[24];
	for (unsigned i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(0xe0 + i);
	assert_int_equal(gmem_copy_out(&m->g, 0x400ff8, src, 24), 0);
	memcpy(a + 0xff8, src, 8);
	memcpy(b, src + 8, 16);
	assert_memory_equal(frame(m, 0x10000), a, 4096);   /* exactly those bytes changed */
	assert_memory_equal(frame(m, 0x30000), b, 4096);
}

static void test_copy_zero_length(void **state)
{
	struct gphys *m = *state;
	uint8_t b[1] = { 0x5a };
	assert_int_equal(gmem_copy_in(&m->g, b, 0x403000, 0), 0);
	assert_int_equal(gmem_copy_out(&m->g, 0x403000, b, 0), 0);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(m->calls, 0);
}

/* The second page faults: the first page must not be written. */
static void check_copy_out_atomic(struct gphys *m, uint64_t va, uint64_t first_gpa)
{
	uint8_t before[4096], src[32];
	memset(src, 0x77, sizeof src);
	memcpy(before, frame(m, first_gpa & ~0xfffull), 4096);
	int r = gmem_copy_out(&m->g, va, src, sizeof src);
	if (r != BVMM_EFAULT)
		fail_msg("copy_out at 0x%llx returned %d, expected EFAULT", (unsigned long long)va, r);
	if (memcmp(frame(m, first_gpa & ~0xfffull), before, 4096))
		fail_msg("copy_out at 0x%llx faulted but wrote the first page (GPA 0x%llx)",
			 (unsigned long long)va, (unsigned long long)first_gpa);
}

static void test_copy_out_second_page_not_present(void **state)
{
	struct gphys *m = *state;
	check_copy_out_atomic(m, 0x405ff0, 0x12ff0);   /* PT[6] not present */
}

static void test_copy_out_second_page_read_only(void **state)
{
	struct gphys *m = *state;
	uint8_t c[4096];
	memcpy(c, frame(m, 0x11000), 4096);
	check_copy_out_atomic(m, 0x401ff0, 0x30ff0);   /* PT[2] read-only, CR0.WP set */
	assert_memory_equal(frame(m, 0x11000), c, 4096);
}

static void test_copy_out_second_page_refused(void **state)
{
	struct gphys *m = *state;
	uint8_t pool[4096];
	memcpy(pool, frame(m, 0x51000), 4096);
	check_copy_out_atomic(m, 0x407ff0, 0x13ff0);   /* PT[8] -> the pool */
	assert_memory_equal(frame(m, 0x51000), pool, 4096);
}

static void test_copy_in_fault(void **state)
{
	struct gphys *m = *state;
	uint8_t buf[32];
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x405ff0, 32), BVMM_EFAULT);
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x403000, 1), BVMM_EFAULT);
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x0000800000000000ull, 8), BVMM_EFAULT);
}

/* ---- memory the guest may not reach ---- */

static void test_data_page_refused(void **state)
{
	struct gphys *m = *state;
	/* the walk itself succeeds (the PTE is fine) ... */
	expect_gpa(&m->g, 0x404010, 0, 0x50010);
	/* ... but the data is in the pool */
	uint8_t buf[16], before[4096];
	memcpy(before, frame(m, 0x50000), 4096);
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x404010, 16), BVMM_EFAULT);
	memset(buf, 0x42, sizeof buf);
	assert_int_equal(gmem_copy_out(&m->g, 0x404010, buf, 16), BVMM_EFAULT);
	assert_memory_equal(frame(m, 0x50000), before, 4096);
}

static void test_table_page_refused(void **state)
{
	struct gphys *m = *state;
	/* PDPT[2] points at a page directory inside the pool */
	expect_fault(&m->g, 0x80000000ull, 0);
	expect_fault(&m->g, 0x80012345ull, 1);
	uint8_t buf[8];
	assert_int_equal(gmem_copy_in(&m->g, buf, 0x80012345ull, 8), BVMM_EFAULT);
	/* CR3 itself in the pool */
	m->g.cr3 = 0x60000;
	expect_fault(&m->g, 0x0, 0);
	/* CR3 at a GPA with no memory */
	m->g.cr3 = 0x9000;
	expect_fault(&m->g, 0x400000, 0);
}

/* ---- walks kept across hypercalls (gview.wc) ---- */

/* A new hypercall: its own TLB empty, the kept walks not. */
static void next_call(struct gphys *m)
{
	m->g.tlb_n = 0;
	m->g.psc_size = 0;
	m->calls = 0;
}

static uint64_t get_pte(struct gphys *m, uint64_t table_gpa, unsigned idx)
{
	uint64_t v;
	memcpy(&v, frame(m, table_gpa + idx * 8), 8);
	return v;
}

/* Kept and used without a walk while the path is unchanged; a changed leaf, a changed table
 * entry above it or another CR3 is walked again, and the walk's answer is the new one. */
static void test_walk_cache_revalidated(void **state)
{
	struct gphys *m = *state;
	static struct gwalk_cache wc;
	memset(&wc, 0, sizeof wc);
	m->g.wc = &wc;
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
	assert_int_equal(m->calls, 4);              /* walked: one lookup per level */
	next_call(m);
	expect_gpa(&m->g, 0x400123, 1, 0x10123);
	assert_int_equal(m->calls, 0);              /* kept: no walk */
	/* Accessed and dirty bits do not count. */
	set_pte(m, 0x4000, 0, get_pte(m, 0x4000, 0) | PTE_A | PTE_D);
	next_call(m);
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
	assert_int_equal(m->calls, 0);
	/* The leaf moved: walked, the new page. */
	set_pte(m, 0x4000, 0, 0x30000 | RW);
	next_call(m);
	expect_gpa(&m->g, 0x400000, 0, 0x30000);
	assert_int_equal(m->calls, 4);
	/* A table entry above it made read-only: a write faults, a read still works. */
	uint64_t pde = get_pte(m, 0x3000, 2);
	set_pte(m, 0x3000, 2, pde & ~(uint64_t)PTE_RW);
	next_call(m);
	expect_fault(&m->g, 0x400000, 1);
	expect_gpa(&m->g, 0x400000, 0, 0x30000);
	/* ... and not present: faults. */
	set_pte(m, 0x3000, 2, 0);
	next_call(m);
	expect_fault(&m->g, 0x400000, 0);
	set_pte(m, 0x3000, 2, pde);
	/* Another CR3 (here: the same tables at another address would be another space). */
	next_call(m);
	expect_gpa(&m->g, 0x400000, 0, 0x30000);
	m->g.cr3 = 0x1000 | 0x8;                    /* PWT: another CR3 value */
	next_call(m);
	expect_gpa(&m->g, 0x400000, 0, 0x30000);
	assert_int_equal(m->calls, 4);
}

/* A kept walk at VA 0 is used like any other (no "page 0 means empty"), and a walk of a page
 * already kept replaces it rather than filling the cache with copies. */
static void test_walk_cache_page_zero_and_replacement(void **state)
{
	struct gphys *m = *state;
	static struct gwalk_cache wc;
	memset(&wc, 0, sizeof wc);
	m->g.wc = &wc;
	set_pte(m, 0x4000, 0, 0x10000 | PTE_P);     /* VA 0x400000 read-only first */
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
	set_pte(m, 0x4000, 0, 0x10000 | RW);        /* made writable: the kept walk is stale */
	next_call(m);
	expect_gpa(&m->g, 0x400000, 1, 0x10000);
	unsigned kept = 0;
	for (unsigned i = 0; i < GWALK_CACHE; i++)
		kept += wc.e[i].levels && (wc.e[i].page & ~0xfffull) == 0x400000;
	assert_int_equal(kept, 1);
	next_call(m);
	expect_gpa(&m->g, 0x400000, 1, 0x10000);
	assert_int_equal(m->calls, 0);
}

/* A page kept for a read is not given out for a write it does not allow. */
static void test_walk_cache_read_only_page(void **state)
{
	struct gphys *m = *state;
	static struct gwalk_cache wc;
	memset(&wc, 0, sizeof wc);
	m->g.wc = &wc;
	expect_gpa(&m->g, 0x402000, 0, 0x11000);    /* PT[2]: present, read-only */
	next_call(m);
	expect_fault(&m->g, 0x402000, 1);
	next_call(m);
	expect_gpa(&m->g, 0x402000, 0, 0x11000);
	assert_int_equal(m->calls, 0);
	/* Paging controls are part of the key: WP off makes it writable, by a walk. */
	m->g.cr0 &= ~(uint64_t)CR0_WP;
	next_call(m);
	expect_gpa(&m->g, 0x402000, 1, 0x11000);
	assert_int_equal(m->calls, 4);
}

/* A neighbour of a kept walk's leaf in the same table is read from that table without a walk
 * (no gpa_to_hpa call), only while the entries above are unchanged; anything the neighbour's
 * entry does not settle alone (not present, read-only for a write, a table below) is walked. */
static void test_walk_cache_sibling(void **state)
{
	struct gphys *m = *state;
	static struct gwalk_cache wc;
	memset(&wc, 0, sizeof wc);
	m->g.wc = &wc;
	expect_gpa(&m->g, 0x400000, 0, 0x10000);    /* PT[0]: walked */
	assert_int_equal(m->calls, 4);
	next_call(m);
	expect_gpa(&m->g, 0x401234, 1, 0x30234);    /* PT[1]: from the kept PT[0]'s table */
	assert_int_equal(m->calls, 0);
	next_call(m);
	expect_fault(&m->g, 0x402000, 1);           /* PT[2] read-only: walked, EFAULT */
	expect_gpa(&m->g, 0x402000, 0, 0x11000);
	next_call(m);
	expect_fault(&m->g, 0x403000, 0);           /* PT[3] not present */
	/* The table entry above made read-only: no neighbour is taken from the old path. */
	uint64_t pde = get_pte(m, 0x3000, 2);
	set_pte(m, 0x3000, 2, pde & ~(uint64_t)PTE_RW);
	next_call(m);
	expect_fault(&m->g, 0x407000, 1);
	expect_gpa(&m->g, 0x407000, 0, 0x13000);
	assert_true(m->calls >= 4);
	/* ... and pointing at another table: the walk's answer, not the old table's. */
	set_pte(m, 0x3000, 2, 0x3000 | RW);         /* PD[2] -> the PD itself as a PT */
	next_call(m);
	expect_gpa(&m->g, 0x403000, 0, get_pte(m, 0x3000, 3) & PTE_ADDR);
	set_pte(m, 0x3000, 2, pde);
	/* 2 MiB leaves: PD[3] kept, PD[4] (read-only) read beside it, PD[2] (a table) walked. */
	next_call(m);
	expect_gpa(&m->g, 0x600000, 0, 0x40000000);
	next_call(m);
	expect_gpa(&m->g, 0x812345, 0, 0x40212345);
	assert_int_equal(m->calls, 0);
	expect_fault(&m->g, 0x800000, 1);
	next_call(m);
	expect_fault(&m->g, 0xa00000, 0);           /* PD[5] not present */
	expect_gpa(&m->g, 0x401000, 0, 0x30000);    /* PD[2] -> PT: walked or kept */
	/* Within one call the leaf table walked last answers its neighbours (no more lookups);
	 * in the next call an entry above changed is seen. */
	next_call(m);
	expect_gpa(&m->g, 0x400000, 0, 0x10000);
	unsigned calls = m->calls;
	expect_gpa(&m->g, 0x405000, 1, 0x12000);
	expect_gpa(&m->g, 0x407000, 1, 0x13000);
	assert_int_equal(m->calls, calls);
	set_pte(m, 0x3000, 2, 0);
	next_call(m);
	expect_fault(&m->g, 0x401000, 0);
	expect_fault(&m->g, 0x405000, 0);
	set_pte(m, 0x3000, 2, pde);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_WC T(test_walk_cache_revalidated), T(test_walk_cache_read_only_page), \
	T(test_walk_cache_page_zero_and_replacement), T(test_walk_cache_sibling),
	const struct CMUnitTest tests[] = {
		T_WC
		T(test_translate_4k),
		T(test_translate_2m),
		T(test_translate_1g),
		T(test_not_present_each_level),
		T(test_non_canonical),
		T(test_paging_off_identity),
		T(test_five_level_walk),
		T(test_read_only_with_wp),
		T(test_read_only_without_wp),
		T(test_copy_in_across_pages),
		T(test_copy_in_2m_and_1g_pages),
		T(test_copy_out_across_pages),
		T(test_copy_zero_length),
		T(test_copy_out_second_page_not_present),
		T(test_copy_out_second_page_read_only),
		T(test_copy_out_second_page_refused),
		T(test_copy_in_fault),
		T(test_data_page_refused),
		T(test_table_page_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
