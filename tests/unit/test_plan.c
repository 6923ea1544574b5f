/* The planner where VMs stay put: identity and adoption, conflicts and stale copies, power
 * state, placement, unreachable and fenced hosts, ordering and determinism. */
#include "tests/unit/plan_fixtures.h"

/* Two healthy hosts, the shape of most tests. */
static void two_hosts(struct fx *f)
{
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
}

/* A move of web-1 from lab-a to lab-b whose record never ended (drover stopped meanwhile). */
#define MOVE "web-1-20261123-100000"
static void running_move(struct fx *f)
{
	fx_mig(f, MOVE, "web-1", "lab-b", "", "phase: Running, sourceHost: lab-a, targetHost: lab-b");
}

static void test_plan_converged_has_no_changes(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_vm(f, "web-2", "1Gi", "running: false");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_dom(f, "lab-b", "web-2", INV_SHUTOFF);
	fx_plan(f);
	assert_int_equal(f->plan.n, 2);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
	fx_expect(fx_act(f, "web-2"), PLAN_NONE, "lab-b", CRD_VM_STOPPED);
	assert_false(plan_has_changes(&f->plan));
}

static void test_plan_defines_and_starts_new_pinned_vm(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE_START, "lab-b", CRD_VM_PENDING);
	assert_null(fx_act(f, "web-1")->src);
	assert_true(plan_has_changes(&f->plan));
}

static void test_plan_defines_stopped_vm_without_starting(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_inv(f, "lab-a")->memory_free = 512 * MiB;   /* no memory needed to stay stopped */
	fx_vm(f, "web-1", "4Gi", "host: lab-a, running: false");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE, "lab-a", CRD_VM_STOPPED);
}

/* Rule 5: an instance on its desired host only has its power state converged. */
static void test_plan_converges_power_state(void **state)
{
	static const struct {
		const char *running;
		enum inv_state state;
		enum plan_kind kind;
		enum crd_vm_phase phase;
	} rows[] = {
		{"true", INV_RUNNING, PLAN_NONE, CRD_VM_RUNNING},
		{"true", INV_PAUSED, PLAN_NONE, CRD_VM_RUNNING},
		{"true", INV_SHUTOFF, PLAN_START, CRD_VM_PENDING},
		{"true", INV_CRASHED, PLAN_START, CRD_VM_PENDING},
		{"false", INV_RUNNING, PLAN_STOP, CRD_VM_RUNNING},
		{"false", INV_PAUSED, PLAN_STOP, CRD_VM_RUNNING},
		{"false", INV_SHUTOFF, PLAN_NONE, CRD_VM_STOPPED},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx *f = NULL;
		char spec[64];
		assert_int_equal(fx_setup((void **)&f), 0);
		two_hosts(f);
		snprintf(spec, sizeof(spec), "host: lab-a, running: %s", rows[i].running);
		fx_vm(f, "web-1", "1Gi", spec);
		fx_dom(f, "lab-a", "web-1", rows[i].state);
		fx_plan(f);
		fx_expect(fx_act(f, "web-1"), rows[i].kind, "lab-a", rows[i].phase);
		fx_teardown((void **)&f);
	}
	(void)state;
}

static void test_plan_start_needs_memory_on_its_host(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_inv(f, "lab-a")->memory_free = 1536 * MiB;
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, "lab-a", CRD_VM_STOPPED);
	assert_int_equal(a->problem, PLAN_PROBLEM_PRECHECK);
	assert_string_equal(a->reason, "PreCheckFailed: memory: lab-a has 512Mi free after 1Gi "
			    "reserved, web-1 needs 1Gi");
}

/* ---- identity (rules 1 and 2) ---- */

static void test_plan_conflict_when_defined_on_two_hosts(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_dom(f, "lab-b", "web-1", INV_SHUTOFF);
	fx_plan(f);
	assert_int_equal(f->plan.n, 1);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_CONFLICT);
	assert_int_equal(a->problem, PLAN_PROBLEM_CONFLICT);
	fx_reason_has(a, "lab-a, lab-b");
}

static void test_plan_conflict_when_both_copies_run_even_on_fenced_host(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	assert_int_equal(fx_act(f, "web-1")->problem, PLAN_PROBLEM_CONFLICT);
	assert_int_equal(fx_index(f, "web-1", PLAN_UNDEFINE_STALE), -1);
}

static void test_plan_undefines_stale_copy_on_fenced_host(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "");
	fx_vm(f, "db-1", "1Gi", "running: false");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_dom(f, "lab-b", "db-1", INV_RUNNING);   /* its STOP comes after the undefine */
	fx_plan(f);
	int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
	assert_int_equal(i, 0);
	const struct plan_action *a = &f->plan.actions[i];
	assert_string_equal(a->dst, "lab-a");
	assert_string_equal(a->src, "lab-b");
	assert_int_equal(a->phase, CRD_VM_RUNNING);
	assert_null(a->migration);   /* no move: a fenced host's stale copy keeps its disks */
	assert_int_equal(fx_index(f, "db-1", PLAN_STOP), 1);
	assert_int_equal(f->plan.n, 2);
}

static void test_plan_conflict_when_stale_copy_host_is_not_fenced(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_BLOCKED, NULL, CRD_VM_CONFLICT);
}

static void test_plan_finishes_a_cold_move_cut_short_after_the_target_was_defined(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b, running: false");
	fx_mig(f, MOVE, "web-1", "lab-b", "mode: Cold",
	       "phase: Running, sourceHost: lab-a, targetHost: lab-b");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_dom(f, "lab-b", "web-1", INV_SHUTOFF);
	fx_plan(f);
	int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
	assert_true(i >= 0);
	const struct plan_action *a = &f->plan.actions[i];
	assert_string_equal(a->dst, "lab-a");        /* the source definition goes */
	assert_string_equal(a->src, "lab-b");
	fx_reason_has(a, "finishing move");
	/* It carries the move: the executor also deletes a local VM's stale source disks. */
	assert_non_null(a->migration);
	assert_string_equal(a->migration->meta.name, MOVE);
}

static void test_plan_finishes_a_live_move_whose_source_definition_stayed(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	running_move(f);
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
	assert_true(i >= 0);
	assert_string_equal(f->plan.actions[i].dst, "lab-a");
	assert_int_equal(f->plan.actions[i].phase, CRD_VM_RUNNING);
}

static void test_plan_settles_a_move_only_once_its_source_is_seen(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	running_move(f);
	fx_unreachable(f, "lab-a");
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	/* lab-a may still hold a definition: the move stays open, the VM is left as it is. */
	assert_null(fx_finish(f, MOVE));
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-b", CRD_VM_RUNNING);
}

/* libvirt lost the target's daemon after the guest resumed there and left the source
 * paused by the migration: the move is finished, the paused source goes. */
static void test_plan_finishes_a_live_move_whose_source_stayed_paused(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	running_move(f);
	fx_dom(f, "lab-a", "web-1", INV_PAUSED)->paused_out = true;
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
	assert_true(i >= 0);
	assert_string_equal(f->plan.actions[i].dst, "lab-a");
	assert_non_null(f->plan.actions[i].migration);
	fx_reason_has(&f->plan.actions[i], "finishing move");
}

/* Without the move's record, or with the source paused for another reason, or the target
 * not running: two active copies are a conflict, left alone. */
static void test_plan_a_paused_source_is_left_alone_without_proof_the_move_ended(void **state)
{
	static const struct {
		bool record, paused_out;
		enum inv_state target;
	} cases[] = {
		{false, true, INV_RUNNING},
		{true, false, INV_RUNNING},
		{true, true, INV_PAUSED},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		if (k) {   /* a fresh fixture per case */
			fx_teardown(state);
			assert_int_equal(fx_setup(state), 0);
		}
		struct fx *f = *state;
		two_hosts(f);
		fx_vm(f, "web-1", "1Gi", "host: lab-b");
		if (cases[k].record)
			running_move(f);
		fx_dom(f, "lab-a", "web-1", INV_PAUSED)->paused_out = cases[k].paused_out;
		fx_dom(f, "lab-b", "web-1", cases[k].target);
		fx_plan(f);
		assert_int_equal(fx_index(f, "web-1", PLAN_UNDEFINE_STALE), -1);
		fx_expect(fx_act(f, "web-1"), PLAN_BLOCKED, NULL, CRD_VM_CONFLICT);
	}
}

/* A local VM's move that libvirt finished while drover was down: the record is settled and
 * the source's stale disks go, in the same pass. */
static void test_plan_drops_stale_local_disks_of_a_move_that_ended_unseen(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b, storage: local");
	running_move(f);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	const struct plan_action *fin = fx_finish(f, MOVE);
	assert_non_null(fin);
	assert_int_equal(fin->migration_phase, CRD_MIG_SUCCEEDED);
	int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
	assert_true(i >= 0);
	const struct plan_action *a = &f->plan.actions[i];
	assert_string_equal(a->dst, "lab-a");
	assert_string_equal(a->src, "lab-b");
	assert_non_null(a->migration);
	assert_int_equal(a->phase, CRD_VM_RUNNING);
	fx_reason_has(a, "ended while drover was down");
}

/* Shared disks are the target's own: the record is settled, nothing is deleted. */
static void test_plan_keeps_shared_disks_of_a_move_that_ended_unseen(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	running_move(f);
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	assert_int_equal(fx_finish(f, MOVE)->migration_phase, CRD_MIG_SUCCEEDED);
	assert_int_equal(fx_index(f, "web-1", PLAN_UNDEFINE_STALE), -1);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-b", CRD_VM_RUNNING);
}

/* The soak's lost disk: a local VM's move landed while its source was cut off and then
 * fenced. The record waits for the source to return (off, then powered on again), then its
 * stale disks go. */
static void test_plan_waits_for_fenced_source_to_drop_stale_local_disks(void **state)
{
	for (int back = 0; back < 2; back++) {
		if (back) {
			fx_teardown(state);
			assert_int_equal(fx_setup(state), 0);
		}
		struct fx *f = *state;
		fx_host(f, "lab-a", ", fenced: true");
		fx_host(f, "lab-b", "");
		fx_vm(f, "web-1", "1Gi", "storage: local");
		running_move(f);
		fx_dom(f, "lab-b", "web-1", INV_RUNNING);
		if (!back)
			fx_unreachable(f, "lab-a");
		fx_plan(f);
		int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
		if (!back) {
			assert_null(fx_finish(f, MOVE));
			assert_int_equal(i, -1);
			fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-b", CRD_VM_RUNNING);
			continue;
		}
		assert_int_equal(fx_finish(f, MOVE)->migration_phase, CRD_MIG_SUCCEEDED);
		assert_string_equal(f->plan.actions[i].dst, "lab-a");
		fx_reason_has(&f->plan.actions[i], "stale copies");
	}
}

/* The soak's lost disk, the other way round: a local VM's move landed, then its target
 * lost power before any pass saw the VM there. The source is seen without the VM (its last
 * host, or status.host already cleared): the VM is lost on the target — unknown there, or
 * lost until it returns once fenced — never "not defined on any host", so the record waits
 * and the source's stale disks are still found when the target is back. */
static void test_plan_a_move_whose_target_vanished_waits_for_it(void **state)
{
	for (int k = 0; k < 4; k++) {
		bool fenced = k & 1, last_known = k & 2;
		if (k) {
			fx_teardown(state);
			assert_int_equal(fx_setup(state), 0);
		}
		struct fx *f = *state;
		fx_host(f, "lab-a", "");
		fx_host(f, "lab-b", fenced ? ", fenced: true" : "");
		fx_vm(f, "web-1", "1Gi", "host: lab-b, storage: local");
		running_move(f);
		if (last_known)
			fx_last_host(f, "web-1", "lab-a");
		fx_unreachable(f, "lab-b");
		fx_plan(f);
		assert_null(fx_finish(f, MOVE));
		assert_int_equal(fx_index(f, "web-1", PLAN_UNDEFINE_STALE), -1);
		const struct plan_action *a = fx_act(f, "web-1");
		fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_UNKNOWN);
		assert_string_equal(a->src, "lab-b");
		assert_int_equal(a->problem, fenced ? PLAN_PROBLEM_LOST : PLAN_PROBLEM_HOST_UNKNOWN);
		fx_reason_has(a, fenced ? "lost until lab-b returns" : "may still run there");
	}
}

/* The same on shared storage, unpinned: placement would have defined and started the VM
 * on lab-a while it may run on lab-b from the same disk (safety rule 1). */
static void test_plan_a_vm_whose_move_target_vanished_is_not_defined_again(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	running_move(f);
	fx_last_host(f, "web-1", "lab-a");
	fx_unreachable(f, "lab-b");
	fx_plan(f);
	assert_null(fx_finish(f, MOVE));
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_UNKNOWN);
	assert_int_equal(a->problem, PLAN_PROBLEM_HOST_UNKNOWN);
	fx_reason_has(a, "host lab-b is unreachable");
	assert_false(plan_has_changes(&f->plan));
}

/* A local VM's move cut short before it landed (libvirt rolled it back, or drover stopped
 * after a cold copy): the VM stays on its source, the record fails, and the target's
 * partial copies go — once the target is seen. */
static void test_plan_drops_partial_local_disks_of_a_move_cut_short(void **state)
{
	for (int unseen = 0; unseen < 2; unseen++) {
		if (unseen) {
			fx_teardown(state);
			assert_int_equal(fx_setup(state), 0);
		}
		struct fx *f = *state;
		two_hosts(f);
		fx_vm(f, "web-1", "1Gi", "storage: local");
		running_move(f);
		fx_dom(f, "lab-a", "web-1", INV_RUNNING);
		if (unseen)
			fx_unreachable(f, "lab-b");
		fx_plan(f);
		const struct plan_action *fin = fx_finish(f, MOVE);
		int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
		if (unseen) {
			assert_null(fin);
			assert_int_equal(i, -1);
			continue;
		}
		assert_int_equal(fin->migration_phase, CRD_MIG_FAILED);
		const struct plan_action *a = &f->plan.actions[i];
		assert_string_equal(a->dst, "lab-b");
		assert_string_equal(a->src, "lab-a");
		assert_non_null(a->migration);
		fx_reason_has(a, "cut short");
	}
}

/* A move that never ended, the VM moved on meanwhile (to lab-c, while the record waited for
 * a host it touched): whatever it left on both its source and its target goes. */
static void test_plan_drops_local_disks_a_move_left_on_both_its_hosts(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_host(f, "lab-c", "");
	fx_vm(f, "web-1", "1Gi", "storage: local");
	running_move(f);
	fx_dom(f, "lab-c", "web-1", INV_RUNNING);
	fx_plan(f);
	assert_int_equal(fx_finish(f, MOVE)->migration_phase, CRD_MIG_FAILED);
	int n = 0;
	for (size_t i = 0; i < f->plan.n; i++) {
		const struct plan_action *a = &f->plan.actions[i];
		if (a->kind != PLAN_UNDEFINE_STALE)
			continue;
		assert_string_equal(a->src, "lab-c");
		assert_string_equal(a->dst, n++ ? "lab-b" : "lab-a");
		fx_reason_has(a, "moved on to lab-c");
	}
	assert_int_equal(n, 2);
}

/* The soak's fifth run: two moves of a local VM cut short one after the other (lab-c →
 * lab-b as lab-b's libvirtd died, then lab-c → lab-a as lab-c lost power), each record
 * Running with a partial copy on its target. Both targets seen again: one record is
 * cleaned up and ended; the other waits its turn — ended in the same pass without its
 * cleanup, its copy on lab-b would be forgotten for good. */
static void test_plan_cleans_up_two_cut_short_moves_one_at_a_time(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_host(f, "lab-c", "");
	fx_vm(f, "web-1", "1Gi", "storage: local");
	fx_mig(f, "to-b", "web-1", "lab-b", "", "phase: Running, sourceHost: lab-c, targetHost: lab-b");
	fx_mig(f, "to-a", "web-1", "lab-a", "", "phase: Running, sourceHost: lab-c, targetHost: lab-a");
	fx_dom(f, "lab-c", "web-1", INV_RUNNING);
	fx_plan(f);
	const struct plan_action *first = fx_finish(f, "to-b"), *second = fx_finish(f, "to-a");
	assert_true((first != NULL) != (second != NULL));
	const char *cleaned = first ? "lab-b" : "lab-a";
	int stale = 0;
	for (size_t i = 0; i < f->plan.n; i++) {
		const struct plan_action *a = &f->plan.actions[i];
		if (a->kind != PLAN_UNDEFINE_STALE)
			continue;
		stale++;
		assert_string_equal(a->dst, cleaned);
		fx_reason_has(a, "cut short");
	}
	assert_int_equal(stale, 1);
	/* Its cleanup done, that record ends; the next pass cleans up after the other. */
	const char *done = first ? "to-b" : "to-a", *other = first ? "to-a" : "to-b";
	for (size_t i = 0; i < f->set.n_migrations; i++)
		if (!strcmp(f->set.migrations[i].meta.name, done))
			f->set.migrations[i].status.phase = CRD_MIG_FAILED;
	fx_plan(f);
	assert_non_null(fx_finish(f, other));
	int i = fx_index(f, "web-1", PLAN_UNDEFINE_STALE);
	assert_true(i >= 0);
	assert_string_equal(f->plan.actions[i].dst, first ? "lab-a" : "lab-b");
}

/* Shared storage: nothing is copied, so nothing is left on the target. */
static void test_plan_keeps_shared_disks_of_a_move_cut_short(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	running_move(f);
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	assert_int_equal(fx_finish(f, MOVE)->migration_phase, CRD_MIG_FAILED);
	assert_int_equal(fx_index(f, "web-1", PLAN_UNDEFINE_STALE), -1);
}

static void test_plan_two_stopped_copies_without_a_running_move_are_a_conflict(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b, running: false");
	/* Ended, or between other hosts: no evidence the copies are one move's halves. */
	fx_mig(f, "old", "web-1", "lab-b", "", "phase: Succeeded, sourceHost: lab-a, targetHost: lab-b");
	fx_mig(f, "other", "web-1", "lab-b", "", "phase: Running, sourceHost: lab-c, targetHost: lab-b");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_dom(f, "lab-b", "web-1", INV_SHUTOFF);
	fx_plan(f);
	assert_int_equal(fx_index(f, "web-1", PLAN_UNDEFINE_STALE), -1);
	fx_expect(fx_act(f, "web-1"), PLAN_BLOCKED, NULL, CRD_VM_CONFLICT);
}

static void test_plan_unreadable_domain_makes_unpinned_vm_wait(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	/* Running on lab-a, but its definition could not be read this pass (redefined behind
	 * drover's back): it may well be web-1; defining web-1 anywhere would make two. */
	inv_domain_forget_definition(fx_dom(f, "lab-a", "web-1", INV_RUNNING));
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_WAIT, NULL, CRD_VM_RUNNING);
	assert_string_equal(a->src, "lab-a");
	fx_reason_has(a, "could not be read");
	assert_int_equal(fx_index(f, "web-1", PLAN_DEFINE_START), -1);
}

static void test_plan_unreadable_domain_makes_pinned_stopped_vm_wait(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	inv_domain_forget_definition(fx_domain(f, "lab-b", "web-1", NULL, INV_SHUTOFF));
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_WAIT, NULL, CRD_VM_STOPPED);
}

static void test_plan_unreadable_domain_beside_an_owned_copy_waits(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	inv_domain_forget_definition(fx_domain(f, "lab-b", "web-1", NULL, INV_RUNNING));
	fx_plan(f);
	/* Not a start on lab-a while lab-b runs something of that name. */
	fx_expect(fx_act(f, "web-1"), PLAN_WAIT, NULL, CRD_VM_RUNNING);
}

static void test_plan_adopts_foreign_domain_on_pinned_host(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_domain(f, "lab-a", "web-1", NULL, INV_RUNNING);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_NONE, "lab-a", CRD_VM_RUNNING);
	fx_reason_has(a, "adopting existing domain");
}

static void test_plan_adopts_foreign_domain_of_unpinned_vm_anywhere(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_domain(f, "lab-b", "web-1", NULL, INV_SHUTOFF);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_START, "lab-b", CRD_VM_PENDING);
	fx_reason_has(a, "adopting existing domain");
}

static void test_plan_conflict_when_foreign_domain_is_away_from_pin(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_domain(f, "lab-b", "web-1", NULL, INV_RUNNING);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_CONFLICT);
	fx_reason_has(a, "pinned to lab-a");
}

static void test_plan_conflict_when_two_foreign_domains(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_domain(f, "lab-a", "web-1", NULL, INV_RUNNING);
	fx_domain(f, "lab-b", "web-1", NULL, INV_SHUTOFF);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->problem, PLAN_PROBLEM_CONFLICT);
	fx_reason_has(a, "cannot tell which one to adopt");
}

static void test_plan_domain_of_another_namespace_is_not_ours(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_inv(f, "lab-a")->memory_free = 12 * GiB;   /* placement would prefer lab-a */
	fx_vm(f, "web-1", "1Gi", "");
	struct inv_domain *d = fx_domain(f, "lab-a", "web-1", "web-1", INV_RUNNING);
	free(d->owner_namespace);
	d->owner_namespace = fx_strdup("prod");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE_START, "lab-b", CRD_VM_PENDING);
}

/* ---- placement (rule 4) ---- */

static void test_plan_places_on_host_with_most_free_memory(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_host(f, "lab-c", "");
	fx_inv(f, "lab-b")->memory_free = 12 * GiB;
	fx_vm(f, "web-1", "1Gi", "");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_DEFINE_START, "lab-b", CRD_VM_PENDING);
	fx_reason_has(a, "placed on lab-b");
}

static void test_plan_placement_ties_break_by_name(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-c", "");
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE_START, "lab-a", CRD_VM_PENDING);
}

static void test_plan_placement_counts_memory_placed_by_same_plan(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_inv(f, "lab-a")->memory_free = 10 * GiB;    /* 9Gi after reserve */
	fx_inv(f, "lab-b")->memory_free = 9 * GiB;     /* 8Gi after reserve */
	fx_vm(f, "web-1", "4Gi", "");
	fx_vm(f, "web-2", "4Gi", "");
	fx_vm(f, "web-3", "4Gi", "");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE_START, "lab-a", CRD_VM_PENDING);
	fx_expect(fx_act(f, "web-2"), PLAN_DEFINE_START, "lab-b", CRD_VM_PENDING);
	fx_expect(fx_act(f, "web-3"), PLAN_DEFINE_START, "lab-a", CRD_VM_PENDING);
}

static void test_plan_placement_honours_host_selector(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_host(f, "lab-c", "");
	fx_inv(f, "lab-a")->memory_free = 15 * GiB;
	struct crd_host *h = (struct crd_host *)crd_set_host(&f->set, "default", "lab-b");
	h->meta.labels.items = fx_grow(NULL, 0, sizeof(*h->meta.labels.items));
	h->meta.labels.items[0] = (struct crd_kv){fx_strdup("rack"), fx_strdup("r2")};
	h->meta.labels.n = 1;
	fx_vm(f, "web-1", "1Gi", "hostSelector: {rack: r2}");
	fx_vm(f, "web-2", "1Gi", "hostSelector: {rack: r9}");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE_START, "lab-b", CRD_VM_PENDING);
	fx_reason_has(fx_act(f, "web-2"), "lab-a: hostSelector rack=r9 does not match");
}

static void test_plan_placement_skips_cordoned_draining_and_fenced_hosts(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", unschedulable: true");
	fx_host(f, "lab-b", ", drain: true");
	fx_host(f, "lab-c", ", fenced: true");
	fx_host(f, "lab-d", "");
	for (const char *h = "abc"; *h; h++) {
		char name[8] = "lab-x";
		name[4] = *h;
		fx_inv(f, name)->memory_free = 15 * GiB;
	}
	fx_vm(f, "web-1", "1Gi", "");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE_START, "lab-d", CRD_VM_PENDING);
}

static void test_plan_no_host_lists_why_each_host_failed(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_host(f, "lab-c", ", unschedulable: true");
	fx_inv(f, "lab-a")->memory_free = 1536 * MiB;
	fx_unreachable(f, "lab-b");
	fx_vm(f, "web-1", "1Gi", "");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_PENDING);
	assert_int_equal(a->problem, PLAN_PROBLEM_NO_HOST);
	assert_string_equal(a->reason, "no schedulable host: lab-a: PreCheckFailed: memory: lab-a "
			    "has 512Mi free after 1Gi reserved, web-1 needs 1Gi, lab-b: unreachable, "
			    "lab-c: unschedulable");
}

static void test_plan_unpinned_vm_stays_where_it_landed(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_inv(f, "lab-a")->memory_free = 15 * GiB;
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-b", CRD_VM_RUNNING);
}

static void test_plan_define_precheck_needs_bridge_and_visible_disk(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_vm(f, "web-2", "1Gi", "host: lab-b");
	free(fx_inv(f, "lab-a")->bridges[0]);
	fx_inv(f, "lab-a")->bridges[0] = fx_strdup("br9");
	struct inv_pool *p = &fx_inv(f, "lab-b")->pools[0];
	for (size_t i = 0; i < p->n_volumes; i++)
		p->volumes[i][1] = 'X';          /* "/Xhared/...": lab-b sees no shared disk */
	fx_plan(f);
	assert_string_equal(fx_act(f, "web-1")->reason,
			    "PreCheckFailed: network: lab-a has no bridge br0");
	assert_string_equal(fx_act(f, "web-2")->reason,
			    "PreCheckFailed: storage: lab-b cannot see /shared/web-2.qcow2");
}

static void test_plan_reads_memory_from_domain_xml(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_inv(f, "lab-a")->memory_free = 3 * GiB;
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: db-1}\n"
		"spec:\n  host: lab-a\n  domain:\n    xml: |\n      <domain type='kvm'><name>db-1</name>"
		"<memory unit='GiB'>4</memory><currentMemory unit='MiB'>512</currentMemory>"
		"<vcpu>2</vcpu></domain>\n");
	fx_plan(f);
	fx_reason_has(fx_act(f, "db-1"), "memory: lab-a has 2Gi free after 1Gi reserved, db-1 needs 4Gi");
}

/* ---- unreachable and fenced hosts (rule 3) ---- */

static void test_plan_unreachable_host_is_unknown(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_last_host(f, "web-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_UNKNOWN);
	assert_int_equal(a->problem, PLAN_PROBLEM_HOST_UNKNOWN);
	assert_string_equal(a->src, "lab-a");
	fx_reason_has(a, "connection refused");
	assert_false(plan_has_changes(&f->plan));
}

static void test_plan_unreachable_pinned_host_blocks_define(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_unreachable(f, "lab-a");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->kind, PLAN_BLOCKED);
	assert_int_equal(a->problem, PLAN_PROBLEM_HOST_UNKNOWN);
}

static void test_plan_fenced_host_restarts_shared_vm(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
	fx_inv(f, "lab-c")->memory_free = 12 * GiB;
	fx_vm(f, "web-1", "1Gi", "");
	fx_last_host(f, "web-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_DEFINE_START, "lab-c", CRD_VM_PENDING);
	fx_reason_has(a, "host lab-a fenced: restarting elsewhere");
}

static void test_plan_fenced_host_loses_local_vm(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_vm(f, "db-1", "1Gi", "storage: local");
	fx_last_host(f, "db-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "db-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_UNKNOWN);
	assert_int_equal(a->problem, PLAN_PROBLEM_LOST);
	fx_reason_has(a, "lost until lab-a returns");
}

static void test_plan_fenced_host_keeps_pinned_vm_pending(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_last_host(f, "web-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_PENDING);
	fx_reason_has(a, "change spec.host");
}

static void test_plan_instance_elsewhere_wins_over_unreachable_last_host(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_last_host(f, "web-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-b", CRD_VM_RUNNING);
}

static void test_plan_fenced_host_leaves_stopped_vm_defined_there(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "running: false");
	fx_last_host(f, "web-1", "lab-a");
	fx_unreachable(f, "lab-a");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, NULL, CRD_VM_STOPPED);
}

static void test_plan_does_not_start_vm_on_fenced_host(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, "lab-a", CRD_VM_STOPPED);
	assert_string_equal(a->reason, "PreCheckFailed: schedulable: lab-a is fenced");
}

static void test_plan_cordoned_host_still_starts_its_own_vm(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", unschedulable: true");
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_vm(f, "web-2", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_START, "lab-a", CRD_VM_PENDING);
	assert_string_equal(fx_act(f, "web-2")->reason,
			    "PreCheckFailed: schedulable: lab-a is unschedulable");
}

static void test_plan_pin_to_undeclared_host_blocks(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-x");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->problem, PLAN_PROBLEM_NO_HOST);
	fx_reason_has(a, "spec.host lab-x is not a declared Host");
}

/* ---- in flight, order, determinism ---- */

static void test_plan_waits_while_migration_in_flight(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING)->job_active = true;
	struct inv_domain *in = fx_dom(f, "lab-b", "web-1", INV_PAUSED);
	in->migrating_in = true;
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_WAIT, "lab-b", CRD_VM_MIGRATING);
	assert_string_equal(a->src, "lab-a");
	fx_reason_has(a, "in progress");
}

static void test_plan_waits_while_adoptable_domain_has_a_job(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "");
	fx_domain(f, "lab-a", "web-1", NULL, INV_RUNNING)->job_active = true;
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_WAIT, NULL, CRD_VM_MIGRATING);
}

static void test_plan_invalid_domain_xml_blocks(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	struct crd_vm *vm = fx_vm_get(f, "web-1");
	vm->spec.domain.xml = fx_strdup("<domain><memory unit='parsec'>1</memory></domain>");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->kind, PLAN_BLOCKED);
	assert_int_equal(a->problem, PLAN_PROBLEM_PRECHECK);
	fx_reason_has(a, "PreCheckFailed: domain: <memory>");
}

static void test_plan_orders_actions_by_what_unblocks_others(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
	fx_vm(f, "a-none", "1Gi", "host: lab-b");
	fx_vm(f, "b-define", "1Gi", "host: lab-c");
	fx_vm(f, "c-move", "1Gi", "host: lab-c");
	fx_vm(f, "d-stop", "1Gi", "host: lab-b, running: false");
	fx_vm(f, "e-stale", "1Gi", "host: lab-b");
	fx_dom(f, "lab-b", "a-none", INV_RUNNING);
	fx_dom(f, "lab-b", "c-move", INV_RUNNING);
	fx_dom(f, "lab-b", "d-stop", INV_RUNNING);
	fx_dom(f, "lab-b", "e-stale", INV_RUNNING);
	fx_dom(f, "lab-a", "e-stale", INV_SHUTOFF);
	fx_plan(f);
	static const enum plan_kind want[] = {PLAN_UNDEFINE_STALE, PLAN_STOP, PLAN_MIGRATE_LIVE,
					      PLAN_DEFINE_START, PLAN_NONE};
	assert_int_equal(f->plan.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(plan_kind_str(f->plan.actions[i].kind), plan_kind_str(want[i]));
}

/* Two plans are equal field by field. */
static void assert_same_plan(const struct plan *x, const struct plan *y)
{
	assert_int_equal(x->n, y->n);
	for (size_t i = 0; i < x->n; i++) {
		const struct plan_action *a = &x->actions[i], *b = &y->actions[i];
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->problem, b->problem);
		assert_string_equal(a->vm->meta.name, b->vm->meta.name);
		assert_string_equal(a->src ? a->src : "-", b->src ? b->src : "-");
		assert_string_equal(a->dst ? a->dst : "-", b->dst ? b->dst : "-");
		assert_string_equal(a->reason, b->reason);
		assert_int_equal(a->phase, b->phase);
	}
}

/* A drain with more VMs than the limits let move, and new VMs, declared in either order. */
static void busy_world(struct fx *f, bool reverse)
{
	two_hosts(f);
	fx_host(f, "lab-c", ", drain: true");
	for (int k = 0; k < 6; k++) {
		int i = reverse ? 5 - k : k;
		char name[16];
		snprintf(name, sizeof(name), "vm-%d", i);
		fx_vm(f, name, i % 2 ? "2Gi" : "1Gi", "evictionStrategy: LiveMigrateIfPossible");
	}
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vm-%d", i);
		fx_dom(f, "lab-c", name, INV_RUNNING);
	}
}

static void test_plan_is_deterministic(void **state)
{
	struct fx *f = *state, *g = NULL;
	busy_world(f, false);
	fx_plan(f);
	assert_int_equal(fx_setup((void **)&g), 0);
	busy_world(g, true);
	fx_plan(g);
	assert_same_plan(&f->plan, &g->plan);
	fx_plan(g);     /* and again over the same input */
	assert_same_plan(&f->plan, &g->plan);
	fx_teardown((void **)&g);
}

static void test_plan_kind_names_and_null_frees(void **state)
{
	(void)state;
	for (int k = PLAN_NONE; k <= PLAN_WATCH_MIGRATION; k++)
		assert_true(plan_kind_str((enum plan_kind)k)[0] != '\0');
	assert_string_equal(plan_kind_str(PLAN_DEFINE_START), "define+start");
	plan_free(NULL);
	assert_false(plan_has_changes(NULL));
	struct plan_limits lim;
	plan_limits_default(&lim);
	assert_int_equal(lim.max_migrations, 5);
	assert_int_equal(lim.max_outbound_per_host, 2);
}

static void test_plan_empty_world_is_empty_plan(void **state)
{
	struct fx *f = *state;
	fx_plan(f);
	assert_int_equal(f->plan.n, 0);
	assert_false(plan_has_changes(&f->plan));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

/* Status finds each VM's action by its slot in the set: the VM's first action, never a
 * FINISH_MIGRATION (that row is about a Migration), NULL for a VM the plan leaves out. */
static void test_plan_actions_by_vm_gives_each_vm_its_own_action(void **state)
{
	struct fx *f = *state;
	fx_vm(f, "web-1", "1Gi", "");
	fx_vm(f, "web-2", "1Gi", "");
	fx_vm(f, "web-3", "1Gi", "");
	const struct crd_vm *v = f->set.vms;
	struct plan_action acts[] = {
		{.kind = PLAN_FINISH_MIGRATION, .vm = &v[1]},
		{.kind = PLAN_MIGRATE_LIVE, .vm = &v[1]},
		{.kind = PLAN_NONE, .vm = &v[0]},
		{.kind = PLAN_BLOCKED, .vm = &v[0]},
	};
	struct plan p = {.actions = acts, .n = 4};
	const struct plan_action **by = plan_actions_by_vm(&p, &f->set);

	assert_non_null(by);
	assert_ptr_equal(by[0], &acts[2]);
	assert_ptr_equal(by[1], &acts[1]);
	assert_null(by[2]);
	free(by);
	p.n = 0;                        /* an empty plan names no VM */
	by = plan_actions_by_vm(&p, &f->set);
	assert_non_null(by);
	assert_null(by[0]);
	free(by);
}

static void test_plan_actions_by_vm_matches_a_computed_plan(void **state)
{
	struct fx *f = *state;
	two_hosts(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_vm(f, "web-2", "1Gi", "host: lab-b");
	fx_vm(f, "web-3", "1Gi", "running: false");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	const struct plan_action **by = plan_actions_by_vm(&f->plan, &f->set);
	assert_non_null(by);
	assert_ptr_equal(by[0], fx_act(f, "web-1"));
	assert_ptr_equal(by[1], fx_act(f, "web-2"));
	assert_ptr_equal(by[2], fx_act(f, "web-3"));
	free(by);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_plan_converged_has_no_changes),
		T(test_plan_defines_and_starts_new_pinned_vm),
		T(test_plan_defines_stopped_vm_without_starting),
		T(test_plan_converges_power_state),
		T(test_plan_start_needs_memory_on_its_host),
		T(test_plan_conflict_when_defined_on_two_hosts),
		T(test_plan_conflict_when_both_copies_run_even_on_fenced_host),
		T(test_plan_undefines_stale_copy_on_fenced_host),
		T(test_plan_finishes_a_cold_move_cut_short_after_the_target_was_defined),
		T(test_plan_finishes_a_live_move_whose_source_definition_stayed),
		T(test_plan_settles_a_move_only_once_its_source_is_seen),
		T(test_plan_finishes_a_live_move_whose_source_stayed_paused),
		T(test_plan_a_paused_source_is_left_alone_without_proof_the_move_ended),
		T(test_plan_drops_stale_local_disks_of_a_move_that_ended_unseen),
		T(test_plan_keeps_shared_disks_of_a_move_that_ended_unseen),
		T(test_plan_waits_for_fenced_source_to_drop_stale_local_disks),
		T(test_plan_a_move_whose_target_vanished_waits_for_it),
		T(test_plan_a_vm_whose_move_target_vanished_is_not_defined_again),
		T(test_plan_drops_partial_local_disks_of_a_move_cut_short),
		T(test_plan_drops_local_disks_a_move_left_on_both_its_hosts),
		T(test_plan_cleans_up_two_cut_short_moves_one_at_a_time),
		T(test_plan_keeps_shared_disks_of_a_move_cut_short),
		T(test_plan_two_stopped_copies_without_a_running_move_are_a_conflict),
		T(test_plan_conflict_when_stale_copy_host_is_not_fenced),
		T(test_plan_unreadable_domain_makes_unpinned_vm_wait),
		T(test_plan_unreadable_domain_makes_pinned_stopped_vm_wait),
		T(test_plan_unreadable_domain_beside_an_owned_copy_waits),
		T(test_plan_adopts_foreign_domain_on_pinned_host),
		T(test_plan_adopts_foreign_domain_of_unpinned_vm_anywhere),
		T(test_plan_conflict_when_foreign_domain_is_away_from_pin),
		T(test_plan_conflict_when_two_foreign_domains),
		T(test_plan_domain_of_another_namespace_is_not_ours),
		T(test_plan_places_on_host_with_most_free_memory),
		T(test_plan_placement_ties_break_by_name),
		T(test_plan_placement_counts_memory_placed_by_same_plan),
		T(test_plan_placement_honours_host_selector),
		T(test_plan_placement_skips_cordoned_draining_and_fenced_hosts),
		T(test_plan_no_host_lists_why_each_host_failed),
		T(test_plan_unpinned_vm_stays_where_it_landed),
		T(test_plan_define_precheck_needs_bridge_and_visible_disk),
		T(test_plan_reads_memory_from_domain_xml),
		T(test_plan_unreachable_host_is_unknown),
		T(test_plan_unreachable_pinned_host_blocks_define),
		T(test_plan_fenced_host_restarts_shared_vm),
		T(test_plan_fenced_host_loses_local_vm),
		T(test_plan_fenced_host_keeps_pinned_vm_pending),
		T(test_plan_instance_elsewhere_wins_over_unreachable_last_host),
		T(test_plan_fenced_host_leaves_stopped_vm_defined_there),
		T(test_plan_does_not_start_vm_on_fenced_host),
		T(test_plan_cordoned_host_still_starts_its_own_vm),
		T(test_plan_pin_to_undeclared_host_blocks),
		T(test_plan_waits_while_migration_in_flight),
		T(test_plan_waits_while_adoptable_domain_has_a_job),
		T(test_plan_invalid_domain_xml_blocks),
		T(test_plan_orders_actions_by_what_unblocks_others),
		T(test_plan_is_deterministic),
		T(test_plan_kind_names_and_null_frees),
		T(test_plan_empty_world_is_empty_plan),
		T(test_plan_actions_by_vm_gives_each_vm_its_own_action),
		T(test_plan_actions_by_vm_matches_a_computed_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
