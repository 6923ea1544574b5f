/* kubeapi test server: get, list, create, update, patch and delete of objects (not watch). */
#ifndef KAS_CRUD_H
#define KAS_CRUD_H

#include "crd/compiler.h"

#include "request.h"
#include "status.h"

/* Serves @req (its rt is set) with the store lock held. Can't fail: errors become Status replies. */
void kas_crud_handle(const struct kas_request *req, struct kas_reply *out);

/* Creates @obj (stolen; NULL answers 400) as a POST does: name, namespace, server-owned
 * metadata, schema, managed fields, dryRun. Store lock held. Can't fail: errors are replies. */
void kas_crud_create(const struct kas_request *req, json_t *obj, struct kas_reply *out);

/* Parses a list continue token into the list's resourceVersion and the key to resume after
 * (malloc'd, the caller owns it). Returns 0, or -1 when malformed. */
DROVER_WUR int kas_crud_continue_parse(const char *token, uint64_t *rv, char **after);

#endif
