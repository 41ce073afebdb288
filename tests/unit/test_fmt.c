/* Unit tests of hv/fmt.c: the hypervisor's small vsnprintf. Each expectation is what C's
 * printf prints for the same conversion (fmt.h lists the subset), plus truncation at cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../../hv/fmt.h"

/* fmt() without the printf format attribute, for inputs the compiler would reject. */
static size_t fmt_unchecked(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	size_t n = fmt_v(buf, cap, f, ap);
	va_end(ap);
	return n;
}

/* Format into a large buffer and compare with the expected text and length. */
#define CHECK(expect, ...)                                                      \
	do {                                                                    \
		char b_[256];                                                   \
		memset(b_, 'Z', sizeof b_);                                     \
		size_t n_ = fmt(b_, sizeof b_, __VA_ARGS__);                    \
		assert_string_equal(b_, expect);                                \
		assert_int_equal(n_, strlen(expect));                           \
	} while (0)

static void test_plain_text_and_percent(void **state)
{
	(void)state;
	CHECK("", "%s", "");
	CHECK("hello, world", "hello, world");
	CHECK("100%", "100%%");
	CHECK("a%b", "a%%b");
}

static void test_string(void **state)
{
	(void)state;
	CHECK("x=abc.", "x=%s.", "abc");
	CHECK("abcdef", "%s%s", "abc", "def");
	char b[16];
	assert_int_equal(fmt_unchecked(b, sizeof b, "<%s>", (const char *)NULL), 8);
	assert_string_equal(b, "<(null)>");
}

static void test_char(void **state)
{
	(void)state;
	CHECK("[A]", "[%c]", 'A');
	CHECK("xyz", "%c%c%c", 'x', 'y', 'z');
}

static void test_signed_decimal(void **state)
{
	(void)state;
	CHECK("0", "%d", 0);
	CHECK("42", "%d", 42);
	CHECK("-42", "%d", -42);
	CHECK("-7", "%i", -7);
	CHECK("2147483647", "%d", INT32_MAX);
	CHECK("-2147483648", "%d", INT32_MIN);
	CHECK("-1", "%ld", (long)-1);
	CHECK("9223372036854775807", "%ld", (long)INT64_MAX);
	CHECK("-9223372036854775807", "%ld", (long)(INT64_MIN + 1));
	CHECK("-5000000000", "%lld", -5000000000ll);
}

/* INT64_MIN is its own negation: formatting it must not overflow (UBSan aborts the process
 * on signed overflow here, so the conversion runs in a child and reports through a pipe). */
static void test_ld_int64_min_without_signed_overflow(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char b[64];
		close(fds[0]);
		size_t n = fmt(b, sizeof b, "%ld", (long)INT64_MIN);
		if (write(fds[1], b, n + 1) != (ssize_t)(n + 1))
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	char got[64] = "";
	ssize_t r = read(fds[0], got, sizeof got - 1);
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("fmt(\"%%ld\", INT64_MIN) killed the process (status 0x%x): signed "
			 "overflow in hv/fmt.c negating INT64_MIN", status);
	assert_true(r > 0);
	assert_string_equal(got, "-9223372036854775808");
}

static void test_unsigned_and_hex(void **state)
{
	(void)state;
	CHECK("0", "%u", 0u);
	CHECK("4294967295", "%u", UINT32_MAX);
	CHECK("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
	CHECK("12345", "%zu", (size_t)12345);
	CHECK("0", "%x", 0u);
	CHECK("deadbeef", "%x", 0xdeadbeefu);
	CHECK("DEADBEEF", "%X", 0xdeadbeefu);
	CHECK("ffffffff", "%x", -1);      /* int read as unsigned: 32 bits only */
	CHECK("123456789abcdef0", "%lx", 0x123456789abcdef0ul);
	CHECK("ffffffffffffffff", "%lx", (unsigned long)UINT64_MAX);
	CHECK("ffffffffffffffff", "%llx", (unsigned long long)UINT64_MAX);
}

static void test_pointer(void **state)
{
	(void)state;
	CHECK("0xffff800000001000", "%p", (void *)0xffff800000001000ul);
	CHECK("0x1000", "%p", (void *)0x1000ul);
	CHECK("0x0", "%p", (void *)0);
}

static void test_width(void **state)
{
	(void)state;
	CHECK("   42", "%5d", 42);
	CHECK("  -42", "%5d", -42);
	CHECK("42", "%1d", 42);               /* width smaller than the number */
	CHECK("  abc", "%5s", "abc");
	CHECK("abcdef", "%3s", "abcdef");
	CHECK("      ff", "%8x", 0xffu);
	CHECK("   12", "%5u", 12u);
	CHECK("|  x|", "|%3s|", "x");
}

static void test_zero_flag(void **state)
{
	(void)state;
	CHECK("00042", "%05d", 42);
	CHECK("-0042", "%05d", -42);          /* sign before the zeros, width counts it */
	CHECK("000000ff", "%08x", 0xffu);
	CHECK("00000000deadbeef", "%016lx", 0xdeadbeeful);
	CHECK("0000000000000000", "%016lx", 0ul);
	CHECK("007", "%03u", 7u);
}

static void test_minus_flag(void **state)
{
	(void)state;
	CHECK("42   |", "%-5d|", 42);
	CHECK("-42  |", "%-5d|", -42);
	CHECK("ab   |", "%-5s|", "ab");
	CHECK("ff      |", "%-8x|", 0xffu);
	CHECK("abcdef|", "%-3s|", "abcdef");
	/* '-' overrides '0': the padding goes after the number and is blanks */
	char b[16];
	assert_int_equal(fmt_unchecked(b, sizeof b, "%-05d|", 42), 6);
	assert_string_equal(b, "42   |");
}

static void test_mixed(void **state)
{
	(void)state;
	CHECK("vm 3: rip=00000000fff0 cs=f000 \"boot\" ok",
	      "vm %u: rip=%012lx cs=%x \"%s\" %c%c", 3u, 0xfff0ul, 0xf000u, "boot", 'o', 'k');
}

static void test_truncation(void **state)
{
	(void)state;
	char b[16];

	memset(b, 'Z', sizeof b);
	assert_int_equal(fmt(b, 8, "hello world"), 7);
	assert_string_equal(b, "hello w");
	assert_int_equal(b[8], 'Z');           /* nothing past cap is written */

	/* truncation inside a number and inside padding */
	memset(b, 'Z', sizeof b);
	assert_int_equal(fmt(b, 5, "%d", 123456789), 4);
	assert_string_equal(b, "1234");
	assert_int_equal(b[5], 'Z');
	memset(b, 'Z', sizeof b);
	assert_int_equal(fmt(b, 4, "%10d", 5), 3);
	assert_string_equal(b, "   ");

	/* exactly fits: cap = length + 1 */
	memset(b, 'Z', sizeof b);
	assert_int_equal(fmt(b, 6, "%s", "abcde"), 5);
	assert_string_equal(b, "abcde");
	/* one byte short */
	memset(b, 'Z', sizeof b);
	assert_int_equal(fmt(b, 5, "%s", "abcde"), 4);
	assert_string_equal(b, "abcd");
	assert_int_equal(b[5], 'Z');

	/* cap 1: just the terminator */
	memset(b, 'Z', sizeof b);
	assert_int_equal(fmt(b, 1, "abc%d", 5), 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 'Z');

	/* cap 0: nothing written at all */
	memset(b, 'Z', sizeof b);
	assert_int_equal(fmt(b, 0, "abc"), 0);
	assert_int_equal(b[0], 'Z');
}

/* The arguments after a truncation point are still consumed in order (no crash). */
static void test_truncation_then_more_args(void **state)
{
	(void)state;
	char b[4];
	assert_int_equal(fmt(b, sizeof b, "%s%d%s%lx", "abcdef", 12, "gh", 0xfful), 3);
	assert_string_equal(b, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_and_percent),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_char),
		cmocka_unit_test(test_signed_decimal),
		cmocka_unit_test(test_ld_int64_min_without_signed_overflow),
		cmocka_unit_test(test_unsigned_and_hex),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_zero_flag),
		cmocka_unit_test(test_minus_flag),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_truncation_then_more_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
