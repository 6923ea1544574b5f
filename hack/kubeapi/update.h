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

/* Finishes an update of the stored @old into @next (stolen) as a PATCH does: server-owned
 * metadata and the status split applied, resourceVersion checked, schema admitted, managed
 * fields tracked, stored. Store lock held. Can't fail: errors become Status replies. */
void kas_update_commit(const struct kas_request *req, json_t *old, json_t *next, struct kas_reply *out);

#endif
