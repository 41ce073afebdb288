/* The control guest's PCI configuration writes, judged (pci.h). Facts: PCI Local Bus 3.0
 * (BAR and ROM formats, sizing), PCI-to-PCI Bridge 1.2 (memory windows), Intel 3 Series /
 * ICH9 datasheets (the MCH's and the LPC bridge's decoders), AMD BKDG (northbridge functions
 * 0x18.1 address maps). Chipset functions are host and ISA bridges: their device-specific
 * registers (offset 0x40 and up) hold the decoders and are read-only to the control guest,
 * except the interrupt routing registers of ICH9's LPC bridge and of the PIIX3/PIIX4 ISA
 * bridges (i440FX machines: QEMU's pc, Bochs), which ACPI's _SRS writes. */
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
#define PIIX3_ISA 0x70008086u
#define PIIX4_ISA 0x71108086u

uint32_t pci_merge(uint32_t cur, unsigned off, unsigned size, uint32_t val)
{
	unsigned sh = (off & 3) * 8;
	uint32_t mask = size >= 4 ? 0xffffffffu : ((1u << (size * 8)) - 1) << sh;
	return (cur & ~mask) | ((val << sh) & mask);
}

/* Does the window [lo, end] (end inclusive: a window may reach 2^64 - 1) touch the guard? */
static int overlaps(uint64_t lo, uint64_t end, const struct pci_guard *g)
{
	return lo <= end && lo < g->hi && end >= g->lo;
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
	if (id == PIIX3_ISA || id == PIIX4_ISA)   /* PIRQA-D routing (0x60-0x63) */
		return off >= 0x60 && off < 0x64;
	return 0;
}

/* A memory BAR (its low dword at `bar`) with `lo`/`hi` as the new dwords: does the window it
 * would decode stay off the guard? 64-bit BARs span two dwords. */
static int mem_bar_ok(const struct pci_ops *ops, unsigned bar, uint32_t lo, uint32_t hi,
		      int is64, const struct pci_guard *g)
{
	uint64_t mask = ops->size_mask(ops->ctx, bar) & ~0xfull;
	if (is64)
		mask |= (uint64_t)ops->size_mask(ops->ctx, bar + 4) << 32;
	else
		mask |= 0xffffffff00000000ull;
	if (!(is64 ? mask : mask & 0xffffffffull))
		return 1;   /* a BAR whose size mask reads 0 has no address bits: it decodes nothing */
	uint64_t base = (((uint64_t)(is64 ? hi : 0) << 32) | (lo & ~0xfu)) & mask;
	return !overlaps(base, base | ~mask, g);
}

/* A BAR dword at `off` (a type-0 BAR 0-5 or a type-1 BAR 0-1) is written with `nv`. Whether a
 * BAR is memory or I/O, 32 or 64 bits, are read-only bits (PCI 3.0, 6.2.5.1): taken from the
 * device, never from the value written. */
static int bar_write_ok(const struct pci_ops *ops, unsigned off, uint32_t nv, unsigned nbars,
			const struct pci_guard *g)
{
	unsigned idx = (off - PCI_BAR0) / 4;
	for (unsigned i = 0; i < nbars; i++) {
		unsigned bo = PCI_BAR0 + 4 * i;
		uint32_t cur = ops->read32(ops->ctx, bo);
		if (cur & 1) {
			if (i == idx)
				return 1;   /* I/O space: no memory window */
			continue;
		}
		int is64 = ((cur >> 1) & 3) == 2 && i + 1 < nbars;
		if (i == idx || (is64 && i + 1 == idx)) {
			uint32_t lo = i == idx ? nv : cur;
			uint32_t hi = !is64 ? 0 : i + 1 == idx ? nv : ops->read32(ops->ctx, bo + 4);
			return mem_bar_ok(ops, bo, lo, hi, is64, g);
		}
		if (is64)
			i++;
	}
	return 1;
}

static int rom_write_ok(const struct pci_ops *ops, unsigned off, uint32_t nv,
			const struct pci_guard *g)
{
	if (!(nv & 1))
		return 1;   /* decoding off */
	uint32_t mask = ops->size_mask(ops->ctx, off) & 0xfffff800u;
	if (!mask)
		return 1;
	return !overlaps(nv & mask, (nv & mask) | ~mask, g);
}

/* Type-1 memory windows after the write: [base, limit], open where base <= limit. Whether the
 * prefetchable window is 64-bit is read-only (PCI-PCI Bridge 1.2, 3.2.5.9): the device's. */
static int bridge_window_ok(const struct pci_ops *ops, unsigned off, uint32_t nv,
			    const struct pci_guard *g)
{
	unsigned d = off & ~3u;
	uint32_t mem = d == PCI_BRIDGE_MEM ? nv : ops->read32(ops->ctx, PCI_BRIDGE_MEM);
	uint32_t pref = d == PCI_BRIDGE_PREF ? nv : ops->read32(ops->ctx, PCI_BRIDGE_PREF);
	uint32_t pbu = d == 0x28 ? nv : ops->read32(ops->ctx, 0x28);
	uint32_t plu = d == 0x2c ? nv : ops->read32(ops->ctx, 0x2c);
	int p64 = (ops->read32(ops->ctx, PCI_BRIDGE_PREF) & 0xf) == 1;
	uint64_t mb = (uint64_t)(mem & 0xfff0) << 16, ml = ((uint64_t)(mem >> 16 & 0xfff0) << 16) | 0xfffff;
	if (overlaps(mb, ml, g))
		return 0;
	uint64_t pb = ((uint64_t)(pref & 0xfff0) << 16) | (p64 ? (uint64_t)pbu << 32 : 0);
	uint64_t pl = ((uint64_t)(pref >> 16 & 0xfff0) << 16) | 0xfffff | (p64 ? (uint64_t)plu << 32 : 0);
	return !overlaps(pb, pl, g);
}

/* CardBus bridge (header type 2; PC Card standard, CardBus bridge configuration header): a
 * 4 KiB socket register BAR at 0x10 and two memory windows, base/limit at 0x1c/0x20 and
 * 0x24/0x28 in 4 KiB granules. */
static int cardbus_write_ok(const struct pci_ops *ops, unsigned d, uint32_t nv,
			    const struct pci_guard *g)
{
	if (d == PCI_BAR0)
		return !overlaps(nv & ~0xfffu, nv | 0xfffu, g);
	if (d < 0x1c || d > 0x28)
		return 1;
	for (unsigned w = 0x1c; w <= 0x24; w += 8) {
		uint32_t base = w == d ? nv : ops->read32(ops->ctx, w);
		uint32_t limit = w + 4 == d ? nv : ops->read32(ops->ctx, w + 4);
		if (overlaps(base & ~0xfffu, limit | 0xfffu, g))
			return 0;
	}
	return 1;
}

/* The capability holding `off`: the one with the highest start at or below it, following
 * the list from `first` (standard: byte pointers at +1; extended: 12-bit pointers at bits
 * 31:20). Its ID, or -1. */
static int cap_at(const struct pci_ops *ops, unsigned first, int ext, unsigned off)
{
	int id = -1;
	unsigned best = 0, at = first;
	for (int n = 0; n < 48 && at >= (ext ? 0x100u : 0x40u) && at < (ext ? 0x1000u : 0x100u); n++) {
		uint32_t h = ops->read32(ops->ctx, at & ~3u);
		if (ext && (h == 0 || h == 0xffffffffu))
			break;
		unsigned cid = ext ? h & 0xffff : h & 0xff;
		if (at <= off && at >= best) {
			best = at;
			id = (int)cid;
		}
		at = ext ? h >> 20 : (h >> 8) & 0xfc;
	}
	return id;
}

#define CAP_EA        0x14   /* Enhanced Allocation: fixed BAR-like windows with enable bits */
#define XCAP_SRIOV    0x10   /* SR-IOV: VF BARs and VF memory enable */
#define XCAP_REBAR    0x15   /* Resizable BAR: a BAR's size (a larger one aligns down) */
#define XCAP_VF_REBAR 0x24

/* Capabilities of ordinary functions whose registers change what memory they decode. */
static int cap_write_ok(const struct pci_ops *ops, unsigned off)
{
	if (off >= 0x100) {
		int id = cap_at(ops, 0x100, 1, off);
		return id != XCAP_SRIOV && id != XCAP_REBAR && id != XCAP_VF_REBAR;
	}
	if (!(ops->read32(ops->ctx, 0x04) & (1u << 20)))
		return 1;   /* no capability list */
	return cap_at(ops, ops->read32(ops->ctx, 0x34) & 0xfc, 0, off) != CAP_EA;
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
		return chipset(class_rev) ? chipset_reg_ok(id, off) : cap_write_ok(ops, d);
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
	if (type == 2 && !chipset(class_rev))
		return cardbus_write_ok(ops, d, nv, g);
	return 0;   /* an unknown layout: its windows cannot be judged */
}
