/* Tests of the kubeapi test server's schemas: what a real API server does to a write by the
 * CRD's openAPIV3Schema (pruning, defaults, validation with causes, fieldValidation), also on
 * /status, and the built-in kinds' types; and server-side apply of custom resources (managed
 * fields, conflicts, force). Real kubectl and raw HTTPS, no lab hosts. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"

#define KUBECTL "/usr/bin/kubectl"
#define TOKEN "kas-schema-token-81d2"
#define WIDGETS "/apis/schema.test/v1/namespaces/default/widgets"
#define LEASES "/apis/coordination.k8s.io/v1/namespaces/default/leases"
#define MERGE "application/merge-patch+json"
#define OUT_MAX (64 * 1024)

static struct {
	struct kf f;
	char kubeconfig[128];
} T;

/* Runs kubectl with @args (NULL-terminated) against the test server. Returns its exit code. */
static int kubectl(char *out, size_t len, const char *const *args)
{
	char *argv[24] = { KUBECTL, "--kubeconfig", T.kubeconfig };
	int n = 3;

	for (; *args && n < 23; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return kf_run(argv, out, len, 30);
}

static int group_setup(void **state)
{
	(void)state;
	return kh_start(&T.f, TOKEN, T.kubeconfig, sizeof(T.kubeconfig), "tests/data/kubeapi/schema/widget.yaml");
}

static int group_teardown(void **state)
{
	(void)state;
	kh_stop(&T.f);
	return 0;
}

static json_t *widget(const char *name, const char *spec)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"apiVersion\":\"schema.test/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"%s\"},"
		 "\"spec\":%s}", name, spec);
	return kh_create(WIDGETS, body);
}

static json_t *spec_of(json_t *obj)
{
	return json_object_get(obj, "spec");
}

/* Asserts that @causes holds one for @field with @reason. */
static void expect_cause(json_t *status, const char *field, const char *reason)
{
	json_t *causes = json_object_get(json_object_get(status, "details"), "causes"), *c;
	size_t i;

	json_array_foreach(causes, i, c) {
		if (!strcmp(kh_str_at(c, "field", NULL), field) && !strcmp(kh_str_at(c, "reason", NULL), reason))
			return;
	}
	char *text = kh_dumps(status);

	print_error("no cause %s %s in %s\n", field, reason, text ? text : "?");
	free(text);
	fail();
}

static void test_schema_prunes_unknown_fields_with_warnings_and_fills_defaults(void **state)
{
	json_t *w, *got = NULL;

	(void)state;
	w = widget("prune-1", "{\"size\":3,\"bogus\":1,\"extra\":{\"free\":{\"x\":1}},\"limits\":{\"cpu\":2},"
			      "\"note\":null,\"tags\":null}");
	/* Unknown fields go, with one Warning each (fieldValidation defaults to Warn). */
	assert_null(json_object_get(spec_of(w), "bogus"));
	assert_non_null(strstr(kh_last_headers(), "unknown field \\\"spec.bogus\\\""));
	/* Preserved subtrees and additionalProperties stay. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(spec_of(w), "extra"), "free") ?
					    json_object_get(json_object_get(json_object_get(spec_of(w), "extra"), "free"), "x") : NULL), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(spec_of(w), "limits"), "cpu")), 2);
	/* A nullable null stays; a null where null is not allowed is dropped. */
	assert_true(json_is_null(json_object_get(spec_of(w), "note")));
	assert_null(json_object_get(spec_of(w), "tags"));
	/* Defaults, also inside a defaulted object. */
	assert_string_equal(kh_str_at(spec_of(w), "color", NULL), "green");
	assert_string_equal(kh_str_at(json_object_get(spec_of(w), "nested"), "mode", NULL), "fast");
	json_decref(w);
	/* Also what a patch adds. */
	assert_int_equal(kh_http("PATCH", WIDGETS "/prune-1", "{\"spec\":{\"other\":true},\"top\":1}", MERGE, &got), 200);
	assert_null(json_object_get(spec_of(got), "other"));
	assert_null(json_object_get(got, "top"));
	json_decref(got);
}

static void test_schema_strict_field_validation_refuses_unknown_fields(void **state)
{
	json_t *st = NULL, *got = NULL;
	const char *body = "{\"apiVersion\":\"schema.test/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"strict-1\"},"
			   "\"spec\":{\"size\":2,\"bogus\":true}}";
	long code;

	(void)state;
	code = kh_http("POST", WIDGETS "?fieldValidation=Strict", body, NULL, &st);
	kh_expect_status(st, code, 400, "BadRequest");
	assert_non_null(strstr(kh_str_at(st, "message", NULL), "unknown field \"spec.bogus\""));
	json_decref(st);
	/* metadata is held to ObjectMeta's fields. */
	code = kh_http("POST", WIDGETS "?fieldValidation=Strict", "{\"apiVersion\":\"schema.test/v1\",\"kind\":\"Widget\","
		       "\"metadata\":{\"name\":\"strict-3\",\"label\":{\"a\":\"b\"}},\"spec\":{\"size\":2}}", NULL, &st);
	kh_expect_status(st, code, 400, "BadRequest");
	assert_non_null(strstr(kh_str_at(st, "message", NULL), "unknown field \"metadata.label\""));
	json_decref(st);
	kh_expect_code("GET", WIDGETS "/strict-1", NULL, NULL, 404);
	/* Ignore drops them without a warning. */
	assert_int_equal(kh_http("POST", WIDGETS "?fieldValidation=Ignore", body, NULL, &got), 201);
	assert_null(strstr(kh_last_headers(), "unknown field"));
	assert_null(json_object_get(spec_of(got), "bogus"));
	json_decref(got);
	kh_expect_error("POST", WIDGETS "?fieldValidation=Loose",
			"{\"metadata\":{\"name\":\"strict-2\"},\"spec\":{\"size\":2}}", 400, "BadRequest");
}

static void test_schema_invalid_object_is_422_with_causes(void **state)
{
	json_t *st = NULL, *w, *got = NULL;
	long code;

	(void)state;
	code = kh_http("POST", WIDGETS,
		       "{\"apiVersion\":\"schema.test/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"bad-1\"},"
		       "\"spec\":{\"size\":\"big\",\"color\":\"purple\",\"name\":\"ABC\",\"amount\":\"12X\","
		       "\"tags\":[\"a\",\"b\",\"c\",\"d\"]}}",
		       NULL, &st);
	kh_expect_status(st, code, 422, "Invalid");
	expect_cause(st, "spec.size", "FieldValueTypeInvalid");
	expect_cause(st, "spec.color", "FieldValueNotSupported");
	expect_cause(st, "spec.name", "FieldValueInvalid");
	expect_cause(st, "spec.amount", "FieldValueInvalid");
	expect_cause(st, "spec.tags", "FieldValueTooMany");
	assert_string_equal(kh_str_at(json_object_get(st, "details"), "kind", NULL), "Widget");
	assert_non_null(strstr(kh_str_at(st, "message", NULL), "Widget.schema.test \"bad-1\" is invalid: ["));
	json_decref(st);
	code = kh_http("POST", WIDGETS, "{\"metadata\":{\"name\":\"bad-2\"}}", NULL, &st);
	kh_expect_status(st, code, 422, "Invalid");
	expect_cause(st, "spec", "FieldValueRequired");
	json_decref(st);
	/* An update that breaks the schema changes nothing. */
	w = widget("bad-3", "{\"size\":4,\"amount\":12}");
	code = kh_http("PATCH", WIDGETS "/bad-3", "{\"spec\":{\"size\":11}}", MERGE, &st);
	kh_expect_status(st, code, 422, "Invalid");
	expect_cause(st, "spec.size", "FieldValueInvalid");
	json_decref(st);
	assert_int_equal(kh_http("GET", WIDGETS "/bad-3", NULL, NULL, &got), 200);
	assert_int_equal(json_integer_value(json_object_get(spec_of(got), "size")), 4);
	assert_int_equal(kh_rv_of(got), kh_rv_of(w));
	json_decref(got);
	json_decref(w);
}

static void test_schema_status_is_pruned_and_validated_too(void **state)
{
	json_t *w, *st = NULL, *got = NULL;
	long code;

	(void)state;
	w = widget("status-1", "{\"size\":1}");
	assert_int_equal(kh_http("PATCH", WIDGETS "/status-1/status",
				 "{\"status\":{\"phase\":\"Ready\",\"dropped\":\"x\",\"conditions\":[{\"type\":\"Ready\","
				 "\"status\":\"True\",\"lost\":1}]}}", MERGE, &got), 200);
	assert_string_equal(kh_str_at(json_object_get(got, "status"), "phase", NULL), "Ready");
	assert_null(json_object_get(json_object_get(got, "status"), "dropped"));
	assert_null(json_object_get(json_array_get(json_object_get(json_object_get(got, "status"), "conditions"), 0),
				    "lost"));
	json_decref(got);
	code = kh_http("PATCH", WIDGETS "/status-1/status",
		       "{\"status\":{\"count\":-1,\"conditions\":[{\"type\":\"Ready\",\"status\":\"Maybe\"},{\"type\":\"X\"}]}}",
		       MERGE, &st);
	kh_expect_status(st, code, 422, "Invalid");
	expect_cause(st, "status.count", "FieldValueInvalid");
	expect_cause(st, "status.conditions[0].status", "FieldValueNotSupported");
	expect_cause(st, "status.conditions[1].status", "FieldValueRequired");
	json_decref(st);
	json_decref(w);
}

static void test_schema_builtin_lease_refuses_wrong_types(void **state)
{
	json_t *st = NULL, *got = NULL;
	long code;

	(void)state;
	code = kh_http("POST", LEASES,
		       "{\"metadata\":{\"name\":\"bad-time\"},\"spec\":{\"holderIdentity\":\"a\",\"renewTime\":\"yesterday\"}}",
		       NULL, &st);
	kh_expect_status(st, code, 400, "BadRequest");
	assert_non_null(strstr(kh_str_at(st, "message", NULL), "spec.renewTime"));
	json_decref(st);
	code = kh_http("POST", LEASES, "{\"metadata\":{\"name\":\"bad-int\"},\"spec\":{\"leaseDurationSeconds\":\"15\"}}",
		       NULL, &st);
	kh_expect_status(st, code, 400, "BadRequest");
	json_decref(st);
	kh_expect_error("POST", LEASES, "{\"metadata\":{\"name\":\"bad-dur\"},\"spec\":{\"leaseDurationSeconds\":0}}", 422,
			"Invalid");
	kh_expect_code("GET", LEASES "/bad-time", NULL, NULL, 404);
	kh_expect_code("GET", LEASES "/bad-int", NULL, NULL, 404);
	json_decref(kh_create(LEASES, "{\"metadata\":{\"name\":\"good\"},\"spec\":{\"holderIdentity\":\"a\","
				      "\"leaseDurationSeconds\":15,\"renewTime\":\"2026-01-02T03:04:05.123456Z\"}}"));
	/* A PUT with a malformed time leaves the stored Lease alone. */
	code = kh_http("PUT", LEASES "/good", "{\"metadata\":{\"name\":\"good\"},\"spec\":{\"acquireTime\":\"2026-13\"}}",
		       NULL, &st);
	kh_expect_status(st, code, 400, "BadRequest");
	json_decref(st);
	assert_int_equal(kh_http("GET", LEASES "/good", NULL, NULL, &got), 200);
	assert_string_equal(kh_str_at(spec_of(got), "holderIdentity", NULL), "a");
	json_decref(got);
}

static void test_schema_kubectl_strict_apply_refuses_unknown_field(void **state)
{
	char path[256], out[OUT_MAX];
	const char *apply[] = { "apply", "-f", path, NULL };

	(void)state;
	kf_path(&T.f, "w.yaml", path, sizeof(path));
	assert_int_equal(kf_write_file(path, "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: kc-1}\n"
					     "spec: {size: 2, colour: red}\n"), 0);
	/* kubectl validates strictly by default and leaves it to the server. */
	assert_int_not_equal(kubectl(out, sizeof(out), apply), 0);
	if (!strstr(out, "unknown field \"spec.colour\"")) {
		print_error("kubectl said:\n%s\n", out);
		fail();
	}
	assert_int_equal(kf_write_file(path, "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: kc-1}\n"
					     "spec: {size: 20}\n"), 0);
	assert_int_not_equal(kubectl(out, sizeof(out), apply), 0);
	if (!strstr(out, "spec.size")) {
		print_error("kubectl said:\n%s\n", out);
		fail();
	}
}

/* ---- server-side apply ---- */

#define APPLY "application/apply-patch+yaml"

/* The managedFields entry of @manager with @op, borrowed, or NULL. */
static json_t *managed(json_t *obj, const char *manager, const char *op)
{
	json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields"), *e;
	size_t i;

	json_array_foreach(mf, i, e) {
		if (!strcmp(kh_str_at(e, "manager", NULL), manager) && !strcmp(kh_str_at(e, "operation", NULL), op))
			return e;
	}
	return NULL;
}

/* True when @manager's @op entry owns spec.FIELD. */
static bool owns(json_t *obj, const char *manager, const char *op, const char *field)
{
	json_t *e = managed(obj, manager, op);
	char f[64];

	snprintf(f, sizeof(f), "f:%s", field);
	return json_object_get(json_object_get(json_object_get(e, "fieldsV1"), "f:spec"), f) != NULL;
}

static long apply_as(const char *manager, const char *query, const char *yaml, json_t **out)
{
	char path[256];

	snprintf(path, sizeof(path), WIDGETS "/ssa-1?fieldManager=%s%s", manager, query ? query : "");
	return kh_http("PATCH", path, yaml, APPLY, out);
}

static void test_apply_creates_merges_and_removes_what_is_no_longer_applied(void **state)
{
	json_t *got = NULL;

	(void)state;
	/* YAML body; the object does not exist yet: apply creates it. */
	assert_int_equal(apply_as("alice", NULL, "apiVersion: schema.test/v1\nkind: Widget\nmetadata:\n  name: ssa-1\n"
				  "  labels: {team: a}\nspec:\n  size: 2\n  name: abc\n", &got), 201);
	assert_true(owns(got, "alice", "Apply", "size"));
	assert_string_equal(kh_str_at(managed(got, "alice", "Apply"), "fieldsType", NULL), "FieldsV1");
	json_decref(got);
	/* Another writer's merge patch is an Update of its own fields. */
	assert_int_equal(kh_http("PATCH", WIDGETS "/ssa-1?fieldManager=bob", "{\"spec\":{\"color\":\"red\"}}", MERGE, &got),
			 200);
	assert_true(owns(got, "bob", "Update", "color"));
	json_decref(got);
	/* Alice stops applying spec.name: it goes; bob's color stays. JSON is YAML too. */
	assert_int_equal(apply_as("alice", NULL, "{\"apiVersion\":\"schema.test/v1\",\"kind\":\"Widget\","
				  "\"metadata\":{\"name\":\"ssa-1\"},\"spec\":{\"size\":3}}", &got), 200);
	assert_null(json_object_get(spec_of(got), "name"));
	assert_string_equal(kh_str_at(spec_of(got), "color", NULL), "red");
	assert_int_equal(json_integer_value(json_object_get(spec_of(got), "size")), 3);
	json_decref(got);
}

static void test_apply_conflict_names_field_and_manager_and_force_takes_over(void **state)
{
	json_t *got = NULL, *st = NULL, *cause;
	const char *cfg = "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: ssa-1}\nspec: {size: 4}\n";
	uint64_t rv;
	long code;

	(void)state;
	assert_int_equal(kh_http("PATCH", WIDGETS "/ssa-1?fieldManager=bob", "{\"spec\":{\"size\":5}}", MERGE, &got), 200);
	assert_true(owns(got, "bob", "Update", "size"));
	rv = kh_rv_of(got);
	json_decref(got);
	code = apply_as("alice", NULL, cfg, &st);
	kh_expect_status(st, code, 409, "Conflict");
	cause = json_array_get(json_object_get(json_object_get(st, "details"), "causes"), 0);
	assert_string_equal(kh_str_at(cause, "field", NULL), ".spec.size");
	assert_string_equal(kh_str_at(cause, "reason", NULL), "FieldManagerConflict");
	assert_non_null(strstr(kh_str_at(cause, "message", NULL), "\"bob\""));
	json_decref(st);
	/* Nothing changed. */
	assert_int_equal(kh_http("GET", WIDGETS "/ssa-1", NULL, NULL, &got), 200);
	assert_int_equal(kh_rv_of(got), rv);
	json_decref(got);
	/* Applying the value that is already there is no conflict: the field is shared. */
	assert_int_equal(apply_as("carol", NULL, "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: ssa-1}\n"
				  "spec: {size: 5}\n", &got), 200);
	assert_true(owns(got, "carol", "Apply", "size") && owns(got, "bob", "Update", "size"));
	json_decref(got);
	/* force=true takes the field from everyone else. */
	assert_int_equal(apply_as("alice", "&force=true", cfg, &got), 200);
	assert_int_equal(json_integer_value(json_object_get(spec_of(got), "size")), 4);
	assert_true(owns(got, "alice", "Apply", "size"));
	assert_false(owns(got, "bob", "Update", "size"));
	assert_false(owns(got, "carol", "Apply", "size"));
	json_decref(got);
}

static void test_apply_status_subresource_and_bad_requests(void **state)
{
	json_t *got = NULL, *e;

	(void)state;
	assert_int_equal(kh_http("PATCH", WIDGETS "/ssa-1/status?fieldManager=ctrl",
				 "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: ssa-1}\nspec: {size: 9}\n"
				 "status:\n  phase: Ready\n  conditions:\n  - {type: Ready, status: 'True'}\n",
				 APPLY, &got), 200);
	assert_string_equal(kh_str_at(json_object_get(got, "status"), "phase", NULL), "Ready");
	assert_int_equal(json_integer_value(json_object_get(spec_of(got), "size")), 4);
	e = managed(got, "ctrl", "Apply");
	assert_string_equal(kh_str_at(e, "subresource", NULL), "status");
	/* A map list: its elements are owned by key. */
	assert_non_null(json_object_get(json_object_get(json_object_get(json_object_get(e, "fieldsV1"), "f:status"),
							"f:conditions"), "k:{\"type\":\"Ready\"}"));
	json_decref(got);
	kh_expect_error("PATCH", WIDGETS "/ssa-1", "{\"apiVersion\":\"schema.test/v1\",\"kind\":\"Widget\"}", 415,
			"UnsupportedMediaType");
	assert_int_equal(kh_http("PATCH", WIDGETS "/ssa-1", "apiVersion: schema.test/v1\nkind: Widget\n", APPLY, &got), 422);
	json_decref(got);
	assert_int_equal(kh_http("PATCH", WIDGETS "/ssa-1?fieldManager=x", "spec: [unclosed\n", APPLY, &got), 400);
	json_decref(got);
	assert_int_equal(kh_http("PATCH", WIDGETS "/ssa-1?fieldManager=x", "spec: {size: 1}\n", APPLY, &got), 400);
	json_decref(got);
}

static void test_apply_kubectl_server_side_with_conflicts_and_force(void **state)
{
	char path[256], out[OUT_MAX];
	const char *apply[] = { "apply", "--server-side", "-f", path, NULL };
	const char *force[] = { "apply", "--server-side", "--force-conflicts", "-f", path, NULL };
	const char *dry[] = { "apply", "--server-side", "--dry-run=server", "-f", path, NULL };
	const char *get[] = { "get", "widget", "kc-ssa", "-o", "json", "--show-managed-fields", NULL };
	json_t *got = NULL;

	(void)state;
	kf_path(&T.f, "ssa.yaml", path, sizeof(path));
	assert_int_equal(kf_write_file(path, "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: kc-ssa, "
					     "labels: {app: w}}\nspec: {size: 2, color: blue}\n"), 0);
	assert_int_equal(kubectl(out, sizeof(out), apply), 0);
	assert_non_null(strstr(out, "serverside-applied"));
	assert_int_equal(kubectl(out, sizeof(out), get), 0);
	got = json_loads(out, 0, NULL);
	assert_true(owns(got, "kubectl", "Apply", "size"));
	json_decref(got);
	/* Someone else changes a field kubectl applied: the next apply conflicts, naming it. */
	assert_int_equal(kh_http("PATCH", "/apis/schema.test/v1/namespaces/default/widgets/kc-ssa?fieldManager=drover",
				 "{\"spec\":{\"color\":\"red\"}}", MERGE, &got), 200);
	json_decref(got);
	assert_int_not_equal(kubectl(out, sizeof(out), apply), 0);
	if (!strstr(out, "conflict") || !strstr(out, ".spec.color") || !strstr(out, "drover")) {
		print_error("kubectl said:\n%s\n", out);
		fail();
	}
	assert_int_equal(kubectl(out, sizeof(out), dry), 1);
	assert_int_equal(kubectl(out, sizeof(out), force), 0);
	assert_int_equal(kubectl(out, sizeof(out), get), 0);
	got = json_loads(out, 0, NULL);
	assert_string_equal(kh_str_at(spec_of(got), "color", NULL), "blue");
	assert_false(owns(got, "drover", "Update", "color"));
	json_decref(got);
	/* Re-applying the same file changes nothing. */
	assert_int_equal(kubectl(out, sizeof(out), apply), 0);
	assert_non_null(strstr(out, "serverside-applied"));
}

/* A client-side applied object moves to server-side apply as kubectl does it (it rewrites the
 * managedFields of kubectl-client-side-apply to its own manager), and later applies remove
 * what the file no longer has. */
static void test_apply_kubectl_moves_from_client_side_to_server_side(void **state)
{
	char path[256], out[OUT_MAX];
	const char *csa[] = { "apply", "-f", path, NULL };
	const char *ssa[] = { "apply", "--server-side", "-f", path, NULL };
	const char *get[] = { "get", "widget", "kc-csa", "-o", "json", "--show-managed-fields", NULL };
	json_t *got;

	(void)state;
	kf_path(&T.f, "csa.yaml", path, sizeof(path));
	assert_int_equal(kf_write_file(path, "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: kc-csa}\n"
					     "spec: {size: 2, name: abc}\n"), 0);
	assert_int_equal(kubectl(out, sizeof(out), csa), 0);
	assert_int_equal(kubectl(out, sizeof(out), ssa), 0);
	assert_int_equal(kf_write_file(path, "apiVersion: schema.test/v1\nkind: Widget\nmetadata: {name: kc-csa}\n"
					     "spec: {size: 3}\n"), 0);
	assert_int_equal(kubectl(out, sizeof(out), ssa), 0);
	assert_int_equal(kubectl(out, sizeof(out), get), 0);
	got = json_loads(out, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(spec_of(got), "size")), 3);
	assert_null(json_object_get(spec_of(got), "name"));
	assert_null(managed(got, "kubectl-client-side-apply", "Update"));
	json_decref(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_prunes_unknown_fields_with_warnings_and_fills_defaults),
		cmocka_unit_test(test_schema_strict_field_validation_refuses_unknown_fields),
		cmocka_unit_test(test_schema_invalid_object_is_422_with_causes),
		cmocka_unit_test(test_schema_status_is_pruned_and_validated_too),
		cmocka_unit_test(test_schema_builtin_lease_refuses_wrong_types),
		cmocka_unit_test(test_schema_kubectl_strict_apply_refuses_unknown_field),
		cmocka_unit_test(test_apply_creates_merges_and_removes_what_is_no_longer_applied),
		cmocka_unit_test(test_apply_conflict_names_field_and_manager_and_force_takes_over),
		cmocka_unit_test(test_apply_status_subresource_and_bad_requests),
		cmocka_unit_test(test_apply_kubectl_server_side_with_conflicts_and_force),
		cmocka_unit_test(test_apply_kubectl_moves_from_client_side_to_server_side),
	};

	return cmocka_run_group_tests_name("kubeapi_schema", tests, group_setup, group_teardown);
}
