/* kube_obj: Kubernetes API paths, resources, object metadata and API time formats. */
#ifndef DROVER_KUBE_OBJ_H
#define DROVER_KUBE_OBJ_H

#include "crd/compiler.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KUBE_PATH_MAX 2048        /* one request path with its query */

/* A Kubernetes API resource: where its objects live. */
struct kube_resource {
	const char *group;        /* "" for the core group */
	const char *version;
	const char *plural;
	const char *kind;
	bool namespaced;
	bool has_status;          /* the /status subresource exists */
};

extern const struct kube_resource kube_res_vm, kube_res_host, kube_res_migration, kube_res_policy,
	kube_res_lease, kube_res_event;

/* Writes the path of @res in namespace @ns (ignored for cluster-scoped kinds; NULL: all
 * namespaces), object @name (NULL: the collection) and subresource @sub (NULL: none) into
 * @buf. Returns 0, or -1 when it does not fit. */
int kube_path(char *buf, size_t len, const struct kube_resource *res, const char *ns,
	      const char *name, const char *sub) DROVER_WUR;

/* Appends "&key=value" (or "?key=value" when @buf has no query yet) with @value URL-escaped.
 * Returns 0, or -1 when it does not fit or out of memory. */
int kube_path_query(char *buf, size_t len, const char *key, const char *value) DROVER_WUR;

/* Reads metadata.namespace/name/resourceVersion of @obj. Strings point into @obj; NULL when
 * absent. This function can't fail. */
const char *kube_obj_ns(const json_t *obj);
const char *kube_obj_name(const json_t *obj);
const char *kube_obj_rv(const json_t *obj);
json_int_t kube_obj_generation(const json_t *obj);

#endif
