/* kube_obj: Kubernetes API paths, resources, object metadata and API time formats. */
#include "controller/kube/kube_obj.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const struct kube_resource kube_res_vm = { "drover.io", "v1alpha1", "virtualmachines", "VirtualMachine", true, true };
const struct kube_resource kube_res_host = { "drover.io", "v1alpha1", "hosts", "Host", true, true };
const struct kube_resource kube_res_migration = { "drover.io", "v1alpha1", "migrations", "Migration", true, true };
const struct kube_resource kube_res_lease = { "coordination.k8s.io", "v1", "leases", "Lease", true, false };
const struct kube_resource kube_res_event = { "events.k8s.io", "v1", "events", "Event", true, false };

/* ---- paths and objects ---- */

int kube_path(char *buf, size_t len, const struct kube_resource *res, const char *ns,
	      const char *name, const char *sub)
{
	bool in_ns = res->namespaced && ns;
	int n;

	n = snprintf(buf, len, "%s%s/%s%s%s/%s%s%s%s%s", *res->group ? "/apis/" : "/api",
		     res->group, res->version, in_ns ? "/namespaces/" : "",
		     in_ns ? ns : "", res->plural, name ? "/" : "", name ? name : "", sub ? "/" : "",
		     sub ? sub : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int kube_path_query(char *buf, size_t len, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t used = strlen(buf);
	int n;

	if (!esc)
		return -1;
	n = snprintf(buf + used, len - used, "%c%s=%s", strchr(buf, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	if (n < 0 || used + (size_t)n >= len) {
		buf[used] = '\0';
		return -1;
	}
	return 0;
}

static const char *meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

const char *kube_obj_ns(const json_t *obj)
{
	return meta_str(obj, "namespace");
}

const char *kube_obj_name(const json_t *obj)
{
	return meta_str(obj, "name");
}

const char *kube_obj_rv(const json_t *obj)
{
	return meta_str(obj, "resourceVersion");
}

json_int_t kube_obj_generation(const json_t *obj)
{
	return json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
}
