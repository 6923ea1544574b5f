/* kubeapi test server: label selectors (=, ==, !=, in, notin, exists, !exists) and field
 * selectors (=, ==, != on dotted paths such as metadata.name) for list and watch. */
#ifndef KAS_SELECT_H
#define KAS_SELECT_H

#include "crd/compiler.h"

#include "util.h"

#include <jansson.h>
#include <stdbool.h>

struct kas_selector;

/* Parses the labelSelector and fieldSelector query values (either may be NULL). With
 * @meta_only (custom resources without selectableFields, as on the real server) field
 * selectors may only name metadata.name and metadata.namespace. Returns 0 and a selector the
 * caller frees, or -1 with *err set to a malloc'd message the caller owns. */
DROVER_WUR int kas_selector_parse(const char *labels, const char *fields, bool meta_only,
				  struct kas_selector **out, char **err);

/* True when @obj satisfies every requirement; a NULL selector matches everything. */
bool kas_selector_match(const struct kas_selector *s, json_t *obj);

/* Frees @s; accepts NULL. */
void kas_selector_free(struct kas_selector *s);

#endif
