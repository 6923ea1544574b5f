/* kube_http: HTTPS requests to the Kubernetes API with libcurl: JSON in and out, Status
 * reasons, bounded retries on 429/5xx, stoppable transfers. The token is never logged. */
#include "controller/kube/kube_http.h"
#include "controller/kube/kube_stream.h"
#include "crd/encode.h"
#include "reconcile/clk.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TOKEN_MAX        (64u << 10)  /* a bearer token; projected tokens are ~1 KiB */
#define TOKEN_REREAD_S   60.0         /* a token file is read again at least this often */
#define RETRY_AFTER_MAX_S 300.0       /* a larger Retry-After is taken as this (then capped) */

struct kube_client {
	struct kube_config cfg;
	struct kube_client_options opt;
	int stopping;                     /* atomic */
	CURLSH *share;                    /* DNS cache shared by every handle */
	pthread_mutex_t share_lock;
	pthread_mutex_t token_lock;       /* guards the fields below */
	char *token;                      /* the token in use (from cfg.token or cfg.token_file) */
	struct timespec token_mtime;
	off_t token_size;
	double token_read_at;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void kube_client_options_default(struct kube_client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->log_level = KUBE_LOG_INFO;
	o->timeout_ms = 30000;
	o->max_retries = 4;
	o->backoff_base_s = 0.2;
	o->backoff_cap_s = 10;
}

void kube_logf(const struct kube_client *c, enum kube_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (c && level < c->opt.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c && c->opt.log)
		c->opt.log(c->opt.log_opaque, level, line);
	else
		fprintf(stderr, "drover: kube: %s\n", line);
}

static bool stopped(const struct kube_client *c, const int *stop)
{
	return __atomic_load_n(&c->stopping, __ATOMIC_SEQ_CST) || (stop && __atomic_load_n(stop, __ATOMIC_SEQ_CST));
}

int kube_sleep(const struct kube_client *c, double seconds, const int *stop)
{
	double end = clk_mono() + seconds;

	while (!stopped(c, stop)) {
		double left = end - clk_mono();
		struct timespec ts;

		if (left <= 0)
			return 0;
		if (left > 0.05)
			left = 0.05;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *p)
{
	(void)h;
	(void)data;
	(void)access;
	pthread_mutex_lock(&((struct kube_client *)p)->share_lock);
}

static void share_unlock(CURL *h, curl_lock_data data, void *p)
{
	(void)h;
	(void)data;
	pthread_mutex_unlock(&((struct kube_client *)p)->share_lock);
}

int kube_client_new(const struct kube_config *cfg, const struct kube_client_options *opt,
		    struct kube_client **out, char *err, size_t errlen)
{
	struct kube_client *c = NULL;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_rc));
		return -1;
	}
	if (!cfg->server) {
		snprintf(err, errlen, "no API server in the configuration");
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c || kube_config_copy(&c->cfg, cfg) < 0) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (opt)
		c->opt = *opt;
	else
		kube_client_options_default(&c->opt);
	pthread_mutex_init(&c->share_lock, NULL);
	pthread_mutex_init(&c->token_lock, NULL);
	/* The share (a DNS cache) is an optimisation: one libcurl refuses is not used. */
	c->share = curl_share_init();
	if (c->share &&
	    (curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	     curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	     curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
	     /* Not TLS sessions: resuming one handle's TLS 1.3 session on another while both
	      * run broke handshakes with a GnuTLS server ("handshake message out of context"). */
	     curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)) {
		curl_share_cleanup(c->share);
		c->share = NULL;
	}
	*out = c;
	return 0;
}

void kube_client_stop(struct kube_client *c)
{
	if (c)
		__atomic_store_n(&c->stopping, 1, __ATOMIC_SEQ_CST);
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	if (c->share)
		curl_share_cleanup(c->share);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	kube_config_free(&c->cfg);
	pthread_mutex_destroy(&c->share_lock);
	pthread_mutex_destroy(&c->token_lock);
	free(c);
}

const char *kube_client_namespace(const struct kube_client *c)
{
	return c->cfg.namespace ? c->cfg.namespace : "default";
}

/* Writes "Authorization: Bearer TOKEN" into @hdr, reading the token file again when it
 * changed (kubelet rotates projected tokens) or TOKEN_REREAD_S passed. Returns 1 with @hdr
 * set, 0 when there is no token, -1 when the token file cannot be read. */
static int auth_header(struct kube_client *c, char *hdr, size_t len)
{
	struct stat st;
	int rc = 0;

	if (c->cfg.token) {
		snprintf(hdr, len, "Authorization: Bearer %s", c->cfg.token);
		return strlen(c->cfg.token) + 32 < len ? 1 : -1;
	}
	if (!c->cfg.token_file)
		return 0;
	pthread_mutex_lock(&c->token_lock);
	if (stat(c->cfg.token_file, &st) == 0 &&
	    (!c->token || st.st_mtim.tv_sec != c->token_mtime.tv_sec ||
	     st.st_mtim.tv_nsec != c->token_mtime.tv_nsec || st.st_size != c->token_size ||
	     clk_mono() - c->token_read_at > TOKEN_REREAD_S)) {
		size_t n = 0;
		char *tok = kube_read_file(c->cfg.token_file, &n);

		if (tok) {
			tok[strcspn(tok, "\r\n")] = '\0';
			if (c->token)
				explicit_bzero(c->token, strlen(c->token));
			free(c->token);
			c->token = tok;
			c->token_mtime = st.st_mtim;
			c->token_size = st.st_size;
			c->token_read_at = clk_mono();
		}
	}
	if (c->token && strlen(c->token) < TOKEN_MAX && strlen(c->token) + 32 < len) {
		snprintf(hdr, len, "Authorization: Bearer %s", c->token);
		rc = 1;
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&c->token_lock);
	return rc;
}

/* ---- one transfer ---- */

struct xfer {
	struct kube_client *c;
	const int *stop;
	char *data;               /* the body, NUL-terminated */
	size_t len;
	bool too_big;
	double retry_after;       /* seconds; -1 when absent */
	kube_line_fn line_fn;     /* streaming: lines go here instead of @data */
	void *line_opaque;
	struct kube_stream_lines lines;  /* streaming: the split, with its line cap */
	bool line_too_long;       /* a line over the cap ended the stream */
	bool streaming_ok;        /* the answer is 200: lines are events */
	CURL *h;
};

static int xfer_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = p;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return stopped(x->c, x->stop) ? 1 : 0;
}

static size_t xfer_header(char *p, size_t size, size_t n, void *cls)
{
	struct xfer *x = cls;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "%.*s", (int)(len - 12 < 31 ? len - 12 : 31), p + 12);
		x->retry_after = strtod(tmp, NULL);
		if (x->retry_after < 0 || x->retry_after > RETRY_AFTER_MAX_S)
			x->retry_after = RETRY_AFTER_MAX_S;
	}
	return len;
}

static int append(struct xfer *x, const char *p, size_t n, size_t cap)
{
	char *grown;

	if (x->len + n > cap) {
		x->too_big = true;
		return -1;
	}
	grown = realloc(x->data, x->len + n + 1);
	if (!grown)
		return -1;
	x->data = grown;
	memcpy(x->data + x->len, p, n);
	x->len += n;
	x->data[x->len] = '\0';
	return 0;
}

static size_t xfer_write(char *p, size_t size, size_t n, void *cls)
{
	struct xfer *x = cls;
	size_t len = size * n;

	if (x->line_fn && !x->streaming_ok) {
		long code = 0;

		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
		x->streaming_ok = code == 200;
	}
	if (x->line_fn && x->streaming_ok) {
		int rc = kube_stream_lines_feed(&x->lines, p, len, x->line_fn, x->line_opaque);

		x->line_too_long = x->lines.too_long;
		return rc == 0 ? len : 0;
	}
	return append(x, p, len, KUBE_BODY_MAX) < 0 ? 0 : len;
}

/* Fills reason and message from a Status body. */
static void read_status(struct kube_response *out)
{
	const char *kind = json_string_value(json_object_get(out->body, "kind"));
	const char *reason = json_string_value(json_object_get(out->body, "reason"));
	const char *message = json_string_value(json_object_get(out->body, "message"));

	if (!kind || strcmp(kind, "Status") != 0)
		return;
	snprintf(out->reason, sizeof(out->reason), "%s", reason ? reason : "");
	snprintf(out->message, sizeof(out->message), "%s", message ? message : "");
}

/* The first curl_easy_setopt that failed, and which option it was. */
struct setopt_err {
	CURLcode rc;
	const char *name;
};

/* curl_easy_setopt with a sticky error: after a failure it does nothing, and the caller
 * checks once, before the transfer. */
#define SETOPT(so, e, opt, val)                                                         \
	do {                                                                              \
		if ((so)->rc == CURLE_OK && ((so)->rc = curl_easy_setopt((e), (opt), (val))) != \
						    CURLE_OK)                                       \
			(so)->name = #opt;                                                        \
	} while (0)

/* Sends one request. Returns 0 when an answer came, -1 otherwise (out->message set, naming
 * the libcurl option refused when one was). */
static int perform(struct kube_client *c, const char *method, const char *path, const char *body,
		   const char *ctype, long timeout_ms, struct xfer *x, struct kube_response *out)
{
	char url[KUBE_PATH_MAX + 512], hdr[TOKEN_MAX + 64], ct[128], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL, *h;
	CURL *e = curl_easy_init();
	struct setopt_err so = { CURLE_OK, NULL };
	CURLcode rc;
	int auth, ret = -1;

	out->code = 0;
	if (!e) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		return -1;
	}
	x->h = e;
	snprintf(url, sizeof(url), "%s%s", c->cfg.server, path);
	auth = auth_header(c, hdr, sizeof(hdr));
	if (auth < 0) {
		snprintf(out->message, sizeof(out->message), "the bearer token cannot be read");
		goto cleanup;
	}
	headers = curl_slist_append(headers, "Accept: application/json");
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "application/json");
	if (headers && body)
		headers = (h = curl_slist_append(headers, ct)) ? h : (curl_slist_free_all(headers), NULL);
	if (headers && auth > 0)
		headers = (h = curl_slist_append(headers, hdr)) ? h : (curl_slist_free_all(headers), NULL);
	explicit_bzero(hdr, sizeof(hdr));
	if (!headers) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		goto cleanup;
	}
	SETOPT(&so, e, CURLOPT_URL, url);
	SETOPT(&so, e, CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(&so, e, CURLOPT_NOSIGNAL, 1L);
	/* A watch can be idle for long: keepalives find a dead peer well before the timeout. */
	SETOPT(&so, e, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(&so, e, CURLOPT_TCP_KEEPIDLE, 30L);
	SETOPT(&so, e, CURLOPT_TCP_KEEPINTVL, 10L);
	SETOPT(&so, e, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(&so, e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cfg.ca_data) {
		struct curl_blob blob = { c->cfg.ca_data, strlen(c->cfg.ca_data), CURL_BLOB_COPY };

		SETOPT(&so, e, CURLOPT_CAINFO_BLOB, &blob);
	} else if (c->cfg.ca_file) {
		SETOPT(&so, e, CURLOPT_CAINFO, c->cfg.ca_file);
	}
	if (c->cfg.cert_data) {
		struct curl_blob blob = { c->cfg.cert_data, strlen(c->cfg.cert_data), CURL_BLOB_COPY };

		SETOPT(&so, e, CURLOPT_SSLCERT_BLOB, &blob);
		SETOPT(&so, e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cfg.cert_file) {
		SETOPT(&so, e, CURLOPT_SSLCERT, c->cfg.cert_file);
	}
	if (c->cfg.key_data) {
		struct curl_blob blob = { c->cfg.key_data, strlen(c->cfg.key_data), CURL_BLOB_COPY };

		SETOPT(&so, e, CURLOPT_SSLKEY_BLOB, &blob);
		SETOPT(&so, e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->cfg.key_file) {
		SETOPT(&so, e, CURLOPT_SSLKEY, c->cfg.key_file);
	}
	if (c->share)
		SETOPT(&so, e, CURLOPT_SHARE, c->share);
	SETOPT(&so, e, CURLOPT_HTTPHEADER, headers);
	SETOPT(&so, e, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "GET"))
		SETOPT(&so, e, CURLOPT_HTTPGET, 1L);
	if (body) {
		SETOPT(&so, e, CURLOPT_POSTFIELDS, body);
		SETOPT(&so, e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	SETOPT(&so, e, CURLOPT_WRITEFUNCTION, xfer_write);
	SETOPT(&so, e, CURLOPT_WRITEDATA, x);
	SETOPT(&so, e, CURLOPT_HEADERFUNCTION, xfer_header);
	SETOPT(&so, e, CURLOPT_HEADERDATA, x);
	SETOPT(&so, e, CURLOPT_NOPROGRESS, 0L);
	SETOPT(&so, e, CURLOPT_XFERINFOFUNCTION, xfer_progress);
	SETOPT(&so, e, CURLOPT_XFERINFODATA, x);
	SETOPT(&so, e, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(&so, e, CURLOPT_TIMEOUT_MS, timeout_ms);
	SETOPT(&so, e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	if (so.rc != CURLE_OK) {
		/* Never sent with an option missing: without CURLOPT_PROTOCOLS_STR, say, a
		 * redirect could take the token off HTTPS. */
		snprintf(out->message, sizeof(out->message), "libcurl refused %s: %s", so.name,
			 curl_easy_strerror(so.rc));
		goto cleanup;
	}
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->code);
	if (x->line_fn && x->streaming_ok) {
		/* A watch: however the stream ended (closed, cut, its time up, the callback done),
		 * that is a normal end unless a line broke the cap or we were stopped. */
		if (x->line_too_long || stopped(c, x->stop)) {
			snprintf(out->message, sizeof(out->message), "%s",
				 x->line_too_long ? "a watch event is over the size cap" : "stopped");
			goto cleanup;
		}
		ret = 0;
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		snprintf(out->message, sizeof(out->message), "%s",
			 stopped(c, x->stop) ? "stopped" : x->too_big ? "the response is over the size cap"
			 : errbuf[0] ? errbuf : curl_easy_strerror(rc));
		out->code = 0;
		goto cleanup;
	}
	if (x->data && x->len)
		out->body = json_loadb(x->data, x->len, 0, NULL);
	read_status(out);
	ret = 0;
cleanup:
	/* The list holds a copy of the token: wipe it before it goes back to the allocator. */
	for (h = headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
	curl_easy_cleanup(e);
	return ret;
}

static bool retryable(long code)
{
	return code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
}

int kube_call(struct kube_client *c, const struct kube_call *call, struct kube_response *out)
{
	int max = call->max_retries < 0 ? 0 : call->max_retries ? call->max_retries : c->opt.max_retries;
	long timeout = call->timeout_ms ? call->timeout_ms : c->opt.timeout_ms;
	double wait = c->opt.backoff_base_s;
	char *body = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (call->body && !(body = crd_json_dumps(call->body, JSON_COMPACT))) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		return -1;
	}
	for (int attempt = 0; attempt <= max; attempt++) {
		struct xfer x = { .c = c, .stop = call->stop, .retry_after = -1 };
		double t0 = clk_mono(), pause;

		json_decref(out->body);
		out->body = NULL;
		out->reason[0] = out->message[0] = '\0';
		out->attempts = attempt + 1;
		rc = perform(c, call->method, call->path, body, call->content_type, timeout, &x, out);
		free(x.data);
		kube_logf(c, KUBE_LOG_DEBUG, "%s %s -> %ld (%.0f ms)", call->method, call->path, out->code,
			  (clk_mono() - t0) * 1000);
		if (rc == 0 && !retryable(out->code))
			break;
		if (rc < 0 && (strcmp(call->method, "GET") != 0 || stopped(c, call->stop)))
			break;
		if (attempt == max)
			break;
		pause = x.retry_after >= 0 ? x.retry_after : wait;
		if (pause > c->opt.backoff_cap_s)
			pause = c->opt.backoff_cap_s;
		kube_logf(c, KUBE_LOG_WARN, "%s %s: %s%ld %s; retry in %.2f s", call->method, call->path,
			  rc < 0 ? "no answer " : "HTTP ", out->code, rc < 0 ? out->message : out->reason, pause);
		wait = wait * 2 > c->opt.backoff_cap_s ? c->opt.backoff_cap_s : wait * 2;
		if (kube_sleep(c, pause, call->stop) < 0)
			break;
	}
	free(body);
	return rc;
}

int kube_request(struct kube_client *c, const char *method, const char *path, const json_t *body,
		 const char *content_type, struct kube_response *out)
{
	struct kube_call call = { .method = method, .path = path, .body = body, .content_type = content_type };

	return kube_call(c, &call, out);
}

void kube_response_free(struct kube_response *r)
{
	if (!r)
		return;
	json_decref(r->body);
	memset(r, 0, sizeof(*r));
}

int kube_stream(struct kube_client *c, const char *path, size_t line_max, long timeout_ms,
		const int *stop, kube_line_fn fn, void *opaque, struct kube_response *out)
{
	struct xfer x = { .c = c, .stop = stop, .retry_after = -1, .line_fn = fn, .line_opaque = opaque };
	int rc;

	kube_stream_lines_init(&x.lines, line_max);
	memset(out, 0, sizeof(*out));
	out->attempts = 1;
	rc = perform(c, "GET", path, NULL, NULL, timeout_ms, &x, out);
	kube_logf(c, KUBE_LOG_DEBUG, "WATCH %s -> %ld%s%s", path, out->code, rc < 0 ? ": " : "",
		  rc < 0 ? out->message : "");
	free(x.data);
	kube_stream_lines_free(&x.lines);
	return rc;
}
