/* lastvalid: the copy of the last valid manifests in the state dir — only manifest files,
 * the tree kept, a new save replacing the old one whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "controller/dir/lastvalid.h"

static void put(const char *dir, const char *rel, const char *text)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm(const char *dir, const char *rel)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(remove(path), 0);
}

static bool exists(const char *dir, const char *rel)
{
	char path[8192];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &st) == 0;
}

static void test_lastvalid_copies_manifests_and_replaces_the_old_set(void **state)
{
	(void)state;
	char root[] = "/tmp/drover-lastvalid-XXXXXX", src[256], st[256], sub[300], found[4096];
	assert_non_null(mkdtemp(root));
	snprintf(src, sizeof(src), "%s/m", root);
	snprintf(st, sizeof(st), "%s/state", root);
	snprintf(sub, sizeof(sub), "%s/nested", src);
	assert_int_equal(mkdir(src, 0700), 0);
	assert_int_equal(mkdir(st, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(lastvalid_find(st, found, sizeof(found)), -1);
	put(src, "hosts.yaml", "kind: Host\n");
	put(src, "nested/vm.json", "{}\n");
	put(src, "notes.txt", "not a manifest\n");
	assert_int_equal(lastvalid_save(src, st), 0);
	assert_int_equal(lastvalid_find(st, found, sizeof(found)), 0);
	assert_true(exists(found, "hosts.yaml"));
	assert_true(exists(found, "nested/vm.json"));
	assert_false(exists(found, "notes.txt"));

	rm(src, "hosts.yaml");
	put(src, "vms.yml", "kind: VirtualMachine\n");
	assert_int_equal(lastvalid_save(src, st), 0);
	assert_int_equal(lastvalid_find(st, found, sizeof(found)), 0);
	assert_false(exists(found, "hosts.yaml"));
	assert_true(exists(found, "vms.yml"));
	assert_false(exists(st, "last-valid.new"));
	assert_false(exists(st, "last-valid.old"));
	/* Clean up: an empty set saved, then the empty folders removed. */
	rm(src, "vms.yml");
	rm(src, "nested/vm.json");
	rm(src, "nested");
	rm(src, "notes.txt");
	assert_int_equal(lastvalid_save(src, st), 0);
	assert_int_equal(lastvalid_find(st, found, sizeof(found)), 0);
	assert_int_equal(rmdir(found), 0);
	assert_int_equal(rmdir(src), 0);
	assert_int_equal(rmdir(st), 0);
	assert_int_equal(rmdir(root), 0);
}

/* The record of invalid manifests: written with the first errors and the count of the
 * rest, read back whole; none when valid; refused when it is not drover's record. */
static void test_lastvalid_note_records_invalid_manifests(void **state)
{
	char root[] = "/tmp/drover-lvnote-XXXXXX";
	struct crd_errors errs = {0};
	struct lastvalid_note n;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(lastvalid_note_read(root, &n), 0);
	for (int i = 0; i < LASTVALID_NOTE_ERRORS + 7; i++)
		crd_errors_add(&errs, CRD_SEV_ERROR, "/m/vms.yaml", i + 1, 3, NULL, "spec.running",
			       "expected true or false");
	crd_errors_add(&errs, CRD_SEV_NOTE, "/m/vms.yaml", 1, 1, NULL, "", "a note");
	assert_int_equal(lastvalid_note_invalid(root, "2026-12-04T21:00:00Z", "/s/last-valid",
						&errs), 0);
	crd_errors_free(&errs);
	assert_int_equal(lastvalid_note_read(root, &n), 1);
	assert_string_equal(n.since, "2026-12-04T21:00:00Z");
	assert_string_equal(n.acting_on, "/s/last-valid");
	assert_int_equal(n.errs.n, LASTVALID_NOTE_ERRORS);
	assert_int_equal(n.more, 7);
	assert_string_equal(n.errs.items[1].file, "/m/vms.yaml");
	assert_int_equal(n.errs.items[1].line, 2);
	assert_int_equal(n.errs.items[1].col, 3);
	assert_string_equal(n.errs.items[1].field, "spec.running");
	assert_string_equal(n.errs.items[1].message, "expected true or false");
	lastvalid_note_free(&n);
	lastvalid_note_free(NULL);
	/* Too big, or not a record: -1 and nothing kept. */
	char *big = malloc(LASTVALID_NOTE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', LASTVALID_NOTE_MAX + 1);
	big[LASTVALID_NOTE_MAX + 1] = '\0';
	put(root, "manifests.json", big);
	free(big);
	assert_int_equal(lastvalid_note_read(root, &n), -1);
	assert_null(n.since);
	put(root, "manifests.json", "{\"valid\": false, \"errors\": [1]}");
	assert_int_equal(lastvalid_note_read(root, &n), -1);
	assert_int_equal(lastvalid_note_valid(root), 0);
	assert_int_equal(lastvalid_note_read(root, &n), 0);
	assert_int_equal(lastvalid_note_valid(root), 0);
	assert_int_equal(rmdir(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lastvalid_copies_manifests_and_replaces_the_old_set),
		cmocka_unit_test(test_lastvalid_note_records_invalid_manifests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
