/* test_state_prune: finished Migration records are kept, five per VM, newest first;
 * running ones and a user's Migrations still in the manifests are never removed. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/dir/statedir.h"
#include "controller/loop/records.h"
#include "crd/load.h"

static char dir[64];

static void write_record(const char *name, const char *vm, enum crd_mig_phase phase, int minute)
{
	struct crd_migration m = {0};
	char end[32];

	snprintf(end, sizeof(end), "2026-11-23T10:%02d:00Z", minute);
	m.meta.name = strdup(name);
	m.meta.namespace = strdup("default");
	m.spec.vm_name = strdup(vm);
	crd_knobs_default(&m.spec.knobs);
	m.status.phase = phase;
	m.status.end_time = phase == CRD_MIG_RUNNING ? NULL : strdup(end);
	assert_int_equal(state_write_migration(dir, &m), 0);
	crd_migration_free(&m);
}

static int exists(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/migrations/default/%s.json", dir, name);
	return access(path, F_OK) == 0;
}

static void test_prune_keeps_five_newest_finished_per_vm(void **state)
{
	char name[32];
	struct crd_set set = {0};
	(void)state;

	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "a-%d", i);
		write_record(name, "web-a", i % 2 ? CRD_MIG_FAILED : CRD_MIG_SUCCEEDED, i);
	}
	write_record("a-running", "web-a", CRD_MIG_RUNNING, 0);
	write_record("b-0", "web-b", CRD_MIG_SUCCEEDED, 1);
	assert_int_equal(state_prune_migrations(dir, &set, RECORDS_KEEP_DEFAULT), 3);
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "a-%d", i);
		assert_int_equal(exists(name), i >= 3); /* minutes 3..7 are the newest five */
	}
	assert_true(exists("a-running"));
	assert_true(exists("b-0"));
}

static void test_prune_spares_migrations_still_in_the_manifests(void **state)
{
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	const char *yaml = "apiVersion: drover.io/v1alpha1\nkind: Migration\n"
			   "metadata: {name: u-0}\nspec: {vmName: web-u}\n";
	(void)state;

	for (int i = 0; i < 7; i++) {
		char name[32];
		snprintf(name, sizeof(name), "u-%d", i);
		write_record(name, "web-u", CRD_MIG_SUCCEEDED, 10 + i);
	}
	assert_int_equal(crd_load_buffer("m.yaml", yaml, strlen(yaml), &set, &errs), 0);
	assert_int_equal(state_prune_migrations(dir, &set, RECORDS_KEEP_DEFAULT), 1);
	assert_true(exists("u-0"));   /* oldest, but the user's Migration: kept */
	assert_false(exists("u-1"));  /* the oldest of drover's own beyond five */
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/drover-prune-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	/* Depth first, no symlinks followed: only what the tests wrote under dir. */
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prune_keeps_five_newest_finished_per_vm),
		cmocka_unit_test(test_prune_spares_migrations_still_in_the_manifests),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
