/* Every bad document produces exactly the errors recorded next to it; every good one none.
 *
 * Corpus format (tests/data/bad): each case is one file. YAML files start with comment lines
 * "# expect: LINE:COL: FIELD: message" (one per error, in file order) and
 * "# schema: reject|accept|none" (whether the CRD schema alone rejects the document; "none"
 * when the document is not a parseable drover object, so the schema does not apply). A JSON
 * case keeps the same lines in a sidecar file NAME.json.expect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "crd/load.h"
#include "tests/unit/crd_test_util.h"

#define BAD_DIR "tests/data/bad"

/* Collects the "# expect: " lines of @text into @out (joined by '\n'). */
static void expected_lines(const char *text, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "# expect: ", 10))
			continue;
		size_t n = strcspn(p + 10, "\n");
		len += (size_t)snprintf(out + len, size - len, "%.*s\n", (int)n, p + 10);
		if (len >= size)
			return;
	}
}

/* Formats the errors of @errs as "LINE:COL: FIELD: message" lines. */
static void actual_lines(const struct crd_errors *errs, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < errs->n && len < size; i++) {
		const struct crd_error *e = &errs->items[i];
		if (e->severity != CRD_SEV_ERROR)
			continue;
		len += (size_t)snprintf(out + len, size - len, "%d:%d: %s%s%s\n", e->line, e->col,
					e->field, e->field[0] ? ": " : "", e->message);
	}
}

static int check_bad_file(const char *path)
{
	char sidecar[512], want[16384], got[16384];
	size_t len = 0;
	int ok;

	snprintf(sidecar, sizeof(sidecar), "%s.expect", path);
	char *text = test_read_file(strstr(path, ".json") ? sidecar : path, &len);
	if (!text) {
		fprintf(stderr, "%s: cannot read expectations\n", path);
		return 0;
	}
	expected_lines(text, want, sizeof(want));
	free(text);

	struct crd_set set = {0};
	struct crd_errors errs = {0};
	int rc = crd_load_paths(&path, 1, &set, &errs);
	actual_lines(&errs, got, sizeof(got));
	ok = rc == -1 && want[0] && !strcmp(want, got);
	if (!ok)
		fprintf(stderr, "%s:\n--- expected\n%s--- got\n%s", path, want, got);
	crd_set_free(&set);
	crd_errors_free(&errs);
	return ok;
}

static void test_bad_corpus_gives_exactly_the_recorded_errors(void **state)
{
	struct dirent **names = NULL;
	int n = scandir(BAD_DIR, &names, test_is_corpus_file, alphasort), failed = 0;
	(void)state;

	assert_true(n >= 60);
	for (int i = 0; i < n; i++) {
		char path[512];
		snprintf(path, sizeof(path), BAD_DIR "/%s", names[i]->d_name);
		failed += !check_bad_file(path);
		free(names[i]);
	}
	free(names);
	assert_int_equal(failed, 0);
}

static void assert_dir_valid(const char *dir, size_t min_objects)
{
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	int rc = crd_load_paths(&dir, 1, &set, &errs);
	if (rc != 0)
		crd_errors_print(&errs, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n_errors, 0);
	assert_true(set.n_hosts + set.n_vms + set.n_migrations >= min_objects);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_good_corpus_is_valid(void **state)
{
	(void)state;
	assert_dir_valid("tests/data/good", 20);
}

static void test_examples_are_valid(void **state)
{
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	const char *dir = "manifests/examples";
	(void)state;

	assert_dir_valid(dir, 8);
	assert_int_equal(crd_load_paths(&dir, 1, &set, &errs), 0);
	assert_int_equal(set.n_hosts, 3);
	const struct crd_host *b = crd_set_host(&set, NULL, "lab-b");
	assert_non_null(b);
	assert_string_equal(b->spec.uri, "qemu+tcp://10.77.0.12/system");
	assert_string_equal(b->spec.migration_address, "10.77.0.12");
	assert_int_equal(set.n_migrations, 1);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_skipped_documents_are_notes_not_errors(void **state)
{
	const char *path = "tests/data/good/gitops-mixed.yaml";
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	(void)state;

	assert_int_equal(crd_load_paths(&path, 1, &set, &errs), 0);
	assert_int_equal(errs.n, 2);
	assert_int_equal(errs.items[0].severity, CRD_SEV_NOTE);
	assert_int_equal(set.n_hosts, 1);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_corpus_gives_exactly_the_recorded_errors),
		cmocka_unit_test(test_good_corpus_is_valid),
		cmocka_unit_test(test_examples_are_valid),
		cmocka_unit_test(test_skipped_documents_are_notes_not_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
