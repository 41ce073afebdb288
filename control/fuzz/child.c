/* hcfuzz's child-code generator: fills a new VM's memory with random bytes or a random mix
 * of valid instruction snippets for its entry mode (port I/O in every form, MMIO outside
 * RAM, HLT with IF 0/1, CPUID, MSRs, MOV to CR0/CR3/CR4 incl. LOCK forms, the real ->
 * protected -> long mode switch, SVM/VMX instructions, INT3/INT n/UD2, spinning).
 * Never a MOV to DR7 (opcode 0F 23): a child's armed watchpoint, a reset and another DR7
 * write can crash QEMU 7.2 itself (shared/PLATFORM.md). Never a write to CR8 (REX.R MOV CR0
 * or LOCK MOV CR0): with a virtual interrupt pending (INTR level 1) QEMU 7.2's CR8 helper
 * calls cpu_interrupt() without the iothread lock and aborts (measured: hcfuzz found it).
 * Random bytes are filtered for both. */
#include "hcfuzz.h"
#include "../libvmm/vmm_state.h"

#define CODE_MAX 2048
#define GDT_PTR 0x0f00ull
#define LOW_FILL 0x8000ull   /* GPA 0 .. CHILD_ENTRY: IVT, GDT, tables, stack */

struct cbuf {
	uint8_t b[CODE_MAX + 64];
	unsigned n;
	int mode;
	uint64_t at;   /* guest address of b[0] */
};

static void e8(struct cbuf *c, uint64_t v) { if (c->n < sizeof c->b) c->b[c->n++] = (uint8_t)v; }
static void e16(struct cbuf *c, uint64_t v) { e8(c, v); e8(c, v >> 8); }
static void e32(struct cbuf *c, uint64_t v) { e16(c, v); e16(c, v >> 16); }
static void osz32(struct cbuf *c) { if (c->mode == CM_REAL) e8(c, 0x66); }

/* mov r32, imm32 (r 0-7: eax ecx edx ebx esp ebp esi edi). */
static void mov_r32(struct cbuf *c, unsigned r, uint32_t v) { osz32(c); e8(c, 0xb8 + r); e32(c, v); }

static void mov_dx(struct cbuf *c, uint16_t port)
{
	if (c->mode != CM_REAL)
		e8(c, 0x66);
	e8(c, 0xba);
	e16(c, port);
}

static uint16_t port(void)
{
	static const uint16_t p[] = { 0x3f8, 0x3fd, 0x20, 0x21, 0xa0, 0x40, 0x43, 0x61, 0x70, 0x71,
				      0x80, 0xcf8, 0xcfc, 0x501, 0x504, 0x508, 0xf4, 0x604, 0xcf9,
				      0x92, 0xe9, 0xffff };
	return chance(70) ? p[rn(sizeof p / sizeof p[0])] : (uint16_t)rnd();
}

/* IN/OUT: immediate or DX port, 1/2/4 bytes, string and REP forms. */
static void snip_io(struct cbuf *c)
{
	int out = chance(50), size = (int)rn(3);   /* 0: byte, 1: default, 2: other size */
	if (chance(60))
		mov_r32(c, 0, (uint32_t)rnd());
	if (chance(30) && size != 2) {
		e8(c, (out ? 0xe6 : 0xe4) | (size ? 1 : 0));
		e8(c, port() & 0xff);
		return;
	}
	mov_dx(c, port());
	if (chance(35)) {
		mov_r32(c, 1, (uint32_t)rn(4) + 1);
		if (chance(60))
			e8(c, 0xf3);
		if (size == 2)
			e8(c, 0x66);
		e8(c, (out ? 0x6e : 0x6c) | (size ? 1 : 0));
		return;
	}
	if (size == 2)
		e8(c, 0x66);
	e8(c, (out ? 0xee : 0xec) | (size ? 1 : 0));
}

static uint32_t mmio_addr(void)
{
	static const uint32_t a[] = { 0xfee00000, 0xfed00000, 0xf0000000, 0xfec00000, 0xb0000000,
				      0x00400000, 0x00200000, 0x7ff00000, 0xffdff000, 0xfffffff0 };
	return chance(70) ? a[rn(sizeof a / sizeof a[0])] + (uint32_t)rn(64) * 4 : (uint32_t)rnd();
}

/* A load or store outside guest RAM (an NPF exit with the instruction bytes). */
static void snip_mmio(struct cbuf *c)
{
	static const uint8_t ops[] = { 0x8b, 0x89, 0x88, 0x8a, 0xc7 };
	uint8_t op = ops[rn(5)];
	if (c->mode == CM_REAL) {   /* DS = 0xffff reaches 1 MiB and a bit above */
		e8(c, 0xb8); e16(c, chance(50) ? 0xffff : rnd());
		e8(c, 0x8e); e8(c, 0xd8);
		e8(c, chance(50) ? 0xa1 : 0xa3); e16(c, rnd());
		return;
	}
	if (chance(20))
		e8(c, 0x66);
	e8(c, op);
	if (c->mode == CM_LONG64) {
		e8(c, 0x04); e8(c, 0x25);
	} else {
		e8(c, 0x05);
	}
	e32(c, mmio_addr());
	if (op == 0xc7)
		e32(c, rnd());
}

static void snip_hlt(struct cbuf *c)
{
	e8(c, chance(70) ? 0xfb : 0xfa);   /* sti / cli */
	e8(c, 0xf4);
}

static void snip_cpuid(struct cbuf *c)
{
	static const uint32_t leaf[] = { 0, 1, 7, 0xb, 0xd, 0x40000000, 0x40000001, 0x40000002,
					 0x80000000, 0x80000001, 0x80000008, 0x8000000a, 0x8000001f };
	mov_r32(c, 0, chance(80) ? leaf[rn(sizeof leaf / sizeof leaf[0])] : (uint32_t)rnd());
	mov_r32(c, 1, (uint32_t)rn(3));
	e8(c, 0x0f); e8(c, 0xa2);
}

static uint32_t msr(void)
{
	static const uint32_t m[] = { 0xc0000080, 0xc0010117, 0xc0010114, 0x1b, 0xc0010016,
				      0xc0010010, 0xc001001a, 0xc001001d, 0x277, 0x1a0, 0x4b564d01,
				      0x10, 0xc0000103, 0xc0000081, 0xc0000082, 0xc0000100,
				      0xc0000101, 0xc0000102, 0x174, 0x175, 0x176, 0x1d9, 0x830,
				      0x3a, 0x48, 0xc0010015, 0xc0011029 };
	return chance(85) ? m[rn(sizeof m / sizeof m[0])] : (uint32_t)rnd();
}

static void snip_msr(struct cbuf *c)
{
	mov_r32(c, 1, msr());
	if (chance(40)) {
		e8(c, 0x0f); e8(c, 0x32);   /* rdmsr */
		return;
	}
	mov_r32(c, 0, chance(50) ? (uint32_t)rnd() : (uint32_t)(1u << rn(32)));
	mov_r32(c, 2, chance(70) ? 0 : (uint32_t)rnd());
	e8(c, 0x0f); e8(c, 0x30);           /* wrmsr */
}

static uint32_t cr_value(unsigned cr)
{
	if (cr == 4)   /* PAE, PSE, OSFXSR, then XSAVE, PKE, PCIDE, LA57, VMXE, UMIP, SMEP... */
		return (uint32_t)(rnd() & 0x7ff) | (chance(30) ? 1u << (11 + rn(12)) : 0);
	if (cr == 0)
		return chance(50) ? 0x60000010u ^ (1u << rn(32)) : (uint32_t)rnd();
	return (uint32_t)(rnd() & ~0xfffull);
}

/* MOV to CR0/CR3/CR4 from a random register, LOCK MOV CR4 and CR3 (#UD), reads of CR8
 * (no CR8 writes: see the file comment). */
static void snip_cr(struct cbuf *c)
{
	static const unsigned crs[] = { 0, 3, 4, 4, 4, 8 };
	unsigned cr = crs[rn(6)], r = (unsigned)rn(8);
	int read = cr == 8 || chance(10);
	if (r == 4)
		r = 0;   /* keep the stack pointer */
	mov_r32(c, r, cr_value(cr));
	if (chance(15) && cr != 0)
		e8(c, 0xf0);
	if (cr == 8 && c->mode == CM_LONG64)
		e8(c, 0x44);
	e8(c, 0x0f); e8(c, read ? 0x20 : 0x22);
	e8(c, 0xc0 | ((cr & 7) << 3) | r);
}

/* SVM/VMX and friends: VMRUN..INVLPGA, VMCALL/VMLAUNCH/VMRESUME/VMXOFF, MONITOR, MWAIT,
 * XSETBV, RDTSCP, RDPMC, INVD, WBINVD, RDTSC, INT3, INT n, UD2, ICEBP, INTO, PAUSE. */
static void snip_special(struct cbuf *c)
{
	static const uint8_t m01[] = { 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xc1, 0xc2,
				       0xc3, 0xc4, 0xd4, 0xc8, 0xc9, 0xd1, 0xf9, 0xd0 };
	switch (rn(6)) {
	case 0: case 1:
		e8(c, 0x0f); e8(c, 0x01); e8(c, m01[rn(sizeof m01)]); break;
	case 2: {
		static const uint8_t two[] = { 0x33, 0x08, 0x09, 0x31, 0x0b, 0x05, 0x07, 0x34, 0x35 };
		e8(c, 0x0f); e8(c, two[rn(sizeof two)]); break;
	}
	case 3:
		e8(c, 0xcd); e8(c, rnd()); break;
	case 4:
		e8(c, chance(50) ? 0xcc : 0xf1); break;
	default:
		e8(c, chance(50) ? 0xce : 0x90); break;
	}
}

/* A KVM pvclock registration at a random, page-crossing or outside-RAM address. */
static void snip_pvclock(struct cbuf *c)
{
	mov_r32(c, 1, KVM_MSR_SYSTEM_TIME_NEW);
	static const uint32_t gpa[] = { 0x5000, 0x5fe0, 0x5ff1, 0x100000, 0xf0000000, 0x7000 };
	mov_r32(c, 0, (chance(80) ? gpa[rn(6)] : (uint32_t)rnd()) | (chance(80) ? 1 : 0));
	mov_r32(c, 2, 0);
	e8(c, 0x0f); e8(c, 0x30);
}

static void snip_random(struct cbuf *c)
{
	for (unsigned n = 1 + (unsigned)rn(12); n--;)
		e8(c, rnd());
}

/* real -> 32-bit protected -> long mode, with the GDT at 0x1000 and Solo5's tables. */
static void snip_modeswitch(struct cbuf *c)
{
	if (c->mode == CM_REAL) {
		e8(c, 0xfa);                                       /* cli */
		e8(c, 0x0f); e8(c, 0x01); e8(c, 0x16); e16(c, GDT_PTR);   /* lgdt [0x0f00] */
		e8(c, 0x0f); e8(c, 0x20); e8(c, 0xc0);             /* mov eax, cr0 */
		e8(c, 0x66); e8(c, 0x83); e8(c, 0xc8); e8(c, 0x01); /* or eax, 1 */
		e8(c, 0x0f); e8(c, 0x22); e8(c, 0xc0);             /* mov cr0, eax */
		e8(c, 0x66); e8(c, 0xea); e32(c, c->at + c->n + 6); e16(c, 0x18);   /* jmp 0x18:next */
		c->mode = CM_PROT32;
	}
	if (c->mode != CM_PROT32)
		return;
	e8(c, 0x66); e8(c, 0xb8); e16(c, 0x10);                /* mov ax, 0x10 */
	e8(c, 0x8e); e8(c, 0xd8); e8(c, 0x8e); e8(c, 0xc0); e8(c, 0x8e); e8(c, 0xd0);   /* ds es ss */
	e8(c, 0x0f); e8(c, 0x20); e8(c, 0xe0);                 /* mov eax, cr4 */
	e8(c, 0x83); e8(c, 0xc8); e8(c, 0x20);                 /* or eax, PAE */
	e8(c, 0x0f); e8(c, 0x22); e8(c, 0xe0);                 /* mov cr4, eax */
	e8(c, 0xb8); e32(c, 0x2000);                           /* mov eax, 0x2000 */
	e8(c, 0x0f); e8(c, 0x22); e8(c, 0xd8);                 /* mov cr3, eax */
	e8(c, 0xb9); e32(c, 0xc0000080);                       /* mov ecx, EFER */
	e8(c, 0x0f); e8(c, 0x32);                              /* rdmsr */
	e8(c, 0x0d); e32(c, 0x100);                            /* or eax, LME */
	e8(c, 0x0f); e8(c, 0x30);                              /* wrmsr */
	e8(c, 0x0f); e8(c, 0x20); e8(c, 0xc0);                 /* mov eax, cr0 */
	e8(c, 0x0d); e32(c, 0x80000000);                       /* or eax, PG */
	e8(c, 0x0f); e8(c, 0x22); e8(c, 0xc0);                 /* mov cr0, eax */
	e8(c, 0xea); e32(c, c->at + c->n + 6); e16(c, 0x08);   /* jmp 0x08:next */
	c->mode = CM_LONG64;
}

static void snip_terminator(struct cbuf *c)
{
	switch (rn(6)) {
	case 0: e8(c, 0xfa); e8(c, 0xf4); break;             /* cli; hlt: EIO, dead */
	case 1: e8(c, 0xeb); e8(c, 0xfe); break;             /* jmp . */
	case 2: e8(c, 0xfa); e8(c, 0xeb); e8(c, 0xfe); break; /* cli; jmp . */
	case 3: e8(c, 0x0f); e8(c, 0x0b); break;             /* ud2 */
	default: e8(c, 0xfb); e8(c, 0xf4); e8(c, 0xeb); e8(c, 0xfc); break;   /* sti; hlt; jmp back */
	}
}

typedef void (*snip_fn)(struct cbuf *c);
static const snip_fn snips[] = { snip_io, snip_io, snip_io, snip_mmio, snip_mmio, snip_hlt,
				 snip_cpuid, snip_msr, snip_msr, snip_cr, snip_cr, snip_special,
				 snip_pvclock, snip_random, snip_modeswitch };

static void gen_code(struct cbuf *c)
{
	if (chance(15)) {   /* pure random bytes */
		for (unsigned i = 0; i < 256; i++)
			e8(c, rnd());
		return;
	}
	if (chance(20))
		snip_modeswitch(c);
	for (unsigned k = 4 + (unsigned)rn(20); k-- && c->n < CODE_MAX - 64;)
		snips[rn(sizeof snips / sizeof snips[0])](c);
	snip_terminator(c);
}

/* No MOV to DRn (0F 23) and no MOV to CR8/CR0 behind LOCK or a REX prefix (0F 22 after F0
 * or 40-4F) anywhere the child might execute. */
static void filter_dr(uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i + 1 < n; i++) {
		if (p[i] == 0x0f && p[i + 1] == 0x23)
			p[i + 1] = 0x90;
		if (i && p[i] == 0x0f && p[i + 1] == 0x22 && (p[i - 1] == 0xf0 || (p[i - 1] & 0xf0) == 0x40))
			p[i + 1] = 0x20;
	}
}

/* GDT (code64 0x8, data 0x10, code32 0x18), its pointer at 0x0f00 and Solo5's page tables. */
static void low_tables(uint8_t *low)
{
	vmm_solo5_tables(low);
	*(uint64_t *)(low + 0x1018) = 0x00cf9a000000ffffull;
	*(uint16_t *)(low + GDT_PTR) = 0x1f;
	*(uint32_t *)(low + GDT_PTR + 2) = 0x1000;
}

/* Fill what a new VM runs: GPA 0 .. 0x8000 (zeros or noise, then the tables) and the code
 * at CHILD_ENTRY, as far as that memory is one of its ranges. */
void child_fill(struct mvm *m, int mode)
{
	static struct cbuf c;
	uint8_t *low = model_gpa(m, 0, LOW_FILL);
	if (low) {
		if (chance(10))
			for (uint64_t i = 0; i < LOW_FILL; i += 8)
				*(uint64_t *)(low + i) = rnd();
		else
			SetMem(low, LOW_FILL, 0);
		low_tables(low);
		filter_dr(low, LOW_FILL);
	}
	c.n = 0;
	c.mode = mode;
	c.at = CHILD_ENTRY;
	gen_code(&c);
	uint8_t *code = model_gpa(m, CHILD_ENTRY, c.n + 16);
	if (!code)
		return;
	CopyMem(code, c.b, c.n);
	SetMem(code + c.n, 16, 0xf4);
	filter_dr(code, c.n + 16);
}
