/* status_print: what `drover status` prints — the recorded hosts, virtual machines and
 * migrations as tables, or as one Kubernetes List in JSON or YAML. */
#ifndef DROVER_STATUS_PRINT_H
#define DROVER_STATUS_PRINT_H

#include "crd/compiler.h"

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "controller/dir/lastvalid.h"
#include "crd/types.h"

#define STATUS_REASON_MAX 60        /* characters of a failure reason shown in a table */

/* Returns a new List, as `kubectl get host,vm,migration -o json` would print it:
 * {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [...]},
 * items being the whole objects, hosts first, then virtual machines, then migrations, each
 * sorted by namespace and name; with @invalid (the manifests are recorded invalid), also
 * "manifests": lastvalid_note_to_json(@invalid). The caller decrefs it. Returns NULL when
 * out of memory. */
json_t *status_to_list(const struct crd_set *set, const struct lastvalid_note *invalid) DROVER_WUR;

/* Prints @set to @out as @format: "table" (three sections, HOSTS, VIRTUAL MACHINES and
 * MIGRATIONS; an empty kind is left out), "wide" (the same with more columns: a Host's vCPUs,
 * CPU load and huge pages, a VM's status.placement), "json" or "yaml" (status_to_list).
 * With @invalid (NULL: the manifests are valid) the tables start with a MANIFESTS INVALID
 * section listing each error at its FILE:LINE:COL. Rows are sorted by namespace and name;
 * migration AGE is measured up to @now. Prints nothing for an empty set and no @invalid in
 * table form (the caller says why). Returns 0, or -1 on an unknown format, when out of
 * memory or when writing to @out failed. */
int status_print(FILE *out, const struct crd_set *set, const struct lastvalid_note *invalid,
		 const char *format, time_t now) DROVER_WUR;

/* Writes the time from RFC 3339 @since to @now into @buf the way kubectl shows AGE ("45s",
 * "3m20s", "2h", "5d"), or "-" when @since is NULL or not a timestamp. Returns @buf. This
 * function can't fail. */
const char *status_age(const char *since, time_t now, char *buf, size_t size);

#endif
