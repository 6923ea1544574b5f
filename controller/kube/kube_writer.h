/* kube_writer: the in-cluster controller's writes to the API — status and events — from a
 * thread of its own, so that the reconciler, which reports status with its lock held, never
 * waits on HTTP. Status is coalesced per object (the latest wins) and remembered as what
 * drover last observed; events are best effort through a bounded queue. */
#ifndef DROVER_KUBE_WRITER_H
#define DROVER_KUBE_WRITER_H

#include "crd/compiler.h"

#include <jansson.h>
#include <stdbool.h>

#include "controller/kube/kube_events.h"
#include "controller/kube/kube_http.h"
#include "controller/kube/kube_obj.h"

#define KUBE_WRITER_MAX_OBJECTS 20000     /* objects whose status is remembered */
#define KUBE_WRITER_MAX_EVENTS 256        /* events waiting; more are dropped (and counted) */

/* Returns a new reference to the object @ns/@name of @res as the informer caches it, or
 * NULL. Called from the writer's thread. */
typedef json_t *(*kube_writer_lookup_fn)(void *opaque, const struct kube_resource *res,
		 const char *ns, const char *name);

struct kube_writer;

/* Starts the writer's thread. Events are reported as @instance (copied). Returns the
 * writer (free it with kube_writer_free), or NULL when out of memory or the thread cannot
 * start. The client must outlive the writer. */
struct kube_writer *kube_writer_new(struct kube_client *c, const char *instance,
				    kube_writer_lookup_fn lookup, void *opaque) DROVER_WUR;

/* Hands over the status of @res @ns/@name (uid @uid): it replaces any status of the object
 * still waiting and is written soon with a merge patch of what differs from the cached
 * object. Steals @status (even on failure). Returns 0, or -1 when out of memory or over
 * KUBE_WRITER_MAX_OBJECTS. Thread-safe; never blocks on I/O. */
int kube_writer_status(struct kube_writer *w, const struct kube_resource *res, const char *ns,
		       const char *name, const char *uid, json_t *status) DROVER_WUR;

/* Hands over drover's own record of a move it decided (a Migration with no uid yet):
 * @object is the whole object (metadata, spec, status). The writer makes it through the
 * API first, unless it exists already, then writes its status as kube_writer_status does.
 * Steals @object (even on failure). Returns 0, or -1 when out of memory or over
 * KUBE_WRITER_MAX_OBJECTS. Thread-safe; never blocks on I/O. */
int kube_writer_record(struct kube_writer *w, const struct kube_resource *res, json_t *object)
	DROVER_WUR;

/* The status last handed over for @res @ns/@name when it was for the object @uid, or for a
 * record of drover's still being made: a new reference the caller decrefs, or NULL.
 * Thread-safe. */
json_t *kube_writer_known(struct kube_writer *w, const struct kube_resource *res, const char *ns,
		  const char *name, const char *uid) DROVER_WUR;

/* Forgets the objects of @res whose "namespace/name" key is not in @live (a JSON object
 * used as a set), so the memory follows the cluster — but not a record of drover's still
 * to be made, nor an object with a write still owed: the API server says when that one is
 * gone. This function can't fail. */
void kube_writer_prune(struct kube_writer *w, const struct kube_resource *res, const json_t *live);

/* Queues event @ev (copied). Returns 0, or -1 when the queue is full or out of memory (the
 * event is dropped and counted). Thread-safe; never blocks on I/O. */
int kube_writer_event(struct kube_writer *w, const struct kube_event *ev);

/* Waits until nothing is waiting or being written, at most @timeout_s. Returns true when
 * everything was written (or given up after a permanent error). */
bool kube_writer_drain(struct kube_writer *w, double timeout_s);

/* Stops the thread (a request in flight ends first; kube_client_stop cuts it short) and
 * frees the writer; accepts NULL. */
void kube_writer_free(struct kube_writer *w);

/* A merge patch (RFC 7386) that turns @from into @to: changed members, null for removed
 * ones, recursively for objects. Returns a new object (empty when equal), or NULL when out of
 * memory. Exposed for the unit tests. */
json_t *kube_writer_merge_diff(const json_t *from, const json_t *to) DROVER_WUR;

#endif
