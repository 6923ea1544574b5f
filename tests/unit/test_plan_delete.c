/* Deletion, planned without I/O: directory mode's orphans (drover's domains no manifest
 * declares any more: reported, or with --prune stopped and undefined), and Kubernetes mode's
 * deleted objects (deletionPolicy Delete: stop and undefine; Retain: drop the metadata). */
#include "tests/unit/plan_fixtures.h"

#include "reconcile/plan_orphan.h"

static void test_orphans_are_drovers_domains_no_vm_declares(void **state)
{
	struct fx *f = *state;
	struct plan_orphans o;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_vm(f, "web-1", "1Gi", "");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_domain(f, "lab-a", "gone-1", "gone-1", INV_RUNNING);   /* drover's, undeclared */
	fx_domain(f, "lab-b", "gone-2", "gone-2", INV_SHUTOFF);
	fx_domain(f, "lab-b", "theirs", NULL, INV_RUNNING);       /* not drover's */
	fx_domain(f, "lab-b", "moving", "moving", INV_RUNNING)->job_active = true;

	assert_int_equal(plan_orphans_compute(&f->set, &f->inv, false, &o), 0);
	assert_int_equal(o.n, 2);
	assert_string_equal(o.items[0].name, "gone-1");
	assert_string_equal(o.items[0].host, "lab-a");
	assert_true(o.items[0].active);
	assert_false(o.items[0].prune);
	assert_string_equal(o.items[0].reason, "default/gone-1 is no longer declared; left running "
			    "(--prune stops and undefines it)");
	assert_string_equal(o.items[1].name, "gone-2");
	assert_false(o.items[1].active);
	plan_orphans_free(&o);

	assert_int_equal(plan_orphans_compute(&f->set, &f->inv, true, &o), 0);
	assert_int_equal(o.n, 2);
	assert_true(o.items[0].prune);
	assert_string_equal(o.items[0].reason, "default/gone-1 is no longer declared: stopping and "
			    "undefining it (disks kept)");
	plan_orphans_free(&o);
}

/* An unreachable host's domains are not seen, so they are never orphans. */
static void test_no_orphans_on_an_unreachable_host(void **state)
{
	struct fx *f = *state;
	struct plan_orphans o;
	fx_host(f, "lab-a", "");
	fx_domain(f, "lab-a", "gone-1", "gone-1", INV_RUNNING);
	fx_inv(f, "lab-a")->reachable = false;
	assert_int_equal(plan_orphans_compute(&f->set, &f->inv, true, &o), 0);
	assert_int_equal(o.n, 0);
	plan_orphans_free(&o);
}

static void test_deleted_vm_is_stopped_and_undefined(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "");
	vm->meta.deletion_timestamp = strdup("2026-12-04T10:00:00Z");
	fx_dom(f, "lab-b", "web-1", INV_RUNNING);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_DELETE, "lab-b", CRD_VM_RUNNING);
	assert_string_equal(a->reason, "deleted: stopping and undefining web-1 on lab-b (its disks "
			    "are kept)");
	assert_true(plan_has_changes(&f->plan));
}

static void test_deleted_vm_with_retain_is_disowned(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "deletionPolicy: Retain");
	vm->meta.deletion_timestamp = strdup("2026-12-04T10:00:00Z");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DISOWN, "lab-a", CRD_VM_RUNNING);
}

/* Nothing of drover's left: done, even with someone else's domain of the name there. */
static void test_deleted_vm_with_nothing_left_is_done(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "");
	vm->meta.deletion_timestamp = strdup("2026-12-04T10:00:00Z");
	fx_domain(f, "lab-a", "web-1", NULL, INV_RUNNING);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->kind, PLAN_NONE);
	assert_string_equal(a->reason, "deleted: no domain of web-1 is left");
	assert_true(a->released);
	assert_false(plan_has_changes(&f->plan));
}

/* A copy being deleted is never released while it is being stopped: the finalizer stays. */
static void test_deleted_vm_is_released_only_once_nothing_is_left(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "deletionPolicy: Retain");
	vm->meta.deletion_timestamp = strdup("2026-12-04T10:00:00Z");
	fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->kind, PLAN_DISOWN);
	assert_false(a->released);
}

/* An unreachable host may still hold a copy: the object is not released until it is seen
 * (or its Host is no longer declared). */
static void test_deleted_vm_waits_for_an_unreachable_host(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "");
	vm->meta.deletion_timestamp = strdup("2026-12-04T10:00:00Z");
	fx_inv(f, "lab-b")->reachable = false;
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	assert_int_equal(a->kind, PLAN_BLOCKED);
	assert_int_equal(a->problem, PLAN_PROBLEM_HOST_UNKNOWN);
	assert_false(a->released);
	assert_string_equal(a->reason, "deleted: waiting for host lab-b, unreachable, which may "
			    "still hold a domain of web-1");
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_orphans_are_drovers_domains_no_vm_declares),
		T(test_no_orphans_on_an_unreachable_host),
		T(test_deleted_vm_is_stopped_and_undefined),
		T(test_deleted_vm_with_retain_is_disowned),
		T(test_deleted_vm_with_nothing_left_is_done),
		T(test_deleted_vm_is_released_only_once_nothing_is_left),
		T(test_deleted_vm_waits_for_an_unreachable_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
