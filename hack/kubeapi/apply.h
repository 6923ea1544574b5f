/* kubeapi test server: managed fields (metadata.managedFields) of every write, and
 * server-side apply (PATCH application/apply-patch+yaml) with conflicts and force. All calls
 * are made with the store lock held. */
#ifndef KAS_APPLY_H
#define KAS_APPLY_H

#include "crd/compiler.h"

#include "request.h"
#include "status.h"

#include <jansson.h>
#include <stdbool.h>

/* True when @req is a server-side apply (its Content-Type). */
bool kas_apply_is(const struct kas_request *req);

/* Records in @next's metadata.managedFields which fields this write (@old -> @next; @old NULL
 * on create) changed, for its manager (fieldManager, else the user agent's product) with
 * operation Update (Apply for an apply), taking them from other managers. managedFields the
 * client sent that differ from the stored ones are kept as sent ([] clears them). A write that
 * changes nothing changes no entry. Returns 0, or -1 on OOM. */
DROVER_WUR int kas_managed_track(const struct kas_request *req, json_t *old, json_t *next);

/* Serves an apply: creates the object when missing, else merges the configuration, answering
 * 409 with causes for fields other managers own unless force is true. Can't fail (errors are
 * replies). */
void kas_apply_patch(const struct kas_request *req, struct kas_reply *out);

#endif
