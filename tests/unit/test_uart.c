/* Unit tests of vmmctl's ns16550A model (control/vmmctl/uart.c): Linux's 8250 probe and
 * startup sequences, THRE and RX interrupts with their edges, DLAB, loopback, OUT2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../control/vmmctl/uart.h"

#define B 0x3f8

static void out(struct uart *u, unsigned reg, uint32_t v)
{
	assert_true(uart_io(u, (uint16_t)(B + reg), 0, &v));
}

static uint32_t in(struct uart *u, unsigned reg)
{
	uint32_t v = 0xdeadbeef;
	assert_true(uart_io(u, (uint16_t)(B + reg), 1, &v));
	assert_true(v <= 0xff);
	return v;
}

/* drivers/tty/serial/8250/8250_port.c autoconfig(): IER test, loopback test, FIFO test. */
static void test_linux_autoconfig(void **state)
{
	(void)state;
	struct uart u;
	uart_init(&u);
	/* IER: writes of 0 and 0x0f read back in the low nibble */
	out(&u, 1, 0);
	assert_int_equal(in(&u, 1) & 0x0f, 0);
	out(&u, 1, 0x0f);
	assert_int_equal(in(&u, 1) & 0x0f, 0x0f);
	out(&u, 1, 0);
	/* loopback with RTS|OUT2: MSR's top nibble must read 0x90 (CTS, DCD) */
	uint32_t save_mcr = in(&u, 4);
	out(&u, 4, 0x10 | 0x0a);
	assert_int_equal(in(&u, 6) & 0xf0, 0x90);
	out(&u, 4, save_mcr);
	/* EFR probe through LCR 0xbf, then FIFOs on: IIR bits 7:6 == 3 means 16550A */
	out(&u, 3, 0xbf);
	out(&u, 2, 0);
	out(&u, 3, 0);
	out(&u, 2, 0x01);
	assert_int_equal(in(&u, 2) >> 6, 3);
	/* autoconfig_16550a: with DLAB, offset 2 is IIR (nonzero): no ST16C650 EFR */
	out(&u, 3, 0x80);
	assert_int_not_equal(in(&u, 2), 0);
	out(&u, 3, 0xbf);
	assert_int_not_equal(in(&u, 2), 0);
	out(&u, 3, 0);
	/* no 64-byte FIFO (IIR bit 5) */
	out(&u, 2, 0x21);
	assert_int_equal(in(&u, 2) & 0x20, 0);
	out(&u, 2, 0x01);
	/* IER bit 6 (XScale UUE) does not stick */
	out(&u, 1, 0x40);
	assert_int_equal(in(&u, 1), 0);
	/* scratch register */
	out(&u, 7, 0xa5);
	assert_int_equal(in(&u, 7), 0xa5);
	out(&u, 7, 0x5a);
	assert_int_equal(in(&u, 7), 0x5a);
	/* LSR: transmitter empty, no data */
	assert_int_equal(in(&u, 5), 0x60);
	/* IIR: FIFO bits, no interrupt */
	assert_int_equal(in(&u, 2), 0xc1);
}

/* serial8250_do_startup's THRE test: the interrupt must come back after IER 0 -> THRI. */
static void test_thre_reassert(void **state)
{
	(void)state;
	struct uart u;
	uart_init(&u);
	out(&u, 2, 0x07);                     /* FIFOs on and cleared */
	out(&u, 4, 0x0b);                     /* DTR, RTS, OUT2 */
	assert_false(uart_irq(&u));
	assert_false(uart_irq_edge(&u));
	out(&u, 1, 0x02);
	assert_true(uart_irq(&u));
	assert_true(uart_irq_edge(&u));
	assert_false(uart_irq_edge(&u));      /* once per edge */
	assert_int_equal(in(&u, 2), 0xc2);    /* iir1: THRE */
	assert_false(uart_irq(&u));           /* the read cleared it */
	assert_int_equal(in(&u, 2), 0xc1);
	out(&u, 1, 0);
	out(&u, 1, 0x02);
	assert_int_equal(in(&u, 2), 0xc2);    /* reasserted */
	assert_true(uart_irq_edge(&u));
	out(&u, 1, 0);
	assert_false(uart_irq(&u));
	/* rewriting IER with THRI already on does not re-raise */
	out(&u, 1, 0x02);
	assert_int_equal(in(&u, 2), 0xc2);
	out(&u, 1, 0x03);
	assert_int_equal(in(&u, 2), 0xc1);
}

/* serial8250_tx_chars from the interrupt: IIR read drops the line, THR writes send the
 * bytes and the emptied THR raises it again (a new edge for the edge-triggered PIC). */
static void test_tx_and_edges(void **state)
{
	(void)state;
	struct uart u;
	uint8_t buf[8];
	uart_init(&u);
	out(&u, 2, 0x01);
	out(&u, 4, 0x08);
	out(&u, 1, 0x02);
	assert_true(uart_irq_edge(&u));
	assert_int_equal(in(&u, 2), 0xc2);
	assert_false(uart_irq(&u));
	out(&u, 0, 'h');
	assert_true(uart_irq(&u));
	assert_true(uart_irq_edge(&u));
	out(&u, 0, 'i');                       /* line high before: still a drop and a rise */
	assert_true(uart_irq_edge(&u));
	assert_int_equal(in(&u, 5) & 0x60, 0x60);
	assert_int_equal(uart_take_output(&u, buf, 1), 1);
	assert_int_equal(buf[0], 'h');
	assert_int_equal(uart_take_output(&u, buf, sizeof buf), 1);
	assert_int_equal(buf[0], 'i');
	assert_int_equal(uart_take_output(&u, buf, sizeof buf), 0);
	/* stop_tx: IER without THRI drops the line, no edge */
	out(&u, 1, 0);
	assert_false(uart_irq(&u));
	assert_false(uart_irq_edge(&u));
	/* a full output buffer drops and counts */
	for (unsigned i = 0; i < UART_OUT_SIZE + 3; i++)
		out(&u, 0, 'x');
	assert_int_equal(u.out_len, UART_OUT_SIZE);
	assert_int_equal(u.out_dropped, 3);
}

static void test_rx_fifo(void **state)
{
	(void)state;
	struct uart u;
	uart_init(&u);
	out(&u, 4, 0x08);
	assert_int_equal(uart_rx_room(&u), 1);  /* FIFOs off: one holding register */
	out(&u, 2, 0x81);                     /* FIFOs on, trigger 8 */
	assert_int_equal(uart_rx_room(&u), 16);
	out(&u, 1, 0x01);
	assert_false(uart_irq(&u));
	assert_true(uart_push_input(&u, 'a'));
	assert_true(uart_irq_edge(&u));
	assert_int_equal(in(&u, 5) & 0x01, 0x01);
	assert_int_equal(in(&u, 2), 0xcc);    /* below the trigger: timeout */
	for (int i = 1; i < 8; i++)
		assert_true(uart_push_input(&u, (uint8_t)('a' + i)));
	assert_false(uart_irq_edge(&u));      /* line stayed high */
	assert_int_equal(in(&u, 2), 0xc4);    /* at the trigger level */
	for (int i = 8; i < 16; i++)
		assert_true(uart_push_input(&u, (uint8_t)('a' + i)));
	assert_int_equal(uart_rx_room(&u), 0);
	assert_false(uart_push_input(&u, 'z')); /* full */
	for (int i = 0; i < 16; i++)
		assert_int_equal(in(&u, 0), 'a' + i);
	assert_int_equal(in(&u, 5) & 0x01, 0);
	assert_false(uart_irq(&u));
	assert_int_equal(in(&u, 2), 0xc1);
	/* RX outranks THRE; THRE shows once the data is read */
	out(&u, 1, 0x03);
	assert_true(uart_push_input(&u, 'q'));
	assert_int_equal(in(&u, 2), 0xcc);
	assert_int_equal(in(&u, 0), 'q');
	assert_int_equal(in(&u, 2), 0xc2);
	/* FCR clear-RX empties the FIFO */
	assert_true(uart_push_input(&u, 'r'));
	out(&u, 2, 0x83);
	assert_int_equal(in(&u, 5) & 0x01, 0);
	/* without FIFOs one holding register */
	out(&u, 2, 0x00);
	assert_true(uart_push_input(&u, '1'));
	assert_false(uart_push_input(&u, '2'));
	assert_int_equal(in(&u, 2), 0x04);
	assert_int_equal(in(&u, 0), '1');
	assert_int_equal(in(&u, 0), 0);       /* empty reads 0 */
}

static void test_dlab(void **state)
{
	(void)state;
	struct uart u;
	uint8_t buf[4];
	uart_init(&u);
	out(&u, 1, 0x05);
	out(&u, 3, 0x83);                     /* DLAB, 8N1 */
	out(&u, 0, 0x01);                     /* 115200 baud */
	out(&u, 1, 0x00);
	assert_int_equal(in(&u, 0), 0x01);
	assert_int_equal(in(&u, 1), 0x00);
	assert_int_equal(uart_take_output(&u, buf, sizeof buf), 0); /* nothing sent */
	out(&u, 3, 0x03);
	assert_int_equal(in(&u, 3), 0x03);
	assert_int_equal(in(&u, 1), 0x05);    /* IER untouched */
	out(&u, 0, 'k');
	assert_int_equal(uart_take_output(&u, buf, sizeof buf), 1);
	out(&u, 3, 0x83);
	assert_int_equal(in(&u, 0), 0x01);    /* the divisor kept */
}

static void test_out2_loopback_msr(void **state)
{
	(void)state;
	struct uart u;
	uint8_t buf[4];
	uart_init(&u);
	out(&u, 1, 0x02);                     /* THRE pending, OUT2 off */
	assert_int_equal(in(&u, 2) & 0x0f, 0x02);
	out(&u, 1, 0);
	out(&u, 1, 0x02);
	assert_false(uart_irq(&u));
	assert_false(uart_irq_edge(&u));
	out(&u, 4, 0x08);                     /* OUT2 on: the pending interrupt reaches IRQ 4 */
	assert_true(uart_irq(&u));
	assert_true(uart_irq_edge(&u));
	out(&u, 1, 0);
	/* loopback: THR comes back in RBR, nothing goes out, IRQ pin inactive */
	out(&u, 4, 0x18);
	out(&u, 1, 0x01);
	out(&u, 0, 'L');
	assert_int_equal(uart_take_output(&u, buf, sizeof buf), 0);
	assert_int_equal(in(&u, 2) & 0x0f, 0x04);
	assert_false(uart_irq(&u));
	assert_int_equal(in(&u, 0), 'L');
	assert_int_equal(uart_rx_room(&u), 0);
	assert_false(uart_push_input(&u, 'x')); /* receiver cut off from the line */
	out(&u, 0, '1');                       /* one-byte holding register (no FIFO): overrun */
	out(&u, 0, '2');
	assert_int_equal(in(&u, 5) & 0x03, 0x03);
	assert_int_equal(in(&u, 5) & 0x02, 0); /* OE cleared by the read */
	assert_int_equal(in(&u, 0), '1');
	/* modem status: deltas from MCR outputs, interrupt 0, cleared by reading MSR */
	out(&u, 1, 0x08);
	(void)in(&u, 6);
	assert_int_equal(in(&u, 2), 0x01);
	out(&u, 4, 0x1d);                     /* DTR, OUT1, OUT2 */
	assert_int_equal(in(&u, 2), 0x00);
	assert_int_equal(in(&u, 6), 0xe0 | 0x02);  /* DSR RI DCD; DSR rose */
	out(&u, 4, 0x19);                     /* RI trailing edge */
	assert_int_equal(in(&u, 6), 0xa0 | 0x04);
	assert_int_equal(in(&u, 2), 0x01);
	/* leaving loopback: the idle terminal's lines */
	out(&u, 4, 0x08);
	assert_int_equal(in(&u, 6) & 0xf0, 0xb0);
}

static void test_ports(void **state)
{
	(void)state;
	struct uart u;
	uint32_t v = 0x55;
	uart_init(&u);
	assert_false(uart_io(&u, 0x3f7, 1, &v));
	assert_false(uart_io(&u, 0x400, 0, &v));
	assert_false(uart_io(&u, 0x2f8, 1, &v));
	assert_int_equal(v, 0x55);
	assert_true(uart_io(&u, 0x3ff, 1, &v));
	assert_int_equal(v, 0);
	v = 0x1234;                            /* only the low byte counts */
	assert_true(uart_io(&u, 0x3ff, 0, &v));
	assert_int_equal(in(&u, 7), 0x34);
	assert_int_equal(in(&u, 5), 0x60);     /* LSR and MSR writes are ignored */
	out(&u, 5, 0);
	assert_int_equal(in(&u, 5), 0x60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_autoconfig),
		cmocka_unit_test(test_thre_reassert),
		cmocka_unit_test(test_tx_and_edges),
		cmocka_unit_test(test_rx_fifo),
		cmocka_unit_test(test_dlab),
		cmocka_unit_test(test_out2_loopback_msr),
		cmocka_unit_test(test_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
