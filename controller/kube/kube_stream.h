/* kube_stream: the pure half of a Kubernetes watch — the bytes of a watch body split into
 * lines under a hard cap, and each line decoded into one event. No network, no threads, no
 * clock, so the unit tests and the fuzzer drive exactly what the informer runs. */
#ifndef DROVER_KUBE_STREAM_H
#define DROVER_KUBE_STREAM_H

#include "crd/compiler.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>


/* One watch event line (etcd keeps objects under 1.5 MiB). */
#define KUBE_STREAM_EVENT_MAX (4u << 20)

/* Receives each complete line, without its newline and not NUL-terminated; empty lines are
 * skipped. Returns 0 to go on, nonzero to end the stream. */
typedef int (*kube_stream_line_fn)(void *opaque, const char *line, size_t len);

/* Splits a byte stream into lines. Zero it, then kube_stream_lines_init. */
struct kube_stream_lines {
	char *buf;                /* the partial line carried over to the next chunk */
	size_t len, alloc;
	size_t max;               /* the longest line accepted */
	bool too_long;            /* sticky: a line went over @max */
};

/* Sets the line cap (0: KUBE_STREAM_EVENT_MAX). This function can't fail. */
void kube_stream_lines_init(struct kube_stream_lines *l, size_t max);

/* Feeds @n bytes of the stream, calling @fn for each line they complete. Returns 0 to go
 * on, 1 when @fn ended the stream (the rest of the chunk is dropped), -1 when a line is over
 * the cap (too_long set, sticky) or out of memory. Feed no more after a nonzero return. */
int kube_stream_lines_feed(struct kube_stream_lines *l, const char *p, size_t n,
			   kube_stream_line_fn fn, void *opaque) DROVER_WUR;

/* Frees the carried-over bytes; accepts NULL and a second call. */
void kube_stream_lines_free(struct kube_stream_lines *l);

enum kube_stream_type {
	KUBE_STREAM_ADDED = 0, KUBE_STREAM_MODIFIED, KUBE_STREAM_DELETED,
	KUBE_STREAM_BOOKMARK, KUBE_STREAM_ERROR,
};

/* One decoded event. The strings point into @object. */
struct kube_stream_event {
	enum kube_stream_type type;
	json_t *object;           /* the object (a Status for ERROR); owned by the event */
	const char *rv;           /* object's metadata.resourceVersion, or NULL */
	long long code;           /* ERROR: Status.code, 0 when absent */
	const char *message;      /* ERROR: Status.message, or NULL */
	bool gone;                /* ERROR 410: the resourceVersion is too old, relist */
};

/* Decodes one line {"type": ..., "object": {...}}. Returns 0 with @ev set (free it with
 * kube_stream_event_free), 1 for an event type this parser does not know (skip it: @ev is
 * empty), -1 with a reason in @err when the line is not an event (not JSON, over the cap,
 * no type or no object). */
int kube_stream_decode(const char *line, size_t len, struct kube_stream_event *ev, char *err,
		       size_t errlen) DROVER_WUR;

/* Releases the object and zeroes @ev; accepts NULL. */
void kube_stream_event_free(struct kube_stream_event *ev);

/* The event type's wire name ("ADDED", ...). This function can't fail. */
const char *kube_stream_type_name(enum kube_stream_type type);

#endif
