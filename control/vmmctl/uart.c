/* ns16550A model (uart.h). Register facts: TI TL16C550C / National PC16550D data sheets;
 * what Linux needs: drivers/tty/serial/8250/8250_port.c (autoconfig, the THRE test of
 * serial8250_do_startup, serial8250_handle_irq). Never calls the platform. */
#include "uart.h"

/* Register offsets from the base port. */
#define R_RBR_THR 0   /* DLL with LCR.DLAB */
#define R_IER     1   /* DLM with LCR.DLAB */
#define R_IIR_FCR 2
#define R_LCR     3
#define R_MCR     4
#define R_LSR     5
#define R_MSR     6
#define R_SCR     7

#define IER_RDI  0x01   /* received data available */
#define IER_THRI 0x02   /* THR empty */
#define IER_RLSI 0x04   /* receiver line status */
#define IER_MSI  0x08   /* modem status */
#define IER_MASK 0x0f   /* a 16550A keeps only these: Linux's probe writes 0x0f, reads them */

#define IIR_NO_INT   0x01
#define IIR_MSI      0x00
#define IIR_THRI     0x02
#define IIR_RDI      0x04
#define IIR_RLSI     0x06
#define IIR_RX_TIMEO 0x0c
#define IIR_FIFO_ON  0xc0   /* both bits: 16550A (one bit alone is the buggy 16550) */

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_TRIGGER  0xc0

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_ERRS  0x1e   /* OE, PE, FE, BI: cleared by an LSR read */
#define LSR_THRE  0x20
#define LSR_TEMT  0x40

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0f
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
/* The lines a connected terminal asserts when not in loopback (QEMU's choice too). */
#define MSR_LINES_IDLE (MSR_CTS | MSR_DSR | MSR_DCD)

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };   /* FCR bits 7:6 */

static int fifo_on(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

/* The FIFO depth: 16 with FIFOs on, one holding register (16450 mode) without. */
static unsigned rx_depth(const struct uart *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* The interrupt identification in priority order (data sheet table "Interrupt control
 * functions"), without the FIFO bits: IIR_NO_INT when nothing enabled is pending. */
static uint8_t iir_id(const struct uart *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRS))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count) {
		/* Below the trigger level the chip waits four character times, then reports a
		 * timeout; the line here has no character time, so the timeout is immediate. */
		if (fifo_on(u) && u->rx_count < rx_trigger[u->fcr >> 6])
			return IIR_RX_TIMEO;
		return IIR_RDI;
	}
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTA))
		return IIR_MSI;
	return IIR_NO_INT;
}

int uart_irq(const struct uart *u)
{
	if ((u->mcr & MCR_LOOP) || !(u->mcr & MCR_OUT2))
		return 0;
	return iir_id(u) != IIR_NO_INT;
}

/* Called after every state change, so a drop and rise inside one access still counts as
 * an edge (a THR write clears the THRE interrupt, and the instant transmission sets it
 * again: on the chip the line drops, then rises when the FIFO drains). */
static void update_irq(struct uart *u)
{
	uint8_t level = (uint8_t)uart_irq(u);
	if (level && !u->line)
		u->edge = 1;
	u->line = level;
}

int uart_irq_edge(struct uart *u)
{
	int e = u->edge;
	u->edge = 0;
	return e;
}

/* The modem inputs: in loopback the MCR outputs wired back (DTR->DSR, RTS->CTS,
 * OUT1->RI, OUT2->DCD), else the idle terminal's. */
static uint8_t msr_lines(uint8_t mcr)
{
	if (!(mcr & MCR_LOOP))
		return MSR_LINES_IDLE;
	return (uint8_t)(((mcr & MCR_DTR) ? MSR_DSR : 0) | ((mcr & MCR_RTS) ? MSR_CTS : 0) |
			 ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0));
}

/* New modem input levels: the delta bits record changes (RI only on its trailing edge). */
static void msr_set_lines(struct uart *u, uint8_t lines)
{
	uint8_t old = u->msr & 0xf0, chg = old ^ lines;
	uint8_t delta = u->msr & MSR_DELTA;
	if (chg & MSR_CTS)
		delta |= MSR_DCTS;
	if (chg & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(lines & MSR_RI))
		delta |= MSR_TERI;
	if (chg & MSR_DCD)
		delta |= MSR_DDCD;
	u->msr = (uint8_t)(lines | delta);
}

void uart_init(struct uart *u)
{
	uint8_t *p = (uint8_t *)u;
	for (size_t i = 0; i < sizeof *u; i++)
		p[i] = 0;
	u->base = UART_COM1_BASE;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = MSR_LINES_IDLE;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = u->rx_count = 0;
	u->lsr &= (uint8_t)~LSR_DR;
}

/* Into the RX FIFO: 0 if it is full. */
static int rx_put(struct uart *u, uint8_t c)
{
	if (u->rx_count >= rx_depth(u))
		return 0;
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = c;
	u->rx_count++;
	u->lsr |= LSR_DR;
	return 1;
}

static uint8_t rx_get(struct uart *u)
{
	uint8_t c;
	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_SIZE);
	if (!--u->rx_count)
		u->lsr &= (uint8_t)~LSR_DR;
	return c;
}

unsigned uart_rx_room(const struct uart *u)
{
	if (u->mcr & MCR_LOOP || u->rx_count >= rx_depth(u))
		return 0;
	return rx_depth(u) - u->rx_count;
}

int uart_push_input(struct uart *u, uint8_t c)
{
	int ok;
	if (u->mcr & MCR_LOOP)
		return 0;
	ok = rx_put(u, c);
	update_irq(u);
	return ok;
}

size_t uart_take_output(struct uart *u, uint8_t *buf, size_t cap)
{
	size_t n = u->out_len < cap ? u->out_len : cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = u->out[i];
	for (size_t i = n; i < u->out_len; i++)
		u->out[i - n] = u->out[i];
	u->out_len -= n;
	return n;
}

static void thr_write(struct uart *u, uint8_t c)
{
	u->thr_ipending = 0;
	update_irq(u);
	if (u->mcr & MCR_LOOP) {
		if (!rx_put(u, c))
			u->lsr |= LSR_OE;   /* the looped-back byte overruns a full receiver */
	} else if (u->out_len < UART_OUT_SIZE) {
		u->out[u->out_len++] = c;
	} else {
		u->out_dropped++;
	}
	u->thr_ipending = 1;          /* sent at once: THR is empty again */
}

/* Enabling THRI while THR is empty raises the THRE interrupt even if an IIR read had
 * cleared it: not in the data sheet, but real 16550s do it and Linux's startup test
 * (serial8250_do_startup: IER=THRI, read IIR, IER=0, IER=THRI, read IIR) expects the second
 * read to show it again, else it marks the port UART_BUG_THRE and polls with a timer. */
static void ier_write(struct uart *u, uint8_t v)
{
	uint8_t old = u->ier;
	u->ier = v & IER_MASK;
	if ((u->ier & IER_THRI) && !(old & IER_THRI) && (u->lsr & LSR_THRE))
		u->thr_ipending = 1;
}

static void fcr_write(struct uart *u, uint8_t v)
{
	/* Changing the enable bit resets both FIFOs (data sheet, FCR bit 0). */
	if ((v ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	if (v & FCR_CLEAR_RX)
		rx_clear(u);
	/* FCR_CLEAR_TX: the transmitter is always empty already. */
	u->fcr = v & (FCR_ENABLE | FCR_TRIGGER);
	if (!fifo_on(u))
		u->fcr = 0;   /* trigger bits mean nothing without FIFOs */
}

static void mcr_write(struct uart *u, uint8_t v)
{
	u->mcr = v & MCR_MASK;
	msr_set_lines(u, msr_lines(u->mcr));
}

static void uart_write(struct uart *u, unsigned reg, uint8_t v)
{
	int dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case R_RBR_THR:
		if (dlab)
			u->dll = v;
		else
			thr_write(u, v);
		break;
	case R_IER:
		if (dlab)
			u->dlm = v;
		else
			ier_write(u, v);
		break;
	case R_IIR_FCR:
		fcr_write(u, v);
		break;
	case R_LCR:
		u->lcr = v;
		break;
	case R_MCR:
		mcr_write(u, v);
		break;
	case R_SCR:
		u->scr = v;
		break;
	default:   /* LSR and MSR: factory test writes, ignored */
		break;
	}
}

static uint8_t iir_read(struct uart *u)
{
	uint8_t id = iir_id(u);
	if (id == IIR_THRI)
		u->thr_ipending = 0;   /* reading IIR while it names THRE clears that source */
	return (uint8_t)(id | (fifo_on(u) ? IIR_FIFO_ON : 0));
}

static uint8_t uart_read(struct uart *u, unsigned reg)
{
	int dlab = u->lcr & LCR_DLAB;
	uint8_t v;
	switch (reg) {
	case R_RBR_THR:
		return dlab ? u->dll : rx_get(u);
	case R_IER:
		return dlab ? u->dlm : u->ier;
	case R_IIR_FCR:
		return iir_read(u);
	case R_LCR:
		return u->lcr;
	case R_MCR:
		return u->mcr;
	case R_LSR:
		v = u->lsr;
		u->lsr &= (uint8_t)~LSR_ERRS;
		return v;
	case R_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~MSR_DELTA;
		return v;
	default:
		return u->scr;
	}
}

int uart_io(struct uart *u, uint16_t port, int in, uint32_t *data)
{
	unsigned reg;
	if (port < u->base || port > u->base + 7)
		return 0;
	reg = (unsigned)(port - u->base);
	if (in)
		*data = uart_read(u, reg);
	else
		uart_write(u, reg, (uint8_t)*data);
	update_irq(u);
	return 1;
}
