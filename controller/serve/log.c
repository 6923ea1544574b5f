/* log: the controllers' event lines — one line per event on stdout, as logfmt or JSON,
 * with a message and key/value fields, shared by the directory and Kubernetes modes. */
#include "controller/serve/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "reconcile/clk.h"

#define LOG_TS_MAX 40
#define LOG_LEVEL_MAX 16
/* Room kept at the end of a line for the truncated field and the newline. */
#define LOG_RESERVE 24

/* Written once before any thread logs; read by every line after. */
static enum log_format log_format_current = LOG_FORMAT_LOGFMT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int log_parse_format(const char *name, enum log_format *out)
{
	if (name && !strcmp(name, "logfmt"))
		*out = LOG_FORMAT_LOGFMT;
	else if (name && !strcmp(name, "json"))
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

void log_set_format(enum log_format f)
{
	log_format_current = f;
}

const char *log_int(char *buf, long long v)
{
	snprintf(buf, LOG_NUM_MAX, "%lld", v);
	return buf;
}

/* The length of the UTF-8 character at @s (at most @left bytes), or 0 when the bytes there
 * are not one. The checks are jansson's: no overlong forms, surrogates or code points past
 * U+10FFFF, so a cleaned string is always a valid JSON string. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (n > left || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Copies @in (NULL: "") into @out (@max + 4 bytes) as valid UTF-8 of at most @max bytes,
 * with "..." when it was cut. This function can't fail. */
static void clean_text(const char *in, char *out, size_t max)
{
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t left = strlen((const char *)s), n = 0;

	while (left) {
		size_t len = utf8_len(s, left);
		if (n + (len ? len : 1) > max) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (len) {
			memcpy(out + n, s, len);
		} else {
			out[n] = '?';
			len = 1;
		}
		n += len;
		s += len;
		left -= len;
	}
	out[n] = '\0';
}

/* Copies key @in into @out (@max + 1 bytes): at most @max bytes of [A-Za-z0-9_.-], every
 * other byte made '_'. This function can't fail. */
static void clean_key(const char *in, char *out, size_t max)
{
	size_t n = 0;

	for (; in && in[n] && n < max; n++) {
		char c = in[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == '-';
		out[n] = ok ? c : '_';
	}
	out[n] = '\0';
}

/* A line under construction; a write that does not fit before @limit marks it over and
 * writes nothing more (sticky), so the caller checks once per field. */
struct lbuf {
	char *p;
	size_t len, limit;
	bool over;
};

static void put(struct lbuf *b, const char *s, size_t n)
{
	if (b->over || n > b->limit - b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_str(struct lbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static bool needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p == 0x7f)
			return true;
	return false;
}

/* "@v" with \" \\ \n \r \t and \u00XX for the other control bytes. */
static void put_quoted(struct lbuf *b, const char *v)
{
	put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(b, esc, 2);
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			esc[0] = '\\';
			esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			put(b, esc, 2);
		} else if (*p < ' ' || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(b, esc, 6);
		} else {
			put(b, (const char *)p, 1);
		}
	}
	put(b, "\"", 1);
}

static void put_pair(struct lbuf *b, const char *key, const char *value, bool quote)
{
	put_str(b, " ");
	put_str(b, key);
	put_str(b, "=");
	if (quote || needs_quotes(value))
		put_quoted(b, value);
	else
		put_str(b, value);
}

/* The cleaned line: header strings and the fields kept (keys distinct). */
struct cleaned {
	char ts[LOG_TS_MAX + 4], level[LOG_LEVEL_MAX + 1], msg[LOG_VALUE_MAX + 4];
	char keys[LOG_MAX_FIELDS][LOG_KEY_MAX + 1];
	char values[LOG_MAX_FIELDS][LOG_VALUE_MAX + 4];
	size_t n;
	bool truncated;
};

static bool key_taken(const struct cleaned *c, const char *key)
{
	if (!strcmp(key, "ts") || !strcmp(key, "level") || !strcmp(key, "msg") ||
	    !strcmp(key, "truncated"))
		return true;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->keys[i], key))
			return true;
	return false;
}

static void clean_all(struct cleaned *c, const char *ts, const char *level, const char *msg,
		      const struct log_field *fields, size_t n_fields)
{
	clean_text(ts, c->ts, LOG_TS_MAX);
	clean_key(level, c->level, LOG_LEVEL_MAX);
	clean_text(msg, c->msg, LOG_VALUE_MAX);
	c->n = 0;
	c->truncated = n_fields > LOG_MAX_FIELDS;
	for (size_t i = 0; i < n_fields && i < LOG_MAX_FIELDS; i++) {
		clean_key(fields[i].key, c->keys[c->n], LOG_KEY_MAX);
		if (!c->keys[c->n][0] || key_taken(c, c->keys[c->n]))
			continue;
		clean_text(fields[i].value, c->values[c->n], LOG_VALUE_MAX);
		c->n++;
	}
}

/* The header fits whatever the input: its parts are capped far below LOG_LINE_MAX. */
static size_t format_logfmt(char *buf, const struct cleaned *c)
{
	struct lbuf b = {.p = buf, .limit = LOG_LINE_MAX - LOG_RESERVE};
	bool truncated = c->truncated;

	put_str(&b, "ts=");
	put_str(&b, c->ts);
	put_pair(&b, "level", c->level, false);
	put_pair(&b, "msg", c->msg, true);
	for (size_t i = 0; i < c->n && !truncated; i++) {
		size_t mark = b.len;
		put_pair(&b, c->keys[i], c->values[i], false);
		if (b.over) {
			b.len = mark;
			b.over = false;
			truncated = true;
		}
	}
	b.limit = LOG_LINE_MAX - 1;
	if (truncated)
		put_str(&b, " truncated=true");
	put_str(&b, "\n");
	buf[b.len] = '\0';
	return b.len;
}

static int set_str(json_t *obj, const char *key, const char *value)
{
	return json_object_set_new(obj, key, json_string(value));
}

static size_t format_json(char *buf, const struct cleaned *c)
{
	json_t *obj = json_object();
	bool truncated = c->truncated;
	size_t len = 0;

	if (!obj || set_str(obj, "ts", c->ts) < 0 || set_str(obj, "level", c->level) < 0 ||
	    set_str(obj, "msg", c->msg) < 0)
		goto cleanup;
	for (size_t i = 0; i < c->n && !truncated; i++) {
		if (set_str(obj, c->keys[i], c->values[i]) < 0)
			goto cleanup;
		if (json_dumpb(obj, NULL, 0, JSON_COMPACT) > LOG_LINE_MAX - LOG_RESERVE) {
			json_object_del(obj, c->keys[i]);
			truncated = true;
		}
	}
	if (truncated && set_str(obj, "truncated", "true") < 0)
		goto cleanup;
	len = json_dumpb(obj, buf, LOG_LINE_MAX - 2, JSON_COMPACT);
	if (len == 0 || len > LOG_LINE_MAX - 2) {
		len = 0;
		goto cleanup;
	}
	buf[len++] = '\n';
cleanup:
	buf[len] = '\0';
	json_decref(obj);
	return len;
}

size_t log_format_line(char *buf, size_t size, enum log_format f, const char *ts,
		       const char *level, const char *msg, const struct log_field *fields,
		       size_t n_fields)
{
	struct cleaned c;

	if (size < LOG_LINE_MAX) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	clean_all(&c, ts, level, msg, fields, n_fields);
	return f == LOG_FORMAT_JSON ? format_json(buf, &c) : format_logfmt(buf, &c);
}

void log_event(const char *level, const char *msg, const struct log_field *fields,
	       size_t n_fields)
{
	char now[32], line[LOG_LINE_MAX];
	size_t len;

	clk_rfc3339(now, sizeof(now));
	len = log_format_line(line, sizeof(line), log_format_current, now, level, msg, fields,
			      n_fields);
	pthread_mutex_lock(&log_lock);
	if (len && fwrite(line, 1, len, stdout) == len)
		fflush(stdout);
	pthread_mutex_unlock(&log_lock);
}

void log_kv(const char *level, const char *msg, ...)
{
	struct log_field fields[LOG_MAX_FIELDS + 1];
	size_t n = 0;
	va_list ap;

	va_start(ap, msg);
	/* One pair past the cap is read so that the line says it was cut. */
	while (n < LOG_MAX_FIELDS + 1) {
		const char *key = va_arg(ap, const char *);
		if (!key)
			break;
		fields[n].key = key;
		fields[n].value = va_arg(ap, const char *);
		n++;
	}
	va_end(ap);
	log_event(level, msg, fields, n);
}
