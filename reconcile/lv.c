/* lv: libvirt connections to every Host, with libvirt's event loop, keepalive,
 * close callbacks, domain lifecycle events and reconnection with backoff. */
#include "reconcile/lv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "reconcile/clk.h"

#define LV_BACKOFF_MIN_MS 500
/* A host that went away is tried at least this often: its return is noticed (its stale
 * copies deleted, its capacity usable) within seconds, not at the next resync. */
#define LV_BACKOFF_MAX_MS 8000
#define LV_CONNECT_TIMEOUT_S 10
/* Keepalive: a probe every 5 s, the connection dropped after 3 unanswered. */
#define LV_KEEPALIVE_INTERVAL_S 5
#define LV_KEEPALIVE_COUNT 3

static pthread_once_t event_once = PTHREAD_ONCE_INIT;
static int event_init_rc = -1;

static void *event_loop(void *arg)
{
	(void)arg;
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

/* drover reports libvirt errors itself, with context; libvirt's default handler
 * would print them a second time on stderr. */
static void silent_error(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

static void event_init_once(void)
{
	pthread_t thread;

	virSetErrorFunc(NULL, silent_error);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		fprintf(stderr, "drover: cannot start libvirt's event loop: %s\n",
			virGetLastErrorMessage());
		return;
	}
	if (pthread_create(&thread, NULL, event_loop, NULL) != 0) {
		fprintf(stderr, "drover: cannot start libvirt's event thread\n");
		return;
	}
	pthread_detach(thread);
	event_init_rc = 0;
}

int lv_global_init(void)
{
	pthread_once(&event_once, event_init_once);
	return event_init_rc;
}

/* ---- opening a connection with a bounded wait ---- */

/* One connection attempt, shared by the caller and the thread making it. Whoever
 * lets go last frees it; a late connection is closed by the thread. */
struct open_job {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	int refs;
	bool done;
	char *uri;
	virConnectPtr conn;
	char *error;
};

static void open_job_unref(struct open_job *job)
{
	pthread_mutex_lock(&job->lock);
	int left = --job->refs;
	pthread_mutex_unlock(&job->lock);
	if (left)
		return;
	if (job->conn)
		virConnectClose(job->conn);
	free(job->uri);
	free(job->error);
	pthread_mutex_destroy(&job->lock);
	pthread_cond_destroy(&job->done_cond);
	free(job);
}

static void *open_thread(void *arg)
{
	struct open_job *job = arg;
	virConnectPtr conn = virConnectOpen(job->uri);
	char *error = conn ? NULL : strdup(virGetLastErrorMessage());

	pthread_mutex_lock(&job->lock);
	job->conn = conn;
	job->error = error;
	job->done = true;
	pthread_cond_broadcast(&job->done_cond);
	pthread_mutex_unlock(&job->lock);
	open_job_unref(job);
	return NULL;
}

/* Starts connecting to @uri in a thread. Returns the job (one reference for the
 * caller), or NULL when out of resources. */
static struct open_job *open_start(const char *uri)
{
	struct open_job *job = calloc(1, sizeof(*job));
	pthread_t thread;

	if (!job)
		return NULL;
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->done_cond, NULL);
	job->refs = 2;
	job->uri = strdup(uri);
	if (!job->uri || pthread_create(&thread, NULL, open_thread, job) != 0) {
		job->refs = 1;
		open_job_unref(job);
		return NULL;
	}
	pthread_detach(thread);
	return job;
}

/* Waits for @job until monotonic time @deadline, then drops the caller's reference.
 * Returns the connection (now the caller's), or NULL with *@err set (caller frees). */
static virConnectPtr open_finish(struct open_job *job, double deadline, char **err)
{
	struct timespec until = clk_realtime_after(deadline - clk_mono());
	virConnectPtr conn = NULL;

	pthread_mutex_lock(&job->lock);
	while (!job->done)
		if (pthread_cond_timedwait(&job->done_cond, &job->lock, &until) == ETIMEDOUT)
			break;
	if (job->done) {
		conn = job->conn;
		job->conn = NULL;
		if (!conn && err)
			*err = strdup(job->error ? job->error : "connection failed");
	} else if (err) {
		*err = strdup("no answer within the connect timeout");
	}
	pthread_mutex_unlock(&job->lock);
	open_job_unref(job);
	return conn;
}

virConnectPtr lv_open(const char *uri, int timeout_s, char **err)
{
	struct open_job *job;

	if (err)
		*err = NULL;
	if (lv_global_init() < 0 || !(job = open_start(uri))) {
		if (err)
			*err = strdup("cannot start a connection attempt");
		return NULL;
	}
	return open_finish(job, clk_mono() + timeout_s, err);
}

virConnectPtr lv_open_own(const char *uri, char **err)
{
	/* A local test driver gives every connection a private instance of its file: a second
	 * connection would not see the first one's domains. */
	if (!strncmp(uri, "test:///", 8)) {
		if (err)
			*err = strdup("a local test driver has no second connection to its state");
		return NULL;
	}
	virConnectPtr conn = lv_open(uri, LV_CONNECT_TIMEOUT_S, err);

	if (conn)
		virConnectSetKeepAlive(conn, LV_KEEPALIVE_INTERVAL_S, LV_KEEPALIVE_COUNT);
	return conn;
}

/* ---- the pool ---- */

void lv_pool_init(struct lv_pool *pool, lv_wake_fn wake, void *opaque)
{
	memset(pool, 0, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pool->wake = wake;
	pool->wake_opaque = opaque;
}

/* What libvirt's event thread hands back to us: the pool and the host's name
 * (the name, not an index, since the pool's array can move). */
struct host_ref {
	struct lv_pool *pool;
	char *name;
};

static void host_ref_free(void *opaque)
{
	struct host_ref *ref = opaque;
	if (ref)
		free(ref->name);
	free(ref);
}

static struct host_ref *host_ref_new(struct lv_pool *pool, const char *name)
{
	struct host_ref *ref = calloc(1, sizeof(*ref));
	if (ref && !(ref->name = strdup(name))) {
		free(ref);
		return NULL;
	}
	if (ref)
		ref->pool = pool;
	return ref;
}

static struct lv_host *find_host(struct lv_pool *pool, const char *name)
{
	for (size_t i = 0; i < pool->n; i++)
		if (pool->hosts[i].name && !strcmp(pool->hosts[i].name, name))
			return &pool->hosts[i];
	return NULL;
}

/* Invalidates host @ref's cache: events may have been missed. Takes the pool's lock. */
static void ref_invalidate(struct host_ref *ref)
{
	pthread_mutex_lock(&ref->pool->lock);
	struct lv_host *h = find_host(ref->pool, ref->name);
	if (h) {
		h->closed = true;
		invc_invalidate(&h->cache);
	}
	pthread_mutex_unlock(&ref->pool->lock);
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct host_ref *ref = opaque;
	(void)conn;
	(void)reason;

	ref_invalidate(ref);
	if (ref->pool->wake)
		ref->pool->wake(ref->pool->wake_opaque, ref->name);
}

/* Records on host @ref's cache that domain @dom may have changed as @mark says, and wakes
 * the loop when @wake. */
static void ref_mark(struct host_ref *ref, virDomainPtr dom, enum invc_mark mark, bool wake)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	bool known = dom && virDomainGetUUIDString(dom, uuid) == 0;

	pthread_mutex_lock(&ref->pool->lock);
	struct lv_host *h = find_host(ref->pool, ref->name);
	if (h && known)
		invc_mark(&h->cache, uuid, mark);
	else if (h)
		invc_invalidate(&h->cache);
	pthread_mutex_unlock(&ref->pool->lock);
	if (wake && ref->pool->wake)
		ref->pool->wake(ref->pool->wake_opaque, ref->name);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
			void *opaque)
{
	(void)conn;
	ref_mark(opaque, dom, invc_lifecycle_mark(event, detail), true);
	return 0;
}

/* drover's ownership element, or any other metadata, was edited. */
static void on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{
	(void)conn;
	(void)type;
	(void)nsuri;
	ref_mark(opaque, dom, INVC_DEFINITION, true);
}

/* A job ended: its domain's job is read again on the next pass, no wake of its own (the
 * lifecycle events of a move wake the loop). */
static void on_job_completed(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
			     int nparams, void *opaque)
{
	(void)conn;
	(void)params;
	(void)nparams;
	ref_mark(opaque, dom, INVC_JOB, false);
}

/* A migration is under way on this domain (someone's, or drover's): its job is read again
 * on the next pass, so a move started between full reads is still waited for. */
static void on_migration_iteration(virConnectPtr conn, virDomainPtr dom, int iteration,
				   void *opaque)
{
	(void)conn;
	(void)iteration;
	ref_mark(opaque, dom, INVC_JOB, false);
}

/* The running guest's tuning was changed (by someone else: drover's own changes make the
 * next pass read the host in full): its live side is read again, and tuning converges. */
static void on_tunable(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
		       int nparams, void *opaque)
{
	(void)conn;
	(void)params;
	(void)nparams;
	ref_mark(opaque, dom, INVC_DEFINITION, true);
}

/* A device was plugged into or out of the running guest: it may now differ from its
 * definition (a restart it waits for, or no longer). */
static void on_device(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
	(void)conn;
	(void)alias;
	ref_mark(opaque, dom, INVC_DEFINITION, true);
}

static void host_disconnect(struct lv_host *h)
{
	if (!h->conn)
		return;
	/* The close callback goes first: with the host cut off, each deregistration below
	 * waits on its RPC until keepalive gives the connection up, and libvirt then calls
	 * the close callback in this very thread. */
	virConnectUnregisterCloseCallback(h->conn, on_close);
	for (int i = 0; i < LV_N_EVENTS; i++)
		if (h->event_cb[i] >= 0)
			virConnectDomainEventDeregisterAny(h->conn, h->event_cb[i]);
	virConnectClose(h->conn);
	host_ref_free(h->close_ref);
	h->close_ref = NULL;
	h->conn = NULL;
	for (int i = 0; i < LV_N_EVENTS; i++)
		h->event_cb[i] = -1;
}

static void host_clear(struct lv_host *h)
{
	host_disconnect(h);
	invc_free(&h->cache);
	free(h->name);
	free(h->uri);
	free(h->error);
	memset(h, 0, sizeof(*h));
}

/* Registers domain event @id with @cb on @h's connection. Returns the callback id, or -1. */
static int watch_event(struct lv_pool *pool, struct lv_host *h, int id,
		       virConnectDomainEventGenericCallback cb)
{
	struct host_ref *ref = host_ref_new(pool, h->name);
	int cb_id = ref ? virConnectDomainEventRegisterAny(h->conn, NULL, id, cb, ref,
							   host_ref_free)
			: -1;
	if (cb_id < 0)
		host_ref_free(ref);
	return cb_id;
}

/* Takes ownership of a fresh connection for @h: keepalive, close callback and domain
 * events. A host whose callbacks cannot be registered still works; its cache is then
 * never trusted (every pass reads it in full), and a change behind drover's back is seen
 * by that read. */
static void host_adopt(struct lv_pool *pool, struct lv_host *h, virConnectPtr conn)
{
	static const int ids[LV_N_EVENTS] = {
		VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
		VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
		VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
		VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED};
	const virConnectDomainEventGenericCallback cbs[LV_N_EVENTS] = {
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), VIR_DOMAIN_EVENT_CALLBACK(on_metadata),
		VIR_DOMAIN_EVENT_CALLBACK(on_job_completed),
		VIR_DOMAIN_EVENT_CALLBACK(on_migration_iteration),
		VIR_DOMAIN_EVENT_CALLBACK(on_tunable), VIR_DOMAIN_EVENT_CALLBACK(on_device),
		VIR_DOMAIN_EVENT_CALLBACK(on_device)};
	struct host_ref *close_ref = host_ref_new(pool, h->name);
	bool watched = true;

	h->conn = conn;
	h->closed = false;
	h->backoff_ms = 0;
	h->next_try = 0;
	free(h->error);
	h->error = NULL;
	virConnectSetKeepAlive(conn, LV_KEEPALIVE_INTERVAL_S, LV_KEEPALIVE_COUNT);
	/* The host owns the reference, not libvirt: drivers without close callbacks (test:///)
	 * return 0 yet never call a free callback, which leaked it. */
	if (close_ref && virConnectRegisterCloseCallback(conn, on_close, close_ref, NULL) == 0)
		h->close_ref = close_ref;
	else
		host_ref_free(close_ref);
	for (int i = 0; i < LV_N_EVENTS; i++)
		watched &= (h->event_cb[i] = watch_event(pool, h, ids[i], cbs[i])) >= 0;
	/* Whatever happened while not connected is unknown. Without every event the cache
	 * would miss changes: it is invalidated on every pass (lv_host_cache). */
	pthread_mutex_lock(&pool->lock);
	invc_invalidate(&h->cache);
	h->unwatched = !watched;
	pthread_mutex_unlock(&pool->lock);
}

static void host_failed(struct lv_host *h, char *error)
{
	free(h->error);
	h->error = error ? error : strdup("connection failed");
	h->backoff_ms = h->backoff_ms ? h->backoff_ms * 2 : LV_BACKOFF_MIN_MS;
	if (h->backoff_ms > LV_BACKOFF_MAX_MS)
		h->backoff_ms = LV_BACKOFF_MAX_MS;
	h->next_try = clk_mono() + h->backoff_ms / 1000.0;
}

/* Drops a connection that libvirt reported closed, or that no longer answers. */
static void host_check_alive(struct lv_pool *pool, struct lv_host *h)
{
	pthread_mutex_lock(&pool->lock);
	bool closed = h->closed;
	pthread_mutex_unlock(&pool->lock);
	if (h->conn && (closed || virConnectIsAlive(h->conn) != 1)) {
		host_disconnect(h);
		host_failed(h, strdup("connection lost"));
		h->next_try = 0; /* reconnect at once the first time */
	}
}

int lv_pool_sync(struct lv_pool *pool, const struct crd_set *set)
{
	/* Drop hosts no longer declared, or whose URI changed. */
	for (size_t i = 0; i < pool->n;) {
		const struct crd_host *want = NULL;
		for (size_t j = 0; j < set->n_hosts && !want; j++)
			if (!strcmp(set->hosts[j].meta.name, pool->hosts[i].name))
				want = &set->hosts[j];
		if (want && !strcmp(want->spec.uri, pool->hosts[i].uri)) {
			i++;
			continue;
		}
		/* Out of the array under the lock, closed outside it: closing a cut-off host
		 * waits on RPCs until keepalive gives up, and keepalive runs in libvirt's event
		 * thread, whose callbacks take this lock (ref_mark): held here, one event from
		 * any other host stopped keepalive and froze drover until TCP gave up. */
		pthread_mutex_lock(&pool->lock);
		struct lv_host gone = pool->hosts[i];
		pool->hosts[i] = pool->hosts[--pool->n];
		pthread_mutex_unlock(&pool->lock);
		host_clear(&gone);
	}
	for (size_t j = 0; j < set->n_hosts; j++) {
		const struct crd_host *want = &set->hosts[j];
		if (find_host(pool, want->meta.name))
			continue;
		pthread_mutex_lock(&pool->lock);
		struct lv_host *grown = realloc(pool->hosts, (pool->n + 1) * sizeof(*grown));
		if (grown)
			pool->hosts = grown;
		pthread_mutex_unlock(&pool->lock);
		if (!grown)
			return -1;
		struct lv_host *h = &pool->hosts[pool->n];
		memset(h, 0, sizeof(*h));
		for (int k = 0; k < LV_N_EVENTS; k++)
			h->event_cb[k] = -1;
		invc_init(&h->cache);
		h->name = strdup(want->meta.name);
		h->uri = strdup(want->spec.uri);
		if (!h->name || !h->uri) {
			host_clear(h);
			return -1;
		}
		pool->n++;
	}
	return 0;
}

void lv_connect_all(struct lv_pool *pool, int timeout_s)
{
	struct open_job **jobs = calloc(pool->n ? pool->n : 1, sizeof(*jobs));
	double now = clk_mono(), deadline = now + timeout_s;

	if (!jobs || lv_global_init() < 0) {
		free(jobs);
		return;
	}
	for (size_t i = 0; i < pool->n; i++) {
		struct lv_host *h = &pool->hosts[i];
		host_check_alive(pool, h);
		if (!h->conn && h->next_try <= now)
			jobs[i] = open_start(h->uri);
	}
	for (size_t i = 0; i < pool->n; i++) {
		char *err = NULL;
		if (!jobs[i])
			continue;
		virConnectPtr conn = open_finish(jobs[i], deadline, &err);
		if (conn)
			host_adopt(pool, &pool->hosts[i], conn);
		else
			host_failed(&pool->hosts[i], err);
	}
	free(jobs);
}

virConnectPtr lv_connect(struct lv_pool *pool, const char *name)
{
	struct lv_host *h = find_host(pool, name);
	char *err = NULL;

	if (!h)
		return NULL;
	host_check_alive(pool, h);
	if (h->conn || h->next_try > clk_mono())
		return h->conn;
	virConnectPtr conn = lv_open(h->uri, LV_CONNECT_TIMEOUT_S, &err);
	if (conn)
		host_adopt(pool, h, conn);
	else
		host_failed(h, err);
	return h->conn;
}

void lv_host_changed(struct lv_pool *pool, const char *name)
{
	if (!name)
		return;
	pthread_mutex_lock(&pool->lock);
	struct lv_host *h = find_host(pool, name);
	if (h)
		invc_invalidate(&h->cache);
	pthread_mutex_unlock(&pool->lock);
}

struct invc *lv_host_cache(struct lv_pool *pool, const char *name)
{
	struct lv_host *h = find_host(pool, name);

	if (!h)
		return NULL;
	if (h->unwatched) {
		pthread_mutex_lock(&pool->lock);
		invc_invalidate(&h->cache);
		pthread_mutex_unlock(&pool->lock);
	}
	return &h->cache;
}

const char *lv_host_error(struct lv_pool *pool, const char *name)
{
	struct lv_host *h = find_host(pool, name);
	if (!h)
		return "no such host";
	return h->conn ? NULL : h->error ? h->error : "not connected";
}

double lv_reconnect_due_in(struct lv_pool *pool)
{
	double now = clk_mono(), due = -1;

	pthread_mutex_lock(&pool->lock);
	for (size_t i = 0; i < pool->n; i++) {
		const struct lv_host *h = &pool->hosts[i];
		/* Never sooner than the shortest backoff: a pass that left a host untried must not
		 * make the loop spin. */
		double left = h->next_try - now > LV_BACKOFF_MIN_MS / 1000.0 ? h->next_try - now
									   : LV_BACKOFF_MIN_MS / 1000.0;
		if (!h->conn && (due < 0 || left < due))
			due = left;
	}
	pthread_mutex_unlock(&pool->lock);
	return due;
}

void lv_mark_broken(struct lv_pool *pool, const char *name)
{
	pthread_mutex_lock(&pool->lock);
	struct lv_host *h = find_host(pool, name);
	if (h) {
		h->closed = true;
		invc_invalidate(&h->cache);
	}
	pthread_mutex_unlock(&pool->lock);
}

void lv_pool_free(struct lv_pool *pool)
{
	if (!pool)
		return;
	/* Every connection closed before any host is cleared: a callback that libvirt still
	 * delivers while one closes (its event thread, or the closing thread itself) looks
	 * its host up by name in the whole pool. A stop crashed there once (the soak: a host
	 * cut off, SIGTERM). */
	for (size_t i = 0; i < pool->n; i++)
		host_disconnect(&pool->hosts[i]);
	for (size_t i = 0; i < pool->n; i++)
		host_clear(&pool->hosts[i]);
	free(pool->hosts);
	pool->hosts = NULL;
	pool->n = 0;
	pthread_mutex_destroy(&pool->lock);
}
