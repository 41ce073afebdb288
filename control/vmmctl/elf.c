/* ELF64 loading for vmmctl (see elf.h). */
#include "elf.h"
#include "../../abi/bvmm.h"

static void copy(uint8_t *d, const uint8_t *s, uint64_t n) { while (n--) *d++ = *s++; }
static void zero(uint8_t *d, uint64_t n) { while (n--) *d++ = 0; }

int is_elf64(const void *image, size_t len)
{
	const struct elf64_ehdr *h = image;
	return len >= sizeof *h && h->ident[0] == 0x7f && h->ident[1] == 'E' && h->ident[2] == 'L' &&
	       h->ident[3] == 'F' && h->ident[4] == 2 /* 64-bit */ && h->machine == 62 /* x86-64 */;
}

int load_elf(const uint8_t *image, size_t len, uint8_t *mem, uint64_t mem_size,
	     struct elf_seg *segs, uint64_t *entry)
{
	const struct elf64_ehdr *h = (const void *)image;
	int n = 0;
	if (!is_elf64(image, len) || h->phentsize != sizeof(struct elf64_phdr) || h->phoff > len ||
	    h->phnum > (len - h->phoff) / sizeof(struct elf64_phdr))
		return -1;
	for (unsigned i = 0; i < h->phnum; i++) {
		const struct elf64_phdr *p = (const void *)(image + h->phoff + i * sizeof *p);
		if (p->type != PT_LOAD)
			continue;
		if (n == ELF_MAX_SEGS || p->filesz > p->memsz || p->offset > len ||
		    p->filesz > len - p->offset || p->paddr > mem_size || p->memsz > mem_size - p->paddr)
			return -1;
		copy(mem + p->paddr, image + p->offset, p->filesz);
		zero(mem + p->paddr + p->filesz, p->memsz - p->filesz);
		segs[n].start = p->paddr & ~0xfffull;
		segs[n].end = (p->paddr + p->memsz + 0xfff) & ~0xfffull;
		segs[n].prot = ((p->flags & PF_R) ? PROT_READ : 0) | ((p->flags & PF_W) ? PROT_WRITE : 0) |
			       ((p->flags & PF_X) ? PROT_EXEC : 0);
		n++;
	}
	*entry = h->entry;
	return n;
}
