// SPDX-License-Identifier: GPL-2.0
/*
 * vmmtest.c - drives a child VM through /dev/vmm (bvmm.ko) from Linux user space: a
 * real-mode guest that prints two lines on an emulated ns8250 and halts with interrupts off.
 * Prints "PASS linux-vmm-<check>" or "FAIL linux-vmm-<check>: <details>" per check and the
 * child's text as "child: ..." lines; exits 0 if every check passed.
 *
 * Freestanding and static (no libc), like hvcheck: the initramfs runs it as a child of PID 1.
 * Build: gcc -static -nostdlib -ffreestanding -fno-builtin -fno-pic -no-pie -O2
 *        -fno-stack-protector -o vmmtest vmmtest.c
 */
#include "vmmguest.h"
#include "vmmrt.h"

#define O_RDWR 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define MAP_POPULATE 0x8000
#define ENOENT 2
#define EIO 5
#define EFAULT 14
#define EBUSY 16
#define EINVAL 22
#define ENOTTY 25

/* ioctl returns 0 or -errno. */
static long vmm_ioctl(int fd, unsigned long cmd, void *p)
{
	return sys6(SYS_ioctl, fd, (long)cmd, (long)p, 0, 0, 0);
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int failures;

/* check NAME: PASS, or FAIL with "WHAT: got ERR" when ok is false. */
static void check(int ok, const char *name, const char *what, long err)
{
	puts_(ok ? "PASS linux-vmm-" : "FAIL linux-vmm-");
	puts_(name);
	if (!ok) {
		failures++;
		puts_(": ");
		puts_(what);
		puts_(" (got ");
		putnum(err);
		puts_(")");
	}
	putch('\n');
}

/* ---- the child: control/hello/demo16.S, hand-assembled, at 0:0x7c00 ---- */
#define GUEST_AT 0x7c00
#define MSG_AT   0x1c
static const unsigned char guest_code[MSG_AT] = {
	0xbe, (GUEST_AT + MSG_AT) & 0xff, GUEST_AT >> 8,	/* 7c00 mov $msg, %si */
	0xac,					/* 7c03 next: lodsb */
	0x84, 0xc0,				/* 7c04 test %al, %al */
	0x74, 0x12,				/* 7c06 jz done (7c1a) */
	0x88, 0xc3,				/* 7c08 mov %al, %bl */
	0xba, 0xfd, 0x03,			/* 7c0a mov $0x3fd, %dx */
	0xec,					/* 7c0d wait: in (%dx), %al */
	0xa8, 0x20,				/* 7c0e test $0x20, %al */
	0x74, 0xfb,				/* 7c10 jz wait */
	0xba, 0xf8, 0x03,			/* 7c12 mov $0x3f8, %dx */
	0x88, 0xd8,				/* 7c15 mov %bl, %al */
	0xee,					/* 7c17 out %al, (%dx) */
	0xeb, 0xe9,				/* 7c18 jmp next */
	0xfa,					/* 7c1a done: cli */
	0xf4,					/* 7c1b hlt */
};
static const char guest_msg[] =
	"Hello from a child VM of Linux: real mode, each byte an I/O exit through /dev/vmm.\n"
	"Goodbye (HLT with interrupts off ends the VM).\n";

#define MEM_SIZE (1ul << 20)

static void *map_guest_memory(void)
{
	long m = sys6(SYS_mmap, 0, MEM_SIZE, 3 /* PROT_READ | PROT_WRITE */,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m < 0 && m > -4096)
		return 0;
	unsigned char *mem = (unsigned char *)m;
	memcpy(mem + GUEST_AT, guest_code, sizeof guest_code);
	memcpy(mem + GUEST_AT + MSG_AT, guest_msg, sizeof guest_msg);
	return mem;
}

static struct vm_create_params cp;

static long create(int fd, void *mem, const char *name)
{
	vmm_create_gpa0(&cp, mem, MEM_SIZE, 1, name);
	return vmm_ioctl(fd, VMM_IOC_CREATE, &cp);
}

static long resetcpu(int fd, uint32_t id)
{
	static struct vm_resetcpu_params rr;
	rr.vrp_vm_id = id;
	rr.vrp_vcpu_id = 0;
	vmm_state_real(&rr.vrp_init_state, 0, GUEST_AT);
	return vmm_ioctl(fd, VMM_IOC_RESETCPU, &rr);
}

/* The vmd-style loop: RUN, emulate the serial port, continue, until RUN fails. Returns
 * RUN's error; *text gets the child's bytes, *pointer_ok whether vrp_exit came back as we
 * set it every time. */
static struct vm_exit scratch;   /* an exit buffer for RUNs expected to fail */
static char text[512];
static ulong ntext;

static long run_child_with(int fd, uint32_t id, struct vm_exit *ex, int *exits, int *pointer_ok)
{
	struct vm_run_params rp = { .vrp_vm_id = id, .vrp_irq = 0xffff, .vrp_exit = ex };
	long err;

	ntext = 0;
	*exits = 0;
	*pointer_ok = 1;
	while (!(err = vmm_ioctl(fd, VMM_IOC_RUN, &rp))) {
		if (rp.vrp_exit != ex)
			*pointer_ok = 0;
		rp.vrp_exit = ex;
		rp.vrp_continue = 1;
		if (++*exits > 100000)
			return -1000;	/* the guest should be done long before */
		if (vmm_exit_kind(rp.vrp_exit_reason, vmm_cpu_vendor()) != VMM_EXIT_KIND_IO)
			continue;	/* VM_EXIT_NONE: our timer ticked */
		if (ex->vei.vei_dir == VEI_DIR_IN)
			ex->vei.vei_data = ex->vei.vei_port == 0x3fd ? 0x60 : 0xff;
		else if (ex->vei.vei_port == 0x3f8 && ntext < sizeof text - 1)
			text[ntext++] = (char)ex->vei.vei_data;
	}
	text[ntext] = 0;
	return err;
}

static long run_child(int fd, uint32_t id, int *exits, int *pointer_ok)
{
	static struct vm_exit ex;
	return run_child_with(fd, id, &ex, exits, pointer_ok);
}

/* Two pages: an exit buffer across their boundary, which /dev/vmm stages (copies in and
 * out) instead of pinning a page; the bytes around it must stay as they are. */
static unsigned char two_pages[8192] __attribute__((aligned(4096)));

/* The same loop through a RUN_PHYS block of the file's mapping (BVMM_IOC_RUN_BLOCK). */
static long run_child_block(int fd, struct vm_run_block *b, unsigned long index, uint32_t id, int *exits)
{
	long err;

	ntext = 0;
	*exits = 0;
	b->vrb_params = (struct vm_run_params){ .vrp_vm_id = id, .vrp_irq = 0xffff };
	while (!(err = sys6(SYS_ioctl, fd, BVMM_IOC_RUN_BLOCK, (long)index, 0, 0, 0))) {
		struct vm_exit *ex = &b->vrb_exit;
		b->vrb_params.vrp_continue = 1;
		if (++*exits > 100000)
			return -1000;
		if (vmm_exit_kind(b->vrb_params.vrp_exit_reason, vmm_cpu_vendor()) != VMM_EXIT_KIND_IO)
			continue;
		if (ex->vei.vei_dir == VEI_DIR_IN)
			ex->vei.vei_data = ex->vei.vei_port == 0x3fd ? 0x60 : 0xff;
		else if (ex->vei.vei_port == 0x3f8 && ntext < sizeof text - 1)
			text[ntext++] = (char)ex->vei.vei_data;
	}
	text[ntext] = 0;
	return err;
}

static void print_child_text(void)
{
	int start = 1;
	for (ulong i = 0; i < ntext; i++) {
		if (start)
			puts_("child: ");
		start = text[i] == '\n';
		putch(text[i]);
	}
	if (!start)
		putch('\n');
}

/* INFO: the size probe, then the list. Returns the result for id in *out, or -1. */
static struct vm_info_result infos[16];
static struct vm_info_params ip;

static long info(int fd, uint32_t id, struct vm_info_result **out)
{
	long err;
	*out = 0;
	memset(&ip, 0, sizeof ip);
	ip.vip_size = sizeof infos;
	ip.vip_info = infos;
	err = vmm_ioctl(fd, VMM_IOC_INFO, &ip);
	if (err)
		return err;
	for (ulong i = 0; i < ip.vip_info_ct && i < 16; i++)
		if (infos[i].vir_id == id)
			*out = &infos[i];
	return 0;
}

__attribute__((noreturn, used)) void vmmtest_main(void)
{
	int exits, ptr_ok;
	long err;

	int fd = (int)sys6(SYS_open, (long)"/dev/vmm", O_RDWR, 0, 0, 0, 0);
	check(fd >= 0, "open", "open /dev/vmm", fd);
	if (fd < 0)
		sys6(SYS_exit_group, 1, 0, 0, 0, 0, 0);

	unsigned char *mem = map_guest_memory();
	check(mem != 0, "mmap", "mmap 1 MiB", 0);
	if (!mem)
		sys6(SYS_exit_group, 1, 0, 0, 0, 0, 0);

	/* CREATE: the id comes back and vmr_va is still ours. */
	err = create(fd, mem, "linux-child");
	uint32_t id = cp.vcp_id;
	check(!err && id != 0 && cp.vcp_memranges[0].vmr_va == (uint64_t)(ulong)mem,
	      "create", "CREATE of 1 MiB at GPA 0 (errno, or id 0, or vmr_va not restored)", err);

	err = resetcpu(fd, id);
	check(!err, "resetcpu", "RESETCPU to real mode 0:0x7c00", err);

	/* RUN whose vrp_exit cannot be written: EFAULT before the vCPU runs (RIP unchanged). */
	{
		struct vm_run_params rp = { .vrp_vm_id = id, .vrp_irq = 0xffff,
					    .vrp_exit = (struct vm_exit *)0x1000 };
		static struct vm_rwregs_params rw;
		err = vmm_ioctl(fd, VMM_IOC_RUN, &rp);
		check(err == -EFAULT, "run-bad-exit-efault", "RUN with vrp_exit 0x1000: expected -EFAULT", err);
		rw.vrwp_vm_id = id;
		rw.vrwp_mask = VM_RWREGS_GPRS;
		long e2 = vmm_ioctl(fd, VMM_IOC_READREGS, &rw);
		check(!e2 && rw.vrwp_regs.vrs_gprs[VCPU_REGS_RIP] == GUEST_AT, "readregs-not-run",
		      "READREGS after it: RIP should still be 0x7c00 (errno, or RIP)",
		      e2 ? e2 : (long)rw.vrwp_regs.vrs_gprs[VCPU_REGS_RIP]);
	}

	/* The run loop: the child's text, then HLT with IF=0 fails RUN with EIO. */
	err = run_child(fd, id, &exits, &ptr_ok);
	print_child_text();
	check(err == -EIO, "run-hlt-eio", "RUN loop should end with -EIO (HLT, IF=0)", err);
	check(streq(text, guest_msg), "run-io", "the child's text differs; bytes", (long)ntext);
	check(ptr_ok, "run-exit-pointer", "vrp_exit not restored after RUN", 0);
	puts_("vmmtest: ");
	putnum(exits);
	puts_(" exits\n");

	err = vmm_ioctl(fd, VMM_IOC_RUN, &(struct vm_run_params){ .vrp_vm_id = id, .vrp_irq = 0xffff,
				.vrp_exit = &scratch });
	check(err == -EBUSY, "run-stopped-ebusy", "RUN after HLT with IF=0: expected -EBUSY", err);

	/* The same child again with its exit buffer across two pages (the driver's staged copy). */
	{
		uint32_t id3;
		unsigned char *mem3 = map_guest_memory();
		struct vm_exit *ex3 = (struct vm_exit *)(two_pages + 4096 - 104);   /* 8-aligned */
		memset(two_pages, 0xa5, sizeof two_pages);
		err = mem3 ? create(fd, mem3, "linux-child-staged") : -1;
		id3 = err ? 0 : cp.vcp_id;
		if (!err)
			err = resetcpu(fd, id3);
		check(!err, "run-staged-create", "CREATE and RESETCPU of a third child", err);
		err = run_child_with(fd, id3, ex3, &exits, &ptr_ok);
		check(err == -EIO && streq(text, guest_msg) && ptr_ok, "run-staged-io",
		      "the child's text through an exit buffer across pages (errno or bytes)",
		      err != -EIO ? err : (long)ntext);
		int around = 1;
		for (ulong i = 0; i < sizeof two_pages; i++)
			if ((i < 4096 - 104 || i >= 4096 - 104 + sizeof *ex3) && two_pages[i] != 0xa5)
				around = 0;
		check(around, "run-staged-bytes-around", "bytes beside the staged exit buffer changed", 0);
		if (id3 && mem3) {
			err = vmm_ioctl(fd, VMM_IOC_TERM, &(struct vm_terminate_params){ id3 });
			check(!err, "run-staged-term", "TERM of the third child", err);
		}
	}

	/* The same child again through a RUN_PHYS block: the file's mmap() of 2 pages. */
	{
		err = sys6(SYS_ioctl, fd, BVMM_IOC_RUN_BLOCK, 0, 0, 0, 0);
		check(err == -EINVAL, "run-block-unmapped-einval", "RUN_BLOCK before mmap: expected -EINVAL", err);
		long priv = sys6(SYS_mmap, 0, 8192, 3, MAP_PRIVATE, fd, 0);
		check(priv == -EINVAL, "mmap-private-einval", "a private mapping of /dev/vmm: expected -EINVAL", priv);
		long m = sys6(SYS_mmap, 0, 8192, 3 /* PROT_READ | PROT_WRITE */, 1 /* MAP_SHARED */, fd, 0);
		check(m > 0 || m < -4095, "mmap-blocks", "mmap of 2 pages of /dev/vmm", m);
		long again = sys6(SYS_mmap, 0, 4096, 3, 1, fd, 0);
		check(again == -EBUSY, "mmap-twice-ebusy", "a second mmap of the file: expected -EBUSY", again);
		err = sys6(SYS_ioctl, fd, BVMM_IOC_RUN_BLOCK, 2, 0, 0, 0);
		check(err == -EINVAL, "run-block-index-einval", "RUN_BLOCK of block 2 of 2: expected -EINVAL", err);
		if (m > 0 || m < -4095) {
			struct vm_run_block *b = (struct vm_run_block *)(m + 4096);   /* the second */
			uint32_t id2;
			unsigned char *mem2 = map_guest_memory();
			err = mem2 ? create(fd, mem2, "linux-child-block") : -1;
			id2 = cp.vcp_id;
			if (!err)
				err = resetcpu(fd, id2);
			check(!err, "run-block-create", "CREATE and RESETCPU of a second child", err);
			err = run_child_block(fd, b, 1, id2, &exits);
			check(err == -EIO, "run-block-hlt-eio", "RUN_BLOCK loop should end with -EIO", err);
			check(streq(text, guest_msg), "run-block-io", "the child's text through the block differs; bytes",
			      (long)ntext);
			err = vmm_ioctl(fd, VMM_IOC_TERM, &(struct vm_terminate_params){ id2 });
			check(!err, "run-block-term", "TERM of the second child", err);
			err = sys6(SYS_ioctl, fd, BVMM_IOC_RUN_BLOCK, 1, 0, 0, 0);
			check(err == -ENOENT, "run-block-terminated-enoent", "RUN_BLOCK of the terminated VM",
			      err);
			sys6(SYS_munmap, m, 8192, 0, 0, 0, 0);
		}
	}

	/* INFO: the size probe (vip_size 0), then the list. */
	memset(&ip, 0, sizeof ip);
	ip.vip_info = infos;
	err = vmm_ioctl(fd, VMM_IOC_INFO, &ip);
	check(!err && ip.vip_info_ct == 0 && ip.vip_size >= sizeof(struct vm_info_result) &&
	      ip.vip_size % sizeof(struct vm_info_result) == 0 && ip.vip_info == infos,
	      "info-probe", "INFO with vip_size 0 (errno, or vip_size)", err ? err : (long)ip.vip_size);
	struct vm_info_result *r;
	err = info(fd, id, &r);
	check(!err && r && r->vir_memory_size == MEM_SIZE && r->vir_ncpus == 1 &&
	      streq(r->vir_name, "linux-child") && ip.vip_info == infos, "info-list",
	      "INFO lists our VM with 1 MiB, 1 vCPU, name linux-child (errno)", err);

	/* A second file: a VM whose memory the process unmaps before running it (the pinned
	 * pages keep it whole), then closing the file terminates the VM. */
	{
		int fd2 = (int)sys6(SYS_open, (long)"/dev/vmm", O_RDWR, 0, 0, 0, 0);
		unsigned char *mem2 = map_guest_memory();
		err = fd2 < 0 ? fd2 : mem2 ? create(fd2, mem2, "linux-child-2") : -1;
		uint32_t id2 = cp.vcp_id;
		if (!err)
			err = resetcpu(fd2, id2);
		if (!err) {
			sys6(SYS_munmap, (long)mem2, MEM_SIZE, 0, 0, 0, 0);
			/* Reuse freed memory: were the guest's pages not pinned, some of these would
			 * take their place and its code would be 0xcc (int3) instead. */
			for (int k = 0; k < 16; k++) {
				unsigned char *junk = map_guest_memory();
				if (junk)
					memset(junk, 0xcc, MEM_SIZE);
			}
			err = run_child(fd2, id2, &exits, &ptr_ok);
			err = err == -EIO && streq(text, guest_msg) ? 0 : err ? err : -1;
		}
		check(!err, "pinned-after-munmap",
		      "a second VM run after munmap of its memory (errno, or -1: text)", err);
		if (fd2 >= 0)
			sys6(SYS_close, fd2, 0, 0, 0, 0, 0);
		err = id2 ? info(fd, id2, &r) : -1;
		check(!err && !r, "release-terminates",
		      "the VM of a closed file is still listed (errno, or -1: it was never created)", err);
	}

	/* Errors. */
	err = vmm_ioctl(fd, 0xc0185600ul /* _IOWR('V', 0, 24 bytes) */, &ip);
	long err2 = vmm_ioctl(fd, 0x5600ul + 12, &ip);
	check(err == -ENOTTY && err2 == -ENOTTY, "unknown-ioctl-enotty",
	      "ioctl 0xc0185600 / 0x560c: expected -ENOTTY", err == -ENOTTY ? err2 : err);

	memset(&cp, 0, sizeof cp);
	cp.vcp_ncpus = 1;
	err = vmm_ioctl(fd, VMM_IOC_CREATE, &cp);
	check(err == -EINVAL, "create-no-ranges-einval", "CREATE with 0 ranges: expected -EINVAL", err);

	/* A kernel address as backing memory is refused (the hypervisor itself would accept
	 * any page the current page tables map). s3 boots with nokaslr, so the direct map of
	 * physical 1 MiB is at one of these (4-level / 5-level paging) and the check can fail. */
	err = create(fd, (void *)0xffff888000100000ul, "kernel-memory");
	err2 = create(fd, (void *)0xff11000000100000ul, "kernel-memory");
	check(err == -EINVAL && err2 == -EINVAL, "create-kernel-va-einval",
	      "CREATE backed by a kernel address: expected -EINVAL", err == -EINVAL ? err2 : err);

	err = vmm_ioctl(fd, VMM_IOC_TERM, &(struct vm_terminate_params){ id });
	check(!err, "term", "TERM", err);
	err = info(fd, id, &r);
	check(!err && !r, "term-unlisted", "INFO still lists the terminated VM (errno)", err);

	err = vmm_ioctl(fd, VMM_IOC_TERM, &(struct vm_terminate_params){ 0xfffffff0u });
	check(err == -ENOENT, "term-unknown-enoent", "TERM of id 0xfffffff0: expected -ENOENT", err);

	err = vmm_ioctl(fd, VMM_IOC_RUN, &(struct vm_run_params){ .vrp_vm_id = id, .vrp_irq = 0xffff,
				.vrp_exit = &scratch });
	check(err == -ENOENT, "run-terminated-enoent", "RUN of the terminated VM: expected -ENOENT", err);

	sys6(SYS_close, fd, 0, 0, 0, 0, 0);
	puts_("vmmtest: ");
	putnum(failures);
	puts_(" failed\n");
	sys6(SYS_exit_group, failures ? 1 : 0, 0, 0, 0, 0, 0);
	for (;;)
		;
}

/* Entry point: align the stack as the ABI expects at a call, then call vmmtest_main. */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"    xor %rbp, %rbp\n"
	"    and $-16, %rsp\n"
	"    call vmmtest_main\n"
	"    hlt\n");
