/* When a down host next needs a pass (hostfail_due_in): at detectAfterSeconds, and at a
 * failed fence's retry; once that moment is past and acted on, never again "now" — a host
 * down for good without a fence (none configured, the quorum guard) made the loop spin. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "controller/loop/hostfail.h"

#define DETECT_S 10.0

/* Observes Host "h1" at @now, unreachable (libvirt and its address) when @down. */
static void observe(struct hostfail *hf, bool down, double now)
{
	struct crd_host host = {.meta = {.name = "h1", .namespace = "default"},
				.spec = {.uri = "test:///default"}};
	struct crd_set set = {.hosts = &host, .n_hosts = 1};
	struct inv_host ih = {.name = "h1", .reachable = !down, .addr_alive = !down};
	struct inventory inv = {.hosts = &ih, .n_hosts = 1};

	assert_int_equal(hostfail_observe(hf, &set, &inv, now), 0);
}

static void test_host_up_asks_for_no_pass(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct plan_failure_policy pol = {.detect_after_s = DETECT_S, .fence = true};
	struct hostfail hf;

	(void)state;
	hostfail_init(&hf, &pol, &lock);
	observe(&hf, false, 100.0);
	assert_true(hostfail_due_in(&hf, 100.0) < 0);
	hostfail_free(&hf);
}

static void test_down_host_is_due_at_detection_then_no_more(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct plan_failure_policy pol = {.detect_after_s = DETECT_S, .fence = false};
	struct hostfail hf;

	(void)state;
	hostfail_init(&hf, &pol, &lock);
	observe(&hf, true, 100.0);
	assert_true(hostfail_due_in(&hf, 100.0) > DETECT_S - 0.01);
	assert_true(hostfail_due_in(&hf, 100.0) < DETECT_S + 0.01);
	assert_true(hostfail_due_in(&hf, 104.0) < DETECT_S - 3.9);
	/* Detected (no fence wanted here): nothing left to wait for. */
	observe(&hf, true, 110.5);
	assert_true(hostfail_due_in(&hf, 110.5) < 0);
	assert_true(hostfail_due_in(&hf, 500.0) < 0);
	hostfail_free(&hf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_up_asks_for_no_pass),
		cmocka_unit_test(test_down_host_is_due_at_detection_then_no_more),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
