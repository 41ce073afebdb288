/* MC146818 RTC and CMOS RAM model (rtc.h). Register facts: Motorola MC146818A data sheet;
 * the memory-size bytes: IBM PC AT BIOS CMOS map (0x15-0x18, 0x30-0x31, checksum 0x2e-0x2f
 * over 0x10-0x2d) and the 0x34-0x35 / 0x5b-0x5d bytes SeaBIOS reads on QEMU. */
#include "rtc.h"

#define REG_SEC     0x00
#define REG_MIN     0x02
#define REG_HOUR    0x04
#define REG_WDAY    0x06
#define REG_MDAY    0x07
#define REG_MON     0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d
#define REG_CENTURY 0x32

#define A_UIP   0x80
#define B_SET   0x80
#define B_DM    0x04   /* 1: binary, 0: BCD */
#define B_24H   0x02
#define D_VRT   0x80
#define HOUR_PM 0x80   /* 12-hour mode */

#define A_POWER_ON 0x26   /* 32.768 kHz time base, 1024 Hz rate: what PC firmware programs */
#define B_POWER_ON B_24H

#define SECS_PER_DAY   86400u
#define DAYS_PER_400Y  146097u   /* any 400 Gregorian years hold 97 leap years */
#define YEAR_MAX       9999u

#define KIB 1024ull
#define MIB (1024ull * KIB)

static int leap(uint32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(uint32_t y, unsigned m)
{
	static const uint8_t d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return d[m - 1] + (m == 2 && leap(y));
}

void rtc_secs_to_tm(uint64_t secs, struct rtc_tm *t)
{
	uint64_t days = secs / SECS_PER_DAY, rem = secs % SECS_PER_DAY;
	uint32_t y = 1970;
	unsigned m = 1;
	t->wday = (uint8_t)((days + 4) % 7);   /* 1970-01-01 was a Thursday */
	t->hour = (uint8_t)(rem / 3600);
	t->min = (uint8_t)(rem / 60 % 60);
	t->sec = (uint8_t)(rem % 60);
	y += (uint32_t)(days / DAYS_PER_400Y * 400);
	days %= DAYS_PER_400Y;
	while (days >= 365u + leap(y))
		days -= 365u + leap(y++);
	while (days >= month_days(y, m))
		days -= month_days(y, m++);
	t->year = y;
	t->mon = (uint8_t)m;
	t->mday = (uint8_t)(days + 1);
}

uint64_t rtc_tm_to_secs(const struct rtc_tm *t)
{
	uint64_t days = 0;
	uint32_t y = 1970;
	if (t->year < 1970)
		return 0;
	days += (uint64_t)((t->year - 1970) / 400) * DAYS_PER_400Y;
	y += (t->year - 1970) / 400 * 400;
	for (; y < t->year; y++)
		days += 365u + leap(y);
	for (unsigned m = 1; m < t->mon && m <= 12; m++)
		days += month_days(y, m);
	days += t->mday ? t->mday - 1u : 0;
	return days * SECS_PER_DAY + t->hour * 3600u + t->min * 60u + t->sec;
}

/* The guest's clock now, in seconds since the epoch. */
static uint64_t now_secs(const struct rtc *r, uint64_t wall_ns)
{
	int64_t s;
	if (r->reg_b & B_SET)
		return r->frozen_s;
	s = (int64_t)(wall_ns / 1000000000u) + r->offset_s;
	return s < 0 ? 0 : (uint64_t)s;
}

static void set_secs(struct rtc *r, uint64_t secs, uint64_t wall_ns)
{
	if (r->reg_b & B_SET)
		r->frozen_s = secs;
	else
		r->offset_s = (int64_t)secs - (int64_t)(wall_ns / 1000000000u);
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	return (r->reg_b & B_DM) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* A written register value as a number: -1 if it is not valid BCD in BCD mode. */
static int dec(const struct rtc *r, uint8_t v)
{
	if (r->reg_b & B_DM)
		return v;
	if ((v & 0xf) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->reg_b & B_24H)
		return enc(r, h);
	return (uint8_t)(enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0));
}

static int dec_hour(const struct rtc *r, uint8_t v)
{
	int h;
	if (r->reg_b & B_24H)
		return dec(r, v);
	h = dec(r, v & 0x7f);
	if (h < 1 || h > 12)
		return -1;
	return h % 12 + ((v & HOUR_PM) ? 12 : 0);
}

static uint8_t read_time(const struct rtc *r, unsigned reg, uint64_t wall_ns)
{
	struct rtc_tm t;
	rtc_secs_to_tm(now_secs(r, wall_ns), &t);
	switch (reg) {
	case REG_SEC:
		return enc(r, t.sec);
	case REG_MIN:
		return enc(r, t.min);
	case REG_HOUR:
		return enc_hour(r, t.hour);
	case REG_WDAY:
		return enc(r, t.wday + 1u);   /* the chip counts 1 = Sunday */
	case REG_MDAY:
		return enc(r, t.mday);
	case REG_MON:
		return enc(r, t.mon);
	case REG_YEAR:
		return enc(r, t.year % 100);
	default:
		return enc(r, t.year / 100);
	}
}

/* Set one field of the guest's clock; an out-of-range value is ignored (the chip would
 * store it and count on from garbage). */
static void write_time(struct rtc *r, unsigned reg, uint8_t v, uint64_t wall_ns)
{
	struct rtc_tm t;
	int n = reg == REG_HOUR ? dec_hour(r, v) : dec(r, v);
	rtc_secs_to_tm(now_secs(r, wall_ns), &t);
	if (n < 0)
		return;
	switch (reg) {
	case REG_SEC:
		if (n > 59) return;
		t.sec = (uint8_t)n;
		break;
	case REG_MIN:
		if (n > 59) return;
		t.min = (uint8_t)n;
		break;
	case REG_HOUR:
		if (n > 23) return;
		t.hour = (uint8_t)n;
		break;
	case REG_MDAY:
		if (n < 1 || n > 31) return;
		t.mday = (uint8_t)n;
		break;
	case REG_MON:
		if (n < 1 || n > 12) return;
		t.mon = (uint8_t)n;
		break;
	case REG_YEAR:
		if (n > 99) return;
		t.year = t.year / 100 * 100 + (uint32_t)n;
		break;
	default:   /* century */
		if (n > 99) return;
		t.year = (uint32_t)n * 100 + t.year % 100;
		break;
	}
	/* a day past the month's end (31 written in a 30-day month) rolls over, as mktime does */
	set_secs(r, rtc_tm_to_secs(&t), wall_ns);
}

static void write_b(struct rtc *r, uint8_t v, uint64_t wall_ns)
{
	if ((v & B_SET) && !(r->reg_b & B_SET))
		r->frozen_s = now_secs(r, wall_ns);         /* updates stop: the clock freezes */
	if (!(v & B_SET) && (r->reg_b & B_SET))
		r->offset_s = (int64_t)r->frozen_s - (int64_t)(wall_ns / 1000000000u);
	r->reg_b = v;
}

static int is_time(unsigned reg)
{
	return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR || reg == REG_MDAY ||
	       reg == REG_MON || reg == REG_YEAR || reg == REG_CENTURY;
}

static uint8_t reg_read(struct rtc *r, unsigned reg, uint64_t wall_ns)
{
	if (is_time(reg) || reg == REG_WDAY)
		return read_time(r, reg, wall_ns);
	switch (reg) {
	case REG_A:
		return r->reg_a;                 /* UIP 0: never inside an update */
	case REG_B:
		return r->reg_b;
	case REG_C:
		return 0;                        /* no interrupt flags: none are modelled */
	case REG_D:
		return D_VRT;
	default:
		return r->ram[reg];
	}
}

static void reg_write(struct rtc *r, unsigned reg, uint8_t v, uint64_t wall_ns)
{
	if (is_time(reg)) {
		write_time(r, reg, v, wall_ns);
		return;
	}
	switch (reg) {
	case REG_WDAY:
	case REG_C:
	case REG_D:
		break;                           /* derived or read-only */
	case REG_A:
		r->reg_a = v & (uint8_t)~A_UIP;
		break;
	case REG_B:
		write_b(r, v, wall_ns);
		break;
	default:
		r->ram[reg] = v;
	}
}

static void put16(struct rtc *r, unsigned at, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->ram[at] = (uint8_t)v;
	r->ram[at + 1] = (uint8_t)(v >> 8);
}

/* Memory sizes where PC BIOSes keep them; the checksum covers 0x10-0x2d. */
static void fill_mem_sizes(struct rtc *r, uint64_t mem_size)
{
	uint64_t low4g = mem_size < (4096 * MIB) ? mem_size : 4096 * MIB;
	uint64_t ext_kib = mem_size > MIB ? (mem_size - MIB) / KIB : 0;
	uint64_t above16 = low4g > 16 * MIB ? (low4g - 16 * MIB) / (64 * KIB) : 0;
	uint64_t above4g = mem_size > 4096 * MIB ? (mem_size - 4096 * MIB) / (64 * KIB) : 0;
	unsigned sum = 0;
	put16(r, 0x15, 640);                 /* base memory, KiB */
	put16(r, 0x17, ext_kib);             /* extended memory above 1 MiB, KiB (max 0xffff) */
	put16(r, 0x30, ext_kib);
	put16(r, 0x34, above16);             /* above 16 MiB below 4 GiB, 64 KiB units */
	if (above4g > 0xffffff)
		above4g = 0xffffff;
	r->ram[0x5b] = (uint8_t)above4g;     /* above 4 GiB, 64 KiB units, 3 bytes */
	r->ram[0x5c] = (uint8_t)(above4g >> 8);
	r->ram[0x5d] = (uint8_t)(above4g >> 16);
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->ram[i];
	r->ram[0x2e] = (uint8_t)(sum >> 8);
	r->ram[0x2f] = (uint8_t)sum;
}

void rtc_init(struct rtc *r, uint64_t mem_size)
{
	uint8_t *p = (uint8_t *)r;
	for (unsigned i = 0; i < sizeof *r; i++)
		p[i] = 0;
	r->reg_a = A_POWER_ON;
	r->reg_b = B_POWER_ON;
	fill_mem_sizes(r, mem_size);
}

int rtc_io(struct rtc *r, uint16_t port, int in, uint32_t *data, uint64_t wall_ns)
{
	if (port == RTC_PORT_INDEX) {
		if (in) {
			*data = 0xff;
		} else {
			r->index = *data & 0x7f;
			r->nmi_masked = (*data >> 7) & 1;
		}
		return 1;
	}
	if (port != RTC_PORT_DATA)
		return 0;
	if (in)
		*data = reg_read(r, r->index, wall_ns);
	else
		reg_write(r, r->index, (uint8_t)*data, wall_ns);
	return 1;
}
