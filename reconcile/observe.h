/* observe: build the inventory from libvirt — every host's resources and domains. */
#ifndef DROVER_OBSERVE_H
#define DROVER_OBSERVE_H

#include <libvirt/libvirt.h>

#include "crd/types.h"
#include "reconcile/inventory.h"
#include "reconcile/lv.h"

/* Reads host @name over @conn into @out (zeroed first; the caller frees it with
 * inv_host_free). Returns 0 with out->reachable true, or -1 when a libvirt call
 * failed: out->reachable is false and out->error says why. */
int obs_host(virConnectPtr conn, const char *name, struct inv_host *out)
	__attribute__((warn_unused_result));

/* Connects to every Host of @set through @pool (in parallel, bounded in time) and
 * observes each. Unreachable hosts are listed with reachable false and their error.
 * Returns 0 with @out filled (the caller frees it with inv_free), or -1 when out of
 * memory. */
int obs_inventory(struct lv_pool *pool, const struct crd_set *set, struct inventory *out)
	__attribute__((warn_unused_result));

#endif
