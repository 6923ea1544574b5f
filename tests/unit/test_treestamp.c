/* treestamp: the stamp that lets a pass be quiet changes with every change a load of the
 * manifests would see (a file rewritten, replaced, added or removed, in a directory below),
 * not with a hidden entry the loader skips, and matches nothing for a tree it cannot read. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "controller/dir/treestamp.h"
#include "state_test_util.h"

static void put(const char *dir, const char *rel, const char *text)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	st_write_file(path, text);
}

/* Sets @rel's modification time to @sec: a rewrite within the same clock tick as the write
 * before it would otherwise keep its times, and this test must not depend on the tick. */
static void touch_at(const char *dir, const char *rel, time_t sec)
{
	char path[2048];
	struct timespec t[2] = {{.tv_sec = sec}, {.tv_sec = sec}};
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static uint64_t stamp(const char *dir)
{
	uint64_t s = treestamp(dir);
	assert_int_not_equal(s, 0);
	return s;
}

static void test_stamp_changes_with_what_a_load_reads(void **state)
{
	char root[1024], sub[1536];
	uint64_t s;

	st_path(state, "manifests", root, sizeof(root));
	assert_int_equal(mkdir(root, 0755), 0);
	put(root, "vms.yaml", "kind: VirtualMachine\n");
	put(root, "hosts.yaml", "kind: Host\n");
	s = stamp(root);
	assert_int_equal(stamp(root), s);
	/* Rewritten in place to the same length. */
	put(root, "vms.yaml", "kind: VirtualMachinf\n");
	touch_at(root, "vms.yaml", 1000000000);
	assert_int_not_equal(stamp(root), s);
	s = stamp(root);
	/* Replaced by a rename, as editors and git do. */
	put(root, ".vms.yaml.swp", "kind: VirtualMachine\n");
	s = stamp(root);                        /* the directory changed: an entry came */
	put(root, ".vms.yaml.swp", "kind: VirtualMachine\nspec: {}\n");
	assert_int_equal(stamp(root), s);       /* hidden: the loader skips it */
	char from[2048], to[2048];
	snprintf(from, sizeof(from), "%s/.vms.yaml.swp", root);
	snprintf(to, sizeof(to), "%s/vms.yaml", root);
	assert_int_equal(rename(from, to), 0);
	assert_int_not_equal(stamp(root), s);
	s = stamp(root);
	/* A file added, then removed, in a directory below. */
	snprintf(sub, sizeof(sub), "%s/team-a", root);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_not_equal(stamp(root), s);
	s = stamp(root);
	put(sub, "db.yaml", "kind: VirtualMachine\n");
	assert_int_not_equal(stamp(root), s);
	s = stamp(root);
	snprintf(to, sizeof(to), "%s/db.yaml", sub);
	assert_int_equal(unlink(to), 0);
	assert_int_not_equal(stamp(root), s);
}

static void test_stamp_of_a_tree_not_read_whole_matches_nothing(void **state)
{
	char root[1024], sub[1536];

	st_path(state, "gone", root, sizeof(root));
	assert_int_equal(treestamp(root), 0);
	st_path(state, "locked", root, sizeof(root));
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/secret", root);
	assert_int_equal(mkdir(sub, 0755), 0);
	put(sub, "vm.yaml", "kind: VirtualMachine\n");
	assert_int_not_equal(treestamp(root), 0);
	if (geteuid() == 0)    /* root reads any directory: the mode does not shut it out */
		return;
	assert_int_equal(chmod(sub, 0), 0);
	assert_int_equal(treestamp(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamp_changes_with_what_a_load_reads),
		cmocka_unit_test(test_stamp_of_a_tree_not_read_whole_matches_nothing),
	};
	return cmocka_run_group_tests(tests, st_group_setup, st_group_teardown);
}
