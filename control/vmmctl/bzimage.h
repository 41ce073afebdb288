/* vmmctl's Linux/x86 boot protocol loader: a bzImage (protocol >= 2.12 with a 64-bit entry)
 * and its initrd placed in guest memory, boot_params built, and the 64-bit entry state.
 * Pure: works on a guest-memory buffer, never calls the platform. Facts: Linux
 * Documentation/arch/x86/boot.rst and arch/x86/include/uapi/asm/bootparam.h.
 *
 * Guest memory layout (mem = guest memory at GPA 0), all below 0x9f000 and above 0x1000:
 *   0x01000  GDT: null, null, 0x10 = __BOOT_CS (64-bit code), 0x18 = __BOOT_DS (flat data)
 *   0x02000  PML4, 0x03000 PDPT, 0x04000-0x07fff four PDs: GPA 0-4 GiB identity mapped with
 *            2 MiB pages (no 1 GiB pages: a child's CPUID may not offer them). Above 4 GiB
 *            the decompressor maps what it needs itself.
 *   0x08000-0x0ffff  boot stack (RSP = 0x10000): the 64-bit entry pushes before it has its own
 *   0x10000  boot_params (the zero page, 4 KiB)
 *   0x20000  command line (NUL-terminated, at most the kernel's cmdline_size bytes)
 *   pref_address (0x1000000 for Debian) .. + init_size: the protected-mode kernel
 *   the initrd: page aligned, as high as possible below min(mem_size, initrd_addr_max + 1)
 * E820: 0-0x9fc00 RAM, 0x9fc00-0x100000 reserved, 0x100000-mem_size RAM. */
#ifndef VMMCTL_BZIMAGE_H
#define VMMCTL_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../../abi/bvmm.h"

#define BZ_GDT         0x1000ull
#define BZ_PML4        0x2000ull
#define BZ_STACK_TOP   0x10000ull
#define BZ_BOOT_PARAMS 0x10000ull
#define BZ_CMDLINE     0x20000ull
#define BZ_LOW_END     0x9f000ull   /* everything above stays below this */
#define BZ_MAP_SIZE    (4ull << 30)  /* identity-mapped by the page tables */

struct bz_boot {
	uint64_t entry;                 /* 64-bit entry: kernel_start + 0x200 */
	uint64_t boot_params;           /* GPA of boot_params: RSI at entry */
	uint64_t kernel_start;          /* load address */
	uint64_t kernel_end;            /* kernel_start + init_size (what the kernel may use) */
	uint64_t initrd_start, initrd_end;   /* both 0 without an initrd */
	uint64_t cmdline;               /* GPA of the command line */
	uint16_t version;               /* boot protocol version, e.g. 0x020f */
};

/* 1 if img looks like a bzImage: long enough to hold the setup header and "HdrS" at 0x202,
 * else 0. Says nothing about whether bz_load will take it. */
int bz_detect(const uint8_t *img, size_t len);

/* Load the bzImage img (len bytes) and, if initrd_len > 0, the initrd into mem (mem_size
 * bytes, guest memory at GPA 0, expected zeroed), write boot_params, the command line
 * (cmdline may be NULL: empty), the GDT and page tables, and describe the result in *b.
 * 0 on success; else VE_INVAL (not a bzImage, protocol older than 2.12, no 64-bit entry,
 * truncated file, header values out of range, command line longer than cmdline_size) or
 * VE_NOMEM (guest memory of 1 MiB or less, kernel init_size or initrd does not fit), with
 * the reason in err (errlen bytes, always NUL-terminated when errlen > 0). On failure mem
 * may have been partly written. */
int bz_load(struct bz_boot *b, const uint8_t *img, size_t len, const uint8_t *initrd,
	    size_t initrd_len, uint8_t *mem, uint64_t mem_size, const char *cmdline, char *err,
	    size_t errlen);

/* The register state of boot.rst's 64-bit entry: long mode, paging on (CR3 = BZ_PML4), CS =
 * 0x10 (64-bit code), DS/ES/SS/FS/GS = 0x18 (flat 4 GiB data), GDT at BZ_GDT, RSI =
 * boot_params, RIP = entry, RSP = BZ_STACK_TOP, interrupts off. For RESETCPU. */
void bz_init_state(const struct bz_boot *b, struct vcpu_reg_state *rs);

#endif
