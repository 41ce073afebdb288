/* Intel VMX facts: VMCS field encodings (SDM vol. 3D, appendix B), control bits (vol. 3C,
 * chapter 25), exit reasons (appendix C), capability MSRs (appendix A). Names, no logic. */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

/* Capability MSRs (SDM A.1-A.10). */
#define MSR_IA32_FEATURE_CONTROL   0x3au
#define FEATURE_CONTROL_LOCK       (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)
#define MSR_VMX_BASIC              0x480u
#define MSR_VMX_PINBASED           0x481u
#define MSR_VMX_PROCBASED          0x482u
#define MSR_VMX_EXIT               0x483u
#define MSR_VMX_ENTRY              0x484u
#define MSR_VMX_CR0_FIXED0         0x486u
#define MSR_VMX_CR0_FIXED1         0x487u
#define MSR_VMX_CR4_FIXED0         0x488u
#define MSR_VMX_CR4_FIXED1         0x489u
#define MSR_VMX_PROCBASED2         0x48bu
#define MSR_VMX_EPT_VPID_CAP       0x48cu
#define MSR_VMX_TRUE_PINBASED      0x48du
#define MSR_VMX_TRUE_PROCBASED     0x48eu
#define MSR_VMX_TRUE_EXIT          0x48fu
#define MSR_VMX_TRUE_ENTRY         0x490u
#define VMX_BASIC_TRUE_CTLS        (1ull << 55)

/* EPT/VPID capabilities (SDM A.10). */
#define EPT_CAP_EXEC_ONLY   (1ull << 0)
#define EPT_CAP_WALK4       (1ull << 6)
#define EPT_CAP_WB          (1ull << 14)
#define EPT_CAP_2M          (1ull << 16)
#define EPT_CAP_1G          (1ull << 17)
#define EPT_CAP_INVEPT      (1ull << 20)
#define EPT_CAP_INVEPT_ALL  (1ull << 26)
#define EPT_CAP_VPID        (1ull << 32)

/* EPT entries (SDM 29.3.2): read, write, execute, memory type (leaves), large page. */
#define EPT_R       (1ull << 0)
#define EPT_W       (1ull << 1)
#define EPT_X       (1ull << 2)
#define EPT_MT_UC   (0ull << 3)
#define EPT_MT_WB   (6ull << 3)
#define EPTP_WB     6ull
#define EPTP_WALK4  (3ull << 3)

/* Pin-based controls. */
#define PIN_EXT_INT_EXIT    (1u << 0)
#define PIN_NMI_EXIT        (1u << 3)
#define PIN_VIRTUAL_NMIS    (1u << 5)
#define PIN_PREEMPT_TIMER   (1u << 6)
/* Primary processor-based controls. */
#define PROC_INT_WINDOW     (1u << 2)
#define PROC_HLT_EXIT       (1u << 7)
#define PROC_INVLPG_EXIT    (1u << 9)
#define PROC_MWAIT_EXIT     (1u << 10)
#define PROC_RDPMC_EXIT     (1u << 11)
#define PROC_CR3_LOAD_EXIT  (1u << 15)
#define PROC_CR3_STORE_EXIT (1u << 16)
#define PROC_CR8_LOAD_EXIT  (1u << 19)
#define PROC_CR8_STORE_EXIT (1u << 20)
#define PROC_MOV_DR_EXIT    (1u << 23)
#define PROC_UNCOND_IO_EXIT (1u << 24)
#define PROC_IO_BITMAPS     (1u << 25)
#define PROC_MSR_BITMAPS    (1u << 28)
#define PROC_MONITOR_EXIT   (1u << 29)
#define PROC_SECONDARY      (1u << 31)
/* Secondary processor-based controls. */
#define PROC2_EPT           (1u << 1)
#define PROC2_RDTSCP        (1u << 3)
#define PROC2_VPID          (1u << 5)
#define PROC2_UNRESTRICTED  (1u << 7)
#define PROC2_INVPCID       (1u << 12)
#define PROC2_XSAVES        (1u << 20)
/* VM-exit controls. */
#define EXIT_SAVE_DEBUG     (1u << 2)
#define EXIT_HOST_64        (1u << 9)
#define EXIT_ACK_INT        (1u << 15)
#define EXIT_SAVE_PAT       (1u << 18)
#define EXIT_LOAD_PAT       (1u << 19)
#define EXIT_SAVE_EFER      (1u << 20)
#define EXIT_LOAD_EFER      (1u << 21)
/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG    (1u << 2)
#define ENTRY_IA32E         (1u << 9)
#define ENTRY_LOAD_PAT      (1u << 14)
#define ENTRY_LOAD_EFER     (1u << 15)

/* Event injection / IDT-vectoring information (SDM 24.8.3). */
#define INTR_INFO_VALID     (1u << 31)
#define INTR_INFO_HAS_ERROR (1u << 11)
#define INTR_TYPE_EXT       (0u << 8)
#define INTR_TYPE_NMI       (2u << 8)
#define INTR_TYPE_HW_EXC    (3u << 8)
#define INTR_TYPE_SW_INT    (4u << 8)
#define INTR_TYPE_PRIV_SW   (5u << 8)
#define INTR_TYPE_SW_EXC    (6u << 8)
#define INTR_TYPE_MASK      (7u << 8)

/* Segment access rights: bit 16 = unusable (the ABI's vsi_ar layout is VMX's own). */
#define VMX_AR_UNUSABLE     (1u << 16)

/* Field encodings. */
enum vmcs_field {
	VMCS_VPID = 0x0000,
	GUEST_ES_SEL = 0x0800, GUEST_CS_SEL = 0x0802, GUEST_SS_SEL = 0x0804, GUEST_DS_SEL = 0x0806,
	GUEST_FS_SEL = 0x0808, GUEST_GS_SEL = 0x080a, GUEST_LDTR_SEL = 0x080c, GUEST_TR_SEL = 0x080e,
	HOST_ES_SEL = 0x0c00, HOST_CS_SEL = 0x0c02, HOST_SS_SEL = 0x0c04, HOST_DS_SEL = 0x0c06,
	HOST_FS_SEL = 0x0c08, HOST_GS_SEL = 0x0c0a, HOST_TR_SEL = 0x0c0c,
	VMCS_IO_BITMAP_A = 0x2000, VMCS_IO_BITMAP_B = 0x2002, VMCS_MSR_BITMAP = 0x2004,
	VMCS_EPTP = 0x201a,
	VMCS_GUEST_PHYS = 0x2400,
	GUEST_LINK_PTR = 0x2800, GUEST_DEBUGCTL = 0x2802, GUEST_PAT = 0x2804, GUEST_EFER = 0x2806,
	HOST_PAT = 0x2c00, HOST_EFER = 0x2c02,
	VMCS_PIN = 0x4000, VMCS_PROC = 0x4002, VMCS_EXC_BITMAP = 0x4004,
	VMCS_CR3_TARGETS = 0x400a, VMCS_EXIT_CTLS = 0x400c, VMCS_EXIT_MSR_STORE = 0x400e,
	VMCS_EXIT_MSR_LOAD = 0x4010, VMCS_ENTRY_CTLS = 0x4012, VMCS_ENTRY_MSR_LOAD = 0x4014,
	VMCS_ENTRY_INTR = 0x4016, VMCS_ENTRY_ERROR = 0x4018, VMCS_ENTRY_INSN_LEN = 0x401a,
	VMCS_PROC2 = 0x401e,
	VMCS_INSN_ERROR = 0x4400, VMCS_EXIT_REASON = 0x4402, VMCS_EXIT_INTR = 0x4404,
	VMCS_EXIT_INTR_ERROR = 0x4406, VMCS_IDT_VEC = 0x4408, VMCS_IDT_VEC_ERROR = 0x440a,
	VMCS_EXIT_INSN_LEN = 0x440c, VMCS_EXIT_INSN_INFO = 0x440e,
	GUEST_ES_LIMIT = 0x4800, GUEST_CS_LIMIT = 0x4802, GUEST_SS_LIMIT = 0x4804,
	GUEST_DS_LIMIT = 0x4806, GUEST_FS_LIMIT = 0x4808, GUEST_GS_LIMIT = 0x480a,
	GUEST_LDTR_LIMIT = 0x480c, GUEST_TR_LIMIT = 0x480e, GUEST_GDTR_LIMIT = 0x4810,
	GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR = 0x4814, GUEST_CS_AR = 0x4816, GUEST_SS_AR = 0x4818, GUEST_DS_AR = 0x481a,
	GUEST_FS_AR = 0x481c, GUEST_GS_AR = 0x481e, GUEST_LDTR_AR = 0x4820, GUEST_TR_AR = 0x4822,
	GUEST_INTERRUPTIBILITY = 0x4824, GUEST_ACTIVITY = 0x4826, GUEST_SYSENTER_CS = 0x482a,
	GUEST_PREEMPT_TIMER = 0x482e,
	HOST_SYSENTER_CS = 0x4c00,
	VMCS_CR0_MASK = 0x6000, VMCS_CR4_MASK = 0x6002, VMCS_CR0_SHADOW = 0x6004,
	VMCS_CR4_SHADOW = 0x6006,
	VMCS_EXIT_QUAL = 0x6400, VMCS_GUEST_LINEAR = 0x640a,
	GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806, GUEST_CS_BASE = 0x6808, GUEST_SS_BASE = 0x680a,
	GUEST_DS_BASE = 0x680c, GUEST_FS_BASE = 0x680e, GUEST_GS_BASE = 0x6810,
	GUEST_LDTR_BASE = 0x6812, GUEST_TR_BASE = 0x6814, GUEST_GDTR_BASE = 0x6816,
	GUEST_IDTR_BASE = 0x6818, GUEST_DR7 = 0x681a, GUEST_RSP = 0x681c, GUEST_RIP = 0x681e,
	GUEST_RFLAGS = 0x6820, GUEST_PENDING_DBG = 0x6822, GUEST_SYSENTER_ESP = 0x6824,
	GUEST_SYSENTER_EIP = 0x6826,
	HOST_CR0 = 0x6c00, HOST_CR3 = 0x6c02, HOST_CR4 = 0x6c04, HOST_FS_BASE = 0x6c06,
	HOST_GS_BASE = 0x6c08, HOST_TR_BASE = 0x6c0a, HOST_GDTR_BASE = 0x6c0c,
	HOST_IDTR_BASE = 0x6c0e, HOST_SYSENTER_ESP = 0x6c10, HOST_SYSENTER_EIP = 0x6c12,
	HOST_RSP = 0x6c14, HOST_RIP = 0x6c16,
};

/* Basic exit reasons (SDM appendix C). */
enum vmx_exit {
	VMX_EXIT_EXC_NMI = 0, VMX_EXIT_EXT_INT = 1, VMX_EXIT_TRIPLE_FAULT = 2, VMX_EXIT_INIT = 3,
	VMX_EXIT_SIPI = 4, VMX_EXIT_INT_WINDOW = 7, VMX_EXIT_TASK_SWITCH = 9, VMX_EXIT_CPUID = 10,
	VMX_EXIT_GETSEC = 11, VMX_EXIT_HLT = 12, VMX_EXIT_INVD = 13, VMX_EXIT_INVLPG = 14,
	VMX_EXIT_RDPMC = 15, VMX_EXIT_RDTSC = 16, VMX_EXIT_VMCALL = 18, VMX_EXIT_VMCLEAR = 19,
	VMX_EXIT_VMLAUNCH = 20, VMX_EXIT_VMPTRLD = 21, VMX_EXIT_VMPTRST = 22, VMX_EXIT_VMREAD = 23,
	VMX_EXIT_VMRESUME = 24, VMX_EXIT_VMWRITE = 25, VMX_EXIT_VMXOFF = 26, VMX_EXIT_VMXON = 27,
	VMX_EXIT_CR = 28, VMX_EXIT_DR = 29, VMX_EXIT_IO = 30, VMX_EXIT_RDMSR = 31,
	VMX_EXIT_WRMSR = 32, VMX_EXIT_BAD_GUEST = 33, VMX_EXIT_BAD_MSR_LOAD = 34,
	VMX_EXIT_MWAIT = 36, VMX_EXIT_MONITOR = 39, VMX_EXIT_PAUSE = 40, VMX_EXIT_MCE = 41,
	VMX_EXIT_EPT_VIOLATION = 48, VMX_EXIT_EPT_MISCONFIG = 49, VMX_EXIT_INVEPT = 50,
	VMX_EXIT_RDTSCP = 51, VMX_EXIT_PREEMPT_TIMER = 52, VMX_EXIT_INVVPID = 53, VMX_EXIT_WBINVD = 54, VMX_EXIT_XSETBV = 55,
	VMX_EXIT_INVPCID = 58, VMX_EXIT_VMFUNC = 59,
};
#define VMX_EXIT_FAILED_ENTRY (1u << 31)

/* EPT violation exit qualification (SDM 28.2.1, table 28-7). */
#define EPT_QUAL_READ   (1ull << 0)
#define EPT_QUAL_WRITE  (1ull << 1)
#define EPT_QUAL_FETCH  (1ull << 2)
#define EPT_QUAL_FINAL  (1ull << 8)   /* with bit 7: the final translation, not a walk */

#endif
