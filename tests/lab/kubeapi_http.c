/* kubeapi_http: raw HTTPS requests and watches against the kubeapi test server, and the
 * checks of Status replies the kubeapi tests share. */
#include "tests/lab/kubeapi_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *kh_base = "", *kh_ca = "", *kh_token = "";


struct buf {
	char *data;
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *cls)
{
	struct buf *b = cls;
	char *grown;

	if (b->len + size * n > 16 * 1024 * 1024 || !(grown = realloc(b->data, b->len + size * n + 1)))
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, p, size * n);
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

/* Response headers of this thread's last kh_http_as, for the Warning checks: one per thread,
 * so that threads may send requests at once (the soak's monitor does). */
static _Thread_local struct buf last_headers;

static size_t header_collect(char *p, size_t size, size_t n, void *cls)
{
	return collect(p, size, n, cls);
}

const char *kh_last_headers(void)
{
	return last_headers.data ? last_headers.data : "";
}

void kh_init(const struct kf *f, const char *token)
{
	kh_base = f->base;
	kh_ca = f->ca;
	kh_token = token;
}

int kh_start(struct kf *f, const char *token, char *kubeconfig, size_t len, const char *apply)
{
	char out[16384];
	char *argv[] = { "/usr/bin/kubectl", "--kubeconfig", kubeconfig, "apply", "-f", (char *)apply, NULL };

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (kf_start(f, token, 500) < 0 || kf_write_kubeconfig(f, token, kubeconfig, len) < 0)
		return -1;
	kh_init(f, token);
	if (apply && kf_run(argv, out, sizeof(out), 30) != 0) {
		fprintf(stderr, "kubectl apply -f %s failed:\n%s\n", apply, out);
		return -1;
	}
	return 0;
}

void kh_stop(struct kf *f)
{
	kf_stop(f);
	curl_global_cleanup();
}

void kh_assert_nothing_pruned(const struct kf *f)
{
	char out[8192];
	int n = kf_pruned(f, out, sizeof(out));

	if (n != 0)
		print_error("the API server pruned %d field(s):\n%s", n, out);
	assert_int_equal(n, 0);
}

static CURL *easy(const char *path, const char *token, struct curl_slist **headers)
{
	char url[4096], auth[128];
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "%s%s", kh_base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, kh_ca);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		*headers = curl_slist_append(*headers, auth);
	}
	return c;
}

/* Sends one request; returns the HTTP code (0 on transport failure) and the parsed body. */
long kh_http_as(const char *token, const char *method, const char *path, const char *body,
		const char *ctype, const char *accept, json_t **out)
{
	struct curl_slist *headers = accept ? curl_slist_append(NULL, accept) : NULL;
	struct buf b = { NULL, 0 };
	CURL *c = easy(path, token, &headers);
	char ct[128];
	long code = 0;

	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "application/json");
	headers = curl_slist_append(headers, ct);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	free(last_headers.data);
	last_headers.data = NULL;
	last_headers.len = 0;
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &last_headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (out)
		*out = b.data ? json_loads(b.data, 0, NULL) : NULL;
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	free(b.data);
	return code;
}

long kh_http(const char *method, const char *path, const char *body, const char *ctype, json_t **out)
{
	return kh_http_as(kh_token, method, path, body, ctype, NULL, out);
}

const char *kh_str_at(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

uint64_t kh_rv_of(json_t *obj)
{
	const char *rv = kh_str_at(obj, "metadata", "resourceVersion");

	return rv ? strtoull(rv, NULL, 10) : 0;
}

/* Watch streams: events parsed line by line, stopped after @stop_after events or @timeout_ms. */
struct watch {
	struct buf raw;
	size_t parsed;  /* bytes of raw already split into events */
	json_t *events;
	size_t stop_after;
};

static size_t watch_collect(char *p, size_t size, size_t n, void *cls)
{
	struct watch *w = cls;
	char *nl;

	if (collect(p, size, n, &w->raw) != size * n)
		return 0;
	while ((nl = memchr(w->raw.data + w->parsed, '\n', w->raw.len - w->parsed))) {
		json_t *ev = json_loadb(w->raw.data + w->parsed, (size_t)(nl - w->raw.data) - w->parsed, 0, NULL);

		w->parsed = (size_t)(nl - w->raw.data) + 1;
		if (ev)
			json_array_append_new(w->events, ev);
	}
	if (w->stop_after && json_array_size(w->events) >= w->stop_after)
		return 0;
	return size * n;
}

json_t *kh_watch_events(const char *path, long timeout_ms, size_t stop_after, CURLcode *rc_out)
{
	struct curl_slist *headers = NULL;
	struct watch w = { .events = json_array(), .stop_after = stop_after };
	CURL *c = easy(path, kh_token, &headers);
	CURLcode rc;

	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = curl_easy_perform(c);
	if (rc_out)
		*rc_out = rc;
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	free(w.raw.data);
	return w.events;
}

const char *kh_event_type(json_t *events, size_t i)
{
	return kh_str_at(json_array_get(events, i), "type", NULL);
}

json_t *kh_event_object(json_t *events, size_t i)
{
	return json_object_get(json_array_get(events, i), "object");
}


void kh_expect_status(json_t *body, long code, long want, const char *reason)
{
	if (code != want) {
		char *text = json_dumps(body, JSON_COMPACT);

		print_error("HTTP %ld, wanted %ld: %s\n", code, want, text ? text : "(no JSON)");
		free(text);
	}
	assert_int_equal(code, want);
	assert_string_equal(kh_str_at(body, "kind", NULL), "Status");
	assert_string_equal(kh_str_at(body, "apiVersion", NULL), "v1");
	assert_string_equal(kh_str_at(body, "status", NULL), "Failure");
	assert_string_equal(kh_str_at(body, "reason", NULL), reason);
	assert_int_equal(json_integer_value(json_object_get(body, "code")), want);
}

/* Sends a request whose answer only matters by its code. */
void kh_expect_code(const char *method, const char *path, const char *body, const char *ctype, long want)
{
	json_t *reply = NULL;
	long code = kh_http(method, path, body, ctype, &reply);

	if (code != want)
		print_error("%s %s: HTTP %ld, wanted %ld\n", method, path, code, want);
	json_decref(reply);
	assert_int_equal(code, want);
}

/* Sends a request that must fail with @want and a Status of @reason. */
void kh_expect_error_as(const char *token, const char *method, const char *path, const char *body, long want,
			    const char *reason)
{
	json_t *st = NULL;
	long code = kh_http_as(token, method, path, body, NULL, NULL, &st);

	kh_expect_status(st, code, want, reason);
	json_decref(st);
}

void kh_expect_error(const char *method, const char *path, const char *body, long want, const char *reason)
{
	kh_expect_error_as(kh_token, method, path, body, want, reason);
}


/* Creates an object by raw POST and returns it (the caller owns it). */
json_t *kh_create(const char *collection, const char *body)
{
	json_t *obj = NULL;
	long code = kh_http("POST", collection, body, NULL, &obj);

	if (code != 201) {
		char *text = json_dumps(obj, JSON_COMPACT);

		print_error("create in %s: HTTP %ld %s\n", collection, code, text ? text : "(no JSON)");
		free(text);
	}
	assert_int_equal(code, 201);
	return obj;
}


char *kh_dumps(json_t *obj)
{
	return json_dumps(obj, JSON_COMPACT);
}

