/* Decode, translate and complete the MMIO loads and stores of an NPF exit (see mmio.h).
 * Everything here reads hostile bytes: the instruction and the page tables are the guest's. */
#include "mmio.h"
#include "../../hv/fmt.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define RFLAGS_VM (1ull << 17)

#define PTE_P (1ull << 0)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull   /* bits 51:12 (SDM 4.5: MAXPHYADDR at most 52) */

#define REX_W 8
#define REX_R 4
#define REX_X 2
#define REX_B 1

/* x86 register number (ModRM.reg, REX-extended) -> VCPU_REGS_* index. */
static const int gpr_index[16] = {
	VCPU_REGS_RAX, VCPU_REGS_RCX, VCPU_REGS_RDX, VCPU_REGS_RBX,
	VCPU_REGS_RSP, VCPU_REGS_RBP, VCPU_REGS_RSI, VCPU_REGS_RDI,
	VCPU_REGS_R8, VCPU_REGS_R9, VCPU_REGS_R10, VCPU_REGS_R11,
	VCPU_REGS_R12, VCPU_REGS_R13, VCPU_REGS_R14, VCPU_REGS_R15,
};

/* The decoder's cursor over the instruction bytes and what the prefixes said. */
struct dec {
	const uint8_t *b;
	unsigned n, pos;
	enum mmio_mode mode;
	unsigned osize, asize;   /* operand and address size in bytes */
	unsigned rex;
	int seg;                 /* VCPU_REGS_* segment override, -1 if none */
	char *err;
	size_t errlen;
};

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

enum mmio_mode mmio_cpu_mode(const struct vcpu_reg_state *rs)
{
	uint32_t ar = rs->vrs_sregs[VCPU_REGS_CS].vsi_ar;

	if (!(rs->vrs_crs[VCPU_REGS_CR0] & CR0_PE) || (rs->vrs_gprs[VCPU_REGS_RFLAGS] & RFLAGS_VM))
		return MMIO_MODE16;
	if ((rs->vrs_msrs[VCPU_REGS_EFER] & EFER_LMA) && (ar & VSI_AR_L))
		return MMIO_MODE64;
	return (ar & VSI_AR_DB) ? MMIO_MODE32 : MMIO_MODE16;
}

static int fail(struct dec *d, const char *why)
{
	fmt(d->err, d->errlen, "mmio: %s (at byte %u of %u)", why, d->pos, d->n);
	return -1;
}

static int next(struct dec *d, uint8_t *v)
{
	if (d->pos >= d->n)
		return fail(d, "instruction truncated");
	*v = d->b[d->pos++];
	return 0;
}

/* A little-endian immediate or displacement of 1, 2, 4 or 8 bytes, sign-extended. */
static int next_signed(struct dec *d, unsigned size, int64_t *v)
{
	uint64_t x = 0;

	if (d->n - d->pos < size)
		return fail(d, "instruction truncated in displacement or immediate");
	for (unsigned i = 0; i < size; i++)
		x |= (uint64_t)d->b[d->pos + i] << (8 * i);
	d->pos += size;
	if (size < 8 && (x & (1ull << (size * 8 - 1))))
		x |= ~size_mask(size);
	*v = (int64_t)x;
	return 0;
}

/* Legacy prefixes, then (64-bit mode) REX, which only counts right before the opcode. */
static int prefixes(struct dec *d)
{
	static const int segs[] = { [0x26 >> 3 & 3] = VCPU_REGS_ES, [0x2e >> 3 & 3] = VCPU_REGS_CS,
				    [0x36 >> 3 & 3] = VCPU_REGS_SS, [0x3e >> 3 & 3] = VCPU_REGS_DS };
	int opsz = 0, adsz = 0;

	for (;;) {
		if (d->pos >= d->n)
			return fail(d, "instruction truncated in prefixes");
		uint8_t p = d->b[d->pos];
		if (p == 0x66)
			opsz = 1;
		else if (p == 0x67)
			adsz = 1;
		else if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e)
			d->seg = segs[p >> 3 & 3];
		else if (p == 0x64 || p == 0x65)
			d->seg = p == 0x64 ? VCPU_REGS_FS : VCPU_REGS_GS;
		else if (p == 0xf0 || p == 0xf2 || p == 0xf3)
			;       /* LOCK, REP: no effect on MOV (SDM 2.1.1 ignores or #UDs it) */
		else if (d->mode == MMIO_MODE64 && (p & 0xf0) == 0x40)
			d->rex = p;
		else
			break;
		if ((p & 0xf0) != 0x40)
			d->rex = 0;     /* a REX followed by a legacy prefix is ignored */
		d->pos++;
	}
	if (d->mode == MMIO_MODE64) {
		d->osize = (d->rex & REX_W) ? 8 : opsz ? 2 : 4;
		d->asize = adsz ? 4 : 8;
	} else {
		d->osize = (d->mode == MMIO_MODE32) != !!opsz ? 4 : 2;
		d->asize = (d->mode == MMIO_MODE32) != !!adsz ? 4 : 2;
	}
	return 0;
}

/* 16-bit ModRM memory operand (SDM table 2-1). */
static int modrm16(struct dec *d, const struct vcpu_reg_state *rs, uint8_t mod, uint8_t rm,
		   uint64_t *ea, int *defseg)
{
	static const int base[8] = { VCPU_REGS_RBX, VCPU_REGS_RBX, VCPU_REGS_RBP, VCPU_REGS_RBP,
				     -1, -1, VCPU_REGS_RBP, VCPU_REGS_RBX };
	static const int index[8] = { VCPU_REGS_RSI, VCPU_REGS_RDI, VCPU_REGS_RSI, VCPU_REGS_RDI,
				      VCPU_REGS_RSI, VCPU_REGS_RDI, -1, -1 };
	int64_t disp = 0;
	uint64_t a = 0;

	if (mod == 0 && rm == 6) {
		if (next_signed(d, 2, &disp))
			return -1;
		*ea = (uint64_t)disp & 0xffff;
		return 0;
	}
	if (mod && next_signed(d, mod == 1 ? 1 : 2, &disp))
		return -1;
	if (base[rm] >= 0)
		a += rs->vrs_gprs[base[rm]];
	if (index[rm] >= 0)
		a += rs->vrs_gprs[index[rm]];
	if (base[rm] == VCPU_REGS_RBP)
		*defseg = VCPU_REGS_SS;
	*ea = (a + (uint64_t)disp) & 0xffff;
	return 0;
}

/* 32/64-bit ModRM memory operand with SIB (SDM tables 2-2, 2-3). *riprel is set for
 * RIP-relative operands: the caller adds the next instruction's address once the length
 * is known. */
static int modrm32(struct dec *d, const struct vcpu_reg_state *rs, uint8_t mod, uint8_t rm,
		   uint64_t *ea, int *defseg, int *riprel)
{
	int64_t disp = 0;
	uint64_t a = 0;
	int base = rm | ((d->rex & REX_B) ? 8 : 0);

	if (rm == 4) {
		uint8_t sib = 0;
		if (next(d, &sib))
			return -1;
		int idx = (sib >> 3 & 7) | ((d->rex & REX_X) ? 8 : 0);
		base = (sib & 7) | ((d->rex & REX_B) ? 8 : 0);
		if (idx != 4)
			a += rs->vrs_gprs[gpr_index[idx]] << (sib >> 6);
		if ((sib & 7) == 5 && mod == 0) {
			base = -1;      /* disp32, no base */
			mod = 2;
		}
	} else if (rm == 5 && mod == 0) {
		base = -1;
		mod = 2;
		*riprel = d->mode == MMIO_MODE64;
	}
	if (base >= 0) {
		a += rs->vrs_gprs[gpr_index[base]];
		if ((base & 7) == 4 || (base & 7) == 5)
			*defseg = VCPU_REGS_SS;  /* ESP/EBP-based: SS (SDM 3.7.4) */
	}
	if (mod && next_signed(d, mod == 1 ? 1 : 4, &disp))
		return -1;
	*ea = a + (uint64_t)disp;
	return 0;
}

/* The effective address -> linear address: segment base, address-size wrap. */
static uint64_t linear(const struct dec *d, const struct vcpu_reg_state *rs, uint64_t ea,
		       int defseg)
{
	int seg = d->seg >= 0 ? d->seg : defseg;

	ea &= size_mask(d->asize);
	if (d->mode == MMIO_MODE64)     /* only FS and GS have a base in 64-bit mode */
		return ea + (seg == VCPU_REGS_FS || seg == VCPU_REGS_GS ? rs->vrs_sregs[seg].vsi_base : 0);
	return (ea + rs->vrs_sregs[seg].vsi_base) & 0xffffffffull;
}

/* The register operand of a store: reg (x86 number) of `size` bytes, AH..BH without REX. */
static uint64_t reg_value(const struct dec *d, const struct vcpu_reg_state *rs, int reg,
			  unsigned size)
{
	if (size == 1 && !d->rex && reg >= 4 && reg < 8)
		return rs->vrs_gprs[gpr_index[reg - 4]] >> 8 & 0xff;
	return rs->vrs_gprs[gpr_index[reg]] & size_mask(size);
}

static void set_dest(const struct dec *d, struct mmio_op *op, int reg, unsigned dsize)
{
	op->dsize = dsize;
	if (dsize == 1 && !d->rex && reg >= 4 && reg < 8) {
		op->high8 = 1;
		reg -= 4;
	}
	op->reg = gpr_index[reg];
}

/* The opcode and its operands, after the prefixes. Fills op except gpa. */
static int decode_insn(struct dec *d, const struct vcpu_reg_state *rs, struct mmio_op *op)
{
	uint8_t opc = 0, modrm = 0;
	int defseg = VCPU_REGS_DS, riprel = 0, has_modrm = 1, reg;
	unsigned imm = 0;
	uint64_t ea = 0;

	if (prefixes(d) || next(d, &opc))
		return -1;
	op->reg = -1;
	switch (opc) {
	case 0x88: case 0x89:                   /* MOV r/m, r */
		op->write = 1;
		op->size = opc == 0x88 ? 1 : d->osize;
		break;
	case 0x8a: case 0x8b:                   /* MOV r, r/m */
		op->size = opc == 0x8a ? 1 : d->osize;
		break;
	case 0xc6: case 0xc7:                   /* MOV r/m, imm */
		op->write = 1;
		op->size = opc == 0xc6 ? 1 : d->osize;
		imm = op->size > 4 ? 4 : op->size;  /* imm32 sign-extended under REX.W */
		break;
	case 0xa0: case 0xa1: case 0xa2: case 0xa3: {   /* MOV AL/eAX <-> moffs */
		int64_t off;
		op->write = opc >= 0xa2;
		op->size = (opc & 1) ? d->osize : 1;
		has_modrm = 0;
		if (next_signed(d, d->asize, &off))
			return -1;
		ea = (uint64_t)off;
		break;
	}
	case 0x0f:
		if (next(d, &opc))
			return -1;
		if (opc != 0xb6 && opc != 0xb7 && opc != 0xbe && opc != 0xbf)
			return fail(d, "unsupported two-byte opcode");
		op->size = (opc & 1) ? 2 : 1;
		op->zx8 = opc == 0xb6;
		op->zx16 = opc == 0xb7;
		op->sx8 = opc == 0xbe;
		op->sx16 = opc == 0xbf;
		break;
	default:
		return fail(d, "unsupported opcode (not a MOV, MOVZX or MOVSX)");
	}

	if (has_modrm) {
		if (next(d, &modrm))
			return -1;
		uint8_t mod = modrm >> 6, rm = modrm & 7;
		if (mod == 3)
			return fail(d, "register operand where memory was expected");
		if ((opc == 0xc6 || opc == 0xc7) && (modrm >> 3 & 7))
			return fail(d, "C6/C7 with a reg field other than 0");
		int r = d->asize == 2 ? modrm16(d, rs, mod, rm, &ea, &defseg)
				      : modrm32(d, rs, mod, rm, &ea, &defseg, &riprel);
		if (r)
			return -1;
	}
	reg = has_modrm ? (modrm >> 3 & 7) | ((d->rex & REX_R) ? 8 : 0) : 0;

	if (imm) {
		int64_t v;
		if (next_signed(d, imm, &v))
			return -1;
		op->value = (uint64_t)v & size_mask(op->size);
	} else if (op->write) {
		op->value = reg_value(d, rs, reg, op->size);
	} else {
		set_dest(d, op, reg, op->zx8 || op->zx16 || op->sx8 || op->sx16 ? d->osize : op->size);
	}
	op->len = d->pos;
	if (riprel)
		ea += rs->vrs_gprs[VCPU_REGS_RIP] + d->pos;
	op->gla = linear(d, rs, ea, defseg);
	return 0;
}

int mmio_decode(const struct vm_exit *ex, const uint8_t *mem, uint64_t mem_size,
		struct mmio_op *op, char *err, size_t errlen)
{
	const struct vcpu_reg_state *rs = &ex->vrs;
	struct dec d = {
		.b = ex->vee.vee_insn_bytes, .n = ex->vee.vee_insn_len, .seg = -1,
		.mode = mmio_cpu_mode(rs), .err = err, .errlen = errlen,
	};

	*op = (struct mmio_op){ .reg = -1 };
	if (!(ex->vee.vee_insn_info & VEE_BYTES_VALID) || !d.n)
		return fail(&d, "no instruction bytes in the exit");
	if (d.n > sizeof ex->vee.vee_insn_bytes)
		return fail(&d, "vee_insn_len larger than 15");
	if (decode_insn(&d, rs, op))
		return -1;
	if ((op->gla & 0xfff) + op->size > 0x1000) {
		fmt(err, errlen, "mmio: %u-byte access at 0x%llx crosses a page", op->size,
		    (unsigned long long)op->gla);
		return -1;
	}
	return mmio_translate(rs, mem, mem_size, op->gla, &op->gpa, err, errlen);
}

/* ---- the page walk ---- */

static int read_entry(const uint8_t *mem, uint64_t mem_size, uint64_t pa, unsigned size,
		      uint64_t *v, const char *level, char *err, size_t errlen)
{
	if (pa >= mem_size || mem_size - pa < size) {
		fmt(err, errlen, "mmio: %s entry at 0x%llx is outside guest memory", level,
		    (unsigned long long)pa);
		return -1;
	}
	uint64_t x = 0;
	for (unsigned i = 0; i < size; i++)
		x |= (uint64_t)mem[pa + i] << (8 * i);
	*v = x;
	return 0;
}

static int not_present(const char *level, uint64_t gla, char *err, size_t errlen)
{
	fmt(err, errlen, "mmio: %s entry for 0x%llx not present", level, (unsigned long long)gla);
	return -1;
}

/* 32-bit paging (SDM 4.3): 4 KiB pages, or 4 MiB pages with CR4.PSE (PSE-36 high bits). */
static int walk32(uint64_t cr3, uint64_t cr4, const uint8_t *mem, uint64_t mem_size,
		  uint32_t la, uint64_t *gpa, char *err, size_t errlen)
{
	uint64_t pde, pte;

	if (read_entry(mem, mem_size, (cr3 & 0xfffff000u) + (la >> 22) * 4, 4, &pde, "PDE", err,
		       errlen))
		return -1;
	if (!(pde & PTE_P))
		return not_present("PDE", la, err, errlen);
	if ((pde & PTE_PS) && (cr4 & CR4_PSE)) {
		*gpa = (pde & 0xffc00000u) | ((pde >> 13 & 0xff) << 32) | (la & 0x3fffff);
		return 0;
	}
	if (read_entry(mem, mem_size, (pde & 0xfffff000u) + (la >> 12 & 0x3ff) * 4, 4, &pte, "PTE",
		       err, errlen))
		return -1;
	if (!(pte & PTE_P))
		return not_present("PTE", la, err, errlen);
	*gpa = (pte & 0xfffff000u) | (la & 0xfff);
	return 0;
}

/* PAE and 4-level paging share their 8-byte entries (SDM 4.4, 4.5): `levels` is 3 (PAE: the
 * PDPT, indexed by bits 31:30, then PD and PT) or 4 (PML4 first). A PS bit ends the walk at
 * a PD (2 MiB) or, in 4-level paging, at a PDPT (1 GiB). */
static int walk64(uint64_t table, int levels, const uint8_t *mem, uint64_t mem_size,
		  uint64_t la, uint64_t *gpa, char *err, size_t errlen)
{
	static const char *names[] = { "PML4E", "PDPTE", "PDE", "PTE" };
	int shift = 12 + 9 * (levels - 1);
	uint64_t e = 0;

	for (;; shift -= 9) {
		const char *name = names[(39 - shift) / 9];
		if (read_entry(mem, mem_size, table + (la >> shift & 0x1ff) * 8, 8, &e, name, err,
			       errlen))
			return -1;
		if (!(e & PTE_P))
			return not_present(name, la, err, errlen);
		if (shift == 12)
			break;
		if ((e & PTE_PS) && (shift == 21 || (shift == 30 && levels == 4)))
			break;
		table = e & PTE_ADDR;
	}
	uint64_t mask = (1ull << shift) - 1;
	*gpa = (e & PTE_ADDR & ~mask) | (la & mask);
	return 0;
}

int mmio_translate(const struct vcpu_reg_state *rs, const uint8_t *mem, uint64_t mem_size,
		   uint64_t gla, uint64_t *gpa, char *err, size_t errlen)
{
	uint64_t cr0 = rs->vrs_crs[VCPU_REGS_CR0], cr3 = rs->vrs_crs[VCPU_REGS_CR3];
	uint64_t cr4 = rs->vrs_crs[VCPU_REGS_CR4];

	if (!(cr0 & CR0_PG)) {
		*gpa = gla & 0xffffffffull;
		return 0;
	}
	if (!(cr4 & CR4_PAE))
		return walk32(cr3, cr4, mem, mem_size, (uint32_t)gla, gpa, err, errlen);
	if (!(rs->vrs_msrs[VCPU_REGS_EFER] & EFER_LMA))
		return walk64(cr3 & 0xffffffe0u, 3, mem, mem_size, (uint32_t)gla, gpa, err, errlen);
	if (cr4 & CR4_LA57) {
		fmt(err, errlen, "mmio: 5-level paging is not supported");
		return -1;
	}
	return walk64(cr3 & PTE_ADDR, 4, mem, mem_size, gla, gpa, err, errlen);
}

/* ---- completion ---- */

void mmio_complete(struct vcpu_reg_state *rs, const struct mmio_op *op, uint64_t load_value)
{
	enum mmio_mode mode = mmio_cpu_mode(rs);

	if (!op->write && op->reg >= 0 && op->reg < VCPU_REGS_NGPRS) {
		uint64_t *r = &rs->vrs_gprs[op->reg], v = load_value & size_mask(op->size);
		if (op->sx8 && (v & 0x80))
			v |= ~0xffull;
		if (op->sx16 && (v & 0x8000))
			v |= ~0xffffull;
		if (op->high8)
			*r = (*r & ~0xff00ull) | (v & 0xff) << 8;
		else if (op->dsize >= 4)        /* a 32-bit write zero-extends (SDM 3.4.1.1) */
			*r = v & size_mask(op->dsize);
		else
			*r = (*r & ~size_mask(op->dsize)) | (v & size_mask(op->dsize));
	}
	uint64_t rip = rs->vrs_gprs[VCPU_REGS_RIP] + op->len;
	rs->vrs_gprs[VCPU_REGS_RIP] = mode == MMIO_MODE64 ? rip : rip & size_mask(mode);
}
