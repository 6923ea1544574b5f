/* Tests of records: which finished Migrations are forgotten — all but the newest few of
 * each VM, among those picked (drover's own records, in Kubernetes mode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/loop/records.h"

static struct crd_migration mig(const char *name, const char *vm, enum crd_mig_phase phase,
				enum crd_mig_reason reason, const char *end)
{
	struct crd_migration m = {0};
	m.meta.name = (char *)name;
	m.meta.namespace = (char *)"default";
	m.spec.vm_name = (char *)vm;
	m.status.phase = phase;
	m.status.reason = reason;
	m.status.end_time = (char *)end;
	return m;
}

static bool own(const struct crd_migration *m, const void *opaque)
{
	(void)opaque;
	return records_own(m);
}

static void test_records_forget_all_but_the_newest_of_each_vm(void **state)
{
	struct crd_migration ms[] = {
		mig("a-1", "a", CRD_MIG_SUCCEEDED, CRD_MIG_DRAIN, "2026-11-23T10:00:01Z"),
		mig("b-1", "b", CRD_MIG_FAILED, CRD_MIG_SPEC_HOST_CHANGED, "2026-11-23T10:00:02Z"),
		mig("a-3", "a", CRD_MIG_SUCCEEDED, CRD_MIG_SPEC_HOST_CHANGED, "2026-11-23T10:00:03Z"),
		mig("a-2", "a", CRD_MIG_CANCELLED, CRD_MIG_DRAIN, "2026-11-23T10:00:02Z"),
		mig("a-run", "a", CRD_MIG_RUNNING, CRD_MIG_DRAIN, NULL),
	};
	struct crd_set set = {.migrations = ms, .n_migrations = 5};
	const struct crd_migration **out;
	(void)state;

	assert_int_equal(records_to_forget(&set, 1, NULL, NULL, &out), 2);
	assert_string_equal(out[0]->meta.name, "a-2");   /* a-3 is kept, b-1 the only of b */
	assert_string_equal(out[1]->meta.name, "a-1");
	free(out);
	assert_int_equal(records_to_forget(&set, 5, NULL, NULL, &out), 0);
	free(out);
}

static void test_records_a_users_migration_is_not_drovers_to_forget(void **state)
{
	struct crd_migration ms[] = {
		mig("u-1", "a", CRD_MIG_SUCCEEDED, CRD_MIG_REQUESTED, "2026-11-23T10:00:01Z"),
		mig("u-2", "a", CRD_MIG_SUCCEEDED, CRD_MIG_REQUESTED, "2026-11-23T10:00:02Z"),
		mig("d-1", "a", CRD_MIG_SUCCEEDED, CRD_MIG_DRAIN, "2026-11-23T10:00:03Z"),
		mig("d-2", "a", CRD_MIG_SUCCEEDED, CRD_MIG_BALANCE, "2026-11-23T10:00:04Z"),
	};
	struct crd_set set = {.migrations = ms, .n_migrations = 4};
	const struct crd_migration **out;
	(void)state;

	assert_int_equal(records_to_forget(&set, 1, own, NULL, &out), 1);
	assert_string_equal(out[0]->meta.name, "d-1");
	free(out);
	assert_false(records_own(&ms[0]));
	assert_true(crd_mig_phase_ended(ms[0].status.phase));
}

/* Ended is Succeeded, Failed or Cancelled; every earlier phase may still change. */
static void test_records_which_phases_have_ended(void **state)
{
	(void)state;
	for (int p = CRD_MIG_PHASE_NONE; p <= CRD_MIG_CANCELLED; p++)
		assert_int_equal(crd_mig_phase_ended((enum crd_mig_phase)p),
				 p == CRD_MIG_SUCCEEDED || p == CRD_MIG_FAILED ||
					 p == CRD_MIG_CANCELLED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_forget_all_but_the_newest_of_each_vm),
		cmocka_unit_test(test_records_a_users_migration_is_not_drovers_to_forget),
		cmocka_unit_test(test_records_which_phases_have_ended),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
