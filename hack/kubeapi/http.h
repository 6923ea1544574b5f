/* kubeapi test server: the HTTPS front: libmicrohttpd with a thread per connection, bearer
 * token auth, body cap, URL routing to discovery / CRUD / watch, Status errors, request log. */
#ifndef KAS_HTTP_H
#define KAS_HTTP_H

#include "crd/compiler.h"

#include "util.h"

#include <stdint.h>

struct MHD_Daemon;

/* Largest request body accepted; larger ones get 413. */
#define KAS_BODY_MAX (4 * 1024 * 1024)

/* Starts serving on @addr:@port (0 = any free port) with the PEM @cert and @key, accepting
 * requests carrying "Authorization: Bearer @token". The strings must outlive the daemon.
 * Returns the daemon, or NULL (logged). */
DROVER_WUR struct MHD_Daemon *kas_http_start(const char *addr, uint16_t port, const char *cert,
					     const char *key, const char *token);

/* The port the daemon listens on. */
uint16_t kas_http_port(struct MHD_Daemon *d);

/* Stops the daemon (open watches must have been told to stop). Accepts NULL. */
void kas_http_stop(struct MHD_Daemon *d);

#endif
