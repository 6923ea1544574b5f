/* The API client sends nothing when libcurl refuses one of its options, and says which: a
 * request without CURLOPT_CAINFO, CURLOPT_PROTOCOLS_STR or another option would go out with
 * weaker settings than asked for. libcurl itself refuses here: a string option over its input
 * cap (CURL_MAX_INPUT_LENGTH, 8 MB) fails with CURLE_BAD_FUNCTION_ARGUMENT. */
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

#define OVER_CURL_INPUT_CAP (9u << 20)

static void test_kube_call_refused_option_is_named_and_nothing_is_sent(void **state)
{
	struct kube_config cfg = {0};
	struct kube_client *c = NULL;
	struct kube_response r;
	char err[256];
	char *ca = malloc(OVER_CURL_INPUT_CAP + 1);

	(void)state;
	assert_non_null(ca);
	memset(ca, 'a', OVER_CURL_INPUT_CAP);
	ca[OVER_CURL_INPUT_CAP] = '\0';
	/* Port 1 on loopback: were the request sent, the error would be a refused connection. */
	cfg.server = "https://127.0.0.1:1";
	cfg.ca_file = ca;
	assert_int_equal(kube_client_new(&cfg, NULL, &c, err, sizeof(err)), 0);
	struct kube_call call = {.method = "GET", .path = "/api", .max_retries = -1};
	assert_int_equal(kube_call(c, &call, &r), -1);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.message, "CURLOPT_CAINFO"));
	assert_int_equal(r.attempts <= 1, 1);
	kube_response_free(&r);
	kube_client_free(c);
	free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_call_refused_option_is_named_and_nothing_is_sent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
