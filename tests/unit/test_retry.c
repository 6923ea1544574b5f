/* test_retry: drover's own actions back off per VM, 5 s doubling to 5 minutes, and a
 * success starts afresh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "controller/loop/retry.h"

static void test_backoff_doubles_to_a_cap_and_resets_on_success(void **state)
{
	struct retry_table t = {0};
	const double expect[] = {5, 10, 20, 40, 80, 160, 300, 300};
	(void)state;

	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		retry_failed(&t, "default/web-1", "migration failed", 1000);
		assert_true(retry_wait_left(&t, "default/web-1", 1000) == expect[i]);
	}
	assert_string_equal(retry_why(&t, "default/web-1"), "migration failed");
	assert_true(retry_wait_left(&t, "default/web-1", 1300) == 0);   /* time has passed */
	assert_true(retry_wait_left(&t, "default/web-2", 1000) == 0);   /* other VMs unaffected */
	retry_succeeded(&t, "default/web-1");
	assert_null(retry_why(&t, "default/web-1"));
	assert_true(retry_next_due(&t, 2000) == -1);             /* nothing waits */
	retry_failed(&t, "default/web-1", "again", 2000);
	assert_true(retry_wait_left(&t, "default/web-1", 2000) == 5);
	retry_failed(&t, "default/web-2", "too", 2001);
	assert_true(retry_next_due(&t, 2001) == 4);              /* the earliest of the two */
	/* Past due (blocked, say, so never tried): no reason to wake again for it. */
	assert_true(retry_next_due(&t, 2005.5) == 0.5);
	assert_true(retry_next_due(&t, 2007) == -1);
	retry_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_doubles_to_a_cap_and_resets_on_success),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
