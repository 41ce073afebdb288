/* Unit tests of vmmctl's MC146818 model (control/vmmctl/rtc.c): calendar conversion of known
 * timestamps (leap years, 2100, 2038, 9999), BCD/binary and 12/24-hour encodings, setting
 * the clock with and without B.SET, registers A-D, CMOS RAM and the memory sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../control/vmmctl/rtc.h"

#define NS 1000000000ull

static uint32_t rd(struct rtc *r, uint8_t reg, uint64_t wall_s)
{
	uint32_t v = reg;
	assert_true(rtc_io(r, 0x70, 0, &v, wall_s * NS));
	v = 0xdeadbeef;
	assert_true(rtc_io(r, 0x71, 1, &v, wall_s * NS));
	assert_true(v <= 0xff);
	return v;
}

static void wr(struct rtc *r, uint8_t reg, uint32_t val, uint64_t wall_s)
{
	uint32_t v = reg;
	assert_true(rtc_io(r, 0x70, 0, &v, wall_s * NS));
	assert_true(rtc_io(r, 0x71, 0, &val, wall_s * NS));
}

struct known { uint64_t secs; uint32_t year; uint8_t mon, mday, hour, min, sec, wday; };

static const struct known known[] = {
	{ 0, 1970, 1, 1, 0, 0, 0, 4 },
	{ 951782400, 2000, 2, 29, 0, 0, 0, 2 },          /* 2000: divisible by 400, leap */
	{ 951868799, 2000, 2, 29, 23, 59, 59, 2 },
	{ 1234567890, 2009, 2, 13, 23, 31, 30, 5 },
	{ 1700000000, 2023, 11, 14, 22, 13, 20, 2 },
	{ 1709164800, 2024, 2, 29, 0, 0, 0, 4 },
	{ 2147483648, 2038, 1, 19, 3, 14, 8, 2 },        /* past 32-bit time_t */
	{ 4107542399, 2100, 2, 28, 23, 59, 59, 0 },      /* 2100: not leap */
	{ 4107542400, 2100, 3, 1, 0, 0, 0, 1 },
	{ 253402300799, 9999, 12, 31, 23, 59, 59, 5 },
};

static void test_calendar(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof known / sizeof known[0]; i++) {
		const struct known *k = &known[i];
		struct rtc_tm t;
		rtc_secs_to_tm(k->secs, &t);
		assert_int_equal(t.year, k->year);
		assert_int_equal(t.mon, k->mon);
		assert_int_equal(t.mday, k->mday);
		assert_int_equal(t.hour, k->hour);
		assert_int_equal(t.min, k->min);
		assert_int_equal(t.sec, k->sec);
		assert_int_equal(t.wday, k->wday);
		assert_int_equal(rtc_tm_to_secs(&t), k->secs);
	}
	/* round trip over four centuries, a day and a bit at a time */
	for (uint64_t s = 0; s < 12700000000ull; s += 86400 * 3 + 3607) {
		struct rtc_tm t;
		rtc_secs_to_tm(s, &t);
		assert_int_equal(rtc_tm_to_secs(&t), s);
	}
	struct rtc_tm before = { 1969, 12, 31, 23, 59, 59, 0 };
	assert_int_equal(rtc_tm_to_secs(&before), 0);
}

/* Linux's mc146818_get_time on x86 reads BCD, 24 hours. */
static void test_read_bcd_24h(void **state)
{
	(void)state;
	struct rtc r;
	uint64_t now = 1700000000;                /* 2023-11-14 22:13:20, Tuesday */
	rtc_init(&r, 256ull << 20);
	assert_int_equal(rd(&r, 0x0b, now), 0x02);
	assert_int_equal(rd(&r, 0x0a, now) & 0x80, 0);   /* UIP clear */
	assert_int_equal(rd(&r, 0x00, now), 0x20);
	assert_int_equal(rd(&r, 0x02, now), 0x13);
	assert_int_equal(rd(&r, 0x04, now), 0x22);
	assert_int_equal(rd(&r, 0x06, now), 0x03);       /* 1 = Sunday */
	assert_int_equal(rd(&r, 0x07, now), 0x14);
	assert_int_equal(rd(&r, 0x08, now), 0x11);
	assert_int_equal(rd(&r, 0x09, now), 0x23);
	assert_int_equal(rd(&r, 0x32, now), 0x20);
	assert_int_equal(rd(&r, 0x00, now + 39), 0x59);  /* the clock runs with the wall clock */
	assert_int_equal(rd(&r, 0x02, now + 40), 0x14);
	assert_int_equal(rd(&r, 0x0d, now), 0x80);       /* VRT */
	assert_int_equal(rd(&r, 0x0c, now), 0);
}

static void test_binary_12h(void **state)
{
	(void)state;
	struct rtc r;
	uint64_t now = 1700000000;
	rtc_init(&r, 0);
	wr(&r, 0x0b, 0x04, now);                  /* binary, 12-hour */
	assert_int_equal(rd(&r, 0x04, now), 0x80 | 10);  /* 10 PM */
	assert_int_equal(rd(&r, 0x02, now), 13);
	assert_int_equal(rd(&r, 0x09, now), 23);
	assert_int_equal(rd(&r, 0x32, now), 20);
	wr(&r, 0x0b, 0x00, now);                  /* BCD, 12-hour */
	assert_int_equal(rd(&r, 0x04, now), 0x80 | 0x10);
	assert_int_equal(rd(&r, 0x04, 1699920000), 0x12);       /* 00:00 is 12 AM */
	assert_int_equal(rd(&r, 0x04, 1699920000 + 43200), 0x92); /* 12:00 is 12 PM */
	assert_int_equal(rd(&r, 0x04, 1699920000 + 3600), 0x01);
}

/* hwclock --systohc: B.SET, write the fields, clear B.SET; the clock then runs on. */
static void test_set_clock(void **state)
{
	(void)state;
	struct rtc r;
	uint64_t now = 1700000000;
	rtc_init(&r, 0);
	wr(&r, 0x0b, 0x82, now);                  /* SET, 24h, BCD */
	wr(&r, 0x09, 0x24, now);
	wr(&r, 0x08, 0x02, now);
	wr(&r, 0x07, 0x29, now);
	wr(&r, 0x04, 0x23, now);
	wr(&r, 0x02, 0x59, now);
	wr(&r, 0x00, 0x58, now);
	assert_int_equal(rd(&r, 0x00, now + 100), 0x58); /* frozen while SET */
	wr(&r, 0x0b, 0x02, now + 100);
	assert_int_equal(rd(&r, 0x00, now + 101), 0x59);
	assert_int_equal(rd(&r, 0x00, now + 102), 0x00);
	assert_int_equal(rd(&r, 0x02, now + 102), 0x00);
	assert_int_equal(rd(&r, 0x04, now + 102), 0x00);
	assert_int_equal(rd(&r, 0x07, now + 102), 0x01);
	assert_int_equal(rd(&r, 0x08, now + 102), 0x03);  /* 2024-02-29 -> 03-01 */
	assert_int_equal(rd(&r, 0x06, now + 102), 0x06);  /* Friday */
	/* without SET: one field at a time, the rest keeps running */
	wr(&r, 0x32, 0x21, now + 200);
	assert_int_equal(rd(&r, 0x32, now + 200), 0x21);
	assert_int_equal(rd(&r, 0x09, now + 200), 0x24);
	/* invalid values are ignored: bad BCD, month 13, hour 24, 12h hour 0 */
	wr(&r, 0x02, 0x5a, now + 200);
	wr(&r, 0x08, 0x13, now + 200);
	wr(&r, 0x04, 0x24, now + 200);
	assert_int_equal(rd(&r, 0x08, now + 200), 0x03);
	assert_int_equal(rd(&r, 0x04, now + 200), 0x00);
	wr(&r, 0x0b, 0x00, now + 200);
	wr(&r, 0x04, 0x00, now + 200);
	wr(&r, 0x04, 0x91, now + 200);            /* 11 PM */
	wr(&r, 0x0b, 0x02, now + 200);
	assert_int_equal(rd(&r, 0x04, now + 200), 0x23);
	/* the day of week is derived: writes ignored */
	wr(&r, 0x06, 0x02, now + 200);
	assert_int_equal(rd(&r, 0x06, now + 200), 0x04);  /* 2124-03-01: Wednesday */
	/* a year before the epoch floors at 1970 */
	wr(&r, 0x32, 0x19, now + 200);
	wr(&r, 0x09, 0x00, now + 200);
	assert_int_equal(rd(&r, 0x09, now + 200), 0x70);
}

static void test_regs_and_ram(void **state)
{
	(void)state;
	struct rtc r;
	uint32_t v;
	rtc_init(&r, 256ull << 20);
	assert_int_equal(rd(&r, 0x0a, 0), 0x26);
	wr(&r, 0x0a, 0xa0, 0);                    /* UIP is read-only */
	assert_int_equal(rd(&r, 0x0a, 0), 0x20);
	wr(&r, 0x0c, 0xff, 0);
	assert_int_equal(rd(&r, 0x0c, 0), 0);
	wr(&r, 0x0d, 0x00, 0);
	assert_int_equal(rd(&r, 0x0d, 0), 0x80);
	for (unsigned i = 0x0e; i < 0x80; i++) {
		if (i == 0x32)
			continue;
		wr(&r, (uint8_t)i, i ^ 0xa5, 0);
		assert_int_equal(rd(&r, (uint8_t)i, 0), i ^ 0xa5);
	}
	wr(&r, 0x01, 0x30, 0);                    /* alarm seconds: storage */
	assert_int_equal(rd(&r, 0x01, 0), 0x30);
	/* index bit 7 masks NMI and selects the same register */
	v = 0x80 | 0x0d;
	assert_true(rtc_io(&r, 0x70, 0, &v, 0));
	assert_int_equal(r.nmi_masked, 1);
	assert_true(rtc_io(&r, 0x71, 1, &v, 0));
	assert_int_equal(v, 0x80);
	assert_true(rtc_io(&r, 0x70, 1, &v, 0));
	assert_int_equal(v, 0xff);
	v = 0x55;
	assert_false(rtc_io(&r, 0x72, 1, &v, 0));
	assert_false(rtc_io(&r, 0x6f, 0, &v, 0));
	assert_int_equal(v, 0x55);
}

static void test_mem_sizes(void **state)
{
	(void)state;
	struct rtc r;
	unsigned sum = 0;
	rtc_init(&r, 256ull << 20);
	assert_int_equal(rd(&r, 0x15, 0) | rd(&r, 0x16, 0) << 8, 640);
	assert_int_equal(rd(&r, 0x17, 0) | rd(&r, 0x18, 0) << 8, 0xffff);   /* capped */
	assert_int_equal(rd(&r, 0x30, 0) | rd(&r, 0x31, 0) << 8, 0xffff);
	assert_int_equal(rd(&r, 0x34, 0) | rd(&r, 0x35, 0) << 8, (240u << 20) >> 16);
	assert_int_equal(rd(&r, 0x5b, 0) | rd(&r, 0x5c, 0) | rd(&r, 0x5d, 0), 0);
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += rd(&r, (uint8_t)i, 0);
	assert_int_equal(rd(&r, 0x2e, 0) << 8 | rd(&r, 0x2f, 0), sum);
	rtc_init(&r, 32ull << 20);
	assert_int_equal(rd(&r, 0x17, 0) | rd(&r, 0x18, 0) << 8, 31 * 1024);
	assert_int_equal(rd(&r, 0x34, 0) | rd(&r, 0x35, 0) << 8, 256);
	rtc_init(&r, 6ull << 30);
	assert_int_equal(rd(&r, 0x34, 0) | rd(&r, 0x35, 0) << 8, 0xff00);
	assert_int_equal(rd(&r, 0x5b, 0) | rd(&r, 0x5c, 0) << 8 | rd(&r, 0x5d, 0) << 16,
			 (2u << 30) >> 16);
	rtc_init(&r, 512 << 10);                  /* under 1 MiB: no extended memory */
	assert_int_equal(rd(&r, 0x17, 0) | rd(&r, 0x18, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_read_bcd_24h),
		cmocka_unit_test(test_binary_12h),
		cmocka_unit_test(test_set_clock),
		cmocka_unit_test(test_regs_and_ram),
		cmocka_unit_test(test_mem_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
