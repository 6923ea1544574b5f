/* kubeapi test server: presenting, storing and finally deleting objects, with the side effects
 * of CRDs (registration) and namespaces (their objects go with them). */
#include "objects.h"
#include "events.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define CRD_RKEY "apiextensions.k8s.io/customresourcedefinitions"
#define NS_RKEY "/namespaces"
/* Most objects a cascade removes in one request. */
#define PURGE_MAX 100000

json_t *kas_obj_api_version(const struct kas_rtype *rt)
{
	return *rt->group ? json_sprintf("%s/%s", rt->group, rt->version) : json_string(rt->version);
}

json_t *kas_obj_present(const struct kas_rtype *rt, json_t *obj)
{
	json_t *copy = json_deep_copy(obj);

	if (copy && rt->events_v1)
		kas_events_to_v1(copy);
	if (copy)
		json_object_set_new(copy, "apiVersion", kas_obj_api_version(rt));
	return copy;
}

json_t *kas_obj_lookup(const struct kas_request *req)
{
	json_t *stored = kas_store_get(req->rt->rkey, kas_req_ns(req), req->name);

	if (!stored || !req->rt->events_v1)
		return json_incref(stored);
	return kas_obj_present(req->rt, stored);
}

int kas_obj_check_kind(const struct kas_rtype *rt, json_t *obj, struct kas_reply *out)
{
	const char *kind = kas_json_str(obj, "kind"), *av = kas_json_str(obj, "apiVersion");
	const char *slash = av ? strchr(av, '/') : NULL;
	size_t glen = slash ? (size_t)(slash - av) : 0;

	if (kind && strcmp(kind, rt->kind)) {
		kas_reply_status(out, 400, "BadRequest", "the kind in the data (%s) does not match the expected kind (%s)",
				 kind, rt->kind);
		return -1;
	}
	if (av && (strlen(rt->group) != glen || strncmp(av, rt->group, glen))) {
		kas_reply_status(out, 400, "BadRequest", "the API version in the data (%s) does not match the expected group (%s)",
				 av, rt->group);
		return -1;
	}
	json_object_set_new(obj, "kind", json_string(rt->kind));
	json_object_set_new(obj, "apiVersion", kas_obj_api_version(rt));
	return 0;
}

int kas_obj_before_write(const struct kas_rtype *rt, json_t *obj, struct kas_reply *out)
{
	char *problem;

	if (!strcmp(rt->rkey, NS_RKEY)) {
		json_t *status = json_object_get(obj, "status");

		if (!json_is_object(status))
			json_object_set_new(obj, "status", status = json_object());
		if (!json_object_get(status, "phase"))
			json_object_set_new(status, "phase", json_string("Active"));
		return 0;
	}
	if (strcmp(rt->rkey, CRD_RKEY))
		return 0;
	problem = kas_registry_crd_problem(obj);
	if (problem) {
		kas_reply_status(out, 422, "Invalid", "CustomResourceDefinition.apiextensions.k8s.io \"%s\" is invalid: %s",
				 kas_json_str(obj, "metadata.name") ? kas_json_str(obj, "metadata.name") : "", problem);
		free(problem);
		return -1;
	}
	if (kas_registry_apply_crd(obj) < 0) {
		kas_reply_status(out, 500, "InternalError", "registering the CRD failed");
		return -1;
	}
	return 0;
}

void kas_obj_store(const struct kas_request *req, json_t *obj, const char *type, unsigned code,
		   struct kas_reply *out)
{
	const char *name = kas_json_str(obj, "metadata.name");
	json_t *reply = NULL;

	if (req->rt->events_v1) {
		/* Stored with the core Events; the reply is in the type's own shape. */
		kas_events_to_core(obj);
		json_object_set_new(obj, "apiVersion", json_string("v1"));
	}
	if (kas_obj_set_rv(obj, kas_store_next_rv()) < 0 || !(reply = kas_obj_present(req->rt, obj)) ||
	    kas_store_put(req->rt->rkey, kas_req_ns(req), name, json_incref(obj), type) < 0) {
		kas_reply_status(out, 403, "Forbidden", "object limit reached: %s \"%s\" not stored", req->rt->qname,
				 name ? name : "");
		json_decref(reply);
	} else {
		kas_reply_json(out, code, reply);
	}
	json_decref(obj);
}

struct purge_ctx {
	const char *ns;  /* NULL = every object */
	json_t *keys;    /* [skey...] */
};

static int collect(void *ctx, const char *skey, json_t *obj)
{
	struct purge_ctx *p = ctx;
	const char *ns = kas_json_str(obj, "metadata.namespace");

	(void)skey;
	if (json_array_size(p->keys) >= PURGE_MAX)
		return 1;
	if (!p->ns || (ns && !strcmp(ns, p->ns)))
		json_array_append_new(p->keys, json_deep_copy(obj));
	return 0;
}

/* Deletes every object under @rkey (in namespace @ns, or all when NULL), each with an event. */
static void purge(const char *rkey, const char *ns)
{
	struct purge_ctx p = { ns, json_array() };
	size_t i;
	json_t *obj;

	if (!p.keys)
		return;
	kas_store_scan(rkey, NULL, collect, &p);
	json_array_foreach(p.keys, i, obj) {
		const char *ons = kas_json_str(obj, "metadata.namespace");

		if (kas_obj_set_rv(obj, kas_store_next_rv()) == 0)
			kas_store_del(rkey, ons ? ons : "", kas_json_str(obj, "metadata.name"), json_incref(obj));
	}
	json_decref(p.keys);
}

static void after_delete(const struct kas_rtype *rt, json_t *obj)
{
	if (!strcmp(rt->rkey, CRD_RKEY)) {
		char *rkey = kas_printf("%s/%s", kas_json_str(obj, "spec.group"), kas_json_str(obj, "spec.names.plural"));

		kas_registry_drop_crd(kas_json_str(obj, "metadata.name"));
		if (rkey)
			purge(rkey, NULL);
		free(rkey);
	} else if (!strcmp(rt->rkey, NS_RKEY)) {
		const char *ns = kas_json_str(obj, "metadata.name");

		/* Bounded by the registry size; a type seen twice (two versions) finds nothing. */
		for (size_t i = 0; i < kas_registry_count(); i++)
			if (kas_registry_at(i)->namespaced)
				purge(kas_registry_at(i)->rkey, ns);
	}
}

void kas_obj_delete_now(const struct kas_request *req, json_t *old, struct kas_reply *out)
{
	json_t *last = json_deep_copy(old);

	if (last && req->rt->events_v1) {
		kas_events_to_core(last);
		json_object_set_new(last, "apiVersion", json_string("v1"));
	}
	if (!last || kas_obj_set_rv(last, kas_store_next_rv()) < 0) {
		json_decref(last);
		kas_reply_status(out, 500, "InternalError", "out of memory");
		return;
	}
	kas_reply_json(out, 200, kas_obj_present(req->rt, last));
	kas_store_del(req->rt->rkey, kas_req_ns(req), req->name, json_incref(last));
	after_delete(req->rt, last);
	json_decref(last);
}

json_t *kas_obj_details(const struct kas_rtype *rt, const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "name", name ? name : "", "group", rt->group, "kind", rt->plural);
}

void kas_obj_not_found(const struct kas_rtype *rt, const char *name, struct kas_reply *out)
{
	kas_reply_details(out, 404, "NotFound", kas_obj_details(rt, name), "%s \"%s\" not found", rt->qname, name);
}
