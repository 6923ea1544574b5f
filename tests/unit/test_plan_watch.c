/* The planner and a live migration found in flight: drover takes over the one an earlier
 * drover left running (its Migration still Running between the hosts observed), waits for
 * anyone else's, and counts both against the concurrency limits. */
#include "tests/unit/plan_fixtures.h"

#define REC "web-1-20261123-100000"

/* lab-a, lab-b and lab-c; web-1 (1Gi, with @spec) migrating from lab-a to @to: a job on
 * lab-a, the incoming copy paused and transient on @to. */
static void migrating(struct fx *f, const char *spec, const char *to)
{
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
	fx_vm(f, "web-1", "1Gi", spec);
	fx_dom(f, "lab-a", "web-1", INV_RUNNING)->job_active = true;
	struct inv_domain *in = fx_dom(f, to, "web-1", INV_PAUSED);
	in->persistent = false;
	in->migrating_in = true;
}

/* drover's record of its move of web-1 from @src to @dst, in @phase, with @knobs in its
 * spec ("" for none). */
static void record(struct fx *f, const char *phase, const char *src, const char *dst,
		   const char *knobs)
{
	char status[256];

	snprintf(status, sizeof(status), "phase: %s, sourceHost: %s, targetHost: %s, "
		 "startTime: '2026-11-23T10:00:00Z'", phase, src, dst);
	fx_mig(f, REC, "web-1", dst, knobs, status);
}

/* web-1, pinned to lab-b, migrating there from lab-a as drover's record says. */
static void left_running(struct fx *f)
{
	migrating(f, "host: lab-b", "lab-b");
	record(f, "Running", "lab-a", "lab-b", "");
}

static void test_plan_takes_over_a_migration_drover_left_running(void **state)
{
	struct fx *f = *state;
	left_running(f);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_WATCH_MIGRATION, "lab-b", CRD_VM_MIGRATING);
	assert_string_equal(a->src, "lab-a");
	assert_non_null(a->migration);
	assert_string_equal(a->migration->meta.name, REC);
	assert_string_equal(a->reason, "taking over migration " REC " lab-a → lab-b, left "
			    "running when drover stopped");
	assert_null(fx_finish(f, REC));             /* the record is not settled meanwhile */
	assert_true(plan_has_changes(&f->plan));    /* apply acts: plan exits 2 */
	assert_string_equal(plan_kind_str(a->kind), "watch-migration");
}

/* The watch runs with the knobs the move started with: the record's, over the VM's policy
 * (which may have changed since), so post-copy is tried only when the job allows it. */
static void test_plan_takes_over_with_the_knobs_of_the_record(void **state)
{
	struct fx *f = *state;
	migrating(f, "host: lab-b, migrationPolicy: {allowPostCopy: true, maxDowntimeMs: 50}",
		  "lab-b");
	record(f, "Running", "lab-a", "lab-b", "allowPostCopy: false, progressTimeoutSeconds: 10");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_WATCH_MIGRATION, "lab-b", CRD_VM_MIGRATING);
	assert_false(a->knobs.allow_post_copy);
	assert_int_equal(a->knobs.progress_timeout_s, 10);
	assert_int_equal(a->knobs.max_downtime_ms, 50);  /* not in the record: the VM's */
}

/* No record of drover's: an operator's own `virsh migrate`, never touched. */
static void test_plan_waits_for_a_migration_without_a_record(void **state)
{
	struct fx *f = *state;
	migrating(f, "host: lab-a", "lab-b");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_WAIT, "lab-b", CRD_VM_MIGRATING);
	assert_null(a->migration);
	fx_reason_has(a, "waiting: migration lab-a → lab-b in progress");
}

/* A record that does not describe the job seen is not its record. */
static void test_plan_waits_when_the_record_does_not_match_the_job(void **state)
{
	static const struct {
		const char *phase, *src, *dst;
	} rows[] = {
		{"Running", "lab-a", "lab-c"},     /* the job goes elsewhere */
		{"Running", "lab-c", "lab-b"},     /* from elsewhere */
		{"Running", "lab-b", "lab-a"},     /* the other way round */
		{"Failed", "lab-a", "lab-b"},      /* that move ended */
		{"Succeeded", "lab-a", "lab-b"},
		{"Pending", "lab-a", "lab-b"},     /* never started */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx *f = NULL;
		assert_int_equal(fx_setup((void **)&f), 0);
		migrating(f, "host: lab-b", "lab-b");
		record(f, rows[i].phase, rows[i].src, rows[i].dst, "");
		fx_plan(f);
		fx_expect(fx_act(f, "web-1"), PLAN_WAIT, "lab-b", CRD_VM_MIGRATING);
		fx_teardown((void **)&f);
	}
}

static void test_plan_waits_for_a_record_of_another_vm(void **state)
{
	struct fx *f = *state;
	migrating(f, "host: lab-b", "lab-b");
	fx_vm(f, "web-2", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-2", INV_RUNNING);
	fx_mig(f, "web-2-20261123-100000", "web-2", "lab-b", "",
	       "phase: Running, sourceHost: lab-a, targetHost: lab-b");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_WAIT, "lab-b", CRD_VM_MIGRATING);
}

/* A job whose target cannot be seen (not yet defined there, or another kind of job) is not
 * known to be the recorded move. */
static void test_plan_waits_for_a_job_without_an_incoming_copy(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING)->job_active = true;
	record(f, "Running", "lab-a", "lab-b", "");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_WAIT, NULL, CRD_VM_MIGRATING);
}

/* A domain drover did not define is never taken over, whatever a record says. */
static void test_plan_waits_for_a_job_on_a_domain_drover_does_not_own(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "");
	fx_domain(f, "lab-a", "web-1", NULL, INV_RUNNING)->job_active = true;
	struct inv_domain *in = fx_domain(f, "lab-b", "web-1", NULL, INV_PAUSED);
	in->persistent = false;
	in->migrating_in = true;
	record(f, "Running", "lab-a", "lab-b", "");
	fx_plan(f);
	assert_int_equal(fx_act(f, "web-1")->kind, PLAN_BLOCKED);   /* two foreign copies */
	assert_int_equal(fx_index(f, "web-1", PLAN_WATCH_MIGRATION), -1);
}

/* A Migration cancelled while no drover ran is still taken over: the watch aborts it. */
static void test_plan_takes_over_a_cancelled_migration_to_abort_it(void **state)
{
	struct fx *f = *state;
	migrating(f, "", "lab-b");
	record(f, "Running", "lab-a", "lab-b", "cancel: true");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_WATCH_MIGRATION, "lab-b", CRD_VM_MIGRATING);
	assert_true(a->migration->spec.cancel);
	assert_null(fx_finish(f, REC));
}

/* A move taken over counts like one in flight: against the cluster's limit ... */
static void test_plan_watch_counts_against_the_cluster_limit(void **state)
{
	struct fx *f = *state;
	left_running(f);
	f->lim.max_migrations = 1;
	fx_vm(f, "web-2", "1Gi", "host: lab-c");
	fx_dom(f, "lab-b", "web-2", INV_RUNNING);   /* leaving another host */
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_WATCH_MIGRATION, "lab-b", CRD_VM_MIGRATING);
	fx_reason_has(fx_act(f, "web-2"), "waiting: 1 migrations running (limit 1)");
}

/* ... and against its source's outbound limit. */
static void test_plan_watch_counts_against_the_outbound_limit(void **state)
{
	struct fx *f = *state;
	left_running(f);
	f->lim.max_outbound_per_host = 1;
	fx_vm(f, "web-2", "1Gi", "host: lab-c");
	fx_dom(f, "lab-a", "web-2", INV_RUNNING);
	fx_vm(f, "web-3", "1Gi", "host: lab-a");
	fx_dom(f, "lab-b", "web-3", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_WATCH_MIGRATION, "lab-b", CRD_VM_MIGRATING);
	const struct plan_action *w = fx_act(f, "web-2");
	fx_expect(w, PLAN_WAIT, "lab-c", CRD_VM_RUNNING);
	fx_reason_has(w, "waiting: 1 migrations leaving lab-a (limit 1)");
	/* Leaving another host: free to go. */
	fx_expect(fx_act(f, "web-3"), PLAN_MIGRATE_LIVE, "lab-a", CRD_VM_MIGRATING);
}

/* This drover's own move under way (a job of its runner): the VM waits for it, is never
 * taken over by its own drover, and the move counts against both limits. */
static void test_plan_waits_for_its_own_job_and_counts_it(void **state)
{
	struct fx *f = *state;
	left_running(f);
	assert_int_equal(inv_add_job(&f->inv, "default", "web-1", "live-migrate lab-a → lab-b",
				     "lab-a", "lab-b", true), 0);
	f->lim.max_outbound_per_host = 1;
	fx_vm(f, "web-2", "1Gi", "host: lab-c");
	fx_dom(f, "lab-a", "web-2", INV_RUNNING);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_WAIT, "lab-b", CRD_VM_MIGRATING);
	assert_string_equal(a->reason, "waiting: live-migrate lab-a → lab-b under way");
	assert_int_equal(fx_index(f, "web-1", PLAN_WATCH_MIGRATION), -1);
	fx_reason_has(fx_act(f, "web-2"), "waiting: 1 migrations leaving lab-a (limit 1)");
}

/* A start under way: the VM waits, other VMs are planned as usual, and a start counts
 * against no migration limit. */
static void test_plan_plans_around_a_job_that_is_not_a_move(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	f->lim.max_migrations = 1;
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	assert_int_equal(inv_add_job(&f->inv, "default", "web-1", "start on lab-a", NULL,
				     "lab-a", false), 0);
	fx_vm(f, "web-2", "1Gi", "host: lab-b");
	fx_dom(f, "lab-a", "web-2", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_WAIT, "lab-a", CRD_VM_STOPPED);
	fx_expect(fx_act(f, "web-2"), PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_plan_takes_over_a_migration_drover_left_running),
		T(test_plan_takes_over_with_the_knobs_of_the_record),
		T(test_plan_waits_for_a_migration_without_a_record),
		T(test_plan_waits_when_the_record_does_not_match_the_job),
		T(test_plan_waits_for_a_record_of_another_vm),
		T(test_plan_waits_for_a_job_without_an_incoming_copy),
		T(test_plan_waits_for_a_job_on_a_domain_drover_does_not_own),
		T(test_plan_takes_over_a_cancelled_migration_to_abort_it),
		T(test_plan_watch_counts_against_the_cluster_limit),
		T(test_plan_watch_counts_against_the_outbound_limit),
		T(test_plan_waits_for_its_own_job_and_counts_it),
		T(test_plan_plans_around_a_job_that_is_not_a_move),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
