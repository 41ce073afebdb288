/* The control guest's PCI configuration accesses that the hypervisor intercepts and replays
 * (pcicfg.c): port 0xCFC-0xCFF and ECAM writes, each judged by pci_write_ok() first. */
#ifndef ARCH_PCICFG_H
#define ARCH_PCICFG_H

#include <stdint.h>

#define PCICFG_DATA_PORT 0xcfc   /* 0xcfc-0xcff are intercepted */

uint32_t pcicfg_port_in(uint16_t port, unsigned size);
/* A write to 0xCFC-0xCFF: judged if 0xCF8 selects a configuration cycle, then replayed. */
void pcicfg_port_out(uint16_t port, unsigned size, uint32_t val);
/* Is gpa inside the ECAM window (segment 0)? */
int pcicfg_in_ecam(uint64_t gpa);
/* A store of size 1, 2 or 4 bytes into the ECAM window, judged, then done. */
void pcicfg_ecam_write(uint64_t gpa, unsigned size, uint32_t val);

/* A control guest's store into the write-protected ECAM window, from its instruction bytes
 * (mode: 16, 32 or 64): decoded, judged, replayed. The source register comes from gpr()
 * (vcpu_reg_state order). 0 and the instruction length, or -1 if it is not a store bvmm
 * emulates (the caller injects #GP). */
int pcicfg_ecam_store(const uint8_t *insn, unsigned n, int mode, uint64_t gpa,
		      uint64_t (*gpr)(void *ctx, unsigned vrs), void *ctx, unsigned *len);
/* The same, once the store is decoded: `size` bytes of `val` at gpa. Always 0 (a store across
 * registers is dropped). */
int pcicfg_ecam_store_value(uint64_t gpa, uint64_t val, unsigned size);

#endif
