/* status_print: what `drover status` prints — the recorded hosts, virtual machines and
 * migrations as tables, or as one Kubernetes List in JSON or YAML. */
#ifndef DROVER_STATUS_PRINT_H
#define DROVER_STATUS_PRINT_H

#include "crd/compiler.h"

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "crd/types.h"

#define STATUS_REASON_MAX 60        /* characters of a failure reason shown in a table */

/* Returns a new List, as `kubectl get host,vm,migration -o json` would print it:
 * {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [...]},
 * items being the whole objects, hosts first, then virtual machines, then migrations, each
 * sorted by namespace and name. The caller decrefs it. Returns NULL when out of memory. */
json_t *status_to_list(const struct crd_set *set) DROVER_WUR;

/* Prints @set to @out as @format: "table" (three sections, HOSTS, VIRTUAL MACHINES and
 * MIGRATIONS; an empty kind is left out), "json" or "yaml" (status_to_list). Rows are sorted
 * by namespace and name; migration AGE is measured up to @now. Prints nothing for an empty
 * set in table form (the caller says why). Returns 0, or -1 on an unknown format, when out
 * of memory or when writing to @out failed. */
int status_print(FILE *out, const struct crd_set *set, const char *format, time_t now) DROVER_WUR;

/* Writes the time from RFC 3339 @since to @now into @buf the way kubectl shows AGE ("45s",
 * "3m20s", "2h", "5d"), or "-" when @since is NULL or not a timestamp. Returns @buf. This
 * function can't fail. */
const char *status_age(const char *since, time_t now, char *buf, size_t size);

#endif
