/* libFuzzer harness for hv/gmem.c: random page tables in a 64 KiB fake guest memory, random
 * CR0/CR3/CR4/EFER, then translations and copies. Oracles: every access goes through gpa_to_hpa
 * for a non-empty range inside one page of the fake memory (ASan guards the rest), copies stay
 * inside their buffers, a failed copy-out changes nothing, and cached translations agree with
 * a fresh walk while memory is unchanged within a call, and always from the next call on
 * (walks kept across calls, the hypervisor's control-guest view, when the input asks for
 * them: tables rewritten between calls must be seen). */
#include <string.h>
#include "fuzz_input.h"
#include "../../hv/gmem.h"
#include "../../abi/bvmm.h"

#define PAGES 16
#define MEM (PAGES * 4096u)
#define POOL_PAGE 15   /* memory the guest may not reach: gpa_to_hpa refuses it */
#define MAX_COPY (3 * 4096 + 64)

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

struct fake { uint8_t *mem; unsigned bad; };

static int fake_gpa_to_hpa(struct gview *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	struct fake *m = g->ctx;
	if (!len || (gpa & 0xfff) + len > 4096)
		m->bad++;   /* the contract: a non-empty range within one page */
	if (gpa >= MEM || gpa / 4096 == POOL_PAGE || !len || (gpa & 0xfff) + len > 4096)
		return BVMM_EFAULT;
	*hpa = (uint64_t)(uintptr_t)(m->mem + gpa);
	return 0;
}

/* A page-table entry: a frame in (or just past) the fake memory, fuzzer flags, and sometimes
 * high bits (NX, PSE-36 bits, reserved). */
static uint64_t entry(struct fin *f)
{
	uint8_t k = fin_u8(f);
	uint64_t e = ((uint64_t)(k % 20) << 12) | fin_u8(f);
	if (k & 0x80)
		e |= (uint64_t)fin_u16(f) << 13 | (uint64_t)fin_u8(f) << 56;
	return e;
}

static void write_tables(struct fin *f, uint8_t *mem)
{
	for (unsigned k = fin_u8(f) % 24; k && f->n; k--) {
		uint8_t where = fin_u8(f);
		unsigned page = where % PAGES, idx = where & 0x80 ? fin_u16(f) % 512 : fin_u8(f) % 8;
		uint64_t e = entry(f);
		if (where & 0x40)   /* two 4-byte entries (32-bit paging) */
			e = (e & 0xffffffffull) | entry(f) << 32;
		memcpy(mem + page * 4096 + idx * 8, &e, 8);
	}
}

static void set_mode(struct fin *f, struct gview *g)
{
	uint8_t k = fin_u8(f);
	static const uint64_t cr4s[] = { 0, CR4_PSE, CR4_PAE, CR4_PAE, CR4_PAE | CR4_LA57 };
	unsigned mode = k % 6;   /* 5: paging off */
	g->cr0 = CR0_PE | (mode < 5 ? CR0_PG : 0) | (k & 0x80 ? CR0_WP : 0);
	g->cr4 = cr4s[mode % 5] | (k & 0x40 ? CR4_PSE : 0);
	g->efer = mode >= 3 && mode < 5 ? EFER_LME | EFER_LMA : 0;
	g->cr3 = ((uint64_t)(fin_u8(f) % 18) << 12) | (fin_u8(f) & 0xfe0);
	if (k & 0x20)
		g->cr3 |= (uint64_t)fin_u8(f) << 32;
}

/* A virtual address built from small table indices (so it meets the entries written), or raw. */
static uint64_t vaddr(struct fin *f)
{
	uint8_t k = fin_u8(f);
	if (k & 1)
		return fin_u64(f);
	uint64_t va = 0;
	for (int level = 4; level >= 0; level--)
		va |= (uint64_t)(fin_u8(f) % 4) << (12 + 9 * level);
	va |= fin_u16(f) & 0xfff;
	if (k & 2)
		va |= 0xff00000000000000ull | (1ull << 47) | (1ull << 56);   /* the upper half */
	if (k & 4)
		va = (uint32_t)va | ((uint64_t)(fin_u8(f) % 4) << 22);   /* 32-bit: 4 MiB PDEs */
	return va;
}

struct run { struct fake m; struct gview g; uint8_t *snap; int dirty; };

static struct gview fresh(const struct run *r)
{
	struct gview g = r->g;
	g.tlb_n = 0;
	g.psc_size = 0;
	g.wc = NULL;   /* the reference: a plain walk */
	return g;
}

/* A translation, cached or walked, agrees with a fresh walk while memory is unchanged. */
static void op_translate(struct run *r, uint64_t va, int write)
{
	uint64_t gpa, gpa2;
	int e = gmem_translate(&r->g, va, write, &gpa);
	FUZZ_CHECK(e == 0 || e == BVMM_EFAULT);
	if (e || r->dirty)
		return;
	struct gview g2 = fresh(r);
	FUZZ_CHECK(gmem_translate(&g2, va, write, &gpa2) == 0 && gpa2 == gpa);
}

/* Copied bytes are the bytes a fresh walk finds, page by page. */
static void check_copied(struct run *r, uint64_t va, const uint8_t *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		uint64_t cur = va + done, gpa;
		size_t len = 4096 - (cur & 0xfff);
		len = len < n - done ? len : n - done;
		struct gview g2 = fresh(r);
		FUZZ_CHECK(gmem_translate(&g2, cur, 0, &gpa) == 0 && gpa < MEM && gpa + len <= MEM);
		FUZZ_CHECK(memcmp(r->m.mem + gpa, buf + done, len) == 0);
		done += len;
	}
}

static void op_copy_in(struct run *r, uint64_t va, size_t n)
{
	uint8_t *dst = malloc(n ? n : 1);   /* exactly n bytes: ASan sees any overrun */
	FUZZ_CHECK(dst != NULL);
	int e = gmem_copy_in(&r->g, dst, va, n);
	FUZZ_CHECK(e == 0 || e == BVMM_EFAULT);
	if (!e && !r->dirty)
		check_copied(r, va, dst, n);
	free(dst);
}

static void op_copy_out(struct run *r, uint64_t va, size_t n, uint8_t fillb)
{
	uint8_t *src = malloc(n ? n : 1);
	FUZZ_CHECK(src != NULL);
	memset(src, fillb, n);
	memcpy(r->snap, r->m.mem, MEM);
	int chk = gmem_check_out(&r->g, va, n);
	FUZZ_CHECK(memcmp(r->snap, r->m.mem, MEM) == 0);   /* check_out writes nothing */
	int e = gmem_copy_out(&r->g, va, src, n);
	FUZZ_CHECK(e == 0 || e == BVMM_EFAULT);
	if (e)
		FUZZ_CHECK(memcmp(r->snap, r->m.mem, MEM) == 0);   /* a fault changes nothing */
	if (!r->dirty)
		FUZZ_CHECK(chk == e);
	if (!e && n && memcmp(r->snap, r->m.mem, MEM))
		r->dirty = 1;
	free(src);
}

static void op_direct(struct run *r, uint64_t va, size_t n, int write)
{
	uint8_t *p = gmem_direct(&r->g, va, n, write);
	if (!p)
		return;
	FUZZ_CHECK(n && p >= r->m.mem && p + n <= r->m.mem + MEM);
	FUZZ_CHECK((uintptr_t)(p - r->m.mem) / 4096 == (uintptr_t)(p + n - 1 - r->m.mem) / 4096);
	if (!r->dirty)
		check_copied(r, va, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = { data, size };
	struct run r = { .m = { .mem = calloc(1, MEM) }, .snap = malloc(MEM) };
	static struct gwalk_cache wc;
	FUZZ_CHECK(r.m.mem && r.snap);
	write_tables(&f, r.m.mem);
	set_mode(&f, &r.g);
	r.g.gpa_to_hpa = fake_gpa_to_hpa;
	r.g.ctx = &r.m;
	memset(&wc, 0, sizeof wc);
	r.g.wc = fin_u8(&f) & 1 ? &wc : NULL;
	for (unsigned ops = 0; f.n && ops < 16; ops++) {
		uint8_t k = fin_u8(&f);
		uint64_t va = vaddr(&f);
		size_t n = k & 0x80 ? fin_u16(&f) % MAX_COPY : fin_u8(&f) % 16;
		switch (k % 5) {
		case 0: op_translate(&r, va, (k >> 3) & 1); break;
		case 1: op_copy_in(&r, va, n); break;
		case 2: op_copy_out(&r, va, n, k); break;
		case 3: op_direct(&r, va, n, (k >> 3) & 1); break;
		default:   /* a new hypercall, after the tables changed (kept walks must see it) */
			if (k & 0x40)
				write_tables(&f, r.m.mem);
			r.g.tlb_n = 0;
			r.g.psc_size = 0;
			r.dirty = 0;
			break;
		}
		FUZZ_CHECK(r.m.bad == 0);
	}
	free(r.m.mem);
	free(r.snap);
	return 0;
}
