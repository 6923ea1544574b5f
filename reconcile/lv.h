/* lv: libvirt connections to every Host, with libvirt's event loop, keepalive,
 * close callbacks, domain lifecycle events and reconnection with backoff. */
#ifndef DROVER_LV_H
#define DROVER_LV_H

#include "crd/compiler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "crd/types.h"
#include "reconcile/invcache.h"


/* Called from libvirt's event thread when something changed on a host (a domain
 * lifecycle or metadata event, a lost connection). Must be quick and thread-safe. */
typedef void (*lv_wake_fn)(void *opaque, const char *host);

/* Domain events watched per connection: lifecycle, metadata change, job completed,
 * migration iteration, tunable, device added and removed. */
#define LV_N_EVENTS 7

struct lv_host {
	char *name;
	char *uri;
	virConnectPtr conn;       /* NULL while disconnected */
	bool closed;              /* libvirt told us the connection broke */
	int event_cb[LV_N_EVENTS];   /* domain event callback ids, -1 when none */
	/* The host's domains as last observed, kept current by the events above; its marks
	 * and validity are written under the pool's lock, its entries by the observer. A new
	 * or lost connection invalidates it: events may have been missed. */
	struct invc cache;
	bool unwatched;           /* some event could not be registered: the cache is not kept */
	struct host_ref *close_ref;  /* the close callback's opaque; ours to free (see host_adopt) */
	unsigned backoff_ms;      /* next wait before reconnecting */
	double next_try;          /* monotonic seconds: no connect attempt before this */
	char *error;              /* why the last attempt failed; NULL when connected */
};

struct lv_pool {
	pthread_mutex_t lock;     /* guards closed flags and caches written from the event thread */
	struct lv_host *hosts;
	size_t n;
	lv_wake_fn wake;
	void *wake_opaque;
};

/* Registers libvirt's default event loop and starts the thread that runs it, once
 * per process; must precede every connection so keepalive and events work.
 * Returns 0, or -1 with a message on stderr. */
int lv_global_init(void) DROVER_WUR;

/* Initialises an empty pool. WAKE (may be NULL) is called on host events. */
void lv_pool_init(struct lv_pool *pool, lv_wake_fn wake, void *opaque);

/* Makes the pool hold exactly the Hosts of @set: new ones are added (not yet
 * connected), removed ones closed, changed URIs reconnected.
 * Returns 0, or -1 when out of memory. */
int lv_pool_sync(struct lv_pool *pool, const struct crd_set *set) DROVER_WUR;

/* The connection of host @name, connecting first when needed and allowed by the
 * backoff. Returns a connection owned by the pool (do not close it), or NULL with the
 * reason available from lv_host_error(). Connects with a bounded wait: a host that
 * does not answer within a few seconds counts as unreachable. */
virConnectPtr lv_connect(struct lv_pool *pool, const char *name);

/* Connects every host that is not connected, in parallel, waiting at most
 * TIMEOUT_S seconds in all, so an unreachable host never blocks the others.
 * This function can't fail; hosts left unconnected carry an error. */
void lv_connect_all(struct lv_pool *pool, int timeout_s);

/* The inventory cache of host @name, or NULL. Owned by the pool; valid until the next
 * lv_pool_sync. Its marks and validity are read and written under pool->lock. */
struct invc *lv_host_cache(struct lv_pool *pool, const char *name);

/* Forgets what the inventory cache of host @name holds: drover itself just changed it
 * (a tuning written into a definition sends no event; a move's events may arrive after
 * the next pass), so the next pass reads the host in full. Safe from any thread; an
 * unknown host is ignored. This function can't fail. */
void lv_host_changed(struct lv_pool *pool, const char *name);

/* The reason host @name is not connected, or NULL. Owned by the pool. */
const char *lv_host_error(struct lv_pool *pool, const char *name);

/* Seconds until the next connection attempt to a host that is not connected may be made
 * (at least the shortest backoff), or -1 when every host is connected. Called from the thread that connects (the
 * passes'). This function can't fail. */
double lv_reconnect_due_in(struct lv_pool *pool);

/* Marks host @name's connection broken (e.g. after an RPC failure) so the next
 * lv_connect reconnects. This function can't fail. */
void lv_mark_broken(struct lv_pool *pool, const char *name);

/* Closes every connection and frees the pool; accepts NULL. */
void lv_pool_free(struct lv_pool *pool);

/* A connection to @uri of the caller's own, outside the pool, with the pool's bounded wait
 * and keepalive (a long call on it notices a dead peer). For a job's long calls: an RPC on
 * a connection waits behind the ones in flight on it, so a migration or a disk stream on
 * the pool's connection slowed every pass. Returns a connection the caller closes, or
 * NULL with @err (may be NULL) set to a reason the caller frees; always NULL for a local
 * test:/// URI (each of its connections has a state of its own). */
virConnectPtr lv_open_own(const char *uri, char **err) DROVER_WUR;

/* Opens @uri directly (outside a pool) with the same bounded wait.
 * Returns a connection the caller closes, or NULL with @err (may be NULL) set to a
 * string the caller frees. */
virConnectPtr lv_open(const char *uri, int timeout_s, char **err) DROVER_WUR;

#endif
