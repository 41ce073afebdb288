/* The hand-over from the EFI loader (boot/) to the hypervisor (hv/): where the pool is, what
 * the loader already took of it, the firmware memory map, and the CPU state to resume as the
 * control guest. Lives in the pool; the loader writes it once, the hypervisor only reads it. */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H

#ifdef __ASSEMBLER__
#define U64(x) x
#else
#include <stdint.h>
#define U64(x) x##ull
#endif

#define BOOTINFO_MAGIC  U64(0x6f666e69766d7662) /* "bvmvinfo" */
#define HV_HEADER_MAGIC U64(0x6567616d69766d62) /* "bmvimage" */

/* Virtual layout of the hypervisor: the image at HV_BASE, then one slot per CPU holding its
 * stacks, each behind an unmapped guard page: [0] guard, [1..16] the stack, [17] guard,
 * [18] #DF stack, [19] guard, [20] NMI stack, [21] guard, [22] #MC stack, the rest unmapped.
 * Host code finds its CPU from RSP (hv/percpu.h): every stack it runs on sits in its slot. */
#define HV_BASE          U64(0xffffffff80000000)
#define HV_IMAGE_MAX     U64(0x100000)
#define HV_MAX_CPUS      64
#define HV_CPU_REGION    (HV_BASE + HV_IMAGE_MAX)
#define HV_CPU_SLOT      U64(0x20000)
#define HV_STACK_PAGES   16
#define HV_CPU_PAGES     (HV_STACK_PAGES + 3)   /* pool pages per CPU: stack and 3 IST stacks */
#define HV_STACK_BOTTOM(i) (HV_CPU_REGION + (i) * HV_CPU_SLOT + 4096)
#define HV_STACK_TOP(i)  (HV_STACK_BOTTOM(i) + HV_STACK_PAGES * 4096)
/* IST stack k (0 #DF, 1 NMI, 2 #MC) of CPU i: one page, its top. */
#define HV_IST_TOP(i, k) (HV_CPU_REGION + (i) * HV_CPU_SLOT + (19 + 2 * (k)) * 4096)

/* Offsets in struct boot_cpu_state that boot/launch.S uses. */
#define BCS_RIP     0
#define BCS_RSP     8
#define BCS_RFLAGS  16
#define BCS_CR3     40
#define BCS_EFER    56
#define BCS_CS_SEL  72
#define BCS_SS_SEL  88
#define BCS_DS_SEL  104
#define BCS_ES_SEL  120
#define BCS_GDTR_BASE  136
#define BCS_IDTR_BASE  144
#define BCS_GDTR_LIMIT 152
#define BCS_IDTR_LIMIT 154

#ifndef __ASSEMBLER__

/* First bytes of the hypervisor image (hv/entry.S emits it, linker.ld places it). */
struct hv_header {
	uint64_t magic;
	uint64_t entry;       /* VA of hv_entry (the boot CPU) */
	uint64_t ap_entry;    /* VA of hv_ap_entry (each other CPU, after the boot CPU) */
	uint64_t text_end;    /* offset: [0, text_end) is code and read-only data */
	uint64_t file_size;   /* bytes present in the image file */
	uint64_t mem_size;    /* bytes including .bss, page aligned */
};

/* EFI memory types we care about (UEFI 2.9 table 7-5). */
enum {
	EFI_MT_RESERVED = 0, EFI_MT_LOADER_CODE = 1, EFI_MT_LOADER_DATA = 2,
	EFI_MT_BS_CODE = 3, EFI_MT_BS_DATA = 4, EFI_MT_RT_CODE = 5, EFI_MT_RT_DATA = 6,
	EFI_MT_CONVENTIONAL = 7, EFI_MT_UNUSABLE = 8, EFI_MT_ACPI_RECLAIM = 9,
	EFI_MT_ACPI_NVS = 10, EFI_MT_MMIO = 11, EFI_MT_MMIO_PORT = 12, EFI_MT_PAL = 13,
	EFI_MT_PERSISTENT = 14,
};

struct mem_range {
	uint64_t base;
	uint64_t size;
	uint32_t type;   /* EFI memory type */
	uint32_t pad;
};

/* A segment in VMCB form: attrib = access byte | flags nibble << 8. */
struct seg_state {
	uint16_t sel;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
};

/* The firmware's CPU state at the launch instant; RIP/RSP/RFLAGS are filled by the launch
 * trampoline (boot/launch.S) so that the guest resumes right after it. */
struct boot_cpu_state {
	uint64_t rip, rsp, rflags;                /* offsets 0, 8, 16: launch.S writes these */
	uint64_t cr0, cr2, cr3, cr4, efer, pat;
	struct seg_state cs, ss, ds, es;
	uint64_t gdtr_base, idtr_base;
	uint16_t gdtr_limit, idtr_limit;
};

#define BOOTINFO_MAX_MEM 512

/* The loader's own hypercalls, valid only until the launch is sealed (then ENOSYS): undo the
 * launch on the calling CPU (it resumes natively, RAX = 0; only RSP, RIP, RFLAGS and the
 * system state are kept, boot/launch.S bvmm_loader_call saves the rest), and seal. */
#define HV_OP_LOADER_DEVIRT U64(0x4c440001)
#define HV_OP_LOADER_DONE   U64(0x4c440002)

/* Test hooks (bvmm-test.efi, built with BVMM_TEST_HOOKS; never in bvmm.efi). */
#define BOOT_TEST_VMRUN_FAIL 0x1   /* config "test=vmrun-fail": the first VMRUN is refused */
#define BOOT_TEST_AP_LAUNCH_FAIL 0x2   /* "test=ap-launch-fail": the last AP's first VMRUN is refused */

struct boot_info {
	uint64_t magic;
	uint64_t pool_base, pool_size;
	uint64_t pool_used;      /* bytes at the pool's start the loader used (image, tables, this) */
	uint64_t image_pa;       /* where the hypervisor image sits in the pool */
	uint64_t host_cr3;       /* the hypervisor's page tables */
	uint64_t host_tables;    /* page-table pages the loader built for the host */
	uint64_t phys_top;       /* the host identity map covers [0, phys_top) */
	uint32_t log_port;       /* 0 = none */
	uint32_t log_level;
	uint64_t tsc_hz;         /* TSC frequency, calibrated by the loader */
	uint32_t nmem;
	uint32_t pad;
	struct mem_range mem[BOOTINFO_MAX_MEM];
	struct boot_cpu_state guest;   /* the boot CPU's */
	uint64_t abort_rip;      /* boot/launch.S: resume the firmware unvirtualized */
	/* The CPUs the firmware runs (EFI_MP_SERVICES_PROTOCOL), indexed by its processor
	 * number: each gets the stack slot of that index; ap_state is an AP's state at its own
	 * launch instant. */
	uint32_t ncpus;
	uint32_t boot_cpu;       /* index of the boot CPU */
	uint32_t apic_id[HV_MAX_CPUS];
	struct boot_cpu_state ap_state[HV_MAX_CPUS];
	/* PCI Express ECAM of segment 0 (ACPI MCFG), or ecam_size 0: [ecam_base, +ecam_size)
	 * holds buses ecam_bus0.. (1 MiB each). Write-protected in the control guest's nested
	 * tables; its writes are judged like those through ports 0xCF8/0xCFC. */
	uint64_t ecam_base, ecam_size;
	uint32_t ecam_bus0;
	uint32_t test_flags;     /* BVMM_TEST_HOOKS builds only: BOOT_TEST_* */
};

_Static_assert(__builtin_offsetof(struct boot_cpu_state, cr3) == BCS_CR3, "BCS_CR3");
_Static_assert(__builtin_offsetof(struct boot_cpu_state, efer) == BCS_EFER, "BCS_EFER");
_Static_assert(__builtin_offsetof(struct boot_cpu_state, cs) == BCS_CS_SEL, "BCS_CS_SEL");
_Static_assert(__builtin_offsetof(struct boot_cpu_state, ss) == BCS_SS_SEL, "BCS_SS_SEL");
_Static_assert(__builtin_offsetof(struct boot_cpu_state, ds) == BCS_DS_SEL, "BCS_DS_SEL");
_Static_assert(__builtin_offsetof(struct boot_cpu_state, es) == BCS_ES_SEL, "BCS_ES_SEL");
_Static_assert(__builtin_offsetof(struct boot_cpu_state, gdtr_base) == BCS_GDTR_BASE, "gdtr");
_Static_assert(__builtin_offsetof(struct boot_cpu_state, idtr_limit) == BCS_IDTR_LIMIT, "idtr");

#endif /* __ASSEMBLER__ */
#endif
