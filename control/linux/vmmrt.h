/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmrt.h - the little runtime of the freestanding /dev/vmm programs (vmmtest.c, vmmbench.c):
 * x86_64 Linux system calls, the memory routines the compiler may call, and output a line per
 * write(2). Included once per program (it defines memset and memcpy).
 */
#ifndef VMMRT_H
#define VMMRT_H

typedef unsigned long ulong;

#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_mmap 9
#define SYS_munmap 11
#define SYS_ioctl 16
#define SYS_getppid 110
#define SYS_sched_setaffinity 203
#define SYS_exit_group 231

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall" : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The compiler may emit calls to these. */
void *memset(void *d, int c, ulong n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, ulong n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

/* ---- output: one line per write ---- */
static char line[512];
static ulong pos;

static void flush(void)
{
	ulong off = 0;
	while (off < pos) {
		long n = sys3(SYS_write, 1, (long)(line + off), (long)(pos - off));
		if (n <= 0)
			break;
		off += (ulong)n;
	}
	pos = 0;
}

static void putch(char c)
{
	if (pos < sizeof line)
		line[pos++] = c;
	if (c == '\n' || pos == sizeof line)
		flush();
}

static void puts_(const char *s)
{
	while (*s)
		putch(*s++);
}

static void putnum(long v)
{
	char b[24];
	int i = 0;
	ulong u = v < 0 ? -(ulong)v : (ulong)v;
	if (v < 0)
		putch('-');
	do
		b[i++] = (char)('0' + u % 10);
	while (u /= 10);
	while (i)
		putch(b[--i]);
}

#endif
