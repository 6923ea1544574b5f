/* test_statecache: the statuses `drover run` keeps between passes (and the string pool
 * their VMs share). A status written or read
 * is kept once its pass's set is released, and the next load takes it instead of reading
 * the record — only while the record's file is as it was, and only from the object that
 * wrote or read the record last. */
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

#include "controller/dir/statecache.h"
#include "controller/dir/statedir.h"
#include "controller/dir/strpool.h"
#include "controller/loop/reconciler.h"
#include "crd/encode.h"
#include "tests/unit/state_test_util.h"

static const char vm_doc[] = "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
			     "metadata: {name: web-1}\nspec: {domain: {memory: 1Gi}}\n%s";

/* A set of web-1 whose status says it runs on @host (none: no status). */
static void vm_set(struct crd_set *set, const char *host)
{
	char yaml[512], status[64] = "";

	if (host)
		snprintf(status, sizeof(status), "status: {host: %s}\n", host);
	snprintf(yaml, sizeof(yaml), vm_doc, status);
	st_load(set, yaml);
}

/* The pass's set released through directory mode's sink, as `drover run` does. */
static void release(const char *dir, struct crd_set *set)
{
	struct state_sink ds = {.dir = dir};
	struct rec_sink sink = state_sink(&ds);
	sink.release(sink.opaque, set);
}

/* web-1's host after loading the state dir into a fresh set. */
static void loaded_host(const char *dir, char *buf, size_t size)
{
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	vm_set(&set, NULL);
	state_load_status(dir, &set, &errs);
	assert_int_equal(errs.n, 0);
	snprintf(buf, size, "%s", set.vms[0].status.host ? set.vms[0].status.host : "-");
	crd_set_free(&set);
	crd_errors_free(&errs);
}

/* Rewrites @path in place with "kvm-a" replaced by @other (as long), keeping the file's
 * identity (inode, size, modification time): a change no stat can see. */
static void rewrite_unseen(const char *path, const char *other)
{
	char text[4096];
	struct stat st;
	FILE *f = fopen(path, "r+");

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	char *at = strstr(text, "kvm-a");
	assert_non_null(at);
	memcpy(at, other, strlen(other));
	rewind(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void record_of(void **state, const char *leaf, char *dir, size_t dsize, char *path,
		      size_t psize)
{
	st_path(state, leaf, dir, dsize);
	snprintf(path, psize, "%s/virtualmachines/default/web-1.json", dir);
}

/* Written, then released: the next load takes the kept status and does not read the
 * file (changed behind its identity's back here, which no real write can do). */
static void test_statecache_a_released_status_is_taken_without_reading(void **state)
{
	char dir[512], path[1024], host[64];
	struct crd_set set = {0};
	size_t before = sc_kept();

	record_of(state, "kept", dir, sizeof(dir), path, sizeof(path));
	vm_set(&set, "kvm-a");
	assert_int_equal(state_write_vm(dir, &set.vms[0]), 0);
	release(dir, &set);
	assert_int_equal(sc_kept(), before + 1);
	assert_null(set.vms[0].status.host);        /* moved, not copied */
	crd_set_free(&set);
	rewrite_unseen(path, "kvm-x");
	loaded_host(dir, host, sizeof(host));
	assert_string_equal(host, "kvm-a");
	assert_int_equal(sc_kept(), before);
}

/* A record whose file changed since (anyone's write: a new identity) is read again. */
static void test_statecache_a_changed_record_is_read_again(void **state)
{
	char dir[512], path[1024], host[64];
	struct crd_set set = {0}, other = {0};
	size_t before = sc_kept();

	record_of(state, "changed", dir, sizeof(dir), path, sizeof(path));
	vm_set(&set, "kvm-a");
	assert_int_equal(state_write_vm(dir, &set.vms[0]), 0);
	release(dir, &set);
	assert_int_equal(sc_kept(), before + 1);
	vm_set(&other, "kvm-b");
	/* Written through another path, as an operator's copy would be: the cache never
	 * hears of it. */
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_int_equal(state_write_json(tmp, crd_vm_to_json(&other.vms[0])), 0);
	assert_int_equal(rename(tmp, path), 0);
	loaded_host(dir, host, sizeof(host));
	assert_string_equal(host, "kvm-b");
	assert_int_equal(sc_kept(), before);         /* the old status went */
	crd_set_free(&set);
	crd_set_free(&other);
}

/* Two objects of one record (a pass's, and a job's of an earlier pass that writes after
 * it): only the last writer's status is kept, whichever set is released first. */
static void test_statecache_only_the_last_writers_status_is_kept(void **state)
{
	char dir[512], path[1024], host[64];
	struct crd_set pass = {0}, job = {0};
	struct crd_errors errs = {0};
	size_t before = sc_kept();

	record_of(state, "writers", dir, sizeof(dir), path, sizeof(path));
	vm_set(&job, "kvm-a");
	assert_int_equal(state_write_vm(dir, &job.vms[0]), 0);
	vm_set(&pass, NULL);
	state_load_status(dir, &pass, &errs);         /* read: the pass's object is last */
	assert_string_equal(pass.vms[0].status.host, "kvm-a");
	free(job.vms[0].status.host);
	job.vms[0].status.host = strdup("kvm-b");
	assert_int_equal(state_write_vm(dir, &job.vms[0]), 0);   /* the job's write is last */
	release(dir, &pass);
	assert_int_equal(sc_kept(), before);
	release(dir, &job);
	assert_int_equal(sc_kept(), before + 1);
	loaded_host(dir, host, sizeof(host));
	assert_string_equal(host, "kvm-b");
	crd_set_free(&pass);
	crd_set_free(&job);
	crd_errors_free(&errs);
}

/* A kept status lasts until the next load: one its set no longer declares goes too. */
static void test_statecache_a_status_not_taken_by_the_next_load_goes(void **state)
{
	char dir[512], path[1024];
	struct crd_set set = {0}, other = {0};
	struct crd_errors errs = {0};
	size_t before = sc_kept();

	record_of(state, "undeclared", dir, sizeof(dir), path, sizeof(path));
	vm_set(&set, "kvm-a");
	assert_int_equal(state_write_vm(dir, &set.vms[0]), 0);
	release(dir, &set);
	assert_int_equal(sc_kept(), before + 1);
	st_load(&other, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
			"metadata: {name: web-2}\nspec: {domain: {memory: 1Gi}}\n");
	state_load_status(dir, &other, &errs);
	assert_int_equal(sc_kept(), before);
	crd_set_free(&set);
	crd_set_free(&other);
	crd_errors_free(&errs);
}

/* A kept status goes with its record: removed by drover, or deleted behind its back (the
 * next load does not find it). */
static void test_statecache_a_kept_status_goes_with_its_record(void **state)
{
	char dir[512], path[1024], host[64];
	struct crd_set set = {0};
	size_t before = sc_kept();

	record_of(state, "gone", dir, sizeof(dir), path, sizeof(path));
	vm_set(&set, "kvm-a");
	assert_int_equal(state_write_vm(dir, &set.vms[0]), 0);
	release(dir, &set);
	assert_int_equal(sc_kept(), before + 1);
	assert_int_equal(unlink(path), 0);
	loaded_host(dir, host, sizeof(host));
	assert_string_equal(host, "-");
	assert_int_equal(sc_kept(), before);
	crd_set_free(&set);

	/* A Migration's record removed by drover. */
	struct crd_set m = {0};
	st_load(&m, "apiVersion: drover.io/v1alpha1\nkind: Migration\n"
		    "metadata: {name: web-1-m1}\nspec: {vmName: web-1}\n"
		    "status: {phase: Succeeded}\n");
	assert_int_equal(state_write_migration(dir, &m.migrations[0]), 0);
	release(dir, &m);
	assert_int_equal(sc_kept(), before + 1);
	assert_int_equal(state_remove_migration(dir, "default", "web-1-m1"), 0);
	assert_int_equal(sc_kept(), before);
	crd_set_free(&m);
}

/* A write that failed leaves nothing to keep: the file may be older than the object. */
static void test_statecache_a_failed_write_keeps_nothing(void **state)
{
	char dir[512], path[1024], tmp[1100];
	struct crd_set set = {0};
	size_t before = sc_kept();

	record_of(state, "failed", dir, sizeof(dir), path, sizeof(path));
	vm_set(&set, "kvm-a");
	assert_int_equal(state_write_vm(dir, &set.vms[0]), 0);
	/* A directory where the write's temporary file would go: it cannot be opened. */
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0755), 0);
	free(set.vms[0].status.host);
	set.vms[0].status.host = strdup("kvm-b");
	assert_int_equal(state_write_vm(dir, &set.vms[0]), -1);
	assert_int_equal(rmdir(tmp), 0);
	release(dir, &set);
	assert_int_equal(sc_kept(), before);
	crd_set_free(&set);
}

/* Kept VMs share their strings: two statuses saying kvm-a hold one pooled copy, and the
 * pool gives it back once both are taken. */
static void test_statecache_kept_vms_share_their_strings(void **state)
{
	char dirs[2][512], path[1024], host[64];
	struct crd_set sets[2] = {{0}};
	size_t before = sp_count();

	for (int i = 0; i < 2; i++) {
		record_of(state, i ? "shared-b" : "shared-a", dirs[i], sizeof(dirs[i]), path,
			  sizeof(path));
		vm_set(&sets[i], "kvm-a");
		assert_int_equal(state_write_vm(dirs[i], &sets[i].vms[0]), 0);
		release(dirs[i], &sets[i]);
	}
	assert_int_equal(sp_count(), before + 1);
	for (int i = 0; i < 2; i++) {
		loaded_host(dirs[i], host, sizeof(host));
		assert_string_equal(host, "kvm-a");
		crd_set_free(&sets[i]);
	}
	assert_int_equal(sp_count(), before);
}

/* The pool itself: one copy per string, counted; freed with its last reference; many
 * strings coming and going (tombstones) stay findable. */
static void test_strpool_counts_one_copy_per_string(void **state)
{
	char name[32], *refs[600];
	size_t before = sp_count();
	(void)state;

	char *a = sp_get("Placed"), *b = sp_get("Placed");
	assert_ptr_equal(a, b);
	assert_true(sp_holds(a));
	char own[] = "Placed";
	assert_false(sp_holds(own));
	assert_int_equal(sp_count(), before + 1);
	sp_put(a);
	assert_true(sp_holds(b));
	sp_put(b);
	assert_int_equal(sp_count(), before);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 600; i++) {
			snprintf(name, sizeof(name), "s-%d-%d", round, i);
			assert_non_null(refs[i] = sp_get(name));
		}
		for (int i = 0; i < 600; i += 2)
			sp_put(refs[i]);
		for (int i = 1; i < 600; i += 2) {
			snprintf(name, sizeof(name), "s-%d-%d", round, i);
			char *again = sp_get(name);
			assert_ptr_equal(again, refs[i]);
			sp_put(again);
			sp_put(refs[i]);
		}
		assert_int_equal(sp_count(), before);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statecache_a_released_status_is_taken_without_reading),
		cmocka_unit_test(test_statecache_a_changed_record_is_read_again),
		cmocka_unit_test(test_statecache_only_the_last_writers_status_is_kept),
		cmocka_unit_test(test_statecache_a_status_not_taken_by_the_next_load_goes),
		cmocka_unit_test(test_statecache_a_kept_status_goes_with_its_record),
		cmocka_unit_test(test_statecache_a_failed_write_keeps_nothing),
		cmocka_unit_test(test_statecache_kept_vms_share_their_strings),
		cmocka_unit_test(test_strpool_counts_one_copy_per_string),
	};
	return cmocka_run_group_tests(tests, st_group_setup, st_group_teardown);
}
