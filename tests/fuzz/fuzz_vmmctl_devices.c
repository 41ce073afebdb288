/* libFuzzer harness for the device side of vmmctl a guest drives: the 16550A (uart.c), the
 * MC146818 (rtc.c), the i8259/i8253 (devices.c), the local APIC (xapic.c) and Solo5's hvt
 * hypercalls (hvt.c) on an hvt unikernel loaded into 2 MiB of guest memory (a mapping
 * between inaccessible pages: any access beyond it faults; zeroed for each input). The image is built here as Solo5's toolchain
 * lays one out (build/control/hvt_test.elf has the same shape: text, data, ABI1 and MFT1
 * notes, a block device "storage" and a net device "service0"); the input picks which
 * devices get attached, then is a sequence of operations: port and MMIO accesses, input
 * bytes, time steps, guest-memory stores and hypercalls whose pointers and lengths the guest
 * chooses. The platform stubs check that every buffer hvt.c hands them lies inside guest
 * memory and every block access inside the disk. Other oracles: ports claimed exactly as
 * documented, register reads 8 bits wide, the UART's FIFO within 16 and its output within
 * its buffer, the RTC index within 0x7f, xapic_pending -1 or a vector 16..255 that ack moves
 * from IRR to ISR, and HVT_STATUS_ABORT only ever from vmmctl's own abort (which says why),
 * never from a guest's HALT. */
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include "fuzz_input.h"
#include "../../control/vmmctl/devices.h"
#include "../../control/vmmctl/hvt.h"
#include "../../control/vmmctl/plat.h"
#include "../../control/vmmctl/rtc.h"
#include "../../control/vmmctl/uart.h"
#include "../../control/vmmctl/xapic.h"

#define MEM (2ull << 20)
#define DISK 8192
#define WALL0 (1700000000ull * 1000000000ull)

static uint8_t *mem, disk[DISK];
static uint64_t now_ns;
static uint8_t frame[2048];
static size_t frame_len;           /* the TAP's next frame, 0 if none */

/* [p, p + n) inside guest memory: what every buffer hvt.c passes out must be. */
static void check_guest(const void *p, size_t n)
{
	const uint8_t *b = p;
	FUZZ_CHECK(b >= mem && n <= MEM && (uint64_t)(b - mem) <= MEM - n);
}

static struct hvt hv;
static volatile uint8_t sink;
static unsigned msgs;              /* plat_msg calls: hvt.c's aborts say why through it */

/* Read a buffer's first and last byte, as the host's write(2) would (outside guest memory:
 * a fault on the guard pages, or ASan). */
static void touch(const void *buf, size_t n)
{
	if (n)
		sink = ((const uint8_t *)buf)[0] ^ ((const uint8_t *)buf)[n - 1];
}

static uint64_t clock_step(uint64_t by)
{
	return now_ns = by > ~0ull - now_ns ? ~0ull : now_ns + by;
}

uint64_t plat_now_ns(void) { return clock_step(1000); }
uint64_t plat_wall_ns(void) { return WALL0 + now_ns; }
void plat_msg(const char *f, ...)
{
	char buf[256];
	va_list ap;
	msgs++;
	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
}
void plat_console_out(const void *buf, size_t n)
{
	check_guest(buf, n);
	touch(buf, n);
}
void plat_wait(uint64_t deadline_ns)
{
	if (deadline_ns > now_ns)
		now_ns = deadline_ns;
}
int plat_file_open(const char *path, int writable, uint64_t *size)
{
	FUZZ_CHECK(writable);
	if (strcmp(path, "disk.img"))
		return -VE_NOENT;
	*size = DISK;
	return 3;
}
static int disk_io(int h, size_t n, uint64_t off)
{
	FUZZ_CHECK(h == 3 && off <= DISK && n <= DISK - off);
	return (off / 512) % 7 == 6 ? VE_IO : 0;   /* now and then the host fails */
}
int plat_file_pread(int h, void *buf, size_t n, uint64_t off)
{
	check_guest(buf, n);
	int e = disk_io(h, n, off);
	if (!e)
		memcpy(buf, disk + off, n);
	return e;
}
int plat_file_pwrite(int h, const void *buf, size_t n, uint64_t off)
{
	check_guest(buf, n);
	int e = disk_io(h, n, off);
	if (!e)
		memcpy(disk + off, buf, n);
	return e;
}
int plat_tap_open(const char *name) { return strcmp(name, "tap0") ? -VE_NOSYS : 7; }
int plat_tap_read(int h, void *buf, size_t n)
{
	FUZZ_CHECK(h == 7);
	if ((uint8_t *)buf >= mem && (uint8_t *)buf < mem + MEM)
		check_guest(buf, n);            /* NET_READ: the guest's buffer */
	else                                    /* POLL: the device's frame slot */
		FUZZ_CHECK(n == HVT_FRAME_MAX && (buf == hv.rx[0] || buf == hv.rx[1] ||
						  buf == hv.rx[2] || buf == hv.rx[3]));
	size_t len = frame_len < n ? frame_len : n;
	memcpy(buf, frame, len);
	frame_len = 0;
	return (int)len;
}
int plat_tap_write(int h, const void *buf, size_t n)
{
	FUZZ_CHECK(h == 7);
	check_guest(buf, n);
	touch(buf, n);
	return n > 9000 ? -VE_IO : (int)n;
}

/* ---- the unikernel ---- */

static uint8_t img[0x3000];

static void w16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void w64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void phdr(int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		 uint64_t filesz, uint64_t memsz, uint64_t align)
{
	uint8_t *p = img + 64 + 56 * i;
	w32(p, type); w32(p + 4, flags); w64(p + 8, off); w64(p + 16, vaddr);
	w64(p + 24, vaddr); w64(p + 32, filesz); w64(p + 40, memsz); w64(p + 48, align);
}

static void build_image(void)
{
	enum { ABI = 0x300, MFT = 0x400, N = 3 };
	memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
	w16(img + 16, 2); w16(img + 18, 62); w32(img + 20, 1);
	w64(img + 24, 0x100000); w64(img + 32, 64);
	w16(img + 52, 64); w16(img + 54, 56); w16(img + 56, 4);
	phdr(0, 1, 5, 0x1000, 0x100000, 0x20, 0x20, 0x1000);
	phdr(1, 1, 6, 0x2000, 0x101000, 0x10, 0x2000, 0x1000);
	phdr(2, 4, 4, ABI, 0, 36, 36, 4);
	phdr(3, 4, 4, MFT, 0, 24 + 8 + N * MFT_ENTRY_SIZE, 0, 8);
	memset(img + 0x1000, 0xf4, 0x20);
	uint8_t *n = img + ABI;
	w32(n, 6); w32(n + 4, 16); w32(n + 8, 0x31494241); memcpy(n + 12, "Solo5", 6);
	w32(n + 20, HVT_ABI_TARGET); w32(n + 24, HVT_ABI_VERSION);
	n = img + MFT;
	w32(n, 6); w32(n + 4, 12 + N * MFT_ENTRY_SIZE); w32(n + 8, 0x3154464d);
	memcpy(n + 12, "Solo5", 6);
	w32(n + 24, MFT_VERSION); w32(n + 28, N);
	uint8_t *e = n + 32;
	w32(e + MFT_E_TYPE, MFT_RESERVED_FIRST);
	strcpy((char *)e + MFT_ENTRY_SIZE, "storage");
	w32(e + MFT_ENTRY_SIZE + MFT_E_TYPE, MFT_DEV_BLOCK_BASIC);
	strcpy((char *)e + 2 * MFT_ENTRY_SIZE, "service0");
	w32(e + 2 * MFT_ENTRY_SIZE + MFT_E_TYPE, MFT_DEV_NET_BASIC);
}

/* The unikernel as hvt_load leaves it, loaded once: its state and guest memory's non-zero
 * pages (hvt_load's page-table setup costs more than everything an input does). */
static struct hvt loaded;
static uint8_t *pristine;
static uint32_t dirty_pages[MEM / 4096], ndirty;

static void load_once(void)
{
	char err[160];
	pristine = calloc(1, MEM);
	FUZZ_CHECK(pristine);
	FUZZ_CHECK(hvt_load(&loaded, img, 0x2010, pristine, MEM, "fuzz", 2000000000ull, err,
			    sizeof err) == 0);
	static const uint8_t zero[4096];
	for (uint32_t pg = 0; pg < MEM / 4096; pg++)
		if (memcmp(pristine + pg * 4096, zero, 4096))
			dirty_pages[ndirty++] = pg;
}

/* A freshly loaded unikernel in zeroed guest memory, with the devices `which` asks for. */
static void load_hvt(struct hvt *h, uint8_t which)
{
	char err[160];
	FUZZ_CHECK(madvise(mem, MEM, MADV_DONTNEED) == 0);   /* zero again: touched pages only */
	for (uint32_t i = 0; i < ndirty; i++)
		memcpy(mem + dirty_pages[i] * 4096, pristine + dirty_pages[i] * 4096, 4096);
	*h = loaded;
	h->mem = mem;
	if (which & 1)
		FUZZ_CHECK(hvt_attach(h, "block:storage=disk.img", err, sizeof err) == 0);
	if (which & 2)
		FUZZ_CHECK(hvt_attach(h, "net:service0=tap0", err, sizeof err) == 0);
	if (which & 4)
		FUZZ_CHECK(hvt_attach(h, "net-mac:service0=02:00:00:00:00:01", err, sizeof err) == 0);
	h->allow_unattached = 1;
	FUZZ_CHECK(hvt_ready(h, err, sizeof err) == 0);
}

/* ---- operations ---- */

/* A value the guest chooses: small, 16, 32 or 64 bits. */
static uint64_t val(struct fin *f)
{
	uint8_t k = fin_u8(f);
	switch (k & 3) {
	case 0: return k >> 2;
	case 1: return fin_u16(f);
	case 2: return fin_u32(f);
	default: return fin_u64(f);
	}
}

/* A guest-physical address: mostly in a scratch area above the kernel, else anything. */
static uint32_t gpa(struct fin *f)
{
	uint8_t k = fin_u8(f);
	if (k & 0x80)
		return fin_u32(f);
	if (k & 0x40)           /* the last bytes of guest memory */
		return (uint32_t)MEM - 0x200u + (uint32_t)(k & 0x3f) * 8;
	return 0x180000u + (uint32_t)(k & 0x3f) * 8;
}

static void op_uart(struct fin *f, struct uart *u)
{
	uint8_t k = fin_u8(f);
	uint16_t port = k & 0x80 ? fin_u16(f) : (uint16_t)(UART_COM1_BASE + (k & 7));
	int in = (k >> 3) & 1, ours = port >= UART_COM1_BASE && port <= UART_COM1_BASE + 7;
	uint32_t data = k & 0x40 ? fin_u32(f) : fin_u8(f);
	struct uart before = *u;
	FUZZ_CHECK(uart_io(u, port, in, &data) == ours);
	if (!ours)
		FUZZ_CHECK(memcmp(&before, u, sizeof before) == 0);
	else if (in)
		FUZZ_CHECK(data <= 0xff);
}

static void check_uart(struct uart *u)
{
	unsigned room = uart_rx_room(u);
	FUZZ_CHECK(room <= UART_FIFO_SIZE && u->rx_count <= UART_FIFO_SIZE);
	FUZZ_CHECK(room + u->rx_count <= UART_FIFO_SIZE && u->rx_head < UART_FIFO_SIZE);
	FUZZ_CHECK(u->out_len <= UART_OUT_SIZE);
	FUZZ_CHECK(uart_irq(u) == 0 || uart_irq(u) == 1);
}

static void op_rtc(struct fin *f, struct rtc *r)
{
	uint8_t k = fin_u8(f);
	uint16_t port = k & 0x80 ? fin_u16(f) : (uint16_t)(0x70 + (k & 1));
	int in = (k >> 1) & 1, ours = port == 0x70 || port == 0x71;
	uint32_t data = k & 0x40 ? fin_u32(f) : fin_u8(f);
	FUZZ_CHECK(rtc_io(r, port, in, &data, WALL0 + now_ns) == ours);
	if (ours && in)
		FUZZ_CHECK(data <= 0xff);
	FUZZ_CHECK(r->index <= 0x7f && r->nmi_masked <= 1);
}

static void op_pic(struct fin *f, struct pics *p)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1 };
	uint8_t k = fin_u8(f);
	uint16_t port = k & 0x80 ? fin_u16(f) : ports[k & 3];
	uint32_t data = fin_u8(f);
	int in = (k >> 2) & 1, ours = (port & ~1u) == 0x20 || (port & ~1u) == 0xa0;
	FUZZ_CHECK(pic_io(p, port, in, &data) == ours);
	if (ours && in)
		FUZZ_CHECK(data <= 0xff);
}

static void op_pit(struct fin *f, struct i8253 *t)
{
	uint8_t k = fin_u8(f);
	uint16_t port = k & 0x80 ? fin_u16(f) : (uint16_t)(0x40 + (k & 3));
	uint32_t data = fin_u8(f);
	int in = (k >> 2) & 1;
	FUZZ_CHECK(pit_io(t, port, in, &data, now_ns) == (port >= 0x40 && port <= 0x43));
}

static void op_xapic_write(struct fin *f, struct xapic *a)
{
	static const uint16_t regs[] = {
		XAPIC_ID, XAPIC_TPR, XAPIC_EOI, XAPIC_LDR, XAPIC_DFR, XAPIC_SVR, XAPIC_ESR,
		XAPIC_ICR_LO, XAPIC_ICR_HI, XAPIC_LVT_TIMER, XAPIC_LVT_ERROR, XAPIC_TIMER_ICR,
		XAPIC_TIMER_DCR, XAPIC_LVT_LINT0, XAPIC_IRR, XAPIC_VER,
	};
	uint8_t k = fin_u8(f);
	uint32_t off = k & 0x80 ? fin_u16(f) : regs[k & 15];
	uint32_t v = k & 0x40 ? fin_u32(f) : k & 0x20 ? fin_u8(f) | XAPIC_SVR_ENABLE : fin_u8(f);
	xapic_write(a, off, v, now_ns);
}

static void op_xapic_read(struct fin *f, struct xapic *a)
{
	uint8_t k = fin_u8(f);
	uint32_t off = k & 0x80 ? fin_u16(f) : (uint32_t)(k & 0x3f) << 4 | (k >> 6 & 1 ? 1 : 0);
	uint32_t v = xapic_read(a, off, now_ns);
	if (off >= XAPIC_SIZE || (off & 0xc))
		FUZZ_CHECK(v == 0);
	else if (off & 3)
		FUZZ_CHECK(v >> (32 - 8 * (off & 3)) == 0);
}

static void op_xapic_ack(struct xapic *a)
{
	int v = xapic_pending(a);
	FUZZ_CHECK(v == -1 || (v >= 16 && v <= 255));
	if (v < 0)
		return;
	FUZZ_CHECK(a->irr[v >> 5] & (1u << (v & 31)));
	xapic_ack(a, v);
	FUZZ_CHECK(!(a->irr[v >> 5] & (1u << (v & 31))) && (a->isr[v >> 5] & (1u << (v & 31))));
}

static void op_store(struct fin *f)
{
	uint32_t at = gpa(f);
	uint64_t v = val(f);
	if (at < MEM && MEM - at >= 8)
		memcpy(mem + at, &v, 8);
}

static void op_hvt(struct fin *f, struct hvt *h)
{
	uint8_t k = fin_u8(f);
	uint16_t port = k & 0x80 ? fin_u16(f) : (uint16_t)(HVT_HYPERCALL_PIO_BASE + (k & 15));
	int in = (k & 0x70) == 0x70;
	uint32_t value = gpa(f);
	/* The run loop stops at a halt; here the guest goes on, as the unit test does. */
	h->halted = h->status = 0;
	unsigned m = msgs;
	int r = hvt_io(h, port, in, value);
	FUZZ_CHECK(r == (port >= 0x500 && port <= 0x5ff));
	FUZZ_CHECK(h->mem == mem && h->mem_size == MEM);
	/* Only vmmctl's own abort, which always says why, reports HVT_STATUS_ABORT: a guest's
	 * HALT exit status never looks like one. */
	if (h->halted && h->status == HVT_STATUS_ABORT)
		FUZZ_CHECK(msgs != m);
	if (msgs != m)
		FUZZ_CHECK(h->halted && h->status == HVT_STATUS_ABORT);
	if (h->halted)
		FUZZ_CHECK(!h->halt_cookie || h->halt_cookie < MEM);
}

static void op_frame(struct fin *f)
{
	frame_len = fin_u16(f) % (sizeof frame + 1);
	for (size_t i = 0; i < frame_len && f->n; i++)
		frame[i] = fin_u8(f);
}

static uint64_t step(struct fin *f)
{
	uint8_t k = fin_u8(f);
	return k & 0x80 ? fin_u64(f) >> (k & 63) : k & 0x40 ? fin_u32(f) : fin_u16(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = { data, size };
	struct uart u;
	struct rtc r;
	struct pics p;
	struct i8253 t;
	struct xapic a;
	uint8_t buf[UART_OUT_SIZE + 8];

	if (!mem) {
		uint8_t *r = mmap(NULL, MEM + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		FUZZ_CHECK(r != MAP_FAILED);
		FUZZ_CHECK(mprotect(r + 4096, MEM, PROT_READ | PROT_WRITE) == 0);
		mem = r + 4096;
		(void)madvise(mem, MEM, MADV_NOHUGEPAGE);   /* re-zeroing a 2 MiB page is slow */
		build_image();
		load_once();
	}
	for (unsigned i = 0; i < DISK; i++)
		disk[i] = (uint8_t)(i * 13);
	now_ns = fin_u32(&f);
	frame_len = 0;
	load_hvt(&hv, fin_u8(&f));
	uart_init(&u);
	rtc_init(&r, MEM);
	pic_init(&p);
	pit_init(&t, 1000000000ull);
	xapic_init(&a, 0);

	for (unsigned ops = 0; f.n && ops < 256; ops++) {
		uint8_t op = fin_u8(&f);
		switch (op % 18) {
		case 0: case 1: op_uart(&f, &u); break;
		case 2: {
			unsigned room = uart_rx_room(&u);
			int ok = uart_push_input(&u, fin_u8(&f));
			FUZZ_CHECK(ok == (room > 0));
			break;
		}
		case 3: {
			size_t cap = fin_u16(&f) % sizeof buf, had = u.out_len;
			size_t n = uart_take_output(&u, buf, cap);
			FUZZ_CHECK(n <= cap && n <= had && u.out_len == had - n);
			break;
		}
		case 4: (void)uart_irq_edge(&u); break;
		case 5: op_rtc(&f, &r); break;
		case 6: op_pic(&f, &p); break;
		case 7: op_pit(&f, &t); break;
		case 8: clock_step(step(&f)); pit_tick(&t, &p, now_ns); xapic_tick(&a, now_ns); break;
		case 9: op_xapic_read(&f, &a); break;
		case 10: case 11: op_xapic_write(&f, &a); break;
		case 12: op_xapic_ack(&a); break;
		case 13: xapic_raise(&a, (int)fin_u16(&f) - 8); break;
		case 14: if (pic_pending(&p)) FUZZ_CHECK(pic_ack(&p) >= 0); break;
		case 15: op_store(&f); break;
		case 16: op_hvt(&f, &hv); break;
		default: op_frame(&f); break;
		}
		check_uart(&u);
		int v = xapic_pending(&a);
		FUZZ_CHECK(v == -1 || (v >= 16 && v <= 255));
	}
	return 0;
}
