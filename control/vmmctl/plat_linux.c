/* vmmctl's Linux home (plat.h): a program of the Linux control domain, the vmm operations as
 * ioctls on /dev/vmm (control/linux/bvmm.c), guest memory anonymous (or hugetlbfs) memory of
 * this process, the console its terminal. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "../../abi/bvmm.h"
#include "../libvmm/vmm.h"
#include "../../hv/fmt.h"
#include "plat.h"
#include "vmmctl.h"

#define MAX_TAPS 4

static int vmm_fd = -1;
static int raw_tty;          /* the terminal is in raw mode (start -c) */
static int console_in;       /* start -c: standard input is the guest's console input */
static int detached;
static int input_eof;        /* standard input ended: no more console input */
static struct termios saved_tty;
static int taps[MAX_TAPS] = { -1, -1, -1, -1 };

/* /dev/vmm, opened at the first operation: a usage error needs no hypervisor. */
static int vmm_open(void)
{
	static int err;
	if (vmm_fd >= 0 || err)
		return err;
	vmm_fd = open("/dev/vmm", O_RDWR | O_CLOEXEC);
	if (vmm_fd < 0) {
		err = errno;
		plat_msg("cannot open /dev/vmm: %s (is bvmm running and bvmm.ko loaded?)", strerror(err));
	}
	return err;
}

int plat_vmm(unsigned op, void *params)
{
	unsigned long cmd = vmm_ioctl_cmd(op);
	int e = vmm_open();
	if (e)
		return e;
	if (!cmd)
		return VE_NOSYS;
	while (ioctl(vmm_fd, cmd, params) < 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

/* Block 0 of a one-page mmap() of /dev/vmm (BVMM_IOC_RUN_BLOCK); NULL if the driver has
 * none (an older bvmm.ko: RUN through the ioctl that copies). */
struct vm_run_block *plat_run_block(void)
{
	static struct vm_run_block *b;
	static int tried;
	if (b || tried || vmm_open())
		return b;
	tried = 1;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vmm_fd, 0);
	if (m == MAP_FAILED)
		plat_msg("no RUN_PHYS block from /dev/vmm (%s): RUN copies its exits", strerror(errno));
	else
		b = m;
	return b;
}

int plat_run_block_go(void)
{
	while (ioctl(vmm_fd, BVMM_IOC_RUN_BLOCK, 0ul) < 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t plat_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t plat_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Measured once, over 20 ms of the monotonic clock. */
uint64_t plat_tsc_hz(void)
{
	static uint64_t hz;
	if (!hz) {
		uint64_t n0 = plat_now_ns(), t0 = rdtsc();
		struct timespec d = { 0, 20000000 };
		nanosleep(&d, NULL);
		uint64_t n1 = plat_now_ns(), t1 = rdtsc();
		hz = (t1 - t0) * 1000000000ull / (n1 - n0 ? n1 - n0 : 1);
	}
	return hz;
}

void plat_msg(const char *f, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, f);
	fmt_v(buf, sizeof buf - 16, f, ap);
	va_end(ap);
	if (!detached)
		fprintf(stderr, "vmmctl: %s%s", buf, raw_tty ? "\r\n" : "\n");
}

void plat_console_out(const void *buf, size_t n)
{
	const char *s = buf;
	while (n && !detached) {
		ssize_t k = write(1, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static void restore_tty(void)
{
	if (raw_tty && !detached)
		tcsetattr(0, TCSAFLUSH, &saved_tty);
}

/* The console in raw mode, both directions (start -c on a terminal). */
static void raw_mode(void)
{
	struct termios t;
	if (!isatty(0) || tcgetattr(0, &saved_tty))
		return;
	t = saved_tty;
	cfmakeraw(&t);
	if (tcsetattr(0, TCSAFLUSH, &t) == 0) {
		raw_tty = 1;
		atexit(restore_tty);
	}
}

int plat_console_in(uint8_t *c)
{
	struct pollfd p = { 0, POLLIN, 0 };
	if (detached || input_eof || poll(&p, 1, 0) != 1 || !(p.revents & (POLLIN | POLLHUP)))
		return 0;
	ssize_t k = read(0, c, 1);
	if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
		input_eof = 1;
	return k == 1;
}

int plat_console_open(void)
{
	return !detached && !input_eof;
}

/* Shared, not private: after a fork (a detach, "~."), the process that goes on running the
 * VM must see the very pages the hypervisor was given; a private mapping's pinned pages
 * would be copied for the child at fork. */
void *plat_guest_alloc(uint64_t size)
{
	void *m = MAP_FAILED;
	if (size % (2u << 20) == 0)   /* hugetlbfs when the system has pages reserved */
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m == MAP_FAILED)
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

void plat_guest_free(void *mem, uint64_t size)
{
	munmap(mem, size);
}

void plat_free(void *p)
{
	free(p);
}

int plat_read_file(const char *path, void **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return EINVAL;
	}
	char *b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		close(fd);
		return ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, b + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = k < 0 ? errno : EIO;
			free(b);
			close(fd);
			return e;
		}
		got += (size_t)k;
	}
	close(fd);
	*data = b;
	*len = got;
	return 0;
}

int plat_file_open(const char *path, int writable, uint64_t *size)
{
	struct stat st;
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -EIO;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int plat_file_pread(int h, void *buf, size_t n, uint64_t off)
{
	ssize_t k = pread(h, buf, n, (off_t)off);
	return k == (ssize_t)n ? 0 : k < 0 ? errno : EIO;
}

int plat_file_pwrite(int h, const void *buf, size_t n, uint64_t off)
{
	ssize_t k = pwrite(h, buf, n, (off_t)off);
	return k == (ssize_t)n ? 0 : k < 0 ? errno : EIO;
}

int plat_tap_open(const char *name)
{
	struct ifreq ifr;
	int slot = 0;
	while (slot < MAX_TAPS && taps[slot] >= 0)
		slot++;
	if (slot == MAX_TAPS)
		return -ENOSPC;
	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* Linux expands a "%d" in the name into a new interface's number: not the one asked for
	 * (Solo5's tap_attach refuses it the same way). */
	if (strncmp(ifr.ifr_name, name, IFNAMSIZ)) {
		close(fd);
		return -EINVAL;
	}
	taps[slot] = fd;
	return fd;
}

int plat_tap_read(int h, void *buf, size_t n)
{
	ssize_t k = read(h, buf, n);
	if (k < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	return (int)k;
}

int plat_tap_write(int h, const void *buf, size_t n)
{
	ssize_t k = write(h, buf, n);
	return k < 0 ? -errno : (int)k;
}

int plat_detach(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid > 0) {
		/* The parent gives the terminal back; the child keeps the VM (and /dev/vmm). */
		restore_tty();
		fprintf(stderr, "\nvmmctl: detached: the VM runs on in process %d (vmmctl stop ends it)\n", pid);
		_exit(0);
	}
	detached = 1;
	setsid();
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	return 0;
}

int plat_poweroff(void)
{
	return EPERM;   /* the control domain's own business, not vmmctl's */
}

void plat_wait(uint64_t deadline_ns)
{
	struct pollfd p[1 + MAX_TAPS];
	int n = 0;
	if (console_in && !detached && !input_eof)
		p[n++] = (struct pollfd){ 0, POLLIN, 0 };
	for (int i = 0; i < MAX_TAPS; i++)
		if (taps[i] >= 0)
			p[n++] = (struct pollfd){ taps[i], POLLIN, 0 };
	if (!deadline_ns) {
		ppoll(p, (nfds_t)n, NULL, NULL);
		return;
	}
	uint64_t now = plat_now_ns();
	if (deadline_ns <= now)
		return;
	uint64_t d = deadline_ns - now;
	struct timespec ts = { (time_t)(d / 1000000000ull), (long)(d % 1000000000ull) };
	ppoll(p, (nfds_t)n, &ts, NULL);
}

int main(int argc, char **argv)
{
	int console = 0;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		console |= !strcmp(argv[i], "-c");
	if (argc < 2) {
		vmmctl_main(0, NULL, 0);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (console && !strcmp(argv[1], "start")) {
		console_in = 1;
		raw_mode();
	}
	return vmmctl_main(argc - 1, argv + 1, 0);
}
