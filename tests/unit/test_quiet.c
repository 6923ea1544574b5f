/* quiet: the rules that let a pass of `drover run --dir` only observe. After a full pass
 * that planned nothing new (a quiet key), wrote no VM or Migration record, failed no write
 * and was clean, the next passes may be quiet while the manifests' and overrides' stamps
 * hold, nothing told of a change and the full pass is recent; each of those, broken alone,
 * brings a full pass. The full pass's Hosts are kept for the quiet passes to write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "controller/dir/quiet.h"
#include "tests/unit/state_test_util.h"

static const char fixture[] =
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Host\n"
	"metadata: {name: kvm-a}\n"
	"spec: {uri: 'qemu+tcp://10.0.0.11/system'}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: web-1, namespace: shop}\n"
	"spec: {host: kvm-a, domain: {memory: 1Gi, vcpus: 2}}\n";

/* One test's directories: manifests, overrides, state, with a manifest in the first. */
struct dirs {
	char manifests[1024], overrides[1024], state[1024];
};

static void make_dirs(void **state, const char *name, struct dirs *d)
{
	char base[900], file[1100];

	st_path(state, name, base, sizeof(base));
	snprintf(d->manifests, sizeof(d->manifests), "%s/m", base);
	snprintf(d->overrides, sizeof(d->overrides), "%s/o", base);
	snprintf(d->state, sizeof(d->state), "%s/s", base);
	assert_int_equal(mkdir(base, 0755), 0);
	assert_int_equal(mkdir(d->manifests, 0755), 0);
	assert_int_equal(mkdir(d->overrides, 0755), 0);
	assert_int_equal(mkdir(d->state, 0755), 0);
	snprintf(file, sizeof(file), "%s/all.yaml", d->manifests);
	st_write_file(file, fixture);
}

/* A full pass over @d that leaves quiet key @key, as cli_run runs one; @during runs
 * between its start and its end (what the pass itself did). Returns whether the next pass
 * may be quiet. */
static bool after_full_pass(struct quiet *q, const struct dirs *d, uint64_t key, bool clean,
			    bool kept, void (*during)(const struct dirs *, struct state_sink *,
						      struct crd_set *))
{
	struct rec r;
	struct state_sink ds = {.dir = d->state};
	struct crd_set set = {0};
	struct rec_result res = {.quiet_key = key};

	memset(&r, 0, sizeof(r));   /* no sink: a set let go is only freed */
	quiet_begin(q, &r, d->manifests, d->overrides, &ds);
	st_load(&set, fixture);
	if (during)
		during(d, &ds, &set);
	quiet_end(q, &r, &set, kept, clean, &res, set.n_vms, &ds);
	if (!kept)
		crd_set_free(&set);   /* taken by rec_pass_keep, in the real pass */
	assert_int_equal(set.n_hosts, 0);
	return quiet_allowed(q, d->manifests, d->overrides, false);
}

static void test_a_pass_that_changed_nothing_lets_the_next_be_quiet(void **state)
{
	struct dirs d;
	struct quiet q = {0};

	make_dirs(state, "calm", &d);
	assert_true(after_full_pass(&q, &d, 42, true, true, NULL));
	assert_true(q.valid);
	assert_int_equal(q.key, 42);
	assert_int_equal(q.vms, 1);
	assert_int_equal(q.hosts.n_hosts, 1);       /* its Hosts, for the quiet passes */
	assert_string_equal(q.hosts.hosts[0].meta.name, "kvm-a");
	/* A wake by inotify, or a full pass older than the bound: a full pass. */
	assert_false(quiet_allowed(&q, d.manifests, d.overrides, true));
	q.since -= QUIET_MAX_S;
	assert_false(quiet_allowed(&q, d.manifests, d.overrides, false));
	quiet_free(&q);
}

static void test_a_changed_file_brings_a_full_pass(void **state)
{
	struct dirs d;
	struct quiet q = {0};
	char file[1100];

	make_dirs(state, "files", &d);
	assert_true(after_full_pass(&q, &d, 42, true, true, NULL));
	/* A manifest added (written where inotify would not tell, say over NFS). */
	snprintf(file, sizeof(file), "%s/more.yaml", d.manifests);
	st_write_file(file, "# nothing yet\n");
	assert_false(quiet_allowed(&q, d.manifests, d.overrides, false));
	/* A full pass over the new files allows quiet passes again; then an override. */
	assert_true(after_full_pass(&q, &d, 42, true, true, NULL));
	snprintf(file, sizeof(file), "%s/drain.json", d.overrides);
	st_write_file(file, "{}\n");
	assert_false(quiet_allowed(&q, d.manifests, d.overrides, false));
	/* Overrides that cannot be stamped (no such directory) match nothing. */
	assert_true(after_full_pass(&q, &d, 42, true, true, NULL));
	assert_false(quiet_allowed(&q, d.manifests, "", false));
	quiet_free(&q);
}

static void write_vm_record(const struct dirs *d, struct state_sink *ds, struct crd_set *set)
{
	(void)ds;
	assert_int_equal(state_write_vm(d->state, &set->vms[0]), 0);
}

static void fail_a_write(const struct dirs *d, struct state_sink *ds, struct crd_set *set)
{
	(void)d;
	(void)set;
	ds->failures++;
}

static void test_a_pass_that_changed_something_brings_a_full_pass(void **state)
{
	struct dirs d;
	struct quiet q = {0};

	make_dirs(state, "busy", &d);
	/* Its plan was not converged, or something else of its own said no. */
	assert_false(after_full_pass(&q, &d, 0, true, true, NULL));
	/* It wrote a VM's record: the next load differs from the set it planned on. */
	assert_false(after_full_pass(&q, &d, 42, true, true, write_vm_record));
	/* The same record again: the file holds it, nothing is written, nothing differs. */
	assert_true(after_full_pass(&q, &d, 42, true, true, write_vm_record));
	/* A write failed; it removed a record or acted on the last valid set (not clean);
	 * it did not hand its set back. */
	assert_false(after_full_pass(&q, &d, 42, true, true, fail_a_write));
	assert_false(after_full_pass(&q, &d, 42, false, true, NULL));
	assert_false(after_full_pass(&q, &d, 42, true, false, NULL));
	assert_false(q.valid);
	assert_int_equal(q.hosts.n_hosts, 0);
	quiet_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_pass_that_changed_nothing_lets_the_next_be_quiet),
		cmocka_unit_test(test_a_changed_file_brings_a_full_pass),
		cmocka_unit_test(test_a_pass_that_changed_something_brings_a_full_pass),
	};
	return cmocka_run_group_tests(tests, st_group_setup, st_group_teardown);
}
