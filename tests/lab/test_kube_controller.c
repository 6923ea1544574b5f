/* test_kube_controller: `drover run --kubeconfig` against build/kubeapi-server and the lab
 * hosts — it starts a VM declared through the API and reports its status there, moves it
 * live when spec.host changes, runs a Migration (finalizer on, off after deletion), and
 * misses nothing when its watches are cut and the history compacted; of two replicas only
 * the leader acts, and the other takes over when it is killed. virsh is the witness; the
 * guest's serial log shows the live move kept it running. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/kube/kube_config.h"
#include "controller/kube/kube_http.h"
#include "controller/kube/kube_obj.h"
#include "controller/kube/kube_status.h"
#include "tests/lab/drover_fixture.h"
#include "tests/lab/guestlog.h"
#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"
#include "tests/lab/lab_assert.h"

#define N_HOSTS 3
#define TOKEN "kc-controller-token-5e1f09"
#define REACT_S 45        /* every wait below is bounded by this */
#define SHORT_LEASE_S 4   /* the replicas of the takeover test */

static struct {
	struct kf f;
	char kubeconfig[160];
	char log[160];
	struct kube_config cfg;
	struct kube_client *c;
	int drover;
	int replica[2];
	char replica_log[2][160];
	char disk1[512], disk2[512], disk3[512];
} T = {.drover = -1, .replica = {-1, -1}};

static const char *const guests[] = {"kc-pin", "kc-free", "kc-bad", "kc-hot"};

/* ---- the API, from the test's side ---- */

/* Sends a request; returns the HTTP code, the body into @out (may be NULL). */
static long api(const char *method, const char *path, const char *body, const char *ctype,
		json_t **out)
{
	struct kube_response r;
	json_t *b = body ? json_loads(body, 0, NULL) : NULL;
	long code;

	if (body && !b)
		fail_msg("bad JSON in the test: %s", body);
	if (kube_request(T.c, method, path, b, ctype, &r) < 0)
		print_error("%s %s: %s\n", method, path, r.message);
	code = r.code;
	if (out) {
		*out = r.body;
		r.body = NULL;
	}
	json_decref(b);
	kube_response_free(&r);
	return code;
}

static void obj_path(char *buf, size_t len, const struct kube_resource *res, const char *name)
{
	assert_int_equal(kube_path(buf, len, res, "default", name, NULL), 0);
}

static void create(const struct kube_resource *res, const char *json_text)
{
	char path[KUBE_PATH_MAX];

	obj_path(path, sizeof(path), res, NULL);
	assert_int_equal(api("POST", path, json_text, NULL, NULL), 201);
}

static json_t *get(const struct kube_resource *res, const char *name)
{
	char path[KUBE_PATH_MAX];
	json_t *obj = NULL;

	obj_path(path, sizeof(path), res, name);
	if (api("GET", path, NULL, NULL, &obj) != 200) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static void merge_patch(const struct kube_resource *res, const char *name, const char *patch)
{
	char path[KUBE_PATH_MAX];

	obj_path(path, sizeof(path), res, name);
	assert_int_equal(api("PATCH", path, patch, "application/merge-patch+json", NULL), 200);
}

/* A string at dotted @path of @obj, or "" (integers are printed). */
static const char *field(const json_t *obj, const char *path, char *buf, size_t len)
{
	const json_t *node = obj;
	char key[64];

	buf[0] = '\0';
	while (node && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		node = json_object_get(node, key);
		path += n + (path[n] == '.');
	}
	if (json_is_string(node))
		snprintf(buf, len, "%s", json_string_value(node));
	else if (json_is_integer(node))
		snprintf(buf, len, "%lld", (long long)json_integer_value(node));
	return buf;
}

/* Field @what ("status", "message", ...) of condition @type of @obj into @buf ("" when
 * absent). */
static const char *condition_field(const json_t *obj, const char *type, const char *what,
				   char *buf, size_t len)
{
	json_t *c;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", type))
			snprintf(buf, len, "%s", json_string_value(json_object_get(c, what)) ?: "");
	return buf;
}

static const char *condition(const json_t *obj, const char *type, char *buf, size_t len)
{
	return condition_field(obj, type, "status", buf, len);
}

/* ---- objects ---- */

static void create_hosts(void)
{
	char body[1024];

	for (int i = 0; i < N_HOSTS; i++) {
		snprintf(body, sizeof(body),
			 "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Host\",\"metadata\":{\"name\":\"%s\","
			 "\"labels\":{\"zone\":\"lab\"}},\"spec\":{\"uri\":\"%s\",\"migrationAddress\":\"%s\","
			 "\"reservedMemory\":\"0\"}}",
			 lab_host_name(i), lab_host_uri(i), lab_host_addr(i));
		create(&kube_res_host, body);
	}
}

/* A VM of the test guest with @memory and guest parameters @cmdline. */
static void create_guest(const char *name, const char *host, const char *disk, const char *memory,
			 const char *cmdline)
{
	char body[2048], pin[64] = "";

	if (host)
		snprintf(pin, sizeof(pin), "\"host\":\"%s\",", host);
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"%s\"},"
		 "\"spec\":{%s\"storage\":\"shared\",\"domain\":{\"type\":\"%s\",\"memory\":\"%s\","
		 "\"kernel\":\"%s/shared/guest.elf\",\"cmdline\":\"%s\","
		 "\"disks\":[{\"path\":\"%s\"}],\"serial\":{\"path\":\"%s/shared/%s.serial\"}}}}",
		 name, pin, lab_accel(), memory, lab_dir(), cmdline, disk, lab_dir(), name);
	create(&kube_res_vm, body);
}

static void create_vm(const char *name, const char *host, const char *disk)
{
	create_guest(name, host, disk, "32Mi", "dirty_mib=4 rate_mibps=2");
}

/* Creates a Live Migration @name of VM @vm to lab host @to; @extra_spec as below. */
static void create_migration_of(const char *name, const char *vm, int to, const char *extra_spec)
{
	char body[768];

	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\",\"metadata\":{\"name\":\"%s\"},"
		 "\"spec\":{\"vmName\":\"%s\",\"targetHost\":\"%s\",\"mode\":\"Live\"%s}}",
		 name, vm, lab_host_name(to), extra_spec);
	create(&kube_res_migration, body);
}

/* Creates a Live Migration @name of kc-free to lab host @to; @extra_spec adds spec
 * members (JSON, starting with a comma) or is "". */
static void create_migration(const char *name, int to, const char *extra_spec)
{
	create_migration_of(name, "kc-free", to, extra_spec);
}

/* ---- waiting ---- */

/* Waits until virsh sees @name running on host @i and defined nowhere else. */
static bool wait_running_on(const char *name, int i)
{
	/* Its REACT_S * 10 looks, each three virsh calls and a tenth of a second, took far
	 * longer than REACT_S: the bound in seconds is kept at least as generous. */
	return kf_wait_running_on(name, i, N_HOSTS, REACT_S * 4);
}

/* The lab host @name runs on (-1 when none). */
static int host_of(const char *name)
{
	char st[64];

	for (int i = 0; i < N_HOSTS; i++) {
		lab_dom_state(i, name, st, sizeof(st));
		if (!strcmp(st, "running"))
			return i;
	}
	return -1;
}

/* Waits (at most REACT_S) until host @i runs a libvirt job on domain @name: a move is
 * under way in libvirt, not only in its record (which says Running a moment earlier, while
 * drover still proves the storage and measures the guest). */
static bool wait_job_on(int i, const char *name)
{
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000)) {
		virConnectPtr conn = lab_connect(i);
		virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
		virDomainJobInfo info = {0};
		bool busy = dom && virDomainGetJobInfo(dom, &info) == 0 &&
			    info.type != VIR_DOMAIN_JOB_NONE;
		if (dom)
			virDomainFree(dom);
		if (conn)
			virConnectClose(conn);
		if (busy)
			return true;
	}
	return false;
}

/* Waits until @res @name's field @path reads @want; returns the object (caller decrefs). */
static json_t *wait_field(const struct kube_resource *res, const char *name, const char *path,
			  const char *want)
{
	char buf[256], why[512] = "";

	for (int tenth = 0; tenth < REACT_S * 10; tenth++) {
		json_t *obj = get(res, name);
		if (obj && !strcmp(field(obj, path, buf, sizeof(buf)), want))
			return obj;
		if (obj)
			field(obj, "status.failureReason", why, sizeof(why));
		json_decref(obj);
		usleep(100000);
	}
	fail_msg("%s %s: %s never became \"%s\" (last \"%s\"; %s)", res->kind, name, path, want,
		 buf, why);
	return NULL;
}

/* Checks that VM @name's status says Running on @host for its current generation. */
static void assert_vm_status(const char *name, const char *host)
{
	char buf[128], gen[32], observed[32];
	json_t *obj = NULL;

	for (int tenth = 0; tenth < REACT_S * 10; tenth++) {
		json_decref(obj);
		obj = get(&kube_res_vm, name);
		field(obj, "metadata.generation", gen, sizeof(gen));
		field(obj, "status.observedGeneration", observed, sizeof(observed));
		if (!strcmp(field(obj, "status.phase", buf, sizeof(buf)), "Running") &&
		    !strcmp(field(obj, "status.host", buf, sizeof(buf)), host) && !strcmp(gen, observed))
			break;
		usleep(100000);
	}
	printf("  %s: phase %s host %s generation %s observed %s\n", name,
	       field(obj, "status.phase", buf, sizeof(buf)), field(obj, "status.host", buf + 64, 64), gen,
	       observed);
	assert_string_equal(field(obj, "status.phase", buf, sizeof(buf)), "Running");
	assert_string_equal(field(obj, "status.host", buf, sizeof(buf)), host);
	assert_string_equal(observed, gen);
	assert_string_equal(condition(obj, "Running", buf, sizeof(buf)), "True");
	assert_string_equal(condition(obj, "Placed", buf, sizeof(buf)), "True");
	json_decref(obj);
}

static bool file_has(const char *path, const char *needle)
{
	char *text = kube_read_file(path, NULL);
	bool has = text && strstr(text, needle);

	free(text);
	return has;
}

static bool log_has(const char *needle)
{
	return file_has(T.log, needle);
}

/* The Lease's holder into @buf ("" when none or no Lease). */
static const char *lease_holder(char *buf, size_t len)
{
	json_t *lease = NULL;

	buf[0] = '\0';
	if (api("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/drover", NULL, NULL,
		&lease) == 200)
		field(lease, "spec.holderIdentity", buf, len);
	json_decref(lease);
	return buf;
}

/* Counts events in "default" with @reason about @kind @name. */
static int count_events(const char *reason, const char *kind, const char *name)
{
	json_t *list = NULL, *ev;
	size_t i;
	int n = 0;
	char a[128], b[128], c[128];

	assert_int_equal(api("GET", "/apis/events.k8s.io/v1/namespaces/default/events", NULL, NULL, &list), 200);
	json_array_foreach(json_object_get(list, "items"), i, ev)
		if (!strcmp(field(ev, "reason", a, sizeof(a)), reason) &&
		    !strcmp(field(ev, "regarding.kind", b, sizeof(b)), kind) &&
		    !strcmp(field(ev, "regarding.name", c, sizeof(c)), name))
			n++;
	json_decref(list);
	return n;
}

/* ---- scenarios ---- */

static void test_kube_starts_a_vm_on_its_host_and_reports_status(void **state)
{
	(void)state;
	create_vm("kc-pin", "lab-a", T.disk1);
	assert_true(wait_running_on("kc-pin", 0));
	assert_vm_status("kc-pin", "lab-a");
	json_t *h = wait_field(&kube_res_host, "lab-a", "status.vms", "1");
	char buf[64];
	assert_string_equal(condition(h, "Reachable", buf, sizeof(buf)), "True");
	json_decref(h);
}

static void test_kube_reports_an_invalid_vm_and_changes_nothing_for_it(void **state)
{
	char buf[64];

	char path[KUBE_PATH_MAX];

	(void)state;
	/* What the CRD schema catches never reaches drover: the API server refuses it, as a real
	 * one does. */
	obj_path(path, sizeof(path), &kube_res_vm, NULL);
	assert_int_equal(api("POST", path, "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"VirtualMachine\","
				 "\"metadata\":{\"name\":\"kc-bad\"},\"spec\":{\"host\":\"lab-a\","
				 "\"domain\":{\"memory\":\"lots\"}}}", NULL, NULL), 422);
	/* 512Ki fits the schema's quantity pattern; only drover knows a guest needs more. */
	create(&kube_res_vm, "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"VirtualMachine\","
			     "\"metadata\":{\"name\":\"kc-bad\"},\"spec\":{\"host\":\"lab-a\","
			     "\"domain\":{\"memory\":\"512Ki\"}}}");
	json_t *vm = NULL;
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000)) {
		json_decref(vm);
		vm = get(&kube_res_vm, "kc-bad");
		if (!strcmp(condition(vm, "Valid", buf, sizeof(buf)), "False"))
			break;
	}
	assert_string_equal(condition(vm, "Valid", buf, sizeof(buf)), "False");
	json_decref(vm);
	for (int tenth = 0; tenth < 50 && !count_events("PreCheckFailed", "VirtualMachine", "kc-bad"); tenth++)
		usleep(100000);   /* events are best effort, sent after status */
	assert_int_equal(count_events("PreCheckFailed", "VirtualMachine", "kc-bad"), 1);
	assert_int_equal(lab_count_defined("kc-bad", N_HOSTS), 0);
	assert_true(wait_running_on("kc-pin", 0));   /* the valid ones carry on */
}

static void test_kube_moves_a_vm_live_when_spec_host_changes(void **state)
{
	char serial[512];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;

	(void)state;
	lab_serial_path("kc-pin", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);
	merge_patch(&kube_res_vm, "kc-pin", "{\"spec\":{\"host\":\"lab-b\"}}");
	bool moved = wait_running_on("kc-pin", 1);
	sleep(1);
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	assert_true(moved);
	printf("  kc-pin: %llu heartbeats, max gap %ld ms, banners %llu\n",
	       (unsigned long long)res.heartbeats, res.max_gap_ms, (unsigned long long)res.banners);
	assert_int_equal(res.banners, 1);   /* never rebooted: a live move */
	assert_int_equal(res.regressions, 0);
	assert_true(res.max_gap_ms <= LAB_MAX_GAP_MS);
	assert_vm_status("kc-pin", "lab-b");
	assert_true(count_events("MigrationSucceeded", "VirtualMachine", "kc-pin") >= 1);
}

static void test_kube_runs_a_migration_and_releases_its_finalizer(void **state)
{
	char body[512], buf[128], path[KUBE_PATH_MAX];
	(void)state;

	create_vm("kc-free", NULL, T.disk2);
	int from = -1;
	for (int tenth = 0; tenth < REACT_S * 10 && from < 0; tenth++, usleep(100000))
		from = host_of("kc-free");
	assert_true(from >= 0);
	assert_true(wait_running_on("kc-free", from));
	int to = (from + 1) % N_HOSTS;
	create_migration("kc-move", to, "");
	json_t *m = wait_field(&kube_res_migration, "kc-move", "status.phase", "Succeeded");
	printf("  kc-move: %s → %s, %s%% \n", field(m, "status.sourceHost", buf, 64),
	       field(m, "status.targetHost", buf + 64, 64), field(m, "status.progress.percent", body, 16));
	assert_string_equal(field(m, "status.sourceHost", buf, sizeof(buf)), lab_host_name(from));
	assert_string_equal(field(m, "status.targetHost", buf, sizeof(buf)), lab_host_name(to));
	assert_string_equal(field(m, "status.progress.percent", buf, sizeof(buf)), "100");
	assert_true(kube_has_finalizer(m, KUBE_FINALIZER_MIGRATION));
	json_decref(m);
	assert_true(wait_running_on("kc-free", to));
	assert_true(count_events("MigrationStarted", "Migration", "kc-move") == 1);
	/* Events are written after status, best effort: wait for it (bounded). */
	for (int t = 0; t < 40 && count_events("MigrationSucceeded", "Migration", "kc-move") < 1; t++)
		usleep(250000);
	assert_true(count_events("MigrationSucceeded", "Migration", "kc-move") == 1);
	/* Deleted after it finished: drover takes its finalizer off and the object goes. */
	obj_path(path, sizeof(path), &kube_res_migration, "kc-move");
	assert_int_equal(api("DELETE", path, NULL, NULL, NULL), 200);
	json_t *gone = NULL;
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000)) {
		json_decref(gone);
		if (!(gone = get(&kube_res_migration, "kc-move")))
			break;
	}
	assert_null(gone);
	assert_true(wait_running_on("kc-free", to));   /* and the VM stays where it landed */
}

static void test_kube_deleting_a_running_migration_aborts_it(void **state)
{
	char path[KUBE_PATH_MAX];
	(void)state;

	int from = host_of("kc-free");
	assert_true(from >= 0);
	int to = (from + 1) % N_HOSTS;
	/* 1 MiB/s for a guest dirtying 2 MiB/s, no deadline, no auto-converge: it runs until
	 * it is stopped. */
	create_migration("kc-slow", to,
			 ",\"bandwidthMiBps\":1,\"allowAutoConverge\":false,"
			 "\"completionTimeoutPerGiBSeconds\":0,\"progressTimeoutSeconds\":0");
	json_decref(wait_field(&kube_res_migration, "kc-slow", "status.phase", "Running"));
	obj_path(path, sizeof(path), &kube_res_migration, "kc-slow");
	assert_int_equal(api("DELETE", path, NULL, NULL, NULL), 200);
	/* Aborted, recorded, its finalizer removed: the object goes ... */
	json_t *gone = NULL;
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000)) {
		json_decref(gone);
		if (!(gone = get(&kube_res_migration, "kc-slow")))
			break;
	}
	assert_null(gone);
	/* ... and the VM still runs on its source, only there. */
	assert_true(wait_running_on("kc-free", from));
	assert_true(log_has("aborting a running migration"));
}

/* `drover migrate` in API mode: creates the Migration and follows it to its end. */
static void test_kube_migrate_cli_creates_a_migration_and_follows_it(void **state)
{
	char out[16384], path[KUBE_PATH_MAX];
	(void)state;

	int from = host_of("kc-free");
	assert_true(from >= 0);
	int to = (from + 1) % N_HOSTS;
	const char *argv[] = {lab_drover(), "migrate", "kc-free", "--to", lab_host_name(to),
			      "--name", "kc-cli", "--kubeconfig", T.kubeconfig, "--timeout", "120",
			      NULL};
	int rc = lab_run(argv, out, sizeof(out), 150);
	printf("%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "migration default/kc-cli created"));
	assert_non_null(strstr(out, "Succeeded"));
	assert_true(wait_running_on("kc-free", to));
	/* A second Migration of the same name is refused, naming the conflict. */
	assert_int_equal(lab_run(argv, out, sizeof(out), 30), 1);
	obj_path(path, sizeof(path), &kube_res_migration, "kc-cli");
	assert_int_equal(api("DELETE", path, NULL, NULL, NULL), 200);
}

static void test_kube_cancel_after_postcopy_is_refused_with_a_reason(void **state)
{
	char buf[512];
	(void)state;

	/* A guest that only post-copy can move: 48 MiB rewritten flat out, 10 MiB/s. */
	create_guest("kc-hot", NULL, T.disk3, "96Mi", "dirty_mib=48 rate_mibps=0");
	int from = -1;
	for (int tenth = 0; tenth < REACT_S * 10 && from < 0; tenth++, usleep(100000))
		from = host_of("kc-hot");
	assert_true(from >= 0 && wait_running_on("kc-hot", from));
	int to = (from + 1) % N_HOSTS;
	create_migration_of("kc-pc", "kc-hot", to,
			    ",\"bandwidthMiBps\":10,\"allowAutoConverge\":false,\"allowPostCopy\":true,"
			    "\"progressTimeoutSeconds\":10");
	json_decref(wait_field(&kube_res_migration, "kc-pc", "status.mode", "PostCopy"));
	merge_patch(&kube_res_migration, "kc-pc", "{\"spec\":{\"cancel\":true}}");
	/* The guest already runs on the target: the move completes, and says why it did. */
	json_t *m = wait_field(&kube_res_migration, "kc-pc", "status.phase", "Succeeded");
	assert_non_null(strstr(condition_field(m, "Complete", "message", buf, sizeof(buf)), "cancel refused"));
	printf("  kc-pc: %s\n", buf);
	json_decref(m);
	assert_true(wait_running_on("kc-hot", to));
}

static void test_kube_relists_after_cut_watches_and_compaction_and_misses_nothing(void **state)
{
	(void)state;
	/* drover is frozen while the change lands, a write it does not watch moves the
	 * history on, compaction forgets it and the watches are cut: on waking it must
	 * relist (410). Frozen, because drover's own status writes would otherwise move its
	 * informers past the compaction point, and a watch from there is rightly valid. */
	assert_int_equal(kill(T.drover, SIGSTOP), 0);
	merge_patch(&kube_res_vm, "kc-pin", "{\"spec\":{\"host\":\"lab-c\"}}");
	assert_int_equal(api("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
			     "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
			     "\"metadata\":{\"name\":\"kc-bump\"},\"spec\":{}}", NULL, NULL), 201);
	assert_int_equal(api("POST", "/_test/compact", "{}", NULL, NULL), 200);
	assert_int_equal(api("POST", "/_test/cut-watches", "{}", NULL, NULL), 200);
	assert_int_equal(kill(T.drover, SIGCONT), 0);
	assert_true(wait_running_on("kc-pin", 2));
	assert_vm_status("kc-pin", "lab-c");
	assert_true(log_has("watch virtualmachines: resourceVersion too old (410): relisting"));
}

static void test_kube_stops_cleanly_on_sigterm(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(lab_stop(T.drover, 30), 0);
	T.drover = -1;
	assert_true(log_has("msg=\"stopping\""));
	/* The Lease was given up, so a successor need not wait for it to expire. */
	assert_string_equal(lease_holder(buf, sizeof(buf)), "");
	assert_int_equal(host_of("kc-pin"), 2);   /* nothing was stopped on the way out */
}

static int start_replica(int i)
{
	char id[16], lease[16];

	snprintf(id, sizeof(id), "kc-r%d", i);
	snprintf(lease, sizeof(lease), "%d", SHORT_LEASE_S);
	kf_path(&T.f, i ? "replica1.log" : "replica0.log", T.replica_log[i], sizeof(T.replica_log[i]));
	const char *argv[] = {lab_drover(), "run", "--kubeconfig", T.kubeconfig, "--id", id,
			      "--lease-duration", lease, "--metrics-addr", "off", "--stop-timeout", "2",
			      NULL};
	return lab_spawn(argv, T.replica_log[i]);
}

/* Starts replica kc-r0, waits until it holds the Lease (its name left in @holder),
 * then starts kc-r1 as the standby. */
static void start_leader_and_standby(char *holder, size_t len)
{
	/* Replicas an earlier test left running (it failed half-way) give up their Lease. */
	for (int i = 0; i < 2; i++)
		if (T.replica[i] > 0) {
			lab_stop(T.replica[i], 30);
			T.replica[i] = -1;
		}
	holder[0] = '\0';
	T.replica[0] = start_replica(0);
	assert_true(T.replica[0] > 0);
	for (int tenth = 0; tenth < REACT_S * 10 && strcmp(holder, "kc-r0"); tenth++, usleep(100000))
		lease_holder(holder, len);
	assert_string_equal(holder, "kc-r0");
	T.replica[1] = start_replica(1);
	assert_true(T.replica[1] > 0);
}

static void test_kube_replicas_one_leads_and_the_other_takes_over_when_it_dies(void **state)
{
	char holder[64] = "";
	(void)state;

	start_leader_and_standby(holder, sizeof(holder));
	sleep(SHORT_LEASE_S);
	/* Only the leader acts: the other one is synced and waits. */
	assert_string_equal(lease_holder(holder, sizeof(holder)), "kc-r0");
	assert_true(file_has(T.replica_log[1], "synced: waiting for leadership"));
	assert_false(file_has(T.replica_log[1], "leading"));
	assert_false(file_has(T.replica_log[1], "msg=\"reconciled\""));
	assert_true(file_has(T.replica_log[0], "msg=\"reconciled\""));

	/* The leader dies without a word; the pin changes meanwhile. */
	assert_int_equal(kill(T.replica[0], SIGKILL), 0);
	waitpid(T.replica[0], NULL, 0);
	T.replica[0] = -1;
	double killed = kf_now_s();
	merge_patch(&kube_res_vm, "kc-pin", "{\"spec\":{\"host\":\"lab-a\"}}");
	while (kf_now_s() - killed < REACT_S && strcmp(lease_holder(holder, sizeof(holder)), "kc-r1"))
		usleep(100000);
	double took = kf_now_s() - killed;
	printf("  kc-r1 leads %.1f s after kc-r0 was killed (lease %d s)\n", took, SHORT_LEASE_S);
	assert_string_equal(holder, "kc-r1");
	assert_true(took <= SHORT_LEASE_S + 2);
	assert_true(wait_running_on("kc-pin", 0));
	assert_vm_status("kc-pin", "lab-a");
	assert_int_equal(lab_stop(T.replica[1], 30), 0);
	T.replica[1] = -1;
}

static void test_kube_leader_killed_mid_migration_the_next_one_ends_it_once(void **state)
{
	char holder[64] = "";
	(void)state;

	start_leader_and_standby(holder, sizeof(holder));

	int from = host_of("kc-free");
	assert_true(from >= 0);
	int to = (from + 1) % N_HOSTS;
	/* Slow but converging (4 MiB/s for a guest dirtying 2 MiB/s): it is still copying
	 * when its leader dies, and libvirt's source daemon, which drives a peer-to-peer
	 * migration, finishes it alone. */
	create_migration("kc-mid", to, ",\"bandwidthMiBps\":4,\"allowAutoConverge\":false");
	json_decref(wait_field(&kube_res_migration, "kc-mid", "status.phase", "Running"));
	assert_true(wait_job_on(from, "kc-free"));
	assert_int_equal(kill(T.replica[0], SIGKILL), 0);
	waitpid(T.replica[0], NULL, 0);
	T.replica[0] = -1;

	/* The new leader observes, never starts the move again, and records its end once. */
	json_decref(wait_field(&kube_res_migration, "kc-mid", "status.phase", "Succeeded"));
	assert_true(wait_running_on("kc-free", to));
	assert_string_equal(lease_holder(holder, sizeof(holder)), "kc-r1");
	/* Never started twice: the new leader planned no move of kc-free at all. (Events
	 * are best effort: the old leader may have died before sending its Started.) */
	assert_false(file_has(T.replica_log[1], "vm=default/kc-free action=live-migrate"));
	assert_true(count_events("MigrationStarted", "Migration", "kc-mid") <= 1);
	assert_int_equal(lab_stop(T.replica[1], 30), 0);
	T.replica[1] = -1;
}

/* The name of drover's own record (a Migration it made) of a move of @vm in @phase, into
 * @name; false when there is none within REACT_S. */
static bool wait_record(const char *vm, const char *phase, char *name, size_t len)
{
	char path[KUBE_PATH_MAX], buf[128];

	obj_path(path, sizeof(path), &kube_res_migration, NULL);
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000)) {
		json_t *list = NULL, *item;
		size_t i;
		if (api("GET", path, NULL, NULL, &list) != 200) {
			json_decref(list);
			continue;
		}
		json_array_foreach(json_object_get(list, "items"), i, item) {
			if (strcmp(field(item, "spec.vmName", buf, sizeof(buf)), vm) ||
			    strcmp(field(item, "status.reason", buf, sizeof(buf)), "SpecHostChanged") ||
			    strcmp(field(item, "status.phase", buf, sizeof(buf)), phase))
				continue;
			snprintf(name, len, "%s", field(item, "metadata.name", buf, sizeof(buf)));
			json_decref(list);
			return true;
		}
		json_decref(list);
	}
	return false;
}

/* A rolling update: the leader gets SIGTERM in the middle of a move drover decided (a pin
 * change). It exits at once without aborting the move; the standby leads, takes the move
 * over through drover's own record of it, and records its end. */
static void test_kube_sigterm_mid_move_hands_it_over_to_the_new_leader(void **state)
{
	char holder[64] = "", rec[128], out[8192];
	(void)state;

	/* The replicas' logs are appended to: what earlier tests' replicas did (kc-r1 moved
	 * kc-pin once) must not count here. */
	for (int i = 0; i < 2; i++) {
		kf_path(&T.f, i ? "replica1.log" : "replica0.log", T.replica_log[i],
			sizeof(T.replica_log[i]));
		FILE *f = fopen(T.replica_log[i], "w");
		if (f)
			fclose(f);
	}
	start_leader_and_standby(holder, sizeof(holder));
	int from = host_of("kc-pin");
	assert_true(from >= 0);
	int to = (from + 1) % N_HOSTS;
	char patch[256];
	snprintf(patch, sizeof(patch), "{\"spec\":{\"host\":\"%s\",\"migrationPolicy\":"
		 "{\"bandwidthMiBps\":4,\"allowAutoConverge\":false}}}", lab_host_name(to));
	merge_patch(&kube_res_vm, "kc-pin", patch);
	assert_true(wait_record("kc-pin", "Running", rec, sizeof(rec)));
	assert_true(wait_job_on(from, "kc-pin"));
	printf("  %s: Running\n", rec);

	double asked = kf_now_s();
	int rc = lab_stop(T.replica[0], 15);   /* a pod's grace period is 30 s by default */
	T.replica[0] = -1;
	printf("  the leader exited %.1f s after SIGTERM, code %d\n", kf_now_s() - asked, rc);
	if (rc != 0) {
		const char *argv[] = {"tail", "-n", "25", T.replica_log[0], NULL};
		if (lab_run(argv, out, sizeof(out), 10) == 0)
			printf("%s", out);
	}
	assert_int_equal(rc, 0);
	/* Usually the move is still copying when the leader is gone (then it says so); a short
	 * one may have ended first. Either way it is never aborted by the stop. */
	printf("  handed over while running: %s\n",
	       file_has(T.replica_log[0], "left to the next leader") ? "yes" : "no (it had ended)");
	assert_false(file_has(T.replica_log[0], "Cancelled"));

	json_decref(wait_field(&kube_res_migration, rec, "status.phase", "Succeeded"));
	assert_true(wait_running_on("kc-pin", to));
	assert_string_equal(lease_holder(holder, sizeof(holder)), "kc-r1");
	assert_false(file_has(T.replica_log[1], "vm=default/kc-pin action=live-migrate"));
	const char *argv[] = {"kubectl", "--kubeconfig", T.kubeconfig, "get", "migrations", NULL};
	assert_int_equal(lab_run(argv, out, sizeof(out), 30), 0);
	assert_non_null(strstr(out, rec));
	assert_int_equal(lab_stop(T.replica[1], 30), 0);
	T.replica[1] = -1;
}

/* ---- set-up ---- */

static int group_setup(void **state)
{
	char err[256];
	(void)state;

	/* Bookmarks once a minute: the relist test must not have an idle bookmark move an
	 * informer past the compaction point (a real server may do that too; the test
	 * wants the 410 path). */
	if (lab_up(N_HOSTS) < 0 || kf_start_bookmarks(&T.f, TOKEN, 1000, 60) < 0 ||
	    kf_write_kubeconfig(&T.f, TOKEN, T.kubeconfig, sizeof(T.kubeconfig)) < 0)
		return -1;
	if (kube_config_load_file(T.kubeconfig, NULL, &T.cfg, err, sizeof(err)) < 0 ||
	    kube_client_new(&T.cfg, NULL, &T.c, err, sizeof(err)) < 0) {
		fprintf(stderr, "client: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		char vol[64], serial[512];
		snprintf(vol, sizeof(vol), "%s.qcow2", guests[i]);
		lab_serial_path(guests[i], serial, sizeof(serial));
		lab_cleanup_guest(guests[i], vol);
		unlink(serial);
		char *disk = i == 0 ? T.disk1 : i == 1 ? T.disk2 : i == 3 ? T.disk3 : NULL;
		if (disk && lab_create_volume(0, "shared", vol, i == 3 ? 64 : 32, disk, sizeof(T.disk1)) < 0)
			return -1;
	}
	if (kf_apply_crds(T.kubeconfig) < 0)
		return -1;
	create_hosts();
	kf_path(&T.f, "drover.log", T.log, sizeof(T.log));
	const char *argv[] = {lab_drover(), "run", "--kubeconfig", T.kubeconfig, "--id", "kc-a",
			      "--metrics-addr", "off", "--stop-timeout", "2", NULL};
	T.drover = lab_spawn(argv, T.log);
	return T.drover > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (T.drover > 0)
		lab_stop(T.drover, 10);
	for (int i = 0; i < 2; i++)
		if (T.replica[i] > 0)
			lab_stop(T.replica[i], 10);
	kf_print_log_tail(T.log, 12);
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		char vol[64];
		snprintf(vol, sizeof(vol), "%s.qcow2", guests[i]);
		lab_cleanup_guest(guests[i], vol);
	}
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
		cmocka_unit_test(test_kube_starts_a_vm_on_its_host_and_reports_status),
		cmocka_unit_test(test_kube_reports_an_invalid_vm_and_changes_nothing_for_it),
		cmocka_unit_test(test_kube_moves_a_vm_live_when_spec_host_changes),
		cmocka_unit_test(test_kube_runs_a_migration_and_releases_its_finalizer),
		cmocka_unit_test(test_kube_deleting_a_running_migration_aborts_it),
		cmocka_unit_test(test_kube_migrate_cli_creates_a_migration_and_follows_it),
		cmocka_unit_test(test_kube_cancel_after_postcopy_is_refused_with_a_reason),
		cmocka_unit_test(test_kube_relists_after_cut_watches_and_compaction_and_misses_nothing),
		cmocka_unit_test(test_kube_stops_cleanly_on_sigterm),
		cmocka_unit_test(test_kube_replicas_one_leads_and_the_other_takes_over_when_it_dies),
		cmocka_unit_test(test_kube_leader_killed_mid_migration_the_next_one_ends_it_once),
		cmocka_unit_test(test_kube_sigterm_mid_move_hands_it_over_to_the_new_leader),
		cmocka_unit_test(test_kube_nothing_written_was_pruned_by_the_crd_schemas),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
