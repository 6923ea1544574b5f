/* The CRD openAPIV3Schemas and the C validator agree on the good and bad corpus.
 *
 * A small checker applies the schema subset the CRDs use (type, required, enum, pattern,
 * format date-time, properties — closed, as the API server's strict field validation treats
 * them —, additionalProperties, items, minimum/maximum, maxLength, maxItems,
 * x-kubernetes-int-or-string; null values count as absent, as the API server prunes them).
 * Every drover document of a good file must pass it; a bad file marked "# schema: reject"
 * must have a document it refuses, one marked "accept" none (the rule there is beyond what a
 * schema can say, e.g. references or XML checks). */
#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include "crd/node.h"
#include "tests/unit/crd_test_util.h"

struct docs {
	struct crd_node *items[64];
	size_t n;
};

static int collect(void *ctx, struct crd_node *root, int line, int col)
{
	struct docs *d = ctx;
	(void)line;
	(void)col;
	if (d->n == 64) {
		crd_node_free(root);
		return -1;
	}
	d->items[d->n++] = root;
	return 0;
}

static void docs_free(struct docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		crd_node_free(d->items[i]);
	d->n = 0;
}

static int parse_file(const char *path, struct docs *d)
{
	size_t len = 0;
	char *text = test_read_file(path, &len);
	struct crd_errors errs = {0};
	int rc = text ? crd_yaml_parse(path, text, len, collect, d, &errs) : -1;
	free(text);
	crd_errors_free(&errs);
	return rc;
}

static const char *str_of(const struct crd_node *n, const char *key)
{
	const struct crd_node *v = crd_node_get(n, key);
	return v && v->kind == CRD_NODE_STR ? v->text : NULL;
}

static bool is_integer(const struct crd_node *v)
{
	return v->kind == CRD_NODE_INT ||
	       (v->kind == CRD_NODE_FLOAT && floor(strtod(v->text, NULL)) == strtod(v->text, NULL));
}

static bool matches(const char *pattern, const char *s)
{
	regex_t re;
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static bool check(const struct crd_node *s, const struct crd_node *v);

static bool check_string(const struct crd_node *s, const struct crd_node *v)
{
	const struct crd_node *e = crd_node_get(s, "enum"), *ml = crd_node_get(s, "maxLength");
	const char *pat = str_of(s, "pattern"), *fmt = str_of(s, "format");

	if (v->kind != CRD_NODE_STR)
		return false;
	if (fmt && !strcmp(fmt, "date-time") &&
	    !matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?"
		     "([Zz]|[+-][0-9]{2}:[0-9]{2})$", v->text))
		return false;
	if (ml && strlen(v->text) > strtoull(ml->text, NULL, 10))
		return false;
	if (pat && !matches(pat, v->text))
		return false;
	if (!e)
		return true;
	for (size_t i = 0; i < e->n_kids; i++)
		if (!strcmp(e->kids[i]->text, v->text))
			return true;
	return false;
}

static bool check_object(const struct crd_node *s, const struct crd_node *v)
{
	const struct crd_node *props = crd_node_get(s, "properties");
	const struct crd_node *extra = crd_node_get(s, "additionalProperties");
	const struct crd_node *req = crd_node_get(s, "required");

	if (v->kind != CRD_NODE_MAP)
		return false;
	for (size_t i = 0; req && i < req->n_kids; i++) {
		const struct crd_node *m = crd_node_get(v, req->kids[i]->text);
		if (!m || m->kind == CRD_NODE_NULL)
			return false;
	}
	for (size_t i = 0; i < v->n_kids; i++) {
		const struct crd_node *m = v->kids[i], *ps = crd_node_get(props, m->key);
		if (m->kind == CRD_NODE_NULL)
			continue;
		if (!ps)
			ps = extra;
		if (!ps && props)
			return false;
		if (ps && !check(ps, m))
			return false;
	}
	return true;
}

static bool check(const struct crd_node *s, const struct crd_node *v)
{
	const char *type = str_of(s, "type");
	const struct crd_node *min = crd_node_get(s, "minimum"), *max = crd_node_get(s, "maximum");
	const struct crd_node *mi = crd_node_get(s, "maxItems"), *items = crd_node_get(s, "items");
	const struct crd_node *ios = crd_node_get(s, "x-kubernetes-int-or-string");

	if (ios && !strcmp(ios->text, "true"))
		return is_integer(v) || (v->kind == CRD_NODE_STR &&
					 matches(str_of(s, "pattern"), v->text));
	if (!type)
		return true;
	if (!strcmp(type, "object"))
		return check_object(s, v);
	if (!strcmp(type, "string"))
		return check_string(s, v);
	if (!strcmp(type, "boolean"))
		return v->kind == CRD_NODE_BOOL;
	if (!strcmp(type, "number"))
		return (v->kind == CRD_NODE_INT || v->kind == CRD_NODE_FLOAT) &&
		       (!min || strtod(v->text, NULL) >= strtod(min->text, NULL)) &&
		       (!max || strtod(v->text, NULL) <= strtod(max->text, NULL));
	if (!strcmp(type, "integer"))
		return is_integer(v) && (!min || strtod(v->text, NULL) >= strtod(min->text, NULL)) &&
		       (!max || strtod(v->text, NULL) <= strtod(max->text, NULL));
	if (!strcmp(type, "array")) {
		if (v->kind != CRD_NODE_SEQ || (mi && v->n_kids > strtoull(mi->text, NULL, 10)))
			return false;
		for (size_t i = 0; items && i < v->n_kids; i++)
			if (v->kids[i]->kind != CRD_NODE_NULL && !check(items, v->kids[i]))
				return false;
		return true;
	}
	fail_msg("schema type %s not handled", type);
	return false;
}

#define N_CRDS 4
static struct docs crds[N_CRDS];
static const char *const kinds[N_CRDS] = {"Host", "VirtualMachine", "Migration",
					  "PlacementPolicy"};

static const struct crd_node *schema_for(const char *kind)
{
	for (size_t i = 0; i < N_CRDS; i++) {
		const struct crd_node *spec = crd_node_get(crds[i].items[0], "spec");
		const char *k = str_of(crd_node_get(spec, "names"), "kind");
		if (k && !strcmp(k, kind)) {
			const struct crd_node *ver = crd_node_get(spec, "versions")->kids[0];
			return crd_node_get(crd_node_get(ver, "schema"), "openAPIV3Schema");
		}
	}
	return NULL;
}

static int setup(void **state)
{
	static const char *const files[] = {"manifests/crds/host.yaml",
		"manifests/crds/virtualmachine.yaml", "manifests/crds/migration.yaml",
		"manifests/crds/placementpolicy.yaml"};
	(void)state;
	for (size_t i = 0; i < N_CRDS; i++)
		if (parse_file(files[i], &crds[i]) < 0 || crds[i].n != 1)
			return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_CRDS; i++)
		docs_free(&crds[i]);
	return 0;
}

/* Returns how many drover documents of @path the schemas refuse (-1 if none are drover's). */
static int schema_rejections(const char *path)
{
	struct docs d = {0};
	int rejected = 0, ours = 0;

	if (parse_file(path, &d) < 0) {
		docs_free(&d);
		return -1;
	}
	for (size_t i = 0; i < d.n; i++) {
		const char *api = str_of(d.items[i], "apiVersion"), *kind = str_of(d.items[i], "kind");
		if (!api || strcmp(api, "drover.io/v1alpha1") || !kind)
			continue;
		for (size_t k = 0; k < N_CRDS; k++)
			if (!strcmp(kind, kinds[k])) {
				ours++;
				rejected += !check(schema_for(kind), d.items[i]);
			}
	}
	docs_free(&d);
	return ours ? rejected : -1;
}

static void test_crds_are_structural_and_complete(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_CRDS; k++) {
		const struct crd_node *s = schema_for(kinds[k]);
		assert_non_null(s);
		assert_non_null(crd_node_get(crd_node_get(s, "properties"), "spec"));
		/* A PlacementPolicy is only desired state: nothing to observe. */
		if (strcmp(kinds[k], "PlacementPolicy"))
			assert_non_null(crd_node_get(crd_node_get(s, "properties"), "status"));
	}
}

static void test_schema_accepts_the_good_corpus(void **state)
{
	static const char *const good[] = {
		"tests/data/good/lab-hosts.yaml", "tests/data/good/lab-vms.yaml",
		"tests/data/good/all-fields.yaml", "tests/data/good/full-xml.yaml",
		"tests/data/good/gitops-mixed.yaml", "tests/data/good/quantities.yaml",
		"tests/data/good/api-object.json", "manifests/examples/hosts.yaml",
		"manifests/examples/vms.yaml", "manifests/examples/migration.yaml",
		"manifests/examples/placementpolicy.yaml", "tests/data/good/placement.yaml",
		"tests/data/good/host-released.yaml",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (schema_rejections(good[i]) != 0)
			fail_msg("%s: the schema refuses a valid document", good[i]);
}

static void test_schema_verdict_matches_the_bad_corpus_marks(void **state)
{
	struct dirent **names = NULL;
	int n = scandir("tests/data/bad", &names, test_is_corpus_file, alphasort);
	int failed = 0, compared = 0;
	(void)state;

	for (int i = 0; i < n; i++) {
		char path[512], expect[600], *mark;
		size_t len = 0;
		snprintf(path, sizeof(path), "tests/data/bad/%s", names[i]->d_name);
		snprintf(expect, sizeof(expect), "%s.expect", path);
		char *text = test_read_file(strstr(path, ".json") ? expect : path, &len);
		free(names[i]);
		assert_non_null(text);
		mark = strstr(text, "# schema: ");
		assert_non_null(mark);
		mark += 10;
		if (!strncmp(mark, "none", 4)) {
			free(text);
			continue;
		}
		int r = schema_rejections(path);
		bool want_reject = !strncmp(mark, "reject", 6);
		compared++;
		if ((r > 0) != want_reject) {
			fprintf(stderr, "%s: marked %s but the schema %s it\n", path,
				want_reject ? "reject" : "accept", r > 0 ? "rejects" : "accepts");
			failed++;
		}
		free(text);
	}
	free(names);
	assert_true(compared >= 80);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crds_are_structural_and_complete),
		cmocka_unit_test(test_schema_accepts_the_good_corpus),
		cmocka_unit_test(test_schema_verdict_matches_the_bad_corpus_marks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
