/* test_kube_drain: `drover drain HOST` and `drover undrain HOST --kubeconfig FILE` against
 * build/kubeapi-server (no libvirt): spec.drain is patched on the named Host, and an
 * unknown Host is a clear error. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/kube/kube_config.h"
#include "controller/kube/kube_http.h"
#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"
#include "tests/lab/lab.h"

#define TOKEN "kd-test-token-5c0e91aa"

static struct {
	struct kf f;
	char kubeconfig[160];
	struct kube_config cfg;
	struct kube_client *c;
} T;

/* Runs lab_drover() with @args (NULL-terminated, after the program name); its stdout and
 * stderr into @out. Returns the exit code. */
static int drover(char *out, size_t len, const char *const *args)
{
	char bin[PATH_MAX];
	char *argv[16];
	size_t n = 0;

	assert_non_null(realpath(lab_drover(), bin));
	argv[n++] = bin;
	while (*args && n + 1 < sizeof(argv) / sizeof(argv[0]))
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	int rc = kf_run(argv, out, len, 60);
	printf("  $ drover %s %s (exit %d)\n%s", argv[1], argv[2] ? argv[2] : "", rc, out);
	return rc;
}

/* spec.drain of Host default/@name as the API server stores it: 1 true, 0 false or absent. */
static int stored_drain(const char *name)
{
	char path[KUBE_PATH_MAX];
	struct kube_response r;

	assert_int_equal(kube_path(path, sizeof(path), &kube_res_host, "default", name, NULL), 0);
	assert_int_equal(kube_request(T.c, "GET", path, NULL, NULL, &r), 0);
	assert_int_equal(r.code, 200);
	int drain = json_is_true(json_object_get(json_object_get(r.body, "spec"), "drain"));
	kube_response_free(&r);
	return drain;
}

static void create_host(const char *name)
{
	char path[KUBE_PATH_MAX], body[512];
	struct kube_response r;

	snprintf(body, sizeof(body), "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Host\","
		 "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"uri\":\"test:///default\"}}", name);
	json_t *obj = json_loads(body, 0, NULL);
	assert_non_null(obj);
	assert_int_equal(kube_path(path, sizeof(path), &kube_res_host, "default", NULL, NULL), 0);
	assert_int_equal(kube_request(T.c, "POST", path, obj, NULL, &r), 0);
	assert_int_equal(r.code, 201);
	kube_response_free(&r);
	json_decref(obj);
}

static void test_kube_drain_sets_and_undrain_clears_spec_drain(void **state)
{
	char out[4096];

	(void)state;
	create_host("kd-a");
	create_host("kd-b");
	assert_int_equal(stored_drain("kd-a"), 0);
	assert_int_equal(drover(out, sizeof(out), (const char *[]){"drain", "kd-a", "--kubeconfig",
								   T.kubeconfig, NULL}), 0);
	assert_non_null(strstr(out, "host/kd-a drained"));
	assert_int_equal(stored_drain("kd-a"), 1);
	assert_int_equal(stored_drain("kd-b"), 0);       /* the named Host only */
	assert_int_equal(drover(out, sizeof(out), (const char *[]){"undrain", "kd-a", "--kubeconfig",
								   T.kubeconfig, "--namespace",
								   "default", NULL}), 0);
	assert_non_null(strstr(out, "host/kd-a undrained"));
	assert_int_equal(stored_drain("kd-a"), 0);
	/* Undraining a Host that is not drained is no error either. */
	assert_int_equal(drover(out, sizeof(out), (const char *[]){"undrain", "kd-b", "--kubeconfig",
								   T.kubeconfig, NULL}), 0);
	assert_int_equal(stored_drain("kd-b"), 0);
}

static void test_kube_drain_of_an_unknown_host_fails_naming_it(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(drover(out, sizeof(out), (const char *[]){"drain", "kd-nope", "--kubeconfig",
								   T.kubeconfig, NULL}), 1);
	assert_non_null(strstr(out, "host \"kd-nope\" not found in namespace \"default\""));
	assert_null(strstr(out, TOKEN));
	assert_int_equal(drover(out, sizeof(out), (const char *[]){"undrain", "kd-a", "--kubeconfig",
								   T.kubeconfig, "--namespace",
								   "elsewhere", NULL}), 1);
	assert_non_null(strstr(out, "host \"kd-a\" not found in namespace \"elsewhere\""));
}

/* ---- set-up ---- */

static int group_setup(void **state)
{
	char err[256];

	(void)state;
	if (kf_start(&T.f, TOKEN, 100) < 0 ||
	    kf_write_kubeconfig(&T.f, TOKEN, T.kubeconfig, sizeof(T.kubeconfig)) < 0)
		return -1;
	if (kube_config_load_file(T.kubeconfig, NULL, &T.cfg, err, sizeof(err)) < 0 ||
	    kube_client_new(&T.cfg, NULL, &T.c, err, sizeof(err)) < 0) {
		fprintf(stderr, "client: %s\n", err);
		return -1;
	}
	return kf_apply_crds(T.kubeconfig);
}

static int group_teardown(void **state)
{
	(void)state;
	kube_client_free(T.c);
	kube_config_free(&T.cfg);
	kf_stop(&T.f);
	return 0;
}

/* The server prunes by the CRD schemas as a real one does: nothing drover (or this test)
 * wrote may have been dropped, or a real cluster would lose it silently. */
static void test_kube_nothing_written_was_pruned_by_the_crd_schemas(void **state)
{
	(void)state;
	kh_assert_nothing_pruned(&T.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_drain_sets_and_undrain_clears_spec_drain),
		cmocka_unit_test(test_kube_drain_of_an_unknown_host_fails_naming_it),
		cmocka_unit_test(test_kube_nothing_written_was_pruned_by_the_crd_schemas),
	};
	return cmocka_run_group_tests_name("kube_drain", tests, group_setup, group_teardown);
}
