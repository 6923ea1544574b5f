/* kubeapi test server: field sets of server-side apply (which fields a manager owns), their
 * paths inside objects, and the fieldsV1 trees of metadata.managedFields. A set is a JSON
 * object mapping paths (path elements such as "f:spec" or "k:{\"type\":\"Ready\"}" joined by
 * '\n') to true. */
#ifndef KAS_FIELDSET_H
#define KAS_FIELDSET_H

#include "util.h"

#include <jansson.h>
#include <stdbool.h>

/* Returns the set of fields @obj sets (owned by the caller, NULL on OOM), by @schema (NULL:
 * objects are structs, lists atomic). Leaves, atomic lists, maps and the elements of map
 * lists are members; metadata contributes labels, annotations, finalizers, ownerReferences.
 * With @status_sub, only status (@status_part) or only the rest is counted. */
json_t *kas_fields_of(json_t *obj, json_t *schema, bool status_part, bool status_sub);

/* Returns the value at @path inside @obj (borrowed), or NULL. */
json_t *kas_fields_value(json_t *obj, const char *path);

/* Removes the field at @path from @obj, when there. Can't fail. */
void kas_fields_remove(json_t *obj, const char *path);

/* Returns @path as the real server prints it in conflicts (".spec.host",
 * ".status.conditions[{\"type\":\"Ready\"}]"); the caller owns it. NULL on OOM. */
char *kas_fields_pretty(const char *path);

/* Returns the fieldsV1 tree of @set, or a set from a fieldsV1 tree. Owned; NULL on OOM. */
json_t *kas_fields_tree(json_t *set);
json_t *kas_fields_from_tree(json_t *tree);

#endif
