/* kube_stream: the pure half of a Kubernetes watch — the bytes of a watch body split into
 * lines under a hard cap, and each line decoded into one event. */
#include "controller/kube/kube_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARRY_MIN 256             /* first allocation for a line split across chunks */

static const char *const type_names[] = {
	[KUBE_STREAM_ADDED] = "ADDED", [KUBE_STREAM_MODIFIED] = "MODIFIED",
	[KUBE_STREAM_DELETED] = "DELETED", [KUBE_STREAM_BOOKMARK] = "BOOKMARK",
	[KUBE_STREAM_ERROR] = "ERROR",
};

#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

void kube_stream_lines_init(struct kube_stream_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max ? max : KUBE_STREAM_EVENT_MAX;
}

void kube_stream_lines_free(struct kube_stream_lines *l)
{
	if (!l)
		return;
	free(l->buf);
	l->buf = NULL;
	l->len = l->alloc = 0;
}

/* Appends @n bytes to the carried-over line. The cap counts the line, not the chunk, so
 * where the transport cuts the stream never decides what is accepted. Returns 0, or -1 over
 * the cap (too_long set) or out of memory. */
static int carry(struct kube_stream_lines *l, const char *p, size_t n)
{
	if (n > l->max - l->len) {
		l->too_long = true;
		return -1;
	}
	if (n > l->alloc - l->len) {
		size_t want = l->alloc ? l->alloc : CARRY_MIN;
		char *grown;

		while (want < l->len + n)
			want = want > l->max / 2 ? l->max : want * 2;
		grown = realloc(l->buf, want);
		if (!grown)
			return -1;
		l->buf = grown;
		l->alloc = want;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
	return 0;
}

/* Ends the current line with the @n bytes at @p (its newline excluded) and hands it to @fn.
 * Returns 0, 1 when @fn ended the stream, -1 over the cap or out of memory. */
static int complete(struct kube_stream_lines *l, const char *p, size_t n, kube_stream_line_fn fn,
		    void *opaque)
{
	int rc;

	if (l->len == 0) {
		/* The whole line is in this chunk: no copy. */
		if (n > l->max) {
			l->too_long = true;
			return -1;
		}
		return n > 0 && fn(opaque, p, n) != 0 ? 1 : 0;
	}
	if (carry(l, p, n) < 0)
		return -1;
	rc = fn(opaque, l->buf, l->len) != 0 ? 1 : 0;
	l->len = 0;
	return rc;
}

int kube_stream_lines_feed(struct kube_stream_lines *l, const char *p, size_t n,
			   kube_stream_line_fn fn, void *opaque)
{
	if (l->too_long)
		return -1;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take;
		int rc;

		if (!nl)
			return carry(l, p, n);
		take = (size_t)(nl - p);
		rc = complete(l, p, take, fn, opaque);
		if (rc != 0)
			return rc;
		p += take + 1;
		n -= take + 1;
	}
	return 0;
}

/* The index of @name in type_names, or -1. */
static int type_index(const char *name)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (!strcmp(name, type_names[i]))
			return (int)i;
	return -1;
}

const char *kube_stream_type_name(enum kube_stream_type type)
{
	return (size_t)type < N_TYPES ? type_names[type] : "?";
}

/* Fills the fields of @ev that come from its object. */
static void read_object(struct kube_stream_event *ev)
{
	const json_t *meta = json_object_get(ev->object, "metadata");

	ev->rv = json_string_value(json_object_get(meta, "resourceVersion"));
	if (ev->type != KUBE_STREAM_ERROR)
		return;
	ev->code = json_integer_value(json_object_get(ev->object, "code"));
	ev->message = json_string_value(json_object_get(ev->object, "message"));
	ev->gone = ev->code == 410;
}

int kube_stream_decode(const char *line, size_t len, struct kube_stream_event *ev, char *err,
		       size_t errlen)
{
	json_error_t jerr;
	json_t *root, *obj;
	const char *type;
	int t, rc = -1;

	memset(ev, 0, sizeof(*ev));
	if (len > KUBE_STREAM_EVENT_MAX) {
		snprintf(err, errlen, "an event of %zu bytes is over the %u-byte cap", len,
			 KUBE_STREAM_EVENT_MAX);
		return -1;
	}
	root = json_loadb(line, len, 0, &jerr);
	if (!root) {
		snprintf(err, errlen, "not JSON at byte %d: %s", jerr.position, jerr.text);
		return -1;
	}
	type = json_string_value(json_object_get(root, "type"));
	obj = json_object_get(root, "object");
	if (!type || !json_is_object(obj)) {
		snprintf(err, errlen, "not an event: %s", type ? "no object" : "no type");
		goto cleanup;
	}
	t = type_index(type);
	if (t < 0) {
		rc = 1;   /* a type from a newer server: skipped rather than ending the watch */
		goto cleanup;
	}
	ev->type = (enum kube_stream_type)t;
	ev->object = json_incref(obj);
	read_object(ev);
	rc = 0;
cleanup:
	json_decref(root);
	return rc;
}

void kube_stream_event_free(struct kube_stream_event *ev)
{
	if (!ev)
		return;
	json_decref(ev->object);
	memset(ev, 0, sizeof(*ev));
}
