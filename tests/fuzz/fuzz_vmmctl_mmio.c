/* libFuzzer harness for control/vmmctl/mmio.c: the input is an NPF exit a guest caused (the
 * instruction bytes, the CPU mode, control registers, segment bases and general registers)
 * followed by the guest's memory, page tables included, in a buffer of exactly mem_size
 * bytes (so ASan sees any page-walk read outside it). Oracles for a decoded access: length
 * 1..15 and within vee_insn_len, size 1/2/4/8 inside one page, a store's value fits its size,
 * a load names a general register of width 1/2/4/8; with paging off gpa = gla (32 bits).
 * mmio_complete then changes only the destination register (within its width) and RIP. */
#include <string.h>
#include "fuzz_input.h"
#include "../../control/vmmctl/mmio.h"

static uint64_t mask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; }

/* A register value: small, near a page boundary, or any 64 bits. */
static uint64_t reg_val(struct fin *f)
{
	uint8_t k = fin_u8(f);
	switch (k & 3) {
	case 0: return k >> 2;
	case 1: return fin_u16(f);
	case 2: return fin_u32(f);
	default: return fin_u64(f);
	}
}

static void check_complete(const struct vcpu_reg_state *before, const struct mmio_op *op,
			   uint64_t load_value)
{
	struct vcpu_reg_state rs = *before;
	enum mmio_mode mode = mmio_cpu_mode(before);
	mmio_complete(&rs, op, load_value);
	uint64_t rip = before->vrs_gprs[VCPU_REGS_RIP] + op->len;
	FUZZ_CHECK(rs.vrs_gprs[VCPU_REGS_RIP] == (mode == MMIO_MODE64 ? rip : rip & mask(mode)));
	for (int i = 0; i < VCPU_REGS_NGPRS; i++) {
		if (i == VCPU_REGS_RIP)
			continue;
		uint64_t was = before->vrs_gprs[i], now = rs.vrs_gprs[i];
		if (op->write || i != op->reg) {
			FUZZ_CHECK(now == was);
		} else if (op->high8) {
			FUZZ_CHECK((now & ~0xff00ull) == (was & ~0xff00ull));
			FUZZ_CHECK((now >> 8 & 0xff) == (load_value & 0xff));
		} else if (op->dsize < 4) {
			FUZZ_CHECK((now & ~mask(op->dsize)) == (was & ~mask(op->dsize)));
		} else {
			FUZZ_CHECK((now & ~mask(op->dsize)) == 0);
		}
		if (i == op->reg && !op->write && !op->high8 && !op->sx8 && !op->sx16)
			FUZZ_CHECK((now & mask(op->dsize)) ==
				   (load_value & mask(op->size) & mask(op->dsize)));
	}
	FUZZ_CHECK(memcmp(rs.vrs_crs, before->vrs_crs, sizeof rs - sizeof rs.vrs_gprs) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t mem_sizes[4] = { 0x10000, 0x4000, 0x1000, 0x8000 - 3 };
	static struct vm_exit ex;
	struct fin f = { data, size };
	memset(&ex, 0, sizeof ex);

	uint8_t k = fin_u8(&f);
	ex.vee.vee_insn_len = k & 0x80 ? k : (k & 15) + 1;
	ex.vee.vee_insn_info = k & 0x40 ? fin_u8(&f) : VEE_BYTES_VALID;
	for (int i = 0; i < 15; i++)
		ex.vee.vee_insn_bytes[i] = fin_u8(&f);

	/* The mode: CR0.PE/PG, CR4.PSE/PAE/LA57, EFER.LMA, CS.L/D, RFLAGS.VM. */
	struct vcpu_reg_state *rs = &ex.vrs;
	uint16_t m = fin_u16(&f);
	rs->vrs_crs[VCPU_REGS_CR0] = (m & 1 ? 1ull : 0) | (m & 2 ? 1ull << 31 : 0);
	rs->vrs_crs[VCPU_REGS_CR4] = (m & 4 ? 1ull << 4 : 0) | (m & 8 ? 1ull << 5 : 0) |
				     (m & 0x10 ? 1ull << 12 : 0);
	rs->vrs_msrs[VCPU_REGS_EFER] = m & 0x20 ? 0x500 : 0;
	rs->vrs_sregs[VCPU_REGS_CS].vsi_ar = (m & 0x40 ? VSI_AR_L : 0) | (m & 0x80 ? VSI_AR_DB : 0) | 0x9b;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 2 | (m & 0x100 ? 1ull << 17 : 0);
	rs->vrs_crs[VCPU_REGS_CR3] = m & 0x200 ? fin_u64(&f) : (uint64_t)fin_u16(&f) << 4;
	uint64_t mem_size = mem_sizes[m >> 10 & 3];
	if (m & 0x1000)        /* segment bases, the FS/GS ones 64-bit */
		for (int i = 0; i < VCPU_REGS_NSREGS; i++)
			rs->vrs_sregs[i].vsi_base = i == VCPU_REGS_FS || i == VCPU_REGS_GS ?
						    reg_val(&f) : fin_u32(&f);
	for (int i = 0; i < VCPU_REGS_NGPRS; i++)
		if (i != VCPU_REGS_RFLAGS)
			rs->vrs_gprs[i] = reg_val(&f);

	/* The rest is guest memory from address 0. */
	uint8_t *mem = malloc(mem_size);
	FUZZ_CHECK(mem);
	size_t n = f.n < mem_size ? f.n : mem_size;
	memcpy(mem, f.p, n);
	memset(mem + n, 0, mem_size - n);

	struct mmio_op op;
	char err[128];
	if (mmio_decode(&ex, mem, mem_size, &op, err, sizeof err) == 0) {
		FUZZ_CHECK(op.len >= 1 && op.len <= 15 && op.len <= ex.vee.vee_insn_len);
		FUZZ_CHECK(op.size == 1 || op.size == 2 || op.size == 4 || op.size == 8);
		FUZZ_CHECK((op.gla & 0xfff) + op.size <= 0x1000);
		if (!(rs->vrs_crs[VCPU_REGS_CR0] & (1ull << 31)))
			FUZZ_CHECK(op.gpa == (op.gla & 0xffffffffull));
		FUZZ_CHECK(op.gpa < (1ull << 52));
		if (mmio_cpu_mode(rs) != MMIO_MODE64)
			FUZZ_CHECK(op.gla <= 0xffffffffull);
		if (op.write) {
			FUZZ_CHECK(op.reg == -1 && (op.value & ~mask(op.size)) == 0);
		} else {
			FUZZ_CHECK(op.reg >= 0 && op.reg < VCPU_REGS_NGPRS);
			FUZZ_CHECK(op.reg != VCPU_REGS_RIP && op.reg != VCPU_REGS_RFLAGS);
			FUZZ_CHECK(op.dsize == 1 || op.dsize == 2 || op.dsize == 4 || op.dsize == 8);
			FUZZ_CHECK(op.dsize >= op.size);
			FUZZ_CHECK(!op.high8 || op.dsize == 1);
			FUZZ_CHECK(op.zx8 + op.zx16 + op.sx8 + op.sx16 <= 1);
		}
		uint64_t v = 0;
		for (unsigned i = 0; i < 8 && i < n; i++)
			v |= (uint64_t)mem[i] << (8 * i);
		check_complete(rs, &op, v ^ 0x8080808080808080ull);
	} else {
		FUZZ_CHECK(memchr(err, 0, sizeof err) != NULL);
	}
	/* The page walk alone, for an address the input chose. */
	uint64_t gla = rs->vrs_gprs[VCPU_REGS_RAX], gpa = 0;
	if (mmio_translate(rs, mem, mem_size, gla, &gpa, err, sizeof err) == 0) {
		FUZZ_CHECK(gpa < (1ull << 52));
		FUZZ_CHECK((gpa & 0xfff) == (gla & 0xfff));
	}
	free(mem);
	return 0;
}
