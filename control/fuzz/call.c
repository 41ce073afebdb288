/* hcfuzz's call engine: places a parameter structure according to its pointer class, runs
 * the hypercall through the register-checking stub, and applies the oracles every call gets
 * (errno documented for the operation, errno predicted by the model, nothing written on
 * failure), then keeps the errno histogram. Operation-specific checks live in ops*.c. */
#include "call.h"

/* bvmm.4 ERRORS, per operation (ENOSYS only for numbers that are no operation). */
static const uint64_t docset[BVMM_OP_COUNT] = {
	[BVMM_OP_HVINFO] = EB(BVMM_EFAULT),
	[BVMM_OP_CREATE] = EB(BVMM_EFAULT) | EB(BVMM_EINVAL) | EB(BVMM_ENOSPC) | EB(BVMM_ENOMEM),
	[BVMM_OP_RUN] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EINVAL) | EB(BVMM_EBUSY) | EB(BVMM_EIO),
	[BVMM_OP_RUN_PHYS] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EINVAL) | EB(BVMM_EBUSY) | EB(BVMM_EIO),
	[BVMM_OP_INFO] = EB(BVMM_EFAULT),
	[BVMM_OP_TERM] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT),
	[BVMM_OP_RESETCPU] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EBUSY) | EB(BVMM_EIO),
	[BVMM_OP_INTR] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EINVAL),
	[BVMM_OP_READREGS] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EINVAL),
	[BVMM_OP_WRITEREGS] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EINVAL) | EB(BVMM_EBUSY),
	[BVMM_OP_READVMPARAMS] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EINVAL),
	[BVMM_OP_WRITEVMPARAMS] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EINVAL),
	[BVMM_OP_MPROTECT_EPT] = EB(BVMM_EFAULT) | EB(BVMM_ENOENT) | EB(BVMM_EBUSY) | EB(BVMM_EINVAL) |
				 EB(BVMM_ENOMEM),
};

uint64_t op_docset(uint64_t op)
{
	return op < BVMM_OP_COUNT ? docset[op] : EB(BVMM_ENOSYS);
}

uint64_t hist[64];
static unsigned made;
static struct call *cur;
static uint8_t before[sizeof(struct vm_create_params)];

unsigned op_calls_made(void) { return made; }
void calls_reset(void) { made = 0; }

/* The errno names in a set, for the report. */
const char *set_str(uint64_t set)
{
	static char s[160];
	unsigned n = 0;
	for (unsigned e = 0; e < 64; e++) {
		if (!(set & EB(e)))
			continue;
		const char *name = errno_name(e);
		if (n && n < sizeof s - 1)
			s[n++] = '|';
		for (unsigned i = 0; name[i] && n < sizeof s - 1; i++)
			s[n++] = name[i];
	}
	s[n] = 0;
	return n ? s : "nothing";
}

/* One violation line, then the call's parameters once. */
void vio(const char *what, const CHAR16 *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	CHAR16 *d = VPoolPrint(fmt, ap);
	va_end(ap);
	violation(cur ? op_name(cur->op) : "-", what, d);
	if (d)
		FreePool(d);
	if (cur && !cur->described) {
		cur->described = 1;
		Print(L"hcfuzz:   params: rdi=%lx (%a) size %d", cur->rdi, pclass_name[cur->cls], cur->size);
		if (cur->describe)
			cur->describe(cur);
		Print(L"\n");
	}
}

/* Place the template per the class; the prediction becomes EFAULT for a bad pointer and
 * anything documented for device memory or page 0. */
static void place(struct call *c, const void *tmpl)
{
	c->rdi = pc_addr(c->cls, c->size, 0, 0);
	if (c->op == BVMM_OP_HVINFO && c->cls == PC_MMIO)
		c->rdi = 0xfed00000ull;   /* HPET: its registers at 0-0x17 take no harm */
	c->p = pc_good(c->cls) ? (uint8_t *)c->rdi : NULL;
	if (c->p) {
		CopyMem(c->p, (void *)tmpl, c->size);
		CopyMem(before, (void *)tmpl, c->size);
	} else if (c->op >= BVMM_OP_COUNT) {
		return;   /* ENOSYS whatever RDI is */
	} else if (pc_bad(c->cls)) {
		c->must = EB(BVMM_EFAULT);
		c->may = 0;
	} else {
		c->must = 0;
		c->may = op_docset(c->op);
	}
}

/* Run one generated call: place, call, check the errno against the documented and the
 * predicted sets, and that a failed call left its structure alone. Returns the errno. */
uint64_t call_run(struct call *c, const void *tmpl)
{
	cur = c;
	c->described = 0;
	place(c, tmpl);
	call_no++;
	made++;
	if (trace && call_no >= trace)
		Print(L"hcfuzz: trace call=%ld op=%a rdi=%lx vm %d vcpu %d\n", call_no, op_name(c->op), c->rdi,
		      c->id, c->vcpu);
	c->e = hc(c->op, (void *)c->rdi);
	uint64_t got = EB(c->e < 64 ? c->e : 63);
	hist[c->e < 64 ? c->e : 63]++;
	if (!(got & (op_docset(c->op) | EB_OK)))
		vio("errno not documented for this operation", L"expected %a, got %a",
		    set_str(op_docset(c->op) | EB_OK), errno_name(c->e));
	uint64_t allowed = c->must | c->may | (c->must ? 0 : EB_OK);
	if (!(got & allowed))
		vio(c->e ? "unexpected errno" : "bad input accepted", L"expected %a, got %a",
		    set_str(allowed), errno_name(c->e));
	if (c->p && c->e && CompareMem(c->p, before, c->size))
		vio("failed call changed its parameter structure", L"expected no write, got one");
	return c->e;
}

/* The structure as it was before the call (for checks of what success may change). */
const uint8_t *call_before(void) { return before; }
void call_clear(void) { cur = NULL; }
void call_enter(struct call *c) { cur = c; c->described = 1; }
