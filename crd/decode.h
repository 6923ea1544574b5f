/* decode: node trees → typed objects. Internal to crd/ (shared by decode*.c, load.c, tests). */
#ifndef DROVER_CRD_DECODE_H
#define DROVER_CRD_DECODE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stdint.h>

#include "crd/error.h"
#include "crd/node.h"
#include "crd/types.h"

struct crd_dctx {
	const char *file;               /* labels errors */
	char object[160];               /* "VirtualMachine default/web-1" once known */
	struct crd_errors *errs;
	char path[512];                 /* field path of the node being decoded */
	size_t path_len;
	size_t n_errors;                /* errors reported through this context */
	bool oom;
};

/* Decodes the document @root read from @file. Returns 0 with @out filled (caller frees it),
 * 1 when the document is skipped (a note was added, or it was empty), -1 when it had errors
 * (all appended to @errs; @out zeroed). */
int crd_decode_node(const struct crd_node *root, const char *file, struct crd_object *out,
		    struct crd_errors *errs) DROVER_WUR;

/* ---- helpers for decode*.c ---- */
/* Appends ".key" (or "[i]") to the field path; returns the length to restore with pop. */
size_t crd_dec_push(struct crd_dctx *c, const char *key);
size_t crd_dec_push_index(struct crd_dctx *c, size_t i);
void crd_dec_pop(struct crd_dctx *c, size_t saved);

/* Reports an error at @at (its key's position when @at_key) under the current path. */
void crd_dec_error(struct crd_dctx *c, const struct crd_node *at, bool at_key, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/* Reports every member of map @m not in the NULL-terminated @known, with a suggestion. */
void crd_dec_fields(struct crd_dctx *c, const struct crd_node *m, const char *const *known);

/* Returns the member @key of map @m, or NULL when absent or null (reporting
 * "required field is missing" when @required). */
const struct crd_node *crd_dec_member(struct crd_dctx *c, const struct crd_node *m,
				      const char *key, bool required);

/* True when @n is of @kind; otherwise reports "expected ..., got ..." and returns false. */
bool crd_dec_expect(struct crd_dctx *c, const struct crd_node *n, enum crd_node_kind kind);

/* Field readers: member @key of map @m. Each returns 1 when the field is absent or null (out
 * untouched, error reported if @required), 0 when read, -1 after reporting an error. */
int crd_dec_str(struct crd_dctx *c, const struct crd_node *m, const char *key, bool required,
		char **out);
int crd_dec_bool(struct crd_dctx *c, const struct crd_node *m, const char *key, bool *out);
int crd_dec_int(struct crd_dctx *c, const struct crd_node *m, const char *key, int64_t min,
		int64_t max, int64_t *out);
/* A number (integer or decimal) from @min to @max. */
int crd_dec_number(struct crd_dctx *c, const struct crd_node *m, const char *key, double min,
		   double max, double *out);
int crd_dec_u32(struct crd_dctx *c, const struct crd_node *m, const char *key, uint32_t min,
		uint32_t max, uint32_t *out);
int crd_dec_quantity(struct crd_dctx *c, const struct crd_node *m, const char *key,
		     bool required, uint64_t *out);
int crd_dec_enum(struct crd_dctx *c, const struct crd_node *m, const char *key,
		 const struct crd_enum_desc *d, int *out);
/* A map of strings whose keys and values follow the label rules when @labels. */
int crd_dec_map(struct crd_dctx *c, const struct crd_node *m, const char *key, bool labels,
		struct crd_map *out);
/* Returns map member @key (kind checked), NULL when absent/null/wrong kind. */
const struct crd_node *crd_dec_map_member(struct crd_dctx *c, const struct crd_node *m,
					  const char *key, bool required);
/* Returns list member @key (kind and length checked), NULL when absent/null/invalid. */
const struct crd_node *crd_dec_list(struct crd_dctx *c, const struct crd_node *m,
				    const char *key, size_t max);
int crd_dec_conditions(struct crd_dctx *c, const struct crd_node *m, struct crd_conditions *out);
char *crd_dec_strdup(struct crd_dctx *c, const char *s);

/* Kind decoders (decode_kinds.c): spec and status of the map @root. */
void crd_dec_host(struct crd_dctx *c, const struct crd_node *root, struct crd_host *h);
void crd_dec_vm(struct crd_dctx *c, const struct crd_node *root, struct crd_vm *vm);
/* spec.tuning of a VM whose domain @d is decoded already (diskIO targets must be its disks). */
void crd_dec_tuning(struct crd_dctx *c, const struct crd_node *spec, const struct crd_domain *d,
		    struct crd_tuning *t);
void crd_dec_migration(struct crd_dctx *c, const struct crd_node *root, struct crd_migration *m);
void crd_dec_policy(struct crd_dctx *c, const struct crd_node *root, struct crd_policy *p);

#endif
