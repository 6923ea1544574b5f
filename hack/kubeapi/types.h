/* kubeapi test server: structural schemas of the built-in kinds' Go types, so a write with a
 * string where an integer belongs or a malformed timestamp is refused as on the real server. */
#ifndef KAS_TYPES_H
#define KAS_TYPES_H

#include <jansson.h>

/* Returns the schema of built-in @group/@plural (owned by the caller), or NULL when it has
 * none or on OOM. */
json_t *kas_types_schema(const char *group, const char *plural);

#endif
