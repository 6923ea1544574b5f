/* Directory-mode overrides: `drover drain` writes a record atomically, `undrain` removes
 * it, and applying them drains the named Host only; `drover migrate` requests join the
 * manifests when they fit them; what cannot apply is a note, never an error. */
#include <dirent.h>
#include <errno.h>
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

#include <jansson.h>

#include "controller/dir/overrides.h"
#include "controller/dir/statedir.h"
#include "tests/unit/state_test_util.h"

static const char hosts_yaml[] =
	"apiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: kvm-a}\n"
	"spec: {uri: 'test:///default'}\n---\n"
	"apiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: kvm-b}\n"
	"spec: {uri: 'test:///default', drain: true}\n---\n"
	"apiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: kvm-a, namespace: other}\n"
	"spec: {uri: 'test:///default'}\n";

static const struct crd_host *host(const struct crd_set *set, const char *ns, const char *name)
{
	const struct crd_host *h = crd_set_host(set, ns, name);
	assert_non_null(h);
	return h;
}

/* The record of @ns/@name as JSON (the test fails when it is not one). */
static json_t *read_back(const char *dir, const char *ns, const char *name)
{
	char path[OVR_PATH_MAX];
	json_t *obj;

	assert_int_equal(ovr_host_path(dir, ns, name, path, sizeof(path)), 0);
	obj = json_load_file(path, 0, NULL);
	assert_non_null(obj);
	return obj;
}

static size_t entries(const char *folder)
{
	DIR *d = opendir(folder);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_ovr_drain_writes_the_record_atomically(void **state)
{
	char dir[512], folder[600];

	st_path(state, "drain", dir, sizeof(dir));
	assert_int_equal(ovr_drain(dir, "default", "kvm-a"), 1);
	json_t *rec = read_back(dir, "default", "kvm-a");
	assert_true(json_is_true(json_object_get(rec, "drain")));
	assert_int_equal(json_object_size(rec), 1);
	json_decref(rec);
	snprintf(folder, sizeof(folder), "%s/overrides/hosts/default", dir);
	assert_int_equal(entries(folder), 1);            /* no temporary file left behind */
	assert_int_equal(ovr_drain(dir, "default", "kvm-a"), 0);   /* already drained */
}

static void test_ovr_failed_drain_leaves_the_old_record_whole(void **state)
{
	char dir[512], path[OVR_PATH_MAX], tmp[OVR_PATH_MAX + 32];

	st_path(state, "failed", dir, sizeof(dir));
	assert_int_equal(ovr_drain(dir, "default", "kvm-a"), 1);
	assert_int_equal(ovr_host_path(dir, "default", "kvm-a", path, sizeof(path)), 0);
	st_write_file(path, "{\"drain\": false}\n");
	/* The temporary file cannot be made (a directory sits there, even for root). */
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0755), 0);
	assert_int_equal(ovr_drain(dir, "default", "kvm-a"), -1);
	json_t *rec = read_back(dir, "default", "kvm-a");
	assert_true(json_is_false(json_object_get(rec, "drain")));
	json_decref(rec);
	assert_int_equal(rmdir(tmp), 0);
}

static void test_ovr_undrain_removes_the_record_and_a_second_is_not_an_error(void **state)
{
	char dir[512], path[OVR_PATH_MAX];

	st_path(state, "undrain", dir, sizeof(dir));
	assert_int_equal(ovr_undrain(dir, "default", "kvm-a"), 0);   /* never drained */
	assert_int_equal(ovr_drain(dir, "default", "kvm-a"), 1);
	assert_int_equal(ovr_undrain(dir, "default", "kvm-a"), 1);
	assert_int_equal(ovr_host_path(dir, "default", "kvm-a", path, sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(ovr_undrain(dir, "default", "kvm-a"), 0);
}

static void test_ovr_apply_drains_the_named_host_only(void **state)
{
	char dir[512];
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "apply", dir, sizeof(dir));
	st_load(&set, hosts_yaml);
	assert_int_equal(ovr_drain(dir, "default", "kvm-a"), 1);
	assert_int_equal(ovr_apply(dir, &set, &errs), 1);
	assert_int_equal(errs.n, 0);
	assert_true(host(&set, "default", "kvm-a")->spec.drain);
	assert_false(host(&set, "other", "kvm-a")->spec.drain);
	assert_true(host(&set, "default", "kvm-b")->spec.drain);     /* the manifest's own */
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_ovr_apply_keeps_a_manifest_drain_when_the_record_says_false(void **state)
{
	char dir[512], path[OVR_PATH_MAX];
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "or", dir, sizeof(dir));
	st_load(&set, hosts_yaml);
	assert_int_equal(ovr_drain(dir, "default", "kvm-b"), 1);
	assert_int_equal(ovr_host_path(dir, "default", "kvm-b", path, sizeof(path)), 0);
	st_write_file(path, "{\"drain\": false}\n");
	assert_int_equal(ovr_apply(dir, &set, &errs), 1);
	assert_true(host(&set, "default", "kvm-b")->spec.drain);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_ovr_apply_notes_an_undeclared_host_and_a_bad_record(void **state)
{
	char dir[512], path[OVR_PATH_MAX], line[1024];
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "notes", dir, sizeof(dir));
	st_load(&set, hosts_yaml);
	assert_int_equal(ovr_drain(dir, "default", "ghost"), 1);
	assert_int_equal(ovr_drain(dir, "other", "kvm-a"), 1);
	assert_int_equal(ovr_host_path(dir, "other", "kvm-a", path, sizeof(path)), 0);
	st_write_file(path, "{\"drain\": \"yes\"}\n");
	assert_int_equal(ovr_apply(dir, &set, &errs), 0);
	assert_int_equal(errs.n, 2);
	assert_int_equal(errs.n_errors, 0);              /* notes, not errors */
	for (size_t i = 0; i < errs.n; i++) {
		assert_int_equal(errs.items[i].severity, CRD_SEV_NOTE);
		crd_error_format(&errs.items[i], line, sizeof(line));
		assert_true(strstr(line, "Host default/ghost") || strstr(line, "Host other/kvm-a"));
		assert_non_null(strstr(line, "override ignored"));
	}
	assert_false(host(&set, "other", "kvm-a")->spec.drain);
	assert_false(host(&set, "default", "kvm-a")->spec.drain);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_ovr_refuses_names_that_would_leave_the_folder(void **state)
{
	char dir[512];

	st_path(state, "names", dir, sizeof(dir));
	errno = 0;
	assert_int_equal(ovr_drain(dir, "default", "../../etc"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ovr_undrain(dir, "..", "kvm-a"), -1);
	assert_int_equal(access(dir, F_OK), -1);         /* nothing was made */
}

static void test_ovr_apply_without_overrides_changes_nothing(void **state)
{
	char dir[512];
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "none", dir, sizeof(dir));
	st_load(&set, hosts_yaml);
	assert_int_equal(ovr_apply(dir, &set, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_false(host(&set, "default", "kvm-a")->spec.drain);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

/* ---- Migration requests ---- */

static const char cluster_yaml[] =
	"apiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: kvm-a}\n"
	"spec: {uri: 'test:///default'}\n---\n"
	"apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: web-1}\n"
	"spec: {domain: {memory: 64Mi}}\n---\n"
	"apiVersion: drover.io/v1alpha1\nkind: Migration\nmetadata: {name: in-manifest}\n"
	"spec: {vmName: web-1}\n";

/* Writes a request for Migration @name of VM @vm (to @to, NULL: none). */
static int request(const char *dir, const char *name, const char *vm, const char *to)
{
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion",
				"drover.io/v1alpha1", "kind", "Migration", "metadata", "name", name,
				"namespace", "default", "spec", "vmName", vm);
	if (to)
		json_object_set_new(json_object_get(obj, "spec"), "targetHost", json_string(to));
	return ovr_request_migration(dir, "default", name, obj);
}

/* Loads cluster_yaml (as a manifest file in @dir) with the requests of @dir. */
static int load_desired(const char *dir, struct crd_set *set, struct crd_errors *errs)
{
	char manifest[600];
	const char *paths[] = {manifest};

	snprintf(manifest, sizeof(manifest), "%s/cluster.yaml", dir);
	st_write_file(manifest, cluster_yaml);
	return ovr_load_desired(paths, 1, dir, OVR_UNFINISHED, set, errs);
}

static void test_ovr_a_request_joins_the_manifests(void **state)
{
	char dir[512];
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "req", dir, sizeof(dir));
	assert_int_equal(request(dir, "move-1", "web-1", "kvm-a"), 0);
	assert_int_equal(load_desired(dir, &set, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(set.n_migrations, 2);
	const struct crd_migration *m = crd_set_migration(&set, "default", "move-1");
	assert_non_null(m);
	assert_string_equal(m->spec.target_host, "kvm-a");
	crd_set_free(&set);
	crd_errors_free(&errs);
	/* The same name twice is refused: the first request stays as it was. */
	errno = 0;
	assert_int_equal(request(dir, "move-1", "web-1", NULL), -1);
	assert_int_equal(errno, EEXIST);
}

static void test_ovr_a_request_that_does_not_fit_is_a_note_not_an_error(void **state)
{
	char dir[512], line[1024], folder[OVR_PATH_MAX], path[OVR_PATH_MAX + 64];
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "misfit", dir, sizeof(dir));
	assert_int_equal(request(dir, "ghost-vm", "no-such-vm", NULL), 0);
	assert_int_equal(request(dir, "ghost-host", "web-1", "no-such-host"), 0);
	assert_int_equal(request(dir, "in-manifest", "web-1", NULL), 0);
	assert_int_equal(ovr_migrations_dir(dir, folder, sizeof(folder)), 0);
	snprintf(path, sizeof(path), "%s/default/garbled.json", folder);
	st_write_file(path, "{\"kind\": \"Migration\"");
	/* The manifests stay usable: every misfit is ignored with a note naming it. */
	assert_int_equal(load_desired(dir, &set, &errs), 0);
	assert_int_equal(set.n_migrations, 1);
	assert_int_equal(errs.n_errors, 0);
	assert_int_equal(errs.n, 4);
	for (size_t i = 0; i < errs.n; i++) {
		crd_error_format(&errs.items[i], line, sizeof(line));
		assert_non_null(strstr(line, "migration request"));
		assert_non_null(strstr(line, "ignored"));
	}
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_ovr_forget_finished_removes_only_finished_requests(void **state)
{
	char dir[512];
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "forget", dir, sizeof(dir));
	assert_int_equal(request(dir, "done", "web-1", NULL), 0);
	assert_int_equal(request(dir, "running", "web-1", NULL), 0);
	assert_int_equal(load_desired(dir, &set, &errs), 0);
	((struct crd_migration *)crd_set_migration(&set, "default", "done"))->status.phase =
		CRD_MIG_SUCCEEDED;
	((struct crd_migration *)crd_set_migration(&set, "default", "running"))->status.phase =
		CRD_MIG_RUNNING;
	/* The manifest's own finished Migration is not a request: nothing to remove there. */
	((struct crd_migration *)crd_set_migration(&set, "default", "in-manifest"))->status.phase =
		CRD_MIG_FAILED;
	assert_int_equal(ovr_forget_finished(dir, &set), 1);
	crd_set_free(&set);
	crd_errors_free(&errs);
	assert_int_equal(load_desired(dir, &set, &errs), 0);
	assert_null(crd_set_migration(&set, "default", "done"));
	assert_non_null(crd_set_migration(&set, "default", "running"));
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_ovr_unended_records_join_only_when_asked(void **state)
{
	char dir[512], path[700], manifest[600];
	const char *paths[] = {manifest};
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	st_path(state, "unended", dir, sizeof(dir));
	snprintf(manifest, sizeof(manifest), "%s/cluster.yaml", dir);
	snprintf(path, sizeof(path), "%s/migrations/default/cut.json", dir);
	assert_int_equal(state_write_json(path, json_pack(
		"{s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:{s:s}}", "apiVersion", "drover.io/v1alpha1",
		"kind", "Migration", "metadata", "name", "cut", "namespace", "default", "spec",
		"vmName", "web-1", "status", "phase", "Running")), 0);
	st_write_file(manifest, cluster_yaml);
	/* A move cut short by a crash: the planner must settle it... */
	assert_int_equal(ovr_load_desired(paths, 1, dir, OVR_UNFINISHED, &set, &errs), 0);
	const struct crd_migration *cut = crd_set_migration(&set, "default", "cut");
	assert_non_null(cut);
	assert_true(cut->undeclared);   /* no manifest can withdraw it */
	assert_false(crd_set_migration(&set, "default", "in-manifest")->undeclared);
	crd_set_free(&set);
	/* A Pending record never started: nothing declares it, so it must not start now. */
	snprintf(path, sizeof(path), "%s/migrations/default/never.json", dir);
	assert_int_equal(state_write_json(path, json_pack(
		"{s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:{s:s}}", "apiVersion", "drover.io/v1alpha1",
		"kind", "Migration", "metadata", "name", "never", "namespace", "default", "spec",
		"vmName", "web-1", "status", "phase", "Pending")), 0);
	assert_int_equal(ovr_load_desired(paths, 1, dir, OVR_UNFINISHED, &set, &errs), 0);
	assert_null(crd_set_migration(&set, "default", "never"));
	crd_set_free(&set);
	/* ...but it is no declaration: what is declared does not hold it. */
	assert_int_equal(ovr_load_desired(paths, 1, dir, OVR_DECLARED, &set, &errs), 0);
	assert_null(crd_set_migration(&set, "default", "cut"));
	crd_set_free(&set);
	crd_errors_free(&errs);
}

/* ---- fence records (`drover fence`) ---- */

/* Writes kvm-a's status record with status.fencing {off, @result, @time}. */
static void host_fencing_record(const char *dir, const char *result, const char *time)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/hosts/default/kvm-a.json", dir);
	assert_int_equal(state_write_json(path, json_pack(
		"{s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:{s:{s:s, s:s, s:s}}}", "apiVersion",
		"drover.io/v1alpha1", "kind", "Host", "metadata", "name", "kvm-a", "namespace",
		"default", "spec", "uri", "test:///default", "status", "fencing", "lastAction", "off",
		"result", result, "time", time)), 0);
}

static void test_ovr_fence_record_survives_a_status_written_over_it(void **state)
{
	char dir[512];
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	struct crd_fence_status by_hand = {.last_action = "off", .result = "Succeeded",
					   .time = "2026-12-04T20:00:05Z"};

	st_path(state, "fence", dir, sizeof(dir));
	assert_int_equal(ovr_record_fence(dir, "default", "kvm-a", &by_hand), 0);
	/* A controller wrote the Host's status as it loaded it before the fence: older. */
	host_fencing_record(dir, "Released", "2026-12-04T19:00:00Z");
	assert_int_equal(load_desired(dir, &set, &errs), 0);
	struct crd_host *h = (struct crd_host *)crd_set_host(&set, "default", "kvm-a");
	assert_string_equal(h->status.fencing.result, "Succeeded");
	assert_string_equal(h->status.fencing.time, "2026-12-04T20:00:05Z");
	/* Kept while the Hosts' status does not hold it yet, forgotten once it does. */
	free(h->status.fencing.time);
	h->status.fencing.time = strdup("2026-12-04T19:00:00Z");
	assert_int_equal(ovr_forget_fences(dir, &set), 0);
	free(h->status.fencing.time);
	h->status.fencing.time = strdup("2026-12-04T20:00:05Z");
	assert_int_equal(ovr_forget_fences(dir, &set), 1);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

static void test_ovr_older_fence_record_changes_nothing(void **state)
{
	char dir[512];
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	struct crd_fence_status by_hand = {.last_action = "off", .result = "Succeeded",
					   .time = "2026-12-04T20:00:05Z"};

	st_path(state, "fence-old", dir, sizeof(dir));
	assert_int_equal(ovr_record_fence(dir, "default", "kvm-a", &by_hand), 0);
	/* drover's own later fence failed: the host is not known off, whatever came before. */
	host_fencing_record(dir, "Failed", "2026-12-04T21:00:00Z");
	assert_int_equal(load_desired(dir, &set, &errs), 0);
	assert_string_equal(crd_set_host(&set, "default", "kvm-a")->status.fencing.result, "Failed");
	crd_set_free(&set);
	crd_errors_free(&errs);
	/* A record without a time is refused: it could never be ordered. */
	by_hand.time = NULL;
	errno = 0;
	assert_int_equal(ovr_record_fence(dir, "default", "kvm-a", &by_hand), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_ovr_fence_record_of_an_undeclared_host_is_a_note(void **state)
{
	char dir[512], line[1024];
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	struct crd_fence_status by_hand = {.last_action = "off", .result = "Succeeded",
					   .time = "2026-12-04T20:00:05Z"};

	st_path(state, "fence-ghost", dir, sizeof(dir));
	assert_int_equal(ovr_record_fence(dir, "default", "kvm-z", &by_hand), 0);
	assert_int_equal(load_desired(dir, &set, &errs), 0);
	assert_int_equal(errs.n_errors, 0);
	assert_int_equal(errs.n, 1);
	crd_error_format(&errs.items[0], line, sizeof(line));
	assert_non_null(strstr(line, "fence record of Host default/kvm-z"));
	assert_null(crd_set_host(&set, "default", "kvm-a")->status.fencing.result);
	crd_set_free(&set);
	crd_errors_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ovr_drain_writes_the_record_atomically),
		cmocka_unit_test(test_ovr_failed_drain_leaves_the_old_record_whole),
		cmocka_unit_test(test_ovr_undrain_removes_the_record_and_a_second_is_not_an_error),
		cmocka_unit_test(test_ovr_apply_drains_the_named_host_only),
		cmocka_unit_test(test_ovr_apply_keeps_a_manifest_drain_when_the_record_says_false),
		cmocka_unit_test(test_ovr_apply_notes_an_undeclared_host_and_a_bad_record),
		cmocka_unit_test(test_ovr_refuses_names_that_would_leave_the_folder),
		cmocka_unit_test(test_ovr_apply_without_overrides_changes_nothing),
		cmocka_unit_test(test_ovr_a_request_joins_the_manifests),
		cmocka_unit_test(test_ovr_a_request_that_does_not_fit_is_a_note_not_an_error),
		cmocka_unit_test(test_ovr_forget_finished_removes_only_finished_requests),
		cmocka_unit_test(test_ovr_unended_records_join_only_when_asked),
		cmocka_unit_test(test_ovr_fence_record_survives_a_status_written_over_it),
		cmocka_unit_test(test_ovr_older_fence_record_changes_nothing),
		cmocka_unit_test(test_ovr_fence_record_of_an_undeclared_host_is_a_note),
	};
	return cmocka_run_group_tests_name("overrides", tests, st_group_setup, st_group_teardown);
}
