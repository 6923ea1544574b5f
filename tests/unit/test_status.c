/* test_status: status written back — conditions follow the Kubernetes conventions
 * (lastTransitionTime moves only on a transition), VM status follows the plan, and a
 * Migration records when it entered each phase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/status.h"

static void test_condition_time_changes_only_on_transition(void **state)
{
	struct crd_conditions c = {0};
	(void)state;
	assert_int_equal(status_set_condition(&c, "Running", CRD_COND_TRUE, "DomainActive", "", 1,
					      "2026-11-23T10:00:00Z"), 0);
	assert_int_equal(status_set_condition(&c, "Running", CRD_COND_TRUE, "DomainActive", "x", 2,
					      "2026-11-23T11:00:00Z"), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0].last_transition_time, "2026-11-23T10:00:00Z");
	assert_int_equal(c.items[0].observed_generation, 2);
	assert_string_equal(c.items[0].message, "x");
	assert_int_equal(status_set_condition(&c, "Running", CRD_COND_FALSE, "DomainInactive", "", 2,
					      "2026-11-23T12:00:00Z"), 0);
	assert_string_equal(c.items[0].last_transition_time, "2026-11-23T12:00:00Z");
	assert_string_equal(c.items[0].reason, "DomainInactive");
	crd_conditions_free(&c);
}

static void test_problem_reasons_are_condition_reasons(void **state)
{
	(void)state;
	assert_string_equal(status_problem_reason(PLAN_PROBLEM_PRECHECK), "PreCheckFailed");
	assert_string_equal(status_problem_reason(PLAN_PROBLEM_CONFLICT), "Conflict");
	assert_string_equal(status_problem_reason(PLAN_PROBLEM_NONE), "");
}

static void test_migration_status_copies_the_move_record(void **state)
{
	struct crd_migration_status st = {0};
	struct exec_move mv = {.phase = CRD_MIG_FAILED, .mode = CRD_RUN_PRECOPY, .downtime_ms = -1};
	(void)state;
	snprintf(mv.source, sizeof(mv.source), "lab-a");
	snprintf(mv.target, sizeof(mv.target), "lab-b");
	snprintf(mv.note, sizeof(mv.note), "live migration lab-a → lab-b: no progress, aborted");
	mv.progress.percent = 40;
	assert_int_equal(status_migration_update(&st, &mv, 3, "2026-11-23T10:00:00Z"), 0);
	assert_int_equal(st.phase, CRD_MIG_FAILED);
	assert_string_equal(st.source_host, "lab-a");
	assert_string_equal(st.failure_reason, mv.note);
	assert_int_equal(st.downtime_ms, 0);
	assert_int_equal(st.progress.percent, 40);
	assert_int_equal(st.conditions.n, 1);
	assert_int_equal(st.n_transitions, 1);
	assert_int_equal(st.transitions[0].phase, CRD_MIG_FAILED);
	assert_string_equal(st.transitions[0].time, "2026-11-23T10:00:00Z");
	struct crd_migration m = {.status = st};
	crd_migration_free(&m);
}

/* A move reported as it goes: Running many times (progress), then its end. */
static void test_migration_phase_transitions_are_recorded_in_order_with_times(void **state)
{
	struct crd_migration m = {0};
	struct exec_move mv = {.phase = CRD_MIG_RUNNING, .mode = CRD_RUN_PRECOPY};
	(void)state;

	assert_int_equal(status_migration_update(&m.status, &mv, 1, "2026-11-23T10:00:00Z"), 0);
	mv.progress.percent = 50;
	assert_int_equal(status_migration_update(&m.status, &mv, 1, "2026-11-23T10:00:04Z"), 0);
	mv.phase = CRD_MIG_SUCCEEDED;
	assert_int_equal(status_migration_update(&m.status, &mv, 1, "2026-11-23T10:00:09Z"), 0);
	assert_int_equal(m.status.phase, CRD_MIG_SUCCEEDED);
	assert_int_equal(m.status.n_transitions, 2);
	assert_int_equal(m.status.transitions[0].phase, CRD_MIG_RUNNING);
	assert_string_equal(m.status.transitions[0].time, "2026-11-23T10:00:00Z");
	assert_int_equal(m.status.transitions[1].phase, CRD_MIG_SUCCEEDED);
	assert_string_equal(m.status.transitions[1].time, "2026-11-23T10:00:09Z");
	crd_migration_free(&m);
}

static void test_writing_the_same_phase_again_adds_no_transition(void **state)
{
	struct crd_migration m = {0};
	struct crd_migration_status *st = &m.status;
	(void)state;

	assert_int_equal(status_migration_set_phase(st, CRD_MIG_PENDING, "2026-11-23T10:00:00Z"), 0);
	assert_int_equal(status_migration_set_phase(st, CRD_MIG_PENDING, "2026-11-23T10:05:00Z"), 0);
	assert_int_equal(st->n_transitions, 1);
	assert_string_equal(st->transitions[0].time, "2026-11-23T10:00:00Z");
	/* No phase is no transition. */
	assert_int_equal(status_migration_set_phase(st, CRD_MIG_PHASE_NONE, "2026-11-23T10:06:00Z"),
			 0);
	assert_int_equal(st->n_transitions, 1);
	crd_migration_free(&m);
}

/* A record read back with a history resumes it: only a different phase is added. */
static void test_transitions_continue_a_history_read_back(void **state)
{
	struct crd_migration m = {0};
	struct crd_migration_status *st = &m.status;
	(void)state;

	st->phase = CRD_MIG_RUNNING;
	st->transitions[0].phase = CRD_MIG_RUNNING;
	st->transitions[0].time = strdup("2026-11-23T09:00:00Z");
	st->n_transitions = 1;
	assert_int_equal(status_migration_set_phase(st, CRD_MIG_RUNNING, "2026-11-23T10:00:00Z"), 0);
	assert_int_equal(status_migration_set_phase(st, CRD_MIG_CANCELLED, "2026-11-23T10:00:01Z"), 0);
	assert_int_equal(st->n_transitions, 2);
	assert_string_equal(st->transitions[0].time, "2026-11-23T09:00:00Z");
	assert_int_equal(st->transitions[1].phase, CRD_MIG_CANCELLED);
	assert_string_equal(st->transitions[1].time, "2026-11-23T10:00:01Z");
	crd_migration_free(&m);
}

static void test_transitions_are_capped_keeping_the_latest(void **state)
{
	struct crd_migration m = {0};
	char now[32];
	(void)state;

	for (int i = 0; i < CRD_MIG_TRANSITIONS_MAX + 4; i++) {
		snprintf(now, sizeof(now), "2026-11-23T10:00:%02dZ", i);
		assert_int_equal(status_migration_set_phase(&m.status, i % 2 ? CRD_MIG_RUNNING
							    : CRD_MIG_PENDING, now), 0);
	}
	assert_int_equal(m.status.n_transitions, CRD_MIG_TRANSITIONS_MAX);
	assert_string_equal(m.status.transitions[0].time, "2026-11-23T10:00:04Z");
	assert_int_equal(m.status.transitions[0].phase, CRD_MIG_PENDING);
	assert_string_equal(m.status.transitions[CRD_MIG_TRANSITIONS_MAX - 1].time,
			    "2026-11-23T10:00:19Z");
	assert_int_equal(m.status.transitions[CRD_MIG_TRANSITIONS_MAX - 1].phase, CRD_MIG_RUNNING);
	crd_migration_free(&m);
}

static void test_vm_keeps_its_last_host_while_that_host_is_unseen(void **state)
{
	struct crd_vm vm = {0};
	struct inv_host hosts[2] = {{.name = "lab-a", .reachable = true},
				    {.name = "lab-c", .reachable = false}};
	struct inventory inv = {.hosts = hosts, .n_hosts = 2};
	struct plan_action lost = {.kind = PLAN_BLOCKED, .problem = PLAN_PROBLEM_LOST,
				   .vm = &vm, .phase = CRD_VM_UNKNOWN};
	struct inv_index doms;
	(void)state;

	vm.meta.name = "db-1";
	vm.meta.namespace = "default";
	vm.status.host = strdup("lab-c");
	assert_int_equal(inv_index_inventory(&doms, &inv), 0);
	/* Lost (not only "unknown"): the last host must survive, or the next pass would
	 * see a VM defined nowhere and define a second copy. */
	assert_int_equal(status_vm_update(&vm, &lost, &inv, &doms, "2026-11-23T10:00:00Z"), 0);
	assert_string_equal(vm.status.host, "lab-c");
	/* Once lab-c is seen again without a copy, the VM is nowhere. */
	hosts[1].reachable = true;
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:01:00Z"), 0);
	assert_null(vm.status.host);
	crd_conditions_free(&vm.status.conditions);
	inv_index_free(&doms);
}

static void test_vm_keeps_its_last_host_while_its_domain_there_is_unowned(void **state)
{
	struct crd_vm vm = {0};
	struct inv_domain dom = {.name = "db-1", .state = INV_RUNNING, .active = true,
				 .persistent = true};
	struct inv_host hosts[1] = {{.name = "lab-a", .reachable = true, .domains = &dom,
				     .n_domains = 1}};
	struct inventory inv = {.hosts = hosts, .n_hosts = 1};
	struct inv_index doms;
	(void)state;

	vm.meta.name = "db-1";
	vm.meta.namespace = "default";
	vm.status.host = strdup("lab-a");
	assert_int_equal(inv_index_inventory(&doms, &inv), 0);
	/* Redefined behind drover's back without its element: still where the VM may run. */
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:00:00Z"), 0);
	assert_string_equal(vm.status.host, "lab-a");
	/* Its definition unreadable this pass: the same. */
	dom.definition_unknown = true;
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:01:00Z"), 0);
	assert_string_equal(vm.status.host, "lab-a");
	/* Someone else's domain of that name is not the VM. */
	dom.definition_unknown = false;
	dom.owner_namespace = "other";
	dom.owner_name = "db-1";
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:02:00Z"), 0);
	assert_null(vm.status.host);
	crd_conditions_free(&vm.status.conditions);
	inv_index_free(&doms);
}

/* A define+start writes status.host ahead; passes while its job runs keep it (the VM is
 * not there yet), the first pass after sees it there or not. */
static void test_vm_landing_is_written_ahead_and_kept_while_its_job_runs(void **state)
{
	struct crd_vm vm = {0};
	struct inv_host hosts[2] = {{.name = "lab-a", .reachable = true},
				    {.name = "lab-b", .reachable = true}};
	struct inv_job job = {.vm_namespace = "default", .vm_name = "db-1",
			      .what = "define+start → lab-b", .dst = "lab-b"};
	struct inventory inv = {.hosts = hosts, .n_hosts = 2, .jobs = &job, .n_jobs = 1};
	struct inv_index doms;
	(void)state;

	vm.meta.name = "db-1";
	vm.meta.namespace = "default";
	assert_int_equal(status_vm_landing(&vm, "lab-b"), 0);
	assert_string_equal(vm.status.host, "lab-b");
	assert_int_equal(inv_index_inventory(&doms, &inv), 0);
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:00:00Z"), 0);
	assert_string_equal(vm.status.host, "lab-b");
	/* A job of the VM to another host does not hold this one. */
	job.dst = "lab-a";
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:00:30Z"), 0);
	assert_null(vm.status.host);
	/* Job ended, the VM never came to lab-b (the define failed): nowhere. */
	assert_int_equal(status_vm_landing(&vm, "lab-b"), 0);
	inv.n_jobs = 0;
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:01:00Z"), 0);
	assert_null(vm.status.host);
	/* Ended, and lab-b stopped answering before a pass saw the VM there: it may run there. */
	assert_int_equal(status_vm_landing(&vm, "lab-b"), 0);
	hosts[1].reachable = false;
	assert_int_equal(status_vm_update(&vm, NULL, &inv, &doms, "2026-11-23T10:02:00Z"), 0);
	assert_string_equal(vm.status.host, "lab-b");
	free(vm.status.host);
	crd_conditions_free(&vm.status.conditions);
	inv_index_free(&doms);
}

/* status.placement follows the action that placed the VM and stays when a later action did
 * not place it; Host status shows CPU threads, the running guests' vCPUs, load and pages. */
static void test_status_shows_placement_and_host_capacity(void **state)
{
	struct crd_vm vm = {0};
	struct crd_host h = {0};
	struct inv_domain doms_a[2] = {{.name = "x", .active = true, .vcpus = 2},
				       {.name = "y", .active = false, .vcpus = 8}};
	struct inv_host hosts[1] = {{.name = "lab-a", .reachable = true, .cpu_threads = 4,
				     .has_cpu_load = true, .cpu_load = 0.25, .domains = doms_a,
				     .n_domains = 2, .n_hugepages = 1,
				     .hugepages = {{.page_size = 2u << 20, .total = 512, .free = 100}}}};
	struct inventory inv = {.hosts = hosts, .n_hosts = 1};
	struct crd_kv no[] = {{"lab-b", "anti-affinity app=db (required): db-2 runs on lab-b"}};
	struct plan_action placed = {.kind = PLAN_DEFINE_START, .vm = &vm, .phase = CRD_VM_PENDING,
				     .placement = "most free memory of 1 feasible host",
				     .rejected = {no, 1}};
	struct plan_action none = {.kind = PLAN_NONE, .vm = &vm, .phase = CRD_VM_RUNNING};
	struct inv_index doms;
	(void)state;

	vm.meta.name = "db-1";
	vm.meta.namespace = "default";
	h.meta.name = "lab-a";
	assert_int_equal(inv_index_inventory(&doms, &inv), 0);
	assert_int_equal(status_vm_update(&vm, &placed, &inv, &doms, "2026-11-23T10:00:00Z"), 0);
	assert_int_equal(status_vm_update(&vm, &none, &inv, &doms, "2026-11-23T10:01:00Z"), 0);
	assert_string_equal(vm.status.placement.reason, "most free memory of 1 feasible host");
	assert_int_equal(vm.status.placement.rejected.n, 1);
	assert_string_equal(crd_map_get(&vm.status.placement.rejected, "lab-b"), no[0].value);
	assert_int_equal(status_host_update(&h, &hosts[0], "2026-11-23T10:00:00Z"), 0);
	assert_int_equal(h.status.cpu.threads, 4);
	assert_int_equal(h.status.cpu.allocated_vcpus, 2);
	assert_true(h.status.cpu.load == 0.25);
	assert_int_equal(h.status.hugepages.page_size, 2u << 20);
	assert_int_equal(h.status.hugepages.free, 100);
	free(vm.status.placement.reason);
	crd_map_free(&vm.status.placement.rejected);
	free(vm.status.host);
	crd_conditions_free(&vm.status.conditions);
	h.meta.name = NULL;
	crd_host_free(&h);
	inv_index_free(&doms);
}

/* A VM's instance: its own copy (namespace and name in drover's metadata) on a reachable
 * host, not an incoming migration's target; an active copy first, else the first defined
 * in inventory order. */
static void test_vm_status_finds_its_own_copy_among_hosts_and_namespaces(void **state)
{
	struct inv_domain a[] = {{.name = "web-1", .owner_namespace = "other", .owner_name = "web-1",
				  .active = true},
				 {.name = "db-1"}};             /* not drover's */
	struct inv_domain b[] = {{.name = "db-1", .owner_name = "db-1"},
				 {.name = "web-1", .owner_name = "web-1"}};
	struct inv_domain c[] = {{.name = "web-1", .owner_name = "web-1", .active = true},
				 {.name = "db-1", .owner_name = "db-1"}};
	struct inv_domain d[] = {{.name = "web-1", .owner_name = "web-1", .active = true}};
	struct inv_domain e[] = {{.name = "web-1", .owner_name = "web-1", .active = true,
				  .migrating_in = true}};
	struct inv_host hosts[] = {
		{.name = "lab-a", .reachable = true, .domains = a, .n_domains = 2},
		{.name = "lab-b", .reachable = true, .domains = b, .n_domains = 2},
		{.name = "lab-c", .reachable = true, .domains = c, .n_domains = 2},
		{.name = "lab-d", .reachable = false, .domains = d, .n_domains = 1},
		{.name = "lab-e", .reachable = true, .domains = e, .n_domains = 1},
	};
	struct inventory inv = {.hosts = hosts, .n_hosts = 5};
	struct crd_vm vms[] = {{.meta = {.name = "web-1", .namespace = "default"}},
			       {.meta = {.name = "web-1", .namespace = "other"}},
			       {.meta = {.name = "db-1", .namespace = "default"}},
			       {.meta = {.name = "web-2", .namespace = "default"}}};
	const char *want_host[] = {"lab-c", "lab-a", "lab-b", NULL};
	const enum crd_vm_phase want_phase[] = {CRD_VM_RUNNING, CRD_VM_RUNNING, CRD_VM_STOPPED,
						CRD_VM_PENDING};
	struct inv_index doms;
	(void)state;

	assert_int_equal(inv_index_inventory(&doms, &inv), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(status_vm_update(&vms[i], NULL, &inv, &doms, "2026-11-23T10:00:00Z"),
				 0);
		if (want_host[i])
			assert_string_equal(vms[i].status.host, want_host[i]);
		else
			assert_null(vms[i].status.host);
		assert_int_equal(vms[i].status.phase, want_phase[i]);
		free(vms[i].status.host);
		crd_conditions_free(&vms[i].status.conditions);
	}
	inv_index_free(&doms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_condition_time_changes_only_on_transition),
		cmocka_unit_test(test_problem_reasons_are_condition_reasons),
		cmocka_unit_test(test_migration_status_copies_the_move_record),
		cmocka_unit_test(test_migration_phase_transitions_are_recorded_in_order_with_times),
		cmocka_unit_test(test_writing_the_same_phase_again_adds_no_transition),
		cmocka_unit_test(test_transitions_continue_a_history_read_back),
		cmocka_unit_test(test_transitions_are_capped_keeping_the_latest),
		cmocka_unit_test(test_vm_keeps_its_last_host_while_that_host_is_unseen),
		cmocka_unit_test(test_vm_keeps_its_last_host_while_its_domain_there_is_unowned),
		cmocka_unit_test(test_vm_landing_is_written_ahead_and_kept_while_its_job_runs),
		cmocka_unit_test(test_vm_status_finds_its_own_copy_among_hosts_and_namespaces),
		cmocka_unit_test(test_status_shows_placement_and_host_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
