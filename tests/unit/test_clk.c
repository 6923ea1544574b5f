/* test_clk: RFC 3339 times as drover writes and the API sends them, and the age of one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reconcile/clk.h"

static void test_parses_utc_fractions_and_offsets(void **state)
{
	double t = 0;
	(void)state;
	assert_int_equal(clk_parse_rfc3339("1970-01-02T00:00:00Z", &t), 0);
	assert_true(t == 86400.0);
	assert_int_equal(clk_parse_rfc3339("1970-01-02T00:00:00.5Z", &t), 0);
	assert_true(t == 86400.5);
	assert_int_equal(clk_parse_rfc3339("1970-01-02T01:00:00+01:00", &t), 0);
	assert_true(t == 86400.0);
	assert_int_equal(clk_parse_rfc3339("1970-01-01T23:00:00-01:00", &t), 0);
	assert_true(t == 86400.0);
}

static void test_refuses_what_is_not_a_time(void **state)
{
	double t = 0;
	(void)state;
	assert_int_equal(clk_parse_rfc3339(NULL, &t), -1);
	assert_int_equal(clk_parse_rfc3339("", &t), -1);
	assert_int_equal(clk_parse_rfc3339("2026-11-23", &t), -1);
	assert_int_equal(clk_parse_rfc3339("2026-11-23T18:13:51", &t), -1);   /* no zone */
	assert_int_equal(clk_parse_rfc3339("2026-11-23T18:13:51Zjunk", &t), -1);
}

static void test_seconds_since_a_stamp_of_now_and_of_the_past(void **state)
{
	char now[32];
	(void)state;
	clk_rfc3339(now, sizeof(now));
	assert_true(clk_seconds_since(now) < 2.0);
	assert_true(clk_seconds_since("2000-01-01T00:00:00Z") > 20 * 365 * 86400.0);
	/* Unparsable and future stamps count as no time at all. */
	assert_true(clk_seconds_since("yesterday") == 0);
	assert_true(clk_seconds_since(NULL) == 0);
	assert_true(clk_seconds_since("9999-01-01T00:00:00Z") == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_utc_fractions_and_offsets),
		cmocka_unit_test(test_refuses_what_is_not_a_time),
		cmocka_unit_test(test_seconds_since_a_stamp_of_now_and_of_the_past),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
