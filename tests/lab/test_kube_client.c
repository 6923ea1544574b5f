/* Tests of drover's Kubernetes client (controller/kube/) against build/kubeapi-server:
 * configuration, paginated lists, informers through cut watches and 410 Gone, status and
 * optimistic updates, finalizers, leader election, events — and the token never logged. */
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/kube/kube_config.h"
#include "controller/kube/kube_events.h"
#include "controller/kube/kube_http.h"
#include "controller/kube/kube_lease.h"
#include "controller/kube/kube_status.h"
#include "controller/kube/kube_watch.h"
#include "controller/kube/kube_writer.h"
#include "tests/lab/kubeapi_fixture.h"

#define TOKEN "kc-test-token-8d3a71f2"
#define LOG_CAP (1u << 20)
#define MAX_SEEN 256

static struct {
	struct kf f;
	struct kube_config cfg;
	struct kube_client *c;
	char kubeconfig_text[16384];
	pthread_mutex_t log_lock;
	char *log;                /* every line the client modules logged */
	size_t log_len;
	size_t log_lines;
} T = { .log_lock = PTHREAD_MUTEX_INITIALIZER };

static void capture_log(void *opaque, enum kube_log_level level, const char *line)
{
	size_t n = strlen(line);

	(void)opaque;
	if (getenv("KC_DEBUG"))
		fprintf(stderr, "log %d: %s\n", (int)level, line);
	pthread_mutex_lock(&T.log_lock);
	if (T.log && T.log_len + n + 2 < LOG_CAP) {
		memcpy(T.log + T.log_len, line, n);
		T.log_len += n;
		T.log[T.log_len++] = '\n';
		T.log[T.log_len] = '\0';
		T.log_lines++;
	}
	pthread_mutex_unlock(&T.log_lock);
}

static void log_contains(const char *needle, bool want)
{
	pthread_mutex_lock(&T.log_lock);
	if ((strstr(T.log, needle) != NULL) != want)
		print_error("log %s \"%s\":\n%s\n", want ? "lacks" : "holds", needle, T.log);
	assert_true((strstr(T.log, needle) != NULL) == want);
	pthread_mutex_unlock(&T.log_lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct kube_client *new_client(const struct kube_config *cfg)
{
	struct kube_client_options o;
	struct kube_client *c = NULL;
	char err[256];

	kube_client_options_default(&o);
	o.log = capture_log;
	o.log_level = KUBE_LOG_DEBUG;
	o.backoff_base_s = 0.05;
	o.backoff_cap_s = 0.5;
	if (kube_client_new(cfg, &o, &c, err, sizeof(err)) < 0)
		print_error("client: %s\n", err);
	assert_non_null(c);
	return c;
}

/* Sends a request with the shared client and returns the HTTP code; the body into @out. */
static long req(const char *method, const char *path, const char *body, const char *ctype, json_t **out)
{
	struct kube_response r;
	json_t *b = body ? json_loads(body, 0, NULL) : NULL;
	long code;

	if (body)
		assert_non_null(b);
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

static json_t *create_obj(const struct kube_resource *res, const char *ns, const char *json_text)
{
	char path[KUBE_PATH_MAX];
	json_t *obj = NULL;
	long code;

	assert_int_equal(kube_path(path, sizeof(path), res, ns, NULL, NULL), 0);
	code = req("POST", path, json_text, NULL, &obj);
	if (code != 201)
		print_error("create in %s: HTTP %ld\n", path, code);
	assert_int_equal(code, 201);
	return obj;
}

static json_t *create_host(const char *ns, const char *name)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Host\",\"metadata\":{\"name\":\"%s\"},"
		 "\"spec\":{\"uri\":\"test:///default\"}}", name);
	return create_obj(&kube_res_host, ns, body);
}

static json_t *create_vm(const char *name)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"VirtualMachine\","
		 "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"host\":\"kvm-a\",\"running\":true}}", name);
	return create_obj(&kube_res_vm, "default", body);
}

static void create_namespace(const char *name)
{
	char body[256];
	json_t *obj = NULL;

	snprintf(body, sizeof(body), "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", name);
	assert_int_equal(req("POST", "/api/v1/namespaces", body, NULL, &obj), 201);
	json_decref(obj);
}

static void delete_obj(const struct kube_resource *res, const char *ns, const char *name)
{
	char path[KUBE_PATH_MAX];

	assert_int_equal(kube_path(path, sizeof(path), res, ns, name, NULL), 0);
	assert_int_equal(req("DELETE", path, NULL, NULL, NULL), 200);
}

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

static uint64_t rv_num(const json_t *obj)
{
	return kube_obj_rv(obj) ? strtoull(kube_obj_rv(obj), NULL, 10) : 0;
}

/* ---- set-up ---- */

static void write_kubeconfig_text(void)
{
	char pem[4096], b64[6000];
	size_t n = 0;
	char *ca = kube_read_file(T.f.ca, &n);

	assert_non_null(ca);
	assert_true(n < sizeof(pem));
	memcpy(pem, ca, n);
	free(ca);
	assert_int_equal(kf_base64((const unsigned char *)pem, n, b64, sizeof(b64)), 0);
	/* Two contexts: the current one is the second, with a namespace. */
	snprintf(T.kubeconfig_text, sizeof(T.kubeconfig_text),
		 "apiVersion: v1\nkind: Config\n"
		 "clusters:\n"
		 "- name: other\n  cluster: {server: \"https://192.0.2.1:6443\"}\n"
		 "- name: kas\n  cluster:\n    server: \"%s/\"\n    certificate-authority-data: %s\n"
		 "users:\n- name: nobody\n  user: {}\n- name: kas\n  user:\n    token: %s\n"
		 "contexts:\n"
		 "- name: wrong\n  context: {cluster: other, user: nobody}\n"
		 "- name: kas\n  context: {cluster: kas, user: kas, namespace: default}\n"
		 "current-context: kas\n",
		 T.f.base, b64, TOKEN);
}

static int group_setup(void **state)
{
	static const char *const crds[][3] = {
		{ "hosts", "host", "Host" },
		{ "virtualmachines", "virtualmachine", "VirtualMachine" },
		{ "migrations", "migration", "Migration" },
	};
	char err[256];

	(void)state;
	T.log = calloc(1, LOG_CAP);
	if (!T.log || kf_start(&T.f, TOKEN, 200) < 0)
		return -1;
	write_kubeconfig_text();
	if (kube_config_load_buffer(T.kubeconfig_text, strlen(T.kubeconfig_text), NULL, NULL, &T.cfg, err,
				    sizeof(err)) < 0) {
		fprintf(stderr, "kubeconfig: %s\n", err);
		return -1;
	}
	T.c = new_client(&T.cfg);
	for (size_t i = 0; i < 3; i++) {
		char *text = kf_crd_json(crds[i][0], crds[i][1], crds[i][2]);
		json_t *obj = NULL;
		long code = text ? req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", text, NULL, &obj) : 0;

		free(text);
		json_decref(obj);
		if (code != 201) {
			fprintf(stderr, "creating the CRD of %s: HTTP %ld\n", crds[i][0], code);
			return -1;
		}
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	kube_client_free(T.c);
	kube_config_free(&T.cfg);
	kf_stop(&T.f);
	free(T.log);
	T.log = NULL;
	return 0;
}

/* ---- configuration ---- */

static void test_kubeconfig_reads_current_context_token_and_ca_data(void **state)
{
	struct kube_config other;
	char err[256];

	(void)state;
	assert_string_equal(T.cfg.server, T.f.base);   /* trailing slash dropped */
	assert_string_equal(T.cfg.token, TOKEN);
	assert_string_equal(T.cfg.namespace, "default");
	assert_non_null(T.cfg.ca_data);
	assert_true(strncmp(T.cfg.ca_data, "-----BEGIN CERTIFICATE-----", 27) == 0);
	assert_null(T.cfg.ca_file);
	/* Another context by name; relative paths are taken from the kubeconfig's directory. */
	assert_int_equal(kube_config_load_buffer(T.kubeconfig_text, strlen(T.kubeconfig_text), "/etc", "wrong", &other,
						 err, sizeof(err)), 0);
	assert_string_equal(other.server, "https://192.0.2.1:6443");
	assert_null(other.token);
	kube_config_free(&other);
	assert_int_equal(kube_config_load_buffer(T.kubeconfig_text, strlen(T.kubeconfig_text), NULL, "nope", &other,
						 err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"nope\" not found"));
	assert_null(strstr(err, TOKEN));
	{
		static const char text[] = "clusters: [{name: c, cluster: {server: \"https://h:1\", insecure-skip-tls-verify: true, "
					   "certificate-authority: ca.pem}}]\nusers: [{name: u, user: {client-certificate: c.pem, "
					   "client-key: /k.pem}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
		static const char secure[] = "clusters: [{name: c, cluster: {server: \"https://h:1\", certificate-authority: ca.pem}}]\n"
					     "users: [{name: u, user: {client-certificate: c.pem, client-key: /k.pem}}]\n"
					     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";

		assert_int_equal(kube_config_load_buffer(text, strlen(text), "/cfg", NULL, &other, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "insecure-skip-tls-verify"));
		assert_int_equal(kube_config_load_buffer(secure, strlen(secure), "/cfg", NULL, &other, err, sizeof(err)), 0);
		assert_string_equal(other.ca_file, "/cfg/ca.pem");
		assert_string_equal(other.cert_file, "/cfg/c.pem");
		assert_string_equal(other.key_file, "/k.pem");
		assert_string_equal(other.namespace, "default");
		kube_config_free(&other);
	}
}

static void test_in_cluster_config_reads_service_account_and_rereads_token(void **state)
{
	struct kube_config cfg;
	struct kube_client *c;
	struct kube_response r;
	char sa[128], path[256], port[16], err[256];

	(void)state;
	kf_path(&T.f, "sa", sa, sizeof(sa));
	assert_int_equal(mkdir(sa, 0700), 0);
	snprintf(path, sizeof(path), "%s/token", sa);
	assert_int_equal(kf_write_file(path, TOKEN), 0);
	snprintf(path, sizeof(path), "%s/namespace", sa);
	assert_int_equal(kf_write_file(path, "kube-system\n"), 0);
	snprintf(path, sizeof(path), "%s/ca.crt", sa);
	assert_int_equal(link(T.f.ca, path), 0);
	snprintf(port, sizeof(port), "%d", T.f.port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	assert_int_equal(kube_config_in_cluster(sa, &cfg, err, sizeof(err)), 0);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_string_equal(cfg.namespace, "kube-system");
	assert_null(cfg.token);
	c = new_client(&cfg);
	assert_int_equal(kube_request(c, "GET", "/api/v1/namespaces/kube-system", NULL, NULL, &r), 0);
	assert_int_equal(r.code, 200);
	kube_response_free(&r);
	/* The kubelet rotates the token: the next request reads the new one. */
	snprintf(path, sizeof(path), "%s/token", sa);
	assert_int_equal(kf_write_file(path, "rotated-but-wrong"), 0);
	assert_int_equal(kube_request(c, "GET", "/api/v1/namespaces/kube-system", NULL, NULL, &r), 0);
	assert_int_equal(r.code, 401);
	kube_response_free(&r);
	assert_int_equal(kf_write_file(path, TOKEN "\n"), 0);
	assert_int_equal(kube_request(c, "GET", "/api/v1/namespaces/kube-system", NULL, NULL, &r), 0);
	assert_int_equal(r.code, 200);
	kube_response_free(&r);
	kube_client_free(c);
	kube_config_free(&cfg);
}

static void test_missing_token_is_a_clean_401(void **state)
{
	struct kube_config cfg;
	struct kube_client *c;
	struct kube_response r;

	(void)state;
	assert_int_equal(kube_config_copy(&cfg, &T.cfg), 0);
	explicit_bzero(cfg.token, strlen(cfg.token));
	free(cfg.token);
	cfg.token = NULL;
	c = new_client(&cfg);
	assert_int_equal(kube_request(c, "GET", "/apis/drover.io/v1alpha1/namespaces/default/hosts", NULL, NULL, &r), 0);
	assert_int_equal(r.code, 401);
	assert_string_equal(r.reason, "Unauthorized");
	assert_int_equal(r.attempts, 1);   /* not retried */
	kube_response_free(&r);
	kube_client_free(c);
	kube_config_free(&cfg);
}

/* ---- informers ---- */

struct seen {
	pthread_mutex_t lock;
	int n;
	enum kube_event_type type[MAX_SEEN];
	char name[MAX_SEEN][64];
	uint64_t rv[MAX_SEEN];
	uint64_t old_rv[MAX_SEEN];     /* the object before the change; 0 when none */
	/* When closed, the handler waits (at most 10 s) for it: the informer stops reading. */
	bool gate_closed;
	pthread_cond_t gate;
};

static void record(void *opaque, enum kube_event_type type, const json_t *old, const json_t *obj)
{
	struct seen *s = opaque;
	struct timespec until;

	pthread_mutex_lock(&s->lock);
	if (s->n < MAX_SEEN) {
		s->type[s->n] = type;
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", kube_obj_name(obj));
		s->rv[s->n] = rv_num(obj);
		s->old_rv[s->n] = old ? rv_num(old) : 0;
		s->n++;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	while (s->gate_closed)
		if (pthread_cond_timedwait(&s->gate, &s->lock, &until) != 0)
			break;
	pthread_mutex_unlock(&s->lock);
}

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->gate, NULL);
}

static void seen_free(struct seen *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->gate);
}

static void set_gate(struct seen *s, bool closed)
{
	pthread_mutex_lock(&s->lock);
	s->gate_closed = closed;
	pthread_cond_broadcast(&s->gate);
	pthread_mutex_unlock(&s->lock);
}

/* Events recorded for @name, as "A M D" letters. */
static void events_of(struct seen *s, const char *name, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->n && used + 3 < len; i++)
		if (!strcmp(s->name[i], name)) {
			out[used++] = "AMD"[s->type[i]];
			out[used] = '\0';
		}
	pthread_mutex_unlock(&s->lock);
}

static struct kube_informer *start_informer(const struct kube_resource *res, const char *ns, unsigned limit,
					    struct seen *s)
{
	struct kube_informer_options o = { .res = res, .namespace = ns, .handler = record, .opaque = s,
					   .page_limit = limit, .backoff_base_s = 0.05, .backoff_cap_s = 0.5 };
	struct kube_informer *inf = NULL;

	assert_int_equal(kube_informer_start(T.c, &o, &inf), 0);
	assert_true(kube_informer_wait_synced(inf, 10));
	return inf;
}

/* Waits up to 10 s for @cond(@inf, @arg). */
static bool wait_for(bool (*cond)(struct kube_informer *, const void *), struct kube_informer *inf, const void *arg)
{
	for (int i = 0; i < 200; i++) {
		if (cond(inf, arg))
			return true;
		usleep(50 * 1000);
	}
	return cond(inf, arg);
}

static bool count_is(struct kube_informer *inf, const void *n)
{
	return kube_informer_count(inf) == *(const size_t *)n;
}

static bool has_name(struct kube_informer *inf, const void *key)
{
	char ns[64];
	const char *slash = strchr(key, '/');
	json_t *obj;

	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - (const char *)key), (const char *)key);
	obj = kube_informer_get(inf, ns, slash + 1);
	json_decref(obj);
	return obj != NULL;
}

static void test_list_with_limit_1_walks_every_page(void **state)
{
	struct kube_informer_stats st;
	struct kube_informer *inf;
	static struct seen s;   /* static: a failed check leaves the informer running */
	char name[32];

	(void)state;
	seen_init(&s);
	create_namespace("pages");
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "p-%d", i);
		json_decref(create_host("pages", name));
	}
	inf = start_informer(&kube_res_host, "pages", 1, &s);
	assert_int_equal(kube_informer_count(inf), 7);
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "pages/p-%d", i);
		assert_true(has_name(inf, name));
	}
	kube_informer_stats(inf, &st);
	assert_int_equal(st.lists, 1);
	assert_int_equal(s.n, 7);   /* one ADDED each */
	kube_informer_free(inf);
	seen_free(&s);
}

static void test_informer_sees_added_modified_deleted_in_order(void **state)
{
	struct kube_informer *inf;
	static struct seen s;   /* static: a failed check leaves the informer running */
	char got[16] = "", path[KUBE_PATH_MAX];

	(void)state;
	seen_init(&s);
	inf = start_informer(&kube_res_vm, "default", 0, &s);
	json_decref(create_vm("ev-1"));
	assert_int_equal(kube_path(path, sizeof(path), &kube_res_vm, "default", "ev-1", NULL), 0);
	assert_int_equal(req("PATCH", path, "{\"spec\":{\"running\":false}}", "application/merge-patch+json", NULL), 200);
	delete_obj(&kube_res_vm, "default", "ev-1");
	for (int i = 0; i < 200 && strlen(got) < 3; i++) {
		usleep(50 * 1000);
		events_of(&s, "ev-1", got, sizeof(got));
	}
	assert_string_equal(got, "AMD");
	pthread_mutex_lock(&s.lock);
	for (int i = 1; i < s.n; i++)
		assert_true(s.rv[i] >= s.rv[i - 1]);
	/* A change hands over the object as it was: the cache's copy, still alive (the
	 * controller tells its own status writes from real changes by it). */
	uint64_t before = 0;
	for (int i = 0; i < s.n; i++)
		if (!strcmp(s.name[i], "ev-1")) {
			assert_int_equal(s.old_rv[i], before);
			before = s.rv[i];
		}
	pthread_mutex_unlock(&s.lock);
	assert_false(has_name(inf, "default/ev-1"));
	kube_informer_free(inf);
	seen_free(&s);
}

/* Cuts every watch until @inf has opened more than @watches streams. */
static void cut_until_reconnected(struct kube_informer *inf, unsigned watches)
{
	struct kube_informer_stats st;

	for (int i = 0; i < 100; i++) {
		kube_informer_stats(inf, &st);
		if (st.watches > watches)
			return;
		assert_int_equal(req("POST", "/_test/cut-watches", "{}", NULL, NULL), 200);
		usleep(100 * 1000);
	}
	fail_msg("the informer did not reconnect");
}

static void test_informer_reconnects_after_cut_watches_and_misses_nothing(void **state)
{
	struct kube_informer_stats st;
	struct kube_informer *inf;
	static struct seen s;   /* static: a failed check leaves the informer running */
	size_t want = 3;
	char got[16];

	(void)state;
	seen_init(&s);
	create_namespace("cut");
	json_decref(create_host("cut", "c-0"));
	inf = start_informer(&kube_res_host, "cut", 0, &s);
	kube_informer_stats(inf, &st);
	cut_until_reconnected(inf, st.watches);
	json_decref(create_host("cut", "c-1"));
	/* Closed gate: the informer holds c-2's event while the stream is cut and c-3 made. */
	set_gate(&s, true);
	json_decref(create_host("cut", "c-2"));
	for (int i = 0; i < 100 && !(events_of(&s, "c-2", got, sizeof(got)), got[0]); i++)
		usleep(50 * 1000);
	kube_informer_stats(inf, &st);
	assert_int_equal(req("POST", "/_test/cut-watches", "{}", NULL, NULL), 200);
	json_decref(create_host("cut", "c-3"));
	delete_obj(&kube_res_host, "cut", "c-0");
	set_gate(&s, false);
	want = 3;
	assert_true(wait_for(count_is, inf, &want));
	assert_true(wait_for(has_name, inf, "cut/c-3"));
	assert_false(has_name(inf, "cut/c-0"));
	events_of(&s, "c-3", got, sizeof(got));
	assert_string_equal(got, "A");
	events_of(&s, "c-0", got, sizeof(got));
	assert_string_equal(got, "AD");
	kube_informer_stats(inf, &st);
	assert_int_equal(st.lists, 1);   /* reconnected from its resourceVersion: no relist */
	assert_int_equal(st.gone, 0);
	kube_informer_free(inf);
	seen_free(&s);
}

static void test_informer_relists_after_410_and_misses_nothing(void **state)
{
	struct kube_informer_stats st;
	struct kube_informer *inf;
	static struct seen s;   /* static: a failed check leaves the informer running */
	size_t want;
	char got[16];

	(void)state;
	seen_init(&s);
	create_namespace("gone");
	json_decref(create_host("gone", "g-old"));
	inf = start_informer(&kube_res_host, "gone", 0, &s);
	/* The informer stops reading inside c-0's event ... */
	set_gate(&s, true);
	json_decref(create_host("gone", "g-0"));
	for (int i = 0; i < 100 && !(events_of(&s, "g-0", got, sizeof(got)), got[0]); i++)
		usleep(50 * 1000);
	assert_string_equal(got, "A");
	/* ... while objects change, history is compacted past it, and its stream is cut. */
	json_decref(create_host("gone", "g-1"));
	json_decref(create_host("gone", "g-2"));
	delete_obj(&kube_res_host, "gone", "g-old");
	json_decref(create_host("default", "elsewhere"));
	assert_int_equal(req("POST", "/_test/compact", "{}", NULL, NULL), 200);
	assert_int_equal(req("POST", "/_test/cut-watches", "{}", NULL, NULL), 200);
	set_gate(&s, false);
	want = 3;
	assert_true(wait_for(count_is, inf, &want));
	assert_true(wait_for(has_name, inf, "gone/g-2"));
	assert_true(has_name(inf, "gone/g-1"));
	assert_false(has_name(inf, "gone/g-old"));
	for (int i = 0; i < 100; i++) {
		kube_informer_stats(inf, &st);
		if (st.lists >= 2)
			break;
		usleep(50 * 1000);
	}
	assert_true(st.gone >= 1);
	assert_true(st.lists >= 2);
	events_of(&s, "g-old", got, sizeof(got));
	assert_string_equal(got, "AD");
	events_of(&s, "g-2", got, sizeof(got));
	assert_string_equal(got, "A");
	log_contains("relisting", true);
	kube_informer_free(inf);
	seen_free(&s);
}

/* ---- writes ---- */

static json_t *ready_status(void *opaque, const json_t *current)
{
	(void)opaque;
	return json_pack("{s:s, s:[{s:s, s:s, s:s, s:s, s:I, s:s}]}", "phase", "Running",
			 "conditions", "type", "Running", "status", "True", "reason", "DomainRunning",
			 "message", "the domain runs on kvm-a", "observedGeneration",
			 (json_int_t)kube_obj_generation(current), "lastTransitionTime",
			 "2026-11-23T10:00:00Z");
}

static void test_status_patch_sets_status_only_and_keeps_generation(void **state)
{
	struct kube_response r;
	json_t *vm = create_vm("st-1"), *stored = NULL, *status = json_pack("{s:s,s:s}", "phase", "Running", "host", "kvm-a");
	json_t *cond;

	(void)state;
	assert_int_equal(kube_status_patch(T.c, &kube_res_vm, "default", "st-1", status, &stored, &r), 0);
	assert_string_equal(str_at(stored, "status", "phase"), "Running");
	assert_string_equal(str_at(stored, "spec", "host"), "kvm-a");
	assert_true(rv_num(stored) > rv_num(vm));
	assert_int_equal(kube_obj_generation(stored), kube_obj_generation(vm));
	kube_response_free(&r);
	json_decref(stored);
	/* The read-compute-patch form sets observedGeneration and metav1.Conditions. */
	assert_int_equal(kube_status_update(T.c, &kube_res_vm, "default", "st-1", ready_status, NULL, &r), 0);
	kube_response_free(&r);
	assert_int_equal(req("GET", "/apis/drover.io/v1alpha1/namespaces/default/virtualmachines/st-1", NULL, NULL, &stored),
			 200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(stored, "status"), "observedGeneration")),
			 kube_obj_generation(vm));
	cond = json_array_get(json_object_get(json_object_get(stored, "status"), "conditions"), 0);
	assert_string_equal(str_at(cond, "type", NULL), "Running");
	assert_string_equal(str_at(cond, "status", NULL), "True");
	assert_non_null(str_at(cond, "lastTransitionTime", NULL));
	assert_string_equal(str_at(stored, "spec", "host"), "kvm-a");
	assert_int_equal(kube_obj_generation(stored), kube_obj_generation(vm));
	json_decref(stored);
	json_decref(status);
	json_decref(vm);
}

static int set_label(void *opaque, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata"), *labels = json_object_get(meta, "labels");

	if (!labels) {
		labels = json_object();
		json_object_set_new(meta, "labels", labels);
	}
	return json_object_set_new(labels, "tier", json_string(opaque)) == 0 ? 1 : -1;
}

static void test_stale_update_conflicts_and_retry_helper_succeeds(void **state)
{
	struct kube_response r;
	char path[KUBE_PATH_MAX], *text;
	json_t *stale = create_vm("cf-1"), *fresh = NULL, *stored = NULL;

	(void)state;
	assert_int_equal(kube_path(path, sizeof(path), &kube_res_vm, "default", "cf-1", NULL), 0);
	assert_int_equal(req("PATCH", path, "{\"spec\":{\"running\":false}}", "application/merge-patch+json", &fresh), 200);
	assert_true(rv_num(fresh) > rv_num(stale));
	text = json_dumps(stale, JSON_COMPACT);
	assert_int_equal(req("PUT", path, text, NULL, NULL), 409);
	free(text);
	/* The helper starts from the stale copy, gets 409, reads again and wins. */
	assert_int_equal(kube_update_retry(T.c, &kube_res_vm, "default", "cf-1", stale, set_label, "web", &stored, &r), 0);
	assert_int_equal(r.attempts, 3);   /* PUT 409, GET, PUT */
	assert_string_equal(str_at(json_object_get(stored, "metadata"), "labels", "tier"), "web");
	assert_true(json_is_false(json_object_get(json_object_get(stored, "spec"), "running")));  /* kept */
	kube_response_free(&r);
	json_decref(stored);
	json_decref(fresh);
	json_decref(stale);
}

static void test_finalizer_add_remove_completes_deletion(void **state)
{
	struct kube_response r;
	char path[KUBE_PATH_MAX];
	json_t *mig = create_obj(&kube_res_migration, "default",
				 "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\",\"metadata\":{\"name\":\"fin-1\"},"
				 "\"spec\":{\"vmName\":\"web-1\"}}");
	json_t *stored = NULL, *got = NULL;

	(void)state;
	assert_int_equal(kube_finalizer_add(T.c, &kube_res_migration, "default", "fin-1", mig, KUBE_FINALIZER_MIGRATION,
					    &stored, &r), 0);
	kube_response_free(&r);
	assert_true(kube_has_finalizer(stored, KUBE_FINALIZER_MIGRATION));
	json_decref(stored);
	/* Twice is once. */
	assert_int_equal(kube_finalizer_add(T.c, &kube_res_migration, "default", "fin-1", NULL, KUBE_FINALIZER_MIGRATION,
					    &stored, &r), 0);
	assert_null(stored);
	kube_response_free(&r);
	assert_int_equal(kube_path(path, sizeof(path), &kube_res_migration, "default", "fin-1", NULL), 0);
	assert_int_equal(req("DELETE", path, NULL, NULL, NULL), 200);
	assert_int_equal(req("GET", path, NULL, NULL, &got), 200);
	assert_non_null(str_at(got, "metadata", "deletionTimestamp"));
	/* The controller aborted the migration: it lets the deletion finish. */
	assert_int_equal(kube_finalizer_remove(T.c, &kube_res_migration, "default", "fin-1", got, KUBE_FINALIZER_MIGRATION,
					       NULL, &r), 0);
	kube_response_free(&r);
	assert_int_equal(req("GET", path, NULL, NULL, NULL), 404);
	json_decref(got);
	json_decref(mig);
}

/* ---- leader election ---- */

struct cand {
	int started, stopped;     /* atomic counters */
};

static void on_started(void *opaque)
{
	__atomic_add_fetch(&((struct cand *)opaque)->started, 1, __ATOMIC_SEQ_CST);
}

static void on_stopped(void *opaque)
{
	__atomic_add_fetch(&((struct cand *)opaque)->stopped, 1, __ATOMIC_SEQ_CST);
}

static struct kube_lease *candidate(const char *id, struct cand *cb)
{
	struct kube_lease_options o;
	struct kube_lease *l = NULL;

	kube_lease_options_default(&o);
	o.name = "drover-test";
	o.namespace = "default";
	o.identity = id;
	o.lease_duration_s = 3;
	o.renew_deadline_s = 2;
	o.retry_period_s = 0.5;
	o.started_leading = on_started;
	o.stopped_leading = on_stopped;
	o.opaque = cb;
	assert_int_equal(kube_lease_start(T.c, &o, &l), 0);
	return l;
}

/* Watches both candidates for @secs: never two leaders. Returns when @until_b leads (if set). */
static double watch_leaders(struct kube_lease *a, struct kube_lease *b, double secs, bool until_b)
{
	double t0 = now_s();

	while (now_s() - t0 < secs) {
		bool la = kube_lease_is_leader(a), lb = kube_lease_is_leader(b);

		assert_false(la && lb);
		if (until_b && lb)
			break;
		usleep(20 * 1000);
	}
	return now_s() - t0;
}

static void test_lease_one_leader_and_takeover_after_expiry(void **state)
{
	struct cand ca = {0}, cb = {0}, cc = {0};
	struct kube_lease *a = candidate("cand-a", &ca), *b, *c;
	json_t *lease = NULL;
	double waited;

	(void)state;
	for (int i = 0; i < 100 && !kube_lease_is_leader(a); i++)
		usleep(50 * 1000);
	assert_true(kube_lease_is_leader(a));
	b = candidate("cand-b", &cb);
	watch_leaders(a, b, 2.0, false);
	assert_true(kube_lease_is_leader(a));
	assert_false(kube_lease_is_leader(b));
	assert_int_equal(req("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/drover-test", NULL, NULL, &lease),
			 200);
	assert_string_equal(str_at(lease, "spec", "holderIdentity"), "cand-a");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(lease, "spec"), "leaseDurationSeconds")), 3);
	json_decref(lease);
	/* a dies without releasing: b waits for the lease to expire, then leads. */
	kube_lease_stop(a, false);
	assert_int_equal(__atomic_load_n(&ca.stopped, __ATOMIC_SEQ_CST), 1);
	waited = watch_leaders(a, b, 8.0, true);
	assert_true(kube_lease_is_leader(b));
	assert_true(waited > 1.0);   /* not before the lease (3 s after a's last renewal) ran out */
	assert_true(waited < 6.0);
	assert_int_equal(__atomic_load_n(&cb.started, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(__atomic_load_n(&ca.started, __ATOMIC_SEQ_CST), 1);
	/* b releases on a clean stop: c takes over without waiting out the lease. */
	c = candidate("cand-c", &cc);
	watch_leaders(b, c, 1.0, false);
	assert_false(kube_lease_is_leader(c));
	kube_lease_stop(b, true);
	waited = watch_leaders(b, c, 5.0, true);
	assert_true(kube_lease_is_leader(c));
	assert_true(waited < 2.0);
	kube_lease_free(c);
	assert_int_equal(__atomic_load_n(&cc.stopped, __ATOMIC_SEQ_CST), 1);
	kube_lease_free(b);
	kube_lease_free(a);
}

/* ---- events ---- */

static void test_event_create_reports_about_a_migration(void **state)
{
	struct kube_response r;
	json_t *mig = create_obj(&kube_res_migration, "default",
				 "{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\",\"metadata\":{\"name\":\"ev-mig\"},"
				 "\"spec\":{\"vmName\":\"web-1\"}}");
	struct kube_event ev = { .regarding = mig, .reason = KUBE_REASON_MIGRATION_STARTED,
				 .note = "web-1: kvm-a -> kvm-b, live", .type = KUBE_EVENT_NORMAL, .action = "Migrate",
				 .reporting_instance = "drover-0" };
	json_t *created = NULL, *got = NULL;
	char path[KUBE_PATH_MAX];
	const char *when, *dot;

	(void)state;
	assert_int_equal(kube_event_create(T.c, &ev, &created, &r), 0);
	kube_response_free(&r);
	assert_int_equal(kube_path(path, sizeof(path), &kube_res_event, "default", kube_obj_name(created), NULL), 0);
	assert_int_equal(req("GET", path, NULL, NULL, &got), 200);
	assert_string_equal(str_at(got, "reason", NULL), "MigrationStarted");
	assert_string_equal(str_at(got, "type", NULL), "Normal");
	assert_string_equal(str_at(got, "reportingController", NULL), "drover.io/drover");
	assert_string_equal(str_at(got, "reportingInstance", NULL), "drover-0");
	assert_string_equal(str_at(got, "action", NULL), "Migrate");
	assert_string_equal(str_at(got, "note", NULL), "web-1: kvm-a -> kvm-b, live");
	assert_string_equal(str_at(got, "regarding", "kind"), "Migration");
	assert_string_equal(str_at(got, "regarding", "name"), "ev-mig");
	assert_string_equal(str_at(got, "regarding", "uid"), str_at(mig, "metadata", "uid"));
	when = str_at(got, "eventTime", NULL);
	assert_non_null(when);
	dot = strchr(when, '.');
	assert_non_null(dot);
	assert_int_equal(strlen(dot), 8);   /* ".123456Z": microseconds */
	ev.type = KUBE_EVENT_WARNING;
	ev.reason = KUBE_REASON_PRECHECK_FAILED;
	ev.note = NULL;
	json_decref(created);
	assert_int_equal(kube_event_create(T.c, &ev, &created, &r), 0);
	kube_response_free(&r);
	json_decref(created);
	json_decref(got);
	json_decref(mig);
}

/* ---- the status writer ---- */

static json_t *not_cached_yet(void *opaque, const struct kube_resource *res, const char *ns,
			      const char *name)
{
	(void)opaque, (void)res, (void)ns, (void)name;
	return NULL;
}

/* drover's record of a move, made through the API, then written again before the informer
 * delivered it (a watch that lags, as under load): the later status must reach the API
 * server, not be dropped as if the record had been deleted. */
static void test_writer_updates_its_new_record_before_the_informer_has_it(void **state)
{
	static const char *const running =
		"{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\",\"metadata\":"
		"{\"namespace\":\"default\",\"name\":\"wr-1-20261207-010203\"},\"spec\":{\"vmName\":"
		"\"wr-1\"},\"status\":{\"phase\":\"Running\",\"reason\":\"Failover\"}}";
	static const char *const succeeded =
		"{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\",\"metadata\":"
		"{\"namespace\":\"default\",\"name\":\"wr-1-20261207-010203\"},\"spec\":{\"vmName\":"
		"\"wr-1\"},\"status\":{\"phase\":\"Succeeded\",\"reason\":\"Failover\"}}";
	struct kube_writer *w = kube_writer_new(T.c, "test", not_cached_yet, NULL);
	char path[KUBE_PATH_MAX];
	json_t *got = NULL;

	(void)state;
	assert_non_null(w);
	assert_int_equal(kube_writer_record(w, &kube_res_migration, json_loads(running, 0, NULL)), 0);
	assert_true(kube_writer_drain(w, 10));
	assert_int_equal(kube_writer_record(w, &kube_res_migration, json_loads(succeeded, 0, NULL)),
			 0);
	assert_true(kube_writer_drain(w, 10));
	kube_writer_free(w);
	assert_int_equal(kube_path(path, sizeof(path), &kube_res_migration, "default",
				   "wr-1-20261207-010203", NULL), 0);
	assert_int_equal(req("GET", path, NULL, NULL, &got), 200);
	assert_string_equal(str_at(got, "status", "phase"), "Succeeded");
	json_decref(got);
}

/* ---- last: what was logged ---- */

static void test_token_never_appears_in_logs(void **state)
{
	char server_log[8192] = "";
	FILE *fp = fopen(T.f.log, "r");

	(void)state;
	assert_true(T.log_lines > 20);   /* requests were logged at DEBUG */
	log_contains("GET /apis/drover.io/v1alpha1", true);
	log_contains(TOKEN, false);
	log_contains("Bearer", false);
	/* The server saw our requests (and logs no headers either). */
	if (fp) {
		size_t n = fread(server_log, 1, sizeof(server_log) - 1, fp);

		server_log[n] = '\0';
		fclose(fp);
	}
	assert_non_null(strstr(server_log, "kubeapi: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig_reads_current_context_token_and_ca_data),
		cmocka_unit_test(test_in_cluster_config_reads_service_account_and_rereads_token),
		cmocka_unit_test(test_missing_token_is_a_clean_401),
		cmocka_unit_test(test_list_with_limit_1_walks_every_page),
		cmocka_unit_test(test_informer_sees_added_modified_deleted_in_order),
		cmocka_unit_test(test_informer_reconnects_after_cut_watches_and_misses_nothing),
		cmocka_unit_test(test_informer_relists_after_410_and_misses_nothing),
		cmocka_unit_test(test_status_patch_sets_status_only_and_keeps_generation),
		cmocka_unit_test(test_stale_update_conflicts_and_retry_helper_succeeds),
		cmocka_unit_test(test_finalizer_add_remove_completes_deletion),
		cmocka_unit_test(test_lease_one_leader_and_takeover_after_expiry),
		cmocka_unit_test(test_event_create_reports_about_a_migration),
		cmocka_unit_test(test_writer_updates_its_new_record_before_the_informer_has_it),
		cmocka_unit_test(test_token_never_appears_in_logs),
	};

	return cmocka_run_group_tests_name("kube_client", tests, group_setup, group_teardown);
}
