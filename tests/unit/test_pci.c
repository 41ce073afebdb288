/* Unit tests of the PCI configuration-write policy (arch/x86_64/pci.c): chipset decoders of
 * q35 (MCH, ICH9 LPC) refused, BARs, expansion ROMs and bridge windows kept off the pool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/pci.h"

/* A fake function: its config dwords and the size mask each BAR dword reads back. */
struct fake { uint32_t cfg[1024]; uint32_t mask[1024]; int probes; };

static uint32_t fake_read(void *ctx, unsigned off) { return ((struct fake *)ctx)->cfg[off / 4]; }
static uint32_t fake_mask(void *ctx, unsigned off)
{
	struct fake *f = ctx;
	f->probes++;
	return f->mask[off / 4];
}

static const struct pci_guard pool = { 0x17a00000, 0x1ba00000 };

static struct pci_ops ops_of(struct fake *f) { return (struct pci_ops){ fake_read, fake_mask, f }; }

static void init(struct fake *f, uint32_t id, uint32_t class_rev, unsigned type)
{
	memset(f, 0, sizeof *f);
	f->cfg[0] = id;
	f->cfg[2] = class_rev;
	f->cfg[3] = type << 16;
}

static void test_merge(void **state)
{
	(void)state;
	assert_int_equal(pci_merge(0x11223344, 0x10, 4, 0xaabbccdd), 0xaabbccdd);
	assert_int_equal(pci_merge(0x11223344, 0x11, 1, 0xaa), 0x1122aa44);
	assert_int_equal(pci_merge(0x11223344, 0x12, 2, 0xaabb), 0xaabb3344);
	assert_int_equal(pci_merge(0x11223344, 0x13, 1, 0x1ff), 0xff223344);
	assert_int_equal(pci_cf8_offset(0x8000fa60, 0xcfe, 0), 0x62);
	assert_int_equal(pci_cf8_offset(0x8100fa60, 0xcfc, 1), 0x160);
	/* bits 27:24 only where the chipset decodes them (the review's BAR bypass: 0x110 judged
	 * as extended space while an Intel chipset writes BAR0 at 0x10) */
	assert_int_equal(pci_cf8_offset(0x81000010, 0xcfc, 0), 0x10);
}

static void test_q35_mch(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x29c08086, 0x06000002, 0);
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0x60, 4, 0x17a00001, &pool));   /* PCIEXBAR */
	assert_false(pci_write_ok(&o, 0x64, 4, 0, &pool));
	assert_false(pci_write_ok(&o, 0x90, 1, 0x33, &pool));         /* PAM0 */
	assert_false(pci_write_ok(&o, 0x9d, 1, 0x4a, &pool));         /* SMRAM */
	assert_false(pci_write_ok(&o, 0x9e, 1, 0x07, &pool));         /* ESMRAMC: TSEG size */
	assert_false(pci_write_ok(&o, 0x50, 2, 0xffff, &pool));       /* QEMU's extended TSEG */
	assert_true(pci_write_ok(&o, 0x04, 2, 0x0007, &pool));        /* command */
}

static void test_ich9_lpc(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x29188086, 0x06010002, 0);
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0xf0, 4, 0x17a00001, &pool));   /* RCBA: the attack */
	assert_false(pci_write_ok(&o, 0x40, 4, 0x601, &pool));        /* PMBASE */
	assert_false(pci_write_ok(&o, 0x44, 1, 0x80, &pool));         /* ACPI_CNTL */
	assert_true(pci_write_ok(&o, 0x60, 1, 0x0a, &pool));          /* PIRQA route */
	assert_true(pci_write_ok(&o, 0x6b, 1, 0x0b, &pool));          /* PIRQH route */
	assert_false(pci_write_ok(&o, 0x64, 1, 0xd0, &pool));
	/* PIIX3 (i440FX machines): its PIRQ routing only */
	init(&f, 0x70008086, 0x06010000, 0);
	assert_true(pci_write_ok(&o, 0x60, 1, 0x0a, &pool));
	assert_false(pci_write_ok(&o, 0x68, 1, 0x0a, &pool));
	/* an ISA bridge bvmm does not know: no routing registers known, all refused */
	init(&f, 0x12341234, 0x06010000, 0);
	assert_false(pci_write_ok(&o, 0x60, 1, 0x0a, &pool));
}

static void test_endpoint_bars(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x100e8086, 0x02000003, 0);   /* a NIC */
	f.cfg[4] = 0xfeb80000;                 /* BAR0: 32-bit memory, 128 KiB */
	f.mask[4] = 0xfffe0000;
	f.cfg[5] = 0x0000c001;                 /* BAR1: I/O */
	f.cfg[6] = 0xfebf000c;                 /* BAR2-3: 64-bit prefetchable, 16 KiB */
	f.cfg[7] = 0;
	f.mask[6] = 0xffffc00c;
	f.mask[7] = 0xffffffff;
	f.cfg[12] = 0xfeb40000;                /* ROM, 256 KiB, disabled */
	f.mask[12] = 0xfffc0000;
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0x10, 4, 0x17a00000, &pool));   /* onto the pool */
	assert_false(pci_write_ok(&o, 0x10, 4, 0x1b9e0000, &pool));   /* its last 128 KiB */
	assert_true(pci_write_ok(&o, 0x10, 4, 0x179f0000, &pool));    /* aligned down: below it */
	assert_true(pci_write_ok(&o, 0x10, 4, 0x179e0000, &pool));    /* just below */
	assert_true(pci_write_ok(&o, 0x10, 4, 0x1ba00000, &pool));    /* just above */
	assert_true(pci_write_ok(&o, 0x10, 4, 0xffffffff, &pool));    /* sizing */
	assert_false(pci_write_ok(&o, 0x12, 2, 0x17a0, &pool));       /* the high word alone */
	assert_true(pci_write_ok(&o, 0x14, 4, 0x17a00001, &pool));    /* an I/O BAR */
	assert_false(pci_write_ok(&o, 0x18, 4, 0x1b00000c, &pool));   /* 64-bit low half */
	f.cfg[7] = 1;                                                 /* above 4 GiB now */
	assert_true(pci_write_ok(&o, 0x18, 4, 0x1b00000c, &pool));
	f.cfg[6] = 0x1b00000c;
	f.cfg[7] = 1;
	assert_false(pci_write_ok(&o, 0x1c, 4, 0, &pool));            /* high half brings it down */
	assert_true(pci_write_ok(&o, 0x1c, 4, 0xffffffff, &pool));
	assert_true(pci_write_ok(&o, 0x30, 4, 0x17a00000, &pool));    /* ROM onto the pool, off */
	assert_false(pci_write_ok(&o, 0x30, 4, 0x17a00001, &pool));   /* ... and enabled */
	assert_true(pci_write_ok(&o, 0x30, 4, 0xfeb40001, &pool));
	assert_true(pci_write_ok(&o, 0x40, 4, 0x12345678, &pool));    /* device-specific: its own */
	assert_true(pci_write_ok(&o, 0x3c, 1, 0x0b, &pool));          /* interrupt line */
	assert_true(f.probes > 0);
	/* a 4 MiB BAR straddling the pool's start */
	f.cfg[4] = 0xfe800000;
	f.mask[4] = 0xffc00000;
	assert_false(pci_write_ok(&o, 0x10, 4, 0x17800000, &pool));
	assert_true(pci_write_ok(&o, 0x10, 4, 0x17400000, &pool));
}

static void test_bridge_windows(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x000c1b36, 0x06040000, 1);   /* a PCI-PCI bridge */
	f.cfg[8] = 0xfe90fe80;                 /* memory window fe800000-fe9fffff */
	f.cfg[9] = 0x0001fff1;                 /* prefetchable, 64-bit, closed (base > limit) */
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0x20, 4, 0x1b901790, &pool));   /* window over the pool */
	assert_false(pci_write_ok(&o, 0x20, 2, 0x1790, &pool));       /* base lowered below it */
	assert_true(pci_write_ok(&o, 0x20, 4, 0x17901700, &pool));    /* just below the pool */
	assert_true(pci_write_ok(&o, 0x20, 4, 0x00000010, &pool));    /* closed */
	assert_false(pci_write_ok(&o, 0x24, 4, 0x1b911791, &pool));   /* prefetchable over it */
	f.cfg[10] = 2;                                                /* upper base 2: above 4 GiB */
	f.cfg[11] = 2;
	assert_true(pci_write_ok(&o, 0x24, 4, 0x1b911791, &pool));
	f.cfg[9] = 0x1b911791;
	assert_false(pci_write_ok(&o, 0x28, 4, 0, &pool));            /* upper base lowered */
	assert_true(pci_write_ok(&o, 0x04, 2, 0x7, &pool));
	assert_true(pci_write_ok(&o, 0x80, 4, 0x1, &pool));           /* capabilities */
}

static void test_absent_function(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0xffffffff, 0xffffffff, 0x7f);
	struct pci_ops o = ops_of(&f);
	assert_true(pci_write_ok(&o, 0x60, 4, 0x17a00001, &pool));
}

/* Found by tests/fuzz/fuzz_pci.c. A BAR's bit 0 (I/O or memory) and type bits 2:1 (32 or 64
 * bits) are read-only (PCI 3.0, 6.2.5.1): a write decides neither. pci.c takes them from the
 * value written, so a memory BAR written with bit 0 set is judged as an I/O BAR and let
 * through -- the device keeps bit 0 clear and decodes the pool. */
static void test_bar_type_bits_are_the_devices(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x100e8086, 0x02000003, 0);
	f.cfg[4] = 0xfeb80000;                 /* BAR0: 32-bit memory, 128 KiB */
	f.mask[4] = 0xfffe0000;
	f.cfg[5] = 0x0000c001;                 /* BAR1: I/O */
	f.mask[5] = 0xffffffe1;
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0x10, 4, 0x17a00000, &pool));   /* judged as memory: refused */
	assert_false(pci_write_ok(&o, 0x10, 4, 0x17a00001, &pool));   /* becomes 0x17a00000 */
	/* "64-bit" claimed by the value: paired with BAR1 as an upper half (0xc001: far above) */
	assert_false(pci_write_ok(&o, 0x10, 4, 0x17a00004, &pool));
}

/* Found by tests/fuzz/fuzz_pci.c. The prefetchable window's bits 3:0 (64-bit capable) are
 * read-only (PCI-PCI bridge 1.2, 3.2.5.9). Written as 0, pci.c ignores the upper halves:
 * base 0x10000000, limit 0x000fffff looks closed to it, while the bridge decodes
 * [0x0_10000000, 0x1_000fffff] over the pool. */
static void test_bridge_pref_64bit_is_the_devices(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x000c1b36, 0x06040000, 1);
	f.cfg[9] = 0x0001fff1;                 /* 64-bit prefetchable, closed */
	f.cfg[10] = 0;                         /* upper base 0 */
	f.cfg[11] = 1;                         /* upper limit 1 */
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0x24, 4, 0x00011001, &pool));   /* honest: refused today */
	assert_false(pci_write_ok(&o, 0x24, 4, 0x00001000, &pool));   /* nibbles 0: let through */
}

/* Found by tests/fuzz/fuzz_pci.c. A 64-bit prefetchable window from 0 to ~0 spans 2^64
 * bytes; pci.c's size limit - base + 1 wraps to 0, an empty window to overlaps(). */
static void test_bridge_pref_whole_space(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x000c1b36, 0x06040000, 1);
	f.cfg[9] = 0xfff10001;                 /* base 0, limit 0xfffxxxxx, 64-bit */
	f.cfg[10] = 1;                         /* [0x1_00000000, 0xffffffff_ffffffff]: off the pool */
	f.cfg[11] = 0xffffffff;
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0x28, 4, 0, &pool));            /* now all of memory */
}

/* Found by tests/fuzz/fuzz_pci.c. A CardBus bridge (header type 2, class 06/07) has a 4 KiB
 * memory BAR at 0x10 (socket registers) and two memory windows (base/limit at 0x1c/0x20 and
 * 0x24/0x28, 4 KiB granules; PC Card standard, CardBus bridge header). pci.c lets every write
 * to a non-chipset function of another header type through. */
static void test_cardbus_windows(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0xac56104c, 0x06070000, 2);
	f.cfg[8] = 0x1b9ff000;                 /* memory limit 0 */
	f.cfg[10] = 0x1b9ff000;                /* memory limit 1 */
	struct pci_ops o = ops_of(&f);
	assert_false(pci_write_ok(&o, 0x10, 4, 0x17a00000, &pool));   /* socket registers */
	assert_false(pci_write_ok(&o, 0x1c, 4, 0x17a00000, &pool));   /* window 0 over the pool */
	assert_false(pci_write_ok(&o, 0x24, 4, 0x17a00000, &pool));   /* window 1 over the pool */
}

/* Capabilities that change what an ordinary function decodes: Enhanced Allocation (standard
 * list), SR-IOV and Resizable BAR (extended list). Their registers are refused; others pass. */
static void test_decoding_capabilities(void **state)
{
	(void)state;
	struct fake f;
	init(&f, 0x15338086, 0x02000003, 0);
	f.cfg[1] = 1u << 20;                   /* status: capability list */
	f.cfg[0x34 / 4] = 0x40;
	f.cfg[0x40 / 4] = 0x00005005;          /* MSI at 0x40, next 0x50 */
	f.cfg[0x50 / 4] = 0x00000014;          /* Enhanced Allocation at 0x50, last */
	f.cfg[0x100 / 4] = 0x14010001;         /* AER at 0x100, next 0x140 */
	f.cfg[0x140 / 4] = 0x18010010;         /* SR-IOV at 0x140, next 0x180 */
	f.cfg[0x180 / 4] = 0x00010015;         /* Resizable BAR at 0x180, last */
	struct pci_ops o = ops_of(&f);
	assert_true(pci_write_ok(&o, 0x44, 4, 0xfee00000, &pool));    /* MSI address */
	assert_false(pci_write_ok(&o, 0x58, 4, 0x17a00001, &pool));   /* an EA entry */
	assert_true(pci_write_ok(&o, 0x104, 4, 0, &pool));            /* AER status */
	assert_false(pci_write_ok(&o, 0x148, 2, 0x9, &pool));         /* SR-IOV control: VF MSE */
	assert_false(pci_write_ok(&o, 0x164, 4, 0x17a00000, &pool));  /* a VF BAR */
	assert_false(pci_write_ok(&o, 0x188, 4, 0x1000, &pool));      /* ReBAR control: a size */
	f.cfg[1] = 0;                                                 /* no list: nothing to judge */
	assert_true(pci_write_ok(&o, 0x58, 4, 0x17a00001, &pool));
	/* an unknown header layout: its BAR range cannot be judged */
	init(&f, 0x12348086, 0x02000000, 0x5);
	assert_false(pci_write_ok(&o, 0x10, 4, 0x17a00000, &pool));
	assert_true(pci_write_ok(&o, 0x04, 2, 0x6, &pool));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_q35_mch),
		cmocka_unit_test(test_ich9_lpc),
		cmocka_unit_test(test_endpoint_bars),
		cmocka_unit_test(test_bridge_windows),
		cmocka_unit_test(test_absent_function),
		cmocka_unit_test(test_bar_type_bits_are_the_devices),
		cmocka_unit_test(test_bridge_pref_64bit_is_the_devices),
		cmocka_unit_test(test_bridge_pref_whole_space),
		cmocka_unit_test(test_cardbus_windows),
		cmocka_unit_test(test_decoding_capabilities),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
