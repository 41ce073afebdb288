/* The control guest's PCI configuration writes, done by the hypervisor after pci_write_ok()
 * agreed: through ports 0xCF8/0xCFC (the IOIO intercept of 0xCFC-0xCFF) or ECAM (its pages
 * are read-only in the nested tables). The hypervisor's own config reads and BAR sizing go
 * through 0xCF8; the guest's address latch there is put back before its access is replayed. */
#include "pcicfg.h"
#include "pci.h"
#include "cpu.h"
#include "svm/svm.h"   /* decode_store: the x86 decoder lives there */
#include "../../hv/hv.h"
#include "../../hv/log.h"
#include "../../hv/pool.h"
#include "../../hv/panic.h"
#include "../../abi/bvmm.h"

#define CF8 0xcf8
#define CFC 0xcfc
#define CF8_ENABLE 0x80000000u
#define CMD_DECODE 0x3u   /* I/O and memory space enable */


/* AMD's CF8 extended register numbers (pci.h): NB_CFG is read-only to the control guest, so
 * what it says at launch stays true. */
static int ext_cf8 = -1;

static int cf8_ext(void)
{
	if (ext_cf8 < 0) {
		uint64_t nb_cfg = 0;
		ext_cf8 = hv.vendor == BVMM_VENDOR_AMD_SVM && !rdmsr_safe(0xc001001f, &nb_cfg) &&
			  (nb_cfg & (1ull << 46));
	}
	return ext_cf8;
}

static uint32_t cf8_of(uint32_t bdf, unsigned off)
{
	return CF8_ENABLE | bdf << 8 | (off & 0xfc) | ((off >> 8) & 0xfu) << 24;
}

/* Offsets from 0x100 (PCIe extended space) only through ECAM; all ones where there is none. */
static uint32_t host_read32(void *ctx, unsigned off)
{
	uint32_t bdf = (uint32_t)(uintptr_t)ctx;
	const struct boot_info *bi = hv.bi;
	if (off >= 0x100) {
		uint64_t bus = bdf >> 8;
		if (!bi->ecam_size || bus < bi->ecam_bus0 || ((bus - bi->ecam_bus0) << 20) >= bi->ecam_size)
			return 0xffffffffu;
		return *(volatile uint32_t *)(uintptr_t)(bi->ecam_base + ((bus - bi->ecam_bus0) << 20) +
							 ((bdf & 0xff) << 12) + (off & 0xffc));
	}
	outl(CF8, cf8_of(bdf, off));
	return inl(CFC);
}

static void host_write32(uint32_t bdf, unsigned off, uint32_t v)
{
	outl(CF8, cf8_of(bdf, off));
	outl(CFC, v);
}

/* PCI 3.0, 6.2.5.1: write all ones, read the mask back, restore; decoding off meanwhile so
 * that the BAR never decodes at the sizing address. */
static uint32_t host_size_mask(void *ctx, unsigned off)
{
	uint32_t bdf = (uint32_t)(uintptr_t)ctx;
	uint32_t cmd = host_read32(ctx, 0x04), old = host_read32(ctx, off);
	host_write32(bdf, 0x04, cmd & ~CMD_DECODE);
	host_write32(bdf, off, 0xffffffffu);
	uint32_t mask = host_read32(ctx, off);
	host_write32(bdf, off, old);
	host_write32(bdf, 0x04, cmd);
	return mask;
}

/* Judge a write; logs refusals. bdf = bus << 8 | device << 3 | function. */
static int judge(uint32_t bdf, unsigned off, unsigned size, uint32_t val)
{
	struct pci_ops ops = { host_read32, host_size_mask, (void *)(uintptr_t)bdf };
	struct pci_guard g = { hv.bi->pool_base, hv.bi->pool_base + hv.bi->pool_size };
	if (pci_write_ok(&ops, off, size, val, &g))
		return 1;
	log_info("control guest PCI config write %02x:%02x.%x+%03x (%u bytes, %x) refused: a "
		 "chipset decoder, or a window onto the hypervisor's memory", bdf >> 8,
		 (bdf >> 3) & 0x1f, bdf & 7, off, size, val);
	return 0;
}

uint32_t pcicfg_port_in(uint16_t port, unsigned size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

void pcicfg_port_out(uint16_t port, unsigned size, uint32_t val)
{
	uint32_t cf8 = inl(CF8);
	if ((port & 3) + size > 4)
		return;   /* not a configuration access any chipset decodes */
	if (cf8 & CF8_ENABLE) {
		int ok = judge((cf8 >> 8) & 0xffff, pci_cf8_offset(cf8, port, cf8_ext()), size, val);
		outl(CF8, cf8);   /* the guest's latch, as it left it */
		if (!ok)
			return;
	}
	if (size == 1)
		outb(port, (uint8_t)val);
	else if (size == 2)
		outw(port, (uint16_t)val);
	else
		outl(port, val);
}

int pcicfg_in_ecam(uint64_t gpa)
{
	const struct boot_info *bi = hv.bi;
	return bi->ecam_size && gpa >= bi->ecam_base && gpa - bi->ecam_base < bi->ecam_size;
}

void pcicfg_ecam_write(uint64_t gpa, unsigned size, uint32_t val)
{
	const struct boot_info *bi = hv.bi;
	uint64_t rel = gpa - bi->ecam_base;
	uint32_t bdf = (uint32_t)(((bi->ecam_bus0 + (rel >> 20)) & 0xff) << 8 | ((rel >> 12) & 0xff));
	unsigned off = (unsigned)(rel & 0xfff);
	uint32_t cf8 = inl(CF8);
	int ok = judge(bdf, off, size, val);
	outl(CF8, cf8);
	if (!ok)
		return;
	volatile void *p = (volatile void *)(uintptr_t)gpa;   /* the host maps it 1:1 */
	if (size == 1)
		*(volatile uint8_t *)p = (uint8_t)val;
	else if (size == 2)
		*(volatile uint16_t *)p = (uint16_t)val;
	else
		*(volatile uint32_t *)p = val;
}

int pcicfg_ecam_store(const uint8_t *insn, unsigned n, int mode, uint64_t gpa,
		      uint64_t (*gpr)(void *ctx, unsigned vrs), void *ctx, unsigned *len)
{
	struct store_insn si;
	if (decode_store(insn, n, mode, &si))
		return -1;
	uint64_t val = si.src_gpr < 0 ? si.imm : gpr(ctx, (unsigned)si.src_gpr) >> (si.src_high8 ? 8 : 0);
	*len = si.len;
	return pcicfg_ecam_store_value(gpa, val, si.size);
}

int pcicfg_ecam_store_value(uint64_t gpa, uint64_t val, unsigned size)
{
	if (size == 8 && !(gpa & 7)) {   /* two dword writes, as a chipset splits them */
		pcicfg_ecam_write(gpa, 4, (uint32_t)val);
		pcicfg_ecam_write(gpa + 4, 4, (uint32_t)(val >> 32));
	} else if (size < 8 && (gpa & 3) + size <= 4) {
		pcicfg_ecam_write(gpa, size, (uint32_t)val);
	} else {
		log_info("control guest ECAM write at %lx (%u bytes) across registers: dropped", gpa, size);
	}
	return 0;
}
