/* index: the objects of one kind in a set, sorted by name and namespace. */
#include <stdlib.h>
#include <string.h>

#include "crd/index.h"

const struct crd_meta *crd_index_at(const struct crd_index *x, size_t i)
{
	return (const void *)((const char *)x->all + i * x->size);
}

/* Orders by name first: names differ far more often than namespaces. */
static int key_cmp(const struct crd_meta *m, const char *ns, const char *name)
{
	int r = strcmp(m->name, name);
	return r ? r : strcmp(m->namespace, ns);
}

static int ref_cmp(const void *a, const void *b)
{
	const struct crd_index_ref *x = a, *y = b;
	int r = key_cmp(x->m, y->m->namespace, y->m->name);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

int crd_index_build(struct crd_index *x, const void *all, size_t n, size_t size)
{
	*x = (struct crd_index){.all = all, .n = n, .size = size};
	if (!(x->refs = calloc(n + 1, sizeof(*x->refs))))
		return -1;
	for (size_t i = 0; i < n; i++)
		x->refs[i] = (struct crd_index_ref){crd_index_at(x, i), i};
	qsort(x->refs, n, sizeof(*x->refs), ref_cmp);
	return 0;
}

/* Without an index (it could not be built): the first match in array order. */
static size_t scan(const struct crd_index *x, const char *ns, const char *name)
{
	for (size_t i = 0; i < x->n; i++)
		if (!key_cmp(crd_index_at(x, i), ns, name))
			return i;
	return CRD_INDEX_NONE;
}

size_t crd_index_find(const struct crd_index *x, const char *ns, const char *name)
{
	size_t lo = 0, hi = x->n;

	if (!name)
		return CRD_INDEX_NONE;
	ns = ns ? ns : "default";
	if (!x->refs)
		return scan(x, ns, name);
	while (lo < hi) {       /* the first entry not below the key: duplicates sort by position */
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(x->refs[mid].m, ns, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n && !key_cmp(x->refs[lo].m, ns, name) ? x->refs[lo].i : CRD_INDEX_NONE;
}

void crd_index_free(struct crd_index *x)
{
	if (!x)
		return;
	free(x->refs);
	memset(x, 0, sizeof(*x));
}

int crd_set_index_build(struct crd_set_index *x, const struct crd_set *set)
{
	int rc = 0;

	rc |= crd_index_build(&x->kind[CRD_KIND_HOST], set->hosts, set->n_hosts,
			      sizeof(set->hosts[0]));
	rc |= crd_index_build(&x->kind[CRD_KIND_VM], set->vms, set->n_vms, sizeof(set->vms[0]));
	rc |= crd_index_build(&x->kind[CRD_KIND_MIGRATION], set->migrations, set->n_migrations,
			      sizeof(set->migrations[0]));
	rc |= crd_index_build(&x->kind[CRD_KIND_POLICY], set->policies, set->n_policies,
			      sizeof(set->policies[0]));
	return rc ? -1 : 0;
}

void crd_set_index_free(struct crd_set_index *x)
{
	for (size_t k = 0; x && k < sizeof(x->kind) / sizeof(x->kind[0]); k++)
		crd_index_free(&x->kind[k]);
}
