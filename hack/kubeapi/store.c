/* kubeapi test server: objects, resourceVersion, bounded event history, watcher wake-ups. */
#include "store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *rkey;
	char *skey;  /* "ns/name", "/name" when cluster-scoped */
	json_t *obj;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	uint64_t rv, compacted;
	struct entry *objs;
	size_t nobjs, max_objs;
	struct kas_event *ring;
	size_t cap, head, count;
	unsigned long epoch;
	size_t watchers, max_watchers;
	bool stopping;
} st = { .mu = PTHREAD_MUTEX_INITIALIZER };

int kas_store_init(size_t history, size_t max_objects, size_t max_watchers)
{
	pthread_condattr_t attr;

	if (history == 0 || max_objects == 0)
		return -1;
	st.objs = calloc(max_objects, sizeof(*st.objs));
	st.ring = calloc(history, sizeof(*st.ring));
	if (!st.objs || !st.ring)
		return -1;
	st.cap = history;
	st.max_objs = max_objects;
	st.max_watchers = max_watchers;
	/* A monotonic clock, so a stepped wall clock can't stall or spin watchers. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&st.cond, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

static void event_clear(struct kas_event *e)
{
	free(e->rkey);
	json_decref(e->obj);
	json_decref(e->prev);
	memset(e, 0, sizeof(*e));
}

void kas_store_free(void)
{
	for (size_t i = 0; i < st.nobjs; i++) {
		free(st.objs[i].rkey);
		free(st.objs[i].skey);
		json_decref(st.objs[i].obj);
	}
	for (size_t i = 0; st.ring && i < st.cap; i++)
		event_clear(&st.ring[i]);
	free(st.objs);
	free(st.ring);
	st.objs = NULL;
	st.ring = NULL;
	st.nobjs = st.count = 0;
}

void kas_store_lock(void)
{
	pthread_mutex_lock(&st.mu);
}

void kas_store_unlock(void)
{
	pthread_mutex_unlock(&st.mu);
}

void kas_store_wait(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&st.cond, &st.mu, &ts);
}

uint64_t kas_store_rv(void)
{
	return st.rv;
}

uint64_t kas_store_compacted(void)
{
	return st.compacted;
}

uint64_t kas_store_next_rv(void)
{
	return ++st.rv;
}

static int entry_cmp(const struct entry *e, const char *rkey, const char *skey)
{
	int c = strcmp(e->rkey, rkey);

	return c ? c : strcmp(e->skey, skey);
}

/* Index of the first entry not below (rkey, skey); sets *found when it is equal. */
static size_t lower_bound(const char *rkey, const char *skey, bool *found)
{
	size_t lo = 0, hi = st.nobjs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry_cmp(&st.objs[mid], rkey, skey) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < st.nobjs && entry_cmp(&st.objs[lo], rkey, skey) == 0;
	return lo;
}

json_t *kas_store_get(const char *rkey, const char *ns, const char *name)
{
	char *skey = kas_printf("%s/%s", ns, name);
	bool found = false;
	size_t i;

	if (!skey)
		return NULL;
	i = lower_bound(rkey, skey, &found);
	free(skey);
	return found ? st.objs[i].obj : NULL;
}

/* Records an event; @prev (stolen, may be NULL) is the state @obj replaced. */
static void record(const char *rkey, json_t *obj, const char *type, json_t *prev)
{
	struct kas_event *e;

	if (st.count == st.cap) {
		/* The oldest event falls out of the window: watches from before it get 410. */
		st.compacted = st.ring[st.head].rv;
		event_clear(&st.ring[st.head]);
		st.head = (st.head + 1) % st.cap;
		st.count--;
	}
	e = &st.ring[(st.head + st.count) % st.cap];
	e->rkey = strdup(rkey);
	if (!e->rkey) {
		json_decref(prev);
		kas_store_compact();
		return;
	}
	e->rv = kas_obj_rv(obj);
	e->type = type;
	e->obj = json_incref(obj);
	e->prev = prev;
	st.count++;
	pthread_cond_broadcast(&st.cond);
}

int kas_store_put(const char *rkey, const char *ns, const char *name, json_t *obj, const char *type)
{
	char *skey = kas_printf("%s/%s", ns, name);
	char *rkey_copy = NULL;
	bool found = false;
	size_t i;
	struct entry *e;

	if (!skey)
		goto fail;
	i = lower_bound(rkey, skey, &found);
	if (found) {
		free(skey);
		record(rkey, obj, type, st.objs[i].obj);
		st.objs[i].obj = obj;
		return 0;
	}
	if (st.nobjs >= st.max_objs || !(rkey_copy = strdup(rkey)))
		goto fail;
	e = &st.objs[i];
	memmove(e + 1, e, (st.nobjs - i) * sizeof(*e));
	st.nobjs++;
	e->rkey = rkey_copy;
	e->skey = skey;
	e->obj = obj;
	record(rkey, obj, type, NULL);
	return 0;
fail:
	free(skey);
	json_decref(obj);
	return -1;
}

void kas_store_del(const char *rkey, const char *ns, const char *name, json_t *last)
{
	char *skey = kas_printf("%s/%s", ns, name);
	bool found = false;
	size_t i;

	if (skey && rkey) {
		i = lower_bound(rkey, skey, &found);
		if (found) {
			free(st.objs[i].rkey);
			free(st.objs[i].skey);
			json_decref(st.objs[i].obj);
			memmove(&st.objs[i], &st.objs[i + 1], (st.nobjs - i - 1) * sizeof(st.objs[0]));
			st.nobjs--;
		}
	}
	free(skey);
	if (last)
		record(rkey, last, "DELETED", NULL);
	json_decref(last);
}

int kas_store_scan(const char *rkey, const char *after, int (*fn)(void *ctx, const char *skey, json_t *obj),
		   void *ctx)
{
	bool found = false;
	size_t i = lower_bound(rkey, after ? after : "", &found);
	int rc = 0;

	if (found)
		i++;
	for (; i < st.nobjs && rc == 0 && !strcmp(st.objs[i].rkey, rkey); i++)
		rc = fn(ctx, st.objs[i].skey, st.objs[i].obj);
	return rc;
}

const struct kas_event *kas_store_event_after(uint64_t rv)
{
	size_t lo = 0, hi = st.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st.ring[(st.head + mid) % st.cap].rv <= rv)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st.count ? &st.ring[(st.head + lo) % st.cap] : NULL;
}

void kas_store_compact(void)
{
	for (size_t i = 0; i < st.cap; i++)
		event_clear(&st.ring[i]);
	st.head = st.count = 0;
	st.compacted = st.rv;
	pthread_cond_broadcast(&st.cond);
}

void kas_store_cut_watches(void)
{
	st.epoch++;
	pthread_cond_broadcast(&st.cond);
}

unsigned long kas_store_epoch(void)
{
	return st.epoch;
}

void kas_store_stop(void)
{
	st.stopping = true;
	pthread_cond_broadcast(&st.cond);
}

bool kas_store_stopping(void)
{
	return st.stopping;
}

int kas_store_watcher_add(void)
{
	if (st.watchers >= st.max_watchers)
		return -1;
	st.watchers++;
	return 0;
}

void kas_store_watcher_del(void)
{
	if (st.watchers > 0)
		st.watchers--;
}
