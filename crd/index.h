/* index: the objects of one kind in a set, sorted by name and namespace, so looking one up
 * is a binary search rather than a scan (a scan per object made loops over 100k VMs
 * quadratic). */
#ifndef DROVER_CRD_INDEX_H
#define DROVER_CRD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "crd/types.h"

#define CRD_INDEX_NONE SIZE_MAX

struct crd_index_ref {
	const struct crd_meta *m;
	size_t i;                       /* its position in the array */
};

struct crd_index {
	const void *all;                /* the array indexed: n entries of size bytes, meta first */
	size_t n, size;
	struct crd_index_ref *refs;     /* by name, namespace, position; NULL: lookups scan */
};

/* Indexes the @n entries of @all, each @size bytes with its struct crd_meta first (an array
 * of crd_host, crd_vm or crd_migration). The array must outlive the index and not move.
 * Returns 0, or -1 when out of memory: then @x answers lookups all the same, by scanning. */
int crd_index_build(struct crd_index *x, const void *all, size_t n, size_t size);

/* The position of the first entry (lowest position) named @name in namespace @ns (NULL =
 * "default"), or CRD_INDEX_NONE when there is none or @name is NULL. This function can't
 * fail. */
size_t crd_index_find(const struct crd_index *x, const char *ns, const char *name);

/* The metadata of entry @i (below x->n) of the array. This function can't fail. */
const struct crd_meta *crd_index_at(const struct crd_index *x, size_t i);

/* Releases the index (not the array) and zeroes @x; accepts NULL. */
void crd_index_free(struct crd_index *x);

/* One index per kind of a set, by enum crd_kind (hosts, VMs, migrations, policies). */
struct crd_set_index {
	struct crd_index kind[CRD_N_KINDS];
};

/* Indexes every kind of @set, whose arrays must outlive @x and not move (no crd_set_add
 * meanwhile). Returns 0, or -1 when out of memory: lookups then scan, with the same answers. */
int crd_set_index_build(struct crd_set_index *x, const struct crd_set *set);

/* Releases the three indexes and zeroes @x; accepts NULL. */
void crd_set_index_free(struct crd_set_index *x);

#endif
