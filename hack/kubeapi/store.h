/* kubeapi test server: the object store. Objects, the global resourceVersion counter (like
 * etcd's revision), a bounded event history for watches, and the lock + condition variable
 * that wake watchers. Every function but init/free/lock must be called with the lock held.
 * Stored objects are immutable: callers copy before changing, so events can share them. */
#ifndef KAS_STORE_H
#define KAS_STORE_H

#include "crd/compiler.h"

#include "util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct kas_event {
	uint64_t rv;
	const char *type;  /* "ADDED", "MODIFIED" or "DELETED" (static strings) */
	char *rkey;        /* "group/plural" */
	json_t *obj;       /* the object as of @rv */
	json_t *prev;      /* for MODIFIED: the state it replaced (selector transitions), else NULL */
};

/* Sets the store up. Returns 0, or -1 on OOM or bad limits. */
DROVER_WUR int kas_store_init(size_t history, size_t max_objects, size_t max_watchers);

/* Frees everything; no watcher may still run. Can't fail. */
void kas_store_free(void);

void kas_store_lock(void);
void kas_store_unlock(void);

/* Waits at most @ms milliseconds for a change (lock held, released meanwhile). Can't fail. */
void kas_store_wait(int ms);

/* The newest resourceVersion handed out, and the oldest a watch may start from. */
uint64_t kas_store_rv(void);
uint64_t kas_store_compacted(void);

/* Hands out the next resourceVersion. Can't fail. */
uint64_t kas_store_next_rv(void);

/* Returns the stored object (borrowed, read-only), or NULL. @ns is "" for cluster-scoped. */
json_t *kas_store_get(const char *rkey, const char *ns, const char *name);

/* Stores @obj (stolen) under rkey/ns/name, replacing any object there, and records an event of
 * @type at @obj's resourceVersion. Returns 0, or -1 when the object cap is reached or on OOM
 * (@obj is released either way). */
DROVER_WUR int kas_store_put(const char *rkey, const char *ns, const char *name, json_t *obj,
			     const char *type);

/* Removes the object and records a DELETED event carrying @last (stolen), its final state.
 * Can't fail (an event that can't be recorded compacts the history instead). */
void kas_store_del(const char *rkey, const char *ns, const char *name, json_t *last);

/* Calls @fn on each object of @rkey in key order ("ns/name"), starting after @after (NULL = from
 * the start), until @fn returns non-zero. Returns what @fn returned last, or 0. */
int kas_store_scan(const char *rkey, const char *after, int (*fn)(void *ctx, const char *skey, json_t *obj),
		   void *ctx);

/* Returns the first recorded event with a resourceVersion above @rv, or NULL. */
const struct kas_event *kas_store_event_after(uint64_t rv);

/* Forgets the event history: watches from any older resourceVersion get 410 Gone. */
void kas_store_compact(void);

/* Ends every open watch stream (they see a new epoch). */
void kas_store_cut_watches(void);
unsigned long kas_store_epoch(void);

/* Asks every watcher to stop, for shutdown. */
void kas_store_stop(void);
bool kas_store_stopping(void);

/* Counts a watcher in. Returns 0, or -1 when the cap is reached. */
DROVER_WUR int kas_store_watcher_add(void);
void kas_store_watcher_del(void);

#endif
