/* kube_watch: an informer per kind — list (paginated), then watch from the list's
 * resourceVersion with bookmarks, reconnecting when the stream ends and relisting on 410
 * Gone — keeping a thread-safe cache of the objects keyed "namespace/name". */
#include "controller/kube/kube_watch.h"
#include "controller/kube/kube_stream.h"
#include "reconcile/clk.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_MAX        (64 + 253 + 2)  /* namespace "/" name */
#define RV_MAX         64
#define LIST_RESTARTS  3               /* lists begun again after their continue token expired */
#define MAX_PAGES      100000

struct kube_informer {
	struct kube_client *c;
	struct kube_informer_options o;
	char *ns, *selector;
	pthread_t thread;
	bool running;
	int stop;                         /* atomic */
	pthread_mutex_t lock;             /* guards everything below */
	pthread_cond_t synced_cond;
	json_t *cache;                    /* key → object */
	char rv[RV_MAX];
	bool synced;
	struct kube_informer_stats stats;
	unsigned seed;
};

/* One change to tell the handler about, collected under the lock and sent after it. */
struct change {
	enum kube_event_type type;
	json_t *old, *obj;
};

int kube_obj_key(const json_t *obj, char *buf, size_t len)
{
	const char *ns = kube_obj_ns(obj), *name = kube_obj_name(obj);
	int n;

	if (!name || !*name)
		return -1;
	n = ns && *ns ? snprintf(buf, len, "%s/%s", ns, name) : snprintf(buf, len, "%s", name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void emit(struct kube_informer *inf, struct change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (inf->o.handler)
			inf->o.handler(inf->o.opaque, ch[i].type, ch[i].old, ch[i].obj);
		json_decref(ch[i].old);
		json_decref(ch[i].obj);
	}
}

/* Builds the collection path with @extra query parameters already set by the caller. */
static int collection_path(struct kube_informer *inf, char *buf, size_t len)
{
	if (kube_path(buf, len, inf->o.res, inf->ns, NULL, NULL) < 0)
		return -1;
	if (inf->selector && kube_path_query(buf, len, "labelSelector", inf->selector) < 0)
		return -1;
	return 0;
}

/* Lists objects page by page into @fresh and the list's resourceVersion into @rv. Returns
 * 0, 1 when the continue token expired (410: begin again), -1 on failure. */
static int list_pages(struct kube_informer *inf, json_t *fresh, char *rv, size_t rvlen)
{
	char cont[4096] = "", path[KUBE_PATH_MAX], limit[16];
	int rc = -1;

	snprintf(limit, sizeof(limit), "%u", inf->o.page_limit);
	rv[0] = '\0';
	for (int page = 0; page < MAX_PAGES; page++) {
		struct kube_call call = { .method = "GET", .path = path, .stop = &inf->stop };
		struct kube_response r;
		const char *next, *list_rv, *api_version;
		json_t *items, *item;
		size_t i;

		if (collection_path(inf, path, sizeof(path)) < 0 ||
		    kube_path_query(path, sizeof(path), "limit", limit) < 0 ||
		    (*cont && kube_path_query(path, sizeof(path), "continue", cont) < 0))
			return -1;
		if (kube_call(inf->c, &call, &r) < 0 || r.code != 200) {
			rc = r.code == 410 ? 1 : -1;
			if (rc < 0)
				kube_logf(inf->c, KUBE_LOG_WARN, "list %s: %ld %s %s", inf->o.res->plural, r.code,
					  r.reason, r.message);
			kube_response_free(&r);
			return rc;
		}
		list_rv = json_string_value(json_object_get(json_object_get(r.body, "metadata"), "resourceVersion"));
		if (!rv[0] && list_rv)
			snprintf(rv, rvlen, "%s", list_rv);
		api_version = json_string_value(json_object_get(r.body, "apiVersion"));
		items = json_object_get(r.body, "items");
		json_array_foreach(items, i, item) {
			char key[KEY_MAX];

			if (kube_obj_key(item, key, sizeof(key)) < 0)
				continue;
			/* Lists of built-in kinds leave kind and apiVersion out of the items. An
			 * item left out of @fresh would read as deleted: the list fails whole. */
			if ((!json_object_get(item, "kind") &&
			     json_object_set_new(item, "kind", json_string(inf->o.res->kind)) < 0) ||
			    (!json_object_get(item, "apiVersion") && api_version &&
			     json_object_set_new(item, "apiVersion", json_string(api_version)) < 0) ||
			    json_object_set(fresh, key, item) < 0) {
				kube_logf(inf->c, KUBE_LOG_ERROR, "list %s: out of memory", inf->o.res->plural);
				kube_response_free(&r);
				return -1;
			}
		}
		next = json_string_value(json_object_get(json_object_get(r.body, "metadata"), "continue"));
		snprintf(cont, sizeof(cont), "%s", next ? next : "");
		kube_response_free(&r);
		if (json_object_size(fresh) > inf->o.max_objects) {
			kube_logf(inf->c, KUBE_LOG_ERROR, "list %s: more than %zu objects", inf->o.res->plural,
				  inf->o.max_objects);
			return -1;
		}
		if (!*cont)
			return rv[0] ? 0 : -1;
	}
	return -1;
}

/* Lists every object and replaces the cache, telling the handler what changed since the
 * cache was last right (adds, updates, and deletes of objects missing from the list).
 * Returns 0, or -1 on failure (the cache is kept). */
static int relist(struct kube_informer *inf)
{
	json_t *fresh = NULL, *obj, *old_cache;
	struct change *ch = NULL;
	size_t n = 0, cap;
	char rv[RV_MAX];
	const char *key;
	void *tmp;
	int rc = 1;

	for (int attempt = 0; attempt < LIST_RESTARTS && rc == 1; attempt++) {
		json_decref(fresh);
		fresh = json_object();
		if (!fresh)
			return -1;
		rc = list_pages(inf, fresh, rv, sizeof(rv));
	}
	if (rc != 0) {
		json_decref(fresh);
		return -1;
	}
	pthread_mutex_lock(&inf->lock);
	old_cache = inf->cache;
	cap = json_object_size(fresh) + json_object_size(old_cache);
	ch = calloc(cap ? cap : 1, sizeof(*ch));
	if (!ch) {
		pthread_mutex_unlock(&inf->lock);
		json_decref(fresh);
		return -1;
	}
	json_object_foreach(fresh, key, obj) {
		json_t *old = json_object_get(old_cache, key);
		const char *orv = kube_obj_rv(old), *nrv = kube_obj_rv(obj);

		if (old && orv && nrv && !strcmp(orv, nrv))
			continue;
		ch[n].type = old ? KUBE_EV_MODIFIED : KUBE_EV_ADDED;
		ch[n].old = json_incref(old);
		ch[n++].obj = json_incref(obj);
	}
	json_object_foreach_safe(old_cache, tmp, key, obj) {
		if (json_object_get(fresh, key))
			continue;
		ch[n].type = KUBE_EV_DELETED;
		ch[n].old = json_incref(obj);
		ch[n++].obj = json_incref(obj);
	}
	inf->cache = fresh;
	snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
	inf->stats.lists++;
	pthread_mutex_unlock(&inf->lock);
	json_decref(old_cache);
	emit(inf, ch, n);
	free(ch);
	/* Synced once the handler has had the first list too: a controller that waits for it
	 * has every key queued. */
	pthread_mutex_lock(&inf->lock);
	inf->synced = true;
	pthread_cond_broadcast(&inf->synced_cond);
	pthread_mutex_unlock(&inf->lock);
	return 0;
}

/* ---- watch ---- */

enum watch_end { WATCH_ENDED = 0, WATCH_GONE, WATCH_FAILED };

struct watch_ctx {
	struct kube_informer *inf;
	enum watch_end end;
	unsigned events;
};

/* Applies one ADDED/MODIFIED/DELETED event to the cache and tells the handler. Returns 0,
 * or -1 when the cache could not take the object (out of memory): the caller relists, as
 * the cache no longer matches the API. */
static int apply_event(struct kube_informer *inf, enum kube_event_type type, json_t *obj)
{
	struct change ch = { .type = type };
	char key[KEY_MAX];
	const char *rv = kube_obj_rv(obj);
	json_t *old;
	int rc = 0;

	if (kube_obj_key(obj, key, sizeof(key)) < 0)
		return 0;
	pthread_mutex_lock(&inf->lock);
	if (rv)
		snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
	old = json_object_get(inf->cache, key);
	if (type == KUBE_EV_DELETED) {
		if (old) {
			ch.old = json_incref(old);
			ch.obj = json_incref(obj);
			json_object_del(inf->cache, key);
		}
	} else if (!(old && rv && kube_obj_rv(old) && !strcmp(kube_obj_rv(old), rv))) {
		/* A replay of what the list already showed changes nothing. */
		if (json_object_size(inf->cache) >= inf->o.max_objects && !old) {
			kube_logf(inf->c, KUBE_LOG_ERROR, "%s: cache full (%zu objects): %s dropped",
				  inf->o.res->plural, inf->o.max_objects, key);
		} else {
			/* Held before the set: the set drops the cache's reference, often the
			 * last one, and the handler compares against what the object was. */
			ch.old = json_incref(old);
			if (json_object_set(inf->cache, key, obj) < 0) {
				kube_logf(inf->c, KUBE_LOG_ERROR,
					  "%s: out of memory caching %s: relisting",
					  inf->o.res->plural, key);
				json_decref(ch.old);
				ch.old = NULL;
				rc = -1;
			} else {
				ch.type = old ? KUBE_EV_MODIFIED : KUBE_EV_ADDED;
				ch.obj = json_incref(obj);
			}
		}
	}
	pthread_mutex_unlock(&inf->lock);
	if (ch.obj)
		emit(inf, &ch, 1);
	return rc;
}

static void on_bookmark(struct kube_informer *inf, const char *rv)
{
	pthread_mutex_lock(&inf->lock);
	if (rv)
		snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
	inf->stats.bookmarks++;
	pthread_mutex_unlock(&inf->lock);
}

/* Takes one line of the watch stream. Returns 0 to go on, 1 to end the watch (w->end says
 * why). */
static int on_line(void *opaque, const char *line, size_t len)
{
	struct watch_ctx *w = opaque;
	struct kube_informer *inf = w->inf;
	struct kube_stream_event ev;
	char err[160];
	int rc = kube_stream_decode(line, len, &ev, err, sizeof(err));

	if (rc != 0) {
		if (rc > 0)
			return 0;
		kube_logf(inf->c, KUBE_LOG_WARN, "watch %s: an event that is not one: %s", inf->o.res->plural,
			  err);
		w->end = WATCH_FAILED;
		return 1;
	}
	switch (ev.type) {
	case KUBE_STREAM_ERROR:
		w->end = ev.gone ? WATCH_GONE : WATCH_FAILED;
		if (!ev.gone)
			kube_logf(inf->c, KUBE_LOG_WARN, "watch %s: ERROR %lld %s", inf->o.res->plural, ev.code,
				  ev.message ? ev.message : "");
		rc = 1;
		break;
	case KUBE_STREAM_BOOKMARK:
		on_bookmark(inf, ev.rv);
		break;
	case KUBE_STREAM_ADDED:
	case KUBE_STREAM_MODIFIED:
	case KUBE_STREAM_DELETED:
		if (apply_event(inf, ev.type == KUBE_STREAM_ADDED ? KUBE_EV_ADDED : ev.type == KUBE_STREAM_MODIFIED
				? KUBE_EV_MODIFIED : KUBE_EV_DELETED, ev.object) < 0) {
			w->end = WATCH_FAILED;
			rc = 1;
		}
		w->events++;
		break;
	}
	kube_stream_event_free(&ev);
	return rc;
}

/* Watches from the cached resourceVersion until the stream ends. */
static enum watch_end watch_once(struct kube_informer *inf, unsigned *events)
{
	struct watch_ctx w = { .inf = inf, .end = WATCH_ENDED };
	struct kube_response r;
	char path[KUBE_PATH_MAX], rv[RV_MAX], tmo[16];
	int timeout = inf->o.watch_timeout_s;

	/* Jitter spreads the reconnects of many informers. */
	timeout += (int)(rand_r(&inf->seed) % (unsigned)(timeout / 5 * 2 + 1)) - timeout / 5;
	if (timeout < 1)
		timeout = 1;
	snprintf(tmo, sizeof(tmo), "%d", timeout);
	kube_informer_rv(inf, rv, sizeof(rv));
	if (collection_path(inf, path, sizeof(path)) < 0 || kube_path_query(path, sizeof(path), "watch", "1") < 0 ||
	    kube_path_query(path, sizeof(path), "resourceVersion", rv) < 0 ||
	    kube_path_query(path, sizeof(path), "allowWatchBookmarks", "true") < 0 ||
	    kube_path_query(path, sizeof(path), "timeoutSeconds", tmo) < 0)
		return WATCH_FAILED;
	pthread_mutex_lock(&inf->lock);
	inf->stats.watches++;
	pthread_mutex_unlock(&inf->lock);
	if (kube_stream(inf->c, path, KUBE_WATCH_EVENT_MAX, (timeout + 30) * 1000L, &inf->stop, on_line, &w, &r) < 0) {
		if (!__atomic_load_n(&inf->stop, __ATOMIC_SEQ_CST))
			kube_logf(inf->c, KUBE_LOG_WARN, "watch %s: %s", inf->o.res->plural, r.message);
		w.end = WATCH_FAILED;
	} else if (r.code == 410) {
		w.end = WATCH_GONE;
	} else if (r.code != 200) {
		kube_logf(inf->c, KUBE_LOG_WARN, "watch %s: HTTP %ld %s %s", inf->o.res->plural, r.code, r.reason,
			  r.message);
		w.end = WATCH_FAILED;
	}
	kube_response_free(&r);
	*events = w.events;
	return w.end;
}

static void *informer_main(void *arg)
{
	struct kube_informer *inf = arg;
	double backoff = inf->o.backoff_base_s;
	bool need_list = true;

	while (!__atomic_load_n(&inf->stop, __ATOMIC_SEQ_CST)) {
		enum watch_end end = WATCH_FAILED;
		unsigned events = 0;
		double t0 = clk_mono();

		if (!need_list || relist(inf) == 0) {
			need_list = false;
			end = watch_once(inf, &events);
		}
		if (__atomic_load_n(&inf->stop, __ATOMIC_SEQ_CST))
			break;
		if (end == WATCH_GONE) {
			pthread_mutex_lock(&inf->lock);
			inf->stats.gone++;
			pthread_mutex_unlock(&inf->lock);
			kube_logf(inf->c, KUBE_LOG_INFO, "watch %s: resourceVersion too old (410): relisting",
				  inf->o.res->plural);
			need_list = true;
			continue;
		}
		if (end == WATCH_ENDED && (events > 0 || clk_mono() - t0 > 1.0)) {
			backoff = inf->o.backoff_base_s;
			continue;
		}
		/* A failure, or a stream that ended at once: wait, and relist after real failures. */
		if (end == WATCH_FAILED) {
			pthread_mutex_lock(&inf->lock);
			inf->stats.failures++;
			pthread_mutex_unlock(&inf->lock);
			need_list = true;
		}
		if (kube_sleep(inf->c, backoff, &inf->stop) < 0)
			break;
		backoff = backoff * 2 > inf->o.backoff_cap_s ? inf->o.backoff_cap_s : backoff * 2;
	}
	return NULL;
}

int kube_informer_start(struct kube_client *c, const struct kube_informer_options *o,
			struct kube_informer **out)
{
	struct kube_informer *inf = calloc(1, sizeof(*inf));
	pthread_condattr_t ca;

	*out = NULL;
	if (!inf)
		return -1;
	inf->c = c;
	inf->o = *o;
	if (!inf->o.page_limit)
		inf->o.page_limit = 500;
	if (!inf->o.max_objects)
		inf->o.max_objects = 100000;
	if (inf->o.watch_timeout_s <= 0)
		inf->o.watch_timeout_s = 300;
	if (inf->o.backoff_base_s <= 0)
		inf->o.backoff_base_s = 0.2;
	if (inf->o.backoff_cap_s <= 0)
		inf->o.backoff_cap_s = 30;
	inf->seed = (unsigned)time(NULL) ^ (unsigned)(size_t)inf;
	inf->cache = json_object();
	inf->ns = o->namespace ? strdup(o->namespace) : NULL;
	inf->selector = o->label_selector ? strdup(o->label_selector) : NULL;
	pthread_mutex_init(&inf->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inf->synced_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!inf->cache || (o->namespace && !inf->ns) || (o->label_selector && !inf->selector) ||
	    pthread_create(&inf->thread, NULL, informer_main, inf) != 0) {
		kube_informer_free(inf);
		return -1;
	}
	inf->running = true;
	*out = inf;
	return 0;
}

void kube_informer_request_stop(struct kube_informer *inf)
{
	if (inf)
		__atomic_store_n(&inf->stop, 1, __ATOMIC_SEQ_CST);
}

void kube_informer_stop(struct kube_informer *inf)
{
	if (!inf || !inf->running)
		return;
	__atomic_store_n(&inf->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(inf->thread, NULL);
	inf->running = false;
}

void kube_informer_free(struct kube_informer *inf)
{
	if (!inf)
		return;
	kube_informer_stop(inf);
	json_decref(inf->cache);
	free(inf->ns);
	free(inf->selector);
	pthread_cond_destroy(&inf->synced_cond);
	pthread_mutex_destroy(&inf->lock);
	free(inf);
}

bool kube_informer_wait_synced(struct kube_informer *inf, double timeout_s)
{
	double end = clk_mono() + timeout_s;
	bool synced;

	pthread_mutex_lock(&inf->lock);
	while (!inf->synced && clk_mono() < end) {
		struct timespec ts;
		double until = clk_mono() + 0.1 < end ? clk_mono() + 0.1 : end;

		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&inf->synced_cond, &inf->lock, &ts);
	}
	synced = inf->synced;
	pthread_mutex_unlock(&inf->lock);
	return synced;
}

json_t *kube_informer_get(struct kube_informer *inf, const char *ns, const char *name)
{
	char key[KEY_MAX];
	json_t *obj;

	if (ns && *ns)
		snprintf(key, sizeof(key), "%s/%s", ns, name);
	else
		snprintf(key, sizeof(key), "%s", name);
	pthread_mutex_lock(&inf->lock);
	obj = json_incref(json_object_get(inf->cache, key));
	pthread_mutex_unlock(&inf->lock);
	return obj;
}

json_t *kube_informer_list(struct kube_informer *inf)
{
	json_t *arr = json_array(), *obj;
	const char *key;

	if (!arr)
		return NULL;
	pthread_mutex_lock(&inf->lock);
	json_object_foreach(inf->cache, key, obj) {
		if (json_array_append(arr, obj) < 0) {
			json_decref(arr);
			arr = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&inf->lock);
	return arr;
}

size_t kube_informer_count(struct kube_informer *inf)
{
	size_t n;

	pthread_mutex_lock(&inf->lock);
	n = json_object_size(inf->cache);
	pthread_mutex_unlock(&inf->lock);
	return n;
}

void kube_informer_rv(struct kube_informer *inf, char *buf, size_t len)
{
	pthread_mutex_lock(&inf->lock);
	snprintf(buf, len, "%s", inf->rv);
	pthread_mutex_unlock(&inf->lock);
}

void kube_informer_stats(struct kube_informer *inf, struct kube_informer_stats *out)
{
	pthread_mutex_lock(&inf->lock);
	*out = inf->stats;
	pthread_mutex_unlock(&inf->lock);
}
