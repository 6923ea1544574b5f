/* The state dir keeps every status field across a write and a read, writes atomically, and
 * a bad record costs only that record. */
#include <dirent.h>
#include <errno.h>
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
#include "crd/load.h"
#include "tests/unit/crd_test_util.h"
#include "tests/unit/state_test_util.h"

static const char fixture[] =
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Host\n"
	"metadata: {name: kvm-a}\n"
	"spec: {uri: 'qemu+tcp://10.0.0.11/system', unschedulable: true, fenced: true}\n"
	"status:\n"
	"  observedGeneration: 2\n"
	"  conditions:\n"
	"  - {type: Reachable, status: 'True', reason: Connected, lastTransitionTime: '2026-11-23T18:00:00Z'}\n"
	"  - {type: Ready, status: 'False', reason: Cordoned, message: 'host is cordoned',\n"
	"     lastTransitionTime: '2026-11-23T18:01:02Z', observedGeneration: 2}\n"
	"  hypervisor: {type: QEMU, version: 7.2.0, libvirtVersion: 9.0.0, arch: x86_64, cpuModel: EPYC}\n"
	"  memory: {total: 64Gi, free: 40Gi}\n"
	"  vms: 12\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: web-1, namespace: shop}\n"
	"spec: {host: kvm-b, domain: {memory: 1Gi, vcpus: 2}}\n"
	"status:\n"
	"  observedGeneration: 3\n"
	"  host: kvm-a\n"
	"  phase: Migrating\n"
	"  conditions:\n"
	"  - {type: Placed, status: 'False', reason: Moving, message: 'moving to kvm-b',\n"
	"     lastTransitionTime: '2026-11-23T18:13:51Z', observedGeneration: 3}\n"
	"  - {type: Migrating, status: 'True', reason: MigrationRunning, lastTransitionTime: '2026-11-23T18:13:51Z'}\n"
	"  migration: {name: web-1-20261123-181351, phase: Running, percent: 42}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Migration\n"
	"metadata: {name: web-1-20261123-181351, namespace: shop}\n"
	"spec: {vmName: web-1, targetHost: kvm-b, mode: Live}\n"
	"status:\n"
	"  observedGeneration: 1\n"
	"  phase: Failed\n"
	"  sourceHost: kvm-a\n"
	"  targetHost: kvm-b\n"
	"  mode: PostCopy\n"
	"  startTime: '2026-11-23T18:13:51Z'\n"
	"  endTime: '2026-11-23T18:15:00Z'\n"
	"  progress: {dataTotalBytes: 1073741824, dataProcessedBytes: 450971566, dataRemainingBytes: 622770258,\n"
	"             memoryDirtyRateBytesPerSecond: 5242880, transferRateBytesPerSecond: 104857600,\n"
	"             iteration: 3, percent: 42}\n"
	"  downtimeMs: 35\n"
	"  failureReason: 'PreCheckFailed: kvm-b has 512Mi free, web-1 needs 1Gi'\n"
	"  conditions:\n"
	"  - {type: Complete, status: 'True', reason: Failed, message: 'kvm-b has 512Mi free',\n"
	"     lastTransitionTime: '2026-11-23T18:15:00Z'}\n";

/* Per-test state: the fixture, what was read back, and the test's own state dir. */
struct sd {
	struct crd_set in, back;
	struct crd_errors errs;
	char dir[512];
};

static struct sd *sd_new(void **state, const char *leaf)
{
	struct sd *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	st_path(state, leaf, s->dir, sizeof(s->dir));
	st_load(&s->in, fixture);
	return s;
}

static void sd_free(struct sd *s)
{
	crd_set_free(&s->in);
	crd_set_free(&s->back);
	crd_errors_free(&s->errs);
	free(s);
}

/* Writes every fixture object into the state dir and reads the whole dir back. */
static void sd_round_trip(struct sd *s)
{
	for (size_t i = 0; i < s->in.n_hosts; i++)
		assert_int_equal(state_write_host(s->dir, &s->in.hosts[i]), 0);
	for (size_t i = 0; i < s->in.n_vms; i++)
		assert_int_equal(state_write_vm(s->dir, &s->in.vms[i]), 0);
	for (size_t i = 0; i < s->in.n_migrations; i++)
		assert_int_equal(state_write_migration(s->dir, &s->in.migrations[i]), 0);
	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->errs.n, 0);
}

static void assert_same_string(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_same_conditions(const struct crd_conditions *a, const struct crd_conditions *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->items[i].type, b->items[i].type);
		assert_int_equal(a->items[i].status, b->items[i].status);
		assert_same_string(a->items[i].reason, b->items[i].reason);
		assert_same_string(a->items[i].message, b->items[i].message);
		assert_string_equal(a->items[i].last_transition_time, b->items[i].last_transition_time);
		assert_int_equal(a->items[i].observed_generation, b->items[i].observed_generation);
	}
}

/* Names of the entries of @dir other than "." and "..", joined by spaces in sorted order. */
static void list_dir(const char *dir, char *buf, size_t size)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	size_t len = 0;

	assert_true(n >= 0);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "",
						names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

static void test_statedir_round_trips_vm_status(void **state)
{
	struct sd *s = sd_new(state, "vm");
	sd_round_trip(s);

	const struct crd_vm *a = crd_set_vm(&s->in, "shop", "web-1");
	const struct crd_vm *b = crd_set_vm(&s->back, "shop", "web-1");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(b->status.host, "kvm-a");
	assert_int_equal(b->status.phase, CRD_VM_MIGRATING);
	assert_int_equal(b->status.observed_generation, 3);
	assert_string_equal(b->status.migration.name, "web-1-20261123-181351");
	assert_int_equal(b->status.migration.phase, CRD_MIG_RUNNING);
	assert_int_equal(b->status.migration.percent, 42);
	assert_string_equal(b->status.conditions.items[0].last_transition_time, "2026-11-23T18:13:51Z");
	assert_same_conditions(&a->status.conditions, &b->status.conditions);
	assert_string_equal(b->spec.host, "kvm-b");
	assert_int_equal(b->spec.domain.memory, 1ull << 30);
	sd_free(s);
}

static void test_statedir_round_trips_host_status(void **state)
{
	struct sd *s = sd_new(state, "host");
	sd_round_trip(s);

	const struct crd_host *a = crd_set_host(&s->in, "default", "kvm-a");
	const struct crd_host *b = crd_set_host(&s->back, "default", "kvm-a");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(b->status.observed_generation, 2);
	assert_same_conditions(&a->status.conditions, &b->status.conditions);
	assert_string_equal(b->status.hypervisor.type, "QEMU");
	assert_string_equal(b->status.hypervisor.version, "7.2.0");
	assert_string_equal(b->status.hypervisor.libvirt_version, "9.0.0");
	assert_string_equal(b->status.hypervisor.arch, "x86_64");
	assert_string_equal(b->status.hypervisor.cpu_model, "EPYC");
	assert_int_equal(b->status.memory_total, 64ull << 30);
	assert_int_equal(b->status.memory_free, 40ull << 30);
	assert_int_equal(b->status.vms, 12);
	assert_true(b->spec.unschedulable && b->spec.fenced && !b->spec.drain);
	sd_free(s);
}

static void test_statedir_round_trips_migration_progress_downtime_and_failure(void **state)
{
	struct sd *s = sd_new(state, "migration");
	sd_round_trip(s);

	const struct crd_migration *a = crd_set_migration(&s->in, "shop", "web-1-20261123-181351");
	const struct crd_migration *b = crd_set_migration(&s->back, "shop", "web-1-20261123-181351");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(b->status.phase, CRD_MIG_FAILED);
	assert_string_equal(b->status.source_host, "kvm-a");
	assert_string_equal(b->status.target_host, "kvm-b");
	assert_int_equal(b->status.mode, CRD_RUN_POSTCOPY);
	assert_string_equal(b->status.start_time, "2026-11-23T18:13:51Z");
	assert_string_equal(b->status.end_time, "2026-11-23T18:15:00Z");
	assert_int_equal(b->status.progress.data_total_bytes, 1073741824);
	assert_int_equal(b->status.progress.data_processed_bytes, 450971566);
	assert_int_equal(b->status.progress.data_remaining_bytes, 622770258);
	assert_int_equal(b->status.progress.memory_dirty_rate_bps, 5242880);
	assert_int_equal(b->status.progress.transfer_rate_bps, 104857600);
	assert_int_equal(b->status.progress.iteration, 3);
	assert_int_equal(b->status.progress.percent, 42);
	assert_int_equal(b->status.downtime_ms, 35);
	assert_string_equal(b->status.failure_reason,
			    "PreCheckFailed: kvm-b has 512Mi free, web-1 needs 1Gi");
	assert_int_equal(b->status.observed_generation, 1);
	assert_same_conditions(&a->status.conditions, &b->status.conditions);
	assert_int_equal(b->spec.mode, CRD_MODE_LIVE);
	sd_free(s);
}

static void test_statedir_rewrite_replaces_record_and_leaves_no_temp_files(void **state)
{
	struct sd *s = sd_new(state, "atomic");
	struct crd_vm *vm = &s->in.vms[0];
	char path[1024], names[256];

	vm->status.phase = CRD_VM_PENDING;
	assert_int_equal(state_write_vm(s->dir, vm), 0);
	vm->status.phase = CRD_VM_RUNNING;
	vm->status.migration.percent = 100;
	assert_int_equal(state_write_vm(s->dir, vm), 0);

	snprintf(path, sizeof(path), "%s/virtualmachines/shop", s->dir);
	list_dir(path, names, sizeof(names));
	assert_string_equal(names, "web-1.json");
	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->back.n_vms, 1);
	assert_int_equal(s->back.vms[0].status.phase, CRD_VM_RUNNING);
	assert_int_equal(s->back.vms[0].status.migration.percent, 100);
	sd_free(s);
}

static void test_statedir_unchanged_record_is_not_rewritten(void **state)
{
	struct sd *s = sd_new(state, "unchanged");
	struct crd_vm *vm = &s->in.vms[0];
	char path[1024];
	struct stat first, again, changed;

	snprintf(path, sizeof(path), "%s/virtualmachines/shop/web-1.json", s->dir);
	vm->status.phase = CRD_VM_RUNNING;
	assert_int_equal(state_write_vm(s->dir, vm), 0);
	assert_int_equal(stat(path, &first), 0);
	/* The same status again: the file (its inode: a write renames a new one in) stays. */
	assert_int_equal(state_write_vm(s->dir, vm), 0);
	assert_int_equal(stat(path, &again), 0);
	assert_int_equal(again.st_ino, first.st_ino);
	vm->status.phase = CRD_VM_STOPPED;
	assert_int_equal(state_write_vm(s->dir, vm), 0);
	assert_int_equal(stat(path, &changed), 0);
	assert_int_not_equal(changed.st_ino, first.st_ino);
	sd_free(s);
}

/* The file replaced by someone else (a new identity): the same status is written again,
 * though this process wrote it before and knows the value unchanged. */
static void test_statedir_record_replaced_behind_its_back_is_written_again(void **state)
{
	struct sd *s = sd_new(state, "replaced");
	struct crd_vm *vm = &s->in.vms[0];
	char path[1024], other[1100];
	size_t len;

	snprintf(path, sizeof(path), "%s/virtualmachines/shop/web-1.json", s->dir);
	snprintf(other, sizeof(other), "%s.other", path);
	vm->status.phase = CRD_VM_RUNNING;
	assert_int_equal(state_write_vm(s->dir, vm), 0);
	st_write_file(other, "{}\n");
	assert_int_equal(rename(other, path), 0);
	assert_int_equal(state_write_vm(s->dir, vm), 0);
	char *text = test_read_file(path, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"phase\": \"Running\""));
	free(text);
	sd_free(s);
}

static void test_statedir_failed_rename_leaves_no_temp_file(void **state)
{
	struct sd *s = sd_new(state, "failed-rename");
	char nsdir[1024], record[1100], inside[1200], names[256];

	/* A non-empty directory where the record goes: the temp file is written, the rename fails. */
	assert_int_equal(state_write_migration(s->dir, &s->in.migrations[0]), 0);
	snprintf(nsdir, sizeof(nsdir), "%s/migrations/shop", s->dir);
	snprintf(record, sizeof(record), "%s/web-1-20261123-181351.json", nsdir);
	snprintf(inside, sizeof(inside), "%s/x", record);
	assert_int_equal(unlink(record), 0);
	assert_int_equal(mkdir(record, 0755), 0);
	st_write_file(inside, "in the way");

	errno = 0;
	assert_int_equal(state_write_migration(s->dir, &s->in.migrations[0]), -1);
	assert_int_not_equal(errno, 0);
	list_dir(nsdir, names, sizeof(names));
	assert_string_equal(names, "web-1-20261123-181351.json");
	sd_free(s);
}

static void test_statedir_write_into_a_file_fails_with_errno(void **state)
{
	struct sd *s = sd_new(state, "not-a-dir");

	st_write_file(s->dir, "a file, not a directory");
	errno = 0;
	assert_int_equal(state_write_host(s->dir, &s->in.hosts[0]), -1);
	assert_int_equal(errno, ENOTDIR);
	sd_free(s);
}

/* apply and run hold the state dir's lock: a second one is refused until it is released. */
static void test_statedir_lock_admits_one_holder(void **state)
{
	struct sd *s = sd_new(state, "lock/nested");
	char why[512] = "";

	int first = state_lock(s->dir, why, sizeof(why));
	assert_true(first >= 0);   /* the missing directories were made */
	assert_int_equal(state_lock(s->dir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "another drover"));
	state_unlock(first);
	int again = state_lock(s->dir, why, sizeof(why));
	assert_true(again >= 0);
	state_unlock(again);
	sd_free(s);
}

static void test_statedir_corrupt_record_is_noted_and_skipped(void **state)
{
	struct sd *s = sd_new(state, "corrupt");
	char path[1024];

	assert_int_equal(state_write_host(s->dir, &s->in.hosts[0]), 0);
	assert_int_equal(state_write_vm(s->dir, &s->in.vms[0]), 0);
	/* Half a file (what a non-atomic writer leaves), a record that does not decode, and a
	 * temp file left by a crash, which is not a record at all. */
	snprintf(path, sizeof(path), "%s/virtualmachines/shop/broken.json", s->dir);
	st_write_file(path, "{\"apiVersion\": \"drover.io/v1alpha1\", \"kind\": \"Virt");
	snprintf(path, sizeof(path), "%s/hosts/default/nouri.json", s->dir);
	st_write_file(path, "{\"apiVersion\": \"drover.io/v1alpha1\", \"kind\": \"Host\", "
			    "\"metadata\": {\"name\": \"nouri\"}, \"spec\": {}}");
	snprintf(path, sizeof(path), "%s/virtualmachines/shop/web-1.json.tmp4242", s->dir);
	st_write_file(path, "{");

	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->back.n_hosts, 1);
	assert_int_equal(s->back.n_vms, 1);
	assert_string_equal(s->back.vms[0].status.host, "kvm-a");
	assert_int_equal(s->errs.n_errors, 0);
	assert_int_equal(s->errs.n, 2);
	for (size_t i = 0; i < s->errs.n; i++) {
		assert_int_equal(s->errs.items[i].severity, CRD_SEV_NOTE);
		assert_true(strstr(s->errs.items[i].file, "broken.json") ||
			    strstr(s->errs.items[i].file, "nouri.json"));
	}
	sd_free(s);
}

/* A record is one object: larger than the decoder's document cap, it is not parsed; a
 * broken one is noted with where its JSON breaks. */
static void test_statedir_oversize_record_is_noted_and_skipped(void **state)
{
	struct sd *s = sd_new(state, "oversize");
	char path[1024];
	size_t len = CRD_DOC_MAX_BYTES + 2;
	char *big = malloc(len + 1);

	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	big[len] = '\0';
	assert_int_equal(state_write_vm(s->dir, &s->in.vms[0]), 0);
	snprintf(path, sizeof(path), "%s/virtualmachines/shop/big.json", s->dir);
	st_write_file(path, big);
	snprintf(path, sizeof(path), "%s/virtualmachines/shop/broken.json", s->dir);
	st_write_file(path, "{\n\"kind\": ");
	free(big);

	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->back.n_vms, 1);
	assert_int_equal(s->errs.n, 2);
	for (size_t i = 0; i < s->errs.n; i++) {
		const struct crd_error *e = &s->errs.items[i];
		if (strstr(e->file, "big.json")) {
			assert_non_null(strstr(e->message, "larger than"));
		} else {
			assert_non_null(strstr(e->file, "broken.json"));
			assert_non_null(strstr(e->message, "unreadable status record ignored"));
			assert_int_equal(e->line, 2);
		}
	}
	sd_free(s);
}

static void test_statedir_missing_dir_reads_as_empty(void **state)
{
	struct sd *s = sd_new(state, "never-written");

	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->back.n_hosts + s->back.n_vms + s->back.n_migrations, 0);
	assert_int_equal(s->errs.n, 0);
	sd_free(s);
}

static void test_statedir_unreadable_dir_is_an_error_naming_it(void **state)
{
	struct sd *s = sd_new(state, "plain-file");

	st_write_file(s->dir, "not a state dir");
	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), -1);
	assert_int_equal(s->errs.n_errors, 1);
	assert_string_equal(s->errs.items[0].file, s->dir);
	sd_free(s);
}

static void test_statedir_load_status_fills_only_recorded_objects(void **state)
{
	struct sd *s = sd_new(state, "load-status");
	struct crd_set desired = {0};

	assert_int_equal(state_write_vm(s->dir, &s->in.vms[0]), 0);
	st_load(&desired, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
			  "metadata: {name: web-1, namespace: shop}\nspec: {domain: {memory: 1Gi}}\n"
			  "---\napiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
			  "metadata: {name: web-2, namespace: shop}\nspec: {domain: {memory: 1Gi}}\n");
	state_load_status(s->dir, &desired, &s->errs);
	assert_int_equal(s->errs.n, 0);
	const struct crd_vm *one = crd_set_vm(&desired, "shop", "web-1");
	const struct crd_vm *two = crd_set_vm(&desired, "shop", "web-2");
	assert_string_equal(one->status.host, "kvm-a");
	assert_int_equal(one->status.migration.percent, 42);
	assert_null(one->spec.host);            /* the spec stays what the manifest says */
	assert_null(two->status.host);
	assert_int_equal(two->status.phase, CRD_VM_PHASE_NONE);
	crd_set_free(&desired);
	sd_free(s);
}

/* Each record goes to the object of its own kind, namespace and name: a VM of the same
 * name in another namespace, a Host of the VM's name, or a record whose object is gone
 * take nothing from it. */
static void test_statedir_load_status_matches_kind_namespace_and_name(void **state)
{
	struct sd *s = sd_new(state, "load-status-ns");
	struct crd_set recs = {0}, desired = {0};
	static const char vm_doc[] = "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
				     "metadata: {name: %s, namespace: %s}\n"
				     "spec: {domain: {memory: 1Gi}}\n%s---\n";
	char yaml[2048];
	int n = 0;

	n += snprintf(yaml + n, sizeof(yaml) - n, vm_doc, "web-1", "default", "status: {host: kvm-z}\n");
	n += snprintf(yaml + n, sizeof(yaml) - n, vm_doc, "ghost", "default", "status: {host: kvm-g}\n");
	assert_true(n > 0 && (size_t)n < sizeof(yaml));
	st_load(&recs, yaml);
	for (size_t i = 0; i < recs.n_vms; i++)
		assert_int_equal(state_write_vm(s->dir, &recs.vms[i]), 0);
	assert_int_equal(state_write_vm(s->dir, &s->in.vms[0]), 0);            /* shop/web-1 */
	assert_int_equal(state_write_host(s->dir, &s->in.hosts[0]), 0);        /* kvm-a */
	assert_int_equal(state_write_migration(s->dir, &s->in.migrations[0]), 0);
	n = 0;
	n += snprintf(yaml + n, sizeof(yaml) - n, vm_doc, "web-1", "default", "");
	n += snprintf(yaml + n, sizeof(yaml) - n, vm_doc, "kvm-a", "default", "");
	n += snprintf(yaml + n, sizeof(yaml) - n, vm_doc, "web-1", "shop", "");
	n += snprintf(yaml + n, sizeof(yaml) - n, "%s",
		      "apiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: kvm-a}\n"
		      "spec: {uri: 'test:///default'}\n---\n"
		      "apiVersion: drover.io/v1alpha1\nkind: Migration\n"
		      "metadata: {name: web-1-20261123-181351, namespace: shop}\n"
		      "spec: {vmName: web-1}\n");
	assert_true(n > 0 && (size_t)n < sizeof(yaml));
	st_load(&desired, yaml);
	state_load_status(s->dir, &desired, &s->errs);
	assert_int_equal(s->errs.n, 0);
	assert_string_equal(crd_set_vm(&desired, "default", "web-1")->status.host, "kvm-z");
	assert_string_equal(crd_set_vm(&desired, "shop", "web-1")->status.host, "kvm-a");
	assert_null(crd_set_vm(&desired, "default", "kvm-a")->status.host);
	assert_int_equal(crd_set_host(&desired, NULL, "kvm-a")->status.vms, 12);
	assert_int_equal(crd_set_migration(&desired, "shop", "web-1-20261123-181351")->status.phase,
			 CRD_MIG_FAILED);
	crd_set_free(&recs);
	crd_set_free(&desired);
	sd_free(s);
}

static void test_statedir_remove_migration_deletes_its_record(void **state)
{
	struct sd *s = sd_new(state, "remove");

	sd_round_trip(s);
	assert_int_equal(state_remove_migration(s->dir, "shop", "web-1-20261123-181351"), 0);
	crd_set_free(&s->back);
	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->back.n_migrations, 0);
	assert_int_equal(s->back.n_vms, 1);
	assert_int_equal(state_remove_migration(s->dir, "shop", "web-1-20261123-181351"), -1);
	sd_free(s);
}

/* An orphan's record keeps its spec and says Orphaned where it runs; once pruned it goes. */
static void test_statedir_marks_and_removes_an_orphans_record(void **state)
{
	struct sd *s = sd_new(state, "orphan");
	struct plan_orphan o = {.host = "kvm-c", .name = "web-1", .owner_namespace = "shop",
				.owner_name = "web-1"};
	struct plan_orphan none = {.host = "kvm-c", .name = "x", .owner_namespace = "shop",
				   .owner_name = "never-recorded"};

	sd_round_trip(s);
	assert_int_equal(state_mark_orphan(s->dir, &o, false), 0);
	assert_int_equal(state_mark_orphan(s->dir, &none, false), 0);   /* no record: none made */
	crd_set_free(&s->back);
	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->back.n_vms, 1);
	assert_int_equal(s->back.vms[0].status.phase, CRD_VM_ORPHANED);
	assert_string_equal(s->back.vms[0].status.host, "kvm-c");
	assert_int_equal(s->back.vms[0].spec.domain.vcpus, 2);
	assert_int_equal(state_mark_orphan(s->dir, &o, true), 0);
	crd_set_free(&s->back);
	assert_int_equal(state_read_all(s->dir, &s->back, &s->errs), 0);
	assert_int_equal(s->back.n_vms, 0);
	sd_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statedir_round_trips_vm_status),
		cmocka_unit_test(test_statedir_round_trips_host_status),
		cmocka_unit_test(test_statedir_round_trips_migration_progress_downtime_and_failure),
		cmocka_unit_test(test_statedir_rewrite_replaces_record_and_leaves_no_temp_files),
		cmocka_unit_test(test_statedir_unchanged_record_is_not_rewritten),
		cmocka_unit_test(test_statedir_record_replaced_behind_its_back_is_written_again),
		cmocka_unit_test(test_statedir_failed_rename_leaves_no_temp_file),
		cmocka_unit_test(test_statedir_write_into_a_file_fails_with_errno),
		cmocka_unit_test(test_statedir_lock_admits_one_holder),
		cmocka_unit_test(test_statedir_corrupt_record_is_noted_and_skipped),
		cmocka_unit_test(test_statedir_missing_dir_reads_as_empty),
		cmocka_unit_test(test_statedir_unreadable_dir_is_an_error_naming_it),
		cmocka_unit_test(test_statedir_load_status_fills_only_recorded_objects),
		cmocka_unit_test(test_statedir_load_status_matches_kind_namespace_and_name),
		cmocka_unit_test(test_statedir_oversize_record_is_noted_and_skipped),
		cmocka_unit_test(test_statedir_remove_migration_deletes_its_record),
		cmocka_unit_test(test_statedir_marks_and_removes_an_orphans_record),
	};
	return cmocka_run_group_tests(tests, st_group_setup, st_group_teardown);
}
