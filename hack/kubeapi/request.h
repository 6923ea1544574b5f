/* kubeapi test server: one parsed API request, as http.c hands it to the handlers. */
#ifndef KAS_REQUEST_H
#define KAS_REQUEST_H

#include "registry.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

struct kas_request {
	const char *method;
	const char *url;
	const struct kas_rtype *rt;  /* the resource type named by the URL */
	const char *ns;              /* namespace from the URL, NULL when none */
	const char *name;            /* object name, NULL for a collection */
	bool status;                 /* the /status subresource */
	json_t *body;                /* parsed JSON body, NULL when empty */
	const char *content_type;
	const char *accept;
	const char *user_agent;      /* names the field manager when the request names none */
	/* Query parameters: returns the value of @key or NULL. */
	const char *(*arg)(void *ctx, const char *key);
	void *arg_ctx;
};

static inline const char *kas_arg(const struct kas_request *r, const char *key)
{
	return r->arg ? r->arg(r->arg_ctx, key) : NULL;
}

/* A boolean query parameter as the real server reads it (Go's strconv.ParseBool): "1", "t",
 * "T", "true", "TRUE", "True" are true; anything else false. */
static inline bool kas_arg_bool(const struct kas_request *r, const char *key)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	const char *v = kas_arg(r, key);

	for (size_t i = 0; v && i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcmp(v, yes[i]))
			return true;
	return false;
}

/* The namespace part of a store key: "" for cluster-scoped types. */
static inline const char *kas_req_ns(const struct kas_request *r)
{
	return (r->rt && r->rt->namespaced && r->ns) ? r->ns : "";
}

#endif
