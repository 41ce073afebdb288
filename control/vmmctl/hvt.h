/* Solo5 hvt unikernels in vmmctl: the tender's side of Solo5's hvt ABI, done as Solo5's own
 * tender (tenders/hvt, tenders/common in Solo5/solo5) does it, over one guest-memory buffer.
 *
 * Facts from Solo5 (include/solo5/hvt_abi.h, elf_abi.h, mft_abi.h; tenders/common/elf.c,
 * mft.c; tenders/hvt/hvt_cpu_x86_64.[ch], hvt_boot_info.c, hvt_core.c, hvt_module_blk.c,
 * hvt_module_net.c, hvt_kvm_x86_64.c, hvt_openbsd.c, spt/hvt main):
 *  - An hvt unikernel is an ELF64 x86-64 ET_EXEC with a PT_NOTE whose first note is owner
 *    "Solo5", type "ABI1" (0x31494241) giving abi_target 1 (hvt) and abi_version, and another
 *    PT_NOTE with owner "Solo5", type "MFT1" (0x3154464d): the manifest of devices.
 *  - PT_LOAD segments are loaded at p_vaddr (= guest-physical), never below 0x100000, sorted
 *    and non-overlapping, page aligned once rounded to p_align, never W+X; the tender then
 *    protects each rounded range with its R/W/X flags (OpenBSD: VMM_IOC_MPROTECT_EPT).
 *  - Low memory: GDT at 0x1000, PML4 0x2000, PDPT 0x3000, PDs 0x4000-0x7fff, the first 2 MiB
 *    mapped with 4 KiB pages from PT0 at 0x8000 (pages below 0x10000 not present, 0x10000-
 *    0xfffff read-only), the rest 1:1 with 2 MiB pages up to mem_size (2 MiB multiple,
 *    at most 4 GiB). struct hvt_boot_info at 0x10000, then the manifest, then the command
 *    line (8192 bytes). Entry: long mode, RDI = 0x10000, RSP = mem_size - 8.
 *  - Hypercalls: the guest does outl(0x500 + nr, gpa of the call's struct). Bad guest
 *    addresses abort the guest.
 * Pure: only hvt_attach and hvt_io (and what they call) touch the platform. */
#ifndef VMMCTL_HVT_H
#define VMMCTL_HVT_H

#include <stddef.h>
#include <stdint.h>

#include "elf.h"
#include "../../abi/bvmm.h"

/* Solo5's ABI constants (hvt_abi.h, elf_abi.h, mft_abi.h). */
#define HVT_ABI_TARGET 1
/* Copies of Solo5's hvt_abi.h carry ABI version 1 or 2 with the same x86-64 port-I/O
 * hypercalls and structures (a later fork's 3 adds a vmcall form, not offered): both taken. */
#define HVT_ABI_VERSION 1
#define HVT_ABI_VERSION_MAX 2
#define HVT_GUEST_MIN_BASE 0x100000ull
#define HVT_HYPERCALL_PIO_BASE 0x500
#define HVT_CMDLINE_SIZE 8192
#define HVT_HALT_COOKIE_MAX 512

enum hvt_hypercall {
	HVT_HYPERCALL_WALLTIME = 1,
	HVT_HYPERCALL_PUTS,
	HVT_HYPERCALL_POLL,
	HVT_HYPERCALL_BLOCK_WRITE,
	HVT_HYPERCALL_BLOCK_READ,
	HVT_HYPERCALL_NET_WRITE,
	HVT_HYPERCALL_NET_READ,
	HVT_HYPERCALL_HALT,
	HVT_HYPERCALL_MAX
};

/* solo5_result_t (solo5.h): what the hypercalls put in their ret field. */
#define SOLO5_R_OK 0
#define SOLO5_R_AGAIN 1
#define SOLO5_R_EINVAL 2
#define SOLO5_R_EUNSPEC 3

/* The manifest (mft_abi.h, MFT_VERSION 1), as laid out by the x86-64 SysV ABI: struct mft is
 * { u32 version; u32 entries; struct mft_entry e[]; } and each entry 104 bytes. */
#define MFT_VERSION 1
#define MFT_MAX_ENTRIES 64
#define MFT_NAME_SIZE 68
#define MFT_DEV_BLOCK_BASIC 1
#define MFT_DEV_NET_BASIC 2
#define MFT_RESERVED_FIRST (1u << 30)
#define MFT_HDR_SIZE 8
#define MFT_ENTRY_SIZE 104
#define MFT_E_NAME 0
#define MFT_E_TYPE 68
#define MFT_E_CAPACITY 72                /* u.block_basic.capacity, u64 */
#define MFT_E_BLOCK_SIZE 80              /* u.block_basic.block_size, u16 */
#define MFT_E_MAC 72                     /* u.net_basic.mac[6] */
#define MFT_E_MTU 78                     /* u.net_basic.mtu, u16 */
#define MFT_E_HOSTFD 88                  /* b: the tender's private word, 8 bytes */
#define MFT_E_ATTACHED 96                /* bool */

/* The low-memory layout of Solo5's x86-64 tender (hvt_cpu_x86_64.h). */
#define HVT_X86_GDT_BASE 0x1000
#define HVT_X86_PML4_BASE 0x2000
#define HVT_X86_PDPTE_BASE 0x3000
#define HVT_X86_PDE_BASE 0x4000
#define HVT_X86_PT0_BASE 0x8000
#define HVT_X86_BOOT_INFO_BASE 0x10000
#define HVT_X86_PAGE_2M 0x200000ull
#define HVT_X86_MAX_MEM (2048 * HVT_X86_PAGE_2M)     /* four page directories */
#define HVT_BOOT_INFO_SIZE 40

/* h->status when vmmctl aborts the guest as Solo5's tender does (errx(1, ...)) for a bad
 * hypercall; outside the byte a guest's exit status is reduced to, so never ambiguous. */
#define HVT_STATUS_ABORT 0x100

/* Net devices vmmctl can attach at once, and the frame each may hold for the guest between
 * POLL (which has to read a frame to learn one is there: the platform has no peek) and
 * NET_READ. 1514 bytes (MTU 1500 + Ethernet header) rounded up. */
#define HVT_NET_MAX 4
#define HVT_FRAME_MAX 1536

struct hvt_dev {
	char name[MFT_NAME_SIZE];
	uint32_t type;                   /* MFT_DEV_* or >= MFT_RESERVED_FIRST */
	int attached;
	int handle;                      /* plat_file_open / plat_tap_open handle */
	uint64_t capacity;               /* block: bytes */
	uint16_t block_size;             /* block: 512 */
	uint8_t mac[6];                  /* net */
	uint16_t mtu;                    /* net */
	int slot;                        /* net: its rx[] slot */
};

struct hvt {
	uint8_t *mem;                    /* guest memory at GPA 0 */
	uint64_t mem_size;
	uint64_t entry, kernel_end, tsc_hz;
	struct elf_seg segs[ELF_MAX_SEGS];
	int nsegs;
	uint64_t mft_gpa, mft_size;      /* the guest's copy of the manifest */
	uint64_t cmdline_gpa;
	uint32_t ndevs;                  /* manifest entries, entry 0 the reserved one */
	struct hvt_dev dev[MFT_MAX_ENTRIES];
	int nnet;
	uint32_t rx_len[HVT_NET_MAX];    /* a frame read by POLL, not yet given to NET_READ */
	uint8_t rx[HVT_NET_MAX][HVT_FRAME_MAX];
	/* vmmctl extension, off by default (Solo5 refuses to run with a declared device left
	 * unattached): run anyway, the guest sees the device as not attached. */
	int allow_unattached;
	int halted, status;
	uint64_t halt_cookie;            /* the guest's HALT cookie gpa (checked), 0 if none */
};

/* 1 if img is an ELF64 x86-64 executable carrying Solo5's ABI1 note for the hvt target (any
 * version: hvt_load then names a version mismatch), 0 otherwise (not ELF, not Solo5, or a
 * Solo5 note for another target), -1 if it is an ELF whose notes are malformed. */
int hvt_detect(const uint8_t *img, size_t len);

/* Solo5's adjustment of a requested memory size (hvt_x86_mem_size): down to a 2 MiB multiple,
 * at least 2 MiB. Sizes above HVT_X86_MAX_MEM stay as they are (hvt_load refuses them). */
uint64_t hvt_round_mem(uint64_t mem_size);

/* Check and load the unikernel into mem (GPA 0, mem_size bytes, zeroed; mem_size a multiple
 * of 2 MiB, at most 4 GiB), write Solo5's GDT and page tables, the boot info, the guest's copy
 * of the manifest and the command line (at most HVT_CMDLINE_SIZE - 1 bytes; NULL = empty).
 * tsc_hz goes to the guest as cpu_cycle_freq (must be non-zero). 0, or -1 and a message in
 * err naming the reason. h is zeroed first. */
int hvt_load(struct hvt *h, const uint8_t *img, size_t len, uint8_t *mem, uint64_t mem_size,
	     const char *cmdline, uint64_t tsc_hz, char *err, size_t errlen);

/* Attach a device the manifest declares, Solo5's --block:NAME=FILE / --net:NAME=TAP without
 * the leading "--": "block:NAME=FILE" or "net:NAME=TAP" (NAME of [A-Za-z0-9], at most 67).
 * Opens through plat_file_open(FILE, writable) (capacity = file size, at least 512; block
 * size 512) or plat_tap_open (MTU 1500, a locally administered MAC). Also "net-mac:NAME=
 * xx:xx:xx:xx:xx:xx" sets a net device's MAC (Solo5's --net-mac:). 0 or -1 + err. */
int hvt_attach(struct hvt *h, const char *spec, char *err, size_t errlen);

/* After the last hvt_attach: every declared device must be attached (Solo5's rule) unless
 * h->allow_unattached; writes the final manifest (attached, capacity, block_size, mac, mtu)
 * into the guest's copy. 0 or -1 + err naming the first unattached device. */
int hvt_ready(struct hvt *h, char *err, size_t errlen);

/* Solo5's initial vCPU state: long mode, CS 0x8 / data 0x10 flat, GDTR 0x1000/23, CR3 0x2000,
 * RIP = entry, RDI = boot info (0x10000), RSP = mem_size - 8, RFLAGS 2. */
void hvt_init_state(const struct hvt *h, struct vcpu_reg_state *rs);

/* The PT_LOAD page ranges with the protections Solo5 gives them through MPROTECT_EPT. The
 * rest of guest memory stays read/write/execute, as with Solo5. Returns the count. */
int hvt_segments(const struct hvt *h, const struct elf_seg **segs);

/* A port-I/O exit: 1 if port is one of Solo5's (0x500 .. 0x5ff), handled; 0 otherwise. In
 * Solo5's range only a 32-bit OUT of a known hypercall is valid (the core must pass only
 * 4-byte accesses or treat others as invalid itself): an IN, an unknown number, a bad guest
 * address or length, a hypercall of a module with nothing attached, or a host I/O error
 * aborts the guest as Solo5's tender does (errx): h->halted = 1, h->status =
 * HVT_STATUS_ABORT, and a message through plat_msg. HALT sets h->halted and h->status = the
 * guest's exit_status reduced to its low 8 bits (as a process's exit status is). */
int hvt_io(struct hvt *h, uint16_t port, int dir_in, uint32_t value);

#endif
