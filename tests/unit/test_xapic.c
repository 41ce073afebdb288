/* Unit tests of vmmctl's local APIC model (control/vmmctl/xapic.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../control/vmmctl/xapic.h"

static void enable(struct xapic *a, uint64_t now)
{
	xapic_init(a, 0);
	xapic_write(a, XAPIC_SVR, XAPIC_SVR_ENABLE | 0xff, now);
}

static void test_reset_and_ids(void **state)
{
	(void)state;
	struct xapic a;
	xapic_init(&a, 3);
	assert_int_equal(xapic_read(&a, XAPIC_ID, 0), 3u << 24);
	assert_int_equal(xapic_read(&a, XAPIC_ID + 3, 0), 3);        /* a byte load of the ID */
	assert_int_equal(xapic_read(&a, XAPIC_VER, 0), 0x00050014);
	assert_int_equal(xapic_read(&a, XAPIC_SVR, 0), 0xff);
	assert_int_equal(xapic_read(&a, XAPIC_DFR, 0), 0xffffffffu);
	assert_int_equal(xapic_read(&a, XAPIC_LVT_TIMER, 0), XAPIC_LVT_MASKED);
	assert_int_equal(xapic_read(&a, XAPIC_LVT_LINT0, 0), XAPIC_LVT_MASKED);
	/* software-disabled: LVT masks cannot be cleared */
	xapic_write(&a, XAPIC_LVT_LINT0, 0x700, 0);
	assert_int_equal(xapic_read(&a, XAPIC_LVT_LINT0, 0), 0x10700);
	xapic_write(&a, XAPIC_SVR, 0x1ff, 0);
	xapic_write(&a, XAPIC_LVT_LINT0, 0x700, 0);                 /* ExtINT, unmasked */
	assert_int_equal(xapic_read(&a, XAPIC_LVT_LINT0, 0), 0x700);
	xapic_write(&a, XAPIC_LVT_LINT1, 0x400, 0);                 /* NMI */
	assert_int_equal(xapic_read(&a, XAPIC_LVT_LINT1, 0), 0x400);
	xapic_write(&a, XAPIC_LDR, 0x01000000, 0);
	assert_int_equal(xapic_read(&a, XAPIC_LDR, 0), 0x01000000);
	xapic_write(&a, XAPIC_VER, 0, 0);                           /* read-only */
	assert_int_equal(xapic_read(&a, XAPIC_VER, 0), 0x00050014);
	xapic_write(&a, 0x3f0, 1, 0);                               /* no such register */
	xapic_write(&a, XAPIC_ESR, 0, 0);
	assert_int_equal(xapic_read(&a, XAPIC_ESR, 0), 0x80);
	assert_int_equal(xapic_read(&a, 0x1000, 0), 0);
	/* disabling masks every LVT again */
	xapic_write(&a, XAPIC_SVR, 0xff, 0);
	assert_int_equal(xapic_read(&a, XAPIC_LVT_LINT0, 0), 0x10700);
}

static void test_timer_oneshot(void **state)
{
	(void)state;
	struct xapic a;
	enable(&a, 0);
	xapic_write(&a, XAPIC_TIMER_DCR, 0x3, 1000);           /* divide by 16 */
	xapic_write(&a, XAPIC_LVT_TIMER, 0x40, 1000);          /* one-shot, vector 0x40 */
	xapic_write(&a, XAPIC_TIMER_ICR, 100, 1000);           /* 1600 ns */
	assert_int_equal(xapic_next_deadline(&a), 2600);
	assert_int_equal(xapic_read(&a, XAPIC_TIMER_CCR, 1000), 100);
	assert_int_equal(xapic_read(&a, XAPIC_TIMER_CCR, 1800), 50);
	xapic_tick(&a, 2599);
	assert_int_equal(xapic_pending(&a), -1);
	xapic_tick(&a, 2600);
	assert_int_equal(xapic_pending(&a), 0x40);
	assert_int_equal(xapic_read(&a, XAPIC_TIMER_CCR, 2600), 0);
	assert_int_equal(xapic_next_deadline(&a), 0);
	assert_int_equal(xapic_read(&a, XAPIC_IRR + 0x20, 2600), 1);   /* vector 0x40: IRR word 2 */
	xapic_ack(&a, 0x40);
	assert_int_equal(xapic_read(&a, XAPIC_ISR + 0x20, 2600), 1);
	assert_int_equal(xapic_read(&a, XAPIC_IRR + 0x20, 2600), 0);
	xapic_tick(&a, 100000);                                /* one-shot: no more */
	assert_int_equal(xapic_pending(&a), -1);
	xapic_write(&a, XAPIC_EOI, 0, 100000);
	assert_int_equal(xapic_read(&a, XAPIC_ISR + 0x20, 100000), 0);
	/* divide by 1 (DCR 0xb) and a stop by writing 0 */
	xapic_write(&a, XAPIC_TIMER_DCR, 0xb, 0);
	xapic_write(&a, XAPIC_TIMER_ICR, 10, 200000);
	assert_int_equal(xapic_next_deadline(&a), 200010);
	xapic_write(&a, XAPIC_TIMER_ICR, 0, 200005);
	assert_int_equal(xapic_next_deadline(&a), 0);
	xapic_tick(&a, 300000);
	assert_int_equal(xapic_pending(&a), -1);
}

static void test_timer_periodic_and_masked(void **state)
{
	(void)state;
	struct xapic a;
	enable(&a, 0);
	xapic_write(&a, XAPIC_TIMER_DCR, 0x0, 0);              /* divide by 2 */
	xapic_write(&a, XAPIC_LVT_TIMER, XAPIC_LVT_PERIODIC | 0x30, 0);
	xapic_write(&a, XAPIC_TIMER_ICR, 500, 0);              /* 1000 ns period */
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(xapic_next_deadline(&a), 1000 * i);
		xapic_tick(&a, 1000 * i);
		assert_int_equal(xapic_pending(&a), 0x30);
		xapic_ack(&a, 0x30);
		xapic_write(&a, XAPIC_EOI, 0, 1000 * i);
	}
	assert_int_equal(xapic_read(&a, XAPIC_TIMER_CCR, 3250), 375);  /* reloads each period */
	/* sleeping through many periods: one edge, the next deadline in the future */
	xapic_tick(&a, 10500);
	assert_int_equal(xapic_pending(&a), 0x30);
	assert_int_equal(xapic_next_deadline(&a), 11000);
	xapic_ack(&a, 0x30);
	xapic_write(&a, XAPIC_EOI, 0, 10500);
	/* masked: counts on, raises nothing, no deadline for the run loop */
	xapic_write(&a, XAPIC_LVT_TIMER, XAPIC_LVT_MASKED | XAPIC_LVT_PERIODIC | 0x30, 10500);
	assert_int_equal(xapic_next_deadline(&a), 0);
	xapic_tick(&a, 15000);
	assert_int_equal(xapic_pending(&a), -1);
	assert_int_equal(xapic_read(&a, XAPIC_TIMER_CCR, 15250), 375);
	/* unmasking does not deliver the expiries that passed while masked */
	xapic_write(&a, XAPIC_LVT_TIMER, XAPIC_LVT_PERIODIC | 0x30, 15500);
	assert_int_equal(xapic_pending(&a), -1);
	assert_int_equal(xapic_next_deadline(&a), 16000);
	/* TSC-deadline mode (bits 17-18 = 2) is not offered: bit 18 is dropped */
	xapic_write(&a, XAPIC_LVT_TIMER, 0x40030, 15500);
	assert_int_equal(xapic_read(&a, XAPIC_LVT_TIMER, 15500), 0x30);
}

static void test_priority_tpr_eoi(void **state)
{
	(void)state;
	struct xapic a;
	enable(&a, 0);
	xapic_raise(&a, 0x41);
	xapic_raise(&a, 0x52);
	assert_int_equal(xapic_pending(&a), 0x52);
	xapic_ack(&a, 0x52);
	assert_int_equal(xapic_read(&a, XAPIC_PPR, 0), 0x50);
	assert_int_equal(xapic_pending(&a), -1);               /* 0x41 is below class 5 */
	xapic_raise(&a, 0x61);
	assert_int_equal(xapic_pending(&a), 0x61);             /* nests */
	xapic_ack(&a, 0x61);
	xapic_write(&a, XAPIC_EOI, 0, 0);                      /* ends 0x61, the highest */
	assert_int_equal(xapic_read(&a, XAPIC_ISR + 0x30, 0), 0);
	assert_int_equal(xapic_read(&a, XAPIC_ISR + 0x20, 0), 1u << 0x12);
	xapic_write(&a, XAPIC_EOI, 0, 0);
	assert_int_equal(xapic_pending(&a), 0x41);
	xapic_write(&a, XAPIC_TPR, 0x40, 0);                   /* class 4 blocked by the TPR */
	assert_int_equal(xapic_read(&a, XAPIC_PPR, 0), 0x40);
	assert_int_equal(xapic_pending(&a), -1);
	xapic_write(&a, XAPIC_TPR, 0x3f, 0);
	assert_int_equal(xapic_pending(&a), 0x41);
	/* software-disabled: nothing is delivered, IRR is kept */
	xapic_write(&a, XAPIC_SVR, 0xff, 0);
	assert_int_equal(xapic_pending(&a), -1);
	xapic_write(&a, XAPIC_SVR, 0x1ff, 0);
	assert_int_equal(xapic_pending(&a), 0x41);
}

static void test_self_ipi(void **state)
{
	(void)state;
	struct xapic a;
	enable(&a, 0);
	xapic_write(&a, XAPIC_ICR_LO, (1u << 18) | 0x80, 0);     /* self shorthand, fixed */
	assert_int_equal(xapic_pending(&a), 0x80);
	xapic_ack(&a, 0x80);
	xapic_write(&a, XAPIC_EOI, 0, 0);
	xapic_write(&a, XAPIC_ICR_HI, 0u << 24, 0);              /* physical destination 0 */
	xapic_write(&a, XAPIC_ICR_LO, 0x90, 0);
	assert_int_equal(xapic_pending(&a), 0x90);
	xapic_ack(&a, 0x90);
	xapic_write(&a, XAPIC_EOI, 0, 0);
	xapic_write(&a, XAPIC_ICR_HI, 5u << 24, 0);              /* another CPU: dropped */
	xapic_write(&a, XAPIC_ICR_LO, 0x91, 0);
	xapic_write(&a, XAPIC_ICR_LO, (3u << 18) | 0x92, 0);     /* all but self */
	xapic_write(&a, XAPIC_ICR_LO, (1u << 18) | (5u << 8), 0); /* INIT to self: ignored */
	assert_int_equal(xapic_pending(&a), -1);
	assert_int_equal(xapic_read(&a, XAPIC_ICR_HI, 0), 5u << 24);
	/* an illegal vector: ESR after the next ESR write */
	xapic_write(&a, XAPIC_ICR_LO, (1u << 18) | 0x05, 0);
	assert_int_equal(xapic_pending(&a), -1);
	assert_int_equal(xapic_read(&a, XAPIC_ESR, 0), 0);
	xapic_write(&a, XAPIC_ESR, 0, 0);
	assert_int_equal(xapic_read(&a, XAPIC_ESR, 0), 0x20);
	xapic_write(&a, XAPIC_ESR, 0, 0);
	assert_int_equal(xapic_read(&a, XAPIC_ESR, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_and_ids),
		cmocka_unit_test(test_timer_oneshot),
		cmocka_unit_test(test_timer_periodic_and_masked),
		cmocka_unit_test(test_priority_tpr_eoi),
		cmocka_unit_test(test_self_ipi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
