/* vmmctl's MMIO assist: decodes the load or store an NPF exit with VEE_FAULT_MMIO_ASSIST
 * stopped on (bvmm.4: the exit carries the instruction bytes, never the faulting address),
 * walks the guest's page tables to the guest-physical address, and completes the
 * instruction in the register state. Pure: guest memory is a buffer at GPA 0. */
#ifndef VMMCTL_MMIO_H
#define VMMCTL_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include "../../abi/bvmm.h"

struct mmio_op {
	int write;          /* 1: store of `value`; 0: load into `reg` */
	unsigned size;      /* bytes accessed in memory: 1, 2, 4 or 8 */
	uint64_t gla, gpa;  /* linear and guest-physical address of the access */
	uint64_t value;     /* store data, masked to size */
	int reg;            /* loads: destination, a VCPU_REGS_* index; -1 for stores */
	unsigned dsize;     /* loads: destination register width in bytes (1, 2, 4 or 8) */
	int high8;          /* loads: destination is AH, CH, DH or BH (bits 8-15 of reg) */
	int zx8, zx16;      /* MOVZX from 8 or 16 bits */
	int sx8, sx16;      /* MOVSX from 8 or 16 bits */
	unsigned len;       /* instruction length: RIP advances by this */
};

/* CPU mode the decoder sees, from CR0.PE, EFER.LMA, CS.L, CS.D/B and RFLAGS.VM. */
enum mmio_mode { MMIO_MODE16 = 2, MMIO_MODE32 = 4, MMIO_MODE64 = 8 };
enum mmio_mode mmio_cpu_mode(const struct vcpu_reg_state *rs);

/* Decode the instruction of an NPF exit (ex->vee bytes, ex->vrs registers) and translate its
 * address. Forms: MOV 88/89/8A/8B/C6/C7/A0-A3, MOVZX 0F B6/B7, MOVSX 0F BE/BF; prefixes
 * 66, 67, segment overrides, LOCK, REX. 0, or -1 with the reason in err. */
int mmio_decode(const struct vm_exit *ex, const uint8_t *mem, uint64_t mem_size,
		struct mmio_op *op, char *err, size_t errlen);

/* Linear -> guest-physical through the guest's paging structures (paging off, 32-bit with
 * PSE/PSE-36 4 MiB pages, PAE, 4-level with 2 MiB/1 GiB pages). Only present bits are
 * checked: the processor already allowed the access when it took the NPF. 0 or -1. */
int mmio_translate(const struct vcpu_reg_state *rs, const uint8_t *mem, uint64_t mem_size,
		   uint64_t gla, uint64_t *gpa, char *err, size_t errlen);

/* Finish a decoded instruction: for a load, merge load_value into the destination as x86 does
 * (8/16-bit writes keep the rest, 32-bit writes zero the upper half, MOVZX/MOVSX extend);
 * then advance RIP by op->len (wrapping at 32 bits outside 64-bit mode). */
void mmio_complete(struct vcpu_reg_state *rs, const struct mmio_op *op, uint64_t load_value);

#endif
