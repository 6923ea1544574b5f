/* kubeapi test server: small helpers shared by every module (time, ids, strings, JSON paths, log). */
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void kas_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so lines of concurrent threads don't interleave. */
	fprintf(stderr, "kubeapi: %s\n", line);
}

const char *kas_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
	return buf;
}

int kas_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	if (!s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	/* Fractional seconds and a "Z" suffix are both legal in RFC 3339; the rest is ignored. */
	*out = timegm(&tm);
	return 0;
}

static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;
	int tries = 0;

	while (got < n && tries++ < 8) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0)
			got += (size_t)r;
	}
	return got == n ? 0 : -1;
}

int kas_uuid(char out[37])
{
	unsigned char b[16];

	if (random_bytes(b, sizeof(b)) < 0)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

int kas_random_suffix(char *out, size_t n)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char b[32];

	if (n > sizeof(b) || random_bytes(b, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
	out[n] = '\0';
	return 0;
}

char *kas_printf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= KAS_PRINTF_MAX)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

json_t *kas_json_at(json_t *obj, const char *dotted)
{
	char key[256];
	const char *p = dotted;

	/* At most 32 levels: paths here come from printer columns and selectors. */
	for (int depth = 0; obj && p && *p && depth < 32; depth++) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		p = dot ? dot + 1 : NULL;
	}
	return (p && *p) ? NULL : obj;
}

const char *kas_json_str(json_t *obj, const char *dotted)
{
	return json_string_value(kas_json_at(obj, dotted));
}

json_t *kas_meta(json_t *obj)
{
	json_t *meta;

	if (!json_is_object(obj))
		return NULL;
	meta = json_object_get(obj, "metadata");
	if (json_is_object(meta))
		return meta;
	meta = json_object();
	if (!meta || json_object_set_new(obj, "metadata", meta) < 0)
		return NULL;
	return meta;
}

int kas_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

uint64_t kas_obj_rv(json_t *obj)
{
	uint64_t rv = 0;

	if (kas_parse_u64(kas_json_str(obj, "metadata.resourceVersion"), &rv) < 0)
		return 0;
	return rv;
}

int kas_obj_set_rv(json_t *obj, uint64_t rv)
{
	char buf[24];
	json_t *meta = kas_meta(obj);

	snprintf(buf, sizeof(buf), "%" PRIu64, rv);
	if (!meta)
		return -1;
	return json_object_set_new(meta, "resourceVersion", json_string(buf));
}

char *kas_hex_encode(const char *s)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = strlen(s);
	char *out;

	if (n > KAS_PRINTF_MAX)
		return NULL;
	out = malloc(2 * n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[(unsigned char)s[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *kas_hex_decode(const char *s)
{
	size_t n = strlen(s);
	char *out;

	if (n % 2 || n > 2 * KAS_PRINTF_MAX)
		return NULL;
	out = malloc(n / 2 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		out[i] = (char)(hi * 16 + lo);
	}
	out[n / 2] = '\0';
	return out;
}

int kas_buf_append(struct kas_buf *b, const void *p, size_t n, size_t cap)
{
	char *grown;

	if (n > cap || b->len > cap - n)
		return -1;
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return -1;
	b->data = grown;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void kas_buf_free(struct kas_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

bool kas_valid_name(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && !((c == '-' || c == '.') && i > 0 && i + 1 < n))
			return false;
	}
	return true;
}
