/* Unit tests of vmmctl's ELF64 loader (control/vmmctl/elf.c): segments copied and zero-filled,
 * page ranges and permissions, and every malformed or oversized file refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../control/vmmctl/elf.h"
#include "../../abi/bvmm.h"

#define MEM (64u * 1024)
static uint8_t file[8192], mem[MEM];
static struct elf64_ehdr *eh = (void *)file;
static struct elf64_phdr *ph = (void *)(file + 64);

/* Two segments: text (r-x) at 0x1000 from file offset 0x1000, data (rw-) at 0x2100 with a
 * .bss tail. */
static void good(void)
{
	memset(file, 0, sizeof file);
	memset(mem, 0xee, sizeof mem);
	memcpy(eh->ident, "\x7f" "ELF\x02", 5);
	eh->machine = 62;
	eh->entry = 0x1000;
	eh->phoff = 64;
	eh->phentsize = sizeof(struct elf64_phdr);
	eh->phnum = 3;
	ph[0] = (struct elf64_phdr){ PT_LOAD, PF_R | PF_X, 0x1000, 0x1000, 0x1000, 0x10, 0x10, 0x1000 };
	ph[1] = (struct elf64_phdr){ 4 /* PT_NOTE */, 0, 0, 0, 0, 0, 0, 0 };
	ph[2] = (struct elf64_phdr){ PT_LOAD, PF_R | PF_W, 0x1800, 0x2100, 0x2100, 0x8, 0x20, 0x1000 };
	memset(file + 0x1000, 0xc3, 0x10);
	memset(file + 0x1800, 0x5a, 0x8);
}

static void test_load(void **state)
{
	(void)state;
	struct elf_seg segs[ELF_MAX_SEGS];
	uint64_t entry = 0;
	good();
	assert_true(is_elf64(file, sizeof file));
	assert_int_equal(load_elf(file, sizeof file, mem, MEM, segs, &entry), 2);
	assert_int_equal(entry, 0x1000);
	assert_int_equal(mem[0x1000], 0xc3);
	assert_int_equal(mem[0x100f], 0xc3);
	assert_int_equal(mem[0x1010], 0xee);           /* untouched past memsz */
	assert_int_equal(mem[0x2107], 0x5a);
	assert_int_equal(mem[0x2108], 0);              /* .bss zeroed to memsz */
	assert_int_equal(mem[0x211f], 0);
	assert_int_equal(mem[0x2120], 0xee);
	assert_int_equal(segs[0].start, 0x1000);
	assert_int_equal(segs[0].end, 0x2000);
	assert_int_equal(segs[0].prot, PROT_READ | PROT_EXEC);
	assert_int_equal(segs[1].start, 0x2000);
	assert_int_equal(segs[1].end, 0x3000);
	assert_int_equal(segs[1].prot, PROT_READ | PROT_WRITE);
}

static void expect_refused(void)
{
	struct elf_seg segs[ELF_MAX_SEGS];
	uint64_t entry;
	assert_int_equal(load_elf(file, sizeof file, mem, MEM, segs, &entry), -1);
}

static void test_malformed(void **state)
{
	(void)state;
	good(); file[4] = 1;                 expect_refused();   /* 32-bit */
	good(); eh->machine = 3;             expect_refused();   /* i386 */
	good(); eh->phentsize = 32;          expect_refused();
	good(); eh->phoff = sizeof file + 1; expect_refused();
	good(); eh->phnum = 200;             expect_refused();   /* table past the file */
	good(); ph[0].filesz = 0x20; ph[0].memsz = 0x10; expect_refused();
	good(); ph[0].offset = sizeof file - 4;          expect_refused();   /* data past the file */
	good(); ph[0].offset = ~0ull;                    expect_refused();
	good(); ph[2].paddr = MEM - 0x10;                expect_refused();   /* past guest memory */
	good(); ph[2].paddr = ~0ull - 4;                 expect_refused();   /* wraps */
	good(); ph[2].memsz = ~0ull;                     expect_refused();
	good();
	for (int i = 0; i < 9; i++)
		ph[i] = ph[0];
	eh->phnum = 9;                       expect_refused();   /* more than ELF_MAX_SEGS */
	assert_false(is_elf64(file, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
