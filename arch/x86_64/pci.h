/* PCI configuration writes of the control guest, judged before they reach the hardware. What
 * changes physical address decoding could put a device window over the hypervisor's pool: a
 * BAR, an expansion ROM BAR or a bridge window moved onto it, or a chipset decoder (q35's
 * PCIEXBAR, PAM, SMRAM/TSEG, the ICH9 RCBA; AMD's DRAM/MMIO base-limit functions). The policy
 * is pure (unit-tested); the caller supplies config reads and BAR sizing through pci_ops. */
#ifndef ARCH_PCI_H
#define ARCH_PCI_H

#include <stdint.h>

/* Configuration access to the one function a write targets (offsets are aligned dwords). */
struct pci_ops {
	uint32_t (*read32)(void *ctx, unsigned off);
	/* The size mask a BAR dword reads back after all ones were written (the BAR's value
	 * restored, decoding off while sizing). */
	uint32_t (*size_mask)(void *ctx, unsigned off);
	void *ctx;
};

/* The hypervisor's own memory, which no window may cover: [lo, hi). */
struct pci_guard { uint64_t lo, hi; };

/* May `size` bytes of `val` be written at config offset `off` (0..4095, not crossing a
 * dword) of the function `ops` reaches? 1 = yes, 0 = refuse (the write is dropped). */
int pci_write_ok(const struct pci_ops *ops, unsigned off, unsigned size, uint32_t val,
		 const struct pci_guard *g);

/* `cur` with `size` bytes of `val` written at byte `off & 3`. */
uint32_t pci_merge(uint32_t cur, unsigned off, unsigned size, uint32_t val);

/* The register a 0xCF8/0xCFC access reaches. Bits 27:24 of 0xCF8 extend the register number
 * only on AMD processors with NB_CFG EnableCf8ExtCfg (bit 46) set (BKDG, 0xCF8); elsewhere
 * the chipset ignores them, so the judge must too (else a write to 0x110 would be judged
 * while the device takes it at 0x10). */
static inline unsigned pci_cf8_offset(uint32_t cf8, uint16_t port, int ext_cf8)
{
	return (cf8 & 0xfc) | (port & 3) | (ext_cf8 ? ((cf8 >> 24) & 0xf) << 8 : 0);
}

#endif
