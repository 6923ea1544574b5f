/* kubeapi test server: YAML bodies (server-side apply's application/apply-patch+yaml) read
 * into JSON values, with the scalar rules of the real server's YAML reader (YAML 1.1). */
#ifndef KAS_YAML_H
#define KAS_YAML_H

#include "crd/compiler.h"

#include "util.h"

#include <jansson.h>
#include <stddef.h>

/* Parses the first document of @text (@len bytes). Returns the value (owned by the caller),
 * or NULL with *err set to a malloc'd message naming line and column. */
DROVER_WUR json_t *kas_yaml_parse(const char *text, size_t len, char **err);

#endif
