/* kubeapi test server: the reply a handler produces, and meta/v1 Status objects for errors. */
#ifndef KAS_STATUS_H
#define KAS_STATUS_H

#include <jansson.h>

/* What a handler hands back to http.c: an HTTP code and a JSON body (owned, may be NULL). */
struct kas_reply {
	unsigned code;
	json_t *body;
	json_t *warnings;  /* strings sent as "Warning: 299 - ..." headers, NULL when none */
};

/* Returns a new Status object ("status": "Failure" unless @code < 300), or NULL on OOM.
 * @reason is a StatusReason such as "NotFound". The caller owns the result. */
json_t *kas_status_new(unsigned code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets @r to @code with a Status body, replacing any earlier body. Can't fail (an OOM leaves
 * the body NULL, which http.c answers with a bare code). */
void kas_reply_status(struct kas_reply *r, unsigned code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Like kas_reply_status, with @details (stolen: {name, group, kind, causes}) in the Status, as
 * the real server sends for NotFound, AlreadyExists, Conflict and Invalid. Can't fail. */
void kas_reply_details(struct kas_reply *r, unsigned code, const char *reason, json_t *details, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Adds a Warning header line to @r. Can't fail (a warning that can't be kept is dropped). */
void kas_reply_warn(struct kas_reply *r, const char *text);

/* Sets @r to @code with @body (stolen), replacing any earlier body. Can't fail. */
void kas_reply_json(struct kas_reply *r, unsigned code, json_t *body);

/* Releases the body and warnings of @r; accepts NULL. */
void kas_reply_clear(struct kas_reply *r);

#endif
