/* state_test_util: helpers shared by the state dir and status tests (header-only, static
 * functions): a temporary directory per test group, removed by the group teardown even when
 * a test failed, and objects (status included) from YAML. */
#ifndef DROVER_TEST_STATE_UTIL_H
#define DROVER_TEST_STATE_UTIL_H

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "crd/load.h"

/* Group setup: makes /tmp/drover-state-test-XXXXXX; the group state is its path (owned by it). */
static inline int st_group_setup(void **state)
{
	char *dir = strdup("/tmp/drover-state-test-XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static inline int st_remove_entry(const char *path, const struct stat *sb, int flag,
				  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);      /* a test may have taken permissions away */
	return remove(path);
}

/* Group teardown: removes the whole temporary directory. */
static inline int st_group_teardown(void **state)
{
	char *dir = *state;
	int rc = dir ? nftw(dir, st_remove_entry, 16, FTW_DEPTH | FTW_PHYS) : 0;

	free(dir);
	return rc;
}

/* Writes "GROUPDIR/@leaf" into @buf: a directory of the test's own (not created). */
static inline const char *st_path(void **state, const char *leaf, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", (const char *)*state, leaf);
	assert_true(n > 0 && (size_t)n < size);
	return buf;
}

/* Decodes the YAML documents in @yaml into @set; fails the test on any error. */
static inline void st_load(struct crd_set *set, const char *yaml)
{
	struct crd_errors errs = {0};
	int rc = crd_load_buffer("fixture.yaml", yaml, strlen(yaml), set, &errs);

	if (rc != 0)
		crd_errors_print(&errs, stderr);
	crd_errors_free(&errs);
	assert_int_equal(rc, 0);
}

/* Creates @path holding @text; fails the test when it cannot. */
static inline void st_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

#endif
