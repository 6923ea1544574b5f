/* kubeapi test server: merge patch (RFC 7386), its strategic flavour, and JSON patch (RFC 6902). */
#ifndef KAS_PATCH_H
#define KAS_PATCH_H

#include "crd/compiler.h"

#include "util.h"

#include <jansson.h>
#include <stdbool.h>

/* Applies merge patch @patch to @target (stolen). With @strategic, "$..." directive keys of a
 * strategic merge patch are dropped and lists are replaced whole, which is what strategic merge
 * does for lists without a patch merge key. Returns the result (owned), or NULL on OOM or when
 * the patch nests deeper than 64 levels. */
DROVER_WUR json_t *kas_merge_patch(json_t *target, json_t *patch, bool strategic);

/* Applies the JSON patch @ops (an array of operations) to @doc (stolen). Returns the result
 * (owned), or NULL with *err set to a malloc'd message the caller owns. */
DROVER_WUR json_t *kas_json_patch(json_t *doc, json_t *ops, char **err);

#endif
