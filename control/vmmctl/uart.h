/* vmmctl's ns16550A model for COM1 (ports 0x3f8-0x3ff, IRQ 4), enough for Linux's 8250
 * driver to probe a 16550A and run its console on it. A pure state machine: port accesses
 * and input bytes in; output bytes, the IRQ level and its rising edges out. It never calls
 * the platform: the core drains uart_take_output() into plat_console_out() and feeds
 * plat_console_in() bytes to uart_push_input().
 *
 * The line is infinitely fast: a byte written to THR is transmitted at once, so LSR.THRE and
 * LSR.TEMT always read 1. Not modelled: the line-status errors OE/PE/FE/BI (input never
 * overruns: uart_push_input refuses a byte the FIFO cannot take) except OE in loopback, the
 * RX character timeout delay (data below the FIFO trigger level is reported at once as a
 * timeout interrupt), and any baud rate (the divisor latches just read back). */
#ifndef VMMCTL_UART_H
#define VMMCTL_UART_H

#include <stddef.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ  4
#define UART_FIFO_SIZE 16
#define UART_OUT_SIZE  1024

struct uart {
	uint16_t base;                  /* first port (UART_COM1_BASE) */
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t fcr;                    /* last FCR write: FIFO enable and trigger level */
	uint8_t thr_ipending;           /* a THR-empty interrupt awaits an IIR read or THR write */
	uint8_t rx[UART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
	uint8_t line;                   /* the IRQ level after the last state change */
	uint8_t edge;                   /* a rising edge happened since uart_irq_edge() */
	uint8_t out[UART_OUT_SIZE];     /* transmitted bytes not yet taken */
	size_t out_len;
	uint64_t out_dropped;           /* bytes lost because out[] was full */
};

/* Reset state (as after power-on): FIFOs off, interrupts off, 8-bit data reads as 0. */
void uart_init(struct uart *u);
/* One byte access (the low 8 bits of *data) to port: 1 if the port is ours, else 0 and
 * nothing changes. Reads store the register's value in *data. */
int uart_io(struct uart *u, uint16_t port, int in, uint32_t *data);
/* The level of IRQ 4 now: an enabled interrupt is pending and MCR.OUT2 is set (on PCs OUT2
 * gates the UART's interrupt onto the ISA line) and loopback is off (loopback forces the
 * outputs, OUT2 among them, inactive). */
int uart_irq(const struct uart *u);
/* 1 once for each time the IRQ line rose since the last call (several rises count once),
 * else 0. The PIC model is edge-triggered: the core calls pic_raise(p, 4) when this is 1. */
int uart_irq_edge(struct uart *u);
/* Receive one byte from the terminal: 1 if the RX FIFO took it, 0 if it is full (the core
 * keeps the byte and tries again later) or the UART is in loopback (the receiver is then
 * cut off from the line, as on the chip). */
int uart_push_input(struct uart *u, uint8_t c);
/* How many bytes uart_push_input would take now: the free RX FIFO slots (one holding
 * register while the guest keeps the FIFOs off), 0 in loopback. Poll input only while > 0,
 * or hold the byte uart_push_input refused. */
unsigned uart_rx_room(const struct uart *u);
/* Copy up to cap transmitted bytes to buf and forget them: the number copied. */
size_t uart_take_output(struct uart *u, uint8_t *buf, size_t cap);

#endif
