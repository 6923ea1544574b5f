/* When the loop must pass again to reach a host that went away (lv_reconnect_due_in): against
 * libvirt's test driver (in process) and a loopback port nothing listens on (refused at once).
 * A host that is down is tried again within LV backoff's cap, never in a tight loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "reconcile/lv.h"

#define UP "test:///default"
#define DOWN "qemu+tcp://127.0.0.1:1/system"

static void quiet(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

/* A pool of the hosts @uris (named h0, h1, ...), each tried once. */
static void pool_of(struct lv_pool *pool, const char *const *uris, size_t n)
{
	struct crd_host hosts[4];
	char names[4][8];
	struct crd_set set = {.hosts = hosts, .n_hosts = n};

	assert_true(n <= 4);
	memset(hosts, 0, sizeof(hosts));
	for (size_t i = 0; i < n; i++) {
		names[i][0] = 'h';
		names[i][1] = (char)('0' + i);
		names[i][2] = '\0';
		hosts[i].meta.name = names[i];
		hosts[i].spec.uri = (char *)uris[i];
	}
	lv_pool_init(pool, NULL, NULL);
	assert_int_equal(lv_pool_sync(pool, &set), 0);
	lv_connect_all(pool, 5);
}

static void test_every_host_connected_asks_for_no_pass(void **state)
{
	const char *uris[] = {UP};
	struct lv_pool pool;

	(void)state;
	pool_of(&pool, uris, 1);
	assert_true(lv_reconnect_due_in(&pool) < 0);
	lv_pool_free(&pool);
}

static void test_a_host_down_is_tried_again_soon_but_never_at_once(void **state)
{
	const char *uris[] = {UP, DOWN};
	struct lv_pool pool;

	(void)state;
	pool_of(&pool, uris, 2);
	double due = lv_reconnect_due_in(&pool);
	assert_true(due > 0.1 && due <= 1.0);   /* the first backoff: half a second */
	/* Tried again and again: the wait grows, but stays within seconds (the cap), never
	 * the resync's half minute. */
	for (int i = 0; i < 8; i++) {
		for (size_t h = 0; h < pool.n; h++)
			pool.hosts[h].next_try = 0;   /* as if the backoff had passed */
		lv_connect_all(&pool, 5);
	}
	due = lv_reconnect_due_in(&pool);
	assert_true(due > 1.0 && due <= 10.0);
	lv_pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_host_connected_asks_for_no_pass),
		cmocka_unit_test(test_a_host_down_is_tried_again_soon_but_never_at_once),
	};

	virSetErrorFunc(NULL, quiet);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
