/* A Solo5 hvt unikernel of our own, to test vmmctl's hvt tender: it declares Solo5's ABI1 note
 * (target hvt, version 1) and an MFT1 manifest (block "storage", net "service0") and makes
 * each hypercall the way Solo5's hvt bindings do (include/solo5/hvt_abi.h: outl of the
 * structure's address to 0x500 + number; bindings/hvt: the same structures and checks).
 * Its lines, "hvt: ...", are what the scenario greps for. */
#include <stddef.h>
#include <stdint.h>

/* ---- Solo5's ABI, as the guest sees it ---- */

struct hvt_boot_info {
	uint64_t mem_size, kernel_end, cpu_cycle_freq;
	const char *cmdline;
	const void *mft;
};
struct hvt_hc_walltime { uint64_t nsecs; };
struct hvt_hc_puts { const char *data; size_t len; };
struct hvt_hc_block { uint64_t handle, offset; void *data; size_t len; int ret; };
struct hvt_hc_poll { uint64_t timeout_nsecs, ready_set; int ret; };
struct hvt_hc_halt { void *cookie; int exit_status; };

enum { HC_WALLTIME = 1, HC_PUTS, HC_POLL, HC_BLOCK_WRITE, HC_BLOCK_READ, HC_NET_WRITE,
       HC_NET_READ, HC_HALT };
enum { R_OK, R_AGAIN, R_EINVAL, R_EUNSPEC };

struct nhdr { uint32_t namesz, descsz, type; char name[8]; };

struct abi1_note {
	struct nhdr h;
	struct { uint32_t target, version, reserved0, reserved1; } i;
};

#define MFT_DEV_BLOCK_BASIC 1
#define MFT_DEV_NET_BASIC 2
#define MFT_RESERVED_FIRST (1u << 30)
struct mft_entry {
	char name[68];
	uint32_t type;
	union {
		struct { uint64_t capacity; uint16_t block_size; } block_basic;
		struct { uint8_t mac[6]; uint16_t mtu; } net_basic;
	} u;
	union { int hostfd; void *data; } b;
	_Bool attached;
};
struct mft { uint32_t version, entries; struct mft_entry e[]; };
struct mft1_note {
	struct nhdr h;
	struct { uint32_t version, entries; struct mft_entry e[3]; } m;
};
_Static_assert(sizeof(struct mft_entry) == 104, "mft_entry layout");
_Static_assert(offsetof(struct mft1_note, m) == 24, "MFT1 descriptor alignment");

__attribute__((section(".note.solo5.abi"), aligned(4), used))
const struct abi1_note solo5_abi1_note = {
	.h = { 6, sizeof(struct abi1_note) - sizeof(struct nhdr), 0x31494241, "Solo5" },
	.i = { 1 /* hvt */, 1, 0, 0 },
};

__attribute__((section(".note.solo5.manifest"), aligned(4), used))
const struct mft1_note solo5_mft1_note = {
	.h = { 6, sizeof(struct mft1_note) - sizeof(struct nhdr), 0x3154464d, "Solo5" },
	.m = { 1, 3, {
		{ .name = "", .type = MFT_RESERVED_FIRST },
		{ .name = "storage", .type = MFT_DEV_BLOCK_BASIC },
		{ .name = "service0", .type = MFT_DEV_NET_BASIC },
	} },
};

static void hypercall(int n, volatile void *arg)
{
	__asm__ __volatile__("outl %0, %1" : : "a"((uint32_t)(uintptr_t)arg),
			     "d"((uint16_t)(0x500 + n)) : "memory");
}

/* ---- output ---- */

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static void puts_n(const char *s, size_t n)
{
	volatile struct hvt_hc_puts p = { s, n };
	hypercall(HC_PUTS, &p);
}

static void say(const char *s) { puts_n(s, slen(s)); }

static void say_u(uint64_t v)
{
	char b[21];
	int i = 20;
	b[i] = 0;
	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	say(b + i);
}

static void line(const char *a, const char *b)
{
	say(a);
	say(b);
	say("\n");
}

/* ---- the checks ---- */

static int failed;

static void result(int ok, const char *what)
{
	line(ok ? "hvt: PASS " : "hvt: FAIL ", what);
	failed |= !ok;
}

static void check_walltime(void)
{
	volatile struct hvt_hc_walltime w = { 0 };
	hypercall(HC_WALLTIME, &w);
	uint64_t s = w.nsecs / 1000000000ull;
	say("hvt: walltime=");
	say_u(s);
	say("\n");
	result(s > 1577836800ull /* 2020-01-01 */, "walltime");
}

/* Solo5's solo5_block_read/write: offset aligned to the block size, one block, then the
 * hypercall; the tender checks the capacity. */
static int block_io(int op, uint64_t handle, uint64_t off, void *buf, uint64_t size)
{
	volatile struct hvt_hc_block b = { handle, off, buf, size, -1 };
	hypercall(op, &b);
	return b.ret;
}

static uint8_t sector[512], back[512];

static void check_block(const struct mft_entry *e, uint64_t handle)
{
	uint64_t cap = e->u.block_basic.capacity;
	result(e->attached && cap > 0 && e->u.block_basic.block_size == 512, "manifest storage");
	if (!e->attached)
		return;
	if (block_io(HC_BLOCK_READ, handle, 0, sector, 512) != R_OK) {
		result(0, "block read");
		return;
	}
	for (int i = 0; i < 16; i++)
		if (sector[i] < 0x20 || sector[i] > 0x7e)
			sector[i] = '.';
	say("hvt: sector0=");
	puts_n((const char *)sector, 16);
	say("\n");
	for (int i = 0; i < 512; i++)
		sector[i] = (uint8_t)(i * 7 + 3);
	int ok = cap >= 1024 && block_io(HC_BLOCK_WRITE, handle, 512, sector, 512) == R_OK &&
		 block_io(HC_BLOCK_READ, handle, 512, back, 512) == R_OK;
	for (int i = 0; ok && i < 512; i++)
		ok = back[i] == sector[i];
	result(ok, "block-rw");
	result(block_io(HC_BLOCK_READ, handle, cap & ~511ull, back, 512) == R_EINVAL &&
	       block_io(HC_BLOCK_READ, handle, cap + 512, back, 512) == R_EINVAL, "block-bounds");
}

static void check_net(const struct mft_entry *e)
{
	volatile struct hvt_hc_poll p = { 10 * 1000 * 1000, ~0ull, -1 };
	hypercall(HC_POLL, &p);
	if (!e->attached) {
		result(p.ready_set == 0 && p.ret == 0, "poll");
		say("hvt: net not attached\n");
		return;
	}
	result(p.ret >= 0, "poll");
	say("hvt: net attached, mtu=");
	say_u(e->u.net_basic.mtu);
	say("\n");
}

/* ---- net=arp: two-way traffic through the TAP, as Solo5's bindings do it ---- */

struct hvt_hc_net { uint64_t handle; void *data; size_t len; int ret; };

static const uint8_t our_ip[4] = { 10, 0, 0, 2 };
static uint8_t frame[1514];    /* Solo5: a read buffer of at least mtu + the Ethernet header */
static uint8_t reply[60];      /* an ARP reply, padded to Ethernet's 60-byte minimum */

static uint64_t walltime(void)
{
	volatile struct hvt_hc_walltime w = { 0 };
	hypercall(HC_WALLTIME, &w);
	return w.nsecs;
}

static int same(const uint8_t *a, const uint8_t *b, size_t n)
{
	while (n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

static void copy(uint8_t *d, const uint8_t *s, size_t n)
{
	while (n--)
		*d++ = *s++;
}

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* An ARP request (RFC 826; Ethernet, IPv4) asking for our_ip. */
static int is_arp_request(const uint8_t *f, size_t n)
{
	return n >= 42 && be16(f + 12) == 0x0806 && be16(f + 14) == 1 && be16(f + 16) == 0x0800 &&
	       f[18] == 6 && f[19] == 4 && be16(f + 20) == 1 && same(f + 38, our_ip, 4);
}

/* An IPv4 ICMP echo request to our_ip, sent to our MAC. */
static int is_echo_to_us(const uint8_t *f, size_t n, const uint8_t *mac)
{
	if (n < 34 || be16(f + 12) != 0x0800 || !same(f, mac, 6) || (f[14] >> 4) != 4)
		return 0;
	size_t ihl = (size_t)(f[14] & 15) * 4;
	return ihl >= 20 && n >= 14 + ihl + 8 && f[23] == 1 && same(f + 30, our_ip, 4) &&
	       f[14 + ihl] == 8;
}

/* The reply: to the asker's MAC, from ours; op 2, our MAC and IP as the sender, the asker's
 * as the target. */
static int send_arp_reply(uint64_t handle, const uint8_t *req, const uint8_t *mac)
{
	static const uint8_t head[8] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02 };
	copy(reply, req + 6, 6);
	copy(reply + 6, mac, 6);
	reply[12] = 0x08;
	reply[13] = 0x06;
	copy(reply + 14, head, 8);
	copy(reply + 22, mac, 6);
	copy(reply + 28, our_ip, 4);
	copy(reply + 32, req + 22, 10);    /* the asker's hardware and protocol addresses */
	volatile struct hvt_hc_net w = { handle, reply, sizeof reply, -1 };
	hypercall(HC_NET_WRITE, &w);
	return w.ret;
}

/* Poll (1 s at a time, 30 s in all) and read every frame on the device: answer Linux's ARP
 * requests for our_ip, and pass once an ICMP echo request comes to our MAC, which shows Linux
 * took the reply. 1 on success. */
static int check_net_arp(const struct mft_entry *e, uint64_t handle)
{
	const uint8_t *mac = e->u.net_basic.mac;
	uint64_t end = walltime() + 30ull * 1000000000ull;
	uint64_t frames = 0, after = 0;
	int replied = 0;
	if (!e->attached) {
		result(0, "net not attached, net=arp needs it");
		return 0;
	}
	say("hvt: net=arp: waiting for an ARP request for 10.0.0.2\n");
	while (walltime() < end) {
		volatile struct hvt_hc_poll p = { 1000ull * 1000 * 1000, 0, -1 };
		hypercall(HC_POLL, &p);
		if (p.ret < 0 || p.ret > 1 || (p.ret == 1 && p.ready_set != 1ull << handle)) {
			result(0, "net poll: a ready set or count that is not the one device");
			return 0;
		}
		if (!p.ret)
			continue;
		for (;;) {
			volatile struct hvt_hc_net r = { handle, frame, sizeof frame, -1 };
			hypercall(HC_NET_READ, &r);
			if (r.ret == R_AGAIN)
				break;
			if (r.ret != R_OK || r.len > sizeof frame) {
				result(0, "net read");
				return 0;
			}
			frames++;
			after += replied;
			if (is_arp_request(frame, r.len)) {
				if (!replied)
					result(1, "net-read-arp");
				int ok = send_arp_reply(handle, frame, mac) == R_OK;
				if (!replied || !ok)
					result(ok, "net-write-arp-reply");
				if (!ok)
					return 0;
				replied = 1;
			} else if (replied && is_echo_to_us(frame, r.len, mac)) {
				result(1, "net-icmp-after-arp");
				say("hvt: net=arp: ");
				say_u(frames);
				say(" frames read\n");
				return 1;
			}
		}
	}
	say(replied ? "hvt: FAIL net no ICMP echo to 10.0.0.2 after the ARP reply in 30 s ("
		    : "hvt: FAIL net no ARP request for 10.0.0.2 in 30 s (");
	say_u(frames);
	say(" frames read, ");
	say_u(after);
	say(" after the reply)\n");
	failed = 1;
	return 0;
}

static int find(const struct mft *m, const char *name, uint32_t type)
{
	for (uint32_t i = 0; i < m->entries; i++) {
		const char *a = m->e[i].name, *b = name;
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b && m->e[i].type == type)
			return (int)i;
	}
	return -1;
}

/* What follows the first KEY in the command line, or NULL. */
static const char *after_key(const char *c, const char *key)
{
	for (; *c; c++) {
		const char *k = key, *p = c;
		while (*k && *p == *k)
			p++, k++;
		if (!*k)
			return p;
	}
	return NULL;
}

/* "status=N" anywhere in the command line, else 0. */
static int status_of(const char *c)
{
	const char *p = after_key(c, "status=");
	int v = 0;
	while (p && *p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	return v;
}

__attribute__((noreturn, section(".text.start")))
void _start(const struct hvt_boot_info *bi)
{
	say("hvt: hello\n");
	check_walltime();
	line("hvt: cmdline=", bi->cmdline);
	say("hvt: mem=");
	say_u(bi->mem_size);
	say("\n");
	const struct mft *m = bi->mft;
	int blk = find(m, "storage", MFT_DEV_BLOCK_BASIC);
	int net = find(m, "service0", MFT_DEV_NET_BASIC);
	result(m->version == 1 && m->entries == 3 && blk == 1 && net == 2, "manifest");
	if (blk > 0)
		check_block(&m->e[blk], (uint64_t)blk);
	if (net > 0)
		check_net(&m->e[net]);
	int status = status_of(bi->cmdline);
	/* net=arp: two-way traffic with Linux through the TAP; status 1 if it fails. */
	if (after_key(bi->cmdline, "net=arp") &&
	    !(net > 0 && check_net_arp(&m->e[net], (uint64_t)net)))
		status = 1;
	say(failed ? "hvt: some checks FAILED\n" : "hvt: all checks passed\n");
	volatile struct hvt_hc_halt h = { NULL, status };
	for (;;)
		hypercall(HC_HALT, &h);
}
