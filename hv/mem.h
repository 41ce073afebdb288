/* The memory routines of freestanding code (hv/string.c in the hypervisor, libc in tests). */
#ifndef HV_MEM_H
#define HV_MEM_H

#include <stddef.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
