/* kubeapi test server: HTTPS front, auth, routing, Status errors, request log. */
#include "http.h"
#include "crud.h"
#include "discovery.h"
#include "request.h"
#include "status.h"
#include "store.h"
#include "watch.h"
#include "yaml.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNECTIONS 256
#define MAX_SEGMENTS 8

static const char *bearer_token;

/* What one request accumulates across the access handler's calls. */
struct conn_ctx {
	struct kas_buf body;
	bool too_big;
};

static void conn_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (ctx) {
		kas_buf_free(&ctx->body);
		free(ctx);
	}
	*con_cls = NULL;
}

static const char *query_arg(void *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Adds one "Warning: 299 - \"TEXT\"" header per warning, as the real server does. */
static void add_warnings(struct MHD_Response *r, json_t *warnings)
{
	size_t i;
	json_t *w;

	json_array_foreach(warnings, i, w) {
		json_t *quoted = json_string(json_string_value(w));
		char *q = quoted ? json_dumps(quoted, JSON_ENCODE_ANY) : NULL;
		char *line = q ? kas_printf("299 - %s", q) : NULL;

		if (line)
			MHD_add_response_header(r, "Warning", line);
		free(line);
		free(q);
		json_decref(quoted);
	}
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *type, char *text,
				  json_t *warnings)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-cache, private");
	add_warnings(r, warnings);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, const char *method, const char *url,
				  struct kas_reply *reply)
{
	char *text;
	enum MHD_Result rc = MHD_NO;

	if (reply->code == 0)
		kas_reply_status(reply, 500, "InternalError", "no reply was produced");
	text = reply->body ? json_dumps(reply->body, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
	kas_log("%s %s %u", method, url, reply->code);
	if (text)
		rc = send_text(c, reply->code, "application/json", text, reply->warnings);
	kas_reply_clear(reply);
	return rc;
}

static bool authorized(struct MHD_Connection *c)
{
	const char *auth = header(c, "Authorization");
	size_t n = strlen(bearer_token), diff = 0;

	if (!auth || strncmp(auth, "Bearer ", 7) || strlen(auth + 7) != n)
		return false;
	/* Compare every byte so the time taken does not tell how much matched. */
	for (size_t i = 0; i < n; i++)
		diff |= (size_t)(auth[7 + i] ^ bearer_token[i]);
	return diff == 0;
}

/* Splits the path into segments in @buf. Returns how many, or -1 when there are too many. */
static int segments(const char *url, char *buf, size_t len, const char *seg[MAX_SEGMENTS])
{
	int n = 0;

	if (strlen(url) >= len)
		return -1;
	memcpy(buf, url, strlen(url) + 1);
	for (char *p = buf; *p;) {
		char *slash;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (n == MAX_SEGMENTS)
			return -1;
		seg[n++] = p;
		slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

/* Fills req->rt/ns/name/status from a resource URL. Returns 0, or -1 when it names nothing. */
static int route(struct kas_request *req, const char *const *seg, int n)
{
	const char *group = "", *version, *plural;
	int i;

	if (n >= 2 && !strcmp(seg[0], "api")) {
		version = seg[1];
		i = 2;
	} else if (n >= 3 && !strcmp(seg[0], "apis")) {
		group = seg[1];
		version = seg[2];
		i = 3;
	} else {
		return -1;
	}
	/* namespaces/NS/PLURAL/... unless it is namespaces/NAME/status itself. */
	if (n - i >= 3 && !strcmp(seg[i], "namespaces") && !(n - i == 3 && !strcmp(seg[i + 2], "status"))) {
		req->ns = seg[i + 1];
		i += 2;
	}
	if (i >= n || n - i > 3)
		return -1;
	plural = seg[i];
	req->name = n - i >= 2 ? seg[i + 1] : NULL;
	if (n - i == 3 && strcmp(seg[i + 2], "status"))
		return -1;
	req->status = n - i == 3;
	req->rt = kas_registry_find(group, version, plural);
	if (!req->rt || (req->rt->namespaced && req->name && !req->ns) || (!req->rt->namespaced && req->ns))
		return -1;
	return 0;
}

static bool is_watch(const struct kas_request *req)
{
	return !strcmp(req->method, "GET") && !req->name && kas_arg_bool(req, "watch");
}

/* Parses the body. Returns 0, or -1 with a 400/415 reply. */
static int parse_body(struct kas_request *req, struct conn_ctx *ctx, struct kas_reply *out)
{
	json_error_t err;
	const char *ct = req->content_type;

	if (ctx->body.len == 0)
		return 0;
	if (ct && strcmp(req->method, "PATCH") && strncmp(ct, "application/json", 16) && strncmp(ct, "*/*", 3)) {
		kas_reply_status(out, 415, "UnsupportedMediaType", "only application/json bodies are accepted, not %s", ct);
		return -1;
	}
	req->body = json_loadb(ctx->body.data, ctx->body.len, JSON_REJECT_DUPLICATES, &err);
	if (!req->body && ct && !strncmp(ct, "application/apply-patch+yaml", 28)) {
		char *why = NULL;

		/* JSON is YAML too: only a body that is not JSON gets here. */
		req->body = kas_yaml_parse(ctx->body.data, ctx->body.len, &why);
		if (!req->body)
			kas_reply_status(out, 400, "BadRequest", "error decoding YAML: %s", why ? why : "out of memory");
		free(why);
		return req->body ? 0 : -1;
	}
	if (!req->body) {
		kas_reply_status(out, 400, "BadRequest", "invalid JSON body: %s (line %d)", err.text, err.line);
		return -1;
	}
	return 0;
}

static void test_hook(const char *url, struct kas_reply *out)
{
	if (!strcmp(url, "/_test/compact")) {
		kas_store_compact();
		kas_log("history compacted at resourceVersion %llu", (unsigned long long)kas_store_compacted());
	} else if (!strcmp(url, "/_test/cut-watches")) {
		kas_store_cut_watches();
	} else {
		kas_reply_status(out, 404, "NotFound", "no such test hook");
		return;
	}
	kas_reply_status(out, 200, "", "done");
}

/* Serves an authorized, fully received request with the store lock held. Returns the watch
 * response when it starts one (then @out is unused), else NULL with @out set. */
static struct MHD_Response *serve(struct MHD_Connection *c, const char *url, const char *method,
				  struct conn_ctx *ctx, struct kas_reply *out)
{
	struct kas_request req = { .method = method, .url = url, .arg = query_arg, .arg_ctx = c,
				   .content_type = header(c, "Content-Type"), .accept = header(c, "Accept"),
				   .user_agent = header(c, "User-Agent") };
	const union MHD_ConnectionInfo *info;
	struct MHD_Response *resp = NULL;
	char buf[2048];
	const char *seg[MAX_SEGMENTS];
	int n;

	if (!strncmp(url, "/_test/", 7) && !strcmp(method, "POST")) {
		test_hook(url, out);
	} else if (kas_discovery_handle(url, out)) {
		/* replied */
	} else if ((n = segments(url, buf, sizeof(buf), seg)) < 0 || route(&req, seg, n) < 0) {
		kas_reply_status(out, 404, "NotFound", "the server could not find the requested resource");
	} else if (parse_body(&req, ctx, out) == 0) {
		if (is_watch(&req)) {
			info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
			resp = kas_watch_start(&req, info ? info->connect_fd : -1, out);
		} else {
			kas_crud_handle(&req, out);
		}
	}
	json_decref(req.body);
	return resp;
}

static enum MHD_Result dispatch(struct MHD_Connection *c, const char *url, const char *method,
				struct conn_ctx *ctx)
{
	struct kas_reply reply = { 0, NULL, NULL };
	struct MHD_Response *watch;
	enum MHD_Result rc;

	if (!strcmp(url, "/healthz") || !strcmp(url, "/readyz") || !strcmp(url, "/livez"))
		return send_text(c, 200, "text/plain", strdup("ok"), NULL);
	if (!authorized(c)) {
		kas_reply_status(&reply, 401, "Unauthorized", "Unauthorized");
		return send_reply(c, method, url, &reply);
	}
	if (ctx->too_big) {
		kas_reply_status(&reply, 413, "RequestEntityTooLarge", "the request body is larger than %d bytes",
				 KAS_BODY_MAX);
		return send_reply(c, method, url, &reply);
	}
	kas_store_lock();
	watch = serve(c, url, method, ctx, &reply);
	kas_store_unlock();
	if (!watch)
		return send_reply(c, method, url, &reply);
	kas_log("%s %s 200 (watch)", method, url);
	rc = MHD_queue_response(c, 200, watch);
	MHD_destroy_response(watch);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)version;
	if (!ctx) {
		ctx = calloc(1, sizeof(*ctx));
		*con_cls = ctx;
		return ctx ? MHD_YES : MHD_NO;
	}
	if (*upload_size > 0) {
		/* Past the cap the rest is read and dropped, so the 413 can still be sent. */
		if (!ctx->too_big && kas_buf_append(&ctx->body, upload, *upload_size, KAS_BODY_MAX) < 0)
			ctx->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(c, url, method, ctx);
}

struct MHD_Daemon *kas_http_start(const char *addr, uint16_t port, const char *cert, const char *key,
				  const char *token)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct MHD_Daemon *d;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		kas_log("bad listen address %s (an IPv4 address is needed)", addr);
		return NULL;
	}
	bearer_token = token;
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
				     MHD_USE_ERROR_LOG,
			     port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
			     MHD_OPTION_NOTIFY_COMPLETED, conn_done, NULL, MHD_OPTION_END);
	if (!d)
		kas_log("cannot start the HTTPS server on %s:%u", addr, port);
	return d;
}

uint16_t kas_http_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

void kas_http_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
