/* The kubeapi test server driven by a second real client, the official Python one
 * (python3-kubernetes, Debian's python3): tests/lab/kubeapi_client.py runs one check per test
 * against a fresh server with the drover test CRDs. No lab hosts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"

#define PYTHON "/usr/bin/python3"
#define SCRIPT "tests/lab/kubeapi_client.py"
#define TOKEN "kas-python-token-3e7a"
#define OUT_MAX (64 * 1024)

static struct {
	struct kf f;
	char kubeconfig[128];
} T;

static int group_setup(void **state)
{
	(void)state;
	if (access(SCRIPT, R_OK) < 0) {
		fprintf(stderr, "%s not found: run the lab tests from the repository root\n", SCRIPT);
		return -1;
	}
	return kh_start(&T.f, TOKEN, T.kubeconfig, sizeof(T.kubeconfig), "tests/data/kubeapi/crds/");
}

static int group_teardown(void **state)
{
	(void)state;
	kh_stop(&T.f);
	return 0;
}

/* Runs one check of the script; it must print "ok CHECK" and exit 0. */
static void python_check(const char *check)
{
	char out[OUT_MAX], want[64];
	char *argv[] = { PYTHON, SCRIPT, T.kubeconfig, (char *)check, NULL };
	int rc = kf_run(argv, out, sizeof(out), 60);

	snprintf(want, sizeof(want), "ok %s", check);
	if (rc != 0 || !strstr(out, want))
		print_error("%s %s exited %d:\n%s\n", SCRIPT, check, rc, out);
	assert_int_equal(rc, 0);
}

static void test_python_client_lists_with_selectors_and_pages(void **state)
{
	(void)state;
	python_check("list");
}

static void test_python_client_watches_from_a_resource_version_with_bookmarks(void **state)
{
	(void)state;
	python_check("watch");
}

static void test_python_client_gets_410_after_compaction_and_relists(void **state)
{
	(void)state;
	python_check("relist");
}

static void test_python_client_patches_status_without_touching_generation(void **state)
{
	(void)state;
	python_check("status");
}

static void test_python_client_updates_a_lease_and_a_stale_update_conflicts(void **state)
{
	(void)state;
	python_check("lease");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_python_client_lists_with_selectors_and_pages),
		cmocka_unit_test(test_python_client_watches_from_a_resource_version_with_bookmarks),
		cmocka_unit_test(test_python_client_gets_410_after_compaction_and_relists),
		cmocka_unit_test(test_python_client_patches_status_without_touching_generation),
		cmocka_unit_test(test_python_client_updates_a_lease_and_a_stale_update_conflicts),
	};

	return cmocka_run_group_tests_name("kubeapi_python", tests, group_setup, group_teardown);
}
