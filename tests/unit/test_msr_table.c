/* The control guest's MSR allowlist (arch/x86_64/msr.c) is sorted and non-overlapping: its
 * binary search answers, for every MSR of the populated windows, what a linear scan of this
 * transcription answers. A table out of order hides entries from the search. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../arch/x86_64/msr.h"

enum { D = MSR_DENY, P = MSR_PASS, R = MSR_READ, C = MSR_CHECK, E = MSR_EMUL };

static const struct { uint32_t first, last; int a; } table[] = {
	{ 0x0, 0x1, R }, { 0x10, 0x10, R }, { 0x1b, 0x1b, E }, { 0x2a, 0x2a, R }, { 0x35, 0x35, R },
	{ 0x3a, 0x3a, E }, { 0x3b, 0x3b, R }, { 0x48, 0x49, P }, { 0x8b, 0x8b, P }, { 0xc1, 0xc8, P }, { 0xce, 0xce, R },
	{ 0xe7, 0xe8, R }, { 0xfe, 0xfe, R }, { 0x10a, 0x10a, R }, { 0x10b, 0x10b, P },
	{ 0x174, 0x176, P }, { 0x179, 0x17b, P }, { 0x186, 0x18d, P }, { 0x198, 0x199, P },
	{ 0x19b, 0x19c, P }, { 0x1a0, 0x1a0, C }, { 0x1a2, 0x1a2, R }, { 0x1b0, 0x1b2, P },
	{ 0x1d9, 0x1d9, C }, { 0x1db, 0x1de, R }, { 0x200, 0x20f, P }, { 0x250, 0x250, P },
	{ 0x258, 0x259, P }, { 0x268, 0x26f, P }, { 0x277, 0x277, P }, { 0x280, 0x29f, P },
	{ 0x2ff, 0x2ff, P }, { 0x309, 0x30b, P }, { 0x345, 0x345, R }, { 0x38d, 0x390, P },
	{ 0x400, 0x47f, P }, { 0x6e0, 0x6e0, P }, { 0x800, 0x82f, P }, { 0x830, 0x830, E }, { 0x831, 0x8ff, P },
	{ 0xda0, 0xda0, P },
	{ 0xc0000080, 0xc0000080, E }, { 0xc0000081, 0xc0000084, P }, { 0xc0000100, 0xc0000103, P },
	{ 0xc0010000, 0xc0010007, P }, { 0xc0010010, 0xc0010010, R }, { 0xc0010015, 0xc0010015, C },
	{ 0xc0010016, 0xc001001a, R }, { 0xc001001d, 0xc001001d, R }, { 0xc001001f, 0xc001001f, R },
	{ 0xc0010055, 0xc0010055, R }, { 0xc0010058, 0xc0010058, R }, { 0xc0010061, 0xc0010061, R },
	{ 0xc0010062, 0xc0010062, P }, { 0xc0010063, 0xc001006b, R }, { 0xc00100e7, 0xc00100e8, R },
	{ 0xc0010111, 0xc0010113, R }, { 0xc0010114, 0xc0010114, E }, { 0xc0010117, 0xc0010117, E },
	{ 0xc0010131, 0xc0010131, E },
	{ 0xc0010140, 0xc0010141, R }, { 0xc0010200, 0xc001020b, P }, { 0xc0011020, 0xc0011020, P },
	{ 0xc0011029, 0xc0011029, P },
};

static int linear(uint32_t msr)
{
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
		if (msr >= table[i].first && msr <= table[i].last)
			return table[i].a;
	return D;
}

static void test_table_sorted(void **state)
{
	(void)state;
	static const uint32_t from[] = { 0, 0xc0000000, 0xc0010000, 0xfffff000 };
	for (unsigned i = 0; i < sizeof from / sizeof from[0]; i++)
		for (uint32_t m = from[i]; m - from[i] < (i == 3 ? 0x1000u : 0x2000u); m++)
			if ((int)msr_control_access(m) != linear(m))
				fail_msg("MSR %#x: %d, the table says %d", m, msr_control_access(m), linear(m));
	for (unsigned i = 1; i < sizeof table / sizeof table[0]; i++)   /* the transcription too */
		assert_true(table[i - 1].last < table[i].first && table[i].first <= table[i].last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
