/* The control guest's PCI configuration writes, judged (pci.h). Facts: PCI Local Bus 3.0
 * (BAR and ROM formats, sizing), PCI-to-PCI Bridge 1.2 (memory windows), Intel 3 Series /
 * ICH9 datasheets (the MCH's and the LPC bridge's decoders), AMD BKDG (northbridge functions
 * 0x18.1 address maps). Chipset functions are host and ISA bridges: their device-specific
 * registers (offset 0x40 and up) hold the decoders and are read-only to the control guest,
 * except the interrupt routing registers of ICH9's LPC bridge, which ACPI's _SRS writes. */
#include "pci.h"

#define PCI_VENDOR      0x00
#define PCI_CLASS_REV   0x08
#define PCI_HEADER      0x0c   /* byte 2 of this dword */
#define PCI_BAR0        0x10
#define PCI_ROM0        0x30   /* type 0 */
#define PCI_BRIDGE_MEM  0x20   /* type 1: memory base/limit */
#define PCI_BRIDGE_PREF 0x24   /* type 1: prefetchable base/limit, upper halves at 0x28/0x2c */
#define PCI_ROM1        0x38   /* type 1 */
#define PCI_DEVSPEC     0x40

#define ICH9_LPC 0x29188086u   /* device << 16 | vendor */

uint32_t pci_merge(uint32_t cur, unsigned off, unsigned size, uint32_t val)
{
	unsigned sh = (off & 3) * 8;
	uint32_t mask = size >= 4 ? 0xffffffffu : ((1u << (size * 8)) - 1) << sh;
	return (cur & ~mask) | ((val << sh) & mask);
}

static int overlaps(uint64_t lo, uint64_t size, const struct pci_guard *g)
{
	uint64_t hi = lo + size;
	if (hi < lo)
		hi = ~0ull;
	return lo < g->hi && hi > g->lo;
}

static int chipset(uint32_t class_rev)
{
	uint32_t cls = class_rev >> 16;   /* base class << 8 | sub-class */
	return cls == 0x0600 || cls == 0x0601;
}

/* Device-specific registers a chipset function may have written. */
static int chipset_reg_ok(uint32_t id, unsigned off)
{
	if (id == ICH9_LPC)   /* PIRQA-D (0x60-0x63) and PIRQE-H (0x68-0x6b) routing */
		return (off >= 0x60 && off < 0x64) || (off >= 0x68 && off < 0x6c);
	return 0;
}

/* A memory BAR (index of its low dword `bar`) with `lo`/`hi` as the new dwords: does the
 * window it would decode stay off the guard? 64-bit BARs span two dwords. */
static int mem_bar_ok(const struct pci_ops *ops, unsigned bar, uint32_t lo, uint32_t hi,
		      int is64, const struct pci_guard *g)
{
	uint64_t mask = ops->size_mask(ops->ctx, bar) & ~0xfull;
	if (is64)
		mask |= (uint64_t)ops->size_mask(ops->ctx, bar + 4) << 32;
	else
		mask |= 0xffffffff00000000ull;
	if (!(is64 ? mask : mask & 0xffffffffull))
		return 1;   /* not implemented: decodes nothing */
	uint64_t base = (((uint64_t)(is64 ? hi : 0) << 32) | (lo & ~0xfu)) & mask;
	return !overlaps(base, ~mask + 1, g);
}

/* A BAR dword at `off` (a type-0 BAR 0-5 or a type-1 BAR 0-1) is written with `nv`. */
static int bar_write_ok(const struct pci_ops *ops, unsigned off, uint32_t nv, unsigned nbars,
			const struct pci_guard *g)
{
	unsigned idx = (off - PCI_BAR0) / 4;
	/* Is this the upper half of a 64-bit BAR? Walk the BARs from the first to tell. */
	for (unsigned i = 0; i < nbars; i++) {
		unsigned bo = PCI_BAR0 + 4 * i;
		uint32_t v = bo == off ? nv : ops->read32(ops->ctx, bo);
		if (v & 1)
			continue;   /* I/O space: no memory window */
		int is64 = ((v >> 1) & 3) == 2 && i + 1 < nbars;
		if (i == idx || (is64 && i + 1 == idx)) {
			uint32_t lo = i == idx ? nv : v;
			uint32_t hi = !is64 ? 0 : i + 1 == idx ? nv : ops->read32(ops->ctx, bo + 4);
			return mem_bar_ok(ops, bo, lo, hi, is64, g);
		}
		if (is64)
			i++;
	}
	return 1;   /* an I/O BAR */
}

static int rom_write_ok(const struct pci_ops *ops, unsigned off, uint32_t nv,
			const struct pci_guard *g)
{
	if (!(nv & 1))
		return 1;   /* decoding off */
	uint32_t mask = ops->size_mask(ops->ctx, off) & 0xfffff800u;
	if (!mask)
		return 1;
	return !overlaps(nv & mask, (uint64_t)(uint32_t)~mask + 1, g);
}

/* Type-1 memory windows after the write: [base, limit] where base <= limit. */
static int bridge_window_ok(const struct pci_ops *ops, unsigned off, uint32_t nv,
			    const struct pci_guard *g)
{
	unsigned d = off & ~3u;
	uint32_t mem = d == PCI_BRIDGE_MEM ? nv : ops->read32(ops->ctx, PCI_BRIDGE_MEM);
	uint32_t pref = d == PCI_BRIDGE_PREF ? nv : ops->read32(ops->ctx, PCI_BRIDGE_PREF);
	uint32_t pbu = d == 0x28 ? nv : ops->read32(ops->ctx, 0x28);
	uint32_t plu = d == 0x2c ? nv : ops->read32(ops->ctx, 0x2c);
	uint64_t mb = (uint64_t)(mem & 0xfff0) << 16, ml = ((uint64_t)(mem >> 16 & 0xfff0) << 16) | 0xfffff;
	if (mb <= ml && overlaps(mb, ml - mb + 1, g))
		return 0;
	int p64 = (pref & 0xf) == 1;
	uint64_t pb = ((uint64_t)(pref & 0xfff0) << 16) | (p64 ? (uint64_t)pbu << 32 : 0);
	uint64_t pl = ((uint64_t)(pref >> 16 & 0xfff0) << 16) | 0xfffff | (p64 ? (uint64_t)plu << 32 : 0);
	return !(pb <= pl && overlaps(pb, pl - pb + 1, g));
}

int pci_write_ok(const struct pci_ops *ops, unsigned off, unsigned size, uint32_t val,
		 const struct pci_guard *g)
{
	unsigned d = off & ~3u;
	uint32_t id = ops->read32(ops->ctx, PCI_VENDOR);
	if ((id & 0xffff) == 0xffff)
		return 1;   /* no function there: the write goes nowhere */
	uint32_t class_rev = ops->read32(ops->ctx, PCI_CLASS_REV);
	unsigned type = (ops->read32(ops->ctx, PCI_HEADER) >> 16) & 0x7f;
	if (d >= PCI_DEVSPEC)
		return !chipset(class_rev) || chipset_reg_ok(id, off);
	if (d < PCI_BAR0)
		return 1;   /* ID, command, status, class, cache line, header type, BIST */
	uint32_t nv = pci_merge(ops->read32(ops->ctx, d), off, size, val);
	if (type == 0) {
		if (d < PCI_BAR0 + 24)
			return bar_write_ok(ops, d, nv, 6, g);
		return d == PCI_ROM0 ? rom_write_ok(ops, d, nv, g) : 1;
	}
	if (type == 1) {
		if (d < PCI_BAR0 + 8)
			return bar_write_ok(ops, d, nv, 2, g);
		if (d >= PCI_BRIDGE_MEM && d <= 0x2c)
			return bridge_window_ok(ops, d, nv, g);
		return d == PCI_ROM1 ? rom_write_ok(ops, d, nv, g) : 1;
	}
	return !chipset(class_rev);   /* CardBus and unknown layouts: not on chipset functions */
}
