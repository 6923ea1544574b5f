/* kubeapi test server: meta.k8s.io/v1 Table output (what kubectl get asks for), with the
 * columns of a type's additionalPrinterColumns. */
#ifndef KAS_TABLE_H
#define KAS_TABLE_H

#include "registry.h"

#include <jansson.h>
#include <stdbool.h>

/* True when an Accept header asks for meta.k8s.io Table output. */
bool kas_table_wanted(const char *accept);

/* Builds a Table for the objects in @objs (an array, borrowed) of type @rt. @include is the
 * includeObject query value ("None", "Object", or NULL/"Metadata"). @list_meta (borrowed, may
 * be NULL) becomes the Table's metadata. Returns the Table (owned), or NULL on OOM. */
json_t *kas_table(const struct kas_rtype *rt, json_t *objs, const char *include, json_t *list_meta);

/* Formats an age the way kubectl does ("45s", "3m12s", "5h", "12d"). Writes into @buf. */
const char *kas_table_age(long seconds, char *buf, size_t len);

#endif
