/* httpd: drover's HTTP endpoints (libmicrohttpd, its own thread): /metrics in the
 * Prometheus text format, /healthz (the process runs) and /readyz (a first pass is done). */
#include "controller/serve/httpd.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define HTTPD_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define HTTPD_HOST_MAX 64              /* a numeric address, brackets stripped */

struct httpd {
	struct MHD_Daemon *daemon;
	struct metrics *metrics;
	unsigned port;
	atomic_bool ready;
};

/* Queues @status with a copy of @body (text/plain). Returns MHD's verdict. */
static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *body,
				  const char *allow)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						     "text/plain; charset=utf-8");
	if (ok == MHD_YES && allow)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (ok == MHD_YES)
		ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result reply_metrics(struct httpd *h, struct MHD_Connection *c)
{
	size_t len = 0;
	char *text = metrics_render(h->metrics, &len);

	if (!text)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n", NULL);
	/* MUST_FREE: libmicrohttpd frees the text with free() when the response goes. */
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						     HTTPD_CONTENT_TYPE);
	if (ok == MHD_YES)
		ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

/* libmicrohttpd's access handler: answers on the first call, so a request body (of a
 * method that is refused anyway) is never read. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct httpd *h = cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET");
	if (!strcmp(url, "/metrics"))
		return reply_metrics(h, c);
	if (!strcmp(url, "/healthz"))
		return reply_text(c, MHD_HTTP_OK, "ok\n", NULL);
	if (!strcmp(url, "/readyz"))
		return atomic_load(&h->ready) ? reply_text(c, MHD_HTTP_OK, "ok\n", NULL)
			: reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n", NULL);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
}

/* Splits "HOST:PORT" ("[V6]:PORT", ":PORT") into @host (brackets removed; "0.0.0.0"
 * when empty) and @port. Returns 0, or -1 when the port is not 0..65535 or the host
 * does not fit. */
static int split_addr(const char *addr, char *host, size_t host_size, const char **port)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t n;

	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || atoi(colon + 1) > 65535)
		return -1;  /* getaddrinfo would take 70000 as 70000 % 65536 */
	n = (size_t)(colon - addr);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	} else if (memchr(addr, ':', n)) {
		return -1;  /* an IPv6 address needs its brackets */
	}
	if (n == 0) {
		h = "0.0.0.0";
		n = strlen(h);
	}
	if (n >= host_size)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

/* A listening socket on @addr. Returns the descriptor, or -1 with the reason in @err. */
static int listen_on(const char *addr, char *err, size_t err_size)
{
	char host[HTTPD_HOST_MAX];
	const char *port;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1;

	if (split_addr(addr, host, sizeof(host), &port) < 0) {
		snprintf(err, err_size, "\"%s\": expected HOST:PORT, e.g. 127.0.0.1:9477", addr);
		goto cleanup;
	}
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai) {
		snprintf(err, err_size, "\"%s\": %s (a numeric address and port)", addr,
			 gai_strerror(gai));
		goto cleanup;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, HTTPD_MAX_CONNECTIONS) < 0) {
		snprintf(err, err_size, "\"%s\": %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
cleanup:
	if (ai)
		freeaddrinfo(ai);
	return fd;
}

/* The port @fd is bound to, or 0 when it cannot be read. */
static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

struct httpd *httpd_start(const char *addr, struct metrics *metrics, char *err, size_t err_size)
{
	struct httpd *h = calloc(1, sizeof(*h));
	int fd = -1;

	if (!h) {
		snprintf(err, err_size, "out of memory");
		goto cleanup;
	}
	h->metrics = metrics;
	atomic_init(&h->ready, false);
	fd = listen_on(addr ? addr : "", err, err_size);
	if (fd < 0)
		goto cleanup;
	h->port = bound_port(fd);
	/* The socket is ours until the daemon starts; from then on it closes it. */
	h->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_request, h,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S,
				     MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, err_size, "\"%s\": libmicrohttpd could not start", addr);
		goto cleanup;
	}
	return h;
cleanup:
	if (fd >= 0)
		close(fd);
	free(h);
	return NULL;
}

unsigned httpd_port(const struct httpd *h)
{
	return h ? h->port : 0;
}

void httpd_set_ready(struct httpd *h, bool ready)
{
	if (h)
		atomic_store(&h->ready, ready);
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
