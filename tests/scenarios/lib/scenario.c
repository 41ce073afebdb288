/* Scenario support (see scenario.h): check lines, exception probes, the end of the run. */
#include "scenario.h"

/* EFI_CPU_ARCH_PROTOCOL (PI spec vol. 2, 12.3), which gnu-efi does not define. */
typedef void (EFIAPI *cpu_handler_fn)(EFI_EXCEPTION_TYPE type, EFI_SYSTEM_CONTEXT ctx);
struct cpu_arch {
	void *flush_data_cache, *enable_interrupt, *disable_interrupt, *get_interrupt_state, *init;
	EFI_STATUS (EFIAPI *register_interrupt_handler)(struct cpu_arch *self, EFI_EXCEPTION_TYPE type,
							 cpu_handler_fn handler);
};
static EFI_GUID cpu_arch_guid = { 0x26baccb1, 0x6f42, 0x11d4,
				  { 0xbc, 0xe7, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 } };

extern char sc_probe_begin[], sc_probe_end[], sc_probe_fixup[];
static const char *scenario;
static unsigned passed, failed;
static volatile int fault_vector = -1;
volatile uint64_t sc_fault_error;

static void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static void EFIAPI on_exception(EFI_EXCEPTION_TYPE type, EFI_SYSTEM_CONTEXT ctx)
{
	EFI_SYSTEM_CONTEXT_X64 *c = ctx.SystemContextX64;
	if (c->Rip >= (uint64_t)sc_probe_begin && c->Rip < (uint64_t)sc_probe_end) {
		fault_vector = (int)type;
		sc_fault_error = c->ExceptionData;
		c->Rip = (uint64_t)sc_probe_fixup;
		return;
	}
	Print(L"FAIL %a-unexpected-exception: vector %d at rip %lx error %lx\n", scenario,
	      (int)type, c->Rip, c->ExceptionData);
	failed++;
	sc_finish();
}

volatile unsigned sc_nmi_count;

static void EFIAPI on_nmi(EFI_EXCEPTION_TYPE type, EFI_SYSTEM_CONTEXT ctx)
{
	(void)type;
	(void)ctx;
	sc_nmi_count++;
}

int sc_catch_nmi(void)
{
	struct cpu_arch *cpu;
	if (EFI_ERROR(LibLocateProtocol(&cpu_arch_guid, (void **)&cpu)))
		return -1;
	cpu->register_interrupt_handler(cpu, 2, NULL);
	return EFI_ERROR(cpu->register_interrupt_handler(cpu, 2, on_nmi)) ? -1 : 0;
}

void sc_init(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab, const char *name)
{
	struct cpu_arch *cpu;
	InitializeLib(image, systab);
	scenario = name;
	Print(L"START %a\n", name);
	EFI_STATUS st = LibLocateProtocol(&cpu_arch_guid, (void **)&cpu);
	static const int vectors[] = { 6, 13, 14 };
	for (unsigned i = 0; !EFI_ERROR(st) && i < 3; i++) {
		cpu->register_interrupt_handler(cpu, vectors[i], NULL);
		st = cpu->register_interrupt_handler(cpu, vectors[i], on_exception);
	}
	sc_check(!EFI_ERROR(st), "exception-handlers-installed", L"%r", st);
}

int sc_check(int ok, const char *check, const CHAR16 *why, ...)
{
	if (ok) {
		passed++;
		Print(L"PASS %a\n", check);
	} else {
		va_list ap;
		va_start(ap, why);
		CHAR16 *msg = VPoolPrint(why, ap);
		va_end(ap);
		failed++;
		Print(L"FAIL %a: %s\n", check, msg ? msg : L"");
		if (msg)
			FreePool(msg);
	}
	return ok;
}

int sc_probe(sc_probe_fn fn, uint64_t a, uint64_t b, uint64_t *ret)
{
	fault_vector = -1;
	sc_fault_error = 0;
	uint64_t r = fn(a, b);
	if (ret && fault_vector < 0)
		*ret = r;
	return fault_vector;
}

uint64_t sc_find_pool(uint64_t bytes)
{
	UINTN n, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&n, &key, &dsize, &dver), *d;
	uint64_t found = 0;
	for (UINTN i = 0; map && i < n; i++) {
		d = (void *)((uint8_t *)map + i * dsize);
		if (d->Type == EfiReservedMemoryType && d->NumberOfPages * 4096 == bytes &&
		    !(d->PhysicalStart & 0x1fffff))
			found = d->PhysicalStart;
	}
	if (map)
		FreePool(map);
	return found;
}

static uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

/* Ends the run on either emulator: QEMU's isa-debug-exit (port 0xf4, status (v << 1) | 1), then
 * Bochs' shutdown port (0x8900, "Shutdown"); neither emulator decodes the other's port. */
void sc_finish(void)
{
	Print(L"DONE %a passed=%d failed=%d\n", scenario, passed, failed);
	/* Bochs drops what is still in COM1's transmitter when it shuts down: wait for LSR.TEMT
	 * (bounded, in case there is no UART at 0x3f8). */
	for (unsigned i = 0; i < 1000000 && !(inb(0x3fd) & 0x40); i++)
		__asm__ volatile("pause");
	outl(0xf4, failed ? 1 : 0);
	for (const char *p = "Shutdown"; *p; p++)
		outb(0x8900, (uint8_t)*p);
	for (;;)
		__asm__ volatile("cli; hlt");
}
