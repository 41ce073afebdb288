/* The AMD VMCB (APM vol. 2, appendix B): control area at 0x000, state-save area at 0x400.
 * Fixed-width fields with their offsets; bits as named masks. Only svm/ includes this. */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_seg {
	uint16_t sel;
	uint16_t attrib;   /* access byte bits 0-7, flags (AVL, L, D/B, G) bits 8-11 */
	uint32_t limit;
	uint64_t base;
};

struct vmcb_control {
	uint32_t intercept_cr;       /* 0x000: reads 0-15, writes 16-31 */
	uint32_t intercept_dr;       /* 0x004 */
	uint32_t intercept_exc;      /* 0x008 */
	uint32_t intercept_misc1;    /* 0x00c */
	uint32_t intercept_misc2;    /* 0x010 */
	uint32_t intercept_misc3;    /* 0x014 */
	uint8_t  rsvd1[0x3c - 0x18];
	uint16_t pause_thresh;       /* 0x03c */
	uint16_t pause_count;        /* 0x03e */
	uint64_t iopm_base_pa;       /* 0x040 */
	uint64_t msrpm_base_pa;      /* 0x048 */
	uint64_t tsc_offset;         /* 0x050 */
	uint32_t asid;               /* 0x058 */
	uint8_t  tlb_control;        /* 0x05c */
	uint8_t  rsvd2[3];
	uint32_t int_ctl;            /* 0x060: V_TPR, V_IRQ, V_INTR_PRIO, V_INTR_MASKING */
	uint32_t int_vector;         /* 0x064 */
	uint64_t int_state;          /* 0x068: interrupt shadow */
	uint64_t exitcode;           /* 0x070 */
	uint64_t exitinfo1;          /* 0x078 */
	uint64_t exitinfo2;          /* 0x080 */
	uint64_t exitintinfo;        /* 0x088 */
	uint64_t np_enable;          /* 0x090 */
	uint64_t avic_apic_bar;      /* 0x098 */
	uint64_t ghcb_pa;            /* 0x0a0 */
	uint64_t eventinj;           /* 0x0a8 */
	uint64_t n_cr3;              /* 0x0b0 */
	uint64_t lbr_virt;           /* 0x0b8 */
	uint32_t clean;              /* 0x0c0 */
	uint32_t rsvd3;
	uint64_t next_rip;           /* 0x0c8: only with NRIP save (not under QEMU TCG) */
	uint8_t  insn_len;           /* 0x0d0: only with decode assists */
	uint8_t  insn_bytes[15];     /* 0x0d1 */
	uint8_t  rsvd4[0x400 - 0xe0];
};

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs;  /* 0x400 .. 0x45f */
	struct vmcb_seg gdtr, ldtr, idtr, tr;    /* 0x460 .. 0x49f */
	uint8_t  rsvd1[0x4cb - 0x4a0];
	uint8_t  cpl;                /* 0x4cb */
	uint32_t rsvd2;
	uint64_t efer;               /* 0x4d0 */
	uint8_t  rsvd3[0x548 - 0x4d8];
	uint64_t cr4;                /* 0x548 */
	uint64_t cr3;                /* 0x550 */
	uint64_t cr0;                /* 0x558 */
	uint64_t dr7;                /* 0x560 */
	uint64_t dr6;                /* 0x568 */
	uint64_t rflags;             /* 0x570 */
	uint64_t rip;                /* 0x578 */
	uint8_t  rsvd4[0x5d8 - 0x580];
	uint64_t rsp;                /* 0x5d8 */
	uint64_t s_cet, ssp, isst;   /* 0x5e0 */
	uint64_t rax;                /* 0x5f8 */
	uint64_t star;               /* 0x600 */
	uint64_t lstar;              /* 0x608 */
	uint64_t cstar;              /* 0x610 */
	uint64_t sfmask;             /* 0x618 */
	uint64_t kernel_gs_base;     /* 0x620 */
	uint64_t sysenter_cs;        /* 0x628 */
	uint64_t sysenter_esp;       /* 0x630 */
	uint64_t sysenter_eip;       /* 0x638 */
	uint64_t cr2;                /* 0x640 */
	uint8_t  rsvd5[0x668 - 0x648];
	uint64_t g_pat;              /* 0x668 */
	uint64_t dbgctl;             /* 0x670 */
	uint64_t br_from, br_to;     /* 0x678 */
	uint64_t lastexcp_from, lastexcp_to; /* 0x688 */
	uint8_t  rsvd6[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control c;
	struct vmcb_save s;
};

_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area");
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one page");
_Static_assert(offsetof(struct vmcb, c.exitcode) == 0x070, "exitcode");
_Static_assert(offsetof(struct vmcb, c.eventinj) == 0x0a8, "eventinj");
_Static_assert(offsetof(struct vmcb, c.n_cr3) == 0x0b0, "n_cr3");
_Static_assert(offsetof(struct vmcb, c.next_rip) == 0x0c8, "next_rip");
_Static_assert(offsetof(struct vmcb, s.cpl) == 0x4cb, "cpl");
_Static_assert(offsetof(struct vmcb, s.efer) == 0x4d0, "efer");
_Static_assert(offsetof(struct vmcb, s.cr4) == 0x548, "cr4");
_Static_assert(offsetof(struct vmcb, s.rip) == 0x578, "rip");
_Static_assert(offsetof(struct vmcb, s.rsp) == 0x5d8, "rsp");
_Static_assert(offsetof(struct vmcb, s.rax) == 0x5f8, "rax");
_Static_assert(offsetof(struct vmcb, s.cr2) == 0x640, "cr2");
_Static_assert(offsetof(struct vmcb, s.g_pat) == 0x668, "g_pat");

/* intercept_misc1 */
#define VMCB_INTERCEPT_INTR      (1u << 0)
#define VMCB_INTERCEPT_NMI       (1u << 1)
#define VMCB_INTERCEPT_SMI       (1u << 2)
#define VMCB_INTERCEPT_INIT      (1u << 3)
#define VMCB_INTERCEPT_VINTR     (1u << 4)
#define VMCB_INTERCEPT_CR0_SEL_WRITE (1u << 5)   /* CR0 writes changing more than TS, MP */
#define VMCB_INTERCEPT_RDPMC     (1u << 15)
#define VMCB_INTERCEPT_CPUID     (1u << 18)
#define VMCB_INTERCEPT_IRET      (1u << 20)
#define VMCB_INTERCEPT_INVD      (1u << 22)
#define VMCB_INTERCEPT_HLT       (1u << 24)
#define VMCB_INTERCEPT_INVLPGA   (1u << 26)
#define VMCB_INTERCEPT_IOIO_PROT (1u << 27)
#define VMCB_INTERCEPT_MSR_PROT  (1u << 28)
#define VMCB_INTERCEPT_SHUTDOWN  (1u << 31)
/* intercept_misc2 */
#define VMCB_INTERCEPT_VMRUN     (1u << 0)
#define VMCB_INTERCEPT_VMMCALL   (1u << 1)
#define VMCB_INTERCEPT_VMLOAD    (1u << 2)
#define VMCB_INTERCEPT_VMSAVE    (1u << 3)
#define VMCB_INTERCEPT_STGI      (1u << 4)
#define VMCB_INTERCEPT_CLGI      (1u << 5)
#define VMCB_INTERCEPT_SKINIT    (1u << 6)

/* intercept_misc2, further */
#define VMCB_INTERCEPT_RDTSCP    (1u << 7)
#define VMCB_INTERCEPT_MONITOR   (1u << 10)
#define VMCB_INTERCEPT_MWAIT     (1u << 11)
#define VMCB_INTERCEPT_XSETBV    (1u << 13)

/* int_ctl, int_state */
#define VMCB_V_IRQ           (1u << 8)
#define VMCB_V_IGN_TPR       (1u << 20)
#define VMCB_INT_SHADOW      1ull

/* EXITINFO1 of an IOIO exit (APM 15.10.2) */
#define VMCB_IOIO_IN         (1u << 0)
#define VMCB_IOIO_STR        (1u << 2)
#define VMCB_IOIO_REP        (1u << 3)
#define VMCB_IOIO_SZ8        (1u << 4)
#define VMCB_IOIO_SZ16       (1u << 5)
#define VMCB_IOIO_PORT_SHIFT 16
/* EXITINFO1 of an MSR exit */
#define VMCB_MSR_WRITE       1
/* EXITINFO1 of an NPF: the #PF error code bits (APM 15.25.6) */
#define VMCB_NPF_PRESENT     (1ull << 0)
#define VMCB_NPF_WRITE       (1ull << 1)
#define VMCB_NPF_TABLE_WALK  (1ull << 33)   /* the fault hit a guest page-table access */

/* Segment attribute: the L bit (64-bit code) */
#define VMCB_ATTR_L          (1u << 9)
#define VMCB_ATTR_DB         (1u << 10)

#define VMCB_TLB_FLUSH_ALL   1   /* every ASID's entries */
#define VMCB_TLB_FLUSH_ASID  3   /* this VMCB's ASID's entries */
#define VMCB_NP_ENABLE       (1ull << 0)
#define VMCB_V_INTR_MASKING  (1u << 24)

/* EVENTINJ / EXITINTINFO (APM 15.20) */
#define VMCB_EVENT_VALID     (1ull << 31)
#define VMCB_EVENT_EV        (1ull << 11)
#define VMCB_EVENT_TYPE_INTR (0ull << 8)
#define VMCB_EVENT_TYPE_NMI  (2ull << 8)
#define VMCB_EVENT_TYPE_EXC  (3ull << 8)
#define VMCB_EVENT_TYPE_SOFT (4ull << 8)

/* intercept_cr: reads of CRn at bit n, writes at bit 16 + n */
#define VMCB_INTERCEPT_CR4_WRITE (1u << 20)
#define VMCB_INTERCEPT_CR8_WRITE (1u << 24)
/* intercept_exc: one bit per vector */
#define VMCB_INTERCEPT_EXC(v)    (1u << (v))

/* The event an exit cut short, to deliver again (EVENTINJ), or 0. A software interrupt
 * (INTn) or INT3/INTO is not re-injected: RIP still points at the instruction, which the guest
 * executes again; re-injecting would push that RIP as the return address and run it twice
 * (without NRIP save there is no next RIP to use). */
static inline uint64_t vmcb_reinject(uint64_t exitintinfo)
{
	if (__builtin_expect(!(exitintinfo & VMCB_EVENT_VALID), 1))   /* every exit but a few */
		return 0;
	uint64_t type = exitintinfo & (7ull << 8), vec = exitintinfo & 0xff;
	if (type == VMCB_EVENT_TYPE_SOFT ||
	    (type == VMCB_EVENT_TYPE_EXC && (vec == 3 || vec == 4)))
		return 0;
	/* QEMU (TCG, to at least 7.2) records every event it was delivering as an exception,
	 * an external interrupt and an NMI too; EVENTINJ refuses an exception with vector 2 or
	 * above 31 (VMRUN fails, APM vol. 2 15.20). Those can only have been an NMI or an
	 * interrupt: give them back their type (no error code). */
	if (type == VMCB_EVENT_TYPE_EXC && (vec == 2 || vec >= 32))
		return VMCB_EVENT_VALID | vec | (vec == 2 ? VMCB_EVENT_TYPE_NMI : VMCB_EVENT_TYPE_INTR);
	return exitintinfo;
}

/* Exit codes (APM appendix C) */
#define SVM_EXIT_CR4_WRITE 0x014
#define SVM_EXIT_DR_FIRST  0x020   /* MOV from DR0 ... MOV to DR15: 0x20 + n, 0x30 + n */
#define SVM_EXIT_DR_LAST   0x03f
#define SVM_EXIT_CR8_WRITE 0x018
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_EXCP_DB   0x041
#define SVM_EXIT_EXCP_AC   0x051
#define SVM_EXIT_INTR      0x060
#define SVM_EXIT_NMI       0x061
#define SVM_EXIT_SMI       0x062
#define SVM_EXIT_INIT      0x063
#define SVM_EXIT_VINTR     0x064
#define SVM_EXIT_CR0_SEL_WRITE 0x065
#define SVM_EXIT_RDPMC     0x06f
#define SVM_EXIT_CPUID     0x072
#define SVM_EXIT_IRET      0x074
#define SVM_EXIT_INVD      0x076
#define SVM_EXIT_HLT       0x078
#define SVM_EXIT_INVLPGA   0x07a
#define SVM_EXIT_IOIO      0x07b
#define SVM_EXIT_MSR       0x07c
#define SVM_EXIT_SHUTDOWN  0x07f
#define SVM_EXIT_VMRUN     0x080
#define SVM_EXIT_VMMCALL   0x081
#define SVM_EXIT_VMLOAD    0x082
#define SVM_EXIT_VMSAVE    0x083
#define SVM_EXIT_STGI      0x084
#define SVM_EXIT_CLGI      0x085
#define SVM_EXIT_SKINIT    0x086
#define SVM_EXIT_RDTSCP    0x087
#define SVM_EXIT_MONITOR   0x08a
#define SVM_EXIT_MWAIT     0x08b
#define SVM_EXIT_MWAIT_C   0x08c
#define SVM_EXIT_XSETBV    0x08d
#define SVM_EXIT_NPF       0x400
#define SVM_EXIT_INVALID   0xffffffffu  /* compare as a 32-bit -1 */

/* MSR permission map (APM 15.11): 2 bits per MSR (read, write) in three 2 KiB vectors. */
#define MSRPM_SIZE (2 * 4096)
#define IOPM_SIZE  (3 * 4096)

#endif
