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

#endif
