/* kubeapi test server: PUT and PATCH of objects and their /status subresource, with
 * resourceVersion preconditions, generation bumps and finalizer-driven deletion. */
#ifndef KAS_UPDATE_H
#define KAS_UPDATE_H

#include "request.h"
#include "status.h"

/* Replaces an object (PUT). Store lock held. Can't fail: errors become Status replies. */
void kas_update_put(const struct kas_request *req, struct kas_reply *out);

/* Patches an object (merge, strategic merge for built-in kinds, or JSON patch). Store lock held.
 * Can't fail: errors become Status replies. */
void kas_update_patch(const struct kas_request *req, struct kas_reply *out);

#endif
