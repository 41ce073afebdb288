/* A Multiboot v1 test kernel for vmmctl (and QEMU -kernel): checks the loader's magic, the
 * command line, the memory map and a module, runs the xAPIC timer periodically for 10 ticks,
 * and exits through port 0xf4 (isa-debug-exit) with the code "status=N" asks for (0 by
 * default), or 1 if a check failed. 32-bit protected mode, paging off, no libc. */
#include <stdint.h>

#define MB_BOOTLOADER_MAGIC 0x2badb002u
#define COM1 0x3f8
#define APIC 0xfee00000u
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_CCR 0x390
#define APIC_TIMER_DCR 0x3e0
#define TIMER_VECTOR 0x40
#define SPURIOUS_VECTOR 0xff
#define TIMER_COUNT 62500u              /* 1 ms at the 1 GHz bus clock divided by 16 */

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4], mmap_length, mmap_addr;
};
struct mb_mod { uint32_t start, end, string, reserved; };

struct idt_gate { uint16_t off_lo, sel; uint8_t zero, type; uint16_t off_hi; };
static struct idt_gate idt[256] __attribute__((aligned(8)));
static volatile unsigned ticks;
static int failed;

void timer_isr(void);
void spurious_isr(void);
void mb_main(uint32_t magic, const struct mb_info *mbi);
void timer_handler(void);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint32_t apic_read(uint32_t reg) { return *(volatile uint32_t *)(APIC + reg); }
static void apic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(APIC + reg) = v; }

static void putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))   /* LSR: transmit holding register empty */
		;
	outb(COM1, (uint8_t)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putu(uint32_t v)
{
	char b[11];
	int i = 10;
	b[i] = 0;
	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	puts(b + i);
}

static void puthex8(uint8_t v)
{
	putc("0123456789abcdef"[v >> 4]);
	putc("0123456789abcdef"[v & 15]);
}

static void fail(const char *what)
{
	puts("mb: FAIL ");
	puts(what);
	putc('\n');
	failed = 1;
}

/* "status=N" anywhere in the command line, decimal; 0 if absent. */
static uint32_t status_arg(const char *s)
{
	static const char key[] = "status=";
	for (; s && *s; s++) {
		int i = 0;
		while (key[i] && s[i] == key[i])
			i++;
		if (key[i])
			continue;
		uint32_t v = 0;
		for (s += i; *s >= '0' && *s <= '9'; s++)
			v = v * 10 + (uint32_t)(*s - '0');
		return v;
	}
	return 0;
}

/* The available range that starts at 1 MiB must be mem_upper KiB long. */
static void check_mmap(const struct mb_info *mbi)
{
	if (!(mbi->flags & (1u << 6)) || !(mbi->flags & 1u)) {
		fail("mmap: no memory map or no mem_upper");
		return;
	}
	uint32_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
	while (p + 24 <= end) {
		const uint32_t *e = (const uint32_t *)p;
		uint32_t base = e[1], base_hi = e[2], len = e[3], len_hi = e[4], type = e[5];
		if (type == 1 && base == 0x100000 && !base_hi) {
			uint32_t kib = len >> 10 | len_hi << 22;
			if (kib == mbi->mem_upper) {
				puts("mb: PASS mmap\n");
				return;
			}
			puts("mb: FAIL mmap upper=");
			putu(kib);
			puts(" KiB, mem_upper=");
			putu(mbi->mem_upper);
			putc('\n');
			failed = 1;
			return;
		}
		p += e[0] + 4;                /* the size field does not count itself */
	}
	fail("mmap no available range at 1 MiB");
}

static void show_module(const struct mb_info *mbi)
{
	if (!(mbi->flags & (1u << 3)) || !mbi->mods_count)
		return;
	const struct mb_mod *m = (const struct mb_mod *)mbi->mods_addr;
	const uint8_t *d = (const uint8_t *)m->start;
	puts("mb: module len=");
	putu(m->end - m->start);
	puts(" bytes=");
	for (uint32_t i = 0; i < 8 && i < m->end - m->start; i++)
		puthex8(d[i]);
	putc('\n');
}

static void set_gate(int vec, void (*fn)(void))
{
	uint32_t a = (uint32_t)fn;
	idt[vec] = (struct idt_gate){ (uint16_t)a, 0x08, 0, 0x8e, (uint16_t)(a >> 16) };
}

static void load_idt(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } d = { sizeof idt - 1,
										(uint32_t)idt };
	set_gate(TIMER_VECTOR, timer_isr);
	set_gate(SPURIOUS_VECTOR, spurious_isr);
	__asm__ volatile("lidt %0" :: "m"(d));
}

void timer_handler(void)
{
	ticks++;
	apic_write(APIC_EOI, 0);
}

static void apic_timer(void)
{
	load_idt();
	apic_write(APIC_SVR, 0x100 | SPURIOUS_VECTOR);
	apic_write(APIC_TIMER_DCR, 0x3);                       /* divide by 16 */
	apic_write(APIC_LVT_TIMER, (1u << 17) | TIMER_VECTOR); /* periodic */
	apic_write(APIC_TIMER_ICR, TIMER_COUNT);
	uint32_t c1 = apic_read(APIC_TIMER_CCR);
	for (volatile int i = 0; i < 100000; i++)
		;
	uint32_t c2 = apic_read(APIC_TIMER_CCR);
	if (c1 > TIMER_COUNT || c2 > TIMER_COUNT || c1 == c2)
		fail("apic-ccr: current count not counting down");
	while (ticks < 10)
		__asm__ volatile("sti; hlt; cli");
	apic_write(APIC_LVT_TIMER, 1u << 16);                  /* masked */
	apic_write(APIC_TIMER_ICR, 0);
	puts("mb: PASS apic-timer ticks=");
	putu(ticks);
	putc('\n');
}

void mb_main(uint32_t magic, const struct mb_info *mbi)
{
	const char *cmdline = 0;

	if (magic != MB_BOOTLOADER_MAGIC) {
		fail("magic");
		outl(0xf4, 1);
		return;
	}
	if (mbi->flags & (1u << 2))
		cmdline = (const char *)mbi->cmdline;
	puts("mb: cmdline=");
	puts(cmdline ? cmdline : "");
	putc('\n');
	check_mmap(mbi);
	show_module(mbi);
	apic_timer();
	outl(0xf4, failed ? 1 : status_arg(cmdline));
}
