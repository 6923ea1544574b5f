/* kubeapi test server: watch streams. Each watch is a chunked response whose reader waits on
 * the store's condition variable and writes one JSON event per line: ADDED, MODIFIED, DELETED,
 * BOOKMARK, or ERROR (410 Expired) when its resourceVersion fell out of the history. */
#ifndef KAS_WATCH_H
#define KAS_WATCH_H

#include "request.h"
#include "status.h"

#include <microhttpd.h>

/* Seconds between BOOKMARK events on an idle watch that asked for them. */
extern int kas_watch_bookmark_interval;

/* Starts a watch for @req; @fd is the client socket (to notice a client that went away).
 * Call with the store lock held. Returns a response to queue, or NULL with @out set. */
struct MHD_Response *kas_watch_start(const struct kas_request *req, int fd, struct kas_reply *out);

#endif
