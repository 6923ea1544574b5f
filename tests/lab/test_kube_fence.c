/* test_kube_fence: host failure in Kubernetes mode — `drover run --kubeconfig` against
 * build/kubeapi-server and the lab. The Hosts' BMC passwords are in Secrets
 * (passwordSecretRef), the PlacementPolicy says hostFailure {detectAfterSeconds: 10, fence:
 * true}. The power of the host running two shared-storage guests is cut: drover powers it
 * off through its BMC with the real fence_ipmilan, and only then restarts both guests
 * elsewhere, as Migrations of reason Failover in the API; the Host gets a Warning HostFailed
 * event and a HostFenced one; no sample ever sees two copies of a guest. Powered on again,
 * the host loses its stale copies. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/clk.h"
#include "tests/lab/drover_fixture.h"
#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"

#define N_HOSTS 3
#define N_VMS 2
#define FAILING 2                 /* lab-c */
#define TOKEN "kf-fence-token-81c2d4"
#define NS_PATH "/apis/drover.io/v1alpha1/namespaces/default"

static struct {
	struct kf f;
	char kubeconfig[160];
	char log[160];
	int drover;
	char disks[N_VMS][512];
	int most_copies;              /* of any guest, in any sample */
} T = {.drover = -1};

static const char *const vms[N_VMS] = {"kf-1", "kf-2"};

/* ---- helpers ---- */

static void lab_verb(const char *verb, int host)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(host), NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 120), 0);
}

/* Where guest @v runs (a host index), or -1; counts the copies into T.most_copies. */
static int runs_on(int v)
{
	char st[64];
	int at = -1, copies = 0;
	for (int i = 0; i < N_HOSTS; i++) {
		lab_dom_state(i, vms[v], st, sizeof(st));
		if (!strcmp(st, "running")) {
			at = i;
			copies++;
		}
	}
	if (copies > T.most_copies)
		T.most_copies = copies;
	return at;
}

/* Waits up to @max_s (sampling every 0.5 s) for every guest to run on a host other than
 * @not, or on @not itself when @on is true. */
static bool wait_guests(int not, bool on, double max_s)
{
	double end = clk_mono() + max_s;
	do {
		int ok = 0;
		for (int v = 0; v < N_VMS; v++) {
			int at = runs_on(v);
			ok += on ? at == not : at >= 0 && at != not;
		}
		if (ok == N_VMS)
			return true;
		clk_sleep(0.5);
	} while (clk_mono() < end);
	return false;
}

/* A string at obj.a.b (b may be NULL), "" when absent. */
static const char *str_at(json_t *obj, const char *a, const char *b)
{
	const char *s = kh_str_at(obj, a, b);
	return s ? s : "";
}

/* Counts the events with @reason and @type about Host @name. */
static int host_events(const char *reason, const char *type, const char *name)
{
	json_t *list = NULL, *ev;
	size_t i;
	int n = 0;

	assert_int_equal(kh_http("GET", "/apis/events.k8s.io/v1/namespaces/default/events", NULL,
				 NULL, &list), 200);
	json_array_foreach(json_object_get(list, "items"), i, ev)
		n += !strcmp(str_at(ev, "reason", NULL), reason) &&
		     !strcmp(str_at(ev, "type", NULL), type) &&
		     !strcmp(str_at(ev, "regarding", "kind"), "Host") &&
		     !strcmp(str_at(ev, "regarding", "name"), name);
	json_decref(list);
	return n;
}

/* Counts the Migrations in the API of reason Failover from @src that Succeeded; with @show,
 * prints every Migration (what a count that falls short saw). */
static int failovers_from(const char *src, bool show)
{
	json_t *list = NULL, *m;
	size_t i;
	int n = 0;

	assert_int_equal(kh_http("GET", NS_PATH "/migrations", NULL, NULL, &list), 200);
	json_array_foreach(json_object_get(list, "items"), i, m) {
		n += !strcmp(str_at(m, "status", "reason"), "Failover") &&
		     !strcmp(str_at(m, "status", "sourceHost"), src) &&
		     !strcmp(str_at(m, "status", "phase"), "Succeeded");
		if (show)
			printf("  Migration %s: reason %s, phase %s, from %s\n",
			       str_at(m, "metadata", "name"), str_at(m, "status", "reason"),
			       str_at(m, "status", "phase"), str_at(m, "status", "sourceHost"));
	}
	json_decref(list);
	return n;
}

/* ---- the cases ---- */

static void test_kube_guests_land_on_the_host_that_will_fail(void **state)
{
	char yaml[16384];
	(void)state;
	int hosts_len = kf_hosts_fenced_yaml(N_HOSTS, "0", yaml, sizeof(yaml));
	assert_true(hosts_len > 0);
	size_t len = (size_t)hosts_len;
	len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
		"---\napiVersion: drover.io/v1alpha1\nkind: PlacementPolicy\nmetadata: {name: default}\n"
		"spec:\n  hostFailure: {detectAfterSeconds: 10, fence: true}\n");
	for (int v = 0; v < N_VMS; v++) {
		struct fx_vm vm = {.name = vms[v], .host = lab_host_name(FAILING), .storage = "shared",
				   .memory = "32Mi", .cmdline = "dirty_mib=1 rate_mibps=1",
				   .disk = T.disks[v]};
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len, "---\n");
		int n = fx_vm_yaml(&vm, yaml + len, sizeof(yaml) - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	assert_int_equal(kf_kubectl_apply(&T.f, T.kubeconfig, yaml), 0);
	const char *argv[] = {lab_drover(), "run", "--kubeconfig", T.kubeconfig, "--id", "kf-a",
			      "--metrics-addr", "off", "--stop-timeout", "2", NULL};
	T.drover = lab_spawn(argv, T.log);
	assert_true(T.drover > 0);
	assert_true(wait_guests(FAILING, true, 120));
	/* Unpinned: now they may be restarted elsewhere. */
	for (int v = 0; v < N_VMS; v++) {
		char path[256];
		snprintf(path, sizeof(path), NS_PATH "/virtualmachines/%s", vms[v]);
		assert_int_equal(kh_http("PATCH", path, "{\"spec\":{\"host\":null}}",
					 "application/merge-patch+json", NULL), 200);
	}
	/* drover has seen the unpinning once each VM's status observed its generation. */
	for (int v = 0; v < N_VMS; v++) {
		char path[256];
		bool seen = false;
		snprintf(path, sizeof(path), NS_PATH "/virtualmachines/%s", vms[v]);
		for (int t = 0; t < 120 && !seen; t++) {
			json_t *obj = NULL;
			if (kh_http("GET", path, NULL, NULL, &obj) == 200) {
				json_t *meta = json_object_get(obj, "metadata"), *st = json_object_get(obj, "status");
				seen = json_integer_value(json_object_get(meta, "generation")) ==
				       json_integer_value(json_object_get(st, "observedGeneration"));
			}
			json_decref(obj);
			if (!seen)
				clk_sleep(0.5);
		}
		assert_true(seen);
	}
}

static void test_kube_power_cut_fences_through_the_bmc_then_restarts_elsewhere(void **state)
{
	const char *failing = lab_host_name(FAILING);
	json_t *host = NULL;
	(void)state;
	int offs = lab_bmc_power_offs(FAILING);
	double cut = clk_mono();
	lab_verb("stop-host", FAILING);
	bool moved = wait_guests(FAILING, false, 120);
	printf("  power cut to both guests running elsewhere: %.1f s (detectAfterSeconds 10)\n",
	       clk_mono() - cut);
	assert_true(moved);
	/* The BMC was asked to power the host off, with the password from the Secret. */
	assert_true(lab_bmc_power_offs(FAILING) > offs);
	char path[256];
	snprintf(path, sizeof(path), NS_PATH "/hosts/%s", failing);
	assert_int_equal(kh_http("GET", path, NULL, NULL, &host), 200);
	char *fencing = kh_dumps(json_object_get(json_object_get(host, "status"), "fencing"));
	printf("  %s status.fencing: %s\n", failing, fencing ? fencing : "-");
	free(fencing);
	assert_string_equal(str_at(json_object_get(host, "status"), "fencing", "result"), "Succeeded");
	json_decref(host);
	/* Records and events are written after status, best effort: wait for them (bounded). */
	int failovers = 0, failed = 0, fenced = 0;
	for (int t = 0; t < 60 && (failovers < N_VMS || !failed || !fenced); t++) {
		failovers = failovers_from(failing, false);
		failed = host_events("HostFailed", "Warning", failing);
		fenced = host_events("HostFenced", "Normal", failing);
		if (failovers < N_VMS || !failed || !fenced)
			clk_sleep(0.5);
	}
	printf("  Failover Migrations %d, events HostFailed %d, HostFenced %d\n", failovers, failed,
	       fenced);
	if (failovers != N_VMS)
		(void)failovers_from(failing, true);
	assert_int_equal(failovers, N_VMS);
	assert_int_equal(failed, 1);
	assert_int_equal(fenced, 1);
	assert_int_equal(T.most_copies, 1);
}

static void test_kube_fenced_host_powered_on_loses_its_stale_copies(void **state)
{
	char st[64];
	(void)state;
	lab_verb("start-host", FAILING);
	double end = clk_mono() + 90;
	int left;
	do {
		left = 0;
		for (int v = 0; v < N_VMS; v++) {
			(void)runs_on(v);
			lab_dom_state(FAILING, vms[v], st, sizeof(st));
			left += *st != '\0';
		}
		if (left)
			clk_sleep(1);
	} while (left && clk_mono() < end);
	assert_int_equal(left, 0);
	for (int v = 0; v < N_VMS; v++)
		assert_int_equal(lab_count_running(vms[v], N_HOSTS), 1);
	assert_int_equal(T.most_copies, 1);
}

/* The server prunes by the CRD schemas as a real one does: nothing drover wrote (status.fencing,
 * the Failover records) may have been dropped. */
static void test_kube_nothing_written_was_pruned_by_the_crd_schemas(void **state)
{
	(void)state;
	kh_assert_nothing_pruned(&T.f);
}

/* ---- set-up ---- */

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || kh_start(&T.f, TOKEN, T.kubeconfig, sizeof(T.kubeconfig), NULL) < 0 ||
	    kf_apply_crds(T.kubeconfig) < 0)
		return -1;
	kf_path(&T.f, "drover.log", T.log, sizeof(T.log));
	for (int v = 0; v < N_VMS; v++) {
		char vol[64];
		snprintf(vol, sizeof(vol), "%s.qcow2", vms[v]);
		lab_cleanup_guest(vms[v], vol);
		if (lab_create_volume(FAILING, "shared", vol, 32, T.disks[v], sizeof(T.disks[v])) < 0)
			return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (T.drover > 0)
		lab_stop(T.drover, 10);
	kf_print_log_tail(T.log, 8);
	lab_restore_hosts(N_HOSTS);
	for (int v = 0; v < N_VMS; v++) {
		char vol[64];
		snprintf(vol, sizeof(vol), "%s.qcow2", vms[v]);
		lab_cleanup_guest(vms[v], vol);
	}
	kh_stop(&T.f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_guests_land_on_the_host_that_will_fail),
		cmocka_unit_test(test_kube_power_cut_fences_through_the_bmc_then_restarts_elsewhere),
		cmocka_unit_test(test_kube_fenced_host_powered_on_loses_its_stale_copies),
		cmocka_unit_test(test_kube_nothing_written_was_pruned_by_the_crd_schemas),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
