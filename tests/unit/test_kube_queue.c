/* Tests of the work queue (controller/kube/kube_queue): dedup, level-triggered re-adds,
 * per-key backoff, forget, shutdown. No server, no I/O. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/kube/kube_queue.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct kube_queue *new_queue(void)
{
	struct kube_queue *q = kube_queue_new(NULL);

	assert_non_null(q);
	return q;
}

static void expect_get(struct kube_queue *q, const char *want)
{
	char key[KUBE_QUEUE_KEY_MAX];

	assert_int_equal(kube_queue_get(q, 1.0, key, sizeof(key)), 1);
	assert_string_equal(key, want);
}

static void expect_empty(struct kube_queue *q, double wait_s)
{
	char key[KUBE_QUEUE_KEY_MAX];

	assert_int_equal(kube_queue_get(q, wait_s, key, sizeof(key)), 0);
}

static void test_queue_dedups_keys_in_fifo_order(void **state)
{
	struct kube_queue *q = new_queue();

	(void)state;
	assert_int_equal(kube_queue_add(q, "default/a"), 0);
	assert_int_equal(kube_queue_add(q, "default/b"), 0);
	assert_int_equal(kube_queue_add(q, "default/a"), 0);
	assert_int_equal(kube_queue_len(q), 2);
	expect_get(q, "default/a");
	expect_get(q, "default/b");
	expect_empty(q, 0.01);
	kube_queue_done(q, "default/a");
	kube_queue_done(q, "default/b");
	expect_empty(q, 0.01);
	kube_queue_free(q);
}

static void test_queue_readds_key_added_while_processing_after_done(void **state)
{
	struct kube_queue *q = new_queue();

	(void)state;
	assert_int_equal(kube_queue_add(q, "ns/x"), 0);
	expect_get(q, "ns/x");
	/* Added twice while processing: not handed out again yet, and only once later. */
	assert_int_equal(kube_queue_add(q, "ns/x"), 0);
	assert_int_equal(kube_queue_add(q, "ns/x"), 0);
	assert_int_equal(kube_queue_len(q), 0);
	expect_empty(q, 0.01);
	kube_queue_done(q, "ns/x");
	assert_int_equal(kube_queue_len(q), 1);
	expect_get(q, "ns/x");
	kube_queue_done(q, "ns/x");
	expect_empty(q, 0.01);
	kube_queue_free(q);
}

static void test_queue_backoff_doubles_from_5ms_to_1000s_cap(void **state)
{
	struct kube_queue *q = new_queue();
	double want = 0.005;

	(void)state;
	for (int i = 0; i < 30; i++) {
		double d = kube_queue_when(q, "ns/slow");

		assert_true(d > want * 0.999 && d < want * 1.001);
		assert_int_equal(kube_queue_num_requeues(q, "ns/slow"), i + 1);
		want = want * 2 > 1000 ? 1000 : want * 2;
	}
	/* 5 ms * 2^18 = 1310 s: capped from the 19th failure on. */
	assert_true(kube_queue_when(q, "ns/slow") == 1000.0);
	/* Another key has its own count. */
	assert_true(kube_queue_when(q, "ns/other") == 0.005);
	kube_queue_free(q);
}

static void test_queue_forget_resets_backoff(void **state)
{
	struct kube_queue *q = new_queue();

	(void)state;
	for (int i = 0; i < 5; i++)
		(void)kube_queue_when(q, "ns/k");
	assert_int_equal(kube_queue_num_requeues(q, "ns/k"), 5);
	kube_queue_forget(q, "ns/k");
	assert_int_equal(kube_queue_num_requeues(q, "ns/k"), 0);
	assert_true(kube_queue_when(q, "ns/k") == 0.005);
	kube_queue_free(q);
}

static void test_queue_rate_limited_add_waits_its_backoff(void **state)
{
	struct kube_queue_options o = { .base_delay_s = 0.05, .max_delay_s = 10, .max_keys = 10 };
	struct kube_queue *q = kube_queue_new(&o);
	double t0;

	(void)state;
	assert_non_null(q);
	t0 = now_s();
	assert_int_equal(kube_queue_add_rate_limited(q, "ns/r"), 0);   /* 50 ms */
	assert_int_equal(kube_queue_len(q), 0);
	expect_get(q, "ns/r");
	assert_true(now_s() - t0 >= 0.045);
	kube_queue_done(q, "ns/r");
	t0 = now_s();
	assert_int_equal(kube_queue_add_rate_limited(q, "ns/r"), 0);   /* 100 ms */
	expect_get(q, "ns/r");
	assert_true(now_s() - t0 >= 0.095);
	kube_queue_done(q, "ns/r");
	/* A plain add does not wait, and is not doubled by the pending delayed one. */
	assert_int_equal(kube_queue_add_after(q, "ns/d", 0.3), 0);
	assert_int_equal(kube_queue_add(q, "ns/d"), 0);
	expect_get(q, "ns/d");
	kube_queue_done(q, "ns/d");
	kube_queue_forget(q, "ns/r");
	assert_int_equal(kube_queue_num_requeues(q, "ns/r"), 0);
	kube_queue_free(q);
}

static void test_queue_caps_keys_and_key_length(void **state)
{
	struct kube_queue_options o = { .base_delay_s = 0.005, .max_delay_s = 1, .max_keys = 2 };
	struct kube_queue *q = kube_queue_new(&o);
	char big[KUBE_QUEUE_KEY_MAX + 8];

	(void)state;
	assert_non_null(q);
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(kube_queue_add(q, big), -1);
	assert_int_equal(kube_queue_add(q, "a"), 0);
	assert_int_equal(kube_queue_add(q, "b"), 0);
	assert_int_equal(kube_queue_add(q, "c"), -1);
	expect_get(q, "a");
	kube_queue_done(q, "a");
	/* "a" is released once done without failures: room again. */
	assert_int_equal(kube_queue_add(q, "c"), 0);
	kube_queue_free(q);
}

struct getter {
	struct kube_queue *q;
	int rc;
	double secs;
};

static void *getter_thread(void *arg)
{
	struct getter *g = arg;
	char key[KUBE_QUEUE_KEY_MAX];
	double t0 = now_s();

	g->rc = kube_queue_get(g->q, 30.0, key, sizeof(key));
	g->secs = now_s() - t0;
	return NULL;
}

static void test_queue_shutdown_unblocks_get(void **state)
{
	struct kube_queue *q = new_queue();
	struct getter g = { .q = q, .rc = 99 };
	pthread_t th;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, getter_thread, &g), 0);
	usleep(100 * 1000);
	kube_queue_shutdown(q);
	pthread_join(th, NULL);
	assert_int_equal(g.rc, -1);
	assert_true(g.secs < 5.0);
	assert_int_equal(kube_queue_add(q, "ns/late"), -1);
	kube_queue_free(q);
}

static void test_queue_drains_queued_keys_after_shutdown(void **state)
{
	struct kube_queue *q = new_queue();
	char key[KUBE_QUEUE_KEY_MAX];

	(void)state;
	assert_int_equal(kube_queue_add(q, "ns/left"), 0);
	kube_queue_shutdown(q);
	expect_get(q, "ns/left");
	kube_queue_done(q, "ns/left");
	assert_int_equal(kube_queue_get(q, 1.0, key, sizeof(key)), -1);
	kube_queue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_dedups_keys_in_fifo_order),
		cmocka_unit_test(test_queue_readds_key_added_while_processing_after_done),
		cmocka_unit_test(test_queue_backoff_doubles_from_5ms_to_1000s_cap),
		cmocka_unit_test(test_queue_forget_resets_backoff),
		cmocka_unit_test(test_queue_rate_limited_add_waits_its_backoff),
		cmocka_unit_test(test_queue_caps_keys_and_key_length),
		cmocka_unit_test(test_queue_shutdown_unblocks_get),
		cmocka_unit_test(test_queue_drains_queued_keys_after_shutdown),
	};

	return cmocka_run_group_tests_name("kube_queue", tests, NULL, NULL);
}
