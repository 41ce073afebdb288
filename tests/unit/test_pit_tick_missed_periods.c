/* Regression test for control/vmmctl/devices.c pit_tick: after a long gap a periodic PIT
 * caught up one period per loop iteration, so a short period (reload 1, or a small TSC rate)
 * and a large `now` step took (gap / period) iterations: hours for a 2^40-tick gap. Found by
 * tests/fuzz/fuzz_devices.c (libFuzzer timeout). The next deadline is now computed in one
 * step; these tests fail by alarm if it loops again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../control/vmmctl/devices.h"

#define PIT_HZ 1193182ull

/* Channel 0, mode 2 (rate generator), LSB then MSB, reload given. */
static void program(struct i8253 *t, uint16_t reload, uint64_t now)
{
	uint32_t v = 0x34;
	pit_io(t, 0x43, 0, &v, now);
	v = reload & 0xff;
	pit_io(t, 0x40, 0, &v, now);
	v = reload >> 8;
	pit_io(t, 0x40, 0, &v, now);
}

static void test_pit_tick_long_gap(void **state)
{
	(void)state;
	struct i8253 t;
	struct pics p;
	alarm(10);
	pic_init(&p);
	pit_init(&t, PIT_HZ);   /* one TSC tick per PIT tick: period = reload */
	program(&t, 1, 1000);
	assert_int_equal(t.period_tsc, 1);
	uint64_t now = 1000 + (1ull << 40) + 5;
	pit_tick(&t, &p, now);
	assert_true(p.m.irr & 1);              /* one IRQ 0 raised, the rest dropped */
	assert_int_equal(t.next_tsc, now + 1);
	assert_true(t.running);
	alarm(0);
}

static void test_pit_tick_deadline_exact(void **state)
{
	(void)state;
	struct i8253 t;
	struct pics p;
	pic_init(&p);
	pit_init(&t, PIT_HZ * 10);   /* period = 10 * reload */
	program(&t, 100, 0);
	assert_int_equal(t.period_tsc, 1000);
	assert_int_equal(t.next_tsc, 1000);
	pit_tick(&t, &p, 999);                 /* not yet due */
	assert_int_equal(t.next_tsc, 1000);
	assert_false(p.m.irr & 1);
	pit_tick(&t, &p, 1000);                /* due exactly: next is one period on */
	assert_int_equal(t.next_tsc, 2000);
	assert_true(p.m.irr & 1);
	pit_tick(&t, &p, 4500);                /* 2.5 periods late: the next after 4500 */
	assert_int_equal(t.next_tsc, 5000);
	pit_tick(&t, &p, 5999);
	assert_int_equal(t.next_tsc, 6000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pit_tick_long_gap),
		cmocka_unit_test(test_pit_tick_deadline_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
