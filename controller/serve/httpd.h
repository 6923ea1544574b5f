/* httpd: drover's HTTP endpoints (libmicrohttpd, its own thread): /metrics in the
 * Prometheus text format, /healthz (the process runs) and /readyz (a first pass is done). */
#ifndef DROVER_HTTPD_H
#define DROVER_HTTPD_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "controller/serve/metrics.h"

#define HTTPD_DEFAULT_ADDR "127.0.0.1:9477"
#define HTTPD_MAX_CONNECTIONS 16       /* a scraper, a probe, a person with curl */
#define HTTPD_TIMEOUT_S 10             /* an idle or slow connection is closed after this */

struct httpd;

/* Starts serving on @addr ("127.0.0.1:9477", "[::1]:9477", ":9477" for every IPv4
 * address; numeric only, port 0 picks a free one) from a thread of its own. /metrics
 * renders @metrics, which must outlive the server. Returns the server, or NULL with
 * the reason in @err (bad address, port in use, out of memory). The caller stops it
 * with httpd_stop. */
struct httpd *httpd_start(const char *addr, struct metrics *metrics, char *err,
			  size_t err_size) DROVER_WUR;

/* The port the server listens on (useful after port 0). This function can't fail. */
unsigned httpd_port(const struct httpd *h);

/* Makes /readyz answer 200 (@ready) or 503. Thread-safe; this function can't fail. */
void httpd_set_ready(struct httpd *h, bool ready);

/* Stops the server: answers in progress end, the thread is joined. Accepts NULL. */
void httpd_stop(struct httpd *h);

#endif
