/* The machine one vmmctl run gives a child: guest memory at GPA 0, one vCPU, and the devices
 * the guest's kind needs, in the manner of vmd(8): every port and MMIO access the hypervisor
 * reports is answered here, between two RUNs. Shared by the EFI and Linux builds. */
#ifndef VMMCTL_MACHINE_H
#define VMMCTL_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include "../../abi/bvmm.h"
#include "devices.h"
#include "elf.h"

enum guest_kind { GUEST_RAW, GUEST_ELF, GUEST_HVT, GUEST_MULTIBOOT, GUEST_LINUX };
enum cpu_mode { MODE_REAL, MODE_PROT32, MODE_LONG64 };

#define MAX_DEVOPTS 8

/* What the user asked for (vmmctl start / run). */
struct start_opts {
	const char *kernel, *initrd, *cmdline;
	const char *devopts[MAX_DEVOPTS];   /* "block:NAME=FILE", "net:NAME=TAP" (Solo5 hvt) */
	int ndevopts;
	uint64_t mem;                        /* bytes */
	char name[VMM_MAX_NAME_LEN];
	int console;                         /* -c: COM1 on the terminal, raw, both directions */
	/* Raw images only (the EFI `run` command): where to load, where to start, in which mode. */
	uint64_t load, entry;
	enum cpu_mode mode;
};

/* Exit statuses of a run (vmmctl's own, besides the guest's). */
#define VMMCTL_EXIT_OK 0         /* halted (HLT with interrupts off) or powered off */
#define VMMCTL_EXIT_ERROR 1      /* vmmctl could not start it, or the guest died (triple fault, ...) */
#define VMMCTL_EXIT_USAGE 2

/* Load, create and run a guest to its end; returns the exit status (the guest's own for
 * Solo5's halt and port 0xF4). */
int machine_start(const struct start_opts *o);

#endif
