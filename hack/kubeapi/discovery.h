/* kubeapi test server: discovery (/api, /apis, group and version resource lists), /version,
 * and a minimal OpenAPI v3 (enough for kubectl's field-validation check). */
#ifndef KAS_DISCOVERY_H
#define KAS_DISCOVERY_H

#include "status.h"

#include <stdbool.h>

/* Serves @path (without the query) when it is a discovery, version or OpenAPI path.
 * Store lock held. Returns true when it replied. Can't fail otherwise. */
bool kas_discovery_handle(const char *path, struct kas_reply *out);

#endif
