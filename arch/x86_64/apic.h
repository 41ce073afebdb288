/* The local APIC's interrupt command register (ICR) as the hypervisor sees a guest's write to
 * it: which IPI, with which vector, to which of the virtualized CPUs. Pure: touches no APIC. */
#ifndef ARCH_APIC_H
#define ARCH_APIC_H

#include <stdint.h>

/* ICR fields (Intel SDM vol. 3A 10.6.1, Figure 10-12; 10.12.9, Figure 10-28 for x2APIC; AMD
 * APM vol. 2 16.5 agrees). The low 32 bits are the same in both modes; the destination is
 * bits 63:56 in xAPIC mode and bits 63:32 in x2APIC mode. */
#define ICR_VECTOR          0x000000ffull
#define ICR_DM_SHIFT        8              /* delivery mode, bits 10:8 */
#define ICR_DM_MASK         0x00000700ull
#define ICR_DM_FIXED        0u
#define ICR_DM_LOWEST       1u             /* reserved in x2APIC mode (Figure 10-28) */
#define ICR_DM_SMI          2u
#define ICR_DM_RSVD3        3u             /* reserved (a Pentium's "remote read") */
#define ICR_DM_NMI          4u
#define ICR_DM_INIT         5u
#define ICR_DM_STARTUP      6u
#define ICR_DM_RSVD7        7u
#define ICR_DEST_LOGICAL    0x00000800ull  /* bit 11: 0 physical, 1 logical */
#define ICR_BUSY            0x00001000ull  /* bit 12: xAPIC delivery status, read-only */
#define ICR_LEVEL_ASSERT    0x00004000ull  /* bit 14 */
#define ICR_TRIGGER_LEVEL   0x00008000ull  /* bit 15 */
#define ICR_SH_SHIFT        18             /* destination shorthand, bits 19:18 */
#define ICR_SH_MASK         0x000c0000ull
#define ICR_SH_NONE         0u
#define ICR_SH_SELF         1u
#define ICR_SH_ALL          2u             /* all including self */
#define ICR_SH_OTHERS       3u             /* all excluding self */
/* x2APIC: a WRMSR that sets any of these raises #GP(0) (SDM 10.12.1.3, reserved bit checking;
 * Figure 10-28). Bit 12 is not among them: the x2APIC WRMSR ignores it. */
#define ICR_X2APIC_RSVD     0x00000000fff32000ull

#define XAPIC_BROADCAST     0xffu          /* 10.6.2.1, 10.6.2.2: all APICs */
#define X2APIC_BROADCAST    0xffffffffu    /* 10.12.9: all APICs, physical or logical */

/* xAPIC destination format register, bits 31:28 (10.6.2.2). 0xffffffff is its reset value. */
#define XAPIC_DFR_FLAT      0xffffffffu
#define XAPIC_DFR_CLUSTER   0x0fffffffu

/* A virtualized CPU as IPI destination logic sees it. Whoever fills these keeps them what the
 * guest last made them (the xAPIC LDR and DFR are written by the OS on each CPU). */
struct apic_cpu {
	uint32_t apic_id;  /* x2APIC ID (x2APIC mode) or xAPIC ID (bits 31:24 of the ID register,
			    * given here as the plain 8-bit id) */
	uint32_t ldr;      /* xAPIC: the logical destination register as the OS last wrote it (bits
			    * 31:24 hold the logical ID), 0 if never written; ignored in x2APIC mode
			    * (derived from apic_id, SDM 10.12.10.2: cluster = id[19:4], bit =
			    * 1 << id[3:0], LDR = cluster << 16 | bit) */
	uint32_t dfr;      /* xAPIC destination format register: 0xFFFFFFFF flat (reset value),
			    * 0x0FFFFFFF cluster; with bits 31:28 neither 1111 nor 0000 the CPU
			    * matches no logical destination */
};

enum icr_kind {
	ICR_OTHER,          /* replay to hardware unchanged (fixed, lowest priority, SMI, NMI) */
	ICR_INIT,           /* emulate an INIT on every target */
	ICR_INIT_DEASSERT,  /* INIT with level 0, trigger 1: dropped (no effect since Pentium 4) */
	ICR_SIPI,           /* emulate a start-up IPI with `vector` on every target */
	ICR_INVALID,        /* send nothing, emulate nothing; see `fault` */
};

/* ICR_INVALID is one of:
 *  - x2APIC mode, a bit of ICR_X2APIC_RSVD set: the WRMSR faults on hardware (fault = 1; the
 *    caller injects #GP(0), and must not replay it: the WRMSR would fault in host mode);
 *  - delivery mode 011 or 111: reserved, no defined effect to replay (fault = 0: dropped);
 *  - INIT (assert) or start-up with the "self" or "all including self" shorthand: invalid in
 *    SDM 10.6.1, Table 10-3 (P6's Table 10-4: "behavior undefined"), never to reach the real
 *    APIC, and no defined effect to emulate (fault = 0: dropped).
 * Everything else decodes to one of the other kinds, however odd (e.g. a level-triggered
 * fixed IPI: Table 10-3, note 2, the xAPIC sends it edge-triggered). */
struct icr_req {
	enum icr_kind kind;
	uint8_t vector;     /* ICR bits 7:0, whatever the kind */
	uint8_t fault;      /* ICR_INVALID only: 1 = the write raises #GP(0); 0 otherwise */
	uint64_t targets;   /* bit i = cpus[i] is a destination, filled for every kind (logs). It
			     * may include `self` (self shorthand, a broadcast or matching
			     * destination). Lowest priority: every candidate, not the one chosen.
			     * INIT de-assert: as the fields encode it, though the APICs that acted
			     * on it ignored the destination. */
};

/* Decode one ICR write of a guest CPU.
 * icr: x2APIC mode: the 64-bit MSR 0x830 value (destination in bits 63:32). xAPIC mode: low
 * word | (uint64_t)high << 32, where high is the ICR high register (destination in its bits
 * 31:24). self: index of the sending CPU in cpus[] (no CPU if >= ncpu). ncpu <= 64 (more are
 * ignored). Always fills all of *out. */
void icr_decode(uint64_t icr, int x2apic, unsigned self, const struct apic_cpu *cpus,
		unsigned ncpu, struct icr_req *out);

/* The logical x2APIC ID (the LDR in x2APIC mode) of the CPU with x2APIC ID `id`: SDM
 * 10.12.10.2, cluster id[19:4] in bits 31:16, 1 << id[3:0] in bits 15:0. */
uint32_t x2apic_ldr(uint32_t id);

#endif
