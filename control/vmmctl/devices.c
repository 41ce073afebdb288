/* i8259 and i8253 models for vmmctl (see devices.h). */
#include "devices.h"

#define PIT_HZ 1193182ull

void pic_init(struct pics *p)
{
	*p = (struct pics){ .m = { .imr = 0xff, .base = 0x08 }, .s = { .imr = 0xff, .base = 0x70 } };
}

static int highest(uint8_t bits)
{
	for (int i = 0; i < 8; i++)
		if (bits & (1u << i))
			return i;
	return -1;
}

/* The IRQ a chip would raise: requested, unmasked, and above everything in service. */
static int chip_pending(const struct i8259 *c)
{
	int r = highest(c->irr & ~c->imr), s = highest(c->isr);
	return r >= 0 && (s < 0 || r < s) ? r : -1;
}

static void chip_write(struct i8259 *c, int data_port, uint8_t v)
{
	if (!data_port && (v & 0x10)) {            /* ICW1 */
		c->icw_step = 1;
		c->icw4 = v & 1;
		c->imr = 0;
		c->isr = c->irr = 0;
	} else if (data_port && c->icw_step == 1) { /* ICW2 */
		c->base = v & 0xf8;
		c->icw_step = 2;
	} else if (data_port && c->icw_step == 2) { /* ICW3 */
		c->icw_step = c->icw4 ? 3 : 0;
	} else if (data_port && c->icw_step == 3) { /* ICW4 */
		c->icw_step = 0;
	} else if (data_port) {                     /* OCW1: mask */
		c->imr = v;
	} else if ((v & 0x18) == 0 && (v & 0x20)) { /* OCW2: EOI (non-specific or specific) */
		int s = (v & 0x40) ? (v & 7) : highest(c->isr);
		if (s >= 0)
			c->isr &= (uint8_t)~(1u << s);
	}
}

int pic_io(struct pics *p, uint16_t port, int in, uint32_t *data)
{
	struct i8259 *c = (port & ~1u) == 0x20 ? &p->m : (port & ~1u) == 0xa0 ? &p->s : 0;
	if (!c)
		return 0;
	if (in)
		*data = (port & 1) ? c->imr : c->irr;
	else
		chip_write(c, port & 1, (uint8_t)*data);
	return 1;
}

void pic_raise(struct pics *p, unsigned irq)
{
	if (irq < 8) {
		p->m.irr |= (uint8_t)(1u << irq);
	} else if (irq < 16) {   /* a pair has 15 inputs: anything above is not a line */
		p->s.irr |= (uint8_t)(1u << (irq - 8));
		p->m.irr |= 1u << 2;   /* the cascade */
	}
}

int pic_pending(const struct pics *p)
{
	return chip_pending(&p->m) >= 0;
}

int pic_ack(struct pics *p)
{
	int m = chip_pending(&p->m);
	if (m < 0)
		return -1;
	p->m.irr &= (uint8_t)~(1u << m);
	p->m.isr |= (uint8_t)(1u << m);
	if (m != 2)
		return p->m.base + m;
	int s = chip_pending(&p->s);
	if (s < 0)
		return p->m.base + 7;   /* spurious */
	p->s.irr &= (uint8_t)~(1u << s);
	p->s.isr |= (uint8_t)(1u << s);
	return p->s.base + s;
}

void pit_init(struct i8253 *t, uint64_t tsc_hz)
{
	*t = (struct i8253){ .tsc_hz = tsc_hz };
}

static void pit_start(struct i8253 *t, uint64_t now)
{
	uint64_t count = t->reload ? t->reload : 65536;
	t->period_tsc = count * t->tsc_hz / PIT_HZ;
	if (!t->period_tsc)
		t->period_tsc = 1;
	t->next_tsc = now + t->period_tsc;
	t->running = 1;
}

int pit_io(struct i8253 *t, uint16_t port, int in, uint32_t *data, uint64_t now)
{
	if (port == 0x43 && !in) {              /* control word, channel 0 only */
		uint8_t v = (uint8_t)*data;
		if (v >> 6)
			return 1;
		if (((v >> 4) & 3) == 0) {          /* counter latch */
			uint64_t left = t->running && t->next_tsc > now ? t->next_tsc - now : 0;
			t->latch = (uint16_t)(left * PIT_HZ / (t->tsc_hz ? t->tsc_hz : 1));
			t->latched = 2;
			return 1;
		}
		t->access = (v >> 4) & 3;
		t->mode = (v >> 1) & 7;
		t->lsb_next = 1;
		t->running = 0;
		return 1;
	}
	if (port != 0x40) {
		/* Channels 1 and 2 are not modelled: they read as counters stopped at 0 (a count
		 * that never moves would keep Linux's quick_pit_calibrate() polling channel 2 for
		 * 50,000 rounds; at 0 it gives up at once). The control port reads all ones. */
		if (port < 0x41 || port > 0x43)
			return 0;
		if (in)
			*data = port == 0x43 ? 0xffffffff : 0;
		return 1;
	}
	if (in) {
		if (t->latched) {
			*data = t->latched-- == 2 ? (t->latch & 0xff) : (t->latch >> 8);
		} else {
			*data = 0;
		}
		return 1;
	}
	uint8_t v = (uint8_t)*data;
	if (t->access == 1 || (t->access == 3 && t->lsb_next)) {
		t->reload = (uint16_t)((t->reload & 0xff00) | v);
		t->lsb_next = 0;
		if (t->access == 1)
			pit_start(t, now);
	} else {
		t->reload = (uint16_t)((t->reload & 0x00ff) | (v << 8));
		t->lsb_next = 1;
		pit_start(t, now);
	}
	return 1;
}

void pit_tick(struct i8253 *t, struct pics *p, uint64_t now)
{
	if (!t->running || now < t->next_tsc)
		return;
	pic_raise(p, 0);
	/* Periodic modes (2, 3) go on; a one-shot (0) stops. Missed periods are dropped, as a
	 * guest that keeps interrupts off for long would lose them too: the next deadline after
	 * now in one step (a loop per period ran once per elapsed TSC tick with a short period). */
	if (t->mode == 2 || t->mode == 3 || t->mode == 6 || t->mode == 7)
		t->next_tsc += ((now - t->next_tsc) / t->period_tsc + 1) * t->period_tsc;
	else
		t->running = 0;
}
