/* keptstatus: a status kept between passes, in a form of its own. A VM's is packed into
 * blocks mapped apart from the heap, its strings shared through strpool: left where the
 * pass allocated them, 10k kept statuses held ~10 MiB of the heap's pages from going back
 * between passes (the rest of the pass around them is freed). Hosts and Migrations are
 * few: theirs stay as they are. Thread-safe. */
#ifndef DROVER_KEPTSTATUS_H
#define DROVER_KEPTSTATUS_H

#include <stdbool.h>

#include "crd/types.h"

/* Keeps status *@status of @kind: what it holds is taken, and *@status is left zeroed
 * whether or not it could be kept. Returns the kept status, NULL when out of memory. */
void *ks_keep(enum crd_kind kind, void *status);

/* Kept status @kept of @kind back into *@status (what that held is freed); @kept is used
 * up either way. Returns false when out of memory (then *@status is unchanged). */
bool ks_give(enum crd_kind kind, void *kept, void *status);

/* Frees kept status @kept of @kind. Accepts NULL. Can't fail. */
void ks_free(enum crd_kind kind, void *kept);

#endif
