/* kube_queue: a work queue of string keys ("namespace/name"), deduplicated and
 * level-triggered, with per-key exponential backoff — client-go's rate-limited workqueue. */
#include "controller/kube/kube_queue.h"
#include "reconcile/clk.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 4096

/* One tracked key. It lives while it is dirty, processing, delayed or has failures. */
struct item {
	char *key;
	bool dirty;               /* to be processed (queued, or re-queued after done) */
	bool processing;
	bool queued;              /* in the FIFO */
	double ready_at;          /* monotonic time of a delayed add; 0 = none */
	int failures;
	struct item *hnext;       /* hash chain */
	struct item *qnext;       /* FIFO link */
	struct item *dnext;       /* delayed list link */
};

struct kube_queue {
	struct kube_queue_options opt;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *buckets[BUCKETS];
	size_t n_items;
	struct item *head, *tail;     /* FIFO of queued items */
	size_t n_queued;
	struct item *delayed;         /* items with ready_at set, unordered */
	bool shutting_down;
};

void kube_queue_options_default(struct kube_queue_options *o)
{
	o->base_delay_s = 0.005;
	o->max_delay_s = 1000;
	o->max_keys = 100000;
}

struct kube_queue *kube_queue_new(const struct kube_queue_options *o)
{
	struct kube_queue *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;

	if (!q)
		return NULL;
	if (o)
		q->opt = *o;
	else
		kube_queue_options_default(&q->opt);
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	return q;
}

void kube_queue_free(struct kube_queue *q)
{
	if (!q)
		return;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct item *it = q->buckets[b], *next;

		for (; it; it = next) {
			next = it->hnext;
			free(it->key);
			free(it);
		}
	}
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static size_t bucket_of(const char *key)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % BUCKETS;
}

static struct item *find(struct kube_queue *q, const char *key)
{
	for (struct item *it = q->buckets[bucket_of(key)]; it; it = it->hnext)
		if (!strcmp(it->key, key))
			return it;
	return NULL;
}

/* Finds or makes the item of @key. Returns NULL when the key is too long, the queue is full,
 * or out of memory. */
static struct item *lookup(struct kube_queue *q, const char *key)
{
	struct item *it = find(q, key);
	size_t b;

	if (it)
		return it;
	if (strlen(key) >= KUBE_QUEUE_KEY_MAX || q->n_items >= q->opt.max_keys) {
		errno = ENOSPC;
		return NULL;
	}
	it = calloc(1, sizeof(*it));
	if (!it || !(it->key = strdup(key))) {
		free(it);
		return NULL;
	}
	b = bucket_of(key);
	it->hnext = q->buckets[b];
	q->buckets[b] = it;
	q->n_items++;
	return it;
}

/* Drops @it when nothing refers to it any more. */
static void maybe_release(struct kube_queue *q, struct item *it)
{
	struct item **pp;

	if (it->dirty || it->processing || it->queued || it->ready_at > 0 || it->failures > 0)
		return;
	for (pp = &q->buckets[bucket_of(it->key)]; *pp && *pp != it; pp = &(*pp)->hnext)
		;
	if (*pp)
		*pp = it->hnext;
	q->n_items--;
	free(it->key);
	free(it);
}

static void enqueue(struct kube_queue *q, struct item *it)
{
	it->queued = true;
	it->qnext = NULL;
	if (q->tail)
		q->tail->qnext = it;
	else
		q->head = it;
	q->tail = it;
	q->n_queued++;
	pthread_cond_signal(&q->cond);
}

/* client-go's Add: dirty once; not queued while processing (done re-queues it). */
static void add_locked(struct kube_queue *q, struct item *it)
{
	if (it->dirty)
		return;
	it->dirty = true;
	if (!it->processing)
		enqueue(q, it);
}

int kube_queue_add(struct kube_queue *q, const char *key)
{
	struct item *it;
	int rc = -1;

	pthread_mutex_lock(&q->lock);
	if (q->shutting_down || !(it = lookup(q, key)))
		goto cleanup;
	add_locked(q, it);
	rc = 0;
cleanup:
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static int add_after_locked(struct kube_queue *q, const char *key, double delay_s)
{
	struct item *it;
	double at;

	if (q->shutting_down || !(it = lookup(q, key)))
		return -1;
	if (delay_s <= 0) {
		add_locked(q, it);
		return 0;
	}
	at = clk_mono() + delay_s;
	if (it->ready_at > 0) {
		if (at < it->ready_at)
			it->ready_at = at;
	} else {
		it->ready_at = at;
		it->dnext = q->delayed;
		q->delayed = it;
	}
	/* A getter may be sleeping past the new time. */
	pthread_cond_broadcast(&q->cond);
	return 0;
}

int kube_queue_add_after(struct kube_queue *q, const char *key, double delay_s)
{
	int rc;

	pthread_mutex_lock(&q->lock);
	rc = add_after_locked(q, key, delay_s);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static double when_locked(struct kube_queue *q, struct item *it)
{
	double d = q->opt.base_delay_s;

	/* Doubling stops at the cap, so the loop is short whatever the count. */
	for (int i = 0; i < it->failures && d < q->opt.max_delay_s; i++)
		d *= 2;
	if (it->failures < 1000000)
		it->failures++;
	return d > q->opt.max_delay_s ? q->opt.max_delay_s : d;
}

double kube_queue_when(struct kube_queue *q, const char *key)
{
	struct item *it;
	double d = -1;

	pthread_mutex_lock(&q->lock);
	if ((it = lookup(q, key)))
		d = when_locked(q, it);
	pthread_mutex_unlock(&q->lock);
	return d;
}

int kube_queue_add_rate_limited(struct kube_queue *q, const char *key)
{
	struct item *it;
	int rc = -1;

	pthread_mutex_lock(&q->lock);
	if (!q->shutting_down && (it = lookup(q, key)))
		rc = add_after_locked(q, key, when_locked(q, it));
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void kube_queue_forget(struct kube_queue *q, const char *key)
{
	struct item *it;

	pthread_mutex_lock(&q->lock);
	if ((it = find(q, key))) {
		it->failures = 0;
		maybe_release(q, it);
	}
	pthread_mutex_unlock(&q->lock);
}

int kube_queue_num_requeues(struct kube_queue *q, const char *key)
{
	struct item *it;
	int n;

	pthread_mutex_lock(&q->lock);
	it = find(q, key);
	n = it ? it->failures : 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* Moves delayed items whose time came into the queue. Returns the earliest time still
 * pending, or 0 when none. */
static double fire_delayed(struct kube_queue *q, double now)
{
	struct item **pp = &q->delayed;
	double next = 0;

	while (*pp) {
		struct item *it = *pp;

		if (it->ready_at <= now) {
			*pp = it->dnext;
			it->dnext = NULL;
			it->ready_at = 0;
			add_locked(q, it);
			continue;
		}
		if (next == 0 || it->ready_at < next)
			next = it->ready_at;
		pp = &it->dnext;
	}
	return next;
}

int kube_queue_get(struct kube_queue *q, double timeout_s, char *key, size_t len)
{
	double deadline = clk_mono() + (timeout_s > 0 ? timeout_s : 0);
	struct item *it;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		double now = clk_mono(), next = fire_delayed(q, now), until = deadline;
		struct timespec ts;

		if (q->head)
			break;
		if (q->shutting_down) {
			rc = -1;
			goto cleanup;
		}
		if (now >= deadline)
			goto cleanup;
		if (next > 0 && next < until)
			until = next;
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		pthread_cond_timedwait(&q->cond, &q->lock, &ts);
	}
	it = q->head;
	q->head = it->qnext;
	if (!q->head)
		q->tail = NULL;
	q->n_queued--;
	it->qnext = NULL;
	it->queued = false;
	it->dirty = false;
	it->processing = true;
	if (len) {
		size_t n = strlen(it->key) < len - 1 ? strlen(it->key) : len - 1;

		memcpy(key, it->key, n);
		key[n] = '\0';
	}
	rc = 1;
cleanup:
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void kube_queue_done(struct kube_queue *q, const char *key)
{
	struct item *it;

	pthread_mutex_lock(&q->lock);
	it = find(q, key);
	if (it && it->processing) {
		it->processing = false;
		if (it->dirty)
			enqueue(q, it);
		else
			maybe_release(q, it);
	}
	pthread_mutex_unlock(&q->lock);
}

size_t kube_queue_len(struct kube_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->n_queued;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void kube_queue_shutdown(struct kube_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->shutting_down = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}
