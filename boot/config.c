/* Configuration parsing for the loader (see config.h). Pure: no EFI, no allocation. */
#include "config.h"
#include "../hv/bootinfo.h"   /* BOOT_TEST_* */

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int eq(const char *a, size_t alen, const char *b)
{
	size_t blen = str_len(b);
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static void copy(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	for (size_t i = 0; i < len; i++)
		dst[i] = src[i];
	dst[len] = 0;
}

static int is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

void config_defaults(struct bvmm_config *c)
{
	copy(c->control, sizeof c->control, "control.efi", 11);
	c->control_args[0] = 0;
	c->pool_size = CONFIG_POOL_DEFAULT;
	c->log = LOG_COM2;
	c->log_level = LOGL_INFO;
	c->test_flags = 0;
	c->error[0] = 0;
}

uint64_t config_parse_size(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;
	if (!len)
		return 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (~0ull - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (i == 0)
		return 0;
	unsigned shift = 0;
	if (i < len) {
		char u = s[i] | 0x20;
		shift = u == 'k' ? 10 : u == 'm' ? 20 : u == 'g' ? 30 : 99;
		if (shift == 99)
			return 0;
		i++;
		if (i < len && (eq(s + i, len - i, "iB") || eq(s + i, len - i, "B")))
			i = len;
	}
	if (i != len || (shift && v > (~0ull >> shift)))
		return 0;
	return v << shift;
}

const char *config_log_name(enum log_target t)
{
	static const char *const names[] = { "none", "com1", "com2", "debugcon" };
	return names[t];
}

static int set_error(struct bvmm_config *c, const char *what, const char *k, size_t klen)
{
	if (!c->error[0]) {
		size_t n = str_len(what);
		copy(c->error, sizeof c->error, what, n);
		if (n + klen + 3 < sizeof c->error) {
			c->error[n] = ':';
			c->error[n + 1] = ' ';
			copy(c->error + n + 2, sizeof c->error - n - 2, k, klen);
		}
	}
	return 1;
}

static int has_nul(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!s[i])
			return 1;
	return 0;
}

/* Apply one key=value; returns 0, or 1 after recording the problem. */
static int config_set(struct bvmm_config *c, const char *k, size_t klen, const char *v, size_t vlen)
{
	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
		v++;
		vlen -= 2;
	}
	/* A NUL would cut the stored string short: control= "" or a truncated path. */
	if (has_nul(v, vlen))
		return set_error(c, "NUL byte in the value of", k, klen);
	if (eq(k, klen, "control")) {
		if (!vlen || vlen >= sizeof c->control)
			return set_error(c, "control= needs a path shorter than 256 characters", k, klen);
		copy(c->control, sizeof c->control, v, vlen);
	} else if (eq(k, klen, "control_args")) {
		if (vlen >= sizeof c->control_args)
			return set_error(c, "control_args= longer than 1023 characters", k, klen);
		copy(c->control_args, sizeof c->control_args, v, vlen);
	} else if (eq(k, klen, "pool")) {
		uint64_t sz = config_parse_size(v, vlen);
		if (!sz || sz < CONFIG_POOL_MIN || sz > CONFIG_POOL_MAX)
			return set_error(c, "pool= must be a size from 4M to 16G", v, vlen);
		c->pool_size = (sz + 4095) & ~4095ull;
	} else if (eq(k, klen, "log")) {
		enum log_target t;
		for (t = LOG_NONE; t <= LOG_DEBUGCON; t++)
			if (eq(v, vlen, config_log_name(t)))
				break;
		if (t > LOG_DEBUGCON)
			return set_error(c, "log= must be com1, com2, debugcon or none", v, vlen);
		c->log = t;
	} else if (eq(k, klen, "log_level")) {
		static const char *const lv[] = { "error", "warn", "info", "debug" };
		unsigned i;
		for (i = 0; i < 4 && !eq(v, vlen, lv[i]); i++)
			;
		if (i == 4)
			return set_error(c, "log_level= must be error, warn, info or debug", v, vlen);
		c->log_level = (enum log_level)i;
#ifdef BVMM_TEST_HOOKS
	} else if (eq(k, klen, "test")) {
		if (eq(v, vlen, "vmrun-fail"))
			c->test_flags |= BOOT_TEST_VMRUN_FAIL;
		else if (eq(v, vlen, "ap-launch-fail"))
			c->test_flags |= BOOT_TEST_AP_LAUNCH_FAIL;
		else
			return set_error(c, "test= must be vmrun-fail or ap-launch-fail", v, vlen);
#endif
	} else {
		return set_error(c, "unknown key", k, klen);
	}
	return 0;
}

/* Split "key=value" at the first '='; returns 0 if there is none or the key is empty. */
static int split(const char *s, size_t len, size_t *klen)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '=') {
			*klen = i;
			return i > 0;
		}
	return 0;
}

int config_parse_file(struct bvmm_config *c, const char *text, size_t len)
{
	int bad = 0;
	size_t i = 0;
	while (i < len) {
		size_t start = i, end, klen;
		while (i < len && text[i] != '\n')
			i++;
		end = i++;
		while (start < end && is_blank(text[start]))
			start++;
		while (end > start && is_blank(text[end - 1]))
			end--;
		if (start == end || text[start] == '#')
			continue;
		if (!split(text + start, end - start, &klen)) {
			bad += set_error(c, "line without key=value", text + start, end - start);
			continue;
		}
		size_t kend = start + klen, vstart = kend + 1;
		while (kend > start && is_blank(text[kend - 1]))
			kend--;
		while (vstart < end && is_blank(text[vstart]))
			vstart++;
		bad += config_set(c, text + start, kend - start, text + vstart, end - vstart);
	}
	return bad;
}

int config_parse_options(struct bvmm_config *c, const char *text, size_t len)
{
	int bad = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && is_blank(text[i]))
			i++;
		if (i >= len)
			break;
		/* A word, as a shell reads it: double quotes group blanks and are removed, wherever
		 * they stand (control_args="a b" and "control_args=a b" alike). */
		char word[CONFIG_ARGS_MAX + 32];
		size_t n = 0, klen;
		int quoted = 0;
		while (i < len && (quoted || !is_blank(text[i]))) {
			if (text[i] == '"')
				quoted = !quoted;
			else if (n < sizeof word)
				word[n++] = text[i];
			i++;
		}
		if (n == sizeof word)
			bad += set_error(c, "load option too long", word, 16);
		else if (split(word, n, &klen))
			bad += config_set(c, word, klen, word + klen + 1, n - klen - 1);
	}
	return bad;
}
