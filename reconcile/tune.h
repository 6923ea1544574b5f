/* tune: spec.tuning against a domain's — read from domain XML, compared without I/O. */
#ifndef DROVER_TUNE_H
#define DROVER_TUNE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "crd/types.h"
#include "reconcile/inventory.h"

/* Reads <memtune>, <blkiotune><weight> and every <disk>'s <iotune> of domain XML @xml into
 * @out (known = true). Returns 0, or -1 when @xml does not parse or out of memory (@out is
 * then empty, known false). The caller frees @out with inv_tuning_free. */
int tune_from_xml(const char *xml, struct inv_tuning *out) DROVER_WUR;

/* tune_from_xml of a parsed document @doc (NULL reads as not parsing). */
int tune_from_doc(xmlDoc *doc, struct inv_tuning *out) DROVER_WUR;

/* Compares what @want asks (only its written fields) with @config, the persistent
 * definition's tuning, and @live, the running guest's (NULL when not running). Returns true
 * when they differ, with the differences in @why ("memory.softLimit: 128Mi live, want
 * 256Mi; ..."; always NUL-terminated). A side whose tuning is not known is not compared.
 * This function can't fail. */
bool tune_differs(const struct crd_tuning *want, const struct inv_tuning *config,
		  const struct inv_tuning *live, char *why, size_t size);

#endif
