/* A local APIC for one vCPU (see xapic.h). Register semantics from the Intel SDM vol. 3,
 * ch. 11 ("Advanced Programmable Interrupt Controller"); no MSR (x2APIC) interface. */
#include "xapic.h"

#define LVT_TIMER 0
#define LVT_ERROR 5
#define LVT_VECTOR 0xffu
#define LVT_MASK_BITS (LVT_VECTOR | (7u << 8) | (1u << 13) | (1u << 15) | XAPIC_LVT_MASKED)

/* ESR bits (SDM 11.5.3) */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER    (1u << 7)

#define ICR_DELIVERY(v)  ((v) >> 8 & 7)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_SHORTHAND(v) ((v) >> 18 & 3)
#define ICR_WRITABLE     0x000ccfffu   /* vector, delivery, dest mode, level, trigger, shorthand */

static void set_bit(uint32_t *v, int n) { v[n >> 5] |= 1u << (n & 31); }
static void clear_bit(uint32_t *v, int n) { v[n >> 5] &= ~(1u << (n & 31)); }

/* Highest set vector in a 256-bit register set, -1 if none. */
static int highest(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static int sw_enabled(const struct xapic *a) { return !!(a->svr & XAPIC_SVR_ENABLE); }

void xapic_init(struct xapic *a, uint32_t apic_id)
{
	*a = (struct xapic){ .id = apic_id, .dfr = 0xffffffffu, .svr = 0xff, .div = 2 };
	for (int i = 0; i < XAPIC_NLVT; i++)
		a->lvt[i] = XAPIC_LVT_MASKED;   /* the power-up state (SDM 11.4.7.1) */
}

/* DCR bits 0, 1 and 3 (SDM figure 11-10): 111b divides by 1, n by 2 << n. */
static uint32_t divider(uint32_t dcr)
{
	uint32_t n = (dcr & 3) | (dcr >> 1 & 4);
	return n == 7 ? 1 : 2u << n;
}

static uint64_t period_ns(const struct xapic *a)
{
	return (uint64_t)a->initial * a->div * (1000000000ull / XAPIC_BUS_HZ);
}

/* Vectors 0-15 are not deliverable (SDM 11.5.2): the error goes into ESR instead. */
static void accept(struct xapic *a, int vector, uint32_t err_bit)
{
	if (vector < 16) {
		a->esr_pending |= err_bit;
		return;
	}
	clear_bit(a->tmr, vector);   /* every source here is edge-triggered */
	set_bit(a->irr, vector);
}

void xapic_raise(struct xapic *a, int vector)
{
	if (vector >= 0 && vector < 256)
		accept(a, vector, ESR_RECV_ILLEGAL_VECTOR);
}

void xapic_tick(struct xapic *a, uint64_t now_ns)
{
	uint32_t lvt = a->lvt[LVT_TIMER];

	if (!a->deadline_ns || now_ns < a->deadline_ns)
		return;
	if (!(lvt & XAPIC_LVT_MASKED))
		accept(a, lvt & LVT_VECTOR, ESR_RECV_ILLEGAL_VECTOR);
	if (!(lvt & XAPIC_LVT_PERIODIC)) {
		a->deadline_ns = 0;
		return;
	}
	/* Periodic: skip the periods the caller slept through; IRR holds one edge anyway. */
	uint64_t p = period_ns(a), n = (now_ns - a->deadline_ns) / p + 1;
	a->deadline_ns += n * p;
	a->start_ns = a->deadline_ns - p;
}

uint64_t xapic_next_deadline(const struct xapic *a)
{
	return (a->lvt[LVT_TIMER] & XAPIC_LVT_MASKED) ? 0 : a->deadline_ns;
}

static uint32_t current_count(const struct xapic *a, uint64_t now_ns)
{
	if (!a->deadline_ns || now_ns >= a->deadline_ns || !a->initial)
		return 0;
	uint64_t ticks = (now_ns - a->start_ns) / a->div * XAPIC_BUS_HZ / 1000000000ull;
	return ticks >= a->initial ? 0 : a->initial - (uint32_t)ticks;
}

/* Processor priority (SDM 11.8.3.1): the TPR, or the class of the highest in-service vector
 * if that is higher. */
static uint32_t ppr(const struct xapic *a)
{
	int isrv = highest(a->isr);
	uint32_t cls = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (a->tpr & 0xf0) >= cls ? a->tpr & 0xff : cls;
}

int xapic_pending(const struct xapic *a)
{
	int v = highest(a->irr);

	if (!sw_enabled(a) || v < 0)
		return -1;
	return ((uint32_t)v & 0xf0) > (ppr(a) & 0xf0) ? v : -1;
}

void xapic_ack(struct xapic *a, int vector)
{
	if (vector < 16 || vector > 255)
		return;
	clear_bit(a->irr, vector);
	set_bit(a->isr, vector);
}

static uint32_t read_reg(struct xapic *a, uint32_t off, uint64_t now_ns)
{
	if (off >= XAPIC_ISR && off < XAPIC_ISR + 0x80)
		return a->isr[(off - XAPIC_ISR) >> 4];
	if (off >= XAPIC_TMR && off < XAPIC_TMR + 0x80)
		return a->tmr[(off - XAPIC_TMR) >> 4];
	if (off >= XAPIC_IRR && off < XAPIC_IRR + 0x80)
		return a->irr[(off - XAPIC_IRR) >> 4];
	if (off >= XAPIC_LVT_TIMER && off <= XAPIC_LVT_ERROR)
		return a->lvt[(off - XAPIC_LVT_TIMER) >> 4];
	switch (off) {
	case XAPIC_ID:        return a->id << 24;
	case XAPIC_VER:       return XAPIC_VERSION;
	case XAPIC_TPR:       return a->tpr;
	case XAPIC_PPR:       return ppr(a);
	case XAPIC_LDR:       return a->ldr;
	case XAPIC_DFR:       return a->dfr;
	case XAPIC_SVR:       return a->svr;
	case XAPIC_ESR:       return a->esr;
	case XAPIC_ICR_LO:    return a->icr_lo;     /* delivery status (bit 12) always idle */
	case XAPIC_ICR_HI:    return a->icr_hi;
	case XAPIC_TIMER_ICR: return a->initial;
	case XAPIC_TIMER_CCR: return current_count(a, now_ns);
	case XAPIC_TIMER_DCR: return a->dcr;
	default:              return 0;             /* APR, EOI and reserved offsets */
	}
}

uint32_t xapic_read(struct xapic *a, uint32_t offset, uint64_t now_ns)
{
	if (offset >= XAPIC_SIZE || (offset & 0xc))
		return 0;
	xapic_tick(a, now_ns);
	return read_reg(a, offset & ~0xfu, now_ns) >> (8 * (offset & 3));
}

/* The ICR's low half was written: send the IPI. With one CPU only self-targeted fixed
 * interrupts do anything; INIT, SIPI, NMI, SMI and lowest-priority are dropped. */
static void send_ipi(struct xapic *a)
{
	uint32_t lo = a->icr_lo, dest = a->icr_hi >> 24;
	int self;

	if (ICR_DELIVERY(lo) != 0)
		return;
	switch (ICR_SHORTHAND(lo)) {
	case 1: case 2:    /* self, all including self */
		self = 1;
		break;
	case 0:
		self = (lo & ICR_DEST_LOGICAL) ? (dest & (a->ldr >> 24)) != 0 || dest == 0xff
					       : dest == a->id || dest == 0xff;
		break;
	default:           /* all excluding self */
		self = 0;
		break;
	}
	if (self)
		accept(a, lo & 0xff, ESR_SEND_ILLEGAL_VECTOR);
}

static void eoi(struct xapic *a)
{
	int v = highest(a->isr);

	if (v >= 0)
		clear_bit(a->isr, v);
}

/* Start or stop the timer: an initial-count write (SDM 11.5.4). */
static void load_timer(struct xapic *a, uint32_t count, uint64_t now_ns)
{
	a->initial = count;
	a->div = divider(a->dcr);
	a->start_ns = now_ns;
	a->deadline_ns = count ? now_ns + period_ns(a) : 0;
	if (a->deadline_ns == 0 && count)
		a->deadline_ns = 1;     /* now_ns + period wrapped to 0: expire at once */
}

static void write_lvt(struct xapic *a, int i, uint32_t v)
{
	uint32_t keep = LVT_MASK_BITS;

	if (i == LVT_TIMER)             /* one-shot or periodic; TSC-deadline not offered */
		keep = LVT_VECTOR | XAPIC_LVT_MASKED | XAPIC_LVT_PERIODIC;
	if (!sw_enabled(a))             /* masks stick while software-disabled (SDM 11.4.7.2) */
		v |= XAPIC_LVT_MASKED;
	a->lvt[i] = v & keep;
}

static void write_svr(struct xapic *a, uint32_t v)
{
	a->svr = v & 0x3ff;             /* vector, enable, focus-check */
	if (!sw_enabled(a))
		for (int i = 0; i < XAPIC_NLVT; i++)
			a->lvt[i] |= XAPIC_LVT_MASKED;
}

void xapic_write(struct xapic *a, uint32_t offset, uint32_t value, uint64_t now_ns)
{
	if (offset >= XAPIC_SIZE || (offset & 0xf))
		return;
	xapic_tick(a, now_ns);          /* expiries before this write use the old settings */
	if (offset >= XAPIC_LVT_TIMER && offset <= XAPIC_LVT_ERROR) {
		write_lvt(a, (offset - XAPIC_LVT_TIMER) >> 4, value);
		return;
	}
	switch (offset) {
	case XAPIC_ID:        a->id = value >> 24; break;
	case XAPIC_TPR:       a->tpr = value & 0xff; break;
	case XAPIC_EOI:       eoi(a); break;
	case XAPIC_LDR:       a->ldr = value & 0xff000000u; break;
	case XAPIC_DFR:       a->dfr = value | 0x0fffffffu; break;
	case XAPIC_SVR:       write_svr(a, value); break;
	case XAPIC_ESR:       a->esr = a->esr_pending; a->esr_pending = 0; break;
	case XAPIC_ICR_HI:    a->icr_hi = value & 0xff000000u; break;
	case XAPIC_ICR_LO:    a->icr_lo = value & ICR_WRITABLE; send_ipi(a); break;
	case XAPIC_TIMER_ICR: load_timer(a, value, now_ns); break;
	case XAPIC_TIMER_DCR: a->dcr = value & 0xb; break;
	case XAPIC_VER: case XAPIC_APR: case XAPIC_PPR: case XAPIC_TIMER_CCR:
		break;          /* read-only */
	default:
		if (offset >= XAPIC_ISR && offset < XAPIC_IRR + 0x80)
			break;  /* ISR, TMR, IRR: read-only */
		a->esr_pending |= ESR_ILLEGAL_REGISTER;
		break;
	}
}
