/* Durability of what drover writes: an encoder that runs out of memory returns nothing rather
 * than a record missing fields, a status write that fails leaves the old record whole, and a
 * status write is synced through its directory (the rename too). jansson's allocator is
 * replaced by one that fails its Nth call; fsync is interposed to see what was synced. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "controller/dir/statedir.h"
#include "tests/unit/alloc_test_util.h"
#include "crd/encode.h"
#include "crd/load.h"
#include "tests/unit/crd_test_util.h"
#include "tests/unit/state_test_util.h"

#define OOM_MAX_STEPS 5000   /* more allocations than any one record needs */

/* ---- fsync, interposed: records the inode of every descriptor synced ---- */

#define SYNCED_MAX 64
static struct { dev_t dev; ino_t ino; } synced[SYNCED_MAX];
static size_t n_synced;

int fsync(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && n_synced < SYNCED_MAX) {
		synced[n_synced].dev = st.st_dev;
		synced[n_synced].ino = st.st_ino;
		n_synced++;
	}
	return (int)syscall(SYS_fsync, fd);
}

static bool was_synced(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	for (size_t i = 0; i < n_synced; i++)
		if (synced[i].dev == st.st_dev && synced[i].ino == st.st_ino)
			return true;
	return false;
}

/* ---- fixtures ---- */

static void load_all_fields(struct crd_set *set)
{
	struct crd_errors errs = {0};
	size_t len = 0;
	char *text = test_read_file("tests/data/good/all-fields.yaml", &len);

	assert_non_null(text);
	assert_int_equal(crd_load_buffer("all-fields.yaml", text, len, set, &errs), 0);
	crd_errors_free(&errs);
	free(text);
	assert_true(set->n_hosts > 0 && set->n_vms > 0 && set->n_migrations > 0);
}

typedef json_t *(*encoder_fn)(const void *obj);

static json_t *enc_host(const void *o) { return crd_host_to_json(o); }
static json_t *enc_vm(const void *o) { return crd_vm_to_json(o); }
static json_t *enc_migration(const void *o) { return crd_migration_to_json(o); }
static json_t *enc_vm_status(const void *o)
{
	return crd_vm_status_to_json(&((const struct crd_vm *)o)->status);
}
static json_t *enc_host_status(const void *o)
{
	return crd_host_status_to_json(&((const struct crd_host *)o)->status);
}
static json_t *enc_migration_status(const void *o)
{
	return crd_migration_status_to_json(&((const struct crd_migration *)o)->status);
}

/* Fails the Nth allocation for every N until the encoder needs no more: each run gives either
 * nothing or the whole record, never a part of it. */
static void check_all_or_nothing(encoder_fn enc, const void *obj)
{
	json_t *full = enc(obj), *got = NULL;
	long n, failures = 0;

	assert_non_null(full);
	for (n = 0; n < OOM_MAX_STEPS; n++) {
		fail_call(n);
		got = enc(obj);
		alloc_normal();
		if (got && alloc_failed == 0)
			break;   /* the encoder never reached a failing allocation: done */
		if (got) {
			/* A failure it recovered from must not show in the record. */
			assert_true(json_equal(got, full));
			json_decref(got);
			got = NULL;
		}
		failures++;
	}
	assert_true(n < OOM_MAX_STEPS);
	assert_true(failures > 3);
	assert_true(json_equal(got, full));
	json_decref(got);
	json_decref(full);
}

static void test_encoders_give_the_whole_record_or_nothing(void **state)
{
	struct crd_set set = {0};

	(void)state;
	load_all_fields(&set);
	check_all_or_nothing(enc_host, &set.hosts[0]);
	check_all_or_nothing(enc_vm, &set.vms[0]);
	check_all_or_nothing(enc_migration, &set.migrations[0]);
	check_all_or_nothing(enc_host_status, &set.hosts[0]);
	check_all_or_nothing(enc_vm_status, &set.vms[0]);
	check_all_or_nothing(enc_migration_status, &set.migrations[0]);
	crd_set_free(&set);
}

/* The record on disk after a failed write is the one before it, whole. */
static void test_state_write_out_of_memory_leaves_the_old_record(void **state)
{
	const char *dir = *state;
	struct crd_set set = {0};
	char path[4096];
	json_t *before, *after;
	long n;

	load_all_fields(&set);
	struct crd_vm *vm = &set.vms[0];
	snprintf(path, sizeof(path), "%s/oom/virtualmachines/%s/%s.json", dir, vm->meta.namespace,
		 vm->meta.name);
	char *state_dir = strndup(path, strlen(dir) + 4);
	assert_int_equal(state_write_vm(state_dir, vm), 0);
	before = json_load_file(path, 0, NULL);
	assert_non_null(before);
	/* What the next write would change: the status host. */
	free(vm->status.host);
	vm->status.host = strdup("kvm-other");
	for (n = 0; n < OOM_MAX_STEPS; n++) {
		fail_call(n);
		int rc = state_write_vm(state_dir, vm);
		long failed = alloc_failed;
		alloc_normal();
		/* Parsed back whole: jansson's own json_dumps once wrote a key without its
		 * closing quote here (see crd_json_dumps). */
		after = json_load_file(path, 0, NULL);
		assert_non_null(after);
		if (rc == 0 && failed == 0)
			break;
		assert_int_equal(rc, -1);
		assert_true(json_equal(after, before));
		json_decref(after);
	}
	assert_true(n > 3 && n < OOM_MAX_STEPS);
	assert_string_equal(json_string_value(json_object_get(json_object_get(after, "status"), "host")),
			    "kvm-other");
	json_decref(after);
	json_decref(before);
	free(state_dir);
	crd_set_free(&set);
}

/* A status text that is not UTF-8 (libvirt quoting a path) is written with '?': the record
 * is written, whole, rather than refused for good. */
static void test_encoder_writes_non_utf8_text_as_ascii(void **state)
{
	struct crd_set set = {0};
	json_t *rec;

	(void)state;
	load_all_fields(&set);
	free(set.migrations[0].status.failure_reason);
	set.migrations[0].status.failure_reason = strdup("cannot open /var/\xff\xfe.img");
	rec = crd_migration_to_json(&set.migrations[0]);
	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "status"),
							      "failureReason")),
			    "cannot open /var/??.img");
	json_decref(rec);
	crd_set_free(&set);
}

/* The file, its directory (the rename) and every directory made for it are synced. */
static void test_state_write_syncs_the_file_and_its_directories(void **state)
{
	const char *dir = *state;
	char path[4096], sub[4096], kind[4096];

	snprintf(sub, sizeof(sub), "%s/sync", dir);
	snprintf(kind, sizeof(kind), "%s/sync/kind", dir);
	snprintf(path, sizeof(path), "%s/sync/kind/rec.json", dir);
	n_synced = 0;
	assert_int_equal(state_write_json(path, json_pack("{s:i}", "a", 1)), 0);
	assert_true(was_synced(path));
	assert_true(was_synced(kind));   /* the rename into it */
	assert_true(was_synced(sub));    /* the new "kind" directory's entry */
	assert_true(was_synced(dir));    /* the new "sync" directory's entry */
	/* A rewrite syncs the directory again: the rename replaced the entry. */
	n_synced = 0;
	assert_int_equal(state_write_json(path, json_pack("{s:i}", "a", 2)), 0);
	assert_true(was_synced(path));
	assert_true(was_synced(kind));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoders_give_the_whole_record_or_nothing),
		cmocka_unit_test(test_state_write_out_of_memory_leaves_the_old_record),
		cmocka_unit_test(test_encoder_writes_non_utf8_text_as_ascii),
		cmocka_unit_test(test_state_write_syncs_the_file_and_its_directories),
	};
	return cmocka_run_group_tests(tests, st_group_setup, st_group_teardown);
}
