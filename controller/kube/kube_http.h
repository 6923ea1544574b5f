/* kube_http: HTTPS requests to the Kubernetes API with libcurl: JSON in and out, Status
 * reasons, bounded retries on 429/5xx, stoppable transfers. The token is never logged. */
#ifndef DROVER_KUBE_HTTP_H
#define DROVER_KUBE_HTTP_H

#include "crd/compiler.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/kube/kube_config.h"
#include "controller/kube/kube_obj.h"

/* Hard caps. */
#define KUBE_BODY_MAX      (16u << 20)   /* one response body (a list page) */
#define KUBE_MSG_MAX       512           /* a Status message kept in a response */

enum kube_log_level { KUBE_LOG_DEBUG = 0, KUBE_LOG_INFO, KUBE_LOG_WARN, KUBE_LOG_ERROR };

/* Receives every log line of the kube_ modules (no newline). Called from any thread; the
 * line never holds the bearer token or a client key. */
typedef void (*kube_log_fn)(void *opaque, enum kube_log_level level, const char *line);

struct kube_client_options {
	kube_log_fn log;          /* NULL: lines of level INFO and above go to stderr */
	void *log_opaque;
	enum kube_log_level log_level;  /* lines below it are dropped */
	long timeout_ms;          /* one request, connect included (default 30000) */
	int max_retries;          /* retries of a 429/5xx answer (default 4) */
	double backoff_base_s;    /* first wait before a retry without Retry-After (default 0.2) */
	double backoff_cap_s;     /* longest wait between retries, Retry-After included (default 10) */
};

/* The answer to one request. */
struct kube_response {
	long code;                /* HTTP status; 0 when no answer came (transport error, stopped) */
	json_t *body;             /* parsed JSON body, or NULL; owned by the response */
	char reason[64];          /* Status.reason ("Conflict", "Expired", ...) or "" */
	char message[KUBE_MSG_MAX]; /* Status.message, or the transport error */
	int attempts;             /* requests sent, retries included */
};

/* One request. Fields left 0/NULL take the client's defaults. */
struct kube_call {
	const char *method;       /* GET, POST, PUT, PATCH, DELETE */
	const char *path;         /* absolute path with query, e.g. "/api/v1/namespaces" */
	const json_t *body;       /* sent as JSON, or NULL */
	const char *content_type; /* default "application/json" */
	long timeout_ms;
	int max_retries;          /* -1: no retries; 0: the client's default */
	const int *stop;          /* read atomically; nonzero aborts the transfer and any wait */
};

struct kube_client;

/* Defaults as documented on the struct. This function can't fail. */
void kube_client_options_default(struct kube_client_options *o);

/* Makes a client for @cfg (copied; the caller keeps @cfg). @opt may be NULL. Returns 0 with
 * *@out set (free with kube_client_free), or -1 with a message in @err. */
int kube_client_new(const struct kube_config *cfg, const struct kube_client_options *opt,
		    struct kube_client **out, char *err, size_t errlen) DROVER_WUR;

/* Aborts every transfer and wait of the client for good (shutdown). Can't fail. */
void kube_client_stop(struct kube_client *c);

/* Frees the client; accepts NULL. No request may be running. */
void kube_client_free(struct kube_client *c);

/* The default namespace of the configuration ("default" when none). Owned by the client. */
const char *kube_client_namespace(const struct kube_client *c);

/* Logs through the client's log function (printf-style). Can't fail. */
void kube_logf(const struct kube_client *c, enum kube_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sends @call, retrying 429 (after Retry-After) and 5xx answers with capped exponential
 * backoff, and transport errors of GET. Returns 0 when an answer came (any HTTP code: check
 * out->code), -1 when none came (transport error, stopped, body over KUBE_BODY_MAX) with
 * out->message set. Either way the caller frees @out with kube_response_free. */
int kube_call(struct kube_client *c, const struct kube_call *call, struct kube_response *out)
	DROVER_WUR;

/* kube_call with the client's defaults. */
int kube_request(struct kube_client *c, const char *method, const char *path, const json_t *body,
		 const char *content_type, struct kube_response *out) DROVER_WUR;

/* Releases the body and zeroes @r; accepts NULL. */
void kube_response_free(struct kube_response *r);

/* Called by kube_stream for each complete line (without the newline, not NUL-terminated;
 * empty lines are skipped). Returns 0 to go on, nonzero to end the stream. */
typedef int (*kube_line_fn)(void *opaque, const char *line, size_t len);

/* GETs @path and feeds the body line by line to @fn while it streams (watch). A line over
 * @line_max bytes ends the stream with an error. @timeout_ms bounds the whole transfer.
 * Returns 0 when the stream ended (out->code says how it began; a non-200 body is parsed
 * into @out), -1 on transport error, stop, or an over-long line. No retries. */
int kube_stream(struct kube_client *c, const char *path, size_t line_max, long timeout_ms,
		const int *stop, kube_line_fn fn, void *opaque, struct kube_response *out) DROVER_WUR;

/* Sleeps @seconds or until *@stop (or the client's stop) is set. Returns 0 after the full
 * sleep, -1 when stopped. */
int kube_sleep(const struct kube_client *c, double seconds, const int *stop);

#endif
