/* kubeapi test server: small helpers shared by every module (time, ids, strings, JSON paths, log). */
#ifndef KAS_UTIL_H
#define KAS_UTIL_H

#include "crd/compiler.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>


/* Longest string kas_printf builds; longer results are refused. */
#define KAS_PRINTF_MAX 65536

/* Writes one line to stderr, prefixed with "kubeapi: ". Can't fail. */
void kas_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formats @t as RFC 3339 UTC ("2024-05-01T10:00:00Z") into @buf (>= 21 bytes). Returns @buf. */
const char *kas_time_format(time_t t, char *buf, size_t len);

/* Parses an RFC 3339 UTC timestamp. Returns 0, or -1 when @s is not one. */
DROVER_WUR int kas_time_parse(const char *s, time_t *out);

/* Writes a random version 4 UUID into @out. Returns 0, or -1 when no randomness was available. */
DROVER_WUR int kas_uuid(char out[37]);

/* Fills @out with @n random lower-case alphanumerics and a NUL. Returns 0 or -1. */
DROVER_WUR int kas_random_suffix(char *out, size_t n);

/* Returns a malloc'd formatted string (at most KAS_PRINTF_MAX bytes), or NULL. The caller owns it. */
DROVER_WUR char *kas_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Returns the value at a dotted path ("metadata.name") inside @obj, borrowed, or NULL. */
json_t *kas_json_at(json_t *obj, const char *dotted);

/* Returns the string at a dotted path, borrowed, or NULL when absent or not a string. */
const char *kas_json_str(json_t *obj, const char *dotted);

/* Returns @obj's "metadata" object, creating it when missing (NULL only when @obj is no object). */
json_t *kas_meta(json_t *obj);

/* Returns metadata.resourceVersion as a number, 0 when absent or malformed. */
uint64_t kas_obj_rv(json_t *obj);

/* Sets metadata.resourceVersion to @rv written as a decimal string. Returns 0 or -1. */
DROVER_WUR int kas_obj_set_rv(json_t *obj, uint64_t rv);

/* Parses a decimal resourceVersion. Returns 0, or -1 when @s is not a plain decimal number. */
DROVER_WUR int kas_parse_u64(const char *s, uint64_t *out);

/* Hex-encodes @s into a malloc'd string. Returns NULL on failure. The caller owns it. */
DROVER_WUR char *kas_hex_encode(const char *s);

/* Decodes a hex string made by kas_hex_encode. Returns NULL when malformed. The caller owns it. */
DROVER_WUR char *kas_hex_decode(const char *s);

/* A growable byte buffer, always NUL-terminated after @len bytes once it holds any. */
struct kas_buf {
	char *data;
	size_t len;
};

/* Appends @n bytes of @p unless the buffer would grow past @cap bytes. Returns 0, or -1 (the
 * buffer unchanged) when the cap is hit or memory runs out. */
DROVER_WUR int kas_buf_append(struct kas_buf *b, const void *p, size_t n, size_t cap);

/* Frees the buffer's bytes and empties it; accepts NULL. */
void kas_buf_free(struct kas_buf *b);

/* True when @s is a lower-case RFC 1123 subdomain of at most @max characters. */
bool kas_valid_name(const char *s, size_t max);

#endif
