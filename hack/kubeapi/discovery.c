/* kubeapi test server: discovery, /version, health and a minimal OpenAPI v3. */
#include "discovery.h"
#include "registry.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static json_t *verbs(bool status)
{
	if (status)
		return json_pack("[s, s, s]", "get", "patch", "update");
	return json_pack("[s, s, s, s, s, s, s]", "create", "delete", "get", "list", "patch", "update", "watch");
}

static json_t *group_version(const char *group, const char *version)
{
	return *group ? json_sprintf("%s/%s", group, version) : json_string(version);
}

static json_t *resource_list(const char *group, const char *version)
{
	json_t *list = json_array();
	bool any = false;

	for (size_t i = 0; i < kas_registry_count(); i++) {
		const struct kas_rtype *t = kas_registry_at(i);

		if (strcmp(t->group, group) || strcmp(t->version, version))
			continue;
		any = true;
		json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:o, s:O, s:[s]}", "name", t->plural,
						      "singularName", t->singular, "namespaced", t->namespaced,
						      "kind", t->kind, "verbs", verbs(false), "shortNames",
						      t->short_names, "categories", "all"));
		if (t->status_sub)
			json_array_append_new(list, json_sprintf("%s/status", t->plural));
	}
	if (!any) {
		json_decref(list);
		return NULL;
	}
	return list;
}

/* Replaces the "plural/status" strings resource_list left with full entries. */
static void expand_status(json_t *list, const char *group, const char *version)
{
	size_t i;
	json_t *r;

	json_array_foreach(list, i, r) {
		char plural[256];
		const struct kas_rtype *t;

		if (!json_is_string(r))
			continue;
		snprintf(plural, sizeof(plural), "%s", json_string_value(r));
		*strchr(plural, '/') = '\0';
		t = kas_registry_find(group, version, plural);
		json_array_set_new(list, i, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", json_string_value(r),
						      "singularName", "", "namespaced", t && t->namespaced, "kind",
						      t ? t->kind : "", "verbs", verbs(true)));
	}
}

static void reply_resources(const char *group, const char *version, struct kas_reply *out)
{
	json_t *list = resource_list(group, version);

	if (!list) {
		kas_reply_status(out, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	expand_status(list, group, version);
	kas_reply_json(out, 200, json_pack("{s:s, s:s, s:o, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
					   "groupVersion", group_version(group, version), "resources", list));
}

/* The APIGroup object of @group, or NULL when nothing is served in it. */
static json_t *api_group(const char *group)
{
	json_t *versions = json_array(), *g;

	for (size_t i = 0; i < kas_registry_count(); i++) {
		const struct kas_rtype *t = kas_registry_at(i);
		json_t *gv = group_version(t->group, t->version);
		bool seen = false;
		size_t j;
		json_t *v;

		json_array_foreach(versions, j, v)
			seen = seen || json_equal(json_object_get(v, "groupVersion"), gv);
		if (!strcmp(t->group, group) && !seen)
			json_array_append_new(versions, json_pack("{s:O, s:s}", "groupVersion", gv, "version", t->version));
		json_decref(gv);
	}
	if (json_array_size(versions) == 0) {
		json_decref(versions);
		return NULL;
	}
	g = json_pack("{s:s, s:s, s:s, s:o, s:O}", "kind", "APIGroup", "apiVersion", "v1", "name", group,
		      "versions", versions, "preferredVersion", json_array_get(versions, 0));
	return g;
}

static json_t *group_list(void)
{
	json_t *groups = json_array();

	for (size_t i = 0; i < kas_registry_count(); i++) {
		const char *name = kas_registry_at(i)->group;
		bool seen = false;
		size_t j;
		json_t *g;

		json_array_foreach(groups, j, g)
			seen = seen || !strcmp(json_string_value(json_object_get(g, "name")), name);
		if (*name && !seen) {
			g = api_group(name);
			json_object_del(g, "kind");
			json_object_del(g, "apiVersion");
			json_array_append_new(groups, g);
		}
	}
	return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", groups);
}

static void reply_version(struct kas_reply *out)
{
	kas_reply_json(out, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor", "32",
					   "gitVersion", "v1.32.0-drover-kubeapi", "gitCommit", "0000000",
					   "gitTreeState", "clean", "buildDate", "2025-01-01T00:00:00Z", "goVersion",
					   "go1.23", "compiler", "gc", "platform", "linux/amd64"));
}

/* One PATCH operation per type: kubectl looks for the fieldValidation parameter here to decide
 * that the server validates, and for strategic-merge-patch to decide how to patch. */
static json_t *openapi_path(const struct kas_rtype *t)
{
	json_t *content = json_pack("{s:{s:{}}, s:{s:{}}}", "application/merge-patch+json", "schema",
				    "application/json-patch+json", "schema");

	return json_pack("{s:{s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:{s:s}}], s:{s:o}, s:{}}}", "patch",
			 "x-kubernetes-group-version-kind", "group", t->group, "version", t->version, "kind", t->kind,
			 "parameters", "name", "fieldValidation", "in", "query", "schema", "type", "string",
			 "requestBody", "content", content, "responses");
}

static void reply_openapi_gv(const char *group, const char *version, struct kas_reply *out)
{
	json_t *paths = json_object();

	for (size_t i = 0; i < kas_registry_count(); i++) {
		const struct kas_rtype *t = kas_registry_at(i);
		char path[1024];

		if (strcmp(t->group, group) || strcmp(t->version, version))
			continue;
		snprintf(path, sizeof(path), "/%s%s%s%s%s/%s/{name}", *group ? "apis/" : "api", group,
			 *group ? "/" : "", version, t->namespaced ? "/namespaces/{namespace}" : "", t->plural);
		json_object_set_new(paths, path, openapi_path(t));
	}
	if (json_object_size(paths) == 0) {
		json_decref(paths);
		kas_reply_status(out, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	kas_reply_json(out, 200, json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:{}}}", "openapi", "3.0.0", "info", "title",
					   "Kubernetes", "version", "v1.32.0", "paths", paths, "components",
					   "schemas"));
}

static void reply_openapi_root(struct kas_reply *out)
{
	static time_t started;
	json_t *paths = json_object();

	if (!started)
		started = time(NULL);
	for (size_t i = 0; i < kas_registry_count(); i++) {
		const struct kas_rtype *t = kas_registry_at(i);
		char key[512], url[600];

		if (*t->group)
			snprintf(key, sizeof(key), "apis/%s/%s", t->group, t->version);
		else
			snprintf(key, sizeof(key), "api/%s", t->version);
		/* The hash changes with the registry, so clients that cache by URL refetch. */
		snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%lx%lx", key, (unsigned long)started,
			 kas_registry_generation());
		json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
	}
	kas_reply_json(out, 200, json_pack("{s:o}", "paths", paths));
}

/* Splits "a/b/c" into at most 4 segments (copied into @buf). Returns how many. */
static int split(const char *path, char *buf, size_t len, const char *seg[4])
{
	int n = 0;

	snprintf(buf, len, "%s", path);
	for (char *p = buf; *p && n < 4;) {
		char *slash = strchr(p, '/');

		seg[n++] = p;
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

static bool openapi(const char *path, struct kas_reply *out)
{
	char buf[512];
	const char *s[4];
	int n;

	if (!strcmp(path, "/openapi/v3")) {
		reply_openapi_root(out);
		return true;
	}
	if (strncmp(path, "/openapi/v3/", 12)) {
		kas_reply_status(out, 404, "NotFound", "the server could not find the requested resource");
		return true;
	}
	n = split(path + 12, buf, sizeof(buf), s);
	if (n == 2 && !strcmp(s[0], "api"))
		reply_openapi_gv("", s[1], out);
	else if (n == 3 && !strcmp(s[0], "apis"))
		reply_openapi_gv(s[1], s[2], out);
	else
		kas_reply_status(out, 404, "NotFound", "the server could not find the requested resource");
	return true;
}

bool kas_discovery_handle(const char *path, struct kas_reply *out)
{
	char buf[512];
	const char *s[4];
	int n;
	json_t *g;

	if (!strcmp(path, "/version")) {
		reply_version(out);
	} else if (!strncmp(path, "/openapi/", 9)) {
		return openapi(path, out);
	} else if (!strcmp(path, "/api") || !strcmp(path, "/api/")) {
		kas_reply_json(out, 200, json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
						   "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
						   "serverAddress", "127.0.0.1"));
	} else if (!strcmp(path, "/api/v1")) {
		reply_resources("", "v1", out);
	} else if (!strcmp(path, "/apis") || !strcmp(path, "/apis/")) {
		kas_reply_json(out, 200, group_list());
	} else if (strncmp(path, "/apis/", 6) || (n = split(path + 6, buf, sizeof(buf), s)) > 2) {
		return false;
	} else if (n == 2) {
		reply_resources(s[0], s[1], out);
	} else if ((g = api_group(s[0]))) {
		kas_reply_json(out, 200, g);
	} else {
		kas_reply_status(out, 404, "NotFound", "the server could not find the requested resource");
	}
	return true;
}
