/* kube_status: writes to objects that must not lose a concurrent change — status through
 * the /status subresource, optimistic updates with resourceVersion (409 → re-read, retry),
 * finalizers, and metav1.Condition lists. */
#include "controller/kube/kube_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "crd/encode.h"

#define MERGE_PATCH "application/merge-patch+json"

/* GETs @ns/@name. Returns the object (the caller decrefs), or NULL with @r filled. */
static json_t *read_object(struct kube_client *c, const struct kube_resource *res, const char *ns,
			   const char *name, struct kube_response *r)
{
	char path[KUBE_PATH_MAX];
	json_t *obj;

	kube_response_free(r);
	if (kube_path(path, sizeof(path), res, ns, name, NULL) < 0) {
		snprintf(r->message, sizeof(r->message), "path too long");
		return NULL;
	}
	if (kube_request(c, "GET", path, NULL, NULL, r) < 0 || r->code != 200)
		return NULL;
	obj = r->body;
	r->body = NULL;
	return obj;
}

int kube_status_patch(struct kube_client *c, const struct kube_resource *res, const char *ns,
		      const char *name, const json_t *status, json_t **stored, struct kube_response *r)
{
	char path[KUBE_PATH_MAX];
	json_t *patch = json_pack("{s:O}", "status", status);
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (stored)
		*stored = NULL;
	if (!patch || kube_path(path, sizeof(path), res, ns, name, "status") < 0) {
		snprintf(r->message, sizeof(r->message), "out of memory or path too long");
		goto cleanup;
	}
	if (kube_request(c, "PATCH", path, patch, MERGE_PATCH, r) < 0 || r->code != 200)
		goto cleanup;
	if (stored) {
		*stored = r->body;
		r->body = NULL;
	}
	rc = 0;
cleanup:
	json_decref(patch);
	return rc;
}

int kube_status_update(struct kube_client *c, const struct kube_resource *res, const char *ns,
		       const char *name, kube_status_fn fn, void *opaque, struct kube_response *r)
{
	char path[KUBE_PATH_MAX];
	int attempts = 0, rc = -1;

	memset(r, 0, sizeof(*r));
	if (kube_path(path, sizeof(path), res, ns, name, "status") < 0) {
		snprintf(r->message, sizeof(r->message), "path too long");
		return -1;
	}
	for (int i = 0; i <= KUBE_CONFLICT_RETRIES; i++) {
		json_t *cur = read_object(c, res, ns, name, r), *status, *patch;

		attempts += r->attempts;
		if (!cur)
			break;
		status = fn(opaque, cur);
		if (!status) {
			json_decref(cur);
			rc = 0;
			break;
		}
		if (json_object_set_new(status, "observedGeneration",
					json_integer(kube_obj_generation(cur))) < 0) {
			json_decref(status);
			json_decref(cur);
			kube_response_free(r);
			snprintf(r->message, sizeof(r->message), "out of memory");
			break;
		}
		patch = json_pack("{s:{s:s},s:o}", "metadata", "resourceVersion", kube_obj_rv(cur) ? kube_obj_rv(cur) : "",
				  "status", status);
		json_decref(cur);
		kube_response_free(r);
		if (!patch) {
			snprintf(r->message, sizeof(r->message), "out of memory");
			break;
		}
		rc = kube_request(c, "PATCH", path, patch, MERGE_PATCH, r) == 0 && r->code == 200 ? 0 : -1;
		attempts += r->attempts;
		json_decref(patch);
		if (rc == 0 || r->code != 409)
			break;
		kube_logf(c, KUBE_LOG_DEBUG, "status of %s %s/%s: conflict, reading again", res->kind, ns, name);
	}
	r->attempts = attempts;
	return rc;
}

int kube_update_retry(struct kube_client *c, const struct kube_resource *res, const char *ns,
		      const char *name, const json_t *cached, kube_mutate_fn fn, void *opaque,
		      json_t **stored, struct kube_response *r)
{
	char path[KUBE_PATH_MAX];
	int attempts = 0, rc = -1;

	memset(r, 0, sizeof(*r));
	if (stored)
		*stored = NULL;
	if (kube_path(path, sizeof(path), res, ns, name, NULL) < 0) {
		snprintf(r->message, sizeof(r->message), "path too long");
		return -1;
	}
	for (int i = 0; i <= KUBE_CONFLICT_RETRIES; i++) {
		json_t *obj = i == 0 && cached ? json_deep_copy(cached) : read_object(c, res, ns, name, r);
		int changed;

		attempts += r->attempts;
		if (!obj) {
			if (!r->code && !r->message[0])
				snprintf(r->message, sizeof(r->message), "out of memory");
			break;
		}
		changed = fn(opaque, obj);
		if (changed <= 0) {
			json_decref(obj);
			rc = changed == 0 ? 0 : -1;
			if (rc < 0)
				snprintf(r->message, sizeof(r->message), "the change was refused");
			break;
		}
		kube_response_free(r);
		rc = kube_request(c, "PUT", path, obj, NULL, r) == 0 && r->code == 200 ? 0 : -1;
		attempts += r->attempts;
		json_decref(obj);
		if (rc == 0) {
			if (stored) {
				*stored = r->body;
				r->body = NULL;
			}
			break;
		}
		if (r->code != 409)
			break;
		kube_logf(c, KUBE_LOG_DEBUG, "update of %s %s/%s: conflict, reading again", res->kind, ns, name);
	}
	r->attempts = attempts;
	return rc;
}

bool kube_has_finalizer(const json_t *obj, const char *finalizer)
{
	json_t *list = json_object_get(json_object_get(obj, "metadata"), "finalizers"), *f;
	size_t i;

	json_array_foreach(list, i, f)
		if (json_string_value(f) && !strcmp(json_string_value(f), finalizer))
			return true;
	return false;
}

struct fin_change {
	const char *finalizer;
	bool add;
};

static int change_finalizer(void *opaque, json_t *obj)
{
	struct fin_change *fc = opaque;
	json_t *meta = json_object_get(obj, "metadata"), *list, *f;
	size_t i;

	if (!json_is_object(meta))
		return -1;
	if (fc->add == kube_has_finalizer(obj, fc->finalizer))
		return 0;
	/* The API server refuses new finalizers on an object being deleted (422). */
	if (fc->add && json_object_get(meta, "deletionTimestamp"))
		return 0;
	list = json_object_get(meta, "finalizers");
	if (!json_is_array(list)) {
		list = json_array();
		if (!list || json_object_set_new(meta, "finalizers", list) < 0)
			return -1;
	}
	if (fc->add)
		return json_array_append_new(list, json_string(fc->finalizer)) < 0 ? -1 : 1;
	json_array_foreach(list, i, f) {
		if (json_string_value(f) && !strcmp(json_string_value(f), fc->finalizer)) {
			json_array_remove(list, i);
			break;
		}
	}
	return 1;
}

int kube_finalizer_add(struct kube_client *c, const struct kube_resource *res, const char *ns,
		       const char *name, const json_t *cached, const char *finalizer,
		       json_t **stored, struct kube_response *r)
{
	struct fin_change fc = { finalizer, true };

	return kube_update_retry(c, res, ns, name, cached, change_finalizer, &fc, stored, r);
}

int kube_finalizer_remove(struct kube_client *c, const struct kube_resource *res, const char *ns,
			  const char *name, const json_t *cached, const char *finalizer,
			  json_t **stored, struct kube_response *r)
{
	struct fin_change fc = { finalizer, false };
	int rc = kube_update_retry(c, res, ns, name, cached, change_finalizer, &fc, stored, r);

	/* Gone already: nothing is held any more. */
	return rc < 0 && r->code == 404 ? 0 : rc;
}

struct annotation_drop {
	const char *key, *value;
};

static int drop_annotation(void *opaque, json_t *obj)
{
	struct annotation_drop *d = opaque;
	json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const char *now = json_string_value(json_object_get(ann, d->key));

	if (!now || strcmp(now, d->value))
		return 0;
	return json_object_del(ann, d->key) == 0 ? 1 : -1;
}

int kube_annotation_drop(struct kube_client *c, const struct kube_resource *res, const char *ns,
			 const char *name, const json_t *cached, const char *key, const char *value,
			 struct kube_response *r)
{
	struct annotation_drop d = {key, value};
	int rc = kube_update_retry(c, res, ns, name, cached, drop_annotation, &d, NULL, r);

	return rc < 0 && r->code == 404 ? 0 : rc;
}

/* The index of the condition of @type in @conditions, or -1. */
static ssize_t condition_index(const json_t *conditions, const char *type)
{
	json_t *item;
	size_t i;

	json_array_foreach(conditions, i, item) {
		const char *t = json_string_value(json_object_get(item, "type"));
		if (t && !strcmp(t, type))
			return (ssize_t)i;
	}
	return -1;
}

int kube_condition_get(const json_t *conditions, const char *type, struct crd_conditions *out)
{
	ssize_t i = condition_index(conditions, type);
	json_t *item = i < 0 ? NULL : json_array_get(conditions, (size_t)i);
	const char *when = json_string_value(json_object_get(item, "lastTransitionTime"));
	struct crd_condition *c;

	memset(out, 0, sizeof(*out));
	if (!item)
		return 0;
	if (!(c = calloc(1, sizeof(*c))))
		return -1;
	out->items = c;
	out->n = 1;
	const char *st = json_string_value(json_object_get(item, "status"));
	if (!st || crd_cond_status_parse(st, &c->status) < 0)
		c->status = CRD_COND_UNKNOWN;
	c->type = strdup(type);
	c->last_transition_time = when ? strdup(when) : NULL;
	return c->type && (!when || c->last_transition_time) ? 0 : -1;
}

int kube_condition_set(json_t *conditions, const struct crd_condition *cond)
{
	struct crd_conditions one = {.items = (struct crd_condition[]){*cond}, .n = 1};
	json_t *list = crd_conditions_to_json(&one), *item = json_array_get(list, 0);
	ssize_t i = condition_index(conditions, cond->type);
	int rc = -1;

	if (item)
		rc = i < 0 ? json_array_append(conditions, item)
			   : json_array_set(conditions, (size_t)i, item);
	json_decref(list);
	return rc < 0 ? -1 : 0;
}
