/* Host GDT, IDT and TSS (see desc.h). #DF, NMI and #MC run on their own IST stacks so that
 * a broken host stack still produces a panic report. One IDT for all CPUs; a GDT and a TSS
 * per CPU (the TSS holds that CPU's IST stacks, and LTR marks its descriptor busy). */
#include "desc.h"
#include "../../hv/bootinfo.h"
#include "../../hv/mem.h"

struct tss {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1;
	uint64_t ist[7];
	uint64_t rsvd2;
	uint16_t rsvd3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS is 104 bytes");

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, rsvd;
};
_Static_assert(sizeof(struct idt_entry) == 16, "IDT entry is 16 bytes");

struct dtr { uint16_t limit; uint64_t base; } __attribute__((packed));

static struct tss tss[HV_MAX_CPUS];
static uint64_t gdt[HV_MAX_CPUS][5] __attribute__((aligned(16)));
static struct idt_entry idt[256] __attribute__((aligned(16)));

extern const uint64_t exc_stub_table[256];   /* entry.S */

enum { IST_DF = 1, IST_NMI = 2, IST_MC = 3 };

static void set_gate(int vec, uint64_t handler, uint8_t ist)
{
	idt[vec] = (struct idt_entry){
		.off_lo = (uint16_t)handler, .sel = HOST_CS, .ist = ist, .type = 0x8e,
		.off_mid = (uint16_t)(handler >> 16), .off_hi = (uint32_t)(handler >> 32),
	};
}

void desc_init(unsigned cpu)
{
	struct tss *ts = &tss[cpu];
	uint64_t *gd = gdt[cpu], t = (uint64_t)ts;
	memset(ts, 0, sizeof *ts);
	ts->ist[IST_DF - 1] = HV_IST_TOP(cpu, 0);
	ts->ist[IST_NMI - 1] = HV_IST_TOP(cpu, 1);
	ts->ist[IST_MC - 1] = HV_IST_TOP(cpu, 2);
	ts->iomap_base = sizeof *ts;
	gd[0] = 0;
	gd[1] = 0x00af9a000000ffffull;   /* 0x08: 64-bit code, DPL 0 */
	gd[2] = 0x00cf92000000ffffull;   /* 0x10: data, DPL 0 */
	gd[3] = (sizeof *ts - 1) | ((t & 0xffffff) << 16) | (0x89ull << 40) |   /* 0x18: TSS */
		(((t >> 24) & 0xff) << 56);
	gd[4] = t >> 32;

	if (!idt[0].sel)   /* the first CPU to get here (the boot CPU) fills the shared IDT */
		for (int v = 0; v < 256; v++)
			set_gate(v, exc_stub_table[v], v == 8 ? IST_DF : v == 2 ? IST_NMI :
				 v == 18 ? IST_MC : 0);

	struct dtr g = { sizeof gdt[0] - 1, (uint64_t)gd }, i = { sizeof idt - 1, (uint64_t)idt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"lidt %1\n\t"
		"pushq %2\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %3, %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		"movw %4, %%ax\n\t"
		"ltr %%ax\n\t"
		: : "m"(g), "m"(i), "i"(HOST_CS), "i"(HOST_DS), "i"(HOST_TR) : "rax", "memory");
}

void desc_bases(unsigned cpu, uint64_t *gdt_base, uint64_t *idt_base, uint64_t *tss_base)
{
	*gdt_base = (uint64_t)gdt[cpu];
	*idt_base = (uint64_t)idt;
	*tss_base = (uint64_t)&tss[cpu];
}
