/* TLB tags for children (SVM ASIDs; Intel's VPIDs would follow the same rules), handed out
 * per CPU as KVM does on SVM. A vCPU's tag is good only on the CPU that gave it, in that
 * CPU's current generation, and for the nested-table generation of its VM it was taken in:
 *  - moved to another CPU: a fresh tag there (the old CPU's entries may be stale for it, and
 *    a tag shared by two vCPUs of a VM would let one see the other's guest-linear entries
 *    after a CR3 switch it never made);
 *  - the VM's nested tables lost rights (MPROTECT_EPT bumps vm->npt_gen): a fresh tag, so no
 *    entry from before the change is ever used again;
 *  - the CPU ran out of tags: a new generation starts, with one flush of every tag.
 * A fresh tag has no entries on that CPU: tags are reused only after that flush. Tag 1 is
 * the control guest's, everywhere. Pure: unit-tested (tests/unit/test_asid.c). */
#ifndef ARCH_ASID_H
#define ARCH_ASID_H

#include <stdint.h>

#define ASID_FIRST_CHILD 2

struct asid_cpu {
	uint32_t next;   /* the next tag to hand out; < ASID_FIRST_CHILD before the first */
	uint32_t gen;    /* generations started on this CPU */
};

struct asid_vcpu {
	uint32_t asid;     /* 0 before its first entry */
	uint32_t cpu;      /* the CPU whose tag it holds, or ~0 */
	uint32_t gen;      /* that CPU's generation the tag is from */
	uint32_t npt_gen;  /* the VM's nested-table generation the tag is from */
};

enum asid_action { ASID_KEEP, ASID_NEW, ASID_NEW_FLUSH_ALL };

/* Before an entry of vCPU v on CPU `cpu` (tags 1..max - 1 exist; CPUID 0x8000000A EBX is
 * max): its tag, and whether the CPU must flush every tag first. */
static inline enum asid_action asid_pick(struct asid_cpu *c, uint32_t cpu, uint32_t max,
					 struct asid_vcpu *v, uint32_t npt_gen)
{
	if (v->asid && v->cpu == cpu && v->gen == c->gen && v->npt_gen == npt_gen)
		return ASID_KEEP;
	enum asid_action a = ASID_NEW;
	if (c->next < ASID_FIRST_CHILD || c->next >= max) {
		c->gen++;
		c->next = ASID_FIRST_CHILD;
		a = ASID_NEW_FLUSH_ALL;
	}
	v->asid = c->next++;
	v->cpu = cpu;
	v->gen = c->gen;
	v->npt_gen = npt_gen;
	return a;
}

#endif
