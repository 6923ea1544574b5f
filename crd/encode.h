/* encode: status and whole objects → jansson values, and JSON values → YAML text. */
#ifndef DROVER_CRD_ENCODE_H
#define DROVER_CRD_ENCODE_H

#include "crd/compiler.h"

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crd/types.h"

/* Each returns a new reference (the caller decrefs), or NULL when out of memory. Unset
 * optional fields are omitted; sizes are written as quantities ("64Gi"). */
json_t *crd_host_status_to_json(const struct crd_host_status *st);
json_t *crd_vm_status_to_json(const struct crd_vm_status *st);
json_t *crd_migration_status_to_json(const struct crd_migration_status *st);
json_t *crd_conditions_to_json(const struct crd_conditions *c);

/* Whole objects (apiVersion, kind, metadata, spec, status), as the API would return them. */
json_t *crd_host_to_json(const struct crd_host *h);
json_t *crd_vm_to_json(const struct crd_vm *vm);
json_t *crd_migration_to_json(const struct crd_migration *m);
json_t *crd_policy_to_json(const struct crd_policy *p);

/* Like json_dumps(@v, @flags), but a failure anywhere fails the whole text: jansson 2.14's
 * json_dumps ignores a failed append while it writes an object's key, and returns text with
 * that piece missing (a key dropped to "", or a quote lost). Returns a NUL-terminated string
 * the caller frees, or NULL when out of memory or over CRD_JSON_TEXT_MAX. */
#define CRD_JSON_TEXT_MAX (64u << 20)
char *crd_json_dumps(const json_t *v, size_t flags) DROVER_WUR;

/* FNV-1a, 64 bits: @h (CRD_FNV1A_INIT to begin) with the @len bytes at @p added. */
#define CRD_FNV1A_INIT 14695981039346656037ULL
uint64_t crd_fnv1a(uint64_t h, const void *p, size_t len);

/* A digest of @v's content, never 0: equal for equal values built in the same order, so
 * equal digests mean equal texts from crd_json_dumps with the same flags. It costs a
 * fraction of writing the text, which lets a writer know a record unchanged without
 * writing it. This function can't fail. */
uint64_t crd_json_digest(const json_t *v);

/* Renders @v as a YAML document (block style, strings quoted when needed). Returns a
 * NUL-terminated string the caller frees, or NULL on error. */
char *crd_json_to_yaml(const json_t *v) DROVER_WUR;

#endif
