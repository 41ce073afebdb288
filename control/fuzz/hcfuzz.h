/* hcfuzz: a seeded, structure-aware fuzzer of bvmm's hypercalls, run as the control program.
 * Shared declarations: the PRNG, the model of the hypervisor, pointer classes, the checked
 * hypercall and the violation report. Never touches memory it did not allocate itself. */
#ifndef HCFUZZ_H
#define HCFUZZ_H

#include <efi.h>
#include <efilib.h>
#include "../../abi/bvmm.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define PAGE 4096ull

/* ---- PRNG: splitmix64, one stream per run; the seed alone fixes every call ---- */
extern uint64_t rng_state;
static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static inline uint64_t rn(uint64_t n) { return n ? rnd() % n : 0; }   /* [0, n) */
static inline int chance(unsigned pct) { return rn(100) < pct; }
static inline uint64_t rbits(void) { return rnd() & (rnd() | rnd()); } /* sparse-ish bits */

/* ---- errno sets: bit e for errno e, bit 0 for success ---- */
#define EB(e) (1ull << (e))
#define EB_OK EB(0)

/* ---- the model ---- */
#define MAX_VMS 24        /* live VMs the model allows itself */
#define SLOT_BYTES (2 * MIB)
#define MAX_STALE 32

enum last_exit { LX_NONE, LX_IO_IN, LX_NPF, LX_OTHER };

struct mvcpu {
	uint8_t dead;         /* HLT with IF=0, or an unexpected exit: EBUSY for RUN/RESETCPU */
	uint8_t pristine;     /* power-on state, untouched since CREATE */
	uint8_t last;         /* enum last_exit: what vrp_continue applies to */
	uint8_t io_size;
	uint8_t pv_known;     /* pv_gpa / pv_ver are what READVMPARAMS must return */
	uint8_t xapic;        /* VPP_XAPIC_*: what READVMPARAMS must return (0 after CREATE) */
	uint8_t exit_regs;    /* VM_RWREGS_* groups an exit writes (VM_RWREGS_ALL after CREATE) */
	uint8_t last_gprs;    /* the last NPF exit carried the GPRs (the continue takes them) */
	uint64_t pv_gpa;
	uint32_t pv_ver;
	uint64_t gprs[VCPU_REGS_NGPRS];   /* the last exit's GPRs (for continue after NPF) */
};

struct mvm {
	int live;
	uint32_t id;
	uint64_t ncpus, mem;
	unsigned nranges;
	struct vm_mem_range r[VMM_MAX_MEM_RANGES];
	char name[VMM_MAX_NAME_LEN];
	int slot;             /* arena slot backing it */
	unsigned runs;        /* RUNs this batch */
	struct mvcpu *vc;
};

struct env {
	uint64_t pool_pa, pool_size, pool_base_free;
	uint64_t phys_top;    /* the firmware memory map's extent as bvmm.4 defines it */
	uint64_t rt_pa, acpi_pa, resv_pa;   /* non-RAM memory-map ranges (0 if none) */
	uint8_t *arena;       /* MAX_VMS slots of SLOT_BYTES, 2 MiB aligned */
	uint8_t *scratch;     /* parameter structures and buffers (SCRATCH_PAGES pages) */
	uint64_t cr4_extra;   /* FSGSBASE/SMEP/SMAP the CPU reports */
	unsigned maxphy;
	int nx;
};
#define SCRATCH_PAGES 16

extern struct env env;
extern struct mvm vms[MAX_VMS];
extern uint32_t stale[MAX_STALE];
extern unsigned nstale;
extern uint32_t max_id;   /* highest id CREATE returned */
extern int verbose;
extern uint64_t trace;   /* print every call from this number on (0: never) */

struct mvm *model_pick(void);                 /* a live VM, or NULL */
unsigned model_live(void);
uint64_t model_vcpus(void);
struct mvm *model_find(uint32_t id);
struct mvm *model_add(const struct vm_create_params *p, int slot);
void model_remove(struct mvm *m);
int model_free_slot(void);
uint8_t *model_gpa(const struct mvm *m, uint64_t gpa, uint64_t len);   /* host view or NULL */
int model_contains(const struct mvm *m, uint64_t gpa, uint64_t len);

/* ---- pointer classes (RDI, vrp_exit, vip_info) ---- */
enum pclass {
	PC_VALID, PC_CROSS,                 /* in our scratch; CROSS straddles a page boundary */
	PC_UNMAPPED, PC_NONCANON, PC_POOL, PC_POOL_CROSS, PC_PAST_TOP, PC_TOP_CROSS,
	PC_MMIO, PC_NULL, PC_COUNT
};
extern const char *const pclass_name[PC_COUNT];
static inline int pc_good(int c) { return c == PC_VALID || c == PC_CROSS; }
static inline int pc_bad(int c) { return c >= PC_UNMAPPED && c <= PC_TOP_CROSS; }
uint64_t pc_addr(int cls, unsigned size, unsigned region, int for_output);
int pc_pick(int output);

/* ---- the checked hypercall (hcall.S): every register but RAX must survive ---- */
uint64_t hf_vmmcall(uint64_t op, void *params, const uint64_t pat[13], uint64_t after[14]);
extern uint64_t call_no, seed;
uint64_t hc(uint64_t op, void *p);           /* checked for register preservation */
uint64_t hc_aux(uint64_t op, void *p, uint64_t want);   /* a helper call that must give `want` */

/* ---- reporting ---- */
void violation(const char *op, const char *what, const CHAR16 *detail);
extern unsigned violations;
const char *op_name(uint64_t op);
const char *errno_name(uint64_t e);

/* ---- operations (ops.c) ---- */
void op_one(void);              /* generate, run and check one call (or a short RUN burst) */
unsigned op_calls_made(void);   /* generated hypercalls since calls_reset() */
void check_info_model(void);    /* INFO against the model (and the model resynchronized) */
void check_pool_now(void);      /* HVINFO's free bytes against what the model expects */
void pool_invalidate(void);     /* after a call that may allocate or free pool pages */
void batch_reset(void);
void term_all(void);
extern unsigned unexpected_exits, refused_entries;

/* ---- register states (regs.c) ---- */
void regs_template(struct vcpu_reg_state *rs, int mode);
void regs_mutate(struct vcpu_reg_state *rs);
enum { RULE_OK, RULE_BAD, RULE_UNSURE };
int regs_rules(const struct vcpu_reg_state *rs);
int regs_poweron(const struct vcpu_reg_state *rs);
void regs_merge(struct vcpu_reg_state *dst, const struct vcpu_reg_state *src, uint64_t mask);
void regs_init_limits(void);

/* ---- child code (child.c) ---- */
enum cmode { CM_REAL, CM_PROT32, CM_LONG64 };
#define CHILD_ENTRY 0x8000ull
void child_fill(struct mvm *m, int mode);

#endif
