/* VM and vCPU objects (in pool pages) and the vendor interface hv/ drives them through.
 * hv/ owns the vmm(4) semantics; the vendor backend owns the hardware state in vcpu->arch. */
#ifndef HV_VM_H
#define HV_VM_H

#include <stddef.h>
#include <stdint.h>
#include "../abi/bvmm.h"
#include "../arch/x86_64/pt.h"

#define VM_ARCH_BYTES 256

/* A caller-visible exit, vendor-neutral; raw keeps the vendor's code for vrp_exit_reason. */
enum vexit_kind { VEXIT_IO, VEXIT_HLT, VEXIT_MMIO, VEXIT_PROTECT, VEXIT_SHUTDOWN,
		  VEXIT_IRQWIN, VEXIT_NONE, VEXIT_UNEXPECTED, VEXIT_FAILED };
struct vexit {
	enum vexit_kind kind;
	uint32_t raw;
	struct vm_exit_inout io;
	uint64_t gpa;
	uint8_t insn_len, insn[15];
	uint8_t intr_enabled;     /* HLT: RFLAGS.IF */
	uint8_t irq_ready;        /* after the exit: the vCPU can take an interrupt (vrp_irqready) */
	uint8_t cpl;              /* after the exit: the vCPU's CPL (vm_exit.cpl) */
};

/* Exits a backend may handle inside one RUN without returning to the caller (CPUID, MSRs,
 * re-injected #DB/#AC, ...). A delivery loop (a breakpoint on the child's own #DB handler,
 * CVE-2015-8104) makes no progress; on a CPU where no physical interrupt breaks it, only this
 * bound ends RUN (VM_EXIT_NONE; the caller simply runs the vCPU again). */
#define VCPU_INNER_EXIT_LIMIT 1024

struct vcpu {
	uint32_t id;
	uint32_t cpu;             /* the host CPU running it (RUNNING) or that ran it last */
	uint32_t guest_seq;       /* +1 at each entry and each exit, so odd while in guest mode
				   * (atomic; written by the CPU running it): MPROTECT_EPT waits
				   * for an odd value to change */
	uint8_t kick_exit;        /* RUN must return at the next exit (TERM, INTR): atomic */
	uint8_t state;            /* VCPU_STATE_*; changes under hv_lock */
	uint8_t dead;             /* stopped for good: RUN answers EBUSY until TERM */
	uint8_t irq_pending;      /* INTR level */
	uint8_t last_exit;        /* VEXIT_* of the previous RUN, for vrp_continue */
	uint8_t last_io_size, last_io_in;
	uint8_t last_gprs;        /* the previous exit carried the GPRs (vpp_exit_regs then) */
	uint8_t xapic;            /* VPP_XAPIC_*: the caller models an xAPIC (WRITEVMPARAMS) */
	uint8_t exit_regs;        /* VM_RWREGS_* groups each exit writes (WRITEVMPARAMS) */
	uint64_t pvclock_msr;     /* guest's MSR_KVM_SYSTEM_TIME_NEW value, bit 0 = enabled */
	uint64_t pvclock_hpa;     /* where that structure is (even), resolved once, | 1; 0 = none */
	uint32_t pvclock_version;
	uint64_t misc_enable, xcr0;
	uint64_t dr[4];           /* DR0-3: not in the VMCB, switched around RUN */
	uint8_t fpu[512] __attribute__((aligned(16)));   /* FXSAVE image */
	uint8_t arch[VM_ARCH_BYTES] __attribute__((aligned(16)));
};

struct mem_slot { uint64_t gpa, size; };

struct vm {
	uint32_t id;
	char name[VMM_MAX_NAME_LEN];
	uint32_t nranges, ncpus;
	struct mem_slot ranges[VMM_MAX_MEM_RANGES];
	uint64_t mem_size;
	uint64_t pool_pages;      /* pool pages this VM holds (tables, VMCBs, objects) */
	uint64_t epoch_tsc;       /* pvclock's time zero */
	uint32_t npt_gen;         /* bumped when translations shrink (MPROTECT_EPT): atomic */
	uint8_t dying;            /* TERM has taken it out of the table */
	struct pt_ctx npt;
	struct vcpu *vcpus[VMM_MAX_VCPUS_PER_VM];
};

struct vendor_ops {
	const char *name;
	int (*vcpu_init)(struct vm *vm, struct vcpu *vc);      /* BVMM_ENOMEM */
	void (*vcpu_fini)(struct vm *vm, struct vcpu *vc);
	/* The groups of mask (VM_RWREGS_*); the rest of *rs, padding included, is left as it is
	 * (hand in a zeroed buffer if it goes out). */
	void (*regs_read)(struct vcpu *vc, uint64_t mask, struct vcpu_reg_state *rs);
	void (*regs_write)(struct vcpu *vc, uint64_t mask, const struct vcpu_reg_state *rs);
	/* RESETCPU: every register, and no pending event or interrupt window left. */
	void (*reset)(struct vcpu *vc, const struct vcpu_reg_state *rs);
	/* The data of a completed IN: AL/AX merged, EAX zero-extended into RAX (as hardware). */
	void (*io_in_done)(struct vcpu *vc, unsigned size, uint32_t data);
	/* Whether the vCPU is in long mode (EFER.LMA): the one state a continue's GPRs are
	 * checked against (RFLAGS.VM). */
	int (*long_mode)(struct vcpu *vc);
	/* Run until a caller-visible exit; inject `irq` (-1: none) if the guest can take it;
	 * ex->irq_ready says whether it can take one now, ex->cpl its CPL. */
	void (*run)(struct vm *vm, struct vcpu *vc, int irq, struct vexit *ex);
	/* Nested-table bits (pt.c adds bit 0, present on AMD, readable on Intel): in every entry,
	 * in leaves only (EPT's memory type), writable, executable (EPT's X), no-exec (NPT's NX). */
	uint64_t npt_base, npt_leaf, npt_write, npt_exec, npt_nx;
	/* EPT with execute-only pages: the read bit MPROTECT_EPT may clear (0: exec-only is
	 * widened to read+exec), and the bits that make an entry present (pt_ctx.present). */
	uint64_t npt_read, npt_present;
};
extern const struct vendor_ops *vendor;

/* The VM table (hv/vm.c). */
struct gview;
int vm_create(const struct vm_create_params *p, struct gview *caller, uint32_t *id);
struct vm *vm_detach(uint32_t id);
void vm_destroy(struct vm *vm);
extern struct vm *vms[VMM_MAX_VCPUS];
struct vm *vm_find_scan(uint32_t id);

/* The VM with this id, or NULL: first in slot id % VMM_MAX_VCPUS, where vm_create puts it
 * when that slot is free (inline: RUN's path), then the whole table. */
static inline struct vm *vm_find(uint32_t id)
{
	struct vm *hint = vms[id % VMM_MAX_VCPUS];
	return hint && hint->id == id ? hint : vm_find_scan(id);
}

static inline struct vcpu *vcpu_find(struct vm *vm, uint32_t id)
{
	return vm && id < vm->ncpus ? vm->vcpus[id] : NULL;
}

/* Pool pages on a VM's account. */
uint64_t vm_page_alloc(struct vm *vm);
void vm_page_free(struct vm *vm, uint64_t pa);

/* Child GPA -> HPA through the VM's nested tables (for guest memory access). */
int vm_gpa_to_hpa(const struct vm *vm, uint64_t gpa, uint64_t len, uint64_t *hpa);
/* Is [gpa, gpa+len) inside the VM's RAM ranges? */
int vm_gpa_in_ram(const struct vm *vm, uint64_t gpa, uint64_t len);

/* The x86 power-on state (SDM vol. 3, 9.1.1): real mode at F000:FFF0 (CREATE, SHUTDOWN). */
void vcpu_poweron_state(struct vcpu_reg_state *rs);

/* pvclock: the hypervisor's view of time, and the guest MSR. */
void pvclock_update(struct vm *vm, struct vcpu *vc);
int pvclock_msr_write(struct vm *vm, struct vcpu *vc, uint64_t val);   /* 0 or -1 (#GP) */
/* Register (bit 0 set) or drop the clock at this MSR value; the GPA was validated. */
void pvclock_set(struct vm *vm, struct vcpu *vc, uint64_t msr);
void pvclock_init(uint64_t tsc_hz);

#endif
