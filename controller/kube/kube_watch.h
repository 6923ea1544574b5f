/* kube_watch: an informer per kind — list (paginated), then watch from the list's
 * resourceVersion with bookmarks, reconnecting when the stream ends and relisting on 410
 * Gone — keeping a thread-safe cache of the objects keyed "namespace/name". */
#ifndef DROVER_KUBE_WATCH_H
#define DROVER_KUBE_WATCH_H

#include "crd/compiler.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/kube/kube_http.h"
#include "controller/kube/kube_stream.h"

#define KUBE_WATCH_EVENT_MAX KUBE_STREAM_EVENT_MAX   /* one watch event line */

enum kube_event_type { KUBE_EV_ADDED = 0, KUBE_EV_MODIFIED, KUBE_EV_DELETED };

/* Called from the informer's thread, in event order, after the cache was updated and with no
 * lock held (the handler may read the cache). @obj is the new object (for DELETED its last
 * state), @old the cached one before (NULL for ADDED). Both are read-only and borrowed. */
typedef void (*kube_handler_fn)(void *opaque, enum kube_event_type type, const json_t *old,
				const json_t *obj);

struct kube_informer_options {
	const struct kube_resource *res;
	const char *namespace;    /* NULL: every namespace */
	const char *label_selector;  /* NULL: none */
	kube_handler_fn handler;  /* may be NULL */
	void *opaque;
	unsigned page_limit;      /* objects per list page (default 500) */
	size_t max_objects;       /* cache cap; a list over it fails (default 100000) */
	int watch_timeout_s;      /* asked of the server per watch (default 300, jittered +-20 %) */
	double backoff_base_s;    /* after a failed list or watch (default 0.2) */
	double backoff_cap_s;     /* (default 30) */
};

/* What the informer did so far (tests, metrics). */
struct kube_informer_stats {
	unsigned lists;           /* complete lists (the first one included) */
	unsigned watches;         /* watch streams opened */
	unsigned gone;            /* 410 Gone seen (HTTP or ERROR event) */
	unsigned bookmarks;
	unsigned failures;        /* failed lists or watches */
};

struct kube_informer;

/* Starts the informer's thread. @o is copied (its strings too). Returns 0 with *@out set, or
 * -1 when out of memory or the thread cannot start. The client must outlive the informer. */
int kube_informer_start(struct kube_client *c, const struct kube_informer_options *o,
			struct kube_informer **out) DROVER_WUR;

/* Asks the thread to stop (its transfer aborts at its next progress check) without waiting:
 * several informers asked first, then joined, stop in the time of one. Accepts NULL. */
void kube_informer_request_stop(struct kube_informer *inf);

/* Stops the thread (aborting any transfer) and joins it; accepts NULL and a second call. */
void kube_informer_stop(struct kube_informer *inf);

/* Stops and frees the informer and its cache; accepts NULL. */
void kube_informer_free(struct kube_informer *inf);

/* Waits until the first list is in the cache and the handler was called for each of its
 * objects, at most @timeout_s. Returns true when synced. */
bool kube_informer_wait_synced(struct kube_informer *inf, double timeout_s);

/* A new reference to the cached object (read-only: do not modify it), or NULL. */
json_t *kube_informer_get(struct kube_informer *inf, const char *ns, const char *name);

/* A new array holding a reference to every cached object (read-only), or NULL when out of
 * memory. */
json_t *kube_informer_list(struct kube_informer *inf);

/* Objects in the cache. This function can't fail. */
size_t kube_informer_count(struct kube_informer *inf);

/* The resourceVersion the informer is at, into @buf ("" before the first list). */
void kube_informer_rv(struct kube_informer *inf, char *buf, size_t len);

/* Copies the counters. This function can't fail. */
void kube_informer_stats(struct kube_informer *inf, struct kube_informer_stats *out);

/* Writes "namespace/name" (or "name" for cluster-scoped objects) of @obj into @buf. Returns
 * 0, or -1 when @obj has no name or the key does not fit. */
int kube_obj_key(const json_t *obj, char *buf, size_t len) DROVER_WUR;

#endif
