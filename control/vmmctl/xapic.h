/* vmmctl's local APIC model: one xAPIC at 0xfee00000, register level (Intel SDM vol. 3
 * ch. 11), for a uniprocessor child: ID, version, TPR/PPR, EOI, LDR/DFR, SVR, ISR/TMR/IRR,
 * ESR, ICR (fixed self-IPIs only), the LVTs and the timer (one-shot and periodic; no
 * TSC-deadline mode). Pure: time comes in as the caller's nanoseconds. */
#ifndef VMMCTL_XAPIC_H
#define VMMCTL_XAPIC_H

#include <stdint.h>

#define XAPIC_BASE 0xfee00000ull
#define XAPIC_SIZE 0x1000

/* Register offsets */
#define XAPIC_ID     0x020
#define XAPIC_VER    0x030
#define XAPIC_TPR    0x080
#define XAPIC_APR    0x090
#define XAPIC_PPR    0x0a0
#define XAPIC_EOI    0x0b0
#define XAPIC_LDR    0x0d0
#define XAPIC_DFR    0x0e0
#define XAPIC_SVR    0x0f0
#define XAPIC_ISR    0x100   /* 8 registers, 0x10 apart */
#define XAPIC_TMR    0x180
#define XAPIC_IRR    0x200
#define XAPIC_ESR    0x280
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define XAPIC_LVT_TIMER   0x320
#define XAPIC_LVT_THERMAL 0x330
#define XAPIC_LVT_PERF    0x340
#define XAPIC_LVT_LINT0   0x350
#define XAPIC_LVT_LINT1   0x360
#define XAPIC_LVT_ERROR   0x370
#define XAPIC_TIMER_ICR   0x380   /* initial count */
#define XAPIC_TIMER_CCR   0x390   /* current count */
#define XAPIC_TIMER_DCR   0x3e0   /* divide configuration */

#define XAPIC_SVR_ENABLE  (1u << 8)
#define XAPIC_LVT_MASKED  (1u << 16)
#define XAPIC_LVT_PERIODIC (1u << 17)
#define XAPIC_NLVT 6

/* Version register: version 0x14 (an integrated APIC), 6 LVT entries (bits 16-23 hold
 * the count minus one), as QEMU's APIC reports. */
#define XAPIC_VERSION 0x00050014u

/* The bus clock the timer counts at, before the divider: 1 GHz, one count per nanosecond
 * (QEMU's APIC counts in ns shifted by the divider, KVM's APIC_BUS_CYCLE_NS is 1). Guests
 * that calibrate the timer (Linux, kvm-unit-tests) measure it; others assume nothing. */
#define XAPIC_BUS_HZ 1000000000ull

struct xapic {
	uint32_t id;                    /* APIC ID (bits 24-31 of the ID register) */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;      /* ESR reads what the last ESR write latched */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[XAPIC_NLVT];       /* timer, thermal, perf, LINT0, LINT1, error */
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t initial, dcr;
	uint32_t div;                   /* divider the running count was started with */
	uint64_t start_ns;              /* when the current count was last (re)loaded */
	uint64_t deadline_ns;           /* next expiry while the timer runs, else 0 */
};

void xapic_init(struct xapic *a, uint32_t apic_id);
/* A read at `offset` (0..0xfff) into the page. Registers are 32 bits at 16-byte aligned
 * offsets; a read at offset + 1..3 returns the register shifted (for byte and word loads),
 * anything else reads 0. */
uint32_t xapic_read(struct xapic *a, uint32_t offset, uint64_t now_ns);
/* A 32-bit write; writes not at a register's aligned offset, and to read-only registers,
 * are dropped (ESR records an illegal register address for unknown offsets). */
void xapic_write(struct xapic *a, uint32_t offset, uint32_t value, uint64_t now_ns);
/* Timer expiries up to now_ns: the LVT timer's vector into IRR (once, however many periods
 * passed; a masked LVT only advances the count). */
void xapic_tick(struct xapic *a, uint64_t now_ns);
/* When the next unmasked expiry is due (ns), 0 if none: what the run loop sleeps until. */
uint64_t xapic_next_deadline(const struct xapic *a);
/* The vector to deliver now: the highest in IRR whose priority class is above PPR's, with
 * the APIC software-enabled; -1 if none. */
int xapic_pending(const struct xapic *a);
/* The core injected `vector`: IRR -> ISR. */
void xapic_ack(struct xapic *a, int vector);
/* Raise a fixed interrupt (an edge) from elsewhere, e.g. a device model: vectors 16-255. */
void xapic_raise(struct xapic *a, int vector);

#endif
