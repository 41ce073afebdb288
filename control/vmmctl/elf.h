/* vmmctl's ELF64 loader (System V gABI): PT_LOAD segments copied to their physical
 * addresses in guest memory, with the page ranges and permissions MPROTECT_EPT should give
 * them, as Solo5's hvt does. Pure: no EFI, unit-tested with malformed files. */
#ifndef VMMCTL_ELF_H
#define VMMCTL_ELF_H

#include <stddef.h>
#include <stdint.h>

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define ELF_MAX_SEGS 8

struct elf_seg { uint64_t start, end; int prot; };   /* page range, PROT_* */

int is_elf64(const void *image, size_t len);
/* Copy the PT_LOAD segments into mem (mem_size bytes of guest memory at GPA 0); fills segs
 * and the entry point. Returns the number of segments, or -1 if the file is malformed or
 * does not fit. */
int load_elf(const uint8_t *image, size_t len, uint8_t *mem, uint64_t mem_size,
	     struct elf_seg *segs, uint64_t *entry);

#endif
