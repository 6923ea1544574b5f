/* Host failure: when a host counts as Failed, when it is fenced, the quorum guard, and the
 * planner restarting the VMs of a host its fence agent confirmed off (safety rule 5). */
#include "reconcile/plan_fence.h"
#include "reconcile/status.h"
#include "tests/unit/plan_fixtures.h"

#define FENCING ", fencing: {agent: fence_ipmilan, options: {ip: 10.77.0.111}, " \
	"passwordFile: /etc/drover/fence/pw}"

struct decide {
	struct plan_host_decision out[8];
	char quorum[256];
	size_t n_fence;
};

/* Runs plan_fence_decide at @now with the default policy (30 s). */
static void decide(struct fx *f, const struct plan_host_health *hh, size_t n, double now,
		   struct decide *d)
{
	struct plan_failure_policy pol;
	plan_failure_policy_default(&pol);
	assert_true(f->set.n_hosts <= 8);
	d->n_fence = plan_fence_decide(&f->set, hh, n, &pol, now, d->out, d->quorum,
				       sizeof(d->quorum));
}

static const struct plan_host_decision *verdict(struct decide *d, struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->set.n_hosts; i++)
		if (!strcmp(d->out[i].name, name))
			return &d->out[i];
	fail_msg("no decision for %s", name);
	return NULL;
}

static void three_hosts(struct fx *f, const char *a_extra)
{
	fx_host(f, "lab-a", a_extra);
	fx_host(f, "lab-b", FENCING);
	fx_host(f, "lab-c", FENCING);
}

static void test_fence_down_shorter_than_detect_time_is_only_suspect(void **state)
{
	struct fx *f = *state;
	struct plan_host_health hh[] = {{.name = "lab-a", .down = true, .down_since = 100}};
	struct decide d;
	three_hosts(f, FENCING);
	decide(f, hh, 1, 129, &d);
	assert_int_equal(verdict(&d, f, "lab-a")->verdict, PLAN_HOST_SUSPECT);
	assert_int_equal(verdict(&d, f, "lab-b")->verdict, PLAN_HOST_UP);
	assert_int_equal(d.n_fence, 0);
}

static void test_fence_down_for_detect_time_with_fencing_is_fenced(void **state)
{
	struct fx *f = *state;
	struct plan_host_health hh[] = {{.name = "lab-a", .down = true, .down_since = 100}};
	struct decide d;
	three_hosts(f, FENCING);
	decide(f, hh, 1, 130, &d);
	const struct plan_host_decision *a = verdict(&d, f, "lab-a");
	assert_int_equal(a->verdict, PLAN_HOST_FENCE);
	assert_non_null(strstr(a->reason, "fence_ipmilan"));
	assert_int_equal(d.n_fence, 1);
	assert_string_equal(d.quorum, "");
}

static void test_fence_failed_host_without_fencing_waits_for_operator(void **state)
{
	struct fx *f = *state;
	struct plan_host_health hh[] = {{.name = "lab-a", .down = true, .down_since = 0}};
	struct decide d;
	three_hosts(f, "");
	decide(f, hh, 1, 300, &d);
	const struct plan_host_decision *a = verdict(&d, f, "lab-a");
	assert_int_equal(a->verdict, PLAN_HOST_FAILED);
	assert_non_null(strstr(a->reason, "no spec.fencing"));
	assert_int_equal(d.n_fence, 0);
}

static void test_fence_failed_fence_backs_off(void **state)
{
	struct fx *f = *state;
	struct plan_host_health hh[] = {{.name = "lab-a", .down = true, .down_since = 0,
					 .retry_at = 80}};
	struct decide d;
	three_hosts(f, FENCING);
	decide(f, hh, 1, 60, &d);
	assert_int_equal(verdict(&d, f, "lab-a")->verdict, PLAN_HOST_BACKOFF);
	assert_int_equal(d.n_fence, 0);
	decide(f, hh, 1, 80, &d);
	assert_int_equal(verdict(&d, f, "lab-a")->verdict, PLAN_HOST_FENCE);
}

static void test_fence_nothing_when_most_hosts_look_failed(void **state)
{
	struct fx *f = *state;
	struct plan_host_health hh[] = {{.name = "lab-a", .down = true, .down_since = 0},
					{.name = "lab-b", .down = true, .down_since = 0},
					{.name = "lab-c", .down = true, .down_since = 0}};
	struct decide d;
	three_hosts(f, FENCING);
	decide(f, hh, 3, 300, &d);
	assert_int_equal(d.n_fence, 0);
	assert_non_null(strstr(d.quorum, "3 of 3 hosts look failed"));
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(d.out[i].verdict, PLAN_HOST_QUORUM);
		assert_non_null(strstr(d.out[i].reason, "nothing is fenced"));
	}
}

static void test_fence_two_of_three_down_is_no_quorum_even_when_one_is_fenced(void **state)
{
	struct fx *f = *state;
	struct plan_host_health hh[] = {{.name = "lab-a", .down = true, .fenced = true},
					{.name = "lab-b", .down = true, .down_since = 0}};
	struct decide d;
	three_hosts(f, FENCING);
	decide(f, hh, 2, 300, &d);
	assert_int_equal(verdict(&d, f, "lab-a")->verdict, PLAN_HOST_FENCED);
	assert_int_equal(verdict(&d, f, "lab-b")->verdict, PLAN_HOST_QUORUM);
	assert_int_equal(d.n_fence, 0);
}

static void test_fence_policy_fence_false_never_fences(void **state)
{
	struct fx *f = *state;
	struct plan_host_health hh[] = {{.name = "lab-a", .down = true, .down_since = 0}};
	struct plan_failure_policy pol = {.detect_after_s = 10, .fence = false};
	struct plan_host_decision out[3];
	char why[128];
	three_hosts(f, FENCING);
	assert_int_equal(plan_fence_decide(&f->set, hh, 1, &pol, 50, out, why, sizeof(why)), 0);
	assert_int_equal(out[0].verdict, PLAN_HOST_FAILED);
	assert_non_null(strstr(out[0].reason, "hostFailure.fence is false"));
}

/* Safety rule 5 in the planner: an unreachable host's VM is restarted only once the host is
 * fenced — here by its agent (inv_host.fenced), as by spec.fenced — and the restart is
 * recorded as a Failover. */
static void test_plan_restarts_vm_of_host_fenced_by_agent_as_failover(void **state)
{
	struct fx *f = *state;
	three_hosts(f, FENCING);
	fx_vm(f, "web-1", "1Gi", "");
	fx_vm(f, "db-1", "1Gi", "storage: local");
	fx_last_host(f, "web-1", "lab-a");
	fx_last_host(f, "db-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_plan(f);
	assert_int_equal(fx_act(f, "web-1")->problem, PLAN_PROBLEM_HOST_UNKNOWN);
	assert_false(plan_has_changes(&f->plan));

	plan_free(&f->plan);
	fx_inv(f, "lab-a")->fenced = true;
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->kind, PLAN_DEFINE_START);
	assert_string_not_equal(a->dst, "lab-a");
	assert_int_equal(a->cause, CRD_MIG_FAILOVER);
	assert_true(a->knobs.max_downtime_ms > 0);   /* its Migration record must decode */
	fx_reason_has(a, "host lab-a fenced: restarting elsewhere");
	assert_int_equal(fx_act(f, "db-1")->problem, PLAN_PROBLEM_LOST);
}

/* A failover lasts while a VM of the fenced host still has to be restarted; a local-disk VM
 * (lost with the host) and one pinned there (never restarted) do not hold it open. */
static void test_fence_failover_done_once_every_restart_is_planned_away(void **state)
{
	struct fx *f = *state;
	three_hosts(f, FENCING);
	fx_vm(f, "web-1", "1Gi", "");
	fx_vm(f, "db-1", "1Gi", "storage: local");
	fx_vm(f, "pin-1", "1Gi", "host: lab-a");
	fx_last_host(f, "web-1", "lab-a");
	fx_last_host(f, "db-1", "lab-a");
	fx_last_host(f, "pin-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_inv(f, "lab-a")->fenced = true;
	fx_plan(f);
	assert_int_equal(fx_act(f, "web-1")->kind, PLAN_DEFINE_START);
	assert_false(plan_failover_done(&f->plan, "lab-a"));
	assert_true(plan_failover_done(&f->plan, "lab-b"));

	/* web-1 runs on lab-b now (its status still names lab-a): nothing is left to do. */
	plan_free(&f->plan);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	assert_true(plan_failover_done(&f->plan, "lab-a"));
}

static void test_fence_down_since_runs_from_the_first_pass_both_probes_failed(void **state)
{
	(void)state;
	struct plan_host_health hh = {.name = "lab-a"};
	plan_health_observe(&hh, false, true, 10);    /* libvirt down, address answers: up */
	assert_false(hh.down);
	plan_health_observe(&hh, false, false, 20);
	plan_health_observe(&hh, false, false, 25);
	assert_true(hh.down);
	assert_true(hh.down_since == 20);
	plan_health_observe(&hh, true, false, 30);    /* any answer restarts the count */
	plan_health_observe(&hh, false, false, 40);
	assert_true(hh.down_since == 40);
}

/* lab-a, fenced by its agent, answers again with web-1's stale copy; web-1 runs on lab-b. */
static void fenced_host_back_with_a_stale_copy(struct fx *f)
{
	three_hosts(f, FENCING);
	fx_inv(f, "lab-a")->fenced = true;
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
}

/* A fenced host that returns keeps its mark while its stale copy is being removed. */
static void test_fence_mark_stays_until_stale_copies_are_gone(void **state)
{
	struct fx *f = *state;
	fenced_host_back_with_a_stale_copy(f);
	fx_plan(f);
	assert_true(fx_index(f, "web-1", PLAN_UNDEFINE_STALE) >= 0);
	assert_false(plan_fence_release(&f->plan, &f->set, &f->inv, "lab-a"));
	assert_true(plan_fence_release(&f->plan, &f->set, &f->inv, "lab-c"));
	fx_inv(f, "lab-c")->reachable = false;
	assert_false(plan_fence_release(&f->plan, &f->set, &f->inv, "lab-c"));
}

/* The VM of a stale copy may be planned to wait this pass (its restart elsewhere is still
 * under way): the plan names no removal on the returning host, but the copy is there, and
 * releasing the host now would turn it into a conflict for good. */
static void test_fence_mark_stays_while_the_stale_copys_vm_waits(void **state)
{
	struct fx *f = *state;
	fenced_host_back_with_a_stale_copy(f);
	assert_int_equal(inv_add_job(&f->inv, "default", "web-1", "start on lab-b", NULL,
				     "lab-b", false), 0);
	fx_plan(f);
	assert_int_equal(fx_act(f, "web-1")->kind, PLAN_WAIT);
	assert_false(plan_fence_release(&f->plan, &f->set, &f->inv, "lab-a"));
	assert_true(plan_fence_release(&f->plan, &f->set, &f->inv, "lab-c"));
}

/* A VM no longer declared is an orphan: its copies do not hold a returning host fenced,
 * as they did not before the inventory was read (the plan has nothing for it). */
static void test_fence_mark_goes_although_an_orphan_has_two_copies(void **state)
{
	struct fx *f = *state;
	three_hosts(f, FENCING);
	fx_inv(f, "lab-a")->fenced = true;
	fx_dom(f, "lab-a", "gone-1", INV_SHUTOFF);
	fx_dom(f, "lab-b", "gone-1", INV_RUNNING);
	fx_plan(f);
	assert_true(plan_fence_release(&f->plan, &f->set, &f->inv, "lab-a"));
}

static void test_fence_conditions_follow_the_verdict(void **state)
{
	struct fx *f = *state;
	three_hosts(f, FENCING);
	struct crd_host *h = &f->set.hosts[0];
	struct plan_host_decision d = {.name = "lab-a", .verdict = PLAN_HOST_BACKOFF,
				       .reason = "unreachable for 40 s; the last fence failed"};
	assert_int_equal(status_host_failure(h, &d, true, "fence_ipmilan action=off exited 1: "
					     "Unable to connect", "2026-12-04T17:00:00Z"), 0);
	assert_true(status_condition_true(&h->status.conditions, "Failed"));
	assert_false(status_condition_true(&h->status.conditions, "Fenced"));
	const struct crd_condition *c = NULL;
	for (size_t i = 0; i < h->status.conditions.n; i++)
		if (!strcmp(h->status.conditions.items[i].type, "Fenced"))
			c = &h->status.conditions.items[i];
	assert_non_null(c);
	assert_string_equal(c->reason, "FenceFailed");
	assert_non_null(strstr(c->message, "Unable to connect"));

	assert_false(status_host_fenced_by_agent(h));
	assert_int_equal(status_host_fence_ran(h, "off", true, "2026-12-04T17:00:05Z"), 0);
	assert_true(status_host_fenced_by_agent(h));
	d.verdict = PLAN_HOST_FENCED;
	assert_int_equal(status_host_failure(h, &d, false, NULL, "2026-12-04T17:00:05Z"), 0);
	assert_true(status_condition_true(&h->status.conditions, "Fenced"));
	assert_int_equal(status_host_fence_ran(h, "off", false, "2026-12-04T17:01:00Z"), 0);
	assert_false(status_host_fenced_by_agent(h));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fence_down_shorter_than_detect_time_is_only_suspect),
		T(test_fence_down_for_detect_time_with_fencing_is_fenced),
		T(test_fence_failed_host_without_fencing_waits_for_operator),
		T(test_fence_failed_fence_backs_off),
		T(test_fence_nothing_when_most_hosts_look_failed),
		T(test_fence_two_of_three_down_is_no_quorum_even_when_one_is_fenced),
		T(test_fence_policy_fence_false_never_fences),
		T(test_plan_restarts_vm_of_host_fenced_by_agent_as_failover),
		T(test_fence_failover_done_once_every_restart_is_planned_away),
		T(test_fence_down_since_runs_from_the_first_pass_both_probes_failed),
		T(test_fence_mark_stays_until_stale_copies_are_gone),
		T(test_fence_mark_stays_while_the_stale_copys_vm_waits),
		T(test_fence_mark_goes_although_an_orphan_has_two_copies),
		T(test_fence_conditions_follow_the_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
