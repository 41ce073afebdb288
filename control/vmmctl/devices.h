/* vmmctl's device models, in the manner of vmd's: an i8259 pair (edge-triggered, fully
 * nested, auto-EOI off) and channel 0 of an i8253 PIT driven by the control guest's TSC.
 * Pure state machines: port access in, interrupt level and vector out. */
#ifndef VMMCTL_DEVICES_H
#define VMMCTL_DEVICES_H

#include <stdint.h>

struct i8259 {
	uint8_t irr, isr, imr, base;   /* base: vector of IRQ 0 (ICW2) */
	uint8_t icw_step;              /* 0: operational; 1..3: expecting ICW2..ICW4 */
	uint8_t icw4;
};

struct pics { struct i8259 m, s; };

void pic_init(struct pics *p);
int pic_io(struct pics *p, uint16_t port, int in, uint32_t *data);   /* 1 if the port is ours */
void pic_raise(struct pics *p, unsigned irq);
/* The vector to inject now (IRR bit moved to ISR), or -1. */
int pic_ack(struct pics *p);
int pic_pending(const struct pics *p);

struct i8253 {
	uint16_t reload;       /* 0 means 65536 */
	uint8_t mode, access, lsb_next, running;
	uint8_t latch_lsb, latched;
	uint16_t latch;
	uint64_t tsc_hz, period_tsc, next_tsc;
};

void pit_init(struct i8253 *t, uint64_t tsc_hz);
int pit_io(struct i8253 *t, uint16_t port, int in, uint32_t *data, uint64_t now);
/* Raise IRQ 0 in p once for each period elapsed by `now` (at most one pending). */
void pit_tick(struct i8253 *t, struct pics *p, uint64_t now);

#endif
