/* kubeapi_http: raw HTTPS requests and watches against the kubeapi test server (libcurl),
 * and the checks of its Status replies that the kubeapi tests share. */
#ifndef DROVER_TESTS_KUBEAPI_HTTP_H
#define DROVER_TESTS_KUBEAPI_HTTP_H

#include "tests/lab/kubeapi_fixture.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>

/* Starts the server of a kubeapi test (libcurl initialised, kf_start with @token and a
 * history of 500, a kubeconfig written into @kubeconfig, the helpers pointed at it), then
 * applies @apply (a file or directory, NULL for none) with the real kubectl.
 * Returns 0, or -1 with a message on stderr. */
int kh_start(struct kf *f, const char *token, char *kubeconfig, size_t len, const char *apply);

/* Stops what kh_start started. Can't fail. */
void kh_stop(struct kf *f);

/* cmocka check: the server pruned nothing as unknown so far (kf_pruned), else prints what. */
void kh_assert_nothing_pruned(const struct kf *f);

/* Points the helpers at the running server of @f with bearer @token (both must outlive use). */
void kh_init(const struct kf *f, const char *token);

/* Sends one request; returns the HTTP code (0 on transport failure) and the parsed body
 * (owned by the caller, NULL when not JSON). @accept is a whole header line or NULL. */
long kh_http_as(const char *token, const char *method, const char *path, const char *body, const char *ctype,
		const char *accept, json_t **out);
long kh_http(const char *method, const char *path, const char *body, const char *ctype, json_t **out);

/* The response header lines of the last kh_http_as (valid until the next request). */
const char *kh_last_headers(void);

/* obj[a][b] (or obj[a] when @b is NULL) as a string, borrowed, or NULL. */
const char *kh_str_at(json_t *obj, const char *a, const char *b);

/* metadata.resourceVersion as a number, 0 when absent. */
uint64_t kh_rv_of(json_t *obj);

/* Watches @path, returning the events (owned) once @stop_after arrived or @timeout_ms passed. */
json_t *kh_watch_events(const char *path, long timeout_ms, size_t stop_after, CURLcode *rc_out);
const char *kh_event_type(json_t *events, size_t i);
json_t *kh_event_object(json_t *events, size_t i);

/* cmocka checks: a Failure Status of @reason with HTTP @want. */
void kh_expect_status(json_t *body, long code, long want, const char *reason);
void kh_expect_code(const char *method, const char *path, const char *body, const char *ctype, long want);
void kh_expect_error_as(const char *token, const char *method, const char *path, const char *body, long want,
			const char *reason);
void kh_expect_error(const char *method, const char *path, const char *body, long want, const char *reason);

/* Creates an object by raw POST (201 asserted) and returns it; the caller owns it. */
json_t *kh_create(const char *collection, const char *body);

/* Compact JSON text of @obj; the caller frees it. */
char *kh_dumps(json_t *obj);

#endif
