/* The machine behind a child (machine.h): load the image the kind of guest asks for, create
 * the VM, then the vmd-style loop: the interrupt level to INTR, a vector when the guest can
 * take one, RUN, answer the port or MMIO access the guest made, continue. */
#include "machine.h"
#include "plat.h"
#include "bzimage.h"
#include "hvt.h"
#include "mmio.h"
#include "multiboot.h"
#include "rtc.h"
#include "uart.h"
#include "xapic.h"
#include "../libvmm/vmm_state.h"
#include "../libvmm/vmm_exit.h"
#include "../../hv/fmt.h"

#define MIB ((uint64_t)1 << 20)
#define DEBUG_EXIT_PORT 0xf4   /* QEMU's isa-debug-exit, as kvm-unit-tests use it */
#define NS 1000000000ull
#define INPUT_POLL_NS 2000000ull   /* console input is looked at every 2 ms of guest running */
#define RX_SETTLE_NS 20000000ull   /* see struct machine, rdi_on */

struct machine {
	const struct start_opts *o;
	uint32_t id, vendor;
	uint8_t *mem;
	uint64_t mem_size;
	enum guest_kind kind;
	struct pics pic;
	struct i8253 pit;
	struct uart com1;
	struct rtc rtc;
	struct xapic apic;
	int has_apic;            /* Multiboot kernels get an xAPIC at 0xfee00000 */
	uint32_t exit_regs;      /* the vrs groups each exit carries (vpp_exit_regs) */
	struct hvt *hvt;         /* Solo5 hvt unikernels */
	/* The console: raw bytes with -c, else lines prefixed with the VM's name. */
	char line[240];
	unsigned n;
	int esc;                 /* ~. detection: 0 at a line start, 1 after "~", 2 mid-line */
	int detached;
	/* Terminal input not yet in the UART: held until the guest enables its receive interrupt
	 * (a driver that resets the FIFO at start-up would lose it otherwise), as a terminal
	 * line holds what nobody reads. */
	uint8_t inq[1024];
	unsigned inq_head, inq_len;
	/* When the receive interrupt was enabled, and whether the guest has idled (HLT) since:
	 * a driver's start-up reads and drops what is in the FIFO right after enabling it (Linux's
	 * 8250 "clear the interrupt registers again for luck"), so input waits for the guest to
	 * idle, or for RX_SETTLE_NS. */
	uint64_t rdi_on;
	int rdi_idle;
	uint64_t next_input_poll;
	/* The end of the run. */
	int done, status;
	const char *why;
	/* Exits by kind, and I/O exits by port, for the closing lines. */
	unsigned long n_io, n_mmio, n_hlt, n_irq, n_none, n_win, n_other;
	uint32_t n_port[65536];
};

static void mzero(void *p, size_t n)
{
	uint8_t *d = p;
	while (n--)
		*d++ = 0;
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static void console_byte(struct machine *m, uint8_t ch)
{
	if (m->detached)
		return;
	if (m->o->console) {
		plat_console_out(&ch, 1);
		return;
	}
	if (ch != '\n' && ch != '\r' && m->n < sizeof m->line - 1)
		m->line[m->n++] = (char)ch;
	if (ch == '\n' || m->n == sizeof m->line - 1) {
		char out[sizeof m->line + VMM_MAX_NAME_LEN + 4];
		m->line[m->n] = 0;
		size_t k = fmt(out, sizeof out, "%s: %s\n", m->o->name, m->line);
		plat_console_out(out, k);
		m->n = 0;
	}
}

static void inq_put(struct machine *m, uint8_t c)
{
	m->inq[(m->inq_head + m->inq_len++) % sizeof m->inq] = c;
}

/* Input from the terminal (only with -c). "~." at the start of a line detaches, as cu(1) and
 * vmctl(8) do; "~~" sends one "~", and "~" before anything else sends both. */
static void console_input(struct machine *m, uint8_t c)
{
	if (m->esc == 1) {
		m->esc = 2;
		if (c == '.') {
			if (plat_detach() == 0)
				m->detached = 1;
			else
				plat_msg("%s: cannot detach here", m->o->name);
			return;
		}
		if (c != '~')
			inq_put(m, '~');
	} else if (m->esc == 0 && c == '~') {
		m->esc = 1;
		return;
	}
	m->esc = (c == '\r' || c == '\n') ? 0 : 2;
	inq_put(m, c);
}

/* Terminal input (with -c): read while there is room to hold it (the terminal keeps the rest),
 * into the UART's receive FIFO once the guest has enabled its receive interrupt. */
static void poll_input(struct machine *m, uint64_t now)
{
	uint8_t c;
	if (!m->o->console || m->detached || now < m->next_input_poll)
		return;
	m->next_input_poll = now + INPUT_POLL_NS;
	while (m->inq_len < sizeof m->inq - 1 && plat_console_in(&c))   /* room for a held "~" */
		console_input(m, c);
	if (!(m->com1.ier & 1)) {
		m->rdi_on = 0;
		m->rdi_idle = 0;
		return;
	}
	if (!m->rdi_on)
		m->rdi_on = now;
	if (!m->rdi_idle && now - m->rdi_on < RX_SETTLE_NS)
		return;
	while (m->inq_len && uart_rx_room(&m->com1)) {
		uart_push_input(&m->com1, m->inq[m->inq_head]);
		m->inq_head = (m->inq_head + 1) % sizeof m->inq;
		m->inq_len--;
	}
	if (uart_irq_edge(&m->com1))
		pic_raise(&m->pic, UART_COM1_IRQ);
}

/* The UART's transmitted bytes to the console, and its interrupt edge to the PIC. */
static void uart_after(struct machine *m)
{
	uint8_t buf[UART_OUT_SIZE];
	size_t n = uart_take_output(&m->com1, buf, sizeof buf);
	for (size_t i = 0; i < n; i++)
		console_byte(m, buf[i]);
	if (uart_irq_edge(&m->com1))
		pic_raise(&m->pic, UART_COM1_IRQ);
}

static void stop(struct machine *m, int status, const char *why)
{
	m->done = 1;
	m->status = status;
	m->why = why;
}

/* A Solo5 unikernel's port access: its tender knows its hypercall ports and nothing else, so
 * anything else, or a hypercall port used other than by a 32-bit OUT, ends the guest. */
static void hvt_port(struct machine *m, struct vm_exit_inout *io)
{
	int in = io->vei_dir == VEI_DIR_IN;
	if (io->vei_size == 4 && hvt_io(m->hvt, io->vei_port, in, io->vei_data)) {
		if (m->hvt->halted)
			stop(m, m->hvt->status == HVT_STATUS_ABORT ? VMMCTL_EXIT_ERROR : m->hvt->status & 0xff,
			     m->hvt->status == HVT_STATUS_ABORT ? "aborted" : "halted by the unikernel");
		return;
	}
	plat_msg("%s: invalid guest port access: %u-byte %s port %x", m->o->name, io->vei_size,
		 in ? "IN from" : "OUT to", io->vei_port);
	stop(m, VMMCTL_EXIT_ERROR, "aborted");
}

static void port_io(struct machine *m, struct vm_exit_inout *io, uint64_t now)
{
	int in = io->vei_dir == VEI_DIR_IN;
	if (m->hvt) {
		hvt_port(m, io);
		return;
	}
	if (pic_io(&m->pic, io->vei_port, in, &io->vei_data) ||
	    pit_io(&m->pit, io->vei_port, in, &io->vei_data, now) ||
	    rtc_io(&m->rtc, io->vei_port, in, &io->vei_data, plat_wall_ns()))
		return;
	if (uart_io(&m->com1, io->vei_port, in, &io->vei_data)) {
		uart_after(m);
		return;
	}
	if (!in && io->vei_port == DEBUG_EXIT_PORT) {
		/* QEMU's isa-debug-exit: status (value << 1) | 1, so that a run script written for
		 * QEMU reads the same result (kvm-unit-tests' convention). */
		plat_msg("%s: wrote %x to port 0xf4", m->o->name, io->vei_data);
		stop(m, (int)(((io->vei_data << 1) | 1) & 0xff), "exit through port 0xf4");
		return;
	}
	if (in)   /* nothing here: all ones, as on an ISA bus (vmd's convention) */
		io->vei_data = 0xffffffff;
}

/* The vrs groups the exits leave out (the general registers are all most exits need), read
 * into *ex for one that needs them: MMIO decoding walks the guest's tables and segments. */
static int read_other_regs(struct machine *m, struct vm_exit *ex)
{
	static struct vm_rwregs_params p;
	uint64_t gprs[VCPU_REGS_NGPRS];
	if (m->exit_regs == VM_RWREGS_ALL)
		return 0;
	mzero(&p, sizeof p);
	p.vrwp_vm_id = m->id;
	p.vrwp_mask = VM_RWREGS_ALL & ~m->exit_regs;
	int e = plat_vmm(BVMM_OP_READREGS, &p);
	if (e)
		return e;
	for (unsigned i = 0; i < VCPU_REGS_NGPRS; i++)
		gprs[i] = ex->vrs.vrs_gprs[i];
	ex->vrs = p.vrwp_regs;
	for (unsigned i = 0; i < VCPU_REGS_NGPRS; i++)
		ex->vrs.vrs_gprs[i] = gprs[i];
	return 0;
}

/* An access outside guest memory: the xAPIC page if the guest has one, else the end. */
static void mmio(struct machine *m, struct vm_exit *ex)
{
	struct mmio_op op;
	char err[160];
	int e = read_other_regs(m, ex);
	if (e) {
		plat_msg("%s: READREGS errno %d", m->o->name, e);
		stop(m, VMMCTL_EXIT_ERROR, "registers not readable");
		return;
	}
	if (mmio_decode(ex, m->mem, m->mem_size, &op, err, sizeof err)) {
		plat_msg("%s: MMIO at rip %lx: %s", m->o->name, ex->vrs.vrs_gprs[VCPU_REGS_RIP], err);
		stop(m, VMMCTL_EXIT_ERROR, "MMIO access not understood");
		return;
	}
	if (!m->has_apic || op.gpa < XAPIC_BASE || op.gpa + op.size > XAPIC_BASE + XAPIC_SIZE) {
		plat_msg("%s: %u-byte %s of %lx (no device there) at rip %lx", m->o->name, op.size,
			 op.write ? "write" : "read", op.gpa, ex->vrs.vrs_gprs[VCPU_REGS_RIP]);
		stop(m, VMMCTL_EXIT_ERROR, "MMIO access to no device");
		return;
	}
	uint64_t now = plat_now_ns(), v = 0;
	uint32_t off = (uint32_t)(op.gpa - XAPIC_BASE);
	if (op.write)
		xapic_write(&m->apic, off & ~3u, (uint32_t)op.value, now);
	else
		v = xapic_read(&m->apic, off & ~3u, now) >> (8 * (off & 3));
	mmio_complete(&ex->vrs, &op, v);
}

/* The earliest instant a device will want the guest's attention, 0 if none ever will. */
static uint64_t next_deadline(const struct machine *m)
{
	uint64_t d = m->pit.running ? m->pit.next_tsc : 0;
	uint64_t a = m->has_apic ? xapic_next_deadline(&m->apic) : 0;
	return !d || (a && a < d) ? a : d;
}

static int irq_pending(struct machine *m)
{
	return pic_pending(&m->pic) || (m->has_apic && xapic_pending(&m->apic) >= 0);
}

/* HLT with interrupts on: wait for the next device event, as vmd does. Returns 0 if nothing
 * can ever wake the guest. */
static int wait_for_interrupt(struct machine *m)
{
	if (m->rdi_on)
		m->rdi_idle = 1;   /* waiting with its receiver on: it wants input */
	if (irq_pending(m))
		return 1;
	uint64_t d = next_deadline(m);
	if (!d && !(m->o->console && !m->detached && (m->inq_len || plat_console_open())))
		return 0;
	plat_wait(d);
	m->next_input_poll = 0;
	return 1;
}

/* One exit the hypervisor handed back; sets m->done when the run is over. */
static void handle_exit(struct machine *m, struct vm_run_params *rp, struct vm_exit *ex)
{
	uint64_t rip = ex->vrs.vrs_gprs[VCPU_REGS_RIP];
	switch (vmm_exit_kind(rp->vrp_exit_reason, m->vendor)) {
	case VMM_EXIT_KIND_NONE:
		m->n_none++;
		return;
	case VMM_EXIT_KIND_IO:
		m->n_io++;
		m->n_port[ex->vei.vei_port]++;
		port_io(m, &ex->vei, plat_now_ns());
		return;
	case VMM_EXIT_KIND_IRQWIN:   /* the interrupt window opened: vrp_irqready is set */
		m->n_win++;
		return;
	case VMM_EXIT_KIND_HLT:
		m->n_hlt++;
		if (!wait_for_interrupt(m))
			stop(m, VMMCTL_EXIT_ERROR, "HLT with nothing that could wake it");
		return;
	case VMM_EXIT_KIND_NPF:
		m->n_mmio++;
		if (ex->vee.vee_fault_type == VEE_FAULT_PROTECT) {
			plat_msg("%s: access against MPROTECT_EPT at rip %lx", m->o->name, rip);
			stop(m, VMMCTL_EXIT_ERROR, "protection fault");
		} else {
			mmio(m, ex);
		}
		return;
	case VMM_EXIT_KIND_SHUTDOWN:
		m->n_other++;
		plat_msg("%s: triple fault at rip %lx", m->o->name, rip);
		stop(m, VMMCTL_EXIT_ERROR, "triple fault");
		return;
	default:
		m->n_other++;
		plat_msg("%s: exit %x at rip %lx", m->o->name, rp->vrp_exit_reason, rip);
		stop(m, VMMCTL_EXIT_ERROR, "unexpected exit");
		return;
	}
}

/* The four ports the guest used most, with their exit counts (the counts are spent). */
static void report_ports(struct machine *m)
{
	char buf[160];
	size_t k = 0;
	for (int r = 0; r < 4; r++) {
		uint32_t port = 0;
		for (uint32_t p = 1; p < 65536; p++)
			if (m->n_port[p] > m->n_port[port])
				port = p;
		if (!m->n_port[port])
			break;
		k += fmt(buf + k, sizeof buf - k, "%s%x: %u", r ? ", " : "", port, m->n_port[port]);
		m->n_port[port] = 0;
	}
	if (k)
		plat_msg("%s: I/O exits by port (the most used): %s", m->o->name, buf);
}

static void run_loop(struct machine *m)
{
	static struct vm_exit own_ex __attribute__((aligned(1024)));
	static struct vm_run_params own_rp;
	/* The parameters and the exit in a RUN_PHYS block where the platform has one. */
	struct vm_run_block *b = plat_run_block();
	struct vm_run_params *rp = b ? &b->vrb_params : &own_rp;
	struct vm_exit *ex = b ? &b->vrb_exit : &own_ex;
	*rp = (struct vm_run_params){ .vrp_vm_id = m->id, .vrp_irq = VRP_IRQ_NONE, .vrp_exit = &own_ex };
	struct vm_intr_params intr = { m->id, 0, 0 };
	uint64_t t0 = plat_now_ns();

	while (!m->done) {
		uint64_t now = plat_now_ns();
		pit_tick(&m->pit, &m->pic, now);
		if (m->has_apic)
			xapic_tick(&m->apic, now);
		poll_input(m, now);
		uint16_t level = (uint16_t)irq_pending(m);
		if (level != intr.vip_intr) {
			intr.vip_intr = level;
			plat_vmm(BVMM_OP_INTR, &intr);
		}
		/* The local APIC's vector first (it outranks the PIC, which would reach the CPU
		 * through it as ExtINT on a real machine). */
		int vec = -1;
		if (level && rp->vrp_irqready) {
			vec = m->has_apic ? xapic_pending(&m->apic) : -1;
			if (vec >= 0)
				xapic_ack(&m->apic, vec);
			else
				vec = pic_ack(&m->pic);
		}
		rp->vrp_irq = vec >= 0 ? (uint16_t)vec : VRP_IRQ_NONE;
		m->n_irq += vec >= 0;
		int e = b ? plat_run_block_go() : plat_vmm(BVMM_OP_RUN, rp);
		if (e == VE_IO) {
			stop(m, VMMCTL_EXIT_OK, "halted");
		} else if (e == VE_NOENT) {
			stop(m, VMMCTL_EXIT_ERROR, "terminated from outside");
		} else if (e) {
			plat_msg("%s: RUN errno %d", m->o->name, e);
			stop(m, VMMCTL_EXIT_ERROR, "RUN failed");
		} else {
			rp->vrp_continue = 1;
			handle_exit(m, rp, ex);
		}
	}
	if (m->n)   /* a last line without its newline */
		console_byte(m, '\n');
	uint64_t ms = (plat_now_ns() - t0) / 1000000;
	plat_msg("%s: %s (status %d) after %lu.%03lu s: exits: %lu I/O, %lu MMIO, %lu HLT, "
		 "%lu interrupt windows, %lu for the host, %lu other; %lu interrupts injected",
		 m->o->name, m->why, m->status, ms / 1000, ms % 1000, m->n_io, m->n_mmio, m->n_hlt,
		 m->n_win, m->n_none, m->n_other, m->n_irq);
	report_ports(m);
}

/* Loading. Each kind fills the initial state and the segments to protect. */
struct loaded {
	struct vcpu_reg_state rs;
	struct elf_seg segs[ELF_MAX_SEGS];
	int nsegs;
	uint64_t entry;
};

static int mcmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b)
			return 1;
	return 0;
}

static void mcopy(void *d, const void *s, size_t n)
{
	uint8_t *a = d;
	const uint8_t *b = s;
	while (n--)
		*a++ = *b++;
}

static int load_hvt(struct machine *m, const uint8_t *img, size_t len, struct loaded *l)
{
	static struct hvt h;
	char err[200];
	const struct elf_seg *segs;
	const struct start_opts *o = m->o;
	if (m->mem_size % (2 << 20)) {
		plat_msg("%s: a Solo5 unikernel's memory must be a multiple of 2 MiB", o->kernel);
		return -1;
	}
	if (hvt_load(&h, img, len, m->mem, m->mem_size, o->cmdline, plat_tsc_hz(), err, sizeof err)) {
		plat_msg("%s: %s", o->kernel, err);
		return -1;
	}
	for (int i = 0; i < o->ndevopts; i++) {
		if (hvt_attach(&h, o->devopts[i], err, sizeof err)) {
			plat_msg("--%s: %s", o->devopts[i], err);
			return -1;
		}
	}
	if (hvt_ready(&h, err, sizeof err)) {
		plat_msg("%s: %s", o->kernel, err);
		return -1;
	}
	l->nsegs = hvt_segments(&h, &segs);
	mcopy(l->segs, segs, (size_t)l->nsegs * sizeof *segs);
	l->entry = h.entry;
	hvt_init_state(&h, &l->rs);
	m->hvt = &h;
	return 0;
}

/* Multiboot modules: the initrd (-i), if any, with its path as the module's string. */
static int load_multiboot(struct machine *m, const uint8_t *img, size_t len, const uint8_t *initrd,
			  size_t ilen, struct loaded *l)
{
	static char cmdline[4200];
	struct mb_boot b;
	struct mb_module mod = { initrd, ilen, m->o->initrd };
	char err[200];
	/* "KERNEL ARGS", as GRUB and QEMU pass it: kvm-unit-tests take argv[0] from it. */
	fmt(cmdline, sizeof cmdline, "%s%s%s", m->o->kernel, m->o->cmdline[0] ? " " : "", m->o->cmdline);
	if (mb_load(&b, img, len, m->mem, m->mem_size, cmdline, &mod, initrd ? 1 : 0, err, sizeof err)) {
		plat_msg("%s: %s", m->o->kernel, err);
		return -1;
	}
	l->entry = b.entry;
	mb_init_state(&b, &l->rs);
	m->has_apic = 1;
	return 0;
}

static int load_linux(struct machine *m, const uint8_t *img, size_t len, const uint8_t *initrd,
		      size_t ilen, struct loaded *l)
{
	static char cmdline[4200];
	struct bz_boot b;
	char err[200];
	/* The TSC's rate is known here, not to the child: without it Linux calibrates against PIT
	 * channel 2 (port 0x61), which is not modelled, and gives up the TSC. */
	const char *c = m->o->cmdline;
	int given = 0;
	for (const char *p = c; *p; p++)
		given |= (p == c || p[-1] == ' ') && !mcmp(p, "tsc_early_khz=", 14);
	if (given)
		fmt(cmdline, sizeof cmdline, "%s", c);
	else
		fmt(cmdline, sizeof cmdline, "%s%stsc_early_khz=%lu", c, c[0] ? " " : "", plat_tsc_hz() / 1000);
	if (bz_load(&b, img, len, initrd, ilen, m->mem, m->mem_size, cmdline, err, sizeof err)) {
		plat_msg("%s: %s", m->o->kernel, err);
		return -1;
	}
	l->entry = b.entry;
	bz_init_state(&b, &l->rs);
	return 0;
}

static int load_guest(struct machine *m, const uint8_t *img, size_t len, const uint8_t *initrd,
		      size_t ilen, struct loaded *l)
{
	const struct start_opts *o = m->o;
	mzero(l, sizeof *l);
	int hvt = hvt_detect(img, len);
	if (hvt < 0) {
		plat_msg("%s: an ELF file with malformed notes", o->kernel);
		return -1;
	}
	m->kind = hvt ? GUEST_HVT : bz_detect(img, len) ? GUEST_LINUX : mb_detect(img, len) ? GUEST_MULTIBOOT :
		  is_elf64(img, len) ? GUEST_ELF : GUEST_RAW;
	if (o->ndevopts && m->kind != GUEST_HVT) {
		plat_msg("%s: --%s: devices are for Solo5 hvt unikernels only", o->kernel, o->devopts[0]);
		return -1;
	}
	if (initrd && m->kind != GUEST_MULTIBOOT && m->kind != GUEST_LINUX) {
		plat_msg("%s: -i %s: an initrd or module is for Multiboot and Linux kernels only", o->kernel, o->initrd);
		return -1;
	}
	switch (m->kind) {
	case GUEST_HVT:
		return load_hvt(m, img, len, l);
	case GUEST_LINUX:
		return load_linux(m, img, len, initrd, ilen, l);
	case GUEST_MULTIBOOT:
		return load_multiboot(m, img, len, initrd, ilen, l);
	case GUEST_ELF:
		vmm_solo5_tables(m->mem);
		l->nsegs = load_elf(img, len, m->mem, m->mem_size, l->segs, &l->entry);
		if (l->nsegs < 0) {
			plat_msg("%s: malformed ELF, or it does not fit %lu MiB", o->kernel, m->mem_size / MIB);
			return -1;
		}
		vmm_state_long64(&l->rs, l->entry);
		return 0;
	case GUEST_RAW:
		break;
	}
	if (o->load == ~0ull) {
		plat_msg("%s: unknown format (not ELF64, Solo5 hvt, Multiboot or a Linux bzImage)", o->kernel);
		return -1;
	}
	if (o->load > m->mem_size || len > m->mem_size - o->load || o->entry >= m->mem_size) {
		plat_msg("%s (%lu bytes at %lx) does not fit %lu MiB", o->kernel, (unsigned long)len, o->load,
			 m->mem_size / MIB);
		return -1;
	}
	if (o->mode == MODE_LONG64)   /* first, so that an image loaded over them replaces them */
		vmm_solo5_tables(m->mem);
	mcopy(m->mem + o->load, img, len);
	l->entry = o->entry;
	if (o->mode == MODE_REAL)
		vmm_state_real(&l->rs, (uint16_t)(o->entry >> 4) & 0xf000, o->entry & 0xffff);
	else if (o->mode == MODE_PROT32)
		vmm_state_prot32(&l->rs, o->entry);
	else
		vmm_state_long64(&l->rs, o->entry);
	return 0;
}

static void protect_segments(struct machine *m, const struct loaded *l)
{
	for (int i = 0; i < l->nsegs; i++) {
		const struct elf_seg *s = &l->segs[i];
		struct vm_mprotect_ept_params mp = { m->id, 0, s->start, s->end - s->start, s->prot };
		int e = plat_vmm(BVMM_OP_MPROTECT_EPT, &mp);
		plat_msg("  segment %lx-%lx %c%c%c (MPROTECT_EPT errno %d)", s->start, s->end,
			 s->prot & PROT_READ ? 'r' : '-', s->prot & PROT_WRITE ? 'w' : '-',
			 s->prot & PROT_EXEC ? 'x' : '-', e);
	}
}

static const char *kind_name(enum guest_kind k)
{
	static const char *const names[] = { "raw image", "ELF64", "Solo5 hvt unikernel",
					     "Multiboot kernel", "Linux bzImage" };
	return names[k];
}

int machine_start(const struct start_opts *o)
{
	static struct machine m;
	static struct vm_create_params cp;
	static struct vm_resetcpu_params rr;
	static struct loaded l;
	struct vm_hvinfo_params h;
	void *img;
	size_t len;
	int status = VMMCTL_EXIT_ERROR;

	mzero(&m, sizeof m);
	m.o = o;
	m.vendor = plat_vmm(BVMM_OP_HVINFO, &h) ? BVMM_VENDOR_AMD_SVM : h.vhi_vendor;
	if (!o->mem || o->mem % 4096) {
		plat_msg("%s: memory size %lu bytes is not a whole number of pages", o->kernel, o->mem);
		return VMMCTL_EXIT_USAGE;
	}
	int e = plat_read_file(o->kernel, &img, &len);
	if (e) {
		plat_msg("%s: cannot read it (errno %d)", o->kernel, e);
		return VMMCTL_EXIT_ERROR;
	}
	void *initrd = NULL;
	size_t ilen = 0;
	if (o->initrd && (e = plat_read_file(o->initrd, &initrd, &ilen))) {
		plat_msg("%s: cannot read it (errno %d)", o->initrd, e);
		plat_free(img);
		return VMMCTL_EXIT_ERROR;
	}
	m.mem_size = o->mem;
	m.mem = plat_guest_alloc(m.mem_size);
	if (!m.mem) {
		plat_msg("%s: cannot allocate %lu MiB of guest memory", o->name, m.mem_size / MIB);
		plat_free(img);
		if (initrd)
			plat_free(initrd);
		return VMMCTL_EXIT_ERROR;
	}
	e = load_guest(&m, img, len, initrd, ilen, &l);
	plat_free(img);
	if (initrd)
		plat_free(initrd);
	if (e)
		goto out_mem;

	mzero(&cp, sizeof cp);
	cp.vcp_nmemranges = 1;
	cp.vcp_ncpus = 1;
	cp.vcp_memranges[0] = (struct vm_mem_range){ 0, (uint64_t)(uintptr_t)m.mem, m.mem_size };
	mcopy(cp.vcp_name, o->name, slen(o->name) + 1);
	e = plat_vmm(BVMM_OP_CREATE, &cp);
	if (e) {
		plat_msg("%s: CREATE of %lu MiB failed: errno %d%s", o->name, m.mem_size / MIB, e,
			 e == VE_NOMEM ? " (the hypervisor's pool is too small for it)" : "");
		goto out_mem;
	}
	m.id = cp.vcp_id;
	if (m.kind == GUEST_RAW)
		plat_msg("VM %u \"%s\": %lu MiB, raw image %s at %lx, entry %lx", m.id, o->name,
			 m.mem_size / MIB, o->kernel, o->load, l.entry);
	else if (m.kind == GUEST_ELF || m.kind == GUEST_HVT)
		plat_msg("VM %u \"%s\": %lu MiB, %s %s, %d segments, entry %lx", m.id, o->name,
			 m.mem_size / MIB, kind_name(m.kind), o->kernel, l.nsegs, l.entry);
	else
		plat_msg("VM %u \"%s\": %lu MiB, %s %s, entry %lx", m.id, o->name, m.mem_size / MIB,
			 kind_name(m.kind), o->kernel, l.entry);
	protect_segments(&m, &l);
	if (m.has_apic) {
		struct vm_rwvmparams_params vp = { .vpp_vm_id = m.id, .vpp_mask = VM_RWVMPARAMS_XAPIC,
						   .vpp_xapic = VPP_XAPIC_MMIO };
		if ((e = plat_vmm(BVMM_OP_WRITEVMPARAMS, &vp)))
			plat_msg("%s: WRITEVMPARAMS (xAPIC) errno %d: the guest sees no local APIC", o->name, e);
		xapic_init(&m.apic, 0);
	}
	pic_init(&m.pic);
	pit_init(&m.pit, NS);   /* the PIT counts in plat_now_ns()'s nanoseconds */
	uart_init(&m.com1);
	rtc_init(&m.rtc, m.mem_size);
	mzero(&rr, sizeof rr);
	rr.vrp_vm_id = m.id;
	rr.vrp_init_state = l.rs;
	e = plat_vmm(BVMM_OP_RESETCPU, &rr);
	/* Exits carry the general registers only (bvmm's vpp_exit_regs), about 250
	 * instructions cheaper each: port I/O and HLT need no more. A guest with an xAPIC keeps
	 * the whole state: its timer's MMIO exits are decoded from it, and a READREGS on each
	 * would make every one of them slower (under Bochs, slower than a fast periodic timer:
	 * the guest then never leaves its interrupt handler). */
	struct vm_rwvmparams_params xr = { .vpp_vm_id = m.id, .vpp_mask = VM_RWVMPARAMS_EXIT_REGS,
					   .vpp_exit_regs = VM_RWREGS_GPRS };
	m.exit_regs = !e && !m.has_apic && !plat_vmm(BVMM_OP_WRITEVMPARAMS, &xr) ? VM_RWREGS_GPRS
										: VM_RWREGS_ALL;
	if (e) {
		plat_msg("%s: RESETCPU errno %d", o->name, e);
	} else {
		run_loop(&m);
		status = m.status;
	}
	struct vm_terminate_params t = { m.id };
	e = plat_vmm(BVMM_OP_TERM, &t);
	if (e == VE_NOENT)
		plat_msg("VM %u was already terminated", m.id);
	else
		plat_msg("VM %u terminated (errno %d)", m.id, e);
out_mem:
	plat_guest_free(m.mem, m.mem_size);
	return status;
}
