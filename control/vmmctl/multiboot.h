/* vmmctl's Multiboot v1 loader (Multiboot Specification 0.6.96): finds the header, loads the
 * kernel by its address fields (flag 16) or its ELF32/ELF64 program headers, builds the
 * information structure, memory map and modules in guest memory, and gives the entry state.
 * Pure: guest memory is a buffer at GPA 0.
 *
 * Guest-physical layout it builds (the kernel must not load over the first two):
 *   0x8000  info structure (128 bytes), 0x8080 memory map (3 or 4 entries of 24 bytes),
 *   0x8100  module structures (16 bytes each, at most MB_MAX_MODS),
 *   0x8200  strings: boot loader name, command line, module command lines (up to 0x9f000);
 *   modules: page-aligned, from the first page above the kernel's last byte (bss included)
 *            but never below 1 MiB.
 * 0x0-0x7fff and 0x9f000-0xfffff are left alone (the core may use them).
 * Memory map: 0-0x9fc00 available, 0x9fc00-0xa0000 reserved, 0xf0000-0x100000 reserved,
 * 0x100000-mem_size available. */
#ifndef VMMCTL_MULTIBOOT_H
#define VMMCTL_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "../../abi/bvmm.h"

#define MB_HEADER_MAGIC     0x1badb002u
#define MB_BOOTLOADER_MAGIC 0x2badb002u   /* EAX at entry */
#define MB_SEARCH           8192          /* the header is within the image's first 8 KiB */

/* Header flags */
#define MB_HF_PAGE_ALIGN  (1u << 0)
#define MB_HF_MEMORY_INFO (1u << 1)
#define MB_HF_VIDEO_MODE  (1u << 2)
#define MB_HF_AOUT_KLUDGE (1u << 16)

/* Information structure flags */
#define MB_IF_MEMORY   (1u << 0)
#define MB_IF_CMDLINE  (1u << 2)
#define MB_IF_MODS     (1u << 3)
#define MB_IF_MMAP     (1u << 6)
#define MB_IF_LOADER   (1u << 9)

/* Where the loader puts its structures (see above). */
#define MB_INFO_ADDR    0x8000u
#define MB_MMAP_ADDR    0x8080u
#define MB_MODS_ADDR    0x8100u
#define MB_STRINGS_ADDR 0x8200u
#define MB_LOW_END      0x9f000u
#define MB_MAX_MODS     16

/* The information structure, as far as the fields vmmctl fills (offsets in the spec). */
struct mb_info {
	uint32_t flags;              /* 0 */
	uint32_t mem_lower;          /* 4: KiB from 0 */
	uint32_t mem_upper;          /* 8: KiB from 1 MiB */
	uint32_t boot_device;        /* 12 */
	uint32_t cmdline;            /* 16 */
	uint32_t mods_count;         /* 20 */
	uint32_t mods_addr;          /* 24 */
	uint32_t syms[4];            /* 28 */
	uint32_t mmap_length;        /* 44 */
	uint32_t mmap_addr;          /* 48 */
	uint32_t drives_length;      /* 52 */
	uint32_t drives_addr;        /* 56 */
	uint32_t config_table;       /* 60 */
	uint32_t boot_loader_name;   /* 64 */
	uint32_t apm_table;          /* 68 */
	uint8_t vbe_fb[48];          /* 72: VBE and framebuffer fields, unused */
};
_Static_assert(sizeof(struct mb_info) == 120, "mb_info");

struct mb_mod_entry {
	uint32_t mod_start, mod_end, string, reserved;
};
_Static_assert(sizeof(struct mb_mod_entry) == 16, "mb_mod_entry");

struct mb_mmap_entry {
	uint32_t size;               /* 20: the bytes after this field */
	uint32_t base_lo, base_hi;   /* 4-byte aligned 64-bit fields, as the spec lays them out */
	uint32_t len_lo, len_hi;
	uint32_t type;               /* 1 available, 2 reserved */
};
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "mb_mmap_entry");

struct mb_module {
	const uint8_t *data;
	size_t len;
	const char *cmdline;         /* NULL: an empty string */
};

struct mb_boot {
	uint32_t entry;              /* physical entry point */
	uint32_t info;               /* physical address of the information structure (EBX) */
	uint32_t kernel_start;       /* lowest and one past the highest byte the kernel occupies */
	uint32_t kernel_end;
	uint32_t mods_end;           /* one past the last module byte, kernel_end if none */
};

/* 1 if img holds a Multiboot v1 header (magic and checksum) in its first 8 KiB, else 0. */
int mb_detect(const uint8_t *img, size_t len);

/* Load img into mem (mem_size bytes at GPA 0, assumed zeroed) with the command line and
 * nmods modules, fill b. 0, or -1 with the reason in err. */
int mb_load(struct mb_boot *b, const uint8_t *img, size_t len, uint8_t *mem, uint64_t mem_size,
	    const char *cmdline, const struct mb_module *mods, int nmods, char *err, size_t errlen);

/* The machine state at entry (spec section 3.2): 32-bit flat protected mode, paging off,
 * EFLAGS.IF and VM clear, EAX = 0x2badb002, EBX = the information structure. */
void mb_init_state(const struct mb_boot *b, struct vcpu_reg_state *rs);

#endif
