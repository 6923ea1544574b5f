/* kube_writer: status and events written to the API from a thread of its own. */
#include "controller/kube/kube_writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/kube/kube_status.h"
#include "reconcile/clk.h"

#define KUBE_WRITER_KEY_MAX 600
#define KUBE_WRITER_IDLE_WAIT_S 1.0
#define KUBE_WRITER_BACKOFF_BASE_S 0.5
#define KUBE_WRITER_BACKOFF_CAP_S 30.0

/* The kinds whose status drover writes; an entry names its kind by index. */
static const struct kube_resource *const kube_writer_kinds[] = {&kube_res_host, &kube_res_vm,
							  &kube_res_migration};
#define KUBE_WRITER_N_KINDS (sizeof(kube_writer_kinds) / sizeof(kube_writer_kinds[0]))

struct kube_writer_event_item {
	json_t *regarding;
	char *reason, *note, *type, *action;
};

struct kube_writer {
	struct kube_client *c;
	char *instance;
	kube_writer_lookup_fn lookup;
	void *opaque;
	pthread_mutex_t lock;
	pthread_cond_t work;      /* something to write, or stop */
	pthread_cond_t idle;      /* a write ended */
	/* "plural/ns/name" → {"kind", "ns", "name", "uid", "status", "pending", "tries", "after",
	 * and "create" (the object to make first) for a record of drover's not made yet} */
	json_t *known;
	size_t n_pending;
	struct kube_writer_event_item events[KUBE_WRITER_MAX_EVENTS];
	size_t ev_head, ev_n;
	unsigned dropped;
	bool busy, stop;
	pthread_t thread;
};

/* One status write taken out of the table, done without the lock. */
struct kube_writer_job {
	char key[KUBE_WRITER_KEY_MAX];
	const struct kube_resource *res;
	char *ns, *name, *uid;
	json_t *status;
	json_t *create;           /* the object to make first, or NULL */
};

enum kube_writer_outcome { KUBE_WRITER_DONE = 0, KUBE_WRITER_GONE, KUBE_WRITER_RETRY };

json_t *kube_writer_merge_diff(const json_t *from, const json_t *to)
{
	json_t *patch = json_object(), *v;
	const char *key;

	if (!patch)
		return NULL;
	if (json_is_object(from))
		json_object_foreach((json_t *)from, key, v)
			if (!json_object_get(to, key) && json_object_set_new(patch, key, json_null()) < 0)
				goto fail;
	if (!json_is_object(to))
		return patch;
	json_object_foreach((json_t *)to, key, v) {
		json_t *old = json_is_object(from) ? json_object_get(from, key) : NULL, *d;

		if (old && json_equal(old, v))
			continue;
		d = json_is_object(old) && json_is_object(v) ? kube_writer_merge_diff(old,
				   v) : json_deep_copy(v);
		if (!d || json_object_set_new(patch, key, d) < 0)
			goto fail;
	}
	return patch;
fail:
	json_decref(patch);
	return NULL;
}

static int kind_index(const struct kube_resource *res)
{
	for (size_t i = 0; i < KUBE_WRITER_N_KINDS; i++)
		if (kube_writer_kinds[i] == res)
			return (int)i;
	return -1;
}

static int make_key(char *buf, size_t len, const struct kube_resource *res, const char *ns,
		    const char *name)
{
	int n = snprintf(buf, len, "%s/%s/%s", res->plural, ns, name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const char *entry_str(const json_t *e, const char *field)
{
	return json_string_value(json_object_get(e, field));
}

/* Queues @status (stolen) of @res @ns/@name: of the object @uid, or (@create not NULL, also
 * stolen) of a record to make first. Returns 0, or -1. */
static int queue_status(struct kube_writer *w, const struct kube_resource *res, const char *ns,
			const char *name, const char *uid, json_t *status, json_t *create)
{
	char key[KUBE_WRITER_KEY_MAX];
	json_t *e = NULL;
	int rc = -1;

	if (!status || kind_index(res) < 0 || make_key(key, sizeof(key), res, ns, name) < 0) {
		json_decref(status);
		json_decref(create);
		return -1;
	}
	pthread_mutex_lock(&w->lock);
	e = json_object_get(w->known, key);
	if (!e && json_object_size(w->known) >= KUBE_WRITER_MAX_OBJECTS)
		goto cleanup;
	if (!e) {
		e = json_pack("{s:i,s:s,s:s,s:b,s:i,s:f}", "kind", kind_index(res), "ns", ns, "name", name,
			      "pending", 0, "tries", 0, "after", 0.0);
		if (!e || json_object_set_new(w->known, key, e) < 0)
			goto cleanup;
	}
	if (create) {
		/* Made already (its uid known): from now on it is an object like any other. */
		const char *made = entry_str(e, "uid");
		if (!made || !*made) {
			if (json_object_set_new(e, "uid", json_string("")) < 0 ||
			    json_object_set(e, "create", create) < 0)
				goto cleanup;
		}
	} else if (json_object_set_new(e, "uid", json_string(uid)) < 0) {
		goto cleanup;
	}
	if (json_object_set(e, "status", status) < 0)
		goto cleanup;
	if (!json_is_true(json_object_get(e, "pending"))) {
		/* "after" first: a status marked pending is counted and sent, never stranded. */
		if (json_object_set_new(e, "after", json_real(0)) < 0 ||
		    json_object_set_new(e, "pending", json_true()) < 0)
			goto cleanup;
		w->n_pending++;
		pthread_cond_signal(&w->work);
	}
	rc = 0;
cleanup:
	pthread_mutex_unlock(&w->lock);
	json_decref(status);
	json_decref(create);
	return rc;
}

int kube_writer_status(struct kube_writer *w, const struct kube_resource *res, const char *ns,
		       const char *name, const char *uid, json_t *status)
{
	return queue_status(w, res, ns, name, uid, status, NULL);
}

int kube_writer_record(struct kube_writer *w, const struct kube_resource *res, json_t *object)
{
	json_t *meta = json_object_get(object, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	json_t *status = json_incref(json_object_get(object, "status"));
	int rc;

	if (!ns || !name || !status) {
		json_decref(status);
		json_decref(object);
		return -1;
	}
	json_object_del(object, "status");   /* made without it: status is its subresource's */
	rc = queue_status(w, res, ns, name, NULL, status, json_incref(object));
	json_decref(object);
	return rc;
}

json_t *kube_writer_known(struct kube_writer *w, const struct kube_resource *res, const char *ns,
		  const char *name, const char *uid)
{
	char key[KUBE_WRITER_KEY_MAX];
	json_t *st = NULL;

	if (!uid || make_key(key, sizeof(key), res, ns, name) < 0)
		return NULL;
	pthread_mutex_lock(&w->lock);
	json_t *e = json_object_get(w->known, key);
	const char *had = entry_str(e, "uid");
	/* A record of drover's being made is known by its name alone: the informer may deliver
	 * it, status still empty, before its uid is learnt, and a pass that took it for a new
	 * request would write Pending over its outcome. */
	if (had && (!strcmp(had, uid) || json_object_get(e, "create")))
		st = json_incref(json_object_get(e, "status"));
	pthread_mutex_unlock(&w->lock);
	return st;
}

void kube_writer_prune(struct kube_writer *w, const struct kube_resource *res, const json_t *live)
{
	const char *key;
	json_t *e;
	void *tmp;
	int kind = kind_index(res);

	pthread_mutex_lock(&w->lock);
	json_object_foreach_safe(w->known, tmp, key, e) {
		char short_key[KUBE_WRITER_KEY_MAX];

		if (json_integer_value(json_object_get(e, "kind")) != kind)
			continue;
		snprintf(short_key, sizeof(short_key), "%s/%s", entry_str(e, "ns"), entry_str(e, "name"));
		/* A record of drover's not made yet is not in the cache: it is not gone. Nor is
		 * one with a write still owed (made, and the watch not caught up): its write asks
		 * the API server, which says when it is gone. */
		if (json_object_get(live, short_key) || json_object_get(e, "create") ||
		    json_is_true(json_object_get(e, "pending")))
			continue;
		json_object_del(w->known, key);
	}
	pthread_mutex_unlock(&w->lock);
}

static void event_item_free(struct kube_writer_event_item *it)
{
	json_decref(it->regarding);
	free(it->reason);
	free(it->note);
	free(it->type);
	free(it->action);
	memset(it, 0, sizeof(*it));
}

int kube_writer_event(struct kube_writer *w, const struct kube_event *ev)
{
	struct kube_writer_event_item it = {
		.regarding = json_deep_copy(ev->regarding), .reason = strdup(ev->reason),
		.note = ev->note ? strdup(ev->note) : NULL, .type = strdup(ev->type),
		.action = strdup(ev->action)};
	int rc = -1;

	pthread_mutex_lock(&w->lock);
	if (it.regarding && it.reason && it.type && it.action && (!ev->note || it.note) &&
	    w->ev_n < KUBE_WRITER_MAX_EVENTS) {
		w->events[(w->ev_head + w->ev_n++) % KUBE_WRITER_MAX_EVENTS] = it;
		pthread_cond_signal(&w->work);
		rc = 0;
	} else {
		w->dropped++;
	}
	pthread_mutex_unlock(&w->lock);
	if (rc < 0)
		event_item_free(&it);
	return rc;
}

/* Takes the next status due into @j (lock held). Returns true with @j filled, false with
 * *@wait_s set to when the next one is due. */
static bool take_status(struct kube_writer *w, struct kube_writer_job *j, double *wait_s)
{
	double now = clk_mono();
	const char *key;
	json_t *e;

	*wait_s = KUBE_WRITER_IDLE_WAIT_S;
	if (!w->n_pending)
		return false;
	json_object_foreach(w->known, key, e) {
		double after = json_real_value(json_object_get(e, "after"));

		if (!json_is_true(json_object_get(e, "pending")))
			continue;
		if (after > now) {
			*wait_s = after - now < *wait_s ? after - now : *wait_s;
			continue;
		}
		snprintf(j->key, sizeof(j->key), "%s", key);
		j->res = kube_writer_kinds[json_integer_value(json_object_get(e, "kind"))];
		j->ns = strdup(entry_str(e, "ns"));
		j->name = strdup(entry_str(e, "name"));
		j->uid = strdup(entry_str(e, "uid") ? entry_str(e, "uid") : "");
		j->status = json_incref(json_object_get(e, "status"));
		j->create = json_incref(json_object_get(e, "create"));
		/* Replaces a member that exists with a constant: cannot fail. */
		(void)json_object_set_new(e, "pending", json_false());
		w->n_pending--;
		return true;
	}
	return false;
}

static void job_free(struct kube_writer_job *j)
{
	free(j->ns);
	free(j->name);
	free(j->uid);
	json_decref(j->status);
	json_decref(j->create);
	memset(j, 0, sizeof(*j));
}

/* Makes drover's record @j->create through the API. Returns the object as the API server
 * stored it (a new reference), or NULL (then the write is tried again). */
static json_t *create_record(struct kube_writer *w, const struct kube_writer_job *j)
{
	struct kube_response r;
	char path[512];
	json_t *made = NULL;

	if (kube_path(path, sizeof(path), j->res, j->ns, NULL, NULL) < 0)
		return NULL;
	if (kube_request(w->c, "POST", path, j->create, NULL, &r) == 0 &&
	    (r.code == 201 || r.code == 200))
		made = json_incref(r.body);
	else
		kube_logf(w->c, KUBE_LOG_WARN, "record %s %s/%s not made: HTTP %ld %s %s",
			  j->res->kind, j->ns, j->name, r.code, r.reason, r.message);
	kube_response_free(&r);
	return made;
}

/* The object @j is about as the informer caches it into *@cur; one it does not show (a
 * record of drover's just made, the watch not caught up yet; or deleted) as the API server
 * has it. *@cur is NULL when neither has it (never seen: no uid yet; or the API says 404).
 * Returns 0, or -1 when the API server could not be asked (the write is tried again). */
static int current(struct kube_writer *w, const struct kube_writer_job *j, json_t **cur)
{
	struct kube_response r;
	char path[512];
	int rc = -1;

	*cur = w->lookup(w->opaque, j->res, j->ns, j->name);
	if (*cur || !*j->uid)
		return 0;
	if (kube_path(path, sizeof(path), j->res, j->ns, j->name, NULL) < 0)
		return -1;
	if (kube_request(w->c, "GET", path, NULL, NULL, &r) == 0 && r.code == 200) {
		*cur = json_incref(r.body);
		rc = 0;
	} else if (r.code == 404) {
		rc = 0;
	}
	kube_response_free(&r);
	return rc;
}

/* Writes what differs between the cached object's status and @j's; a record of drover's
 * is made first (@j->uid becomes its uid). */
static enum kube_writer_outcome write_status(struct kube_writer *w, struct kube_writer_job *j)
{
	struct kube_response r;
	json_t *cur, *diff = NULL;
	enum kube_writer_outcome out = KUBE_WRITER_RETRY;
	const char *uid;

	if (!j->ns || !j->name || !j->uid)
		return KUBE_WRITER_RETRY;
	if (current(w, j, &cur) < 0)
		return KUBE_WRITER_RETRY;
	if (!cur && j->create && !(cur = create_record(w, j)))
		return KUBE_WRITER_RETRY;
	uid = json_string_value(json_object_get(json_object_get(cur, "metadata"), "uid"));
	if (j->create && uid && !*j->uid) {
		char *mine = strdup(uid);   /* by its unique name: the record made for this move */
		if (!mine) {
			json_decref(cur);
			return KUBE_WRITER_RETRY;
		}
		free(j->uid);
		j->uid = mine;
	}
	if (!cur || !uid || strcmp(uid, j->uid)) {
		json_decref(cur);
		return KUBE_WRITER_GONE;   /* deleted, or deleted and made again: not ours to write */
	}
	diff = kube_writer_merge_diff(json_object_get(cur, "status"), j->status);
	json_decref(cur);
	if (!diff)
		return KUBE_WRITER_RETRY;
	if (json_object_size(diff) == 0) {
		json_decref(diff);
		return KUBE_WRITER_DONE;
	}
	if (kube_status_patch(w->c, j->res, j->ns, j->name, diff, NULL, &r) == 0)
		out = KUBE_WRITER_DONE;
	else if (r.code == 404)
		out = KUBE_WRITER_GONE;
	else
		kube_logf(w->c, KUBE_LOG_WARN, "status of %s %s/%s: HTTP %ld %s %s", j->res->kind, j->ns,
			  j->name, r.code, r.reason, r.message);
	kube_response_free(&r);
	json_decref(diff);
	return out;
}

/* Records the outcome of @j (lock held): a failed write is tried again after a backoff,
 * unless a newer status is already waiting. */
static void finish_status(struct kube_writer *w, const struct kube_writer_job *j,
			  enum kube_writer_outcome out)
{
	json_t *e = json_object_get(w->known, j->key);
	json_int_t tries = json_integer_value(json_object_get(e, "tries"));
	double backoff = KUBE_WRITER_BACKOFF_BASE_S;

	if (!e)
		return;
	/* The record exists now: later writes are status writes to it. Out of memory, the
	 * create is kept and tried again (the API answers 409, and the uid is learnt then). */
	if (j->create && *j->uid && json_object_set_new(e, "uid", json_string(j->uid)) == 0)
		json_object_del(e, "create");
	/* Out of memory below, "tries" and "after" keep their values: a retry comes sooner, and
	 * "pending" (a constant into a member that exists) is always set. */
	if (out != KUBE_WRITER_RETRY) {
		(void)json_object_set_new(e, "tries", json_integer(0));
		return;
	}
	for (json_int_t i = 0; i < tries && backoff < KUBE_WRITER_BACKOFF_CAP_S; i++)
		backoff *= 2;
	(void)json_object_set_new(e, "tries", json_integer(tries + 1));
	if (json_is_true(json_object_get(e, "pending")))
		return;
	(void)json_object_set_new(e, "after", json_real(clk_mono() +
						  (backoff < KUBE_WRITER_BACKOFF_CAP_S ? backoff : KUBE_WRITER_BACKOFF_CAP_S)));
	(void)json_object_set_new(e, "pending", json_true());
	w->n_pending++;
}

static void send_event(struct kube_writer *w, struct kube_writer_event_item *it)
{
	struct kube_event ev = {.regarding = it->regarding, .reason = it->reason, .note = it->note,
				.type = it->type, .action = it->action,
				.reporting_instance = w->instance};
	struct kube_response r;

	if (kube_event_create(w->c, &ev, NULL, &r) < 0) {
		/* Best effort: kube_event_create logged it, and there is nothing more to do. */
	}
	kube_response_free(&r);
}

/* Does one piece of work (lock held on entry and exit). Returns false when there was none
 * due, with *@wait_s set. */
static bool work_once(struct kube_writer *w, double *wait_s)
{
	struct kube_writer_job j;

	memset(&j, 0, sizeof(j));
	if (take_status(w, &j, wait_s)) {
		w->busy = true;
		pthread_mutex_unlock(&w->lock);
		enum kube_writer_outcome out = write_status(w, &j);
		pthread_mutex_lock(&w->lock);
		finish_status(w, &j, out);
		job_free(&j);
	} else if (w->ev_n) {
		struct kube_writer_event_item it = w->events[w->ev_head];

		memset(&w->events[w->ev_head], 0, sizeof(it));
		w->ev_head = (w->ev_head + 1) % KUBE_WRITER_MAX_EVENTS;
		w->ev_n--;
		w->busy = true;
		pthread_mutex_unlock(&w->lock);
		send_event(w, &it);
		event_item_free(&it);
		pthread_mutex_lock(&w->lock);
	} else {
		return false;
	}
	w->busy = false;
	pthread_cond_broadcast(&w->idle);
	return true;
}

static void deadline_after(struct timespec *ts, double seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)seconds;
	ts->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *writer_main(void *arg)
{
	struct kube_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		double wait_s;
		struct timespec until;

		if (work_once(w, &wait_s))
			continue;
		deadline_after(&until, wait_s > 0.001 ? wait_s : 0.001);
		pthread_cond_timedwait(&w->work, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Frees @w once its thread is not running (or never ran). */
static void destroy(struct kube_writer *w)
{
	for (size_t i = 0; i < w->ev_n; i++)
		event_item_free(&w->events[(w->ev_head + i) % KUBE_WRITER_MAX_EVENTS]);
	json_decref(w->known);
	free(w->instance);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct kube_writer *kube_writer_new(struct kube_client *c, const char *instance,
				    kube_writer_lookup_fn lookup, void *opaque)
{
	struct kube_writer *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;

	if (!w)
		return NULL;
	w->c = c;
	w->lookup = lookup;
	w->opaque = opaque;
	w->instance = strdup(instance);
	w->known = json_object();
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->work, &attr);
	pthread_cond_init(&w->idle, &attr);
	pthread_condattr_destroy(&attr);
	if (!w->instance || !w->known || pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		destroy(w);
		return NULL;
	}
	return w;
}

bool kube_writer_drain(struct kube_writer *w, double timeout_s)
{
	struct timespec until;
	bool empty;

	deadline_after(&until, timeout_s);
	pthread_mutex_lock(&w->lock);
	while ((w->n_pending || w->ev_n || w->busy) &&
	       pthread_cond_timedwait(&w->idle, &w->lock, &until) == 0)
		;
	empty = !w->n_pending && !w->ev_n && !w->busy;
	if (w->dropped)
		kube_logf(w->c, KUBE_LOG_WARN, "events dropped (queue full): %u", w->dropped);
	pthread_mutex_unlock(&w->lock);
	return empty;
}

void kube_writer_free(struct kube_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	destroy(w);
}
