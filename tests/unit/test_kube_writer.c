/* Unit tests of kube_writer: the merge patch that turns the stored status into drover's, and
 * what the writer says it knows of a record of drover's still being made. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "controller/kube/kube_config.h"
#include "controller/kube/kube_http.h"
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

static json_t *nothing_cached(void *opaque, const struct kube_resource *res, const char *ns,
			      const char *name)
{
	(void)opaque, (void)res, (void)ns, (void)name;
	return NULL;
}

/* The informer can deliver drover's new record (status still empty) before the writer has
 * learnt its uid: the pass must see the outcome handed over, not a new request to start. */
static void test_record_being_made_is_known_by_name_before_its_uid(void **state)
{
	struct kube_config cfg = {.server = "https://127.0.0.1:1"};   /* refused: never made */
	struct kube_client *c = NULL;
	char err[256];

	(void)state;
	assert_int_equal(kube_client_new(&cfg, NULL, &c, err, sizeof(err)), 0);
	struct kube_writer *w = kube_writer_new(c, "test", nothing_cached, NULL);
	assert_non_null(w);
	json_t *rec = json_loads("{\"metadata\":{\"namespace\":\"default\",\"name\":\"kf-2-20261205\"},"
				 "\"spec\":{\"vmName\":\"kf-2\"},"
				 "\"status\":{\"phase\":\"Succeeded\",\"reason\":\"Failover\"}}", 0, NULL);
	assert_non_null(rec);
	assert_int_equal(kube_writer_record(w, &kube_res_migration, rec), 0);
	json_t *st = kube_writer_known(w, &kube_res_migration, "default", "kf-2-20261205", "uid-1");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "reason")), "Failover");
	json_decref(st);
	/* Another object's status is still not taken for that one's. */
	assert_int_equal(kube_writer_status(w, &kube_res_migration, "default", "m", "uid-a",
					    json_pack("{s:s}", "phase", "Running")), 0);
	assert_null(kube_writer_known(w, &kube_res_migration, "default", "m", "uid-b"));
	kube_writer_free(w);
	kube_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_diff_of_equal_status_is_empty),
		cmocka_unit_test(test_merge_diff_nulls_what_drover_no_longer_reports),
		cmocka_unit_test(test_merge_diff_replaces_arrays_whole_and_copies_into_nothing),
		cmocka_unit_test(test_record_being_made_is_known_by_name_before_its_uid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
