/* kubeapi test server: PUT and PATCH, main resource and /status. */
#include "update.h"
#include "apply.h"
#include "objects.h"
#include "patch.h"
#include "schema.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* Metadata only the server writes: an update keeps the stored values. */
static const char *const system_meta[] = {
	"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace",
};

/* Sets @key of @dst to @src's value, or removes it when @src has none. */
static void carry(json_t *dst, json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	if (v)
		json_object_set(dst, key, v);
	else
		json_object_del(dst, key);
}

/* True when @a and @b differ outside metadata and status: what bumps generation. */
static bool spec_changed(json_t *a, json_t *b)
{
	json_t *x = json_copy(a), *y = json_copy(b);
	bool changed;

	json_object_del(x, "metadata");
	json_object_del(x, "status");
	json_object_del(y, "metadata");
	json_object_del(y, "status");
	changed = !json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return changed;
}

/* Builds what gets stored from @old and the client's @next (stolen): a /status write takes only
 * status, a main-resource write everything but status. Returns the object (owned) or NULL. */
static json_t *merge_rules(const struct kas_request *req, json_t *old, json_t *next)
{
	json_t *result, *meta, *old_meta = json_object_get(old, "metadata");

	if (req->status) {
		result = json_deep_copy(old);
		if (result)
			carry(result, next, "status");
		json_decref(next);
		return result;
	}
	if (req->rt->status_sub)
		carry(next, old, "status");
	meta = kas_meta(next);
	for (size_t i = 0; meta && i < sizeof(system_meta) / sizeof(system_meta[0]); i++)
		carry(meta, old_meta, system_meta[i]);
	return next;
}

/* Checks the resourceVersion the client sent (@want, may be NULL) against @old. Returns 0, or
 * -1 with a 409/422 reply. */
static int check_rv(const struct kas_request *req, json_t *old, const char *want, bool required,
		    struct kas_reply *out)
{
	const char *have = kas_json_str(old, "metadata.resourceVersion");

	if (want && *want && (!have || strcmp(want, have))) {
		kas_reply_details(out, 409, "Conflict", kas_obj_details(req->rt, req->name),
				  "Operation cannot be fulfilled on %s \"%s\": the object has been modified; please apply "
				  "your changes to the latest version and try again", req->rt->qname, req->name);
		return -1;
	}
	if ((!want || !*want) && required) {
		kas_reply_status(out, 422, "Invalid", "%s \"%s\" is invalid: metadata.resourceVersion: Invalid value: 0x0: "
				 "must be specified for an update", req->rt->qname, req->name);
		return -1;
	}
	return 0;
}

/* True when @list holds the string @s. */
static bool has_string(json_t *list, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (json_string_value(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* The real server's rule: once an object is being deleted its finalizers may only go, never
 * grow (otherwise a controller could hold a deleted object forever). Returns 0, or -1 with a
 * 422 reply. */
static int check_no_new_finalizers(const struct kas_request *req, json_t *old, json_t *next,
				   struct kas_reply *out)
{
	json_t *have = kas_json_at(old, "metadata.finalizers"), *want = kas_json_at(next, "metadata.finalizers");
	json_t *v, *causes;
	size_t i;

	if (!kas_json_at(old, "metadata.deletionTimestamp"))
		return 0;
	json_array_foreach(want, i, v) {
		if (!json_string_value(v) || has_string(have, json_string_value(v)))
			continue;
		char *msg = kas_printf("Forbidden: no new finalizers can be added if the object is being deleted, "
				       "found new finalizers []string{\"%s\"}", json_string_value(v));
		causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueForbidden", "message",
				   msg ? msg : "Forbidden", "field", "metadata.finalizers");
		kas_schema_reply_invalid(req->rt, req->name, causes, out);
		json_decref(causes);
		free(msg);
		return -1;
	}
	return 0;
}

/* Finishes an update of @old into the client's @next (stolen). */
static void commit(const struct kas_request *req, json_t *old, json_t *next, bool rv_required,
		   struct kas_reply *out)
{
	char *want = NULL;
	json_int_t gen = json_integer_value(kas_json_at(old, "metadata.generation"));

	if (kas_json_str(next, "metadata.resourceVersion"))
		want = strdup(kas_json_str(next, "metadata.resourceVersion"));
	next = merge_rules(req, old, next);
	if (!next || check_rv(req, old, want, rv_required, out) < 0 ||
	    check_no_new_finalizers(req, old, next, out) < 0 || kas_schema_admit(req, next, out) < 0)
		goto cleanup;
	if (kas_managed_track(req, old, next) < 0)
		goto cleanup;
	if (kas_obj_set_rv(next, kas_obj_rv(old)) < 0 ||
	    json_object_set_new(kas_meta(next), "generation", json_integer(spec_changed(old, next) ? gen + 1 : gen)) < 0)
		goto cleanup;
	if (json_equal(old, next)) {
		/* A no-op write keeps the resourceVersion and sends no event, like the real server. */
		kas_reply_json(out, 200, kas_obj_present(req->rt, old));
	} else if (kas_arg(req, "dryRun") && *kas_arg(req, "dryRun")) {
		kas_reply_json(out, 200, kas_obj_present(req->rt, next));
	} else if (kas_json_at(next, "metadata.deletionTimestamp") &&
		   json_array_size(kas_json_at(next, "metadata.finalizers")) == 0) {
		kas_obj_delete_now(req, next, out);
	} else if (kas_obj_before_write(req->rt, next, out) == 0) {
		kas_obj_store(req, next, "MODIFIED", 200, out);
		next = NULL;
	}
cleanup:
	if (out->code == 0)
		kas_reply_status(out, 500, "InternalError", "out of memory");
	json_decref(next);
	free(want);
}

void kas_update_commit(const struct kas_request *req, json_t *old, json_t *next, struct kas_reply *out)
{
	commit(req, old, next, false, out);
}

static void put_over(const struct kas_request *req, json_t *old, struct kas_reply *out)
{
	json_t *next;
	const char *name = kas_json_str(req->body, "metadata.name");
	const char *ns = kas_json_str(req->body, "metadata.namespace");

	if (!json_is_object(req->body)) {
		kas_reply_status(out, 400, "BadRequest", "the request body must be a JSON object");
	} else if (!name || strcmp(name, req->name)) {
		kas_reply_status(out, 400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)",
				 name ? name : "", req->name);
	} else if (ns && *ns && req->rt->namespaced && strcmp(ns, kas_req_ns(req))) {
		kas_reply_status(out, 400, "BadRequest",
				 "the namespace of the provided object does not match the namespace sent on the request");
	} else if (!old) {
		kas_obj_not_found(req->rt, req->name, out);
	} else if ((next = json_deep_copy(req->body)) && kas_obj_check_kind(req->rt, next, out) < 0) {
		json_decref(next);
	} else {
		/* Custom resources refuse unconditional updates; built-in kinds here allow them. */
		commit(req, old, next, req->rt->custom, out);
	}
}

/* Applies the request's patch to a copy of @old. Returns the result (owned), or NULL with a reply. */
static json_t *apply_patch(const struct kas_request *req, json_t *old, struct kas_reply *out)
{
	const char *ct = req->content_type ? req->content_type : "";
	char *err = NULL;
	json_t *next = NULL;

	if (!strncmp(ct, "application/merge-patch+json", 28)) {
		next = kas_merge_patch(json_deep_copy(old), req->body, false);
	} else if (!strncmp(ct, "application/strategic-merge-patch+json", 38) && !req->rt->custom) {
		next = kas_merge_patch(json_deep_copy(old), req->body, true);
	} else if (!strncmp(ct, "application/json-patch+json", 27)) {
		next = kas_json_patch(json_deep_copy(old), req->body, &err);
		if (!next) {
			kas_reply_status(out, 422, "Invalid", "%s", err);
			free(err);
			return NULL;
		}
	} else {
		kas_reply_status(out, 415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
				 "accepted media types include: application/json-patch+json, application/merge-patch+json, "
				 "application/apply-patch+yaml%s", req->rt->custom ? "" : ", application/strategic-merge-patch+json");
		return NULL;
	}
	if (!json_is_object(next)) {
		kas_reply_status(out, 422, "Invalid", "the patch result is not an object");
		json_decref(next);
		return NULL;
	}
	return next;
}

static void patch_over(const struct kas_request *req, json_t *old, struct kas_reply *out)
{
	json_t *next;
	const char *name;

	if (kas_apply_is(req) && req->body) {
		kas_apply_patch(req, out);
		return;
	}
	if (!old) {
		kas_obj_not_found(req->rt, req->name, out);
		return;
	}
	if (!req->body) {
		kas_reply_status(out, 400, "BadRequest", "the patch body is empty");
		return;
	}
	next = apply_patch(req, old, out);
	if (!next)
		return;
	name = kas_json_str(next, "metadata.name");
	if (!name || strcmp(name, req->name) || kas_obj_check_kind(req->rt, next, out) < 0) {
		if (out->code == 0)
			kas_reply_status(out, 400, "BadRequest", "a patch may not change metadata.name");
		json_decref(next);
		return;
	}
	commit(req, old, next, false, out);
}

void kas_update_put(const struct kas_request *req, struct kas_reply *out)
{
	json_t *old = kas_obj_lookup(req);

	put_over(req, old, out);
	json_decref(old);
}

void kas_update_patch(const struct kas_request *req, struct kas_reply *out)
{
	json_t *old = kas_obj_lookup(req);

	patch_over(req, old, out);
	json_decref(old);
}
