/* Directory-mode drain overrides: `drover drain` writes a record atomically, `undrain`
 * removes it, and applying them drains the named Host only; what cannot apply is a note. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "controller/overrides.h"
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
	};
	return cmocka_run_group_tests_name("overrides", tests, st_group_setup, st_group_teardown);
}
