/* The planner moving VMs: spec.host changes, pre-checks, Migration objects, drains and the
 * concurrency limits. */
#include "tests/unit/plan_fixtures.h"

/* lab-a, lab-b and lab-c; web-1 (1Gi, with @spec) running on lab-a. */
static void pinned_on_a(struct fx *f, const char *spec)
{
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
	fx_vm(f, "web-1", "1Gi", spec);
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
}

static void test_plan_moves_vm_when_pin_changes(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "host: lab-b, migrationPolicy: {maxDowntimeMs: 50}");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
	assert_string_equal(a->src, "lab-a");
	assert_string_equal(a->reason, "spec.host changed: lab-a → lab-b");
	assert_null(a->migration);
	assert_int_equal(a->knobs.max_downtime_ms, 50);
	assert_int_equal(a->knobs.progress_timeout_s, 150);
}

static void test_plan_local_storage_uses_live_copy(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "host: lab-b, storage: local");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_MIGRATE_LIVE_COPY, "lab-b", CRD_VM_MIGRATING);
}

static void test_plan_stopped_vm_moves_cold_when_pin_changes(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-b, running: false");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_inv(f, "lab-b")->memory_free = 0;    /* it will not run there: memory is no matter */
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_MIGRATE_COLD, "lab-b", CRD_VM_MIGRATING);
}

static void test_plan_precheck_fails_when_target_lacks_memory(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "host: lab-b");
	fx_inv(f, "lab-b")->memory_free = 1536 * MiB;
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, "lab-b", CRD_VM_RUNNING);
	assert_int_equal(a->problem, PLAN_PROBLEM_PRECHECK);
	assert_string_equal(a->reason, "PreCheckFailed: memory: lab-b has 512Mi free after 1Gi "
			    "reserved, web-1 needs 1Gi");
	assert_false(plan_has_changes(&f->plan));
}

/* Pre-check table: one fault on the target, the check that names it. */
static void fault_unreachable(struct fx *f) { fx_unreachable(f, "lab-b"); }
static void fault_hv_type(struct fx *f)
{
	free(fx_inv(f, "lab-b")->hv_type);
	fx_inv(f, "lab-b")->hv_type = fx_strdup("Xen");
}
static void fault_hv_old(struct fx *f) { fx_inv(f, "lab-b")->hv_version = 6002000; }
static void fault_arch(struct fx *f)
{
	free(fx_inv(f, "lab-b")->arch);
	fx_inv(f, "lab-b")->arch = fx_strdup("aarch64");
}
static void fault_name(struct fx *f) { fx_domain(f, "lab-b", "web-1", NULL, INV_SHUTOFF); }
static void fault_uuid(struct fx *f)
{
	snprintf(fx_domain(f, "lab-b", "other", "other", INV_SHUTOFF)->uuid, 37, "uuid-web-1");
}
static void fault_bridge(struct fx *f)
{
	fx_inv(f, "lab-b")->n_bridges = 0;
	free(fx_inv(f, "lab-b")->bridges[0]);
}
static void fault_disk(struct fx *f)
{
	struct inv_pool *p = fx_pool(fx_inv(f, "lab-b"), "shared");
	while (p->n_volumes)
		free(p->volumes[--p->n_volumes]);
}
static void fault_cordon(struct fx *f)
{
	((struct crd_host *)crd_set_host(&f->set, NULL, "lab-b"))->spec.unschedulable = true;
}
static void fault_fenced(struct fx *f)
{
	((struct crd_host *)crd_set_host(&f->set, NULL, "lab-b"))->spec.fenced = true;
}

static void test_plan_precheck_names_the_failed_check(void **state)
{
	static const struct {
		void (*fault)(struct fx *f);
		const char *reason;
	} rows[] = {
		{fault_unreachable, "PreCheckFailed: reachable: lab-b is unreachable (connection refused)"},
		{fault_hv_type, "PreCheckFailed: hypervisor: lab-b runs Xen, lab-a runs QEMU"},
		{fault_hv_old, "PreCheckFailed: hypervisor: lab-b has QEMU 6.2.0, older than 7.2.0 on lab-a"},
		{fault_arch, "PreCheckFailed: arch: lab-b is aarch64, lab-a is x86_64"},
		{fault_name, "PreCheckFailed: name: lab-b already has a domain named web-1 not managed by drover"},
		{fault_uuid, "PreCheckFailed: uuid: lab-b already has a domain with UUID uuid-web-1"},
		{fault_bridge, "PreCheckFailed: network: lab-b has no bridge br0"},
		{fault_disk, "PreCheckFailed: storage: lab-b cannot see /shared/web-1.qcow2"},
		{fault_cordon, "PreCheckFailed: schedulable: lab-b is unschedulable"},
		{fault_fenced, "PreCheckFailed: schedulable: lab-b is fenced"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx *f = NULL;
		assert_int_equal(fx_setup((void **)&f), 0);
		pinned_on_a(f, "host: lab-b");
		rows[i].fault(f);
		fx_plan(f);
		const struct plan_action *a = fx_act(f, "web-1");
		assert_int_equal(a->kind, PLAN_BLOCKED);
		assert_int_equal(a->problem, PLAN_PROBLEM_PRECHECK);
		assert_string_equal(a->reason, rows[i].reason);
		fx_teardown((void **)&f);
	}
}

static void test_plan_local_storage_needs_pool_and_no_volume_on_target(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "host: lab-b, storage: local");
	fx_strv_add(&fx_pool(fx_inv(f, "lab-b"), "images")->volumes,
		    &fx_pool(fx_inv(f, "lab-b"), "images")->n_volumes, LOCAL_DIR "/web-1.qcow2");
	fx_plan(f);
	assert_string_equal(fx_act(f, "web-1")->reason, "PreCheckFailed: storage: lab-b already "
			    "has /var/lib/libvirt/images/web-1.qcow2");
	free(fx_pool(fx_inv(f, "lab-b"), "images")->path);
	fx_pool(fx_inv(f, "lab-b"), "images")->path = fx_strdup("/srv/images");
	fx_plan(f);
	assert_string_equal(fx_act(f, "web-1")->reason, "PreCheckFailed: storage: lab-b has no "
			    "storage pool for /var/lib/libvirt/images/web-1.qcow2");
}

/* ---- Migration objects (rule 6) ---- */

static void test_plan_migration_moves_unpinned_vm_to_target(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "migrationPolicy: {maxDowntimeMs: 50, compression: xbzrle}");
	fx_mig(f, "move-web-1", "web-1", "lab-c", "maxDowntimeMs: 900", "");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_MIGRATE_LIVE, "lab-c", CRD_VM_MIGRATING);
	assert_non_null(a->migration);
	assert_string_equal(a->migration->meta.name, "move-web-1");
	assert_string_equal(a->reason, "Migration move-web-1: lab-a → lab-c");
	assert_int_equal(a->knobs.max_downtime_ms, 900);
	assert_int_equal(a->knobs.compression, CRD_COMPRESS_XBZRLE);
	assert_null(fx_finish(f, "move-web-1"));
}

static void test_plan_migration_without_target_places_away_from_source(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_inv(f, "lab-a")->memory_free = 15 * GiB;
	fx_inv(f, "lab-c")->memory_free = 10 * GiB;
	fx_mig(f, "move-web-1", "web-1", NULL, "", "");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_MIGRATE_LIVE, "lab-c", CRD_VM_MIGRATING);
}

static void test_plan_rejects_migration_of_pinned_vm(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "host: lab-a");
	fx_mig(f, "move-web-1", "web-1", "lab-b", "", "");
	fx_plan(f);
	const struct plan_action *m = fx_finish(f, "move-web-1");
	assert_non_null(m);
	assert_int_equal(m->migration_phase, CRD_MIG_FAILED);
	assert_int_equal(m->problem, PLAN_PROBLEM_REJECTED);
	assert_string_equal(m->reason, "VirtualMachine web-1 is pinned to lab-a by spec.host; "
			    "change spec.host to move it");
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* Rule 6 for Migrations whose end is known before anything moves. */
static void test_plan_settles_migrations(void **state)
{
	static const struct {
		const char *spec, *status;      /* of the Migration to lab-b */
		bool on_b, running;             /* web-1 is on lab-b; it runs */
		enum crd_mig_phase phase;
		const char *reason;
	} rows[] = {
		{"cancel: true", "", false, true, CRD_MIG_CANCELLED, "cancelled by spec.cancel"},
		{"", "phase: Running, sourceHost: lab-a", true, true, CRD_MIG_SUCCEEDED,
		 "web-1 moved from lab-a to lab-b"},
		{"", "", true, true, CRD_MIG_SUCCEEDED, "web-1 is already on lab-b"},
		{"mode: Live", "", false, false, CRD_MIG_FAILED, "Live migration needs a running VM"},
		{"", "phase: Running, sourceHost: lab-a", false, true, CRD_MIG_FAILED,
		 "interrupted: no migration of web-1 is running; it stays on lab-a"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx *f = NULL;
		assert_int_equal(fx_setup((void **)&f), 0);
		fx_host(f, "lab-a", "");
		fx_host(f, "lab-b", "");
		fx_vm(f, "web-1", "1Gi", "");
		fx_dom(f, rows[i].on_b ? "lab-b" : "lab-a", "web-1",
		       rows[i].running ? INV_RUNNING : INV_SHUTOFF);
		fx_mig(f, "m", "web-1", "lab-b", rows[i].spec, rows[i].status);
		fx_plan(f);
		const struct plan_action *m = fx_finish(f, "m");
		assert_non_null(m);
		assert_int_equal(m->migration_phase, rows[i].phase);
		assert_string_equal(m->reason, rows[i].reason);
		assert_int_equal(fx_act(f, "web-1")->kind, rows[i].running ? PLAN_NONE : PLAN_START);
		fx_teardown((void **)&f);
	}
}

static void test_plan_terminal_migrations_are_ignored(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_mig(f, "old", "web-1", "lab-b", "", "phase: Succeeded");
	fx_mig(f, "gone", "web-1", "lab-b", "", "phase: Failed");
	fx_plan(f);
	assert_int_equal(f->plan.n, 1);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

static void test_plan_cold_mode_migration_moves_running_vm_cold(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_mig(f, "m", "web-1", "lab-b", "mode: Cold", "");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_MIGRATE_COLD, "lab-b", CRD_VM_MIGRATING);
}

static void test_plan_auto_migration_falls_back_to_cold(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_inv(f, "lab-b")->hv_version = 6002000;
	fx_mig(f, "m", "web-1", "lab-b", "", "");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_MIGRATE_COLD, "lab-b", CRD_VM_MIGRATING);
	fx_reason_has(a, "cold because live migration is not possible: hypervisor:");
}

static void test_plan_live_mode_migration_does_not_fall_back(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_inv(f, "lab-b")->hv_version = 6002000;
	fx_mig(f, "m", "web-1", "lab-b", "mode: Live", "");
	fx_plan(f);
	const struct plan_action *m = fx_finish(f, "m");
	assert_non_null(m);
	assert_int_equal(m->migration_phase, CRD_MIG_FAILED);
	fx_reason_has(m, "PreCheckFailed: hypervisor:");
}

static void test_plan_migration_precheck_failure_fails_migration(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_inv(f, "lab-b")->memory_free = 1536 * MiB;
	fx_mig(f, "m", "web-1", "lab-b", "", "");
	fx_plan(f);
	const struct plan_action *m = fx_finish(f, "m");
	assert_non_null(m);
	assert_int_equal(m->migration_phase, CRD_MIG_FAILED);
	assert_int_equal(m->problem, PLAN_PROBLEM_PRECHECK);
	assert_string_equal(m->reason, "PreCheckFailed: memory: lab-b has 512Mi free after 1Gi "
			    "reserved, web-1 needs 1Gi");
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

static void test_plan_older_migration_wins(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_mig(f, "first", "web-1", "lab-c", "", "");
	fx_mig(f, "second", "web-1", "lab-b", "", "");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_MIGRATE_LIVE, "lab-c", CRD_VM_MIGRATING);
	assert_string_equal(a->migration->meta.name, "first");
	assert_null(fx_finish(f, "second"));
	assert_int_equal(f->plan.n, 1);
}

static void test_plan_migration_of_undefined_vm_fails(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "");
	fx_mig(f, "m", "web-1", "lab-b", "", "");
	fx_plan(f);
	const struct plan_action *m = fx_finish(f, "m");
	assert_non_null(m);
	assert_int_equal(m->problem, PLAN_PROBLEM_REJECTED);
	assert_int_equal(fx_act(f, "web-1")->kind, PLAN_DEFINE_START);
}

static void test_plan_migration_to_undeclared_host_is_rejected(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_mig(f, "m", "web-1", "lab-x", "", "");
	fx_plan(f);
	const struct plan_action *m = fx_finish(f, "m");
	assert_non_null(m);
	assert_int_equal(m->problem, PLAN_PROBLEM_REJECTED);
	assert_string_equal(m->reason, "target host lab-x is not a declared Host");
}

static void test_plan_leaves_migrations_of_vm_in_flight_alone(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_inv(f, "lab-a")->domains[0].job_active = true;
	fx_mig(f, "m", "web-1", "lab-b", "cancel: true", "phase: Running, sourceHost: lab-a");
	fx_plan(f);
	assert_null(fx_finish(f, "m"));
	fx_expect(fx_act(f, "web-1"), PLAN_WAIT, NULL, CRD_VM_MIGRATING);
}

static void test_plan_migration_of_other_namespace_is_not_ours(void **state)
{
	struct fx *f = *state;
	pinned_on_a(f, "");
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: Migration\n"
		"metadata: {name: m, namespace: prod}\nspec: {vmName: web-1, targetHost: lab-b}\n");
	fx_plan(f);
	assert_int_equal(f->plan.n, 1);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* ---- drains (rule 8) ---- */

static void draining_a(struct fx *f)
{
	fx_host(f, "lab-a", ", drain: true");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
}

static void test_plan_drain_biggest_first(void **state)
{
	struct fx *f = *state;
	draining_a(f);
	fx_vm(f, "small", "1Gi", "");
	fx_vm(f, "big", "4Gi", "");
	fx_vm(f, "mid", "2Gi", "");
	fx_dom(f, "lab-a", "small", INV_RUNNING);
	fx_dom(f, "lab-a", "big", INV_RUNNING);
	fx_dom(f, "lab-a", "mid", INV_RUNNING);
	fx_plan(f);
	assert_int_equal(fx_index(f, "big", PLAN_MIGRATE_LIVE), 0);
	assert_int_equal(fx_index(f, "mid", PLAN_MIGRATE_LIVE), 1);
	fx_expect(fx_act(f, "big"), PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
	fx_expect(fx_act(f, "mid"), PLAN_MIGRATE_LIVE, "lab-c", CRD_VM_MIGRATING);
	const struct plan_action *w = fx_act(f, "small");
	fx_expect(w, PLAN_WAIT, NULL, CRD_VM_RUNNING);
	fx_reason_has(w, "waiting: 2 migrations leaving lab-a (limit 2)");
	fx_reason_has(fx_act(f, "big"), "host lab-a draining");
}

static void test_plan_drain_blocks_pinned_vm(void **state)
{
	struct fx *f = *state;
	draining_a(f);
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->problem, PLAN_PROBLEM_EVICTION);
	fx_reason_has(a, "pinned to lab-a by spec.host");
}

static void test_plan_drain_keeps_vm_with_eviction_none(void **state)
{
	struct fx *f = *state;
	draining_a(f);
	fx_vm(f, "web-1", "1Gi", "evictionStrategy: None");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_RUNNING);
	assert_int_equal(a->problem, PLAN_PROBLEM_EVICTION);
	fx_reason_has(a, "evictionStrategy None");
}

static void test_plan_drain_live_only_blocks_stopped_vm(void **state)
{
	struct fx *f = *state;
	draining_a(f);
	fx_vm(f, "web-1", "1Gi", "evictionStrategy: LiveMigrate");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->problem, PLAN_PROBLEM_EVICTION);
	fx_reason_has(a, "needs a running VM");
}

static void test_plan_drain_if_possible_moves_stopped_vm_cold(void **state)
{
	struct fx *f = *state;
	draining_a(f);
	fx_vm(f, "web-1", "1Gi", "evictionStrategy: LiveMigrateIfPossible");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_MIGRATE_COLD, "lab-b", CRD_VM_MIGRATING);
}

static void test_plan_drain_if_possible_falls_back_to_cold(void **state)
{
	struct fx *f = *state;
	draining_a(f);
	fx_inv(f, "lab-b")->hv_version = 6000000;
	fx_inv(f, "lab-c")->hv_version = 6000000;
	fx_vm(f, "web-1", "1Gi", "evictionStrategy: LiveMigrateIfPossible");
	fx_vm(f, "web-2", "1Gi", "evictionStrategy: LiveMigrate");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_dom(f, "lab-a", "web-2", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_MIGRATE_COLD, "lab-b", CRD_VM_MIGRATING);
	const struct plan_action *a = fx_act(f, "web-2");
	assert_int_equal(a->problem, PLAN_PROBLEM_EVICTION);
	fx_reason_has(a, "host lab-a draining: cannot live-migrate web-2: no schedulable host: "
		      "lab-b: PreCheckFailed: hypervisor");
}

static void test_plan_drain_stops_vm_that_should_not_run(void **state)
{
	struct fx *f = *state;
	draining_a(f);
	fx_vm(f, "web-1", "1Gi", "running: false");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_STOP, "lab-a", CRD_VM_RUNNING);
}

static void test_plan_undrained_host_keeps_its_vms(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", drain: false");
	fx_host(f, "lab-b", "");
	fx_inv(f, "lab-b")->memory_free = 15 * GiB;
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* ---- limits (rules 9 and 10) ---- */

static void test_plan_respects_outbound_limit(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	f->lim.max_outbound_per_host = 1;
	fx_vm(f, "web-1", "1Gi", "host: lab-b");
	fx_vm(f, "web-2", "1Gi", "host: lab-b");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_dom(f, "lab-a", "web-2", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
	const struct plan_action *w = fx_act(f, "web-2");
	fx_expect(w, PLAN_WAIT, "lab-b", CRD_VM_RUNNING);
	fx_reason_has(w, "waiting: 1 migrations leaving lab-a (limit 1)");
}

static void test_plan_in_flight_migrations_count_against_cluster_limit(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
	f->lim.max_migrations = 1;
	fx_vm(f, "busy", "1Gi", "host: lab-c");
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_dom(f, "lab-b", "busy", INV_RUNNING)->job_active = true;
	fx_dom(f, "lab-c", "busy", INV_PAUSED)->migrating_in = true;
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "busy"), PLAN_WAIT, "lab-c", CRD_VM_MIGRATING);
	const struct plan_action *w = fx_act(f, "web-1");
	fx_expect(w, PLAN_WAIT, "lab-a", CRD_VM_RUNNING);
	fx_reason_has(w, "waiting: 1 migrations running (limit 1)");
}

static void test_plan_migration_memory_counts_for_later_placements(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_inv(f, "lab-b")->memory_free = 4 * GiB;      /* 3Gi after reserve */
	fx_inv(f, "lab-a")->memory_free = 1 * GiB;
	fx_vm(f, "big", "2Gi", "host: lab-b");
	fx_vm(f, "new", "2Gi", "");
	fx_dom(f, "lab-a", "big", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "big"), PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
	const struct plan_action *a = fx_act(f, "new");
	assert_int_equal(a->problem, PLAN_PROBLEM_NO_HOST);
	fx_reason_has(a, "lab-b: PreCheckFailed: memory: lab-b has 1Gi free after 1Gi reserved "
		      "and 2Gi placed by this plan, new needs 2Gi");
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_plan_moves_vm_when_pin_changes),
		T(test_plan_local_storage_uses_live_copy),
		T(test_plan_stopped_vm_moves_cold_when_pin_changes),
		T(test_plan_precheck_fails_when_target_lacks_memory),
		T(test_plan_precheck_names_the_failed_check),
		T(test_plan_local_storage_needs_pool_and_no_volume_on_target),
		T(test_plan_migration_moves_unpinned_vm_to_target),
		T(test_plan_migration_without_target_places_away_from_source),
		T(test_plan_rejects_migration_of_pinned_vm),
		T(test_plan_settles_migrations),
		T(test_plan_terminal_migrations_are_ignored),
		T(test_plan_cold_mode_migration_moves_running_vm_cold),
		T(test_plan_auto_migration_falls_back_to_cold),
		T(test_plan_live_mode_migration_does_not_fall_back),
		T(test_plan_migration_precheck_failure_fails_migration),
		T(test_plan_older_migration_wins),
		T(test_plan_migration_of_undefined_vm_fails),
		T(test_plan_migration_to_undeclared_host_is_rejected),
		T(test_plan_leaves_migrations_of_vm_in_flight_alone),
		T(test_plan_migration_of_other_namespace_is_not_ours),
		T(test_plan_drain_biggest_first),
		T(test_plan_drain_blocks_pinned_vm),
		T(test_plan_drain_keeps_vm_with_eviction_none),
		T(test_plan_drain_live_only_blocks_stopped_vm),
		T(test_plan_drain_if_possible_moves_stopped_vm_cold),
		T(test_plan_drain_if_possible_falls_back_to_cold),
		T(test_plan_drain_stops_vm_that_should_not_run),
		T(test_plan_undrained_host_keeps_its_vms),
		T(test_plan_respects_outbound_limit),
		T(test_plan_in_flight_migrations_count_against_cluster_limit),
		T(test_plan_migration_memory_counts_for_later_placements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
