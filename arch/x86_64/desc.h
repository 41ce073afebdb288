/* The hypervisor's own GDT, IDT and TSS (host mode). Loaded once at launch, after the
 * firmware's segment state has been captured for the control guest. */
#ifndef ARCH_DESC_H
#define ARCH_DESC_H

#include <stdint.h>

#define HOST_CS 0x08
#define HOST_DS 0x10
#define HOST_TR 0x18

/* Load this CPU's GDT, TSS (IST stacks in its slot, hv/bootinfo.h) and the shared IDT. The
 * boot CPU calls it first. */
void desc_init(unsigned cpu);
/* Where a CPU's host GDT, IDT and TSS are (VMX's host-state area needs them). */
void desc_bases(unsigned cpu, uint64_t *gdt_base, uint64_t *idt_base, uint64_t *tss_base);

/* A GDT descriptor as the VMCB wants it: access byte | flags nibble << 8 (APM 15.5.1). */
static inline uint16_t seg_attrib_from_desc(uint64_t d)
{
	return (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8));
}

static inline uint32_t seg_limit_from_desc(uint64_t d)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	return (d & (1ull << 55)) ? (limit << 12) | 0xfff : limit;
}

static inline uint64_t seg_base_from_desc(uint64_t d)
{
	return ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
}

#endif
