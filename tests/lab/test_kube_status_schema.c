/* What drover writes to status survives the CRD schemas of manifests/crds/: every field of
 * every status kind, with every phase and mode, written through /status to the kubeapi test
 * server (which prunes and validates as a real API server does) and read back unchanged. A
 * field the encoder writes and the schema lacks would be dropped silently on a real cluster;
 * here it fails. No lab hosts. */
#include <dirent.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crd/encode.h"
#include "crd/types.h"
#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"

#define TOKEN "kas-status-token-0c55"
#define BASE "/apis/drover.io/v1alpha1/namespaces/default/"
#define TIME "2026-03-04T05:06:07Z"

static struct {
	struct kf f;
	char kubeconfig[128];
} T;

static int group_setup(void **state)
{
	(void)state;
	if (kh_start(&T.f, TOKEN, T.kubeconfig, sizeof(T.kubeconfig), NULL) < 0)
		return -1;
	return kf_apply_crds(T.kubeconfig);
}

static int group_teardown(void **state)
{
	(void)state;
	kh_stop(&T.f);
	return 0;
}

/* Writes @status (stolen) to PLURAL/NAME/status and asserts it reads back equal. */
static void roundtrip(const char *plural, const char *name, json_t *status)
{
	char path[256], *body = NULL, *want = NULL, *got_text = NULL;
	json_t *patch = json_pack("{s:O}", "status", status), *got = NULL;
	long code;

	snprintf(path, sizeof(path), BASE "%s/%s/status", plural, name);
	body = kh_dumps(patch);
	code = kh_http("PATCH", path, body, "application/merge-patch+json", &got);
	want = kh_dumps(status);
	got_text = kh_dumps(json_object_get(got, "status"));
	if (code != 200 || !json_equal(json_object_get(got, "status"), status))
		print_error("%s %s: HTTP %ld\n  wrote %s\n  read  %s\n  reply %s\n", plural, name, code, want,
			    got_text ? got_text : "-", kh_dumps(got));
	assert_int_equal(code, 200);
	assert_true(json_equal(json_object_get(got, "status"), status));
	/* The server logged nothing pruned either. */
	kh_assert_nothing_pruned(&T.f);
	free(body);
	free(want);
	free(got_text);
	json_decref(patch);
	json_decref(got);
	json_decref(status);
}

static struct crd_condition conds[2] = {
	{ "Ready", CRD_COND_TRUE, "Reconciled", "all good", TIME, 3 },
	{ "Valid", CRD_COND_FALSE, "Invalid", "spec.host: unknown", TIME, 3 },
};

static void test_host_status_survives_the_schema(void **state)
{
	struct crd_host_status st = {
		.observed_generation = 3, .conditions = { conds, 2 },
		.hypervisor = { "QEMU", "8.2.0", "10.0.0", "x86_64", "Skylake-Client" },
		.memory_total = 16ull << 30, .memory_free = 3ull << 30, .vms = 4,
	};

	(void)state;
	json_decref(kh_create(BASE "hosts", "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Host\","
					    "\"metadata\":{\"name\":\"kvm-a\"},\"spec\":{\"uri\":\"test:///default\"}}"));
	roundtrip("hosts", "kvm-a", crd_host_status_to_json(&st));
}

static void test_vm_status_in_every_phase_survives_the_schema(void **state)
{
	struct crd_vm_status st = { .observed_generation = 2, .host = "kvm-a", .conditions = { conds, 2 },
				    .migration = { "move-web-1", CRD_MIG_RUNNING, 42 } };

	(void)state;
	json_decref(kh_create(BASE "virtualmachines", "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"VirtualMachine\","
						      "\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"host\":\"kvm-a\","
						      "\"domain\":{\"memory\":\"512Mi\",\"vcpus\":1}}}"));
	for (int p = CRD_VM_PENDING; p <= CRD_VM_UNKNOWN; p++) {
		st.phase = (enum crd_vm_phase)p;
		st.migration.phase = (enum crd_mig_phase)(CRD_MIG_PENDING + p % CRD_MIG_CANCELLED);
		roundtrip("virtualmachines", "web-1", crd_vm_status_to_json(&st));
	}
}

static void test_migration_status_in_every_phase_mode_and_reason_survives_the_schema(void **state)
{
	struct crd_migration_status st = {
		.observed_generation = 1, .source_host = "kvm-a", .target_host = "kvm-b",
		.start_time = TIME, .end_time = TIME, .downtime_ms = 120, .failure_reason = "guest paused",
		.progress = { 1u << 30, 1u << 29, 1u << 29, 1u << 20, 1u << 25, 3, 50 }, .conditions = { conds, 2 },
	};

	(void)state;
	json_decref(kh_create(BASE "migrations", "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\","
						 "\"metadata\":{\"name\":\"move-web-1\"},\"spec\":{\"vmName\":\"web-1\"}}"));
	for (int p = CRD_MIG_PENDING; p <= CRD_MIG_CANCELLED; p++) {
		st.phase = (enum crd_mig_phase)p;
		st.mode = (enum crd_mig_run_mode)(CRD_RUN_PRECOPY + p % CRD_RUN_COLD);
		st.reason = (enum crd_mig_reason)(CRD_MIG_REQUESTED + p % CRD_MIG_FAILOVER);
		st.transitions[st.n_transitions].phase = st.phase;
		st.transitions[st.n_transitions++].time = TIME;
		roundtrip("migrations", "move-web-1", crd_migration_status_to_json(&st));
	}
}

/* Runs `kubectl apply --dry-run=server --validate=strict -f @path` and asserts it passes. */
static void dry_run_apply(const char *path)
{
	char out[65536];
	char *argv[] = { "/usr/bin/kubectl", "--kubeconfig", T.kubeconfig, "apply", "--dry-run=server",
			 "--validate=strict", "-f", (char *)path, NULL };
	int rc = kf_run(argv, out, sizeof(out), 60);

	if (rc != 0)
		fprintf(stderr, "kubectl apply --dry-run=server -f %s exited %d:\n%s\n", path, rc, out);
	assert_int_equal(rc, 0);
}

/* The manifests users start from, and the decoder's good corpus, pass the CRD schemas the way
 * kubectl sends them (strict field validation, server-side dry run): a manifest drover
 * accepts is one a real cluster accepts. */
static void test_example_and_good_manifests_pass_the_schemas_strictly(void **state)
{
	DIR *d = opendir("tests/data/good");
	struct dirent *e;
	char path[512];
	int files = 0;

	(void)state;
	assert_non_null(d);
	json_decref(kh_create("/api/v1/namespaces", "{\"metadata\":{\"name\":\"prod\"}}"));
	dry_run_apply("manifests/examples/");
	while ((e = readdir(d)) && files < 1000) {
		/* gitops-mixed.yaml holds a Deployment and a ConfigMap too, kinds this server lacks. */
		if (!strstr(e->d_name, ".yaml") || !strcmp(e->d_name, "gitops-mixed.yaml"))
			continue;
		snprintf(path, sizeof(path), "tests/data/good/%s", e->d_name);
		dry_run_apply(path);
		files++;
	}
	closedir(d);
	assert_true(files > 0);
	kh_assert_nothing_pruned(&T.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_status_survives_the_schema),
		cmocka_unit_test(test_vm_status_in_every_phase_survives_the_schema),
		cmocka_unit_test(test_migration_status_in_every_phase_mode_and_reason_survives_the_schema),
		cmocka_unit_test(test_example_and_good_manifests_pass_the_schemas_strictly),
	};

	return cmocka_run_group_tests_name("kube_status_schema", tests, group_setup, group_teardown);
}
