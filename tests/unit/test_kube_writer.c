/* Unit tests of kube_writer's merge patch: what turns the stored status into drover's. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "controller/kube/kube_writer.h"

static void assert_diff(const char *from, const char *to, const char *want)
{
	json_t *a = from ? json_loads(from, 0, NULL) : NULL, *b = json_loads(to, 0, NULL);
	json_t *w = json_loads(want, 0, NULL), *d = kube_writer_merge_diff(a, b);

	assert_non_null(b);
	assert_non_null(w);
	assert_non_null(d);
	if (!json_equal(d, w)) {
		char *got = json_dumps(d, JSON_SORT_KEYS);
		print_error("diff of %s → %s: got %s, want %s\n", from ? from : "NULL", to, got, want);
		free(got);
	}
	assert_true(json_equal(d, w));
	json_decref(a);
	json_decref(b);
	json_decref(w);
	json_decref(d);
}

static void test_merge_diff_of_equal_status_is_empty(void **state)
{
	(void)state;
	assert_diff("{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Placed\"}]}",
		    "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Placed\"}]}", "{}");
}

static void test_merge_diff_nulls_what_drover_no_longer_reports(void **state)
{
	(void)state;
	assert_diff("{\"phase\":\"Migrating\",\"migration\":{\"name\":\"m\",\"percent\":40}}",
		    "{\"phase\":\"Running\"}", "{\"phase\":\"Running\",\"migration\":null}");
	assert_diff("{\"progress\":{\"percent\":40,\"iteration\":2}}", "{\"progress\":{\"percent\":100}}",
		    "{\"progress\":{\"percent\":100,\"iteration\":null}}");
}

static void test_merge_diff_replaces_arrays_whole_and_copies_into_nothing(void **state)
{
	(void)state;
	assert_diff("{\"conditions\":[{\"type\":\"A\"}]}", "{\"conditions\":[{\"type\":\"B\"}]}",
		    "{\"conditions\":[{\"type\":\"B\"}]}");
	assert_diff(NULL, "{\"phase\":\"Running\"}", "{\"phase\":\"Running\"}");
	assert_diff("\"not an object\"", "{\"host\":\"lab-a\"}", "{\"host\":\"lab-a\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_diff_of_equal_status_is_empty),
		cmocka_unit_test(test_merge_diff_nulls_what_drover_no_longer_reports),
		cmocka_unit_test(test_merge_diff_replaces_arrays_whole_and_copies_into_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
