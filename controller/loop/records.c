/* records: which finished Migrations to forget. */
#include "controller/loop/records.h"

#include <stdlib.h>
#include <string.h>

bool records_own(const struct crd_migration *m)
{
	return m->status.reason != CRD_MIG_REASON_NONE && m->status.reason != CRD_MIG_REQUESTED;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* By VM (namespace, name), then newest first: RFC 3339 UTC times sort as strings; a
 * missing end time sorts last. */
static int by_vm_newest_first(const void *a, const void *b)
{
	const struct crd_migration *x = *(const struct crd_migration *const *)a;
	const struct crd_migration *y = *(const struct crd_migration *const *)b;
	int c = strcmp(or_empty(x->meta.namespace), or_empty(y->meta.namespace));

	if (!c)
		c = strcmp(or_empty(x->spec.vm_name), or_empty(y->spec.vm_name));
	return c ? c : strcmp(or_empty(y->status.end_time), or_empty(x->status.end_time));
}

static bool same_vm(const struct crd_migration *x, const struct crd_migration *y)
{
	return !strcmp(or_empty(x->meta.namespace), or_empty(y->meta.namespace)) &&
	       !strcmp(or_empty(x->spec.vm_name), or_empty(y->spec.vm_name));
}

long records_to_forget(const struct crd_set *set, size_t keep,
		       bool (*pick)(const struct crd_migration *m, const void *opaque),
		       const void *opaque, const struct crd_migration ***out)
{
	const struct crd_migration **all = calloc(set->n_migrations + 1, sizeof(*all));
	size_t n = 0, kept = 0, forget = 0;

	*out = NULL;
	if (!all)
		return -1;
	for (size_t i = 0; i < set->n_migrations; i++) {
		const struct crd_migration *m = &set->migrations[i];
		if (crd_mig_phase_ended(m->status.phase) && (!pick || pick(m, opaque)))
			all[n++] = m;
	}
	qsort(all, n, sizeof(*all), by_vm_newest_first);
	/* Compacted in place: what is forgotten moves to the front. */
	for (size_t i = 0; i < n; i++) {
		kept = i > 0 && same_vm(all[i - 1], all[i]) ? kept + 1 : 1;
		if (kept > keep)
			all[forget++] = all[i];
	}
	*out = all;
	return (long)forget;
}
