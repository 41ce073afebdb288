/* vmmctl's platform layer: what differs between its two homes, the UEFI shell (plat_efi.c,
 * bvmm hypercalls) and a Linux control domain (plat_linux.c, /dev/vmm). Everything else in
 * vmmctl (loaders, device models, the run loop) is shared and calls only this. */
#ifndef VMMCTL_PLAT_H
#define VMMCTL_PLAT_H

#include <stddef.h>
#include <stdint.h>

/* Errno values vmmctl itself returns (Linux numbers, as the hypercalls use). */
#define VE_NOENT 2
#define VE_IO 5
#define VE_NOMEM 12
#define VE_INVAL 22
#define VE_NOSPC 28
#define VE_NOSYS 38

/* One vmm(4) operation (BVMM_OP_*, abi/bvmm.h) on its parameter block: 0 or an errno. */
int plat_vmm(unsigned op, void *params);

/* RUN through a RUN_PHYS block (abi/bvmm.h: no walk of the caller's page tables, and on
 * Linux no copy or pin per RUN): the block, or NULL where there is none (vmmctl then uses
 * plat_vmm(BVMM_OP_RUN)); plat_run_block_go() runs the vCPU its vrb_params name: 0 or an
 * errno, as plat_vmm. */
struct vm_run_block;
struct vm_run_block *plat_run_block(void);
int plat_run_block_go(void);

/* Clocks: monotonic nanoseconds, and wall-clock nanoseconds since 1970-01-01 UTC. */
uint64_t plat_now_ns(void);
uint64_t plat_wall_ns(void);
/* The guest-visible TSC rate (Hz); the child's TSC is the control guest's. */
uint64_t plat_tsc_hz(void);

/* vmmctl's own messages: one line each, "vmmctl: " prepended, newline appended. */
void plat_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The guest's console bytes, to the user's terminal as they are. */
void plat_console_out(const void *buf, size_t n);
/* A byte of console input, if one is waiting (never blocks): 1, else 0. */
int plat_console_in(uint8_t *c);
/* 1 while console input may still arrive (not at end of file). */
int plat_console_open(void);

/* Guest memory: zeroed, page aligned, of a kind the VM may be created from. NULL on failure. */
void *plat_guest_alloc(uint64_t size);
void plat_guest_free(void *mem, uint64_t size);

/* A whole file read into memory (freed with plat_free): 0 or an errno. */
int plat_read_file(const char *path, void **data, size_t *len);
void plat_free(void *p);

/* Files backing block devices: a handle >= 0, or -errno. */
int plat_file_open(const char *path, int writable, uint64_t *size);
int plat_file_pread(int h, void *buf, size_t n, uint64_t off);    /* 0 or an errno; all or nothing */
int plat_file_pwrite(int h, const void *buf, size_t n, uint64_t off);

/* Network: a TAP interface by name (Linux only; elsewhere -VE_NOSYS). A handle >= 0 or -errno.
 * read returns the frame's length, 0 if none is waiting (never blocks), or -errno. */
int plat_tap_open(const char *name);
int plat_tap_read(int h, void *buf, size_t n);
int plat_tap_write(int h, const void *buf, size_t n);

/* Detach from the terminal (the console's "~."): the guest runs on without it and the user's
 * shell gets its prompt back. 0, or an errno where that is not possible (EFI). */
int plat_detach(void);

/* Power the machine off (EFI); an errno where vmmctl may not (Linux). */
int plat_poweroff(void);

/* Sleep until deadline_ns (plat_now_ns's clock; 0 means no deadline) or until console input
 * or a TAP frame is waiting, whichever comes first. */
void plat_wait(uint64_t deadline_ns);

#endif
