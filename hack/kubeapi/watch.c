/* kubeapi test server: watch streams over the store's event history. */
#include "watch.h"
#include "objects.h"
#include "select.h"
#include "store.h"
#include "table.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events are pulled until this much is queued; one stream never buffers more than BUF_MAX. */
#define FLUSH_AT (256 * 1024)
#define BUF_MAX (64 * 1024 * 1024)
/* Longest watch: the real server ends watches after 30-60 minutes too. */
#define WATCH_MAX_SECONDS 1800
/* Upper bound on the one-second waits of one read, on top of the deadline. */
#define MAX_WAIT_ROUNDS (WATCH_MAX_SECONDS + 10)

int kas_watch_bookmark_interval = 5;

struct watcher {
	char *group, *version, *plural, *rkey, *ns, *include, *kind, *api_version;
	struct kas_selector *sel;
	bool table, bookmarks, done;
	uint64_t last_rv;
	unsigned long epoch;
	int fd;
	time_t deadline, last_bookmark;
	struct kas_buf out;  /* queued event lines */
	size_t off;          /* bytes of @out already sent */
};

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void watcher_release(struct watcher *w)
{
	if (!w)
		return;
	free(w->group);
	free(w->version);
	free(w->plural);
	free(w->rkey);
	free(w->ns);
	free(w->include);
	free(w->kind);
	free(w->api_version);
	kas_selector_free(w->sel);
	kas_buf_free(&w->out);
	free(w);
}

/* MHD's free callback: runs without the store lock once the stream is over. */
static void watcher_free(void *cls)
{
	kas_store_lock();
	kas_store_watcher_del();
	kas_store_unlock();
	watcher_release(cls);
}

/* Appends one event line; @object is stolen. Returns 0, or -1 when the buffer cap is hit. */
static int queue(struct watcher *w, const char *type, json_t *object)
{
	json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", object ? object : json_null());
	char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	size_t n = line ? strlen(line) : 0;
	int rc = -1;

	/* The line and its newline go in whole or not at all. */
	if (line && w->out.len + n + 1 <= BUF_MAX && kas_buf_append(&w->out, line, n, BUF_MAX) == 0)
		rc = kas_buf_append(&w->out, "\n", 1, BUF_MAX);
	free(line);
	json_decref(ev);
	return rc;
}

/* The object as this watch shows it: its apiVersion, or a one-row Table. */
static json_t *present(struct watcher *w, json_t *obj)
{
	const struct kas_rtype *rt = kas_registry_find(w->group, w->version, w->plural);
	json_t *one, *table;

	if (!rt)
		return json_deep_copy(obj);
	if (!w->table)
		return kas_obj_present(rt, obj);
	one = json_pack("[O]", obj);
	table = kas_table(rt, one, w->include, NULL);
	json_decref(one);
	return table;
}

static bool wanted(struct watcher *w, json_t *obj)
{
	const char *ns = kas_json_str(obj, "metadata.namespace");

	if (w->ns && (!ns || strcmp(ns, w->ns)))
		return false;
	return kas_selector_match(w->sel, obj);
}

static void queue_bookmark(struct watcher *w, bool initial_end)
{
	char rv[24];
	json_t *obj;

	snprintf(rv, sizeof(rv), "%" PRIu64, w->last_rv);
	obj = json_pack("{s:s, s:s, s:{s:s}}", "kind", w->kind, "apiVersion", w->api_version, "metadata",
			"resourceVersion", rv);
	if (obj && initial_end)
		json_object_set_new(json_object_get(obj, "metadata"), "annotations",
				    json_pack("{s:s}", "k8s.io/initial-events-end", "true"));
	w->last_bookmark = mono_now();
	if (queue(w, "BOOKMARK", obj) < 0)
		w->done = true;
}

static void queue_expired(struct watcher *w)
{
	json_t *st = kas_status_new(410, "Expired", "too old resource version: %" PRIu64 " (%" PRIu64 ")",
				    w->last_rv, kas_store_compacted());

	if (queue(w, "ERROR", st) < 0)
		kas_log("watch: cannot queue the 410 event");
	w->done = true;
}

/* The type event @e has for this watch, or NULL when it does not concern it. As on the real
 * server, a change that makes an object match the selectors is ADDED for the watch, and one
 * that makes it stop matching is DELETED. */
static const char *event_for(struct watcher *w, const struct kas_event *e)
{
	bool now, before;

	if (strcmp(e->rkey, w->rkey))
		return NULL;
	now = wanted(w, e->obj);
	if (strcmp(e->type, "MODIFIED") || !e->prev)
		return now ? e->type : NULL;
	before = wanted(w, e->prev);
	if (now)
		return before ? "MODIFIED" : "ADDED";
	return before ? "DELETED" : NULL;
}

/* Queues the recorded events after last_rv that this watch wants. */
static void pull(struct watcher *w)
{
	const struct kas_event *e = kas_store_event_after(w->last_rv);

	while (e && w->out.len < FLUSH_AT) {
		const char *type = event_for(w, e);

		if (type && queue(w, type, present(w, e->obj)) < 0)
			break;
		w->last_rv = e->rv;
		e = kas_store_event_after(e->rv);
	}
	/* Everything seen: later bookmarks may name the newest revision even if it was filtered. */
	if (!e && kas_store_rv() > w->last_rv)
		w->last_rv = kas_store_rv();
}

static bool peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Waits until there is something to send. Returns 0 (data queued), 1 (end the stream cleanly)
 * or -1 (drop the connection). Store lock held. */
static int fill(struct watcher *w)
{
	for (int round = 0; round < MAX_WAIT_ROUNDS; round++) {
		if (kas_store_stopping() || kas_store_epoch() != w->epoch)
			return 1;
		if (w->last_rv < kas_store_compacted()) {
			queue_expired(w);
			return 0;
		}
		pull(w);
		if (w->out.len > 0)
			return 0;
		if (w->bookmarks && mono_now() - w->last_bookmark >= kas_watch_bookmark_interval) {
			queue_bookmark(w, false);
			return 0;
		}
		if (mono_now() >= w->deadline)
			return 1;
		if (peer_gone(w->fd))
			return -1;
		kas_store_wait(1000);
	}
	return 1;
}

static ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watcher *w = cls;
	size_t n;

	(void)pos;
	if (w->off == w->out.len) {
		int rc = 0;

		w->off = w->out.len = 0;
		if (w->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		kas_store_lock();
		rc = fill(w);
		kas_store_unlock();
		if (rc)
			return rc > 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = w->out.len - w->off < max ? w->out.len - w->off : max;
	memcpy(buf, w->out.data + w->off, n);
	w->off += n;
	return (ssize_t)n;
}

static int initial_one(void *ctx, const char *skey, json_t *obj)
{
	struct watcher *w = ctx;

	(void)skey;
	if (wanted(w, obj) && queue(w, "ADDED", present(w, obj)) < 0)
		return 1;
	return 0;
}

/* Where the stream starts: synthetic ADDED events for "" and "0", history after N otherwise. */
static int start_point(struct watcher *w, const struct kas_request *req, struct kas_reply *out)
{
	const char *rv = kas_arg(req, "resourceVersion");

	if (rv && *rv && strcmp(rv, "0")) {
		if (kas_parse_u64(rv, &w->last_rv) < 0) {
			kas_reply_status(out, 400, "BadRequest", "invalid resourceVersion \"%s\"", rv);
			return -1;
		}
		return 0;
	}
	w->last_rv = kas_store_rv();
	if (kas_store_scan(w->rkey, NULL, initial_one, w) != 0) {
		kas_reply_status(out, 500, "InternalError", "the initial events do not fit in a watch buffer");
		return -1;
	}
	if (kas_arg_bool(req, "sendInitialEvents") && w->bookmarks)
		queue_bookmark(w, true);
	return 0;
}

static int watcher_setup(struct watcher *w, const struct kas_request *req, struct kas_reply *out)
{
	const struct kas_rtype *rt = req->rt;
	const char *timeout = kas_arg(req, "timeoutSeconds");
	json_t *av = kas_obj_api_version(rt);
	uint64_t secs = WATCH_MAX_SECONDS;
	char *err = NULL;

	w->group = strdup(rt->group);
	w->version = strdup(rt->version);
	w->plural = strdup(rt->plural);
	w->rkey = strdup(rt->rkey);
	w->kind = strdup(rt->kind);
	w->api_version = strdup(json_string_value(av) ? json_string_value(av) : "");
	w->ns = (rt->namespaced && req->ns) ? strdup(req->ns) : NULL;
	w->include = kas_arg(req, "includeObject") ? strdup(kas_arg(req, "includeObject")) : NULL;
	json_decref(av);
	if (!w->group || !w->version || !w->plural || !w->rkey || !w->kind || !w->api_version) {
		kas_reply_status(out, 500, "InternalError", "out of memory");
		return -1;
	}
	if (kas_selector_parse(kas_arg(req, "labelSelector"), kas_arg(req, "fieldSelector"), req->rt->custom, &w->sel, &err) < 0) {
		kas_reply_status(out, 400, "BadRequest", "%s", err ? err : "bad selector");
		free(err);
		return -1;
	}
	if (timeout && kas_parse_u64(timeout, &secs) == 0 && secs > 0 && secs < WATCH_MAX_SECONDS)
		w->deadline = mono_now() + (time_t)secs;
	else
		w->deadline = mono_now() + WATCH_MAX_SECONDS;
	w->bookmarks = kas_arg_bool(req, "allowWatchBookmarks");
	w->table = kas_table_wanted(req->accept);
	w->epoch = kas_store_epoch();
	return start_point(w, req, out);
}

struct MHD_Response *kas_watch_start(const struct kas_request *req, int fd, struct kas_reply *out)
{
	struct watcher *w;
	struct MHD_Response *resp = NULL;

	if (kas_store_watcher_add() < 0) {
		kas_reply_status(out, 429, "TooManyRequests", "too many open watches");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		kas_reply_status(out, 500, "InternalError", "out of memory");
		goto fail;
	}
	w->fd = fd;
	if (watcher_setup(w, req, out) < 0)
		goto fail;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, watch_read, w, watcher_free);
	if (!resp) {
		kas_reply_status(out, 500, "InternalError", "cannot create the watch response");
		goto fail;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
fail:
	/* The caller holds the store lock: undo the count here, not through watcher_free. */
	kas_store_watcher_del();
	watcher_release(w);
	return NULL;
}
