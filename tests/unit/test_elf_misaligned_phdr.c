/* Regression test for control/vmmctl/elf.c: a file whose e_phoff is not a multiple of 8 put
 * the program headers at a misaligned address and load_elf read them through a struct pointer
 * (undefined behaviour, UBSan: "member access within misaligned address"). Found by
 * tests/fuzz/fuzz_elf.c. The headers are now copied out byte by byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../control/vmmctl/elf.h"
#include "../../abi/bvmm.h"

static _Alignas(8) uint8_t file[4096];
static uint8_t mem[0x4000];

/* One r-x segment: 16 bytes from file offset 0x100 to 0x1000; its header at phoff. */
static size_t make_file(uint64_t phoff)
{
	struct elf64_ehdr h = { .machine = 62, .entry = 0x1000, .phoff = phoff, .ehsize = 64,
				.phentsize = sizeof(struct elf64_phdr), .phnum = 1 };
	struct elf64_phdr p = { PT_LOAD, PF_R | PF_X, 0x100, 0x1000, 0x1000, 16, 32, 0x1000 };
	memset(file, 0, sizeof file);
	memcpy(h.ident, "\x7f" "ELF\x02\x01\x01", 7);
	memcpy(file, &h, sizeof h);
	memcpy(file + phoff, &p, sizeof p);
	memset(file + 0x100, 0xc3, 16);
	return 0x200;
}

static void test_elf_misaligned_phdr(void **state)
{
	(void)state;
	for (uint64_t phoff = 64; phoff < 72; phoff++) {
		struct elf_seg segs[ELF_MAX_SEGS];
		uint64_t entry = 0;
		size_t len = make_file(phoff);
		memset(mem, 0xee, sizeof mem);
		assert_int_equal(load_elf(file, len, mem, sizeof mem, segs, &entry), 1);
		assert_int_equal(entry, 0x1000);
		assert_int_equal(segs[0].start, 0x1000);
		assert_int_equal(segs[0].end, 0x2000);
		assert_int_equal(segs[0].prot, PROT_READ | PROT_EXEC);
		assert_int_equal(mem[0x100f], 0xc3);
		assert_int_equal(mem[0x1010], 0);
		assert_int_equal(mem[0x1020], 0xee);
	}
}

/* The file itself at an odd address (a byte buffer): the ELF header is read by copying too. */
static void test_elf_misaligned_file(void **state)
{
	(void)state;
	static _Alignas(8) uint8_t shifted[4096 + 1];
	struct elf_seg segs[ELF_MAX_SEGS];
	uint64_t entry = 0;
	size_t len = make_file(64);
	memcpy(shifted + 1, file, len);
	assert_true(is_elf64(shifted + 1, len));
	assert_int_equal(load_elf(shifted + 1, len, mem, sizeof mem, segs, &entry), 1);
	assert_int_equal(entry, 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_misaligned_phdr),
		cmocka_unit_test(test_elf_misaligned_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
