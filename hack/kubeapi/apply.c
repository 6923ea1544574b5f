/* kubeapi test server: managed fields and server-side apply. Every write records which
 * manager set which fields (metadata.managedFields, operation Update or Apply); an apply
 * (PATCH application/apply-patch+yaml) merges the manager's configuration, removes what it
 * stopped applying when nobody else owns it, and refuses to change fields another manager
 * owns (409 with one cause per field) unless forced. */
#include "apply.h"
#include "crud.h"
#include "fieldset.h"
#include "objects.h"
#include "store.h"
#include "update.h"

#include <stdlib.h>
#include <string.h>

/* Longest field manager name, as on the real server. */
#define MANAGER_MAX 128
#define MAX_DEPTH 64

bool kas_apply_is(const struct kas_request *req)
{
	return req->content_type && !strncmp(req->content_type, "application/apply-patch+yaml", 28);
}

/* The manager of this request: fieldManager, else the user agent up to its first '/'. */
static char *manager_of(const struct kas_request *req)
{
	const char *fm = kas_arg(req, "fieldManager"), *ua = req->user_agent;

	if (fm && *fm)
		return strdup(fm);
	if (!ua || !*ua)
		return strdup("unknown");
	return kas_printf("%.*s", (int)strcspn(ua, "/"), ua);
}

static const char *subresource(const struct kas_request *req)
{
	return req->status ? "status" : "";
}

/* The entry of (@manager, @op, this subresource) in @entries (borrowed), or NULL. */
static json_t *find_entry(json_t *entries, const char *manager, const char *op, const char *sub)
{
	size_t i;
	json_t *e;

	json_array_foreach(entries, i, e) {
		const char *esub = kas_json_str(e, "subresource");

		if (!strcmp(kas_json_str(e, "manager") ? kas_json_str(e, "manager") : "", manager) &&
		    !strcmp(kas_json_str(e, "operation") ? kas_json_str(e, "operation") : "", op) &&
		    !strcmp(esub ? esub : "", sub))
			return e;
	}
	return NULL;
}

/* Sets entry @e's fields to @set (borrowed) and stamps it. */
static void entry_set(const struct kas_request *req, json_t *e, json_t *set)
{
	char now[32];

	json_object_set_new(e, "apiVersion", kas_obj_api_version(req->rt));
	json_object_set_new(e, "time", json_string(kas_time_format(time(NULL), now, sizeof(now))));
	json_object_set_new(e, "fieldsType", json_string("FieldsV1"));
	json_object_set_new(e, "fieldsV1", kas_fields_tree(set));
}

/* Returns the entry of @manager/@op, added to @entries when missing (borrowed), or NULL. */
static json_t *own_entry(const struct kas_request *req, json_t *entries, const char *manager, const char *op)
{
	json_t *e = find_entry(entries, manager, op, subresource(req));

	if (e)
		return e;
	e = json_pack("{s:s, s:s}", "manager", manager, "operation", op);
	if (e && req->status)
		json_object_set_new(e, "subresource", json_string("status"));
	if (!e || json_array_append_new(entries, e) < 0)
		return NULL;
	return e;
}

/* Takes @paths (a set) away from every entry but @keep; drops entries left owning nothing. */
static void disown(json_t *entries, json_t *paths, json_t *keep)
{
	for (size_t i = json_array_size(entries); i-- > 0;) {
		json_t *e = json_array_get(entries, i), *set, *v;
		const char *p;
		bool changed = false;

		if (e == keep)
			continue;
		set = kas_fields_from_tree(json_object_get(e, "fieldsV1"));
		json_object_foreach(paths, p, v) {
			if (json_object_get(set, p)) {
				json_object_del(set, p);
				changed = true;
			}
		}
		if (changed && json_object_size(set) == 0) {
			json_array_remove(entries, i);
		} else if (changed) {
			json_object_set_new(e, "fieldsV1", kas_fields_tree(set));
		}
		json_decref(set);
	}
}

/* True when some entry but @except owns @path. */
static bool owned_by_other(json_t *entries, json_t *except, const char *path)
{
	size_t i;
	json_t *e;

	json_array_foreach(entries, i, e) {
		json_t *set;
		bool owns;

		if (e == except)
			continue;
		set = kas_fields_from_tree(json_object_get(e, "fieldsV1"));
		owns = json_object_get(set, path) != NULL;
		json_decref(set);
		if (owns)
			return true;
	}
	return false;
}

static void set_entries(json_t *obj, json_t *entries)
{
	if (json_array_size(entries) > 0)
		json_object_set(kas_meta(obj), "managedFields", entries);
	else
		json_object_del(kas_meta(obj), "managedFields");
}

/* Returns the fields @next sets to another value than @old (owned; NULL on OOM) and adds to
 * @removed those @old set and @next no longer does. */
static json_t *diff_fields(const struct kas_request *req, json_t *old, json_t *next, json_t *removed)
{
	json_t *now = kas_fields_of(next, req->rt->schema, req->status, req->rt->status_sub);
	json_t *before = old ? kas_fields_of(old, req->rt->schema, req->status, req->rt->status_sub) : json_object();
	json_t *changed = json_object(), *v;
	const char *p;

	if (!now || !before || !changed) {
		json_decref(changed);
		changed = NULL;
		goto cleanup;
	}
	json_object_foreach(now, p, v) {
		if (!json_equal(kas_fields_value(next, p), old ? kas_fields_value(old, p) : NULL))
			json_object_set_new(changed, p, json_true());
	}
	json_object_foreach(before, p, v) {
		if (!json_object_get(now, p))
			json_object_set_new(removed, p, json_true());
	}
cleanup:
	json_decref(now);
	json_decref(before);
	return changed;
}

/* Gives @changed to @manager's entry of this request's operation and takes @changed and
 * @removed from every other entry. Returns 0, or -1 on OOM. */
static int claim(const struct kas_request *req, json_t *entries, const char *manager, json_t *changed,
		 json_t *removed)
{
	json_t *mine, *set;

	disown(entries, changed, NULL);
	disown(entries, removed, NULL);
	mine = own_entry(req, entries, manager, kas_apply_is(req) ? "Apply" : "Update");
	set = mine ? kas_fields_from_tree(json_object_get(mine, "fieldsV1")) : NULL;
	if (!set)
		return -1;
	json_object_update(set, changed);
	entry_set(req, mine, set);
	json_decref(set);
	return 0;
}

int kas_managed_track(const struct kas_request *req, json_t *old, json_t *next)
{
	json_t *old_mf = kas_json_at(old, "metadata.managedFields");
	json_t *sent = kas_json_at(next, "metadata.managedFields");
	json_t *removed = json_object(), *changed = NULL, *entries = NULL;
	char *manager = manager_of(req);
	int rc = -1;

	/* A client that sends managedFields other than the stored ones sets them ([] clears). */
	if (json_is_array(sent) && !json_equal(sent, old_mf)) {
		set_entries(next, sent);
		rc = 0;
		goto cleanup;
	}
	entries = json_is_array(old_mf) ? json_deep_copy(old_mf) : json_array();
	changed = removed ? diff_fields(req, old, next, removed) : NULL;
	if (!manager || !entries || !changed)
		goto cleanup;
	/* A write that changes no field leaves every entry as it was (and stays a no-op). */
	if ((json_object_size(changed) > 0 || json_object_size(removed) > 0) &&
	    claim(req, entries, manager, changed, removed) < 0)
		goto cleanup;
	set_entries(next, entries);
	rc = 0;
cleanup:
	free(manager);
	json_decref(removed);
	json_decref(changed);
	json_decref(entries);
	return rc;
}

/* ---- apply ---- */

static json_t *list_keys(json_t *s)
{
	const char *type = kas_json_str(s, "x-kubernetes-list-type");

	return type && !strcmp(type, "map") ? json_object_get(s, "x-kubernetes-list-map-keys") : NULL;
}

static bool same_keys(json_t *a, json_t *b, json_t *keys)
{
	size_t i;
	json_t *k;

	json_array_foreach(keys, i, k) {
		if (!json_equal(json_object_get(a, json_string_value(k)), json_object_get(b, json_string_value(k))))
			return false;
	}
	return true;
}

static json_t *merge(json_t *live, json_t *cfg, json_t *s, int depth);

/* Merges list @cfg into @live by the map keys: elements are matched, others appended. */
static json_t *merge_list(json_t *live, json_t *cfg, json_t *s, json_t *keys, int depth)
{
	json_t *out = json_copy(live), *c;
	size_t i, j;

	json_array_foreach(cfg, i, c) {
		json_t *l;
		bool found = false;

		json_array_foreach(out, j, l) {
			if (same_keys(l, c, keys)) {
				json_array_set_new(out, j, merge(json_incref(l), c, json_object_get(s, "items"), depth + 1));
				found = true;
				break;
			}
		}
		if (!found)
			json_array_append_new(out, json_deep_copy(c));
	}
	json_decref(live);
	return out;
}

/* Merges @cfg into @live (stolen) as apply does; returns the result (owned). */
static json_t *merge(json_t *live, json_t *cfg, json_t *s, int depth)
{
	json_t *keys = list_keys(s), *child;
	const char *key;

	if (depth > MAX_DEPTH || !json_is_object(cfg) || !json_is_object(live)) {
		if (json_is_array(cfg) && json_is_array(live) && keys && depth <= MAX_DEPTH)
			return merge_list(live, cfg, s, keys, depth);
		json_decref(live);
		return json_deep_copy(cfg);
	}
	json_object_foreach(cfg, key, child) {
		json_t *ps = json_object_get(json_object_get(s, "properties"), key);

		if (!ps && json_is_object(json_object_get(s, "additionalProperties")))
			ps = json_object_get(s, "additionalProperties");
		json_object_set_new(live, key, merge(json_incref(json_object_get(live, key)), child, ps, depth + 1));
	}
	return live;
}

/* Merges what an apply may set of @cfg's metadata (labels, annotations, finalizers,
 * ownerReferences) into @next's. */
static void merge_meta(json_t *next, json_t *cfg)
{
	json_t *meta = kas_meta(next), *cm = json_object_get(cfg, "metadata");
	static const char *const keys[] = { "labels", "annotations", "finalizers", "ownerReferences" };

	for (size_t i = 0; meta && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(cm, keys[i]);

		if (v)
			json_object_set_new(meta, keys[i], merge(json_incref(json_object_get(meta, keys[i])), v, NULL, 1));
	}
}

/* Cuts @cfg to the part this endpoint takes: status on /status, the rest on the main resource. */
static void cut_config(const struct kas_request *req, json_t *cfg)
{
	const char *key;
	json_t *v;
	void *tmp;

	if (!req->rt->status_sub)
		return;
	json_object_foreach_safe(cfg, tmp, key, v) {
		bool meta = !strcmp(key, "apiVersion") || !strcmp(key, "kind") || !strcmp(key, "metadata");

		if (!meta && req->status != !strcmp(key, "status"))
			json_object_del(cfg, key);
	}
	if (req->status)
		json_object_del(cfg, "metadata");
}

/* Adds one conflict to @causes. */
static void conflict(json_t *causes, json_t *e, const char *path)
{
	char *pretty = kas_fields_pretty(path);
	char *msg = kas_printf("conflict with \"%s\" using %s", kas_json_str(e, "manager") ? kas_json_str(e, "manager") : "",
			       kas_json_str(e, "apiVersion") ? kas_json_str(e, "apiVersion") : "");

	if (pretty && msg)
		json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason", "FieldManagerConflict", "message", msg,
							"field", pretty));
	free(pretty);
	free(msg);
}

/* Collects the fields of @set whose applied value differs from the live one and that another
 * manager owns, as causes; also into @taken (a set) for a forced apply. */
static void find_conflicts(json_t *old, json_t *cfg, json_t *set, json_t *entries, json_t *mine, json_t *causes,
			   json_t *taken)
{
	const char *p;
	json_t *v;

	json_object_foreach(set, p, v) {
		json_t *live = kas_fields_value(old, p), *e;
		size_t i;

		if (!live || json_equal(live, kas_fields_value(cfg, p)))
			continue;
		json_array_foreach(entries, i, e) {
			json_t *owned;

			if (e == mine)
				continue;
			owned = kas_fields_from_tree(json_object_get(e, "fieldsV1"));
			if (json_object_get(owned, p)) {
				conflict(causes, e, p);
				json_object_set_new(taken, p, json_true());
			}
			json_decref(owned);
		}
	}
}

static void reply_conflicts(const struct kas_request *req, json_t *causes, struct kas_reply *out)
{
	struct kas_buf b = { NULL, 0 };
	size_t i, n = json_array_size(causes);
	json_t *c, *details = kas_obj_details(req->rt, req->name);

	json_array_foreach(causes, i, c) {
		char *one = kas_printf("%s%s: %s", i ? ", " : "", kas_json_str(c, "message"), kas_json_str(c, "field"));

		if (one && kas_buf_append(&b, one, strlen(one), KAS_PRINTF_MAX / 2) < 0)
			i = n;
		free(one);
	}
	if (details)
		json_object_set(details, "causes", causes);
	kas_reply_details(out, 409, "Conflict", details, "Apply failed with %zu conflict%s: %s", n, n == 1 ? "" : "s",
			  b.data ? b.data : "");
	kas_buf_free(&b);
}

/* Checks what every apply needs. Returns the configuration (owned), or NULL with a reply. */
static json_t *apply_config(const struct kas_request *req, struct kas_reply *out)
{
	const char *name = kas_json_str(req->body, "metadata.name");
	const char *fm = kas_arg(req, "fieldManager");
	json_t *cfg;

	if (!fm || !*fm || strlen(fm) > MANAGER_MAX) {
		kas_reply_status(out, 422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
				 "is required for apply patch (at most %d characters)", MANAGER_MAX);
		return NULL;
	}
	if (!json_is_object(req->body) || !kas_json_str(req->body, "apiVersion") || !kas_json_str(req->body, "kind")) {
		kas_reply_status(out, 400, "BadRequest", "an apply configuration must be an object with apiVersion and kind set");
		return NULL;
	}
	if (name && strcmp(name, req->name)) {
		kas_reply_status(out, 400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)",
				 name, req->name);
		return NULL;
	}
	cfg = json_deep_copy(req->body);
	if (cfg && kas_obj_check_kind(req->rt, cfg, out) < 0) {
		json_decref(cfg);
		return NULL;
	}
	if (cfg)
		cut_config(req, cfg);
	return cfg;
}

/* Returns @old with @cfg (fields @set) merged in and what the manager (entry @mine) applied
 * before (@prev) and no longer does removed when no other entry owns it; owned, NULL on OOM. */
static json_t *merged(const struct kas_request *req, json_t *old, json_t *cfg, json_t *set, json_t *prev,
		      json_t *entries, json_t *mine)
{
	json_t *next = json_deep_copy(old), *props = json_object_get(req->rt->schema, "properties"), *v;
	const char *p;

	if (!next)
		return NULL;
	json_object_foreach(cfg, p, v) {
		if (strcmp(p, "metadata") && strcmp(p, "apiVersion") && strcmp(p, "kind"))
			json_object_set_new(next, p, merge(json_incref(json_object_get(next, p)), v,
							   json_object_get(props, p), 1));
	}
	merge_meta(next, cfg);
	json_object_foreach(prev, p, v) {
		if (!json_object_get(set, p) && !owned_by_other(entries, mine, p))
			kas_fields_remove(next, p);
	}
	return next;
}

/* Applies @cfg to the stored @old. */
static void apply_existing(const struct kas_request *req, json_t *old, json_t *cfg, struct kas_reply *out)
{
	json_t *set = kas_fields_of(cfg, req->rt->schema, req->status, req->rt->status_sub);
	json_t *entries = json_deep_copy(kas_json_at(old, "metadata.managedFields"));
	json_t *causes = json_array(), *taken = json_object(), *next = NULL, *prev = NULL, *mine;
	char *manager = strdup(kas_arg(req, "fieldManager"));
	const char *want = kas_json_str(cfg, "metadata.resourceVersion");

	if (!entries)
		entries = json_array();
	if (!set || !entries || !causes || !taken || !manager)
		goto oom;
	if (want && *want && strcmp(want, kas_json_str(old, "metadata.resourceVersion"))) {
		kas_reply_details(out, 409, "Conflict", kas_obj_details(req->rt, req->name), "Operation cannot be fulfilled on "
				  "%s \"%s\": the object has been modified; please apply your changes to the latest version "
				  "and try again", req->rt->qname, req->name);
		goto cleanup;
	}
	mine = own_entry(req, entries, manager, "Apply");
	if (!mine)
		goto oom;
	prev = kas_fields_from_tree(json_object_get(mine, "fieldsV1"));
	find_conflicts(old, cfg, set, entries, mine, causes, taken);
	if (json_array_size(causes) > 0 && !kas_arg_bool(req, "force")) {
		reply_conflicts(req, causes, out);
		goto cleanup;
	}
	disown(entries, taken, mine);
	next = prev ? merged(req, old, cfg, set, prev, entries, mine) : NULL;
	if (!next)
		goto oom;
	mine = find_entry(entries, manager, "Apply", subresource(req));
	/* Re-applying the same fields keeps the entry, so an unchanged object stays a no-op. */
	if (!json_equal(prev, set) || !json_object_get(mine, "fieldsV1"))
		entry_set(req, mine, set);
	set_entries(next, entries);
	kas_update_commit(req, old, next, out);
	next = NULL;
	goto cleanup;
oom:
	kas_reply_status(out, 500, "InternalError", "out of memory");
cleanup:
	json_decref(set);
	json_decref(entries);
	json_decref(causes);
	json_decref(taken);
	json_decref(prev);
	json_decref(next);
	free(manager);
}

void kas_apply_patch(const struct kas_request *req, struct kas_reply *out)
{
	json_t *old = kas_obj_lookup(req);
	json_t *cfg = apply_config(req, out);

	if (!cfg) {
		if (out->code == 0)
			kas_reply_status(out, 500, "InternalError", "out of memory");
	} else if (old) {
		apply_existing(req, old, cfg, out);
		json_decref(cfg);
	} else if (req->status) {
		kas_obj_not_found(req->rt, req->name, out);
		json_decref(cfg);
	} else {
		/* Apply creates what does not exist yet. */
		json_object_set_new(kas_meta(cfg), "name", json_string(req->name));
		kas_crud_create(req, cfg, out);
	}
	json_decref(old);
}
