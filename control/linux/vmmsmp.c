// SPDX-License-Identifier: GPL-2.0
/*
 * vmmsmp.c - /dev/vmm (bvmm.ko) used from several CPUs at once: threads pinned to CPUs drive
 * child VMs through shared and separate files, a second process does the same, CPUs go
 * offline and come back. Prints one "PASS smp-<check>", "FAIL smp-<check>: <why>" or
 * "SKIP smp-<check>: <why>" line per check and exits 0 if none failed.
 *
 * Checks that mean something only with two CPUs or more are skipped on one CPU ("-f" runs
 * them anyway, to develop this program on one CPU; they are expected to fail there). Every
 * ioctl is watched: one that has not returned after WATCH_S seconds fails the check being
 * run and ends the program, so that a deadlock or a lost wake-up is a FAIL line, not a
 * hang.
 *
 * Usage: vmmsmp [-f] [-n stress-cycles] [-c check,...] [-r repeat]   (-c: only those checks,
 * named as in checks[] below; -r: each that often, to chase a rare failure)
 * Static (glibc, pthreads): the initramfs runs it as a child of PID 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmmguest.h"

#define WATCH_S   20.0	/* an ioctl longer than this is stuck (RUN returns at every tick) */
#define WAIT_S    10.0	/* how long a check waits for a state it needs to see */
#define MEM_SIZE  (1ul << 20)
#define MAX_THREADS 64

/*
 * The children, real mode, at fixed addresses in each VM's memory (hand-assembled):
 * OUTLOOP:  inc %eax; out %eax, (%dx); jmp OUTLOOP   - an I/O exit per iteration, EAX counts
 * SPIN:     jmp SPIN                                 - no exits: RUN stays inside the
 *                                                      hypervisor until the next interrupt
 * WRITER:   inc %eax; mov %eax, (%bx); jmp WRITER    - no exits, EAX counts into DS:BX
 */
#define G_OUTLOOP 0x1000
#define G_SPIN    0x1010
#define G_WRITER  0x1020
#define G_DATA    0x8000	/* WRITER's page (BX) */
static const uint8_t code_outloop[] = { 0x66, 0x40, 0x66, 0xef, 0xeb, 0xfa };
static const uint8_t code_spin[] = { 0xeb, 0xfe };
static const uint8_t code_writer[] = { 0x66, 0x40, 0x66, 0x89, 0x07, 0xeb, 0xf9 };

static int force;			/* -f: run the checks that need two CPUs on one */
static int stress_cycles = 400;		/* -n */
static int cpus[CPU_SETSIZE], ncpus;	/* the CPUs online at start, in order */
static cpu_set_t all_cpus;
static uint32_t vendor;
static int mainfd = -1;

/* ---- output: whole lines, one write each, so that threads do not interleave ---- */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int npass, nfail, nskip;

static void say(const char *fmt, ...)
{
	char b[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof b - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof b - 2)
		n = sizeof b - 2;
	b[n++] = '\n';
	pthread_mutex_lock(&out_lock);
	for (int off = 0; off < n;) {
		ssize_t w = write(1, b + off, n - off);
		if (w <= 0)
			break;
		off += w;
	}
	pthread_mutex_unlock(&out_lock);
}

/* check NAME: PASS if ok, else FAIL with the reason. */
static void result(int ok, const char *name, const char *why)
{
	if (ok) {
		npass++;
		say("PASS smp-%s", name);
	} else {
		nfail++;
		say("FAIL smp-%s: %s", name, why);
	}
}

static void skip(const char *name, const char *why)
{
	nskip++;
	say("SKIP smp-%s: %s", name, why);
}

/* A check that needs two CPUs: 1 to run it, 0 after printing SKIP. */
static int need_cpus(const char *name)
{
	if (ncpus >= 2 || force)
		return 1;
	skip(name, "only 1 CPU");
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void pause_ms(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* ---- the watchdog: every ioctl goes through vmm(), which stamps its slot ---- */
static struct {
	_Atomic double since;	/* 0: not in an ioctl */
	_Atomic unsigned long cmd;
	_Atomic int cpu;
} watch[MAX_THREADS];
static _Atomic int next_slot = 1;	/* 0 is the main thread's */
static __thread int slot;
static const char *_Atomic checking = "start";

static void claim_slot(void)
{
	slot = 1 + atomic_fetch_add(&next_slot, 1) % (MAX_THREADS - 1);
}

static const char *ioc_name(unsigned long cmd)
{
	static const char *names[] = { "?", "CREATE", "RUN", "INFO", "TERM", "RESETCPU", "INTR",
				       "READREGS", "WRITEREGS", "READVMPARAMS", "WRITEVMPARAMS",
				       "MPROTECT_EPT" };
	return (cmd & 0xff) < sizeof names / sizeof names[0] ? names[cmd & 0xff] : "?";
}

/* ioctl: 0 or -errno. */
static long vmm(int fd, unsigned long cmd, void *p)
{
	long r;

	watch[slot].cmd = cmd;
	watch[slot].cpu = sched_getcpu();
	watch[slot].since = now();
	r = ioctl(fd, cmd, p) ? -errno : 0;
	watch[slot].since = 0;
	return r;
}

static void *watchdog(void *unused)
{
	(void)unused;
	for (;;) {
		pause_ms(250);
		for (int i = 0; i < MAX_THREADS; i++) {
			double since = watch[i].since;

			if (!since || now() - since < WATCH_S)
				continue;
			nfail++;
			say("FAIL smp-%s: %s entered on CPU %d has not returned after %.0f s (deadlock or lost wake-up)",
			    checking, ioc_name(watch[i].cmd), watch[i].cpu, WATCH_S);
			say("vmmsmp: %d passed, %d failed, %d skipped (stopped by the watchdog)",
			    npass, nfail, nskip);
			_exit(2);
		}
	}
	return NULL;
}

/* ---- CPUs ---- */

/* Runs the calling thread on cpu only. 0 or -errno. */
static int pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof s, &s))
		return -errno;
	return sched_getcpu() == cpu ? 0 : -EAGAIN;
}

static void unpin(void)
{
	sched_setaffinity(0, sizeof all_cpus, &all_cpus);
}

/* The i-th CPU of the online ones, wrapping around. */
static int cpu_at(int i)
{
	return cpus[i % ncpus];
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

/* hvcheck's questions, asked of the CPU this thread runs on. 0, or why not in why. */
static int hv_signature_ok(char *why, size_t len)
{
	uint32_t r[4];

	cpuid(1, r);
	if (!(r[2] >> 31 & 1))
		return snprintf(why, len, "CPUID.1:ECX %#x lacks the hypervisor bit", r[2]), -1;
	if (r[2] >> 5 & 1)
		return snprintf(why, len, "CPUID.1:ECX %#x shows VMX", r[2]), -1;
	cpuid(BVMM_CPUID_BASE, r);
	if (r[1] != BVMM_CPUID_SIG_EBX || r[2] != BVMM_CPUID_SIG_ECX || r[3] != BVMM_CPUID_SIG_EDX)
		return snprintf(why, len, "CPUID 0x40000000 signature %#x %#x %#x, not \"bvmm\"",
				r[1], r[2], r[3]), -1;
	cpuid(0x80000000u, r);
	if (r[0] >= 0x80000001u) {
		cpuid(0x80000001u, r);
		if (r[2] >> 2 & 1)
			return snprintf(why, len, "CPUID.80000001h:ECX %#x shows SVM", r[2]), -1;
	}
	return 0;
}

/* VmLck of this process in KiB (the pages bvmm.ko pinned are charged there), or -1. */
static long vmlck_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmLck: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- VMs ---- */
struct vm {
	uint32_t id;
	uint8_t *mem;
};

/* 1 MiB of memory with the children in it, and CREATE with nvcpus vCPUs through fd. */
static long vm_create(int fd, struct vm *v, int nvcpus, const char *name)
{
	struct vm_create_params cp;
	long e;

	if (!v->mem) {
		void *m = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED)
			return -errno;
		v->mem = m;
	}
	memset(v->mem, 0, MEM_SIZE);
	memcpy(v->mem + G_OUTLOOP, code_outloop, sizeof code_outloop);
	memcpy(v->mem + G_SPIN, code_spin, sizeof code_spin);
	memcpy(v->mem + G_WRITER, code_writer, sizeof code_writer);
	vmm_create_gpa0(&cp, v->mem, MEM_SIZE, nvcpus, name);
	e = vmm(fd, VMM_IOC_CREATE, &cp);
	v->id = e ? 0 : cp.vcp_id;
	return e;
}

static void vm_unmap(struct vm *v)
{
	if (v->mem)
		munmap(v->mem, MEM_SIZE);
	v->mem = NULL;
}

/* RESETCPU into real mode at rip, with EAX, EDX (the port) and EBX (WRITER's page) set. */
static long vm_reset(int fd, uint32_t id, uint32_t vcpu, uint64_t rip, uint32_t eax, uint16_t port)
{
	struct vm_resetcpu_params r = { .vrp_vm_id = id, .vrp_vcpu_id = vcpu };

	vmm_state_real(&r.vrp_init_state, 0, rip);
	r.vrp_init_state.vrs_gprs[VCPU_REGS_RAX] = eax;
	r.vrp_init_state.vrs_gprs[VCPU_REGS_RDX] = port;
	r.vrp_init_state.vrs_gprs[VCPU_REGS_RBX] = G_DATA;
	return vmm(fd, VMM_IOC_RESETCPU, &r);
}

static long vm_term(int fd, uint32_t id)
{
	struct vm_terminate_params t = { .vtp_vm_id = id };

	return vmm(fd, VMM_IOC_TERM, &t);
}

static long vm_readregs(int fd, uint32_t id, uint32_t vcpu, struct vm_rwregs_params *rw)
{
	memset(rw, 0, sizeof *rw);
	rw->vrwp_vm_id = id;
	rw->vrwp_vcpu_id = vcpu;
	rw->vrwp_mask = VM_RWREGS_GPRS;
	return vmm(fd, VMM_IOC_READREGS, rw);
}

/* INFO: 1 if VM id is listed, 0 if not, -errno. With prefix, counts VMs named so instead. */
static long info_find(int fd, uint32_t id, const char *prefix)
{
	struct vm_info_params ip = { 0 };
	struct vm_info_result *r;
	long e, found = 0;

	if ((e = vmm(fd, VMM_IOC_INFO, &ip)))	/* the size probe */
		return e;
	ip.vip_size += 8 * sizeof *r;		/* room for VMs created meanwhile */
	r = calloc(1, ip.vip_size);
	if (!r)
		return -ENOMEM;
	ip.vip_info = r;
	e = vmm(fd, VMM_IOC_INFO, &ip);
	for (uint64_t i = 0; !e && i < ip.vip_info_ct; i++)
		if (prefix ? !strncmp(r[i].vir_name, prefix, strlen(prefix)) : r[i].vir_id == id)
			found++;
	free(r);
	return e ? e : found;
}

/* INFO lists VM id, or with prefix VMs so named: the reason in why. 0 if none is listed. */
static long listed(int fd, uint32_t id, const char *prefix, char *why, size_t len)
{
	long n = info_find(fd, id, prefix);

	if (n < 0)
		snprintf(why, len, "INFO: errno %ld", -n);
	else if (n && prefix)
		snprintf(why, len, "%ld VMs named %s* still exist", n, prefix);
	else if (n)
		snprintf(why, len, "INFO still lists vm %u", id);
	return n;
}

/* A VM whose vCPU 0 runs SPIN: its RUN stays inside the hypervisor until an interrupt. */
static long vm_spinning(int fd, struct vm *v, int nvcpus, const char *name)
{
	long e = vm_create(fd, v, nvcpus, name);

	return e ? e : vm_reset(fd, v->id, 0, G_SPIN, 0, 0);
}

/* ---- RUN loops ---- */
/* Threads inside the RUN ioctl right now, and the most seen. Evidence of RUNs in parallel
 * only where the threads have CPUs of their own: a thread preempted on its way out of the
 * ioctl counts too. */
static atomic_int in_run, max_in_run;

static long run_once(int fd, struct vm_run_params *rp)
{
	int n = atomic_fetch_add(&in_run, 1) + 1, m = max_in_run;
	long e;

	while (n > m && !atomic_compare_exchange_weak(&max_in_run, &m, n))
		;
	e = vmm(fd, VMM_IOC_RUN, rp);
	atomic_fetch_sub(&in_run, 1);
	return e;
}

/* An exit nobody expected, for a FAIL line: where the vCPU was, and for a nested page fault
 * its kind and the instruction's bytes. */
static void describe_exit(char *b, size_t len, uint16_t reason, const struct vm_exit *ex)
{
	const struct vcpu_reg_state *r = &ex->vrs;
	int n = snprintf(b, len, "exit reason %#x on CPU %d at CS:RIP %#x:%#llx EAX %#llx", reason,
			 sched_getcpu(), r->vrs_sregs[VCPU_REGS_CS].vsi_sel,
			 (unsigned long long)r->vrs_gprs[VCPU_REGS_RIP],
			 (unsigned long long)r->vrs_gprs[VCPU_REGS_RAX]);

	if (vmm_exit_kind(reason, vendor) != VMM_EXIT_KIND_NPF || n < 0 || (size_t)n >= len)
		return;
	n += snprintf(b + n, len - n, ", fault type %u, %u bytes", ex->vee.vee_fault_type,
		      ex->vee.vee_insn_len);
	for (int i = 0; i < ex->vee.vee_insn_len && i < 15 && (size_t)n < len; i++)
		n += snprintf(b + n, len - n, " %02x", ex->vee.vee_insn_bytes[i]);
}

struct outs {			/* run_outs's answer */
	long err;		/* 0, RUN's -errno, or 1: a wrong exit (why) */
	int exits, nones;
	char why[300];
};

/*
 * RUN vCPU vcpu of VM id, which OUTLOOP runs with EDX = port, until n of its I/O exits have
 * been seen, each an OUT of 4 bytes to port with EAX one more than the one before (first
 * the value after eax0), or until limit seconds have passed. VM_EXIT_NONE (an interrupt of
 * this CPU) runs again.
 */
static void run_outs(int fd, uint32_t id, uint32_t vcpu, uint16_t port, uint32_t eax0, int n,
		     double limit, struct outs *o)
{
	struct vm_exit ex;
	struct vm_run_params rp = { .vrp_vm_id = id, .vrp_vcpu_id = vcpu, .vrp_irq = VRP_IRQ_NONE,
				    .vrp_exit = &ex };
	uint32_t want = eax0 + 1;
	double end = now() + limit;

	memset(o, 0, sizeof *o);
	while (o->exits < n) {
		if (now() > end) {
			o->err = 1;
			snprintf(o->why, sizeof o->why, "vm %u vcpu %u: %d of %d I/O exits in %.0f s",
				 id, vcpu, o->exits, n, limit);
			return;
		}
		o->err = run_once(fd, &rp);
		if (o->err) {
			snprintf(o->why, sizeof o->why, "vm %u vcpu %u: RUN errno %ld after %d exits",
				 id, vcpu, -o->err, o->exits);
			return;
		}
		rp.vrp_continue = 1;
		switch (vmm_exit_kind(rp.vrp_exit_reason, vendor)) {
		case VMM_EXIT_KIND_NONE:
			o->nones++;
			continue;
		case VMM_EXIT_KIND_IO:
			if (ex.vei.vei_port == port && ex.vei.vei_dir == VEI_DIR_OUT &&
			    ex.vei.vei_size == 4 && ex.vei.vei_data == want) {
				o->exits++;
				want++;
				continue;
			}
			o->err = 1;
			snprintf(o->why, sizeof o->why,
				 "vm %u vcpu %u: exit %d: OUT of %u bytes of %#x to port %#x, expected %#x to %#x (another vCPU's state?)",
				 id, vcpu, o->exits, ex.vei.vei_size, ex.vei.vei_data,
				 ex.vei.vei_port, want, port);
			return;
		default: {
			char d[200];

			describe_exit(d, sizeof d, rp.vrp_exit_reason, &ex);
			o->err = 1;
			snprintf(o->why, sizeof o->why, "vm %u vcpu %u: %s after %d I/O exits", id,
				 vcpu, d, o->exits);
			return;
		}
		}
	}
}

/* ---- threads ---- */
struct worker {
	pthread_t t;
	int i, cpu, fd;
	struct vm vm;
	pthread_barrier_t *go;
	struct outs o;
	long err;		/* the first failure, as run_outs's err */
	char why[240];
	/* for the checks with a RUN loop in a thread of its own */
	_Atomic int stop, done;
	long busy, nones;
	_Atomic long runs;	/* the spinner's count, read by the main thread */
	double t_end;
	struct vm_exit ex;	/* the exit that ended the loop (writer) */
	uint16_t exit_reason;
};

static void *worker_start(void *arg)
{
	struct worker *w = arg;
	int e;

	claim_slot();
	e = pin(w->cpu);
	if (e) {
		w->err = e;
		snprintf(w->why, sizeof w->why, "cannot run on CPU %d (errno %d)", w->cpu, -e);
	}
	return NULL;
}

static int spawn(struct worker *w, void *(*fn)(void *))
{
	return pthread_create(&w->t, NULL, fn, w);
}

/* Every thread of one check fails with its own reason; the first one is the check's. */
static void fail_once(struct worker *w, long err, const char *fmt, ...)
{
	va_list ap;

	if (w->err)
		return;
	w->err = err ? err : 1;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof w->why, fmt, ap);
	va_end(ap);
}

/* ---- (a) hvcheck on each CPU ---- */
static void check_hvcheck(void)
{
	char name[64], why[200];

	checking = "hvcheck";
	for (int i = 0; i < ncpus; i++) {
		int e = pin(cpus[i]);

		snprintf(name, sizeof name, "hvcheck-cpu%d", cpus[i]);
		if (e)
			snprintf(why, sizeof why, "cannot run on CPU %d (errno %d)", cpus[i], -e);
		result(!e && !hv_signature_ok(why, sizeof why), name, why);
	}
	unpin();
}

/* ---- (b) one VM per CPU, all running at once ---- */
static void *vm_per_cpu_thread(void *arg)
{
	struct worker *w = arg;
	char name[32];
	long e;

	worker_start(w);
	snprintf(name, sizeof name, "smp-cpu%d", w->cpu);
	e = w->err ? w->err : vm_create(mainfd, &w->vm, 1, name);
	if (e)
		fail_once(w, e, "CREATE for CPU %d: errno %ld", w->cpu, -e);
	else if ((e = vm_reset(mainfd, w->vm.id, 0, G_OUTLOOP, 0, 0x500 + w->i)))
		fail_once(w, e, "RESETCPU: errno %ld", -e);
	pthread_barrier_wait(w->go);	/* every thread gets here, so that none waits forever */
	if (!w->err) {
		run_outs(mainfd, w->vm.id, 0, 0x500 + w->i, 0, 1000, WAIT_S, &w->o);
		if (w->o.err)
			fail_once(w, w->o.err, "CPU %d: %s", w->cpu, w->o.why);
		if (sched_getcpu() != w->cpu)
			fail_once(w, 1, "the thread left CPU %d", w->cpu);
	}
	if (w->vm.id && (e = vm_term(mainfd, w->vm.id)))
		fail_once(w, e, "TERM: errno %ld", -e);
	vm_unmap(&w->vm);
	return NULL;
}

/* Runs fn on n threads, the i-th on the i-th CPU; the first failure in why. 0 if none. */
static long run_workers(struct worker *w, int n, void *(*fn)(void *), char *why, size_t len)
{
	pthread_barrier_t go;
	long err = 0;

	pthread_barrier_init(&go, NULL, n);
	for (int i = 0; i < n; i++) {
		w[i].i = i;
		w[i].cpu = cpu_at(i);
		w[i].go = &go;
		w[i].fd = mainfd;
		if (spawn(&w[i], fn)) {
			snprintf(why, len, "pthread_create failed");
			return -EAGAIN;	/* cannot happen at these numbers; the others would wait */
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		if (w[i].err && !err) {
			err = w[i].err;
			snprintf(why, len, "%s", w[i].why);
		}
	}
	pthread_barrier_destroy(&go);
	return err;
}

static void check_vm_per_cpu(void)
{
	struct worker w[CPU_SETSIZE > 64 ? 64 : CPU_SETSIZE];
	int n = ncpus < 64 ? ncpus : 64, exits = 0;
	char why[300];
	long err;

	checking = "vm-per-cpu";
	if (!need_cpus(checking))
		return;
	memset(w, 0, sizeof w);
	in_run = max_in_run = 0;
	err = run_workers(w, n, vm_per_cpu_thread, why, sizeof why);
	for (int i = 0; i < n; i++)
		exits += w[i].o.exits;
	say("vmmsmp: vm-per-cpu: %d VMs on %d CPUs, %d I/O exits, at most %d threads in RUN at once",
	    n, n, exits, (int)max_in_run);
	if (!err && n >= 2 && max_in_run < 2)
		snprintf(why, sizeof why, "never two RUNs at once in %d exits", exits), err = 1;
	result(!err, checking, why);
}

/* ---- (c) one VM with 4 vCPUs, a thread per vCPU ---- */
static struct vm shared_vm;

static void *vcpus_thread(void *arg)
{
	struct worker *w = arg;
	long e;

	worker_start(w);
	e = w->err ? w->err : vm_reset(mainfd, shared_vm.id, w->i, G_OUTLOOP, w->i << 24, 0x600 + w->i);
	if (e)
		fail_once(w, e, "RESETCPU of vCPU %d: errno %ld", w->i, -e);
	pthread_barrier_wait(w->go);
	if (!w->err) {
		run_outs(mainfd, shared_vm.id, w->i, 0x600 + w->i, w->i << 24, 1000, WAIT_S, &w->o);
		if (w->o.err)
			fail_once(w, w->o.err, "%s", w->o.why);
	}
	return NULL;
}

static void check_vcpus(void)
{
	struct worker w[4];
	char why[300] = "";
	long err;
	int on = ncpus < 4 ? ncpus : 4;

	checking = "vm-4-vcpus";
	memset(w, 0, sizeof w);
	memset(&shared_vm, 0, sizeof shared_vm);
	in_run = max_in_run = 0;
	err = vm_create(mainfd, &shared_vm, 4, "smp-4vcpus");
	if (err)
		snprintf(why, sizeof why, "CREATE with 4 vCPUs: errno %ld", -err);
	else
		err = run_workers(w, 4, vcpus_thread, why, sizeof why);
	say("vmmsmp: vm-4-vcpus: 4 vCPUs on %d CPUs, %d I/O exits, at most %d threads in RUN at once", on,
	    w[0].o.exits + w[1].o.exits + w[2].o.exits + w[3].o.exits, (int)max_in_run);
	if (!err && on >= 2 && max_in_run < 2)
		snprintf(why, sizeof why, "never two vCPUs in RUN at once"), err = 1;
	if (shared_vm.id) {
		long e = vm_term(mainfd, shared_vm.id);
		if (e && !err)
			snprintf(why, sizeof why, "TERM: errno %ld", -e), err = e;
	}
	vm_unmap(&shared_vm);
	result(!err, checking, why);
}

/* ---- a thread that keeps a vCPU running: RUN again after every VM_EXIT_NONE ---- */
/* Runs vCPU w->i (0 unless set) of w->vm until an error or w->stop. */
static void *spinner(void *arg)
{
	struct worker *w = arg;
	struct vm_exit ex;
	struct vm_run_params rp = { .vrp_vm_id = w->vm.id, .vrp_vcpu_id = (uint32_t)w->i,
				    .vrp_irq = VRP_IRQ_NONE, .vrp_exit = &ex };
	long e;

	worker_start(w);
	while (!w->err && !w->stop) {
		e = run_once(w->fd, &rp);
		w->runs++;
		if (e == -EBUSY) {	/* another thread runs it right now */
			w->busy++;
			continue;
		}
		if (e) {
			w->err = e;	/* ENOENT after TERM, EBADF after close: the caller judges */
			break;
		}
		if (vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_NONE) {
			w->nones++;
			continue;
		}
		{
			char d[200];

			describe_exit(d, sizeof d, rp.vrp_exit_reason, &ex);
			fail_once(w, 1, "the spinning child: %s", d);
		}
	}
	w->t_end = now();
	w->done = 1;
	return NULL;
}

/* Waits until vCPU `vcpu` of VM id is seen running (READREGS answers EBUSY). 1 if seen. */
static int wait_vcpu_running(int fd, uint32_t id, uint32_t vcpu, double limit)
{
	struct vm_rwregs_params rw;
	double end = now() + limit;

	while (now() < end)
		if (vm_readregs(fd, id, vcpu, &rw) == -EBUSY)
			return 1;
	return 0;
}

static int wait_running(int fd, uint32_t id, double limit)
{
	return wait_vcpu_running(fd, id, 0, limit);
}

/* ---- (d) operations on a running vCPU: EBUSY ---- */
static void check_busy(void)
{
	static const char *names[] = { "busy-run", "busy-writeregs", "busy-mprotect",
				       "busy-resetcpu", "busy-readregs" };
	struct worker w;
	long busy[5] = { 0 }, tries[5] = { 0 }, other[5] = { 0 }, e;
	char why[300];
	double end;

	checking = "busy";
	if (!need_cpus("busy"))
		return;
	memset(&w, 0, sizeof w);
	w.fd = mainfd;
	w.cpu = cpu_at(1);
	e = vm_spinning(mainfd, &w.vm, 1, "smp-busy");
	if (e) {
		snprintf(why, sizeof why, "CREATE/RESETCPU: errno %ld", -e);
		for (int k = 0; k < 5; k++)
			result(0, names[k], why);
		vm_unmap(&w.vm);
		return;
	}
	pin(cpu_at(0));
	spawn(&w, spinner);
	/* Each operation is tried until it meets the running vCPU. One that lands between two
	 * RUNs succeeds and changes nothing: the state written is SPIN's own. */
	end = now() + WAIT_S;
	for (int left = 5; left && now() < end && !w.done;) {
		for (int k = 0; k < 5; k++) {
			struct vm_exit ex;
			struct vm_run_params rp = { .vrp_vm_id = w.vm.id, .vrp_irq = VRP_IRQ_NONE,
						    .vrp_exit = &ex };
			struct vm_rwregs_params rw;
			struct vm_mprotect_ept_params mp = { .vmep_vm_id = w.vm.id,
				.vmep_sgpa = G_DATA, .vmep_size = 4096,
				.vmep_prot = PROT_READ | PROT_WRITE };

			if (busy[k])
				continue;
			tries[k]++;
			switch (k) {
			case 0:
				e = run_once(mainfd, &rp);
				break;
			case 1:
				memset(&rw, 0, sizeof rw);
				rw.vrwp_vm_id = w.vm.id;
				rw.vrwp_mask = VM_RWREGS_GPRS;
				rw.vrwp_regs.vrs_gprs[VCPU_REGS_RIP] = G_SPIN;
				rw.vrwp_regs.vrs_gprs[VCPU_REGS_RFLAGS] = 2;
				rw.vrwp_regs.vrs_gprs[VCPU_REGS_RBX] = G_DATA;
				e = vmm(mainfd, VMM_IOC_WRITEREGS, &rw);
				break;
			case 2:
				e = vmm(mainfd, VMM_IOC_MPROTECT_EPT, &mp);
				break;
			case 3:
				e = vm_reset(mainfd, w.vm.id, 0, G_SPIN, 0, 0);
				break;
			default:
				e = vm_readregs(mainfd, w.vm.id, 0, &rw);
				break;
			}
			if (e == -EBUSY)
				busy[k]++, left--;
			else if (e)
				other[k] = e;
		}
	}
	w.stop = 1;
	pthread_join(w.t, NULL);
	busy[0] += w.busy;	/* a RUN of ours that won made the spinner's RUN the loser */
	for (int k = 0; k < 5; k++) {
		if (w.err)
			snprintf(why, sizeof why, "the running thread: %s (errno %ld)", w.why, -w.err);
		else if (other[k])
			snprintf(why, sizeof why, "errno %ld instead of EBUSY", -other[k]);
		else
			snprintf(why, sizeof why, "no EBUSY in %ld tries while vCPU 0 ran on CPU %d (%ld RUNs)",
				 tries[k], w.cpu, w.runs);
		result(!w.err && !other[k] && busy[k], names[k], why);
	}
	if ((e = vm_term(mainfd, w.vm.id)))
		result(0, "busy-term", "TERM after the EBUSY checks failed");
	vm_unmap(&w.vm);
	unpin();
}

/* ---- (e) TERM while the vCPU runs on another CPU ---- */
static void check_term_running(void)
{
	char why[300] = "";
	long base = vmlck_kib(), err = 0;
	int rounds = 3, seen = 0;

	checking = "term-running";
	if (!need_cpus(checking))
		return;
	pin(cpu_at(0));
	for (int r = 0; r < rounds && !err; r++) {
		struct worker w;
		long e;
		double t0;

		memset(&w, 0, sizeof w);
		w.fd = mainfd;
		w.cpu = cpu_at(1);
		e = vm_spinning(mainfd, &w.vm, 1, "smp-term-running");
		if (e) {
			snprintf(why, sizeof why, "CREATE/RESETCPU: errno %ld", -e), err = e;
			break;
		}
		spawn(&w, spinner);
		seen += wait_running(mainfd, w.vm.id, WAIT_S);
		t0 = now();
		e = vm_term(mainfd, w.vm.id);
		while (!w.done && now() < t0 + WAIT_S)
			pause_ms(1);
		if (e)
			snprintf(why, sizeof why, "TERM: errno %ld", -e), err = e;
		else if (!w.done)
			snprintf(why, sizeof why, "RUN did not return within %.0f s of TERM", WAIT_S), err = 1;
		else if (w.err != -ENOENT)
			snprintf(why, sizeof why, "the interrupted RUN: errno %ld, expected ENOENT (%.200s)",
				 -w.err, w.why), err = 1;
		else if (listed(mainfd, w.vm.id, NULL, why, sizeof why))
			err = 1;
		if (!w.done)
			w.stop = 1;	/* the watchdog ends the program if it never returns */
		pthread_join(w.t, NULL);
		vm_unmap(&w.vm);
	}
	if (!err && seen < rounds)
		snprintf(why, sizeof why, "the vCPU was seen running (READREGS EBUSY) in %d of %d rounds",
			 seen, rounds), err = 1;
	if (!err && vmlck_kib() != base)
		snprintf(why, sizeof why, "VmLck %ld KiB after TERM, %ld before: pages left pinned",
			 vmlck_kib(), base), err = 1;
	result(!err, checking, why);
	say("vmmsmp: term-running: pool bytes not compared (/dev/vmm has no HVINFO ioctl)");
	unpin();
}

/* A 2-vCPU VM for w (vCPU 0 spinning and left stopped, vCPU 1 reset at rip1), its worker to
 * run on the second CPU, the caller pinned to the first. 0, or the check is reported failed
 * with `what` and everything undone. */
static long two_vcpu_vm(struct worker *w, const char *name, uint16_t rip1, const char *what)
{
	char why[300];
	long e;

	memset(w, 0, sizeof *w);
	w->fd = mainfd;
	w->cpu = cpu_at(1);
	pin(cpu_at(0));
	e = vm_spinning(mainfd, &w->vm, 2, name);
	if (!e)
		e = vm_reset(mainfd, w->vm.id, 1, rip1, 0, 0);
	if (!e)
		return 0;
	snprintf(why, sizeof why, "%s: errno %ld", what, -e);
	result(0, checking, why);
	if (w->vm.id)
		vm_term(mainfd, w->vm.id);
	vm_unmap(&w->vm);
	unpin();
	return e;
}

/* ---- (f) MPROTECT_EPT while another vCPU of the VM writes the page ---- */
static void *writer(void *arg)
{
	struct worker *w = arg;
	struct vm_run_params rp = { .vrp_vm_id = w->vm.id, .vrp_vcpu_id = 1, .vrp_irq = VRP_IRQ_NONE,
				    .vrp_exit = &w->ex };
	long e;

	worker_start(w);
	while (!w->err && !w->stop) {
		e = run_once(w->fd, &rp);
		if (e) {
			fail_once(w, e, "RUN of the writer: errno %ld", -e);
			break;
		}
		if (vmm_exit_kind(rp.vrp_exit_reason, vendor) == VMM_EXIT_KIND_NONE) {
			w->nones++;
			continue;
		}
		w->exit_reason = rp.vrp_exit_reason;
		break;
	}
	w->t_end = now();
	w->done = 1;
	return NULL;
}

static void check_mprotect_other(void)
{
	struct worker w;
	char why[300] = "";
	long e, err = 0;
	volatile uint32_t *data;
	uint32_t c0, c1 = 0, c2;
	const struct vm_exit *ex = &w.ex;
	char d[200];
	double end;

	checking = "mprotect-while-writing";
	if (!need_cpus(checking))
		return;
	if (two_vcpu_vm(&w, "smp-mprotect", G_WRITER, "CREATE/RESETCPU"))
		return;
	data = (volatile uint32_t *)(w.vm.mem + G_DATA);
	spawn(&w, writer);
	/* The writer is at work once the counter has moved twice. */
	end = now() + WAIT_S;
	for (int k = 0; k < 2; k++)
		for (c0 = *data; *data == c0 && !w.done && now() < end;)
			;
	if (*data == c0 || w.done) {
		snprintf(why, sizeof why, "the writer never wrote (%s)", w.err ? w.why : "no progress");
		err = 1;
	} else {
		/* vCPU 0 is stopped, so this is allowed; vCPU 1 is most likely inside RUN. */
		struct vm_mprotect_ept_params mp = { .vmep_vm_id = w.vm.id, .vmep_vcpu_id = 0,
			.vmep_sgpa = G_DATA, .vmep_size = 4096, .vmep_prot = PROT_READ };

		e = vmm(mainfd, VMM_IOC_MPROTECT_EPT, &mp);
		c1 = *data;	/* MPROTECT_EPT has returned: no write may land any more */
		if (e)
			snprintf(why, sizeof why, "MPROTECT_EPT naming stopped vCPU 0: errno %ld", -e),
				err = e;
	}
	end = now() + WAIT_S;
	while (!err && !w.done && now() < end)
		pause_ms(1);
	c2 = *data;
	describe_exit(d, sizeof d, w.exit_reason, ex);
	if (err)
		;
	else if (!w.done)
		snprintf(why, sizeof why, "no exit from the writer within %.0f s of MPROTECT_EPT (its writes go on: %#x -> %#x)",
			 WAIT_S, c1, c2), err = 1;
	else if (w.err)
		snprintf(why, sizeof why, "%s", w.why), err = 1;
	else if (vmm_exit_kind(w.exit_reason, vendor) != VMM_EXIT_KIND_NPF ||
		 ex->vee.vee_fault_type != VEE_FAULT_PROTECT)
		snprintf(why, sizeof why, "the writer's %s; expected a nested page fault with VEE_FAULT_PROTECT",
			 d), err = 1;
	else if (c2 != c1)
		snprintf(why, sizeof why, "writes landed after MPROTECT_EPT returned: %#x then, %#x now",
			 c1, c2), err = 1;
	else if ((uint32_t)ex->vrs.vrs_gprs[VCPU_REGS_RAX] != c1 + 1 ||
		 ex->vrs.vrs_gprs[VCPU_REGS_RIP] != G_WRITER + 2)
		snprintf(why, sizeof why, "the faulting write: EAX %#llx at RIP %#llx, expected %#x at %#x",
			 (unsigned long long)ex->vrs.vrs_gprs[VCPU_REGS_RAX],
			 (unsigned long long)ex->vrs.vrs_gprs[VCPU_REGS_RIP], c1 + 1, G_WRITER + 2),
			err = 1;
	if (!err)
		say("vmmsmp: mprotect-while-writing: %u writes before MPROTECT_EPT, the next one faulted", c1);
	result(!err, checking, why);
	w.stop = 1;
	vm_term(mainfd, w.vm.id);	/* ends a RUN loop still going (ENOENT) */
	pthread_join(w.t, NULL);
	vm_unmap(&w.vm);
	unpin();
}

/* ---- (l) what MPROTECT_EPT costs its caller, with no vCPU of the VM running and with one in
 * guest mode on another CPU (the shootdown: an NMI there, and a wait for its exit). Only with
 * -c mprotect-cost: wall-clock TSC ticks, which mean something under multi-threaded TCG or on
 * hardware, not when the CPUs take turns on one host thread. ---- */
static uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* n MPROTECT_EPTs of G_DATA naming stopped vCPU 0, each a real change; ticks per call. */
static long mprotect_ticks(uint32_t id, int n, uint64_t *ticks)
{
	struct vm_mprotect_ept_params mp = { .vmep_vm_id = id, .vmep_vcpu_id = 0,
					     .vmep_sgpa = G_DATA, .vmep_size = 4096 };
	uint64_t t0 = tsc();

	for (int i = 0; i < n; i++) {
		long e;

		mp.vmep_prot = PROT_READ | (i & 1 ? PROT_EXEC : PROT_WRITE);   /* never W+X (EINVAL) */
		e = vmm(mainfd, VMM_IOC_MPROTECT_EPT, &mp);
		if (e)
			return e;
	}
	*ticks = (tsc() - t0) / n;
	return 0;
}

static void check_mprotect_cost(void)
{
	struct worker w;
	char why[300] = "";
	uint64_t idle = 0, busy = 0;
	long e, err = 0, runs;
	enum { CALLS = 2000 };

	checking = "mprotect-cost";
	if (!need_cpus(checking))
		return;
	if (two_vcpu_vm(&w, "smp-mprotect-cost", G_SPIN, "CREATE/RESETCPU"))
		return;
	w.i = 1;	/* the spinner runs vCPU 1 */
	e = mprotect_ticks(w.vm.id, CALLS, &idle);
	if (e) {
		snprintf(why, sizeof why, "MPROTECT_EPT with no vCPU running: errno %ld", -e);
		result(0, checking, why);
		vm_term(mainfd, w.vm.id);
		vm_unmap(&w.vm);
		unpin();
		return;
	}
	spawn(&w, spinner);
	if (!wait_vcpu_running(mainfd, w.vm.id, 1, WAIT_S)) {
		snprintf(why, sizeof why, "vCPU 1 never seen running within %.0f s", WAIT_S);
		err = 1;
	}
	runs = w.runs;
	e = err ? 0 : mprotect_ticks(w.vm.id, CALLS, &busy);
	if (err)
		;
	else if (e)
		snprintf(why, sizeof why, "MPROTECT_EPT with vCPU 1 running: errno %ld", -e), err = e;
	else if (w.done || w.err)
		snprintf(why, sizeof why, "vCPU 1's RUN loop ended: %s", w.err ? w.why : "no error"), err = 1;
	else
		say("vmmsmp: mprotect-cost: %llu TSC ticks per MPROTECT_EPT of 4 KiB with no vCPU of the VM running, %llu with vCPU 1 in guest mode on CPU %d (%ld RUNs of it during the %d calls)",
		    (unsigned long long)idle, (unsigned long long)busy, w.cpu, w.runs - runs, CALLS);
	result(!err, checking, why);
	w.stop = 1;
	vm_term(mainfd, w.vm.id);	/* ends its RUN loop (ENOENT) */
	pthread_join(w.t, NULL);
	vm_unmap(&w.vm);
	unpin();
}

/* ---- (i) the file released while another thread is in its RUN loop ---- */
static void check_release_running(void)
{
	struct worker w;
	char why[300] = "";
	long base = vmlck_kib(), e, err = 0;

	checking = "release-while-running";
	memset(&w, 0, sizeof w);
	w.fd = open("/dev/vmm", O_RDWR);
	w.cpu = cpu_at(1);
	pin(cpu_at(0));
	e = w.fd < 0 ? -errno : vm_spinning(w.fd, &w.vm, 1, "smp-release");
	if (e) {
		snprintf(why, sizeof why, "open/CREATE/RESETCPU: errno %ld", -e);
		result(0, checking, why);
		if (w.fd >= 0)
			close(w.fd);
		vm_unmap(&w.vm);
		unpin();
		return;
	}
	spawn(&w, spinner);
	if (ncpus >= 2)
		wait_running(mainfd, w.vm.id, WAIT_S);
	else
		while (w.runs < 3 && !w.done)
			sched_yield();
	close(w.fd);	/* release waits for the RUN in progress (its reference), then TERMs */
	pthread_join(w.t, NULL);
	if (w.err != -EBADF)
		snprintf(why, sizeof why, "the RUN loop ended with errno %ld, expected EBADF", -w.err),
			err = 1;
	else if (listed(mainfd, w.vm.id, NULL, why, sizeof why))
		err = 1;
	else if (vmlck_kib() != base)
		snprintf(why, sizeof why, "VmLck %ld KiB after the close, %ld before", vmlck_kib(), base),
			err = 1;
	result(!err, checking, why);
	vm_unmap(&w.vm);
	unpin();
}

/* ---- (j) TERM from another process while the creator's vCPU runs ---- */
static int read_full(int fd, void *b, size_t n, double limit)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	double end = now() + limit;

	while (got < n) {
		ssize_t r;

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return -1;
		if (!(p.revents & (POLLIN | POLLHUP))) {
			if (now() > end)
				return -1;
			continue;
		}
		r = read(fd, (char *)b + got, n - got);
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

static void child_of_cross_process(int out, int in, int cpu)
{
	struct worker w;
	long msg[3], base = vmlck_kib(), go;

	memset(&w, 0, sizeof w);
	w.cpu = cpu;
	w.fd = open("/dev/vmm", O_RDWR);
	msg[0] = w.fd < 0 ? -errno : vm_spinning(w.fd, &w.vm, 1, "smp-other-process");
	msg[1] = w.vm.id;
	if (write(out, msg, 2 * sizeof *msg) != 2 * sizeof *msg || msg[0])
		_exit(1);
	spinner(&w);	/* until TERM from the parent ends it */
	msg[0] = w.err;
	/* The RUN ends inside the parent's TERM, which unpins after it: measure once TERM has
	 * returned (the parent says so). */
	if (read_full(in, &go, sizeof go, WAIT_S))
		_exit(1);
	msg[1] = vmlck_kib();
	msg[2] = base;
	if (write(out, msg, sizeof msg) != sizeof msg)
		_exit(1);
	_exit(0);
}

static void check_other_process(void)
{
	char why[300] = "";
	long msg[3], err = 0, e, go = 1;
	int p[2], q[2], status;
	pid_t pid;

	checking = "term-from-other-process";
	if (pipe(p)) {
		result(0, checking, "pipe failed");
		return;
	}
	if (pipe(q)) {
		close(p[0]);
		close(p[1]);
		result(0, checking, "pipe failed");
		return;
	}
	pin(cpu_at(0));
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		close(q[1]);
		child_of_cross_process(p[1], q[0], cpu_at(1));
	}
	close(p[1]);
	close(q[0]);
	if (pid < 0 || read_full(p[0], msg, 2 * sizeof *msg, WAIT_S))
		snprintf(why, sizeof why, "no VM from the child process"), err = 1;
	else if (msg[0])
		snprintf(why, sizeof why, "the child's open/CREATE/RESETCPU: errno %ld", -msg[0]), err = 1;
	if (!err) {
		if (ncpus >= 2)
			wait_running(mainfd, (uint32_t)msg[1], WAIT_S);
		else
			pause_ms(20);
		e = vm_term(mainfd, (uint32_t)msg[1]);
		if (e)
			snprintf(why, sizeof why, "TERM of the child's VM: errno %ld", -e), err = e;
		else if (write(q[1], &go, sizeof go) != sizeof go)
			snprintf(why, sizeof why, "pipe to the child: errno %d", errno), err = 1;
		else if (read_full(p[0], msg, sizeof msg, WAIT_S))
			snprintf(why, sizeof why, "the child's RUN loop did not end within %.0f s of TERM",
				 WAIT_S), err = 1;
		else if (msg[0] != -ENOENT)
			snprintf(why, sizeof why, "the child's RUN: errno %ld, expected ENOENT", -msg[0]),
				err = 1;
		else if (msg[1] != msg[2])
			snprintf(why, sizeof why, "the child's VmLck %ld KiB after TERM, %ld before CREATE",
				 msg[1], msg[2]), err = 1;
	}
	if (pid > 0) {
		if (err)
			kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	close(p[0]);
	close(q[1]);
	result(!err, checking, why);
	unpin();
}

/* ---- (k) TERM racing CREATE: a thread terminates ids as soon as they can exist ---- */
static _Atomic uint32_t race_last;
static _Atomic long race_kills;

static void *terminator(void *arg)
{
	struct worker *w = arg;

	worker_start(w);
	while (!w->stop) {
		uint32_t next = race_last + 1;

		/* The id CREATE hands out next (ids are sequential): TERM it in a loop. */
		if (!vm_term(w->fd, next))
			race_kills++;
	}
	return NULL;
}

static void check_create_term_race(void)
{
	struct worker w;
	struct vm v = { 0 };
	char why[300] = "";
	long base = vmlck_kib(), e, err = 0;
	int n = 200;

	/* The same file for both: the record CREATE enters is what a TERM between the
	 * hypercall and the entry would miss (through another file, stress covers it). */
	checking = "create-term-race";
	memset(&w, 0, sizeof w);
	w.fd = mainfd;
	w.cpu = cpu_at(1);
	race_kills = 0;
	pin(cpu_at(0));
	e = vm_create(mainfd, &v, 1, "smp-race");	/* an id to start from */
	race_last = v.id;
	if (!e)
		e = vm_term(mainfd, v.id);
	if (e) {
		snprintf(why, sizeof why, "CREATE/TERM: errno %ld", -e);
		result(0, checking, why);
		vm_unmap(&v);
		unpin();
		return;
	}
	spawn(&w, terminator);
	for (int i = 0; i < n && !err; i++) {
		e = vm_create(mainfd, &v, 1, "smp-race");
		if (e) {
			snprintf(why, sizeof why, "CREATE %d: errno %ld", i, -e), err = e;
			break;
		}
		race_last = v.id;
		e = vm_term(mainfd, v.id);	/* ENOENT: the other thread was first */
		if (e && e != -ENOENT)
			snprintf(why, sizeof why, "TERM: errno %ld", -e), err = e;
		if (ncpus < 2 && i % 8 == 0)
			sched_yield();
	}
	w.stop = 1;
	pthread_join(w.t, NULL);
	if (!err && vmlck_kib() != base)
		snprintf(why, sizeof why, "VmLck %ld KiB after %d CREATE/TERM races, %ld before: pages left pinned",
			 vmlck_kib(), n, base), err = 1;
	if (!err && listed(mainfd, 0, "smp-race", why, sizeof why))
		err = 1;
	say("vmmsmp: create-term-race: %d VMs, %ld terminated by the other thread", n, (long)race_kills);
	result(!err, checking, why);
	vm_unmap(&v);
	unpin();
}

/* ---- (g) stress: threads x cycles of CREATE, RESETCPU, RUN, TERM or close ---- */
static int stress_fd[2];

static void *stress_thread(void *arg)
{
	struct worker *w = arg;
	char name[32];

	worker_start(w);
	snprintf(name, sizeof name, "smp-stress-%d", w->i);
	for (int c = 0; c < stress_cycles && !w->err; c++) {
		/* Threads 0 and 1 create through one shared file and terminate through the
		 * other; 2 and 3 open a file of their own each cycle, and every other cycle
		 * close it instead of TERM (release terminates). */
		int own = w->i >= 2, fd = own ? open("/dev/vmm", O_RDWR) : stress_fd[w->i & 1];
		long e;

		if (fd < 0) {
			fail_once(w, -errno, "thread %d cycle %d: open: errno %d", w->i, c, errno);
			break;
		}
		e = vm_create(fd, &w->vm, 1, name);
		if (!e)
			e = vm_reset(fd, w->vm.id, 0, G_OUTLOOP, c, 0x700 + w->i);
		if (e)
			fail_once(w, e, "thread %d cycle %d: CREATE/RESETCPU errno %ld", w->i, c, -e);
		if (!e) {
			run_outs(fd, w->vm.id, 0, 0x700 + w->i, c, 8, WAIT_S, &w->o);
			if (w->o.err)
				fail_once(w, w->o.err, "thread %d cycle %d: %s", w->i, c, w->o.why);
		}
		if (w->vm.id && !(own && c % 2)) {
			e = vm_term(own ? fd : stress_fd[!(w->i & 1)], w->vm.id);
			if (e)
				fail_once(w, e, "thread %d cycle %d: TERM errno %ld", w->i, c, -e);
		}
		if (own)
			close(fd);
		w->runs++;
	}
	vm_unmap(&w->vm);
	return NULL;
}

static void check_stress(void)
{
	struct worker w[4];
	char why[300] = "";
	long base = vmlck_kib(), err;
	double t0 = now();
	int cycles = 0;

	checking = "stress";
	memset(w, 0, sizeof w);
	stress_fd[0] = mainfd;
	stress_fd[1] = open("/dev/vmm", O_RDWR);
	in_run = max_in_run = 0;
	err = run_workers(w, 4, stress_thread, why, sizeof why);
	close(stress_fd[1]);
	for (int i = 0; i < 4; i++)
		cycles += w[i].runs;
	say("vmmsmp: stress: 4 threads on %d CPUs, %d of %d cycles in %.1f s, at most %d in RUN at once",
	    ncpus < 4 ? ncpus : 4, cycles, 4 * stress_cycles, now() - t0, (int)max_in_run);
	if (!err && vmlck_kib() != base)
		snprintf(why, sizeof why, "VmLck %ld KiB after, %ld before: pages left pinned",
			 vmlck_kib(), base), err = 1;
	if (!err && listed(mainfd, 0, "smp-stress", why, sizeof why))
		err = 1;
	result(!err, checking, why);
}

/* ---- (h) a CPU offline and online again, then a VM on it ---- */
static int sysfs_online(int cpu, const char *v)
{
	char path[96], b[4] = "";
	int fd, r;

	snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(path, v ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return -errno;
	r = v ? write(fd, v, 1) : read(fd, b, 1);
	r = r == 1 ? (v ? 0 : b[0] == '1') : -errno;
	close(fd);
	return r;
}

static void check_hotplug(void)
{
	char why[300] = "";
	struct outs o;
	struct vm v = { 0 };
	int cpu = cpus[ncpus - 1], e;
	long err;

	checking = "hotplug";
	if (ncpus < 2 || cpu == 0) {
		skip("hotplug-offline", "only 1 CPU");
		skip("hotplug-online", "only 1 CPU");
		skip("hotplug-vm", "only 1 CPU");
		return;
	}
	unpin();
	e = sysfs_online(cpu, "0");
	if (!e && sysfs_online(cpu, NULL) != 0)
		e = -EIO;
	if (e)
		snprintf(why, sizeof why, "CPU %d offline through sysfs: errno %d", cpu, -e);
	else if (pin(cpu) != -EINVAL)
		snprintf(why, sizeof why, "CPU %d still takes threads", cpu), e = 1;
	result(!e, "hotplug-offline", why);
	e = sysfs_online(cpu, "1");
	if (!e && sysfs_online(cpu, NULL) != 1)
		e = -EIO;
	if (e)
		snprintf(why, sizeof why, "CPU %d online through sysfs: errno %d", cpu, -e);
	else if ((e = pin(cpu)))
		snprintf(why, sizeof why, "cannot run on CPU %d again: errno %d", cpu, -e);
	else
		e = hv_signature_ok(why, sizeof why);
	result(!e, "hotplug-online", why);
	if (e) {
		skip("hotplug-vm", "the CPU did not come back under bvmm");
		unpin();
		return;
	}
	err = vm_create(mainfd, &v, 1, "smp-hotplug");
	if (!err)
		err = vm_reset(mainfd, v.id, 0, G_OUTLOOP, 0, 0x800);
	if (err) {
		snprintf(why, sizeof why, "CREATE/RESETCPU on CPU %d: errno %ld", cpu, -err);
	} else {
		run_outs(mainfd, v.id, 0, 0x800, 0, 200, WAIT_S, &o);
		if ((err = o.err))
			snprintf(why, sizeof why, "on CPU %d: %.250s", cpu, o.why);
		else if (sched_getcpu() != cpu)
			snprintf(why, sizeof why, "the thread left CPU %d", cpu), err = 1;
	}
	if (v.id && vm_term(mainfd, v.id) && !err)
		snprintf(why, sizeof why, "TERM failed"), err = 1;
	vm_unmap(&v);
	result(!err, "hotplug-vm", why);
	unpin();
}

static const struct {
	const char *name;
	void (*fn)(void);
} checks[] = {
	{ "vm-per-cpu", check_vm_per_cpu },
	{ "vm-4-vcpus", check_vcpus },
	{ "busy", check_busy },
	{ "term-running", check_term_running },
	{ "mprotect-while-writing", check_mprotect_other },
	{ "release-while-running", check_release_running },
	{ "term-from-other-process", check_other_process },
	{ "create-term-race", check_create_term_race },
	{ "stress", check_stress },
	{ "hotplug", check_hotplug },
	{ "mprotect-cost", check_mprotect_cost },	/* only when named (-c) */
};
static const char *only;	/* -c: a comma-separated list of the checks to run */
static int repeat = 1;		/* -r: how often */

static int wanted(const char *name)
{
	size_t n = strlen(name);

	if (!only)
		return strcmp(name, "mprotect-cost") != 0;
	for (const char *p = only; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, name, n))
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t wd;
	char list[256] = "";
	size_t at = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f"))
			force = 1;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			stress_cycles = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			repeat = atoi(argv[++i]);
	}
	if (sched_getaffinity(0, sizeof all_cpus, &all_cpus)) {
		say("FAIL smp-cpus: sched_getaffinity: errno %d", errno);
		return 1;
	}
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &all_cpus))
			continue;
		cpus[ncpus++] = c;
		if (at < sizeof list - 8)
			at += snprintf(list + at, sizeof list - at, "%s%d", at ? "," : "", c);
	}
	vendor = vmm_cpu_vendor();
	say("vmmsmp: %d CPUs (%s), %s, %d stress cycles%s", ncpus, list,
	    vendor == BVMM_VENDOR_INTEL_VMX ? "Intel VMX" : "AMD SVM", stress_cycles,
	    force ? ", two-CPU checks forced" : "");

	if (wanted("hvcheck"))
		check_hvcheck();
	mainfd = open("/dev/vmm", O_RDWR);
	result(mainfd >= 0, "open", "cannot open /dev/vmm");
	if (mainfd < 0)
		goto out;
	pthread_create(&wd, NULL, watchdog, NULL);

	for (int r = 0; r < repeat; r++)
		for (unsigned i = 0; i < sizeof checks / sizeof checks[0]; i++)
			if (wanted(checks[i].name))
				checks[i].fn();

	checking = "end";
	{
		char why[100];

		result(!listed(mainfd, 0, "smp-", why, sizeof why), "no-vms-left", why);
	}
	close(mainfd);
out:
	say("vmmsmp: %d passed, %d failed, %d skipped", npass, nfail, nskip);
	return nfail ? 1 : 0;
}
