/* log: the controllers' event lines — one line per event on stdout, as logfmt or JSON,
 * with a message and key/value fields, shared by the directory and Kubernetes modes. */
#ifndef DROVER_LOG_H
#define DROVER_LOG_H

#include "crd/compiler.h"

#include <stddef.h>

#define LOG_LINE_MAX 8192      /* one line, newline included: fields that do not fit are dropped */
#define LOG_VALUE_MAX 1024     /* bytes of one value or the message kept (then "...") */
#define LOG_KEY_MAX 64         /* bytes of one key kept */
#define LOG_MAX_FIELDS 16      /* fields of one line; later ones are dropped */
#define LOG_NUM_MAX 24         /* a buffer for log_int */

enum log_format {
	LOG_FORMAT_LOGFMT = 0, /* ts=... level=info msg="..." key=value (values quoted when needed) */
	LOG_FORMAT_JSON,       /* {"ts":"...","level":"info","msg":"...","key":"value"} */
};

/* One field. Every value is a string (numbers as their decimal text), in JSON too, so a
 * field keeps one type whatever its value. */
struct log_field {
	const char *key;
	const char *value;     /* NULL is written as "" */
};

/* Parses "logfmt" or "json". Returns 0 with *@out set, or -1 for anything else. */
int log_parse_format(const char *name, enum log_format *out) DROVER_WUR;

/* Chooses the format of every later line. Call it once, before any thread logs (the
 * default is logfmt). This function can't fail. */
void log_set_format(enum log_format f);

/* Writes one line (newline included) into @buf: ts, level and msg first, then @fields in
 * their order. Keys are cut to LOG_KEY_MAX bytes with every byte that is not [A-Za-z0-9_.-]
 * made '_'; a field whose key came before in the line (ts, level and msg included) is
 * skipped. Values and @msg are cut to LOG_VALUE_MAX bytes (on a character boundary, then
 * "..."), and bytes that are not UTF-8 become '?'. Fields that would take the line past
 * LOG_LINE_MAX bytes, or past LOG_MAX_FIELDS, are dropped and a last field truncated=true
 * says so. Returns the length of the line; 0 (with @buf "" when @size allows) when @size is
 * below LOG_LINE_MAX, or for JSON when out of memory. */
size_t log_format_line(char *buf, size_t size, enum log_format f, const char *ts,
		       const char *level, const char *msg, const struct log_field *fields,
		       size_t n_fields);

/* Writes one line with the current time to stdout and flushes it. @level is "debug",
 * "info", "warn" or "error". Thread-safe: lines never interleave. This function can't fail
 * (a failed write is lost). */
void log_event(const char *level, const char *msg, const struct log_field *fields,
	       size_t n_fields);

/* log_event with the fields as key, value, key, value, ... ending with a NULL key; at most
 * LOG_MAX_FIELDS pairs are read. */
void log_kv(const char *level, const char *msg, ...) __attribute__((sentinel));

/* The decimal text of @v in @buf (LOG_NUM_MAX bytes). Returns @buf. Can't fail. */
const char *log_int(char *buf, long long v);

/* log_int into a buffer that lives until the end of the enclosing block: for arguments,
 * e.g. log_kv("info", "reconciled", "vms", LOG_INT(n), NULL). */
#define LOG_INT(v) log_int((char[LOG_NUM_MAX]){0}, (long long)(v))

#endif
