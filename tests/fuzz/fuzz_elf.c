/* libFuzzer harness for control/vmmctl/elf.c: the input is the ELF file. Oracles: accepted
 * segments lie inside guest memory (an exact-size buffer under ASan), page ranges are ordered
 * and aligned, permissions are PROT_* bits, and bytes outside the segments stay untouched. */
#include <string.h>
#include "fuzz_input.h"
#include "../../control/vmmctl/elf.h"
#include "../../abi/bvmm.h"

#define FILL 0xee

/* The segments' memory ranges again, from the (aligned) program headers. */
static int in_some_segment(const uint8_t *img, size_t len, uint64_t a)
{
	struct elf64_ehdr h;
	memcpy(&h, img, sizeof h);
	for (unsigned i = 0; i < h.phnum; i++) {
		struct elf64_phdr p;
		if (h.phoff + (i + 1) * sizeof p > len)
			break;
		memcpy(&p, img + h.phoff + i * sizeof p, sizeof p);
		if (p.type == PT_LOAD && a >= p.paddr && a - p.paddr < p.memsz)
			return 1;
	}
	return 0;
}

static void check_loaded(const uint8_t *img, size_t len, const uint8_t *mem, uint64_t mem_size,
			 const struct elf_seg *segs, int n)
{
	FUZZ_CHECK(n >= 0 && n <= ELF_MAX_SEGS);
	uint64_t limit = (mem_size + 0xfff) & ~0xfffull;
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(segs[i].start % 4096 == 0 && segs[i].end % 4096 == 0);
		FUZZ_CHECK(segs[i].start <= segs[i].end && segs[i].end <= limit);
		FUZZ_CHECK(!(segs[i].prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)));
	}
	/* Bytes no PT_LOAD segment covers still hold the fill (sampled to keep runs short). */
	for (uint64_t a = 0; a < mem_size; a += 61)
		if (mem[a] != FILL)
			FUZZ_CHECK(in_some_segment(img, len, a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[4] = { 0x10000, 0x4000, 0x1000, 0x10000 - 100 };
	if (size < 1)
		return 0;
	uint64_t mem_size = sizes[data[0] & 3];
	size_t len = size - 1;
	/* An 8-byte aligned copy of the file, as vmmctl's pool allocation gives it. */
	uint8_t *img = aligned_alloc(8, (len + 7) & ~(size_t)7 ? (len + 7) & ~(size_t)7 : 8);
	uint8_t *mem = malloc(mem_size);
	FUZZ_CHECK(img && mem);
	memcpy(img, data + 1, len);
	memset(mem, FILL, mem_size);
	struct elf_seg segs[ELF_MAX_SEGS];
	uint64_t entry = 0;
	int n = load_elf(img, len, mem, mem_size, segs, &entry);
	FUZZ_CHECK(n >= -1);
	FUZZ_CHECK(n == -1 || is_elf64(img, len));
	if (n >= 0)
		check_loaded(img, len, mem, mem_size, segs, n);
	free(img);
	free(mem);
	return 0;
}
