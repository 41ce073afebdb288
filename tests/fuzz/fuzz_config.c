/* libFuzzer harness for boot/config.c: bvmm.conf text, load options and sizes. Oracles: every
 * string stays NUL-terminated inside its array, values stay in their documented ranges, the
 * problem count agrees with the error message, and sizes agree with a second parser. */
#include <string.h>
#include "fuzz_input.h"
#include "../../boot/config.h"

static void check_config(const struct bvmm_config *c, int bad)
{
	FUZZ_CHECK(bad >= 0);
	FUZZ_CHECK(memchr(c->control, 0, sizeof c->control) && c->control[0]);
	FUZZ_CHECK(memchr(c->control_args, 0, sizeof c->control_args));
	FUZZ_CHECK(memchr(c->error, 0, sizeof c->error));
	FUZZ_CHECK((bad == 0) == (c->error[0] == 0));
	FUZZ_CHECK(c->pool_size >= CONFIG_POOL_MIN && c->pool_size <= CONFIG_POOL_MAX &&
		   c->pool_size % 4096 == 0);
	FUZZ_CHECK(c->log <= LOG_DEBUGCON && c->log_level <= LOGL_DEBUG);
	FUZZ_CHECK(c->test_flags == 0);   /* no test hooks in this build */
}

/* The size grammar again, written differently: digits, then k/m/g, then "", "B" or "iB". */
static uint64_t ref_size(const char *s, size_t len)
{
	unsigned __int128 v = 0;
	size_t i = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9' && v <= ~0ull)
		v = v * 10 + (unsigned)(s[i++] - '0');
	if (i == 0 || v > ~0ull || (i < len && s[i] >= '0' && s[i] <= '9'))
		return 0;
	if (i == len)
		return (uint64_t)v;
	const char *u = strchr("kmgKMG", s[i]);
	if (!u || !s[i])
		return 0;
	unsigned shift = 10 * (1 + (unsigned)((u - "kmgKMG") % 3));
	size_t rest = len - i - 1;
	const char *r = s + i + 1;
	if (!(rest == 0 || (rest == 1 && r[0] == 'B') || (rest == 2 && r[0] == 'i' && r[1] == 'B')))
		return 0;
	v <<= shift;
	return v > ~0ull ? 0 : (uint64_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = size - 1;
	char *text = malloc(len ? len : 1);   /* exactly len bytes, no NUL: ASan guards the end */
	FUZZ_CHECK(text != NULL);
	memcpy(text, data + 1, len);
	struct bvmm_config c;
	config_defaults(&c);
	check_config(&c, 0);
	switch (data[0] % 4) {
	case 0:
		check_config(&c, config_parse_file(&c, text, len));
		break;
	case 1:
		check_config(&c, config_parse_options(&c, text, len));
		break;
	case 2: {   /* the loader's order: the file, then the options over it */
		size_t cut = len ? data[0] % len : 0;
		int bad = config_parse_file(&c, text, cut);
		bad += config_parse_options(&c, text + cut, len - cut);
		check_config(&c, bad);
		break;
	}
	default:
		FUZZ_CHECK(config_parse_size(text, len) == ref_size(text, len));
		break;
	}
	free(text);
	return 0;
}
