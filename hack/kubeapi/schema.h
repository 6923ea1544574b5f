/* kubeapi test server: a type's structural schema applied to a write: pruning, defaults,
 * validation and the client's fieldValidation, as the real API server does. */
#ifndef KAS_SCHEMA_H
#define KAS_SCHEMA_H

#include "crd/compiler.h"

#include "request.h"
#include "status.h"

#include <jansson.h>

/* Prunes @obj (changed in place) by req->rt's schema, answers unknown fields as the request's
 * fieldValidation asks (Strict: 400; Warn, the default: Warning headers on @out), fills in
 * defaults and validates. Returns 0, or -1 with a 400 (strict decoding, or a built-in kind's
 * type error) or 422 Invalid reply carrying details.causes. A type without a schema passes. */
DROVER_WUR int kas_schema_admit(const struct kas_request *req, json_t *obj, struct kas_reply *out);

/* Replies 422 Invalid for object @name of @rt with @causes ([{reason, message, field}],
 * borrowed) in the message and in details.causes. Can't fail. */
void kas_schema_reply_invalid(const struct kas_rtype *rt, const char *name, json_t *causes, struct kas_reply *out);

#endif
