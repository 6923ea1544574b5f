/* test_kube_delete: `kubectl delete vm` in Kubernetes mode — `drover run --kubeconfig`
 * against build/kubeapi-server and the lab. Every VM carries the finalizer
 * drover.io/vm-deletion. With deletionPolicy Delete (the default) drover stops and undefines
 * the domain and only then lets the object go: once kubectl returns, no host defines it and
 * its disk is still there. With Retain the guest runs on, same boot, without drover's
 * metadata. A drover stopped while a VM is being deleted, and one that crashes in the middle
 * of deleting it, leave the deletion to the next run, which finishes it. virsh is the witness. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/kube/kube_config.h"
#include "controller/kube/kube_status.h"
#include "reconcile/clk.h"
#include "reconcile/inventory.h"
#include "tests/lab/drover_fixture.h"
#include "tests/lab/guestlog.h"
#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"

#define N_HOSTS 3
#define N_VMS 3
#define TOKEN "kdel-token-3a7c51e0"
#define NS_PATH "/apis/drover.io/v1alpha1/namespaces/default"
#define REACT_S 90        /* every wait below is bounded by this */

enum { DEL, KEEP, CRASH };   /* the guests, each pinned to lab host of the same index */

static const char *const vms[N_VMS] = {"kdel-del", "kdel-keep", "kdel-crash"};

static struct {
	struct kf f;
	char kubeconfig[160];
	char log[160];
	int drover;
	char disks[N_VMS][512];
} T = {.drover = -1};

/* ---- helpers ---- */

/* Starts `drover run` on the API, its output appended to T.log; @fault is a DROVER_FAULT
 * point or NULL. Returns the pid, or -1. */
static int start_drover(const char *fault)
{
	char env[96];

	snprintf(env, sizeof(env), "DROVER_FAULT=%s", fault ? fault : "");
	const char *argv[] = {"env", env, lab_drover(), "run", "--kubeconfig", T.kubeconfig,
			      "--id", "kdel-a", "--metrics-addr", "off", "--stop-timeout", "2", NULL};
	return lab_spawn(argv, T.log);
}

/* Declares VM @v pinned to lab host @v through kubectl; @spec_extra as in struct fx_vm. */
static void declare(int v, const char *spec_extra)
{
	char yaml[4096];
	struct fx_vm vm = {.name = vms[v], .host = lab_host_name(v), .storage = "shared",
			   .memory = "32Mi", .cmdline = "dirty_mib=1 rate_mibps=1",
			   .disk = T.disks[v], .serial = true, .spec_extra = spec_extra};

	assert_true(fx_vm_yaml(&vm, yaml, sizeof(yaml)) > 0);
	assert_int_equal(kf_kubectl_apply(&T.f, T.kubeconfig, yaml), 0);
}

/* VM @v from the API (the caller decrefs), or NULL when the server answers @code instead. */
static json_t *get_vm(int v, long *code)
{
	char path[256];
	json_t *obj = NULL;

	snprintf(path, sizeof(path), NS_PATH "/virtualmachines/%s", vms[v]);
	*code = kh_http("GET", path, NULL, NULL, &obj);
	if (*code == 200)
		return obj;
	json_decref(obj);
	return NULL;
}

/* True when T.log holds @needle. */
static bool log_has(const char *needle)
{
	char *text = kube_read_file(T.log, NULL);
	bool has = text && strstr(text, needle);

	free(text);
	return has;
}

/* Waits until VM @v carries drover's finalizer and drover's start of it has ended (it
 * verifies a started guest for a moment after libvirt says running): no action of it is
 * under way when the test goes on. */
static void wait_admitted(int v)
{
	char done[160];
	bool has = false;
	long code = 0;

	snprintf(done, sizeof(done), "msg=\"action done\" vm=default/%s action=define+start", vms[v]);
	for (int i = 0; i < REACT_S * 2 && !has; i++) {
		json_t *obj = get_vm(v, &code);
		has = obj && kube_has_finalizer(obj, KUBE_FINALIZER_VM) && log_has(done);
		json_decref(obj);
		if (!has)
			clk_sleep(0.5);
	}
	assert_true(has);
}

/* Waits until the API answers 404 for VM @v (true), or REACT_S passed (false). */
static bool wait_object_gone(int v)
{
	long code = 0;

	for (int i = 0; i < REACT_S * 2; i++) {
		json_decref(get_vm(v, &code));
		if (code == 404)
			return true;
		clk_sleep(0.5);
	}
	return false;
}

/* `kubectl delete vm NAME` as a user types it: it waits (bounded) until the object is gone,
 * finalizers done. Returns kubectl's exit code. */
static int kubectl_delete(int v, bool wait)
{
	char out[4096];
	const char *args[] = {"delete", "vm", vms[v], wait ? "--timeout=120s" : "--wait=false", NULL};

	return kf_kubectl(T.kubeconfig, args, out, sizeof(out), 150);
}

/* Counts the events of @reason about VirtualMachine @v, waiting (bounded) for the first:
 * events are sent after the action, best effort. */
static int vm_events(int v, const char *reason)
{
	int n = 0;

	for (int t = 0; t < 20 && !n; t++) {
		json_t *list = NULL, *ev;
		size_t i;
		assert_int_equal(kh_http("GET", "/apis/events.k8s.io/v1/namespaces/default/events",
					 NULL, NULL, &list), 200);
		json_array_foreach(json_object_get(list, "items"), i, ev)
			n += !strcmp(kh_str_at(ev, "reason", NULL) ?: "", reason) &&
			     !strcmp(kh_str_at(ev, "regarding", "kind") ?: "", "VirtualMachine") &&
			     !strcmp(kh_str_at(ev, "regarding", "name") ?: "", vms[v]);
		json_decref(list);
		if (!n)
			clk_sleep(0.5);
	}
	return n;
}

/* True when the XML of domain @name on host @i (@inactive: the persistent definition, else
 * the live one) names drover's metadata namespace. */
static bool xml_has_drover_metadata(int i, const char *name, bool inactive)
{
	char out[65536];
	const char *argv[] = {"virsh", "-c", lab_host_uri(i), "dumpxml", name,
			      inactive ? "--inactive" : NULL, NULL};

	assert_int_equal(lab_run(argv, out, sizeof(out), 30), 0);
	assert_non_null(strstr(out, "<domain"));
	return strstr(out, INV_METADATA_URI) != NULL;
}

static void assert_disk_kept(int v)
{
	struct stat st;

	assert_int_equal(stat(T.disks[v], &st), 0);
	assert_true(st.st_size > 0);
}

/* ---- the cases ---- */

static void test_kube_delete_vm_stops_and_undefines_it_everywhere_and_keeps_its_disk(void **state)
{
	(void)state;
	declare(DEL, NULL);
	assert_true(kf_wait_running_on(vms[DEL], DEL, N_HOSTS, REACT_S));
	wait_admitted(DEL);
	assert_true(lab_owned_by_drover(DEL, vms[DEL]));

	assert_int_equal(kubectl_delete(DEL, true), 0);
	/* The finalizer went only once nothing of drover's was left: no waiting here. */
	for (int i = 0; i < N_HOSTS; i++) {
		char st[64];
		lab_dom_state(i, vms[DEL], st, sizeof(st));
		printf("  %s on %s: \"%s\"\n", vms[DEL], lab_host_name(i), st);
		assert_string_equal(st, "");
	}
	long code = 0;
	json_decref(get_vm(DEL, &code));
	assert_int_equal(code, 404);
	assert_disk_kept(DEL);
	assert_true(vm_events(DEL, "DomainDeleted") >= 1);
}

static void test_kube_delete_vm_with_retain_leaves_it_running_unowned(void **state)
{
	char serial[512];
	struct guestlog_result before, after;

	(void)state;
	declare(KEEP, "  deletionPolicy: Retain\n");
	assert_true(kf_wait_running_on(vms[KEEP], KEEP, N_HOSTS, REACT_S));
	wait_admitted(KEEP);
	assert_true(lab_owned_by_drover(KEEP, vms[KEEP]));
	assert_true(xml_has_drover_metadata(KEEP, vms[KEEP], false));
	lab_serial_path(vms[KEEP], serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, REACT_S * 1000L), 0);
	assert_int_equal(guestlog_analyze_file(serial, &before), 0);

	assert_int_equal(kubectl_delete(KEEP, true), 0);
	long code = 0;
	json_decref(get_vm(KEEP, &code));
	assert_int_equal(code, 404);
	/* Unowned at once, in the live XML and the persistent definition alike. */
	assert_false(lab_owned_by_drover(KEEP, vms[KEEP]));
	assert_false(xml_has_drover_metadata(KEEP, vms[KEEP], false));
	assert_false(xml_has_drover_metadata(KEEP, vms[KEEP], true));
	assert_true(vm_events(KEEP, "DomainRetained") >= 1);

	/* The guest runs on: more heartbeats, from the same boot, and drover leaves it alone
	 * meanwhile (it is nobody's now). */
	assert_int_equal(guestlog_wait_heartbeats(serial, before.heartbeats + 5, REACT_S * 1000L), 0);
	assert_int_equal(guestlog_analyze_file(serial, &after), 0);
	printf("  %s: heartbeats %llu → %llu, banners %llu, regressions %llu\n", vms[KEEP],
	       (unsigned long long)before.heartbeats, (unsigned long long)after.heartbeats,
	       (unsigned long long)after.banners, (unsigned long long)after.regressions);
	assert_int_equal(after.banners, 1);
	assert_int_equal(after.regressions, 0);
	assert_true(lab_runs_only_on(vms[KEEP], KEEP, N_HOSTS));
	assert_false(lab_owned_by_drover(KEEP, vms[KEEP]));
}

/* drover is stopped (SIGTERM) and the VM deleted meanwhile: the finalizer holds the object,
 * nothing touches the domain. The next drover crashes right after asking the guest to shut
 * down (DROVER_FAULT=stop.requested, SIGKILL); the one after finishes the deletion. */
static void test_kube_deletion_interrupted_by_stop_and_crash_is_finished_by_the_next_run(void **state)
{
	char st[64];
	long code = 0;
	int status = 0;

	(void)state;
	declare(CRASH, NULL);
	assert_true(kf_wait_running_on(vms[CRASH], CRASH, N_HOSTS, REACT_S));
	wait_admitted(CRASH);
	assert_int_equal(lab_stop(T.drover, 30), 0);
	T.drover = -1;

	assert_int_equal(kubectl_delete(CRASH, false), 0);
	json_t *obj = get_vm(CRASH, &code);
	assert_non_null(obj);
	assert_non_null(kh_str_at(obj, "metadata", "deletionTimestamp"));
	assert_true(kube_has_finalizer(obj, KUBE_FINALIZER_VM));
	json_decref(obj);
	lab_dom_state(CRASH, vms[CRASH], st, sizeof(st));
	assert_string_equal(st, "running");

	T.drover = start_drover("stop.requested");
	assert_true(T.drover > 0);
	pid_t done = 0;
	for (int i = 0; i < REACT_S * 2 && done == 0; i++) {
		done = waitpid(T.drover, &status, WNOHANG);
		if (done == 0)
			clk_sleep(0.5);
	}
	assert_int_equal(done, T.drover);
	T.drover = -1;
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(log_has("fault point stop.requested reached"));
	/* Killed half-way: the guest (it ignores the shutdown request) still runs, the object
	 * still waits for its finalizer. */
	assert_int_equal(lab_count_defined(vms[CRASH], N_HOSTS), 1);
	lab_dom_state(CRASH, vms[CRASH], st, sizeof(st));
	assert_string_equal(st, "running");
	obj = get_vm(CRASH, &code);
	assert_non_null(obj);
	assert_true(kube_has_finalizer(obj, KUBE_FINALIZER_VM));
	json_decref(obj);

	T.drover = start_drover(NULL);
	assert_true(T.drover > 0);
	assert_true(wait_object_gone(CRASH));
	/* Released only once nothing of drover's was left: no waiting here either. */
	assert_int_equal(lab_count_defined(vms[CRASH], N_HOSTS), 0);
	assert_disk_kept(CRASH);
	/* The retained guest of the case before is still nobody's business. */
	assert_true(lab_runs_only_on(vms[KEEP], KEEP, N_HOSTS));
	assert_false(lab_owned_by_drover(KEEP, vms[KEEP]));
}

/* The server prunes by the CRD schemas as a real one does: nothing drover or kubectl wrote
 * (deletionPolicy, the finalizer) may have been dropped. */
static void test_kube_nothing_written_was_pruned_by_the_crd_schemas(void **state)
{
	(void)state;
	kh_assert_nothing_pruned(&T.f);
}

/* ---- set-up ---- */

/* Removes guest @v from every lab host (the retained one too) with its volume, whose name
 * goes into @vol, and its serial log. Returns 0, or -1 when the serial log stays. */
static int remove_guest(int v, char *vol, size_t len)
{
	char serial[512];

	snprintf(vol, len, "%s.qcow2", vms[v]);
	lab_cleanup_guest(vms[v], vol);
	lab_serial_path(vms[v], serial, sizeof(serial));
	return unlink(serial) == 0 || errno == ENOENT ? 0 : -1;
}

static int group_setup(void **state)
{
	char yaml[2048];
	size_t len = 0;

	(void)state;
	if (lab_up(N_HOSTS) < 0 || kh_start(&T.f, TOKEN, T.kubeconfig, sizeof(T.kubeconfig), NULL) < 0 ||
	    kf_apply_crds(T.kubeconfig) < 0)
		return -1;
	kf_path(&T.f, "drover.log", T.log, sizeof(T.log));
	for (int v = 0; v < N_VMS; v++) {
		char vol[64];
		if (remove_guest(v, vol, sizeof(vol)) < 0 ||
		    lab_create_volume(v, "shared", vol, 32, T.disks[v], sizeof(T.disks[v])) < 0)
			return -1;
	}
	for (int i = 0; i < N_HOSTS; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
			"---\napiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: %s}\n"
			"spec: {uri: \"%s\", migrationAddress: %s, reservedMemory: \"0\"}\n",
			lab_host_name(i), lab_host_uri(i), lab_host_addr(i));
	if (len >= sizeof(yaml) || kf_kubectl_apply(&T.f, T.kubeconfig, yaml) != 0)
		return -1;
	T.drover = start_drover(NULL);
	return T.drover > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (T.drover > 0)
		lab_stop(T.drover, 10);
	kf_print_log_tail(T.log, 8);
	for (int v = 0; v < N_VMS; v++) {
		char vol[64];
		(void)remove_guest(v, vol, sizeof(vol));
	}
	kh_stop(&T.f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_delete_vm_stops_and_undefines_it_everywhere_and_keeps_its_disk),
		cmocka_unit_test(test_kube_delete_vm_with_retain_leaves_it_running_unowned),
		cmocka_unit_test(test_kube_deletion_interrupted_by_stop_and_crash_is_finished_by_the_next_run),
		cmocka_unit_test(test_kube_nothing_written_was_pruned_by_the_crd_schemas),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
