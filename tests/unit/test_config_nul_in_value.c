/* Regression test for boot/config.c: a NUL byte inside a value ("control=\0..." in bvmm.conf or
 * the load options) was stored as it came, so control became "" (or a truncated path) with no
 * problem reported. Found by tests/fuzz/fuzz_config.c. Such a value is now refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../boot/config.h"

static void test_config_nul_in_value_file(void **state)
{
	(void)state;
	static const char text[] = "control=\0x.efi\ncontrol_args=a\0b\nlog=com1\n";
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(config_parse_file(&c, text, sizeof text - 1), 2);
	assert_string_equal(c.control, "control.efi");   /* the default kept */
	assert_string_equal(c.control_args, "");
	assert_int_equal(c.log, LOG_COM1);               /* the good line still applies */
	assert_string_equal(c.error, "NUL byte in the value of: control");
}

static void test_config_nul_in_value_options(void **state)
{
	(void)state;
	static const char text[] = "bvmm.efi control=sh\0ell.efi pool=8M";
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(config_parse_options(&c, text, sizeof text - 1), 1);
	assert_string_equal(c.control, "control.efi");
	assert_int_equal(c.pool_size, 8ull << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_nul_in_value_file),
		cmocka_unit_test(test_config_nul_in_value_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
