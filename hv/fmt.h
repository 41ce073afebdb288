/* A small vsnprintf for freestanding code: %s %c %d %i %u %x %X %p %% with the l/ll/z
 * length modifiers, a field width and the '0' and '-' flags. Nothing else. */
#ifndef HV_FMT_H
#define HV_FMT_H

#include <stdarg.h>
#include <stddef.h>

size_t fmt_v(char *buf, size_t cap, const char *fmt, va_list ap);
size_t fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
