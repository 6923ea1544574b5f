/* plan_orphan: domains drover owns (its metadata) that no VirtualMachine declares any more
 * — directory mode's deletion. Pure: desired objects and inventory in, a list out. */
#ifndef DROVER_PLAN_ORPHAN_H
#define DROVER_PLAN_ORPHAN_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "crd/types.h"
#include "reconcile/inventory.h"

struct plan_orphan {
	char *host;             /* where the domain is defined */
	char *name;             /* the domain's name */
	char *owner_namespace, *owner_name;  /* its drover metadata */
	bool active;            /* running (or paused) now */
	bool prune;             /* to be stopped and undefined (--prune); else only reported */
	char *reason;
};

struct plan_orphans {
	struct plan_orphan *items;
	size_t n;
};

/* Lists every domain on a reachable host of @inv whose drover metadata names a VM that
 * @desired does not declare. With @prune they are to be stopped and undefined (their disks
 * are never deleted); without, reported and left as they are. A domain in a migration or a
 * libvirt job is left out: it is not settled yet. Deterministic (inventory order).
 * Returns 0 with @out filled (free with plan_orphans_free), or -1 when out of memory
 * (@out empty). */
int plan_orphans_compute(const struct crd_set *desired, const struct inventory *inv, bool prune,
			 struct plan_orphans *out) DROVER_WUR;

/* Frees the list and zeroes @o; accepts NULL. */
void plan_orphans_free(struct plan_orphans *o);

#endif
