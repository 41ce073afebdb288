/* hvcheck.c - freestanding static Linux program: checks via CPUID that it runs under the bvmm hypervisor. */
typedef unsigned int u32;
typedef unsigned long u64;

static long sys_write(int fd, const void *buf, u64 len)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret)
                     : "a"(1L), "D"((long)fd), "S"(buf), "d"(len)
                     : "rcx", "r11", "memory");
    return ret;
}

static __attribute__((noreturn)) void sys_exit(int code)
{
    for (;;)
        __asm__ volatile("syscall" : : "a"(60L), "D"((long)code) : "rcx", "r11", "memory");
}

static void cpuid(u32 leaf, u32 sub, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

/* Tiny output buffer: one line at a time, flushed on '\n'. */
static char line[256];
static u64 pos;

static void flush(void)
{
    u64 off = 0;
    while (off < pos) {
        long n = sys_write(1, line + off, pos - off);
        if (n <= 0)
            break;
        off += (u64)n;
    }
    pos = 0;
}

static void putc_(char c)
{
    if (pos < sizeof(line))
        line[pos++] = c;
    if (c == '\n' || pos == sizeof(line))
        flush();
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void hex(const char *name, u32 v)
{
    static const char digits[] = "0123456789abcdef";
    puts_(" ");
    puts_(name);
    puts_("=0x");
    for (int i = 28; i >= 0; i -= 4)
        putc_(digits[(v >> i) & 0xf]);
}

/* Printable rendering of a 4-byte register (non-printable bytes shown as '.'). */
static void ascii4(u32 v)
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((v >> (8 * i)) & 0xff);
        putc_(c >= 0x20 && c < 0x7f ? c : '.');
    }
}

static int failures;

static void result(int ok, const char *name)
{
    puts_(ok ? "PASS " : "FAIL ");
    puts_(name);
    if (!ok)
        failures++;
}

static int run(void)
{
    u32 r[4];

    /* 1. CPUID.1:ECX[31] - hypervisor present bit. */
    cpuid(1, 0, r);
    result((r[2] >> 31) & 1, "linux-cpuid-hypervisor-bit");
    if (!((r[2] >> 31) & 1))
        hex("ecx", r[2]);
    putc_('\n');

    /* 2. CPUID.0x40000000: EBX,ECX,EDX = "bvmm" + 8 NUL bytes. */
    cpuid(0x40000000u, 0, r);
    int sig_ok = r[1] == 0x6d6d7662u && r[2] == 0 && r[3] == 0;
    result(sig_ok, "linux-cpuid-signature");
    if (!sig_ok) {
        hex("eax", r[0]);
        hex("ebx", r[1]);
        hex("ecx", r[2]);
        hex("edx", r[3]);
        puts_(" str=\"");
        ascii4(r[1]);
        ascii4(r[2]);
        ascii4(r[3]);
        puts_("\"");
    }
    putc_('\n');

    /* 3. CPUID.0x80000001:ECX[2] (SVM) must be hidden from the guest. */
    cpuid(0x80000000u, 0, r);
    u32 maxext = r[0];
    if (maxext >= 0x80000001u)
        cpuid(0x80000001u, 0, r);
    else
        r[2] = 0;
    int svm_hidden = !((r[2] >> 2) & 1);
    result(svm_hidden, "linux-svm-hidden");
    if (!svm_hidden) {
        hex("ecx", r[2]);
        hex("maxext", maxext);
    }
    putc_('\n');

    return failures ? 1 : 0;
}

__attribute__((noreturn, used)) void hv_main(void)
{
    sys_exit(run());
}

/* Entry point: align the stack as the ABI expects at a call, then call hv_main. */
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %rbp, %rbp\n"
        "    and $-16, %rsp\n"
        "    call hv_main\n"
        "    hlt\n");
