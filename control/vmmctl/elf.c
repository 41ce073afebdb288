/* ELF64 loading for vmmctl (see elf.h). */
#include "elf.h"
#include "../../abi/bvmm.h"

static void copy(uint8_t *d, const uint8_t *s, uint64_t n) { while (n--) *d++ = *s++; }
static void zero(uint8_t *d, uint64_t n) { while (n--) *d++ = 0; }

/* The file's headers may sit at any byte offset (e_phoff is the file's to choose): read them
 * by copying, never through a misaligned struct pointer (C11 6.3.2.3p7: undefined). */
static void read_hdr(void *dst, const uint8_t *src, size_t n) { copy(dst, src, n); }

int is_elf64(const void *image, size_t len)
{
	struct elf64_ehdr h;
	if (len < sizeof h)
		return 0;
	read_hdr(&h, image, sizeof h);
	return h.ident[0] == 0x7f && h.ident[1] == 'E' && h.ident[2] == 'L' && h.ident[3] == 'F' &&
	       h.ident[4] == 2 /* 64-bit */ && h.machine == 62 /* x86-64 */;
}

/* One PT_LOAD segment copied and zero-filled, or -1 if it does not fit the file or memory. */
static int load_seg(const struct elf64_phdr *p, const uint8_t *image, size_t len, uint8_t *mem,
		    uint64_t mem_size, struct elf_seg *seg)
{
	if (p->filesz > p->memsz || p->offset > len || p->filesz > len - p->offset ||
	    p->paddr > mem_size || p->memsz > mem_size - p->paddr)
		return -1;
	copy(mem + p->paddr, image + p->offset, p->filesz);
	zero(mem + p->paddr + p->filesz, p->memsz - p->filesz);
	seg->start = p->paddr & ~0xfffull;
	seg->end = (p->paddr + p->memsz + 0xfff) & ~0xfffull;
	seg->prot = ((p->flags & PF_R) ? PROT_READ : 0) | ((p->flags & PF_W) ? PROT_WRITE : 0) |
		    ((p->flags & PF_X) ? PROT_EXEC : 0);
	return 0;
}

int load_elf(const uint8_t *image, size_t len, uint8_t *mem, uint64_t mem_size,
	     struct elf_seg *segs, uint64_t *entry)
{
	struct elf64_ehdr h;
	int n = 0;
	if (!is_elf64(image, len))
		return -1;
	read_hdr(&h, image, sizeof h);
	if (h.phentsize != sizeof(struct elf64_phdr) || h.phoff > len ||
	    h.phnum > (len - h.phoff) / sizeof(struct elf64_phdr))
		return -1;
	for (unsigned i = 0; i < h.phnum; i++) {
		struct elf64_phdr p;
		read_hdr(&p, image + h.phoff + i * sizeof p, sizeof p);
		if (p.type != PT_LOAD)
			continue;
		if (n == ELF_MAX_SEGS || load_seg(&p, image, len, mem, mem_size, &segs[n]))
			return -1;
		n++;
	}
	*entry = h.entry;
	return n;
}
