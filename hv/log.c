/* Log output on a legacy port (see log.h). */
#include "log.h"
#include "fmt.h"
#include "lock.h"
#include "panic.h"
#include "percpu.h"
#include "../arch/x86_64/cpu.h"

static struct spinlock log_lock;   /* whole lines: CPUs never interleave within one */

static uint16_t log_port;
int hv_log_level = HV_LOG_INFO;

#define UART_LSR      5
#define UART_LSR_THRE 0x20

static void port_putc(char ch)
{
	if (log_port == LOG_PORT_DEBUGCON) {
		outb(log_port, (uint8_t)ch);
		return;
	}
	/* Bounded wait: a missing UART reads 0xff, a stuck one must not hang the host. */
	for (unsigned i = 0; i < 100000 && !(inb(log_port + UART_LSR) & UART_LSR_THRE); i++)
		;
	outb(log_port, (uint8_t)ch);
}

void log_init(uint16_t port, int level)
{
	log_port = port;
	hv_log_level = level;
}

void log_write(int level, const char *f, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[256];
	va_list ap;

	if (!log_port || level > hv_log_level)
		return;
	unsigned cpu = cpu_index();
	if (panic_cpu >= 0 && (unsigned)panic_cpu != cpu)
		cpu_halt_forever();   /* another CPU is writing its panic report */
	size_t n = fmt(line, sizeof line, "bvmm: cpu%u: %s: ", cpu, names[level]);
	va_start(ap, f);
	fmt_v(line + n, sizeof line - n, f, ap);
	va_end(ap);
	/* The panicking CPU does not wait long for a lock a stopped CPU may hold. */
	int locked = 0;
	for (unsigned i = 0; !locked && (panic_cpu < 0 || i < 1000000); i++) {
		locked = spin_trylock(&log_lock);
		if (!locked)
			cpu_relax();
	}
	for (const char *p = line; *p; p++) {
		if (*p == '\n')
			port_putc('\r');
		port_putc(*p);
	}
	port_putc('\r');
	port_putc('\n');
	if (locked)
		spin_unlock(&log_lock);
}
