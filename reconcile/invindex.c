/* invindex: the domains of observed hosts sorted by name, for lookups without a scan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/invindex.h"

void inv_index_add(struct inv_index *x, size_t host, const struct inv_host *h)
{
	if (x->oom || !h || !h->n_domains)
		return;
	/* One growth per host, at least doubling: appending 100k domains stays linear. */
	if (h->n_domains > x->cap - x->n) {
		size_t want = x->n + h->n_domains, cap = x->cap * 2 > want ? x->cap * 2 : want;
		struct inv_ref *grown = cap <= SIZE_MAX / sizeof(*grown)
						? realloc(x->refs, cap * sizeof(*grown)) : NULL;
		if (!grown) {
			x->oom = true;
			return;
		}
		x->refs = grown;
		x->cap = cap;
	}
	for (size_t i = 0; i < h->n_domains; i++)
		if (h->domains[i].name)
			x->refs[x->n++] = (struct inv_ref){h->domains[i].name, host, &h->domains[i]};
}

static int ref_cmp(const void *a, const void *b)
{
	const struct inv_ref *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (!r)
		r = (x->host > y->host) - (x->host < y->host);
	/* Domains of one host are one array: address order is the host's order. */
	return r ? r : (x->d > y->d) - (x->d < y->d);
}

int inv_index_sort(struct inv_index *x)
{
	size_t kept = 0;

	if (x->oom) {
		x->n = 0;
		return -1;
	}
	if (x->n)
		qsort(x->refs, x->n, sizeof(*x->refs), ref_cmp);
	/* libvirt keeps names unique per host; should a host list one twice, its first counts. */
	for (size_t i = 0; i < x->n; i++)
		if (!kept || x->refs[kept - 1].host != x->refs[i].host ||
		    strcmp(x->refs[kept - 1].name, x->refs[i].name))
			x->refs[kept++] = x->refs[i];
	x->n = kept;
	return 0;
}

int inv_index_inventory(struct inv_index *x, const struct inventory *inv)
{
	memset(x, 0, sizeof(*x));
	for (size_t i = 0; inv && i < inv->n_hosts; i++)
		inv_index_add(x, i, &inv->hosts[i]);
	return inv_index_sort(x);
}

const struct inv_ref *inv_index_find(const struct inv_index *x, const char *name, size_t *n)
{
	size_t lo = 0, hi = x->n, end;

	*n = 0;
	if (!name)
		return NULL;
	while (lo < hi) {       /* the first entry not below @name */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(x->refs[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < x->n && !strcmp(x->refs[end].name, name); end++)
		;
	*n = end - lo;
	return *n ? &x->refs[lo] : NULL;
}

const struct inv_domain *inv_index_on_host(const struct inv_index *x, const char *name,
					   size_t host)
{
	size_t n;
	const struct inv_ref *e = inv_index_find(x, name, &n);

	for (size_t i = 0; i < n; i++)
		if (e[i].host == host)
			return e[i].d;
	return NULL;
}

void inv_index_free(struct inv_index *x)
{
	if (!x)
		return;
	free(x->refs);
	memset(x, 0, sizeof(*x));
}
