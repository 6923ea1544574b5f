/* kube_events: events.k8s.io/v1 Events about drover's objects (kubectl describe shows them). */
#include "controller/kube/kube_events.h"
#include "reconcile/clk.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define NOTE_MAX   1024
#define SHORT_MAX  128
#define NAME_MAX_K 253

/* A copy of @s cut at @max bytes without splitting a UTF-8 sequence. Returns a new json
 * string, or NULL. */
static json_t *cut_string(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return json_stringn(s, n);
}

json_t *kube_event_build(const struct kube_event *ev)
{
	const json_t *reg = ev->regarding;
	const char *name = kube_obj_name(reg), *ns = kube_obj_ns(reg);
	const char *uid = json_string_value(json_object_get(json_object_get(reg, "metadata"), "uid"));
	const char *api_version = json_string_value(json_object_get(reg, "apiVersion"));
	const char *kind = json_string_value(json_object_get(reg, "kind"));
	char ev_name[NAME_MAX_K + 1], when[40];
	struct timespec ts;
	json_t *ref, *obj;

	if (!name || !kind || !ev->reason || !ev->type || !ev->action || !ev->reporting_instance)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* client-go's naming: the object's name and the time in hex, unique enough per object. */
	snprintf(ev_name, sizeof(ev_name), "%.200s.%llx", name,
		 (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
	clk_rfc3339_micro(when, sizeof(when));
	ref = json_pack("{s:s, s:s, s:s}", "kind", kind, "name", name, "namespace", ns ? ns : "default");
	if (!ref)
		return NULL;
	if ((api_version && json_object_set_new(ref, "apiVersion", json_string(api_version)) < 0) ||
	    (uid && json_object_set_new(ref, "uid", json_string(uid)) < 0) ||
	    (kube_obj_rv(reg) &&
	     json_object_set_new(ref, "resourceVersion", json_string(kube_obj_rv(reg))) < 0)) {
		json_decref(ref);
		return NULL;
	}
	obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:o, s:o, s:s, s:s, s:o, s:o}",
			"apiVersion", "events.k8s.io/v1", "kind", "Event",
			"metadata", "name", ev_name, "namespace", ns ? ns : "default",
			"eventTime", when, "regarding", ref,
			"reason", cut_string(ev->reason, SHORT_MAX), "type", ev->type,
			"reportingController", KUBE_REPORTING_CONTROLLER,
			"reportingInstance", cut_string(ev->reporting_instance, SHORT_MAX),
			"action", cut_string(ev->action, SHORT_MAX));
	if (obj && ev->note && json_object_set_new(obj, "note", cut_string(ev->note, NOTE_MAX)) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int kube_event_create(struct kube_client *c, const struct kube_event *ev, json_t **created,
		      struct kube_response *r)
{
	char path[KUBE_PATH_MAX];
	json_t *obj = kube_event_build(ev);
	const char *ns = kube_obj_ns(ev->regarding);
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (created)
		*created = NULL;
	if (!obj || kube_path(path, sizeof(path), &kube_res_event, ns ? ns : "default", NULL, NULL) < 0) {
		snprintf(r->message, sizeof(r->message), "the event cannot be built");
		goto cleanup;
	}
	if (kube_request(c, "POST", path, obj, NULL, r) < 0 || r->code != 201) {
		kube_logf(c, KUBE_LOG_WARN, "event %s about %s: HTTP %ld %s", ev->reason, kube_obj_name(ev->regarding),
			  r->code, r->code ? r->reason : r->message);
		goto cleanup;
	}
	if (created) {
		*created = r->body;
		r->body = NULL;
	}
	rc = 0;
cleanup:
	json_decref(obj);
	return rc;
}
