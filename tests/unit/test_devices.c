/* Unit tests of vmmctl's i8259 and i8253 models (control/vmmctl/devices.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../control/vmmctl/devices.h"

static void out(struct pics *p, uint16_t port, uint32_t v) { assert_true(pic_io(p, port, 0, &v)); }

/* The usual real-mode setup: master at 0x08, slave at 0x70, only IRQ 0 unmasked. */
static void setup_pics(struct pics *p)
{
	pic_init(p);
	out(p, 0x20, 0x11); out(p, 0x21, 0x08); out(p, 0x21, 0x04); out(p, 0x21, 0x01);
	out(p, 0xa0, 0x11); out(p, 0xa1, 0x70); out(p, 0xa1, 0x02); out(p, 0xa1, 0x01);
	out(p, 0x21, 0xfe);
	out(p, 0xa1, 0xff);
}

static void test_pic_mask_ack_eoi(void **state)
{
	(void)state;
	struct pics p;
	setup_pics(&p);
	assert_false(pic_pending(&p));
	pic_raise(&p, 1);                      /* masked */
	assert_false(pic_pending(&p));
	pic_raise(&p, 0);
	assert_true(pic_pending(&p));
	assert_int_equal(pic_ack(&p), 0x08);
	assert_false(pic_pending(&p));         /* in service now */
	pic_raise(&p, 0);
	assert_false(pic_pending(&p));         /* IRQ 0 again waits for the EOI */
	out(&p, 0x20, 0x20);                   /* non-specific EOI */
	assert_true(pic_pending(&p));
	assert_int_equal(pic_ack(&p), 0x08);
	uint32_t v = 0;
	assert_true(pic_io(&p, 0x21, 1, &v));
	assert_int_equal(v, 0xfe);             /* IMR reads back */
	assert_int_equal(pic_ack(&p), -1);
	assert_false(pic_io(&p, 0x60, 1, &v)); /* not a PIC port */
}

static void test_pic_priority_and_slave(void **state)
{
	(void)state;
	struct pics p;
	setup_pics(&p);
	out(&p, 0x21, 0x00);                   /* all master IRQs */
	out(&p, 0xa1, 0x00);
	pic_raise(&p, 3);
	assert_int_equal(pic_ack(&p), 0x0b);
	pic_raise(&p, 5);                      /* lower priority than 3 in service */
	assert_false(pic_pending(&p));
	pic_raise(&p, 1);                      /* higher: nests */
	assert_int_equal(pic_ack(&p), 0x09);
	out(&p, 0x20, 0x20);                   /* EOI for 1 */
	out(&p, 0x20, 0x20);                   /* EOI for 3 */
	assert_int_equal(pic_ack(&p), 0x0d);   /* 5 */
	out(&p, 0x20, 0x65);                   /* specific EOI for 5 */
	pic_raise(&p, 12);                     /* slave IRQ 4 via the cascade */
	assert_int_equal(pic_ack(&p), 0x74);
}

static void test_pit_periodic(void **state)
{
	(void)state;
	struct pics p;
	struct i8253 t;
	setup_pics(&p);
	pit_init(&t, 1193182);                 /* TSC at the PIT's rate: 1 tick = 1 count */
	uint32_t v = 0x34;
	assert_true(pit_io(&t, 0x43, 0, &v, 1000));
	v = 11932 & 0xff;
	pit_io(&t, 0x40, 0, &v, 1000);
	assert_false(t.running);               /* waits for the MSB */
	v = 11932 >> 8;
	pit_io(&t, 0x40, 0, &v, 1000);
	assert_true(t.running);
	pit_tick(&t, &p, 1000 + 11931);
	assert_false(pic_pending(&p));
	pit_tick(&t, &p, 1000 + 11932);
	assert_int_equal(pic_ack(&p), 0x08);
	out(&p, 0x20, 0x20);
	/* three periods late: one interrupt, the next deadline in the future */
	pit_tick(&t, &p, 1000 + 4 * 11932 + 5);
	assert_int_equal(pic_ack(&p), 0x08);
	assert_int_equal(pic_ack(&p), -1);
	assert_true(t.next_tsc > 1000 + 4 * 11932 + 5);
	/* latch and read the count: LSB then MSB */
	v = 0x00;
	pit_io(&t, 0x43, 0, &v, t.next_tsc - 100);
	uint32_t lo = 0, hi = 0;
	pit_io(&t, 0x40, 1, &lo, 0);
	pit_io(&t, 0x40, 1, &hi, 0);
	assert_int_equal(lo | (hi << 8), 100);
}

static void test_pit_one_shot(void **state)
{
	(void)state;
	struct pics p;
	struct i8253 t;
	setup_pics(&p);
	pit_init(&t, 1193182 * 2);             /* TSC twice as fast */
	uint32_t v = 0x30;                     /* mode 0, lo/hi */
	pit_io(&t, 0x43, 0, &v, 0);
	v = 100;
	pit_io(&t, 0x40, 0, &v, 0);
	v = 0;
	pit_io(&t, 0x40, 0, &v, 0);
	pit_tick(&t, &p, 199);
	assert_false(pic_pending(&p));
	pit_tick(&t, &p, 200);
	assert_int_equal(pic_ack(&p), 0x08);
	out(&p, 0x20, 0x20);
	pit_tick(&t, &p, 10000);
	assert_false(pic_pending(&p));         /* one shot only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pic_mask_ack_eoi),
		cmocka_unit_test(test_pic_priority_and_slave),
		cmocka_unit_test(test_pit_periodic),
		cmocka_unit_test(test_pit_one_shot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
