/* kubeapi test server: get, list, create and delete; updates and patches live in update.c. */
#include "crud.h"
#include "apply.h"
#include "objects.h"
#include "schema.h"
#include "select.h"
#include "store.h"
#include "table.h"
#include "update.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Largest page a list returns, whatever limit asks for. */
#define LIST_MAX 100000

static json_t *list_meta(uint64_t rv, const char *cont, size_t remaining)
{
	json_t *meta = json_object();
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, rv);
	json_object_set_new(meta, "resourceVersion", json_string(buf));
	if (cont) {
		json_object_set_new(meta, "continue", json_string(cont));
		json_object_set_new(meta, "remainingItemCount", json_integer((json_int_t)remaining));
	}
	return meta;
}

static void do_get(const struct kas_request *req, struct kas_reply *out)
{
	json_t *obj = kas_store_get(req->rt->rkey, kas_req_ns(req), req->name);
	json_t *one, *meta;

	if (!obj) {
		kas_obj_not_found(req->rt, req->name, out);
		return;
	}
	if (!kas_table_wanted(req->accept)) {
		kas_reply_json(out, 200, kas_obj_present(req->rt, obj));
		return;
	}
	one = json_pack("[O]", obj);
	meta = list_meta(kas_obj_rv(obj), NULL, 0);
	kas_reply_json(out, 200, kas_table(req->rt, one, kas_arg(req, "includeObject"), meta));
	json_decref(one);
	json_decref(meta);
}

struct list_ctx {
	const char *ns;
	struct kas_selector *sel;
	size_t limit;
	json_t *items;
	const char *last;  /* skey of the last item taken (borrowed from the store) */
	size_t remaining;
	const struct kas_rtype *rt;
};

static int list_one(void *ctx, const char *skey, json_t *obj)
{
	struct list_ctx *l = ctx;
	const char *ns = kas_json_str(obj, "metadata.namespace");

	if (l->ns && (!ns || strcmp(ns, l->ns)))
		return 0;
	if (!kas_selector_match(l->sel, obj))
		return 0;
	if (json_array_size(l->items) < l->limit) {
		json_array_append_new(l->items, kas_obj_present(l->rt, obj));
		l->last = skey;
	} else {
		l->remaining++;
	}
	return 0;
}

int kas_crud_continue_parse(const char *token, uint64_t *rv, char **after)
{
	char *raw = token ? kas_hex_decode(token) : NULL;
	char *bar = raw ? strchr(raw, '|') : NULL;

	*after = NULL;
	if (!bar) {
		free(raw);
		return -1;
	}
	*bar = '\0';
	if (kas_parse_u64(raw, rv) < 0 || !(*after = strdup(bar + 1))) {
		free(raw);
		return -1;
	}
	free(raw);
	return 0;
}

/* Reads limit and continue. Returns 0, or -1 with an error reply set. */
static int list_page(const struct kas_request *req, struct list_ctx *l, uint64_t *rv, char **after,
		     struct kas_reply *out)
{
	const char *limit = kas_arg(req, "limit"), *cont = kas_arg(req, "continue");
	uint64_t n = 0;

	l->limit = LIST_MAX;
	if (limit && *limit && (kas_parse_u64(limit, &n) < 0 || n > LIST_MAX)) {
		kas_reply_status(out, 400, "BadRequest", "invalid limit \"%s\"", limit);
		return -1;
	}
	if (n > 0)
		l->limit = (size_t)n;
	*rv = kas_store_rv();
	if (!cont || !*cont)
		return 0;
	if (kas_crud_continue_parse(cont, rv, after) < 0) {
		kas_reply_status(out, 400, "BadRequest", "invalid continue token");
		return -1;
	}
	if (*rv < kas_store_compacted()) {
		kas_reply_status(out, 410, "Expired",
				 "The provided continue parameter is too old to display a consistent list result. "
				 "You can start a new list without the continue parameter.");
		return -1;
	}
	return 0;
}

static void do_list(const struct kas_request *req, struct kas_reply *out)
{
	struct list_ctx l = { .ns = req->rt->namespaced ? req->ns : NULL, .rt = req->rt, .items = json_array() };
	char *after = NULL, *err = NULL, *token = NULL, *raw = NULL;
	uint64_t rv = 0;
	json_t *meta = NULL;

	if (kas_selector_parse(kas_arg(req, "labelSelector"), kas_arg(req, "fieldSelector"), req->rt->custom, &l.sel, &err) < 0) {
		kas_reply_status(out, 400, "BadRequest", "%s", err ? err : "bad selector");
		goto cleanup;
	}
	if (list_page(req, &l, &rv, &after, out) < 0)
		goto cleanup;
	kas_store_scan(req->rt->rkey, after, list_one, &l);
	if (l.remaining > 0 && l.last) {
		raw = kas_printf("%" PRIu64 "|%s", rv, l.last);
		token = raw ? kas_hex_encode(raw) : NULL;
	}
	meta = list_meta(kas_store_rv(), token, l.remaining);
	if (kas_table_wanted(req->accept)) {
		kas_reply_json(out, 200, kas_table(req->rt, l.items, kas_arg(req, "includeObject"), meta));
	} else {
		kas_reply_json(out, 200, json_pack("{s:s, s:o, s:O, s:O}", "kind", req->rt->list_kind, "apiVersion",
						   kas_obj_api_version(req->rt), "metadata", meta, "items", l.items));
	}
cleanup:
	json_decref(meta);
	json_decref(l.items);
	kas_selector_free(l.sel);
	free(after);
	free(err);
	free(raw);
	free(token);
}

static bool dry_run(const struct kas_request *req)
{
	const char *d = kas_arg(req, "dryRun");

	return d && *d;
}

/* Settles the new object's name (generateName gets a random suffix). Returns 0, or -1 with a reply. */
static int create_name(const struct kas_request *req, json_t *meta, struct kas_reply *out)
{
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *gen = json_string_value(json_object_get(meta, "generateName"));
	char sfx[8];

	if ((!name || !*name) && gen && *gen && kas_random_suffix(sfx, 5) == 0) {
		json_object_set_new(meta, "name", json_sprintf("%s%s", gen, sfx));
		name = json_string_value(json_object_get(meta, "name"));
	}
	if (!name || !*name) {
		kas_reply_status(out, 422, "Invalid", "%s \"\" is invalid: metadata.name: Required value: name or generateName is required",
				 req->rt->qname);
		return -1;
	}
	if (!kas_valid_name(name, 253)) {
		kas_reply_status(out, 422, "Invalid", "%s \"%s\" is invalid: metadata.name: Invalid value: \"%s\": a lowercase "
				 "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
				 req->rt->qname, name, name);
		return -1;
	}
	return 0;
}

/* Settles the new object's namespace. Returns 0, or -1 with a reply. */
static int create_namespace(const struct kas_request *req, json_t *meta, struct kas_reply *out)
{
	const char *ns = json_string_value(json_object_get(meta, "namespace"));

	if (!req->rt->namespaced) {
		json_object_del(meta, "namespace");
		return 0;
	}
	if (!req->ns) {
		kas_reply_status(out, 405, "MethodNotAllowed", "%s is namespaced: create it under /namespaces/NS/",
				 req->rt->qname);
		return -1;
	}
	if (ns && *ns && strcmp(ns, req->ns)) {
		kas_reply_status(out, 400, "BadRequest",
				 "the namespace of the provided object does not match the namespace sent on the request");
		return -1;
	}
	if (!kas_store_get("/namespaces", "", req->ns)) {
		kas_reply_status(out, 404, "NotFound", "namespaces \"%s\" not found", req->ns);
		return -1;
	}
	return json_object_set_new(meta, "namespace", json_string(req->ns));
}

/* Sets what the server owns in a new object's metadata. Returns 0 or -1. */
static int create_system_meta(json_t *meta)
{
	char uid[37], now[32];

	if (kas_uuid(uid) < 0)
		return -1;
	json_object_del(meta, "deletionTimestamp");
	json_object_del(meta, "deletionGracePeriodSeconds");
	json_object_del(meta, "resourceVersion");
	json_object_del(meta, "managedFields");
	json_object_set_new(meta, "uid", json_string(uid));
	json_object_set_new(meta, "creationTimestamp", json_string(kas_time_format(time(NULL), now, sizeof(now))));
	return json_object_set_new(meta, "generation", json_integer(1));
}

static void do_create(const struct kas_request *req, struct kas_reply *out)
{
	kas_crud_create(req, json_is_object(req->body) ? json_deep_copy(req->body) : NULL, out);
}

void kas_crud_create(const struct kas_request *req, json_t *obj, struct kas_reply *out)
{
	json_t *meta = kas_meta(obj);

	if (!meta) {
		kas_reply_status(out, 400, "BadRequest", "the request body must be a JSON object");
		goto cleanup;
	}
	if (kas_obj_check_kind(req->rt, obj, out) < 0 || create_name(req, meta, out) < 0 ||
	    create_namespace(req, meta, out) < 0)
		goto cleanup;
	if (kas_store_get(req->rt->rkey, kas_req_ns(req), kas_json_str(meta, "name"))) {
		kas_reply_details(out, 409, "AlreadyExists", kas_obj_details(req->rt, kas_json_str(meta, "name")),
				  "%s \"%s\" already exists", req->rt->qname, kas_json_str(meta, "name"));
		goto cleanup;
	}
	/* With a status subresource, status is only ever written through /status. */
	if (req->rt->status_sub)
		json_object_del(obj, "status");
	if (create_system_meta(meta) < 0) {
		kas_reply_status(out, 500, "InternalError", "no randomness for a uid");
		goto cleanup;
	}
	if (kas_schema_admit(req, obj, out) < 0)
		goto cleanup;
	if (kas_managed_track(req, NULL, obj) < 0) {
		kas_reply_status(out, 500, "InternalError", "out of memory");
		goto cleanup;
	}
	if (dry_run(req)) {
		kas_reply_json(out, 201, kas_obj_present(req->rt, obj));
		goto cleanup;
	}
	if (kas_obj_before_write(req->rt, obj, out) < 0)
		goto cleanup;
	kas_obj_store(req, obj, "ADDED", 201, out);
	obj = NULL;
cleanup:
	json_decref(obj);
}

/* Checks DeleteOptions.preconditions. Returns 0, or -1 with a 409 reply. */
static int delete_preconditions(const struct kas_request *req, json_t *old, struct kas_reply *out)
{
	json_t *pre = json_object_get(req->body, "preconditions");
	const char *rv = kas_json_str(pre, "resourceVersion"), *uid = kas_json_str(pre, "uid");
	const char *old_rv = kas_json_str(old, "metadata.resourceVersion"), *old_uid = kas_json_str(old, "metadata.uid");

	if ((rv && (!old_rv || strcmp(rv, old_rv))) || (uid && (!old_uid || strcmp(uid, old_uid)))) {
		kas_reply_details(out, 409, "Conflict", kas_obj_details(req->rt, req->name),
				  "Operation cannot be fulfilled on %s \"%s\": Precondition failed", req->rt->qname, req->name);
		return -1;
	}
	return 0;
}

static void delete_old(const struct kas_request *req, json_t *old, struct kas_reply *out)
{
	json_t *next, *meta;
	char now[32];

	if (!old) {
		kas_obj_not_found(req->rt, req->name, out);
		return;
	}
	if (delete_preconditions(req, old, out) < 0)
		return;
	if (dry_run(req) || kas_json_at(old, "metadata.deletionTimestamp")) {
		kas_reply_json(out, 200, kas_obj_present(req->rt, old));
		return;
	}
	if (json_array_size(kas_json_at(old, "metadata.finalizers")) == 0) {
		kas_obj_delete_now(req, old, out);
		return;
	}
	/* Finalizers hold the object: mark it, and let the update that empties them remove it. */
	next = json_deep_copy(old);
	meta = kas_meta(next);
	if (!meta) {
		json_decref(next);
		kas_reply_status(out, 500, "InternalError", "out of memory");
		return;
	}
	json_object_set_new(meta, "deletionTimestamp", json_string(kas_time_format(time(NULL), now, sizeof(now))));
	json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
	/* The real server counts the start of a graceful deletion as a change of the object's intent. */
	json_object_set_new(meta, "generation", json_integer(json_integer_value(json_object_get(meta, "generation")) + 1));
	kas_obj_store(req, next, "MODIFIED", 200, out);
}

static void do_delete(const struct kas_request *req, struct kas_reply *out)
{
	json_t *old = kas_obj_lookup(req);

	delete_old(req, old, out);
	json_decref(old);
}

void kas_crud_handle(const struct kas_request *req, struct kas_reply *out)
{
	const char *m = req->method;
	bool item = req->name != NULL;

	if (req->status && !req->rt->status_sub) {
		kas_reply_status(out, 404, "NotFound", "%s has no status subresource", req->rt->qname);
	} else if (!strcmp(m, "GET") && item) {
		do_get(req, out);
	} else if (!strcmp(m, "GET")) {
		do_list(req, out);
	} else if (!strcmp(m, "POST") && !item) {
		do_create(req, out);
	} else if (!strcmp(m, "PUT") && item) {
		kas_update_put(req, out);
	} else if (!strcmp(m, "PATCH") && item) {
		kas_update_patch(req, out);
	} else if (!strcmp(m, "DELETE") && item && !req->status) {
		do_delete(req, out);
	} else {
		kas_reply_status(out, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
	}
}
