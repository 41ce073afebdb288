/* The machine behind a child (machine.h): load the image the kind of guest asks for, create
 * the VM, then the vmd-style loop: the interrupt level to INTR, a vector when the guest can
 * take one, RUN, answer the port or MMIO access the guest made, continue. */
#include "machine.h"
#include "plat.h"
#include "../libvmm/vmm_state.h"
#include "../libvmm/vmm_exit.h"
#include "../../hv/fmt.h"

#define MIB ((uint64_t)1 << 20)
#define COM1 0x3f8
#define LSR_THRE_TEMT 0x60
#define NS 1000000000ull
#define INPUT_POLL_NS 2000000ull   /* console input is looked at every 2 ms of guest running */

struct machine {
	const struct start_opts *o;
	uint32_t id, vendor;
	uint8_t *mem;
	uint64_t mem_size;
	enum guest_kind kind;
	struct pics pic;
	struct i8253 pit;
	/* The console: raw bytes with -c, else lines prefixed with the VM's name. */
	char line[240];
	unsigned n;
	int esc;                 /* ~. detection: 0 at a line start, 1 after "~", 2 mid-line */
	int detached;
	uint64_t next_input_poll;
	/* The end of the run. */
	int done, status;
	const char *why;
	/* Exits by kind, for the closing line. */
	unsigned long n_io, n_mmio, n_hlt, n_irq, n_none, n_win, n_other;
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

/* Input from the terminal (only with -c). "~." at the start of a line detaches, as cu(1) and
 * vmctl(8) do; "~~" sends one "~". Returns the byte for the guest, or -1 for none. */
static int console_filter(struct machine *m, uint8_t c)
{
	if (m->esc == 1) {
		m->esc = 2;
		if (c == '.') {
			if (plat_detach() == 0) {
				m->detached = 1;
				return -1;
			}
			plat_msg("%s: cannot detach here", m->o->name);
			return -1;
		}
		if (c != '~') {
			/* Not an escape: the "~" held back goes first (dropped if the guest has no
			 * input path; the byte in hand follows). */
		}
	} else if (m->esc == 0 && c == '~') {
		m->esc = 1;
		return -1;
	}
	m->esc = (c == '\r' || c == '\n') ? 0 : 2;
	return c;
}

static void poll_input(struct machine *m, uint64_t now)
{
	uint8_t c;
	if (!m->o->console || m->detached || now < m->next_input_poll)
		return;
	m->next_input_poll = now + INPUT_POLL_NS;
	while (plat_console_in(&c)) {
		int b = console_filter(m, c);
		if (b < 0)
			continue;
		/* No device takes input yet (the UART comes with the Linux child): dropped. */
	}
}

static void port_io(struct machine *m, struct vm_exit_inout *io, uint64_t now)
{
	int in = io->vei_dir == VEI_DIR_IN;
	if (pic_io(&m->pic, io->vei_port, in, &io->vei_data) ||
	    pit_io(&m->pit, io->vei_port, in, &io->vei_data, now))
		return;
	if (in) {
		io->vei_data = io->vei_port == COM1 + 5 ? LSR_THRE_TEMT : 0xffffffff;
		return;
	}
	if (io->vei_port == COM1)
		console_byte(m, (uint8_t)io->vei_data);
}

/* The earliest instant a device will want the guest's attention, 0 if none ever will. */
static uint64_t next_deadline(const struct machine *m)
{
	return m->pit.running ? m->pit.next_tsc : 0;
}

/* HLT with interrupts on: wait for the next device event, as vmd does. Returns 0 if nothing
 * can ever wake the guest. */
static int wait_for_interrupt(struct machine *m)
{
	if (pic_pending(&m->pic))
		return 1;
	uint64_t d = next_deadline(m);
	if (!d && !(m->o->console && !m->detached))
		return 0;
	plat_wait(d);
	m->next_input_poll = 0;
	return 1;
}

static void stop(struct machine *m, int status, const char *why)
{
	m->done = 1;
	m->status = status;
	m->why = why;
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
			plat_msg("%s: access outside guest memory at rip %lx", m->o->name, rip);
			stop(m, VMMCTL_EXIT_ERROR, "MMIO access to no device");
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

static void run_loop(struct machine *m)
{
	static struct vm_exit ex __attribute__((aligned(1024)));
	struct vm_run_params rp = { .vrp_vm_id = m->id, .vrp_irq = VRP_IRQ_NONE, .vrp_exit = &ex };
	struct vm_intr_params intr = { m->id, 0, 0 };
	uint64_t t0 = plat_now_ns();

	pic_init(&m->pic);
	pit_init(&m->pit, NS);   /* the PIT counts in plat_now_ns()'s nanoseconds */
	while (!m->done) {
		uint64_t now = plat_now_ns();
		pit_tick(&m->pit, &m->pic, now);
		poll_input(m, now);
		uint16_t level = (uint16_t)pic_pending(&m->pic);
		if (level != intr.vip_intr) {
			intr.vip_intr = level;
			plat_vmm(BVMM_OP_INTR, &intr);
		}
		int vec = level && rp.vrp_irqready ? pic_ack(&m->pic) : -1;
		rp.vrp_irq = vec >= 0 ? (uint16_t)vec : VRP_IRQ_NONE;
		m->n_irq += vec >= 0;
		int e = plat_vmm(BVMM_OP_RUN, &rp);
		if (e == VE_IO) {
			stop(m, VMMCTL_EXIT_OK, "halted");
		} else if (e == VE_NOENT) {
			stop(m, VMMCTL_EXIT_ERROR, "terminated from outside");
		} else if (e) {
			plat_msg("%s: RUN errno %d", m->o->name, e);
			stop(m, VMMCTL_EXIT_ERROR, "RUN failed");
		} else {
			rp.vrp_continue = 1;
			handle_exit(m, &rp, &ex);
		}
	}
	uint64_t ms = (plat_now_ns() - t0) / 1000000;
	plat_msg("%s: %s (status %d) after %lu.%03lu s: exits: %lu I/O, %lu MMIO, %lu HLT, "
		 "%lu interrupt windows, %lu for the host, %lu other; %lu interrupts injected",
		 m->o->name, m->why, m->status, ms / 1000, ms % 1000, m->n_io, m->n_mmio, m->n_hlt,
		 m->n_win, m->n_none, m->n_other, m->n_irq);
}

/* Loading. Each kind fills the initial state and the segments to protect. */
struct loaded {
	struct vcpu_reg_state rs;
	struct elf_seg segs[ELF_MAX_SEGS];
	int nsegs;
	uint64_t entry;
};

static void mcopy(void *d, const void *s, size_t n)
{
	uint8_t *a = d;
	const uint8_t *b = s;
	while (n--)
		*a++ = *b++;
}

static int load_guest(struct machine *m, const uint8_t *img, size_t len, struct loaded *l)
{
	const struct start_opts *o = m->o;
	mzero(l, sizeof *l);
	if (is_elf64(img, len)) {
		m->kind = GUEST_ELF;
		vmm_solo5_tables(m->mem);
		l->nsegs = load_elf(img, len, m->mem, m->mem_size, l->segs, &l->entry);
		if (l->nsegs < 0) {
			plat_msg("%s: malformed ELF, or it does not fit %lu MiB", o->kernel, m->mem_size / MIB);
			return -1;
		}
		vmm_state_long64(&l->rs, l->entry);
		return 0;
	}
	if (o->load == ~0ull) {
		plat_msg("%s: unknown format (not ELF64, Solo5 hvt, Multiboot or a Linux bzImage)", o->kernel);
		return -1;
	}
	m->kind = GUEST_RAW;
	if (o->load > m->mem_size || len > m->mem_size - o->load || o->entry >= m->mem_size) {
		plat_msg("%s (%lu bytes at %lx) does not fit %lu MiB", o->kernel, (unsigned long)len, o->load,
			 m->mem_size / MIB);
		return -1;
	}
	mcopy(m->mem + o->load, img, len);
	l->entry = o->entry;
	if (o->mode == MODE_REAL)
		vmm_state_real(&l->rs, (uint16_t)(o->entry >> 4) & 0xf000, o->entry & 0xffff);
	else if (o->mode == MODE_PROT32)
		vmm_state_prot32(&l->rs, o->entry);
	else {
		vmm_solo5_tables(m->mem);
		vmm_state_long64(&l->rs, o->entry);
	}
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
	m.mem_size = o->mem;
	m.mem = plat_guest_alloc(m.mem_size);
	if (!m.mem) {
		plat_msg("%s: cannot allocate %lu MiB of guest memory", o->name, m.mem_size / MIB);
		plat_free(img);
		return VMMCTL_EXIT_ERROR;
	}
	e = load_guest(&m, img, len, &l);
	plat_free(img);
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
	else
		plat_msg("VM %u \"%s\": %lu MiB, %s %s, %d segments, entry %lx", m.id, o->name,
			 m.mem_size / MIB, kind_name(m.kind), o->kernel, l.nsegs, l.entry);
	protect_segments(&m, &l);
	mzero(&rr, sizeof rr);
	rr.vrp_vm_id = m.id;
	rr.vrp_init_state = l.rs;
	e = plat_vmm(BVMM_OP_RESETCPU, &rr);
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
