/* The log lines: logfmt quotes and escapes what needs it, JSON parses back with the same
 * fields in the same order, and no line passes the cap whatever it is given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "controller/serve/log.h"

#define TS "2026-11-23T18:13:51Z"

static char line[LOG_LINE_MAX];

static size_t fmt(enum log_format f, const char *msg, const struct log_field *fields, size_t n)
{
	return log_format_line(line, sizeof(line), f, TS, "info", msg, fields, n);
}

static void test_log_logfmt_keeps_the_current_format(void **state)
{
	const struct log_field f[] = {{"vms", "3"}, {"converged", "true"}};

	(void)state;
	fmt(LOG_FORMAT_LOGFMT, "reconciled", f, 2);
	assert_string_equal(line, "ts=" TS " level=info msg=\"reconciled\" vms=3 converged=true\n");
}

static void test_log_logfmt_quotes_and_escapes_values_that_need_it(void **state)
{
	const struct log_field f[] = {{"dir", "/srv/my manifests"},  {"empty", ""},
				      {"eq", "a=b"},                 {"q", "say \"hi\"\\"},
				      {"nl", "one\ntwo\tthree\r"},   {"ctl", "\x01"},
				      {"utf8", "lab-a → lab-b"},     {"null", NULL}};

	(void)state;
	fmt(LOG_FORMAT_LOGFMT, "a \"quoted\"\nmessage", f, 8);
	assert_string_equal(line, "ts=" TS " level=info msg=\"a \\\"quoted\\\"\\nmessage\""
				  " dir=\"/srv/my manifests\" empty=\"\" eq=\"a=b\""
				  " q=\"say \\\"hi\\\"\\\\\" nl=\"one\\ntwo\\tthree\\r\""
				  " ctl=\"\\u0001\" utf8=\"lab-a → lab-b\" null=\"\"\n");
}

static void test_log_keys_are_cleaned_and_duplicates_skipped(void **state)
{
	const struct log_field f[] = {{"a key=", "1"}, {"msg", "x"}, {"a_key_", "2"}, {NULL, "3"},
				      {"b", "4"}};

	(void)state;
	fmt(LOG_FORMAT_LOGFMT, "m", f, 5);
	assert_string_equal(line, "ts=" TS " level=info msg=\"m\" a_key_=1 b=4\n");
}

static void test_log_json_parses_back_with_the_fields_in_order(void **state)
{
	const struct log_field f[] = {{"vm", "default/web-1"}, {"why", "say \"no\"\n\\"},
				      {"ctl", "\x01\x7f"}, {"utf8", "→"}, {"bad", "\xff\xfe ok"}};
	const char *want[][2] = {{"ts", TS}, {"level", "info"}, {"msg", "action failed"},
				 {"vm", "default/web-1"}, {"why", "say \"no\"\n\\"},
				 {"ctl", "\x01\x7f"}, {"utf8", "→"}, {"bad", "?? ok"}};
	json_error_t err;
	size_t i = 0;
	const char *key;
	json_t *value;

	(void)state;
	size_t len = fmt(LOG_FORMAT_JSON, "action failed", f, 5);
	assert_true(len > 0 && line[len - 1] == '\n');
	assert_null(memchr(line, '\n', len - 1));      /* one line */
	json_t *obj = json_loads(line, 0, &err);
	assert_non_null(obj);
	assert_int_equal(json_object_size(obj), 8);
	json_object_foreach(obj, key, value) {
		assert_string_equal(key, want[i][0]);
		assert_string_equal(json_string_value(value), want[i][1]);
		i++;
	}
	json_decref(obj);
}

static void test_log_lines_stay_under_the_cap(void **state)
{
	static char big[3 * LOG_VALUE_MAX];
	struct log_field f[LOG_MAX_FIELDS + 4];
	char keys[LOG_MAX_FIELDS + 4][8];

	(void)state;
	memset(big, '\n', sizeof(big) - 1);   /* the worst case: every byte escaped */
	for (size_t i = 0; i < LOG_MAX_FIELDS + 4; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		f[i].key = keys[i];
		f[i].value = big;
	}
	for (int j = 0; j < 2; j++) {
		enum log_format lf = j ? LOG_FORMAT_JSON : LOG_FORMAT_LOGFMT;
		size_t len = log_format_line(line, sizeof(line), lf, TS, "warn", big, f,
					     LOG_MAX_FIELDS + 4);
		assert_true(len > 0 && len < LOG_LINE_MAX);
		assert_int_equal(strlen(line), len);
		assert_int_equal(line[len - 1], '\n');
		if (j) {
			json_t *obj = json_loads(line, 0, NULL);
			assert_non_null(obj);
			assert_string_equal(json_string_value(json_object_get(obj, "truncated")), "true");
			const char *msg = json_string_value(json_object_get(obj, "msg"));
			assert_int_equal(strlen(msg), LOG_VALUE_MAX + 3);   /* cut, then "..." */
			json_decref(obj);
		} else {
			assert_non_null(strstr(line, "...\" "));
			assert_non_null(strstr(line, " truncated=true\n"));
		}
	}
	/* A buffer below the cap gets nothing rather than a cut line. */
	char small[64];
	assert_int_equal(log_format_line(small, sizeof(small), LOG_FORMAT_JSON, TS, "info", "m",
					 NULL, 0), 0);
	assert_string_equal(small, "");
}

static void test_log_cuts_values_on_a_character_boundary(void **state)
{
	static char big[LOG_VALUE_MAX + 8];
	const struct log_field f[] = {{"v", big}};

	(void)state;
	memset(big, 'a', LOG_VALUE_MAX - 1);
	memcpy(big + LOG_VALUE_MAX - 1, "→", 3);   /* straddles the cap */
	fmt(LOG_FORMAT_JSON, "m", f, 1);
	json_t *obj = json_loads(line, 0, NULL);
	assert_non_null(obj);
	const char *v = json_string_value(json_object_get(obj, "v"));
	assert_int_equal(strlen(v), LOG_VALUE_MAX - 1 + 3);
	assert_string_equal(v + LOG_VALUE_MAX - 1, "...");
	json_decref(obj);
}

static void test_log_parse_format_names(void **state)
{
	enum log_format f = LOG_FORMAT_LOGFMT;

	(void)state;
	assert_int_equal(log_parse_format("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_parse_format("logfmt", &f), 0);
	assert_int_equal(f, LOG_FORMAT_LOGFMT);
	assert_int_equal(log_parse_format("JSON", &f), -1);
	assert_int_equal(log_parse_format(NULL, &f), -1);
	assert_string_equal(LOG_INT(-42), "-42");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_logfmt_keeps_the_current_format),
		cmocka_unit_test(test_log_logfmt_quotes_and_escapes_values_that_need_it),
		cmocka_unit_test(test_log_keys_are_cleaned_and_duplicates_skipped),
		cmocka_unit_test(test_log_json_parses_back_with_the_fields_in_order),
		cmocka_unit_test(test_log_lines_stay_under_the_cap),
		cmocka_unit_test(test_log_cuts_values_on_a_character_boundary),
		cmocka_unit_test(test_log_parse_format_names),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
