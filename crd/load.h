/* load: read manifests (files, directories, multi-document YAML, JSON) or API objects into typed structs. */
#ifndef DROVER_CRD_LOAD_H
#define DROVER_CRD_LOAD_H

#include "crd/compiler.h"

#include <jansson.h>

#include "crd/error.h"
#include "crd/types.h"

/* Hard caps on hostile input. */
#define CRD_FILE_MAX_BYTES   (4u << 20)     /* one manifest file */
#define CRD_DOC_MAX_BYTES    (1u << 20)     /* one document (etcd keeps objects under 1.5 MiB) */
#define CRD_DOC_MAX_DEPTH    32             /* nesting of maps and lists */
#define CRD_DOC_MAX_NODES    20000          /* scalars, maps and lists in one document */
#define CRD_DOMAIN_XML_MAX   (256u << 10)   /* spec.domain.xml */
#define CRD_LOAD_MAX_FILES   10000          /* files found under the -f paths */

/* Reads every file and directory in @paths (directories recursively: *.yaml, *.yml, *.json,
 * skipping dot-files), decodes and validates every document, then checks references and
 * duplicates across all of them. Objects that decoded cleanly are appended to @set (which must
 * be zeroed or hold earlier objects); every problem is appended to @errs, skipped documents as
 * notes. Returns 0 when there was no error, -1 otherwise. The caller frees @set and @errs. */
int crd_load_paths(const char *const *paths, size_t n, struct crd_set *set,
		   struct crd_errors *errs) DROVER_WUR;

/* Like crd_load_paths for one in-memory file named @file (YAML, or JSON when @file ends in
 * ".json"), without the cross-document checks. Returns 0 or -1 as above. */
int crd_load_buffer(const char *file, const char *buf, size_t len, struct crd_set *set,
		    struct crd_errors *errs) DROVER_WUR;

/* Checks references (VM spec.host, Migration vmName/targetHost) and duplicate names over the
 * whole set. Returns 0 when there was no error, -1 otherwise, with @errs appended. */
int crd_set_check(const struct crd_set *set, struct crd_errors *errs) DROVER_WUR;

/* Decodes and validates one object from the Kubernetes API (kind taken from the object).
 * @source labels errors (e.g. "api"); positions are 0 and errors carry the object name.
 * Returns 0 with @out filled (caller frees with crd_object_free), 1 when the object is not a
 * drover kind (skipped, @out untouched), -1 on error with @errs appended and @out zeroed. */
int crd_decode_json_object(const json_t *obj, const char *source, struct crd_object *out,
			   struct crd_errors *errs) DROVER_WUR;

#endif
