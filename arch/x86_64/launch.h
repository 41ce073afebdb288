/* The vendor dispatch at launch: AMD SVM or Intel VMX, chosen from CPUID. hv/ calls this and
 * includes no vendor header. */
#ifndef ARCH_LAUNCH_H
#define ARCH_LAUNCH_H

struct boot_info;
/* Virtualize the boot CPU; returns only on failure (an errno). Sets hv.vendor. */
int arch_launch(struct boot_info *bi);
/* Virtualize AP `cpu` (called on it, after the boot CPU); returns only on failure. */
int arch_launch_ap(struct boot_info *bi, unsigned cpu);

#endif
