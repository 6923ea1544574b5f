/* The HTTP endpoints on a free loopback port: health, readiness before and after the
 * first pass, the metrics text with its content type, 404 and 405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "controller/serve/httpd.h"

#define BODY_MAX (1u << 20)

struct reply {
	long status;
	char content_type[128];
	char *body;
	size_t len;
};

struct fixture {
	struct metrics *metrics;
	struct httpd *httpd;
};

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
	struct reply *r = opaque;
	size_t add = size * n;

	if (r->len + add >= BODY_MAX)
		return 0;  /* curl reports a write error */
	char *grown = realloc(r->body, r->len + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + r->len, data, add);
	r->body = grown;
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

/* @method @path on the fixture's server. The caller frees reply.body. */
static struct reply request(const struct fixture *f, const char *method, const char *path)
{
	struct reply r = {0};
	char url[128];
	char *type = NULL;
	CURL *c = curl_easy_init();

	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", httpd_port(f->httpd), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "POST"))
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		fail_msg("%s %s: %s", method, url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type)
		snprintf(r.content_type, sizeof(r.content_type), "%s", type);
	curl_easy_cleanup(c);
	if (!r.body)
		r.body = calloc(1, 1);
	assert_non_null(r.body);
	return r;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	f->metrics = metrics_new();
	f->httpd = f->metrics ? httpd_start("127.0.0.1:0", f->metrics, err, sizeof(err)) : NULL;
	if (!f->httpd) {
		print_error("httpd_start: %s\n", f->metrics ? err : "out of memory");
		metrics_free(f->metrics);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	httpd_stop(f->httpd);
	metrics_free(f->metrics);
	free(f);
	return 0;
}

static void test_httpd_picks_a_free_port(void **state)
{
	struct fixture *f = *state;
	assert_true(httpd_port(f->httpd) > 0);
}

static void test_httpd_healthz_is_ok(void **state)
{
	struct reply r = request(*state, "GET", "/healthz");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	free(r.body);
}

static void test_httpd_readyz_waits_for_ready(void **state)
{
	struct fixture *f = *state;
	struct reply r = request(f, "GET", "/readyz");
	assert_int_equal(r.status, 503);
	free(r.body);

	httpd_set_ready(f->httpd, true);
	r = request(f, "GET", "/readyz");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	free(r.body);
	httpd_set_ready(f->httpd, false);
}

static void test_httpd_metrics_in_prometheus_text(void **state)
{
	struct fixture *f = *state;
	metrics_set_host(f->metrics, "lab-a", true);
	struct reply r = request(f, "GET", "/metrics");
	assert_int_equal(r.status, 200);
	assert_true(!strncmp(r.content_type, "text/plain; version=0.0.4", 25));
	assert_non_null(strstr(r.body, "# TYPE drover_migrations_total counter\n"));
	assert_non_null(strstr(r.body, "drover_host_reachable{host=\"lab-a\"} 1\n"));
	free(r.body);
}

static void test_httpd_unknown_path_is_404(void **state)
{
	struct reply r = request(*state, "GET", "/nope");
	assert_int_equal(r.status, 404);
	free(r.body);
}

static void test_httpd_other_methods_are_405(void **state)
{
	struct reply r = request(*state, "POST", "/metrics");
	assert_int_equal(r.status, 405);
	free(r.body);
	r = request(*state, "DELETE", "/healthz");
	assert_int_equal(r.status, 405);
	free(r.body);
}

static void test_httpd_refuses_a_bad_address(void **state)
{
	(void)state;
	char err[256] = "";
	const char *bad[] = {"9477", "localhost:9477", "127.0.0.1:http", "::1:9477",
			     "127.0.0.1:70000", "127.0.0.1:"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		struct httpd *h = httpd_start(bad[i], NULL, err, sizeof(err));
		if (h)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(strstr(err, bad[i]));
	}
}

static void test_httpd_port_in_use_is_reported(void **state)
{
	struct fixture *f = *state;
	char addr[64], err[256] = "";

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", httpd_port(f->httpd));
	struct httpd *h = httpd_start(addr, f->metrics, err, sizeof(err));
	assert_null(h);
	assert_non_null(strstr(err, "in use"));
}

static void test_httpd_stop_frees_the_port(void **state)
{
	(void)state;
	char addr[64], err[256] = "";
	struct httpd *h = httpd_start("127.0.0.1:0", NULL, err, sizeof(err));

	assert_non_null(h);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", httpd_port(h));
	httpd_stop(h);
	h = httpd_start(addr, NULL, err, sizeof(err));
	if (!h)
		fail_msg("%s after stop: %s", addr, err);
	httpd_stop(h);
}

static void test_httpd_stop_accepts_null(void **state)
{
	(void)state;
	httpd_stop(NULL);
	httpd_set_ready(NULL, true);
	assert_int_equal(httpd_port(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httpd_picks_a_free_port),
		cmocka_unit_test(test_httpd_healthz_is_ok),
		cmocka_unit_test(test_httpd_readyz_waits_for_ready),
		cmocka_unit_test(test_httpd_metrics_in_prometheus_text),
		cmocka_unit_test(test_httpd_unknown_path_is_404),
		cmocka_unit_test(test_httpd_other_methods_are_405),
		cmocka_unit_test(test_httpd_refuses_a_bad_address),
		cmocka_unit_test(test_httpd_port_in_use_is_reported),
		cmocka_unit_test(test_httpd_stop_frees_the_port),
		cmocka_unit_test(test_httpd_stop_accepts_null),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
