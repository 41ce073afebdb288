/* libFuzzer harness for control/vmmctl/devices.c: the i8259 pair and the i8253 under random
 * port I/O, IRQs, acknowledgements and TSC steps. Oracles: ports claimed exactly as the
 * models document, vectors from the programmed bases, pending agrees with ack, chip and
 * timer state stay within their encodings, and a periodic timer never lags behind `now`. */
#include <string.h>
#include "fuzz_input.h"
#include "../../control/vmmctl/devices.h"

static void check_chip(const struct i8259 *c)
{
	FUZZ_CHECK(c->icw_step <= 3 && c->icw4 <= 1 && (c->base & 7) == 0);
}

static void check_pit(const struct i8253 *t)
{
	FUZZ_CHECK(t->latched <= 2 && t->access <= 3 && t->mode <= 7 && t->lsb_next <= 1);
	FUZZ_CHECK(!t->running || t->period_tsc >= 1);
}

static void op_pic_io(struct fin *f, struct pics *p)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1 };
	uint8_t k = fin_u8(f);
	uint16_t port = k & 0x80 ? fin_u16(f) : ports[k & 3];
	uint32_t data = fin_u8(f) & 1 ? fin_u32(f) : fin_u8(f);
	int in = (k >> 2) & 1, ours = (port & ~1u) == 0x20 || (port & ~1u) == 0xa0;
	FUZZ_CHECK(pic_io(p, port, in, &data) == ours);
	if (in && ours)
		FUZZ_CHECK(data <= 0xff);
}

static void op_ack(struct pics *p)
{
	struct pics before = *p;
	int pending = pic_pending(p), v = pic_ack(p);
	FUZZ_CHECK(pending == (v != -1));
	if (v < 0) {
		FUZZ_CHECK(memcmp(&before, p, sizeof before) == 0);
		return;
	}
	int from_m = v >= before.m.base && v < before.m.base + 8;
	int from_s = v >= before.s.base && v < before.s.base + 8;
	FUZZ_CHECK(from_m || from_s);
	FUZZ_CHECK(p->m.isr != before.m.isr);   /* the master took something into service */
}

static void op_pit_io(struct fin *f, struct i8253 *t, uint64_t now)
{
	uint8_t k = fin_u8(f);
	uint16_t port = k & 0x80 ? fin_u16(f) : (uint16_t)(0x40 + (k & 3));
	uint32_t data = fin_u8(f);
	int in = (k >> 2) & 1;
	FUZZ_CHECK(pit_io(t, port, in, &data, now) == (port >= 0x40 && port <= 0x43));
	if (in && port == 0x40)
		FUZZ_CHECK(data <= 0xff);
}

static void op_tick(struct i8253 *t, struct pics *p, uint64_t now)
{
	int periodic = t->running && (t->mode == 2 || t->mode == 3 || t->mode == 6 || t->mode == 7);
	int due = t->running && now >= t->next_tsc;
	uint8_t irr = p->m.irr;
	pit_tick(t, p, now);
	if (due)
		FUZZ_CHECK(p->m.irr & 1);
	else
		FUZZ_CHECK(p->m.irr == irr);
	if (due && periodic)
		FUZZ_CHECK(t->running && t->next_tsc > now);   /* missed periods dropped */
}

/* A TSC step: small, a few seconds, or anything (the models must not care). */
static uint64_t step(struct fin *f)
{
	uint8_t k = fin_u8(f);
	return k & 0x80 ? fin_u64(f) >> (k & 63) : k & 0x40 ? fin_u32(f) : fin_u16(f);
}

/* TSC values stay below 2^62 (fifty years at 3 GHz), where deadlines cannot wrap. */
static uint64_t advance(uint64_t now, uint64_t by)
{
	const uint64_t max = 1ull << 62;
	return by > max - now ? max : now + by;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = { data, size };
	struct pics p;
	struct i8253 t;
	uint8_t k = fin_u8(&f);
	uint64_t hz = k & 1 ? fin_u64(&f) >> (fin_u8(&f) & 63) : 3000000000ull, now = fin_u32(&f);
	pic_init(&p);
	pit_init(&t, hz);
	for (unsigned ops = 0; f.n && ops < 64; ops++) {
		uint8_t op = fin_u8(&f);
		switch (op % 6) {
		case 0: op_pic_io(&f, &p); break;
		case 1: pic_raise(&p, fin_u8(&f)); break;
		case 2: op_ack(&p); break;
		case 3: op_pit_io(&f, &t, now); break;
		case 4: now = advance(now, step(&f)); op_tick(&t, &p, now); break;
		default: op_tick(&t, &p, now); break;
		}
		check_chip(&p.m);
		check_chip(&p.s);
		check_pit(&t);
	}
	return 0;
}
