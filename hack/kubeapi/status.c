/* kubeapi test server: the reply a handler produces, and meta/v1 Status objects for errors. */
#include "status.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

static json_t *status_vnew(unsigned code, const char *reason, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static json_t *status_vnew(unsigned code, const char *reason, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
			 "metadata", "status", code < 300 ? "Success" : "Failure", "message", msg,
			 "reason", reason, "code", (int)code);
}

json_t *kas_status_new(unsigned code, const char *reason, const char *fmt, ...)
{
	va_list ap;
	json_t *st;

	va_start(ap, fmt);
	st = status_vnew(code, reason, fmt, ap);
	va_end(ap);
	return st;
}

void kas_reply_status(struct kas_reply *r, unsigned code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kas_reply_json(r, code, status_vnew(code, reason, fmt, ap));
	va_end(ap);
}

void kas_reply_details(struct kas_reply *r, unsigned code, const char *reason, json_t *details, const char *fmt, ...)
{
	va_list ap;
	json_t *st;

	va_start(ap, fmt);
	st = status_vnew(code, reason, fmt, ap);
	va_end(ap);
	if (st && details)
		json_object_set(st, "details", details);
	json_decref(details);
	kas_reply_json(r, code, st);
}

void kas_reply_warn(struct kas_reply *r, const char *text)
{
	if (!r->warnings)
		r->warnings = json_array();
	json_array_append_new(r->warnings, json_string(text));
}

void kas_reply_json(struct kas_reply *r, unsigned code, json_t *body)
{
	json_decref(r->body);
	r->code = code;
	r->body = body;
}

void kas_reply_clear(struct kas_reply *r)
{
	if (!r)
		return;
	json_decref(r->body);
	r->body = NULL;
	json_decref(r->warnings);
	r->warnings = NULL;
}
