/* plan_orphan: domains drover owns that no VirtualMachine declares any more. */
#include "reconcile/plan_orphan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/index.h"

void plan_orphans_free(struct plan_orphans *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->items[i].host);
		free(o->items[i].name);
		free(o->items[i].owner_namespace);
		free(o->items[i].owner_name);
		free(o->items[i].reason);
	}
	free(o->items);
	memset(o, 0, sizeof(*o));
}

/* Appends the orphan @d on @h. Returns 0, or -1 when out of memory. */
static int add(struct plan_orphans *out, const struct inv_host *h, const struct inv_domain *d,
	       bool prune)
{
	struct plan_orphan *grown = realloc(out->items, (out->n + 1) * sizeof(*grown));
	char reason[512];

	if (!grown)
		return -1;
	out->items = grown;
	struct plan_orphan *o = &out->items[out->n++];
	snprintf(reason, sizeof(reason), "%s/%s is no longer declared%s", d->owner_namespace,
		 d->owner_name, prune ? (d->active ? ": stopping and undefining it (disks kept)"
					 : ": undefining it (disks kept)")
		 : d->active ? "; left running (--prune stops and undefines it)"
		 : "; left defined (--prune undefines it)");
	*o = (struct plan_orphan){.host = strdup(h->name), .name = strdup(d->name),
				  .owner_namespace = strdup(d->owner_namespace),
				  .owner_name = strdup(d->owner_name), .active = d->active,
				  .prune = prune, .reason = strdup(reason)};
	return o->host && o->name && o->owner_namespace && o->owner_name && o->reason ? 0 : -1;
}

int plan_orphans_compute(const struct crd_set *desired, const struct inventory *inv, bool prune,
			 struct plan_orphans *out)
{
	struct crd_index vms;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	/* A failed build only makes the lookups scan. */
	(void)crd_index_build(&vms, desired->vms, desired->n_vms, sizeof(*desired->vms));
	for (size_t i = 0; i < inv->n_hosts && rc == 0; i++) {
		const struct inv_host *h = &inv->hosts[i];
		for (size_t j = 0; h->reachable && j < h->n_domains; j++) {
			const struct inv_domain *d = &h->domains[j];
			if (!d->owner_name || !d->owner_namespace || d->job_active ||
			    d->migrating_in ||
			    crd_index_find(&vms, d->owner_namespace, d->owner_name) != CRD_INDEX_NONE)
				continue;
			if ((rc = add(out, h, d, prune)) < 0)
				break;
		}
	}
	crd_index_free(&vms);
	if (rc < 0)
		plan_orphans_free(out);
	return rc;
}
