/* kubeapi test server: what every write shares: presenting objects, kind checks, storing with
 * a new resourceVersion, final deletion, and the side effects of CRDs and namespaces. All calls
 * are made with the store lock held. */
#ifndef KAS_OBJECTS_H
#define KAS_OBJECTS_H

#include "crd/compiler.h"

#include "registry.h"
#include "request.h"
#include "status.h"

#include <jansson.h>

/* Returns the apiVersion @rt is served as ("drover.io/v1alpha1", "v1"), owned, or NULL. */
json_t *kas_obj_api_version(const struct kas_rtype *rt);

/* Returns a copy of @obj as served by @rt (its apiVersion), owned by the caller, or NULL. */
json_t *kas_obj_present(const struct kas_rtype *rt, json_t *obj);

/* Returns the object the request names in its type's shape (a new reference the caller
 * releases), or NULL when there is none. */
json_t *kas_obj_lookup(const struct kas_request *req);

/* Checks kind/apiVersion of a submitted @obj against @rt and fills them in when missing.
 * Returns 0, or -1 with a 400 reply set. */
DROVER_WUR int kas_obj_check_kind(const struct kas_rtype *rt, json_t *obj, struct kas_reply *out);

/* Runs the checks and side effects due before @obj is written: CRD validation and registration,
 * namespace phase. Returns 0, or -1 with an error reply set. */
DROVER_WUR int kas_obj_before_write(const struct kas_rtype *rt, json_t *obj, struct kas_reply *out);

/* Gives @obj (stolen) the next resourceVersion, stores it with event @type and replies @code
 * with it. Can't fail (a full store is answered with a Status). */
void kas_obj_store(const struct kas_request *req, json_t *obj, const char *type, unsigned code,
		   struct kas_reply *out);

/* Removes the stored object @old (borrowed) for good: DELETED event, then CRD and namespace
 * clean-up. Replies 200 with its final state. Can't fail. */
void kas_obj_delete_now(const struct kas_request *req, json_t *old, struct kas_reply *out);

/* Returns the details of an error about object @name of @rt ({name, group, kind: plural}),
 * owned by the caller, or NULL on OOM. */
json_t *kas_obj_details(const struct kas_rtype *rt, const char *name);

/* Replies 404 for object @name of @rt. Can't fail. */
void kas_obj_not_found(const struct kas_rtype *rt, const char *name, struct kas_reply *out);

#endif
