/* libvmm (control-domain side): the vCPU entry states RESETCPU must accept (ABI.md) — real
 * mode, 32-bit flat protected mode and Solo5 hvt's long mode — and a pool-usage probe.
 * Header-only and freestanding: EFI programs, tests and a Linux tool can all use it. */
#ifndef LIBVMM_VMM_STATE_H
#define LIBVMM_VMM_STATE_H

#include "../../abi/bvmm.h"

static inline void vmm_seg(struct vcpu_segment_info *s, uint16_t sel, uint64_t base,
			   uint32_t limit, uint32_t ar)
{
	s->vsi_sel = sel;
	s->vsi_limit = limit;
	s->vsi_ar = ar;
	s->vsi_base = base;
}

/* Real mode at cs:ip (CS base cs << 4); the other segments flat 64 KiB data. */
static inline void vmm_state_real(struct vcpu_reg_state *rs, uint16_t cs, uint64_t ip)
{
	uint8_t *p = (uint8_t *)rs;
	for (unsigned i = 0; i < sizeof *rs; i++)
		p[i] = 0;
	rs->vrs_gprs[VCPU_REGS_RIP] = ip;
	rs->vrs_gprs[VCPU_REGS_RFLAGS] = 0x2;
	rs->vrs_crs[VCPU_REGS_CR0] = 0x10;                 /* ET */
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		vmm_seg(&rs->vrs_sregs[i], 0, 0, 0xffff, 0x93);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_CS], cs, (uint64_t)cs << 4, 0xffff, 0x9b);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_LDTR], 0, 0, 0xffff, 0x82);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_TR], 0, 0, 0xffff, 0x8b);
	rs->vrs_gdtr.vsi_limit = rs->vrs_idtr.vsi_limit = 0xffff;
	rs->vrs_drs[VCPU_REGS_DR6] = 0xffff0ff0;
	rs->vrs_drs[VCPU_REGS_DR7] = 0x400;
}

/* 32-bit flat protected mode, paging off: CS 0x8 (ar 0xc09b), data 0x10 (ar 0xc093). */
static inline void vmm_state_prot32(struct vcpu_reg_state *rs, uint64_t eip)
{
	vmm_state_real(rs, 0, eip);
	rs->vrs_crs[VCPU_REGS_CR0] = 0x11;                 /* PE | ET */
	for (int i = 0; i < VCPU_REGS_NSREGS; i++)
		vmm_seg(&rs->vrs_sregs[i], 0x10, 0, 0xffffffff, 0xc093);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_CS], 0x8, 0, 0xffffffff, 0xc09b);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_LDTR], 0, 0, 0, VSI_AR_UNUSABLE);
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_TR], 0, 0, 0x67, 0x8b);
}

/* Solo5 hvt's long-mode entry (ABI.md): page tables at 0x2000, GDT at 0x1000 (limit 23). */
static inline void vmm_state_long64(struct vcpu_reg_state *rs, uint64_t rip)
{
	vmm_state_prot32(rs, rip);
	rs->vrs_crs[VCPU_REGS_CR0] = 0x80010021;           /* PG | WP | NE | PE */
	rs->vrs_crs[VCPU_REGS_CR3] = 0x2000;
	rs->vrs_crs[VCPU_REGS_CR4] = 0x620;                /* PAE | OSFXSR | OSXMMEXCPT */
	rs->vrs_msrs[VCPU_REGS_EFER] = 0x500;              /* LME | LMA */
	vmm_seg(&rs->vrs_sregs[VCPU_REGS_CS], 0x8, 0, 0xffffffff, 0xa099);
	vmm_seg(&rs->vrs_gdtr, 0, 0x1000, 23, 0);
	rs->vrs_idtr.vsi_limit = 0;
}

/* The guest memory that state expects (Solo5 hvt's layout): a GDT at 0x1000 (code 0x8,
 * data 0x10) and page tables at 0x2000-0x4fff mapping the first GiB 1:1 with 2 MiB pages.
 * mem is the guest's memory at GPA 0, at least 0x5000 bytes, zeroed. */
static inline void vmm_solo5_tables(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + 0x1000), *pd = (uint64_t *)(mem + 0x4000);
	gdt[1] = 0x00af9a000000ffffull;
	gdt[2] = 0x00cf92000000ffffull;
	*(uint64_t *)(mem + 0x2000) = 0x3000 | 3;   /* PML4[0] -> PDPT, present + writable */
	*(uint64_t *)(mem + 0x3000) = 0x4000 | 3;   /* PDPT[0] -> PD */
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;               /* 2 MiB, present + writable */
}

/* Free bytes in the hypervisor's pool, 0 if HVINFO fails. */
static inline uint64_t vmm_pool_free(void)
{
	struct vm_hvinfo_params h;
	return bvmm_hypercall(BVMM_OP_HVINFO, &h) ? 0 : h.vhi_pool_free;
}

#endif
