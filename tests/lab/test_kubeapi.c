/* Tests of the Kubernetes API test server (hack/kubeapi): the real kubectl and raw HTTPS against
 * a server started with a generated CA, server certificate and bearer token (kubeapi_fixture). */
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"

#define KUBECTL "/usr/bin/kubectl"
#define TOKEN "kas-test-token-5f1c9e"
#define NS "/apis/drover.io/v1alpha1/namespaces"
#define OUT_MAX (256 * 1024)

static struct {
	struct kf f;
	char repo[PATH_MAX + 32];
	char kubeconfig[128], cache[128];
} T;

/* Runs kubectl against the test server with the NULL-terminated arguments. */
static int kubectl(char *out, size_t len, ...)
{
	char *argv[32] = { KUBECTL, "--kubeconfig", T.kubeconfig, "--cache-dir", T.cache };
	int n = 5;
	va_list ap;

	va_start(ap, len);
	for (char *a = va_arg(ap, char *); a && n < 31; a = va_arg(ap, char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return kf_run(argv, out, len, 30);
}

/* ---- set-up ---- */

/* Finds the repository from the server's path (BUILD/kubeapi-server, BUILD inside the
 * repository). Returns 0 or -1. */
static int find_repo(void)
{
	char data[PATH_MAX + 64];

	snprintf(T.repo, sizeof(T.repo), "%s", T.f.server_bin);
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(T.repo, '/');

		if (!slash)
			return -1;
		*slash = '\0';
	}
	/* A build tree outside the repository: the tests run from the repository root. */
	snprintf(data, sizeof(data), "%s/tests/data/kubeapi", T.repo);
	if (access(data, R_OK) < 0 && !getcwd(T.repo, sizeof(T.repo)))
		return -1;
	return 0;
}

static int write_kubeconfig(void)
{
	char text[2048];

	kf_path(&T.f, "kubeconfig", T.kubeconfig, sizeof(T.kubeconfig));
	kf_path(&T.f, "cache", T.cache, sizeof(T.cache));
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\n"
		 "clusters: [{name: kas, cluster: {server: \"%s\", certificate-authority: \"%s\"}}]\n"
		 "users: [{name: kas, user: {token: %s}}]\n"
		 "contexts: [{name: kas, context: {cluster: kas, user: kas, namespace: default}}]\n"
		 "current-context: kas\n",
		 T.f.base, T.f.ca, TOKEN);
	return kf_write_file(T.kubeconfig, text);
}

static int group_setup(void **state)
{
	char crds[PATH_MAX + 64], out[OUT_MAX];

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (kf_start(&T.f, TOKEN, 200) < 0 || (kh_init(&T.f, TOKEN), 0) || find_repo() < 0 || write_kubeconfig() < 0)
		return -1;
	snprintf(crds, sizeof(crds), "%s/tests/data/kubeapi/crds/", T.repo);
	if (kubectl(out, sizeof(out), "apply", "-f", crds, NULL) != 0) {
		fprintf(stderr, "kubectl apply of the test CRDs failed:\n%s\n", out);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	kh_stop(&T.f);
	return 0;
}

/* ---- helpers for the checks ---- */

static void expect_in(const char *out, const char *needle)
{
	if (!strstr(out, needle)) {
		print_error("expected \"%s\" in:\n%s\n", needle, out);
		fail();
	}
}

static void data_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/tests/data/kubeapi/%s", T.repo, rel);
}

static json_t *create_vm(const char *name, const char *extra_meta)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"%s\"%s},"
		 "\"spec\":{\"host\":\"kvm-a\",\"running\":true},\"status\":{\"phase\":\"Bogus\"}}",
		 name, extra_meta ? extra_meta : "");
	return kh_create(NS "/default/virtualmachines", body);
}

static json_t *create_host(const char *ns, const char *name)
{
	char body[512], path[256];

	snprintf(body, sizeof(body), "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Host\",\"metadata\":{\"name\":\"%s\"},"
		 "\"spec\":{\"uri\":\"test:///default\"}}", name);
	snprintf(path, sizeof(path), NS "/%s/hosts", ns);
	return kh_create(path, body);
}

static uint64_t current_rv(void)
{
	json_t *list = NULL;
	uint64_t rv;

	assert_int_equal(kh_http("GET", "/api/v1/namespaces", NULL, NULL, &list), 200);
	rv = kh_rv_of(list);
	json_decref(list);
	return rv;
}

static json_int_t generation_of(json_t *obj)
{
	return json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
}

/* ---- kubectl ---- */

static void test_kubectl_applies_and_lists_with_printer_columns(void **state)
{
	char crds[PATH_MAX + 64], ex[PATH_MAX + 64];
	static char out[OUT_MAX];

	(void)state;
	data_path(crds, sizeof(crds), "crds/");
	data_path(ex, sizeof(ex), "examples/");
	assert_int_equal(kubectl(out, sizeof(out), "apply", "-f", crds, "-f", ex, NULL), 0);
	expect_in(out, "virtualmachine.drover.io/web-1 created");
	expect_in(out, "migration.drover.io/move-web-1 created");
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm,host,migration", NULL), 0);
	expect_in(out, "DESIRED");
	expect_in(out, "PHASE");
	expect_in(out, "URI");
	expect_in(out, "TARGET");
	expect_in(out, "virtualmachine.drover.io/web-1   kvm-a");
	expect_in(out, "host.drover.io/kvm-b");
	expect_in(out, "migration.drover.io/move-web-1   web-1");
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm", "web-1", "-o", "yaml", NULL), 0);
	expect_in(out, "kind: VirtualMachine");
	expect_in(out, "generation: 1");
	expect_in(out, "uid: ");
	expect_in(out, "creationTimestamp: ");
	assert_int_equal(kubectl(out, sizeof(out), "get", "crd", NULL), 0);
	expect_in(out, "virtualmachines.drover.io");
}

static void test_kubectl_reapply_bumps_generation_only_on_spec_change(void **state)
{
	char ex[PATH_MAX + 64], changed[128];
	unsigned long long rv_before;
	static char out[OUT_MAX];

	(void)state;
	data_path(ex, sizeof(ex), "examples/");
	assert_int_equal(kubectl(out, sizeof(out), "apply", "-f", ex, NULL), 0);
	expect_in(out, "virtualmachine.drover.io/web-1 unchanged");
	kf_path(&T.f, "web-1.yaml", changed, sizeof(changed));
	assert_int_equal(kf_write_file(changed, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
					     "metadata: {name: web-1}\n"
					     "spec: {host: kvm-a, running: true, domain: {memory: 1Gi, vcpus: 2}}\n"), 0);
	assert_int_equal(kubectl(out, sizeof(out), "apply", "-f", changed, NULL), 0);
	expect_in(out, "virtualmachine.drover.io/web-1 configured");
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm", "web-1", "-o", "jsonpath={.metadata.generation}", NULL), 0);
	assert_string_equal(out, "2");
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm", "web-1", "-o",
				 "jsonpath={.metadata.resourceVersion}", NULL), 0);
	rv_before = strtoull(out, NULL, 10);
	/* Metadata only: a new resourceVersion, the same generation. */
	assert_int_equal(kubectl(out, sizeof(out), "label", "vm", "web-1", "tier=web", NULL), 0);
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm", "web-1", "-o",
				 "jsonpath={.metadata.generation} {.metadata.resourceVersion}", NULL), 0);
	assert_true(strncmp(out, "2 ", 2) == 0);
	assert_true(strtoull(out + 2, NULL, 10) > rv_before);
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm", "-l", "tier=web", "-o", "name", NULL), 0);
	expect_in(out, "virtualmachine.drover.io/web-1");
}

static void test_kubectl_deletes_migration(void **state)
{
	static char out[OUT_MAX];

	(void)state;
	/* kubectl waits for the deletion with a watch on metadata.name. */
	assert_int_equal(kubectl(out, sizeof(out), "delete", "migration", "move-web-1", NULL), 0);
	expect_in(out, "migration.drover.io \"move-web-1\" deleted");
	assert_int_not_equal(kubectl(out, sizeof(out), "get", "migration", "move-web-1", NULL), 0);
	expect_in(out, "NotFound");
}

static void test_kubectl_patches_and_handles_leases(void **state)
{
	char lease[128];
	static char out[OUT_MAX];

	(void)state;
	assert_int_equal(kubectl(out, sizeof(out), "patch", "vm", "web-1", "--subresource=status", "--type=merge", "-p",
				 "{\"status\":{\"phase\":\"Running\",\"host\":\"kvm-a\"}}", NULL), 0);
	assert_int_equal(kubectl(out, sizeof(out), "patch", "vm", "web-1", "--type=json", "-p",
				 "[{\"op\":\"test\",\"path\":\"/spec/host\",\"value\":\"kvm-a\"}]", NULL), 0);
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm", "web-1", NULL), 0);
	expect_in(out, "Running");
	kf_path(&T.f, "lease.yaml", lease, sizeof(lease));
	assert_int_equal(kf_write_file(lease, "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: drover}\n"
					   "spec: {holderIdentity: a, leaseDurationSeconds: 15}\n"), 0);
	assert_int_equal(kubectl(out, sizeof(out), "apply", "-f", lease, NULL), 0);
	/* The second apply of a built-in kind is a strategic merge patch. */
	assert_int_equal(kf_write_file(lease, "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: drover}\n"
					   "spec: {holderIdentity: b, leaseDurationSeconds: 15}\n"), 0);
	assert_int_equal(kubectl(out, sizeof(out), "apply", "-f", lease, NULL), 0);
	expect_in(out, "configured");
	assert_int_equal(kubectl(out, sizeof(out), "get", "lease", "drover", NULL), 0);
	expect_in(out, "HOLDER");
	expect_in(out, "drover   b");
}

static void test_kubectl_applies_real_manifests(void **state)
{
	char crds[PATH_MAX + 64], ex[PATH_MAX + 64];
	static char out[OUT_MAX];
	DIR *d;
	int files = 0;

	(void)state;
	snprintf(crds, sizeof(crds), "%s/manifests/crds/", T.repo);
	snprintf(ex, sizeof(ex), "%s/manifests/examples/", T.repo);
	d = opendir(crds);
	for (struct dirent *e = d ? readdir(d) : NULL; e && files < 1000; e = readdir(d))
		files += strstr(e->d_name, ".yaml") != NULL;
	if (d)
		closedir(d);
	if (files == 0) {
		print_message("manifests/crds/ has no YAML yet: only the test CRDs were used\n");
		skip();
	}
	/* The folder is a kustomization (manifests/deploy includes it): -k, as the README says. */
	if (kubectl(out, sizeof(out), "apply", "-k", crds, NULL) != 0)
		print_error("%s\n", out);
	expect_in(out, "customresourcedefinition.apiextensions.k8s.io/");
	assert_int_equal(kubectl(out, sizeof(out), "apply", "-k", crds, NULL), 0);
	assert_int_equal(kubectl(out, sizeof(out), "apply", "-f", ex, NULL), 0);
	assert_int_equal(kubectl(out, sizeof(out), "get", "vm,host,migration", "-A", NULL), 0);
}

/* ---- raw HTTPS ---- */

static void test_raw_rejects_missing_or_wrong_token(void **state)
{
	(void)state;
	kh_expect_error_as(NULL, "GET", NS "/default/virtualmachines", NULL, 401, "Unauthorized");
	kh_expect_error_as("wrong", "GET", "/apis", NULL, 401, "Unauthorized");
}

static void test_raw_resource_version_increases_and_stale_update_conflicts(void **state)
{
	json_t *a, *b, *stale, *updated = NULL;
	char *text;

	(void)state;
	a = create_vm("rv-1", NULL);
	b = create_vm("rv-2", NULL);
	assert_true(kh_rv_of(b) > kh_rv_of(a));
	stale = json_deep_copy(a);
	json_object_set_new(json_object_get(a, "spec"), "running", json_false());
	text = kh_dumps(a);
	assert_int_equal(kh_http("PUT", NS "/default/virtualmachines/rv-1", text, NULL, &updated), 200);
	free(text);
	assert_true(kh_rv_of(updated) > kh_rv_of(b));
	assert_int_equal(generation_of(updated), 2);
	text = kh_dumps(stale);
	kh_expect_error("PUT", NS "/default/virtualmachines/rv-1", text, 409, "Conflict");
	free(text);
	/* Custom resources refuse updates without a resourceVersion. */
	json_object_del(json_object_get(stale, "metadata"), "resourceVersion");
	text = kh_dumps(stale);
	kh_expect_error("PUT", NS "/default/virtualmachines/rv-1", text, 422, "Invalid");
	free(text);
	kh_expect_error("POST", NS "/default/virtualmachines", "{\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"rv-2\"}}",
		     409, "AlreadyExists");
	kh_expect_error("GET", NS "/default/virtualmachines/nope", NULL, 404, "NotFound");
	kh_expect_error("POST", NS "/default/virtualmachines", "{not json", 400, "BadRequest");
	kh_expect_error("DELETE", NS "/default/virtualmachines", NULL, 405, "MethodNotAllowed");
	json_decref(a);
	json_decref(b);
	json_decref(stale);
	json_decref(updated);
}

/* PUTs @obj to @path and returns the stored result (the caller owns it). */
static json_t *put(const char *path, json_t *obj)
{
	char *text = kh_dumps(obj);
	json_t *got = NULL;
	long code = kh_http("PUT", path, text, NULL, &got);

	free(text);
	assert_int_equal(code, 200);
	return got;
}

static void test_raw_status_subresource_takes_only_status(void **state)
{
	json_t *vm, *got = NULL;
	uint64_t rv;

	(void)state;
	vm = create_vm("st-1", NULL);
	assert_null(json_object_get(vm, "status"));
	/* Main resource: status ignored, spec taken. */
	json_object_set_new(vm, "status", json_pack("{s:s}", "phase", "Ignored"));
	json_object_set_new(json_object_get(vm, "spec"), "host", json_string("kvm-b"));
	got = put(NS "/default/virtualmachines/st-1", vm);
	assert_null(json_object_get(got, "status"));
	assert_string_equal(kh_str_at(got, "spec", "host"), "kvm-b");
	json_decref(vm);
	vm = got;
	/* /status: spec ignored, status taken, generation kept. */
	json_object_set_new(vm, "status", json_pack("{s:s}", "phase", "Running"));
	json_object_set_new(json_object_get(vm, "spec"), "host", json_string("kvm-z"));
	got = put(NS "/default/virtualmachines/st-1/status", vm);
	assert_string_equal(kh_str_at(got, "spec", "host"), "kvm-b");
	assert_string_equal(kh_str_at(got, "status", "phase"), "Running");
	assert_int_equal(generation_of(got), 2);
	json_decref(got);
	assert_int_equal(kh_http("PATCH", NS "/default/virtualmachines/st-1/status", "{\"status\":{\"host\":\"kvm-b\"}}",
			      "application/merge-patch+json", &got), 200);
	assert_string_equal(kh_str_at(got, "status", "phase"), "Running");
	assert_string_equal(kh_str_at(got, "status", "host"), "kvm-b");
	rv = kh_rv_of(got);
	json_decref(got);
	/* A status change through the main resource is a no-op: same resourceVersion. */
	assert_int_equal(kh_http("PATCH", NS "/default/virtualmachines/st-1", "{\"status\":{\"phase\":\"Nope\"}}",
			      "application/merge-patch+json", &got), 200);
	assert_string_equal(kh_str_at(got, "status", "phase"), "Running");
	assert_int_equal(kh_rv_of(got), rv);
	json_decref(got);
	/* Strategic merge patch is for built-in kinds only, as on a real server. */
	kh_expect_code("PATCH", NS "/default/virtualmachines/st-1", "{}", "application/strategic-merge-patch+json", 415);
	json_decref(vm);
}

static void test_raw_list_limit_continue_walks_all_objects(void **state)
{
	json_t *page = NULL;
	char path[512], name[16], seen[256] = "";
	const char *token = "";
	int pages;

	(void)state;
	json_decref(kh_create("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"pages\"}}"));
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "h-%d", i);
		json_decref(create_host("pages", name));
	}
	for (pages = 0; pages < 20; pages++) {
		json_t *items;
		size_t used = strlen(seen);

		snprintf(path, sizeof(path), NS "/pages/hosts?limit=1%s%s", *token ? "&continue=" : "", token);
		json_decref(page);
		page = NULL;
		assert_int_equal(kh_http("GET", path, NULL, NULL, &page), 200);
		items = json_object_get(page, "items");
		assert_int_equal(json_array_size(items), 1);
		snprintf(seen + used, sizeof(seen) - used, "%s ", kh_str_at(json_array_get(items, 0), "metadata", "name"));
		token = kh_str_at(page, "metadata", "continue");
		if (!token || !*token)
			break;
	}
	assert_string_equal(seen, "h-0 h-1 h-2 h-3 h-4 h-5 h-6 ");
	assert_int_equal(pages, 6);
	json_decref(page);
}

/* Watches @collection for the object @name from @rv (bookmarks allowed) until @n events
 * arrived, at most 8 s. Returns the events (the caller owns them). */
static json_t *watch_name(const char *collection, const char *name, uint64_t rv, size_t n)
{
	char path[512];
	json_t *events;

	snprintf(path, sizeof(path), "%s?watch=1&resourceVersion=%llu&allowWatchBookmarks=true"
		 "&fieldSelector=metadata.name%%3D%s", collection, (unsigned long long)rv, name);
	events = kh_watch_events(path, 8000, n, NULL);
	assert_int_equal(json_array_size(events), n);
	return events;
}

static void test_raw_watch_replays_later_events_in_order_with_bookmarks(void **state)
{
	uint64_t rv0 = current_rv(), last = 0;
	json_t *events;
	static const char *const want[] = { "ADDED", "MODIFIED", "DELETED", "BOOKMARK" };

	(void)state;
	json_decref(create_host("default", "w-1"));
	kh_expect_code("PATCH", NS "/default/hosts/w-1", "{\"spec\":{\"unschedulable\":true}}",
		    "application/merge-patch+json", 200);
	kh_expect_code("DELETE", NS "/default/hosts/w-1", NULL, NULL, 200);
	events = watch_name(NS "/default/hosts", "w-1", rv0, 4);
	for (size_t i = 0; i < 4; i++) {
		json_t *obj = kh_event_object(events, i);

		assert_string_equal(kh_event_type(events, i), want[i]);
		assert_true(kh_rv_of(obj) > rv0);
		assert_true(kh_rv_of(obj) >= last);
		last = kh_rv_of(obj);
		if (i < 3)
			assert_string_equal(kh_str_at(obj, "metadata", "name"), "w-1");
	}
	json_decref(events);
}

static void expect_expired_watch(uint64_t rv)
{
	char path[256];
	json_t *events;
	CURLcode rc;

	snprintf(path, sizeof(path), NS "/default/hosts?watch=1&resourceVersion=%llu", (unsigned long long)rv);
	events = kh_watch_events(path, 5000, 0, &rc);
	assert_int_equal(rc, CURLE_OK);  /* the server ends the stream after the error */
	assert_int_equal(json_array_size(events), 1);
	assert_string_equal(kh_event_type(events, 0), "ERROR");
	kh_expect_status(kh_event_object(events, 0), 410, 410, "Expired");
	json_decref(events);
}

static void test_raw_compaction_gives_410_gone(void **state)
{
	uint64_t rv0 = current_rv(), rv1;
	json_t *page = NULL;
	char path[512];

	(void)state;
	json_decref(create_host("default", "c-1"));
	json_decref(create_host("default", "c-2"));
	assert_int_equal(kh_http("GET", NS "/default/hosts?limit=1", NULL, NULL, &page), 200);
	assert_non_null(kh_str_at(page, "metadata", "continue"));
	snprintf(path, sizeof(path), NS "/default/hosts?limit=1&continue=%s", kh_str_at(page, "metadata", "continue"));
	json_decref(page);
	/* A write after the list, then compaction: the list's revision is gone. */
	json_decref(create_host("default", "c-0"));
	kh_expect_code("POST", "/_test/compact", "", NULL, 200);
	expect_expired_watch(rv0);
	kh_expect_error("GET", path, NULL, 410, "Expired");
	/* SIGUSR1 compacts too. */
	rv1 = current_rv();
	json_decref(create_host("default", "c-3"));
	kill(T.f.server, SIGUSR1);
	/* The signal is handled asynchronously: until then the watch sees c-3 ADDED. */
	for (int i = 0; i < 30; i++) {
		char path2[256];
		json_t *first;
		bool expired;

		snprintf(path2, sizeof(path2), NS "/default/hosts?watch=1&resourceVersion=%llu", (unsigned long long)rv1);
		first = kh_watch_events(path2, 2000, 1, NULL);
		expired = kh_event_type(first, 0) && !strcmp(kh_event_type(first, 0), "ERROR");
		json_decref(first);
		if (expired)
			break;
		usleep(100 * 1000);
	}
	expect_expired_watch(rv1);
}

struct cut_watch {
	char path[256];
	CURLcode rc;
	double secs;
	int done;
};

static void *cut_watch_thread(void *arg)
{
	struct cut_watch *cw = arg;
	double t0 = kf_now_s();

	json_decref(kh_watch_events(cw->path, 20000, 0, &cw->rc));
	cw->secs = kf_now_s() - t0;
	__atomic_store_n(&cw->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_raw_cut_watches_ends_streams(void **state)
{
	struct cut_watch cw = { .rc = CURLE_OK };
	pthread_t th;

	(void)state;
	snprintf(cw.path, sizeof(cw.path), NS "/default/hosts?watch=1&resourceVersion=%llu",
		 (unsigned long long)current_rv());
	assert_int_equal(pthread_create(&th, NULL, cut_watch_thread, &cw), 0);
	/* Cut until the stream ends: an early cut may come before the watch is open. */
	for (int i = 0; i < 50 && !__atomic_load_n(&cw.done, __ATOMIC_SEQ_CST); i++) {
		usleep(200 * 1000);
		kh_expect_code("POST", "/_test/cut-watches", "", NULL, 200);
	}
	pthread_join(th, NULL);
	assert_int_equal(cw.rc, CURLE_OK);
	assert_true(cw.secs < 15.0);
}

static void test_raw_finalizer_holds_delete_until_removed(void **state)
{
	json_t *got = NULL, *events;
	uint64_t rv;

	(void)state;
	json_decref(create_vm("fin-1", ",\"finalizers\":[\"drover.io/test\"]"));
	assert_int_equal(kh_http("DELETE", NS "/default/virtualmachines/fin-1", "{\"propagationPolicy\":\"Background\"}",
			      NULL, &got), 200);
	assert_non_null(kh_str_at(got, "metadata", "deletionTimestamp"));
	json_decref(got);
	assert_int_equal(kh_http("GET", NS "/default/virtualmachines/fin-1", NULL, NULL, &got), 200);
	assert_non_null(kh_str_at(got, "metadata", "deletionTimestamp"));
	rv = kh_rv_of(got);
	json_decref(got);
	/* Being deleted, its finalizers may only go (a real server says 422 Invalid). */
	kh_expect_code("PATCH", NS "/default/virtualmachines/fin-1",
		    "{\"metadata\":{\"finalizers\":[\"drover.io/test\",\"drover.io/late\"]}}",
		    "application/merge-patch+json", 422);
	kh_expect_code("PATCH", NS "/default/virtualmachines/fin-1", "{\"metadata\":{\"finalizers\":null}}",
		    "application/merge-patch+json", 200);
	kh_expect_code("GET", NS "/default/virtualmachines/fin-1", NULL, NULL, 404);
	events = watch_name(NS "/default/virtualmachines", "fin-1", rv, 1);
	assert_string_equal(kh_event_type(events, 0), "DELETED");
	assert_true(kh_rv_of(kh_event_object(events, 0)) > rv);
	json_decref(events);
}

/* ---- closer to the real server ---- */

static void test_raw_watch_takes_any_parse_bool_true(void **state)
{
	static const char *const values[] = { "True", "t", "1", "true" };
	uint64_t rv = current_rv();

	(void)state;
	json_decref(create_vm("bool-1", NULL));
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char path[256];
		json_t *events;

		snprintf(path, sizeof(path), NS "/default/virtualmachines?watch=%s&resourceVersion=%llu"
			 "&fieldSelector=metadata.name%%3Dbool-1", values[i], (unsigned long long)rv);
		events = kh_watch_events(path, 8000, 1, NULL);
		assert_int_equal(json_array_size(events), 1);
		assert_string_equal(kh_event_type(events, 0), "ADDED");
		json_decref(events);
	}
}

static void test_raw_selector_watch_sees_objects_enter_and_leave(void **state)
{
	static const char *const want[] = { "ADDED", "MODIFIED", "DELETED" };
	uint64_t rv = current_rv();
	json_t *events;
	char path[256];

	(void)state;
	json_decref(create_vm("sel-1", NULL));
	kh_expect_code("PATCH", NS "/default/virtualmachines/sel-1", "{\"metadata\":{\"labels\":{\"tier\":\"db\"}}}",
		       "application/merge-patch+json", 200);
	kh_expect_code("PATCH", NS "/default/virtualmachines/sel-1", "{\"spec\":{\"host\":\"kvm-b\"}}",
		       "application/merge-patch+json", 200);
	kh_expect_code("PATCH", NS "/default/virtualmachines/sel-1", "{\"metadata\":{\"labels\":{\"tier\":null}}}",
		       "application/merge-patch+json", 200);
	snprintf(path, sizeof(path), NS "/default/virtualmachines?watch=true&resourceVersion=%llu&labelSelector=tier%%3Ddb",
		 (unsigned long long)rv);
	events = kh_watch_events(path, 3000, 3, NULL);
	assert_int_equal(json_array_size(events), 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(kh_event_type(events, i), want[i]);
	/* The DELETED carries the object as it is now: no longer matching. */
	assert_null(json_object_get(json_object_get(json_object_get(kh_event_object(events, 2), "metadata"), "labels"),
				    "tier"));
	json_decref(events);
}

static void test_raw_custom_field_selectors_only_on_name_and_namespace(void **state)
{
	json_t *st = NULL;

	(void)state;
	kh_expect_error("GET", NS "/default/virtualmachines?fieldSelector=spec.host%3Dkvm-a", NULL, 400, "BadRequest");
	kh_expect_error("GET", NS "/default/virtualmachines?watch=1&fieldSelector=status.phase%3DRunning", NULL, 400,
			"BadRequest");
	kh_expect_code("GET", NS "/default/virtualmachines?fieldSelector=metadata.name%3Dweb-1,metadata.namespace%3Ddefault",
		       NULL, NULL, 200);
	/* Built-in kinds keep their own field labels. */
	kh_expect_code("GET", "/api/v1/namespaces?fieldSelector=status.phase%3DActive", NULL, NULL, 200);
	/* Errors carry details, as the real server's do. */
	assert_int_equal(kh_http("GET", NS "/default/virtualmachines/nobody", NULL, NULL, &st), 404);
	assert_string_equal(kh_str_at(json_object_get(st, "details"), "name", NULL), "nobody");
	assert_string_equal(kh_str_at(json_object_get(st, "details"), "kind", NULL), "virtualmachines");
	json_decref(st);
}

static void test_raw_graceful_delete_bumps_generation(void **state)
{
	json_t *vm, *got = NULL;

	(void)state;
	vm = create_vm("gen-del-1", ",\"finalizers\":[\"drover.io/test\"]");
	assert_int_equal(kh_http("DELETE", NS "/default/virtualmachines/gen-del-1", NULL, NULL, &got), 200);
	assert_int_equal(generation_of(got), generation_of(vm) + 1);
	json_decref(got);
	json_decref(vm);
	kh_expect_code("PATCH", NS "/default/virtualmachines/gen-del-1", "{\"metadata\":{\"finalizers\":null}}",
		       "application/merge-patch+json", 200);
}

static void test_events_are_one_store_for_both_apis_and_kubectl(void **state)
{
	json_t *vm = create_vm("desc-1", NULL), *got = NULL;
	char body[1024], out[OUT_MAX];

	(void)state;
	snprintf(body, sizeof(body), "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"desc-1.a\"},"
		 "\"reason\":\"Migrated\",\"note\":\"moved to kvm-b\",\"type\":\"Normal\","
		 "\"eventTime\":\"2026-01-01T00:00:00.000000Z\",\"reportingController\":\"drover.io/controller\","
		 "\"reportingInstance\":\"drover-0\",\"action\":\"Migrate\",\"regarding\":{\"apiVersion\":"
		 "\"drover.io/v1alpha1\",\"kind\":\"VirtualMachine\",\"name\":\"desc-1\",\"namespace\":\"default\","
		 "\"uid\":\"%s\"}}", kh_str_at(vm, "metadata", "uid"));
	json_decref(kh_create("/apis/events.k8s.io/v1/namespaces/default/events", body));
	/* The core API shows it in its own shape. */
	assert_int_equal(kh_http("GET", "/api/v1/namespaces/default/events/desc-1.a", NULL, NULL, &got), 200);
	assert_string_equal(kh_str_at(got, "apiVersion", NULL), "v1");
	assert_string_equal(kh_str_at(got, "message", NULL), "moved to kvm-b");
	assert_string_equal(kh_str_at(got, "involvedObject", "name"), "desc-1");
	assert_string_equal(kh_str_at(got, "reportingComponent", NULL), "drover.io/controller");
	json_decref(got);
	/* And the other way round. */
	json_decref(kh_create("/api/v1/namespaces/default/events",
			      "{\"metadata\":{\"name\":\"desc-1.b\"},\"reason\":\"Started\",\"message\":\"started\","
			      "\"involvedObject\":{\"kind\":\"VirtualMachine\",\"name\":\"desc-1\"}}"));
	assert_int_equal(kh_http("GET", "/apis/events.k8s.io/v1/namespaces/default/events/desc-1.b", NULL, NULL, &got), 200);
	assert_string_equal(kh_str_at(got, "note", NULL), "started");
	assert_string_equal(kh_str_at(got, "regarding", "name"), "desc-1");
	assert_null(json_object_get(got, "message"));
	json_decref(got);
	/* A patch through events.k8s.io works on its shape. */
	kh_expect_code("PATCH", "/apis/events.k8s.io/v1/namespaces/default/events/desc-1.a", "{\"note\":\"moved again\"}",
		       "application/merge-patch+json", 200);
	assert_int_equal(kubectl(out, sizeof(out), "get", "events", NULL), 0);
	expect_in(out, "Migrated");
	assert_int_equal(kubectl(out, sizeof(out), "describe", "vm", "desc-1", NULL), 0);
	expect_in(out, "moved again");
	json_decref(vm);
}

static bool has_resource(json_t *list, const char *name)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(list, "resources"), i, r)
		if (!strcmp(kh_str_at(r, "name", NULL), name))
			return true;
	return false;
}

static void test_raw_crd_registers_discovery_and_table_columns(void **state)
{
	json_t *list = NULL, *table = NULL, *cols;

	(void)state;
	assert_int_equal(kh_http("GET", "/apis/drover.io/v1alpha1", NULL, NULL, &list), 200);
	assert_true(has_resource(list, "virtualmachines"));
	assert_true(has_resource(list, "virtualmachines/status"));
	assert_true(has_resource(list, "migrations"));
	json_decref(list);
	assert_int_equal(kh_http_as(TOKEN, "GET", NS "/default/virtualmachines", NULL, NULL,
				 "Accept: application/json;as=Table;v=v1;g=meta.k8s.io", &table), 200);
	assert_string_equal(kh_str_at(table, "kind", NULL), "Table");
	cols = json_object_get(table, "columnDefinitions");
	assert_int_equal(json_array_size(cols), 5);
	assert_string_equal(kh_str_at(json_array_get(cols, 1), "name", NULL), "Desired");
	assert_string_equal(kh_str_at(json_array_get(cols, 4), "name", NULL), "Age");
	assert_true(json_array_size(json_object_get(table, "rows")) > 0);
	json_decref(table);
}

static void test_raw_accepts_events_leases_and_namespaces(void **state)
{
	json_t *obj = NULL;

	(void)state;
	json_decref(kh_create("/apis/events.k8s.io/v1/namespaces/default/events",
			   "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{\"generateName\":\"web-1.\"},"
			   "\"reason\":\"Migrated\",\"note\":\"moved\",\"type\":\"Normal\",\"eventTime\":\"2025-01-01T00:00:00.000000Z\","
			   "\"reportingController\":\"drover.io/controller\",\"reportingInstance\":\"drover-0\",\"action\":\"Migrate\"}"));
	json_decref(kh_create("/api/v1/namespaces/default/events",
			   "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"web-1.1\"},"
			   "\"reason\":\"Started\",\"message\":\"started\",\"involvedObject\":{\"kind\":\"VirtualMachine\",\"name\":\"web-1\"}}"));
	json_decref(kh_create("/apis/coordination.k8s.io/v1/namespaces/default/leases",
			   "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"raw\"},"
			   "\"spec\":{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15}}"));
	/* Leases are built in: strategic merge patch and unconditional updates are allowed. */
	assert_int_equal(kh_http("PATCH", "/apis/coordination.k8s.io/v1/namespaces/default/leases/raw",
			      "{\"spec\":{\"holderIdentity\":\"b\"}}", "application/strategic-merge-patch+json", &obj), 200);
	assert_string_equal(kh_str_at(obj, "spec", "holderIdentity"), "b");
	json_decref(obj);
	assert_int_equal(kh_http("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/raw",
			      "{\"metadata\":{\"name\":\"raw\"},\"spec\":{\"holderIdentity\":\"c\"}}", NULL, &obj), 200);
	assert_string_equal(kh_str_at(obj, "spec", "holderIdentity"), "c");
	json_decref(obj);
	kh_expect_error("POST", "/apis/coordination.k8s.io/v1/namespaces/nowhere/leases", "{\"metadata\":{\"name\":\"x\"}}",
		     404, "NotFound");
	assert_int_equal(kh_http("GET", "/api/v1/namespaces/default", NULL, NULL, &obj), 200);
	assert_string_equal(kh_str_at(obj, "status", "phase"), "Active");
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubectl_applies_and_lists_with_printer_columns),
		cmocka_unit_test(test_kubectl_reapply_bumps_generation_only_on_spec_change),
		cmocka_unit_test(test_kubectl_deletes_migration),
		cmocka_unit_test(test_kubectl_patches_and_handles_leases),
		cmocka_unit_test(test_raw_rejects_missing_or_wrong_token),
		cmocka_unit_test(test_raw_resource_version_increases_and_stale_update_conflicts),
		cmocka_unit_test(test_raw_status_subresource_takes_only_status),
		cmocka_unit_test(test_raw_list_limit_continue_walks_all_objects),
		cmocka_unit_test(test_raw_watch_replays_later_events_in_order_with_bookmarks),
		cmocka_unit_test(test_raw_compaction_gives_410_gone),
		cmocka_unit_test(test_raw_cut_watches_ends_streams),
		cmocka_unit_test(test_raw_finalizer_holds_delete_until_removed),
		cmocka_unit_test(test_raw_watch_takes_any_parse_bool_true),
		cmocka_unit_test(test_raw_selector_watch_sees_objects_enter_and_leave),
		cmocka_unit_test(test_raw_custom_field_selectors_only_on_name_and_namespace),
		cmocka_unit_test(test_raw_graceful_delete_bumps_generation),
		cmocka_unit_test(test_events_are_one_store_for_both_apis_and_kubectl),
		cmocka_unit_test(test_raw_crd_registers_discovery_and_table_columns),
		cmocka_unit_test(test_raw_accepts_events_leases_and_namespaces),
		/* Last: the real CRDs replace the test ones. */
		cmocka_unit_test(test_kubectl_applies_real_manifests),
	};

	return cmocka_run_group_tests_name("kubeapi", tests, group_setup, group_teardown);
}
