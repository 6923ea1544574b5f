/* invindex: the domains of observed hosts sorted by name, so finding a VM's copies is a
 * binary search rather than a scan of every host (a scan per VM made a pass quadratic). */
#ifndef DROVER_INVINDEX_H
#define DROVER_INVINDEX_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "reconcile/inventory.h"


/* One named domain: the number its host was added under, and the domain itself. */
struct inv_ref {
	const char *name;
	size_t host;
	const struct inv_domain *d;
};

/* Sorted by name, then host number; one entry per name and host, the host's first domain
 * of that name (libvirt keeps names unique per host). A builder: add every host, then
 * sort once; lookups are valid after the sort. */
struct inv_index {
	struct inv_ref *refs;
	size_t n, cap;
	bool oom;       /* sticky: an add ran out of memory; sort reports it */
};

/* Adds the named domains of @h (NULL adds none) as host number @host; the caller's numbers
 * order the hosts in lookups, and map back to its own array of hosts. The entries point
 * into @h, which must outlive the index. On out of memory the index is marked failed and
 * later adds do nothing; inv_index_sort reports it. */
void inv_index_add(struct inv_index *x, size_t host, const struct inv_host *h);

/* Sorts what was added. Returns 0, or -1 when an add ran out of memory (then lookups find
 * nothing; free it as always). */
int inv_index_sort(struct inv_index *x) DROVER_WUR;

/* Fills @x (zeroed) with every host of @inv, numbered by its position in inv->hosts.
 * Returns 0, or -1 when out of memory. */
int inv_index_inventory(struct inv_index *x, const struct inventory *inv) DROVER_WUR;

/* The domains named @name, one per host, in host order. Returns the first with their number in *@n, or
 * NULL with *@n = 0 when there is none (or @name is NULL). This function can't fail. */
const struct inv_ref *inv_index_find(const struct inv_index *x, const char *name, size_t *n);

/* The domain named @name of host number @host (its first), or NULL. Can't fail. */
const struct inv_domain *inv_index_on_host(const struct inv_index *x, const char *name,
					   size_t host);

/* Releases the entries (not the domains) and zeroes @x; accepts NULL. */
void inv_index_free(struct inv_index *x);

#endif
