/* vmmctl: runs guests on bvmm, in the manner of OpenBSD's vmctl(8), from the UEFI shell (the
 * load options, several commands in a row) or from a Linux control domain (one command per
 * invocation, over /dev/vmm). The commands (doc/vmmctl.8):
 *   start [-c] [-m MiB] [-n NAME] [-i INITRD] [--block:N=FILE] [--net:N=TAP] [-k] KERNEL [-- ARGS]
 *   status | info        the hypervisor, its pool and its VMs
 *   stop ID|NAME         terminate a VM (its vmmctl then exits)
 *   run FILE [mem=MiB] [load=ADDR] [entry=ADDR] [mode=real|prot32|long64] [name=NAME]
 *                        the EFI build's older form, for raw images as well
 *   poweroff             (EFI)
 * The kind of guest is recognized from the file: a Solo5 hvt unikernel, a Multiboot v1 kernel,
 * a Linux bzImage, an ELF64 executable; `run` also takes a raw image. */
#include "machine.h"
#include "plat.h"
#include "vmmctl.h"

#define MIB ((uint64_t)1 << 20)
#define DEFAULT_MEM (64 * MIB)

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int prefix(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

/* A decimal number, or a hexadecimal one with 0x (hex=1: hexadecimal without 0x too). -1 if
 * it is not a number or too large. */
static int64_t number(const char *s, int hex)
{
	uint64_t v = 0;
	int base = hex ? 16 : 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, base = 16;
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
			*s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : 99;
		if (d >= base || v > (UINT64_MAX >> 5))
			return -1;
		v = v * base + d;
	}
	return (int64_t)v;
}

static void set_name(char *dst, const char *src)
{
	unsigned k = 0;
	for (; src[k] && k < VMM_MAX_NAME_LEN - 1; k++)
		dst[k] = src[k];
	dst[k] = 0;
}

/* The default name: the file's last path component, up to its first dot. */
static void default_name(char *dst, const char *path)
{
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	unsigned k = 0;
	for (; b[k] && b[k] != '.' && k < VMM_MAX_NAME_LEN - 1; k++)
		dst[k] = b[k];
	dst[k] = k ? 0 : 'v';
	if (!k)
		dst[1] = 'm', dst[2] = 0;
}

static const char *state_name(uint8_t s)
{
	static const char *const names[] = { "stopped", "running", "terminating", "terminated" };
	return s < 4 ? names[s] : "unknown";
}

static int vm_list(struct vm_info_result *res, unsigned cap, unsigned *n)
{
	struct vm_info_params ip = { cap * sizeof *res, 0, res };
	int e = plat_vmm(BVMM_OP_INFO, &ip);
	*n = e ? 0 : (unsigned)(ip.vip_info_ct < cap ? ip.vip_info_ct : cap);
	return e;
}

static int cmd_status(void)
{
	struct vm_hvinfo_params h;
	static struct vm_info_result res[64];
	unsigned n;
	int e = plat_vmm(BVMM_OP_HVINFO, &h);
	if (e) {
		plat_msg("no bvmm (HVINFO errno %d)", e);
		return VMMCTL_EXIT_ERROR;
	}
	plat_msg("bvmm ABI %u, %s, pool %lu KiB, %lu KiB free", h.vhi_abi_version,
		 h.vhi_vendor == BVMM_VENDOR_AMD_SVM ? "AMD SVM" : "Intel VMX", h.vhi_pool_size >> 10,
		 h.vhi_pool_free >> 10);
	e = vm_list(res, 64, &n);
	if (e) {
		plat_msg("INFO errno %d", e);
		return VMMCTL_EXIT_ERROR;
	}
	plat_msg("%u VMs", n);
	if (n)
		plat_msg("%5s %5s %8s %12s %7s  %s", "ID", "VCPUS", "MEMORY", "VCPU0", "PID", "NAME");
	for (unsigned i = 0; i < n; i++)
		plat_msg("%5u %5lu %5lu MiB %12s %7d  %s", res[i].vir_id, res[i].vir_ncpus,
			 res[i].vir_memory_size >> 20, state_name(res[i].vir_vcpu_state[0]),
			 res[i].vir_creator_pid, res[i].vir_name);
	return VMMCTL_EXIT_OK;
}

static int cmd_stop(const char *which)
{
	static struct vm_info_result res[64];
	unsigned n;
	int64_t id = number(which, 0);
	int e = vm_list(res, 64, &n);
	if (e) {
		plat_msg("INFO errno %d", e);
		return VMMCTL_EXIT_ERROR;
	}
	for (unsigned i = 0; i < n; i++) {
		if ((int64_t)res[i].vir_id != id && !streq(res[i].vir_name, which))
			continue;
		struct vm_terminate_params t = { res[i].vir_id };
		e = plat_vmm(BVMM_OP_TERM, &t);
		if (e) {
			plat_msg("stop %s: TERM errno %d", which, e);
			return VMMCTL_EXIT_ERROR;
		}
		plat_msg("VM %u \"%s\" stopped", res[i].vir_id, res[i].vir_name);
		return VMMCTL_EXIT_OK;
	}
	plat_msg("stop %s: no VM with that id or name", which);
	return VMMCTL_EXIT_ERROR;
}

static void usage(void)
{
	plat_msg("usage: vmmctl start [-c] [-m MiB] [-n NAME] [-i INITRD] [--block:NAME=FILE] "
		 "[--net:NAME=TAP] [-k] KERNEL [-- ARGS...]");
	plat_msg("       vmmctl status | info | stop ID|NAME | poweroff (EFI)");
	plat_msg("       vmmctl run FILE [mem=MiB] [load=ADDR] [entry=ADDR] "
		 "[mode=real|prot32|long64] [name=NAME]   (raw images)");
}

/* Sets *mem from a MiB count; 0 or -1 with a message. */
static int parse_mem(const char *v, uint64_t *mem)
{
	int64_t mib = number(v, 0);
	if (mib <= 0 || mib > 1024 * 1024) {
		plat_msg("bad memory size \"%s\" (MiB, 1 to 1048576)", v);
		return -1;
	}
	*mem = (uint64_t)mib * MIB;
	return 0;
}

/* start's arguments from argv[i]; the command line (after "--") goes to cmdline. Returns the
 * index after them, or -1 after a message. */
static int parse_start(char **argv, int argc, int i, struct start_opts *o, char *cmdline, size_t cap)
{
	*o = (struct start_opts){ .mem = DEFAULT_MEM, .load = ~0ull, .cmdline = cmdline };
	cmdline[0] = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		int has_val = i + 1 < argc;
		if (streq(a, "--")) {
			size_t k = 0;
			for (i++; i < argc; i++) {
				for (const char *s = argv[i]; *s; s++) {
					if (k + 2 >= cap) {
						plat_msg("the guest's command line is longer than %lu bytes", (unsigned long)cap - 2);
						return -1;
					}
					cmdline[k++] = *s;
				}
				if (i + 1 < argc)
					cmdline[k++] = ' ';
			}
			cmdline[k] = 0;
			break;
		} else if (streq(a, "-c")) {
			o->console = 1;
		} else if (streq(a, "-m") && has_val) {
			if (parse_mem(argv[++i], &o->mem))
				return -1;
		} else if (streq(a, "-n") && has_val) {
			set_name(o->name, argv[++i]);
		} else if (streq(a, "-i") && has_val) {
			o->initrd = argv[++i];
		} else if (streq(a, "-k") && has_val) {
			o->kernel = argv[++i];
		} else if (prefix(a, "--block:") || prefix(a, "--net:") || prefix(a, "--net-mac:")) {
			if (o->ndevopts == MAX_DEVOPTS) {
				plat_msg("more than %d devices", MAX_DEVOPTS);
				return -1;
			}
			o->devopts[o->ndevopts++] = a + 2;
		} else if (a[0] == '-') {
			plat_msg("start: unknown option or missing value: %s", a);
			return -1;
		} else if (!o->kernel) {
			o->kernel = a;
		} else {
			/* The EFI build runs several commands in a row: the next one starts here. */
			break;
		}
	}
	if (!o->kernel) {
		plat_msg("start: no KERNEL given");
		return -1;
	}
	if (!o->name[0])
		default_name(o->name, o->kernel);
	return i;
}

/* run FILE [key=value...]: the EFI build's form for raw images (and ELF64). */
static int parse_run(char **argv, int argc, int i, struct start_opts *o)
{
	*o = (struct start_opts){ .kernel = argv[i++], .mem = MIB, .load = 0x7c00, .entry = ~0ull,
				  .mode = MODE_REAL, .cmdline = "" };
	set_name(o->name, "guest");
	for (; i < argc; i++) {
		const char *a = argv[i], *v = a;
		while (*v && *v != '=')
			v++;
		if (!*v)
			break;
		v++;
		int64_t x;
		if (prefix(a, "mem=")) {
			if (parse_mem(v, &o->mem))
				return -1;
		} else if (prefix(a, "load=") || prefix(a, "entry=")) {
			if ((x = number(v, 1)) < 0) {
				plat_msg("run: bad address %s", a);
				return -1;
			}
			*(prefix(a, "load=") ? &o->load : &o->entry) = (uint64_t)x;
		} else if (prefix(a, "mode=")) {
			if (streq(v, "long64"))
				o->mode = MODE_LONG64;
			else if (streq(v, "prot32"))
				o->mode = MODE_PROT32;
			else if (streq(v, "real"))
				o->mode = MODE_REAL;
			else {
				plat_msg("run: unknown mode %s", v);
				return -1;
			}
		} else if (prefix(a, "name=")) {
			set_name(o->name, v);
		} else {
			plat_msg("run: unknown option %s", a);
			return -1;
		}
	}
	if (o->entry == ~0ull)
		o->entry = o->load;
	return i;
}

/* One command per invocation (Linux): anything after it is refused before it runs. */
static int leftover(int argc, char **argv, int i, int many)
{
	if (many || i >= argc)
		return 0;
	plat_msg("unexpected argument: %s", argv[i]);
	return 1;
}

int vmmctl_main(int argc, char **argv, int many)
{
	static char cmdline[4096];
	struct start_opts o;
	int status = VMMCTL_EXIT_OK;
	int i = 0;
	if (argc == 0) {
		usage();
		return VMMCTL_EXIT_USAGE;
	}
	while (i < argc) {
		const char *c = argv[i++];
		if (streq(c, "status") || streq(c, "info")) {
			status = cmd_status();
		} else if (streq(c, "stop") && i < argc) {
			if (leftover(argc, argv, i + 1, many))
				return VMMCTL_EXIT_USAGE;
			status = cmd_stop(argv[i++]);
		} else if (streq(c, "start")) {
			if ((i = parse_start(argv, argc, i, &o, cmdline, sizeof cmdline)) < 0 ||
			    leftover(argc, argv, i, many))
				return VMMCTL_EXIT_USAGE;
			status = machine_start(&o);
		} else if (streq(c, "run") && i < argc) {
			if ((i = parse_run(argv, argc, i, &o)) < 0 || leftover(argc, argv, i, many))
				return VMMCTL_EXIT_USAGE;
			status = machine_start(&o);
		} else if (streq(c, "poweroff")) {
			int e = plat_poweroff();
			plat_msg("poweroff: errno %d", e);
			status = VMMCTL_EXIT_ERROR;
		} else {
			plat_msg("unknown command or missing argument: %s", c);
			usage();
			return VMMCTL_EXIT_USAGE;
		}
		if (leftover(argc, argv, i, many))
			return VMMCTL_EXIT_USAGE;
	}
	return status;
}
