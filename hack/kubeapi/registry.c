/* kubeapi test server: the resource types served (built-in kinds and those CRDs register). */
#include "registry.h"
#include "types.h"

#include <stdlib.h>
#include <string.h>

static struct kas_rtype *types[KAS_MAX_TYPES];
static size_t ntypes;
static unsigned long generation;

static void rtype_free(struct kas_rtype *t)
{
	if (!t)
		return;
	free(t->group);
	free(t->version);
	free(t->plural);
	free(t->singular);
	free(t->kind);
	free(t->list_kind);
	free(t->qname);
	free(t->rkey);
	free(t->crd_name);
	json_decref(t->short_names);
	json_decref(t->columns);
	json_decref(t->schema);
	free(t);
}

static json_t *column(const char *name, const char *type, const char *path)
{
	return json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "jsonPath", path);
}

/* Makes a type from its names; @columns is stolen (NULL = only Age). Returns NULL on OOM. */
static struct kas_rtype *rtype_new(const char *group, const char *version, const char *plural,
				   const char *singular, const char *kind, json_t *columns)
{
	struct kas_rtype *t = calloc(1, sizeof(*t));

	if (!t) {
		json_decref(columns);
		return NULL;
	}
	t->columns = columns ? columns : json_array();
	if (json_array_size(t->columns) == 0)
		json_array_append_new(t->columns, column("Age", "date", ".metadata.creationTimestamp"));
	t->group = strdup(group);
	t->version = strdup(version);
	t->plural = strdup(plural);
	t->singular = strdup(singular);
	t->kind = strdup(kind);
	t->list_kind = kas_printf("%sList", kind);
	t->qname = *group ? kas_printf("%s.%s", plural, group) : strdup(plural);
	t->rkey = kas_printf("%s/%s", group, plural);
	t->short_names = json_array();
	if (!t->group || !t->version || !t->plural || !t->singular || !t->kind || !t->list_kind ||
	    !t->qname || !t->rkey || !t->short_names || json_array_size(t->columns) == 0) {
		rtype_free(t);
		return NULL;
	}
	return t;
}

static int rtype_add(struct kas_rtype *t)
{
	if (!t)
		return -1;
	if (ntypes >= KAS_MAX_TYPES) {
		rtype_free(t);
		return -1;
	}
	types[ntypes++] = t;
	generation++;
	return 0;
}

static int add_builtin(const char *group, const char *plural, const char *singular, const char *kind,
		       const char *shortname, bool namespaced, bool status_sub, json_t *columns)
{
	const char *version = "v1";
	struct kas_rtype *t = rtype_new(group, version, plural, singular, kind, columns);

	if (!t)
		return -1;
	t->namespaced = namespaced;
	t->status_sub = status_sub;
	t->schema = kas_types_schema(group, plural);
	if (shortname && json_array_append_new(t->short_names, json_string(shortname)) < 0) {
		rtype_free(t);
		return -1;
	}
	return rtype_add(t);
}

/* events.k8s.io/v1 Events live with the core ones, as on the real server. */
static int events_share_storage(void)
{
	struct kas_rtype *t = ntypes ? types[ntypes - 1] : NULL;
	char *rkey = strdup("/events");

	if (!t || !rkey || strcmp(t->group, "events.k8s.io")) {
		free(rkey);
		return -1;
	}
	free(t->rkey);
	t->rkey = rkey;
	t->events_v1 = true;
	return 0;
}

int kas_registry_init(void)
{
	json_t *age = column("Age", "date", ".metadata.creationTimestamp");
	int rc = 0;

	rc |= add_builtin("", "namespaces", "namespace", "Namespace", "ns", false, true,
			  json_pack("[o, O]", column("Status", "string", ".status.phase"), age));
	rc |= add_builtin("", "events", "event", "Event", "ev", true, false,
			  json_pack("[o, o, o]", column("Type", "string", ".type"),
				    column("Reason", "string", ".reason"), column("Message", "string", ".message")));
	/* Tables are made from stored objects, which have the core shape (message, not note). */
	rc |= add_builtin("events.k8s.io", "events", "event", "Event", "ev", true, false,
			  json_pack("[o, o, o]", column("Type", "string", ".type"),
				    column("Reason", "string", ".reason"), column("Note", "string", ".message")));
	rc |= events_share_storage();
	/* Secrets: drover reads a Host's fence password from one (passwordSecretRef). */
	rc |= add_builtin("", "secrets", "secret", "Secret", NULL, true, false,
			  json_pack("[o, O]", column("Type", "string", ".type"), age));
	rc |= add_builtin("coordination.k8s.io", "leases", "lease", "Lease", NULL, true, false,
			  json_pack("[o, O]", column("Holder", "string", ".spec.holderIdentity"), age));
	rc |= add_builtin("apiextensions.k8s.io", "customresourcedefinitions", "customresourcedefinition",
			  "CustomResourceDefinition", "crd", false, true,
			  json_pack("[o]", column("Created At", "string", ".metadata.creationTimestamp")));
	json_decref(age);
	return rc ? -1 : 0;
}

void kas_registry_free(void)
{
	for (size_t i = 0; i < ntypes; i++)
		rtype_free(types[i]);
	ntypes = 0;
}

const struct kas_rtype *kas_registry_find(const char *group, const char *version, const char *plural)
{
	for (size_t i = 0; i < ntypes; i++) {
		const struct kas_rtype *t = types[i];

		if (!strcmp(t->group, group) && !strcmp(t->version, version) && !strcmp(t->plural, plural))
			return t;
	}
	return NULL;
}

const struct kas_rtype *kas_registry_find_rkey(const char *rkey)
{
	for (size_t i = 0; i < ntypes; i++)
		if (!strcmp(types[i]->rkey, rkey))
			return types[i];
	return NULL;
}

size_t kas_registry_count(void)
{
	return ntypes;
}

const struct kas_rtype *kas_registry_at(size_t i)
{
	return i < ntypes ? types[i] : NULL;
}

unsigned long kas_registry_generation(void)
{
	return generation;
}

static char *versions_problem(json_t *versions)
{
	size_t i, storage = 0;
	json_t *v;

	if (!json_is_array(versions) || json_array_size(versions) == 0)
		return strdup("spec.versions: Required value: must have exactly one version marked as storage version");
	json_array_foreach(versions, i, v) {
		const char *name = kas_json_str(v, "name");

		if (!name || !kas_valid_name(name, 63))
			return kas_printf("spec.versions[%zu].name: Invalid value", i);
		if (json_is_true(json_object_get(v, "storage")))
			storage++;
		if (!json_is_object(kas_json_at(v, "schema.openAPIV3Schema")))
			return kas_printf("spec.versions[%zu].schema.openAPIV3Schema: Required value: schemas are required", i);
	}
	if (storage != 1)
		return strdup("spec.versions: Invalid value: must have exactly one version marked as storage version");
	return NULL;
}

char *kas_registry_crd_problem(json_t *crd)
{
	const char *group = kas_json_str(crd, "spec.group");
	const char *plural = kas_json_str(crd, "spec.names.plural");
	const char *kind = kas_json_str(crd, "spec.names.kind");
	const char *scope = kas_json_str(crd, "spec.scope");
	const char *name = kas_json_str(crd, "metadata.name");
	char *want;
	bool ok;

	if (!group || !strchr(group, '.') || !kas_valid_name(group, 253))
		return strdup("spec.group: Invalid value: should be a domain with at least one dot");
	if (!plural || !kas_valid_name(plural, 63))
		return strdup("spec.names.plural: Required value");
	if (!kind || !*kind)
		return strdup("spec.names.kind: Required value");
	if (!scope || (strcmp(scope, "Namespaced") && strcmp(scope, "Cluster")))
		return strdup("spec.scope: Unsupported value: supported values: \"Cluster\", \"Namespaced\"");
	want = kas_printf("%s.%s", plural, group);
	if (!want)
		return strdup("out of memory");
	ok = name && !strcmp(name, want);
	free(want);
	if (!ok)
		return kas_printf("metadata.name: Invalid value: \"%s\": must be spec.names.plural+\".\"+spec.group",
				  name ? name : "");
	return versions_problem(kas_json_at(crd, "spec.versions"));
}

/* Makes the type of one served CRD version. Returns NULL on OOM. */
static struct kas_rtype *crd_version_type(json_t *crd, json_t *version, char **singular_out)
{
	json_t *names = kas_json_at(crd, "spec.names");
	const char *kind = kas_json_str(names, "kind");
	const char *singular = kas_json_str(names, "singular");
	json_t *cols = json_object_get(version, "additionalPrinterColumns");
	struct kas_rtype *t;
	char *lower = NULL;

	if (!json_is_array(cols))
		cols = kas_json_at(crd, "spec.additionalPrinterColumns");
	if (!singular || !*singular) {
		lower = strdup(kind);
		for (size_t i = 0; lower && lower[i]; i++)
			lower[i] = (char)(lower[i] >= 'A' && lower[i] <= 'Z' ? lower[i] + 32 : lower[i]);
		singular = lower;
	}
	t = singular ? rtype_new(kas_json_str(crd, "spec.group"), kas_json_str(version, "name"),
				 kas_json_str(names, "plural"), singular, kind,
				 json_is_array(cols) ? json_deep_copy(cols) : NULL)
		     : NULL;
	free(lower);
	if (!t)
		return NULL;
	t->namespaced = !strcmp(kas_json_str(crd, "spec.scope"), "Namespaced");
	t->status_sub = kas_json_at(version, "subresources.status") != NULL ||
			kas_json_at(crd, "spec.subresources.status") != NULL;
	t->custom = true;
	t->schema = json_deep_copy(kas_json_at(version, "schema.openAPIV3Schema"));
	t->crd_name = strdup(kas_json_str(crd, "metadata.name"));
	if (json_is_array(json_object_get(names, "shortNames")))
		json_array_extend(t->short_names, json_object_get(names, "shortNames"));
	*singular_out = t->singular;
	if (!t->crd_name) {
		rtype_free(t);
		return NULL;
	}
	return t;
}

/* Writes status the way the real apiextensions controller settles it, at once. */
static int crd_status(json_t *crd, const char *singular, const char *storage)
{
	char now[32];
	json_t *names = json_deep_copy(kas_json_at(crd, "spec.names"));
	json_t *status;

	kas_time_format(time(NULL), now, sizeof(now));
	if (!names)
		return -1;
	json_object_set_new(names, "singular", json_string(singular));
	if (!json_object_get(names, "listKind"))
		json_object_set_new(names, "listKind",
				    json_sprintf("%sList", kas_json_str(names, "kind")));
	status = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}], s:o, s:[s]}",
			   "conditions", "type", "NamesAccepted", "status", "True", "reason", "NoConflicts",
			   "message", "no conflicts found", "lastTransitionTime", now, "type", "Established",
			   "status", "True", "reason", "InitialNamesAccepted", "message",
			   "the initial names have been accepted", "lastTransitionTime", now,
			   "acceptedNames", names, "storedVersions", storage);
	return status ? json_object_set_new(crd, "status", status) : -1;
}

int kas_registry_apply_crd(json_t *crd)
{
	json_t *versions = kas_json_at(crd, "spec.versions"), *v;
	const char *storage = NULL;
	char *singular = NULL;
	size_t i;

	kas_registry_drop_crd(kas_json_str(crd, "metadata.name"));
	json_array_foreach(versions, i, v) {
		if (json_is_true(json_object_get(v, "storage")))
			storage = kas_json_str(v, "name");
		if (json_is_false(json_object_get(v, "served")))
			continue;
		if (rtype_add(crd_version_type(crd, v, &singular)) < 0)
			return -1;
	}
	if (!singular || !storage)
		return 0;
	return crd_status(crd, singular, storage);
}

void kas_registry_drop_crd(const char *crd_name)
{
	size_t kept = 0;

	for (size_t i = 0; i < ntypes; i++) {
		if (crd_name && types[i]->crd_name && !strcmp(types[i]->crd_name, crd_name))
			rtype_free(types[i]);
		else
			types[kept++] = types[i];
	}
	if (kept != ntypes)
		generation++;
	ntypes = kept;
}
