/* kube_status: writes to objects that must not lose a concurrent change — status through
 * the /status subresource, optimistic updates with resourceVersion (409 → re-read, retry),
 * finalizers, and metav1.Condition lists. */
#ifndef DROVER_KUBE_STATUS_H
#define DROVER_KUBE_STATUS_H

#include "crd/compiler.h"

#include <jansson.h>

#include "controller/kube/kube_http.h"
#include "crd/types.h"

#define KUBE_FINALIZER_MIGRATION "drover.io/migration-abort"
/* On every VirtualMachine drover manages: deleting one applies its deletionPolicy to its
 * domains on every host before the object goes. */
#define KUBE_FINALIZER_VM "drover.io/vm-deletion"
/* Set by `drover restart VM` (to the time of the request): a restart in place is asked
 * for. drover removes it as the restart begins. */
#define KUBE_ANNOTATION_RESTART "drover.io/restart"
#define KUBE_CONFLICT_RETRIES 5           /* attempts after the first, on 409 Conflict */

/* Merge-patches {"status": @status} into the /status subresource of @ns/@name, without a
 * resourceVersion: the last writer of a field wins, which is right for observed state.
 * Returns 0 with the stored object in *@stored (when not NULL; the caller decrefs), or -1
 * with @r describing the failure (the caller frees @r either way). */
int kube_status_patch(struct kube_client *c, const struct kube_resource *res, const char *ns,
		      const char *name, const json_t *status, json_t **stored,
		      struct kube_response *r) DROVER_WUR;

/* Builds the new status of @current (read-only; the object as stored now). Returns a new
 * status object (the caller of kube_status_update decrefs it), or NULL to write nothing. */
typedef json_t *(*kube_status_fn)(void *opaque, const json_t *current);

/* Reads @ns/@name, asks @fn for its status, sets status.observedGeneration to the object's
 * metadata.generation, and merge-patches /status with the read resourceVersion, so a status
 * computed from a stale object is refused (409) and computed again from a fresh read, at
 * most KUBE_CONFLICT_RETRIES times. Returns 0 (also when @fn wrote nothing), or -1 with @r
 * describing the failure (the caller frees @r either way). */
int kube_status_update(struct kube_client *c, const struct kube_resource *res, const char *ns,
		       const char *name, kube_status_fn fn, void *opaque,
		       struct kube_response *r) DROVER_WUR;

/* Changes @obj (a private copy the caller may modify) in place. Returns 1 when it changed
 * something, 0 when there is nothing to write, -1 to give up. */
typedef int (*kube_mutate_fn)(void *opaque, json_t *obj);

/* An optimistic update: applies @fn to @cached (when not NULL: e.g. the informer's copy,
 * possibly stale) or to a fresh read, PUTs the result with its resourceVersion, and on 409
 * Conflict reads the object again and retries, at most KUBE_CONFLICT_RETRIES times. Returns
 * 0 with the stored object in *@stored (when not NULL; the caller decrefs; NULL when nothing
 * was written), or -1 with @r describing the failure. The caller frees @r either way;
 * r->attempts counts every request sent. */
int kube_update_retry(struct kube_client *c, const struct kube_resource *res, const char *ns,
		      const char *name, const json_t *cached, kube_mutate_fn fn, void *opaque,
		      json_t **stored, struct kube_response *r) DROVER_WUR;

/* Adds or removes @finalizer in metadata.finalizers with kube_update_retry. Removing the
 * last finalizer of an object being deleted completes its deletion (then *@stored may be
 * the deleted object or NULL). Nothing is added to an object being deleted (the API server
 * refuses that). Returns 0 (also when there was nothing to change), or -1. */
int kube_finalizer_add(struct kube_client *c, const struct kube_resource *res, const char *ns,
		       const char *name, const json_t *cached, const char *finalizer,
		       json_t **stored, struct kube_response *r) DROVER_WUR;
int kube_finalizer_remove(struct kube_client *c, const struct kube_resource *res, const char *ns,
			  const char *name, const json_t *cached, const char *finalizer,
			  json_t **stored, struct kube_response *r) DROVER_WUR;

/* Removes annotation @key of @ns/@name with kube_update_retry when it still reads @value
 * (a newer value is someone's newer request, kept). Returns 0 (also when there was nothing
 * to remove, or the object is gone), or -1 with @r describing the failure (the caller frees
 * @r either way). */
int kube_annotation_drop(struct kube_client *c, const struct kube_resource *res, const char *ns,
			 const char *name, const json_t *cached, const char *key, const char *value,
			 struct kube_response *r) DROVER_WUR;

/* True when @obj lists @finalizer. This function can't fail. */
bool kube_has_finalizer(const json_t *obj, const char *finalizer);

/* Puts @cond — made by status_set_condition, the one condition setter — into the JSON list
 * @conditions (metav1.Condition), in place of the one of its type. Returns 0, or -1 when
 * out of memory. */
int kube_condition_set(json_t *conditions, const struct crd_condition *cond) DROVER_WUR;

/* The condition of @type in the JSON list @conditions as a struct (type, status and
 * lastTransitionTime: what status_set_condition needs to keep the transition time), or an
 * empty @out when there is none. Returns 0, or -1 when out of memory. */
int kube_condition_get(const json_t *conditions, const char *type,
		       struct crd_conditions *out) DROVER_WUR;

#endif
