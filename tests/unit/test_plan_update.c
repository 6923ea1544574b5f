/* A changed spec.domain: the spec is compared with the persistent definition (PLAN_REDEFINE),
 * the definition with the running guest (RestartRequired), without I/O. */
#include "tests/unit/plan_fixtures.h"

#include "crd/domain.h"
#include "reconcile/defdiff.h"
#include "reconcile/invindex.h"
#include "reconcile/status.h"

/* Gives @d the facts of @vm's spec as its definition: the state right after drover
 * defined it. */
static void fx_defined_as_spec(struct inv_domain *d, const struct crd_vm *vm)
{
	char *xml = crd_vm_domain_xml(vm);
	assert_non_null(xml);
	assert_int_equal(defdiff_from_xml(xml, &d->facts), 0);
	free(xml);
}

static const struct crd_condition *condition(const struct crd_vm *vm, const char *type)
{
	for (size_t i = 0; i < vm->status.conditions.n; i++)
		if (!strcmp(vm->status.conditions.items[i].type, type))
			return &vm->status.conditions.items[i];
	return NULL;
}

static void test_defdiff_reads_what_needs_a_restart(void **state)
{
	struct inv_facts f;
	(void)state;

	assert_int_equal(defdiff_from_xml(
		"<domain type='qemu'><name>x</name><memory unit='MiB'>64</memory>"
		"<vcpu placement='static'>2</vcpu><os><kernel>/k</kernel><cmdline>a=1</cmdline></os>"
		"<memoryBacking><hugepages/></memoryBacking><devices>"
		"<disk type='block'><source dev='/dev/sdb'/><target dev='vda'/></disk>"
		"<interface type='network'><source network='default' bridge='virbr0'/></interface>"
		"</devices></domain>", &f), 0);
	assert_true(f.known);
	assert_string_equal(f.type, "qemu");
	assert_int_equal(f.memory, 64 * MiB);
	assert_int_equal(f.vcpus, 2);
	assert_string_equal(f.kernel, "/k");
	assert_string_equal(f.cmdline, "a=1");
	assert_true(f.hugepages);
	assert_int_equal(f.n_disks, 1);
	assert_string_equal(f.disks[0], "/dev/sdb");
	assert_int_equal(f.n_ifaces, 1);
	assert_string_equal(f.ifaces[0], "network:default");
	inv_facts_free(&f);
	assert_int_equal(defdiff_from_xml("<domain type='kvm'/>", &f), -1);
	assert_false(f.known);
}

/* libvirt drops an empty <cmdline/>: a spec's cmdline "" is the definition's none, not a
 * difference that would redefine the domain on every pass. */
static void test_defdiff_an_empty_cmdline_is_none(void **state)
{
	struct inv_facts want = {.known = true, .type = "kvm", .memory = 64 * MiB, .vcpus = 1,
				 .cmdline = ""};
	struct inv_facts have = want;
	char why[256];
	(void)state;

	have.cmdline = NULL;
	assert_false(defdiff_differs(&want, &have, why, sizeof(why)));
	have.cmdline = "quiet";
	assert_true(defdiff_differs(&want, &have, why, sizeof(why)));
}

static void test_defdiff_names_each_difference(void **state)
{
	struct inv_facts a = {.known = true, .type = "kvm", .memory = 64 * MiB, .vcpus = 1};
	struct inv_facts b = a;
	char why[256];
	(void)state;

	assert_false(defdiff_differs(&a, &b, why, sizeof(why)));
	b.memory = 128 * MiB;
	b.vcpus = 2;
	b.hugepages = true;
	assert_true(defdiff_differs(&b, &a, why, sizeof(why)));
	assert_string_equal(why, "memory: 64Mi → 128Mi; vcpus: 1 → 2; hugepages: false → true");
	/* Not known on one side: nothing to say. */
	b.known = false;
	assert_false(defdiff_differs(&b, &a, why, sizeof(why)));
}

static void test_plan_leaves_a_vm_defined_as_its_spec_alone(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_defined_as_spec(fx_dom(f, "lab-a", "web-1", INV_RUNNING), vm);
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* More memory in the manifest: the definition is redefined, the running guest is not
 * restarted, and the plan says a restart is needed. */
static void test_plan_redefines_a_running_vm_whose_memory_changed(void **state)
{
	struct fx *f = *state;
	struct inv_index doms;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "host: lab-a");
	struct inv_domain *d = fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_defined_as_spec(d, vm);
	vm->spec.domain.memory = 2 * GiB;
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_REDEFINE, "lab-a", CRD_VM_RUNNING);
	assert_non_null(strstr(a->reason, "memory: 1Gi → 2Gi"));
	assert_non_null(strstr(a->reason, "restart required: drover restart web-1"));
	assert_int_equal(inv_index_inventory(&doms, &f->inv), 0);
	assert_int_equal(status_vm_update(vm, a, &f->inv, &doms, "t1"), 0);
	assert_int_equal(condition(vm, "RestartRequired")->status, CRD_COND_TRUE);

	/* Redefined: the definition matches the spec, the guest still runs the old one. */
	inv_facts_free(&d->facts);
	fx_defined_as_spec(d, vm);
	d->restart_why = strdup("memory: 1Gi → 2Gi");
	fx_plan(f);
	a = fx_act(f, "web-1");
	fx_expect(a, PLAN_NONE, "lab-a", CRD_VM_RUNNING);
	assert_true(a->restart_required);
	assert_non_null(strstr(a->reason, "restart required (memory: 1Gi → 2Gi)"));
	assert_int_equal(status_vm_update(vm, a, &f->inv, &doms, "t2"), 0);
	assert_string_equal(condition(vm, "RestartRequired")->message, "memory: 1Gi → 2Gi");

	/* Restarted: nothing waits any more. */
	free(d->restart_why);
	d->restart_why = NULL;
	fx_plan(f);
	assert_int_equal(status_vm_update(vm, fx_act(f, "web-1"), &f->inv, &doms, "t3"), 0);
	assert_int_equal(condition(vm, "RestartRequired")->status, CRD_COND_FALSE);
	inv_index_free(&doms);
}

/* A stopped VM that is to start is redefined first, so it boots the new definition. */
static void test_plan_redefines_before_starting(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_defined_as_spec(fx_dom(f, "lab-a", "web-1", INV_SHUTOFF), vm);
	vm->spec.domain.vcpus = 4;
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_REDEFINE, "lab-a", CRD_VM_STOPPED);
	assert_null(strstr(a->reason, "restart"));
}

/* drover restart: a running VM is restarted where it is; a stopped one is just started. */
static void test_plan_restarts_a_vm_asked_to(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_vm(f, "web-2", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING)->restart_why = strdup("vcpus: 1 → 2");
	fx_dom(f, "lab-a", "web-2", INV_SHUTOFF);
	fx_vm_get(f, "web-1")->restart_requested = fx_vm_get(f, "web-2")->restart_requested = true;
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_RESTART, "lab-a", CRD_VM_RUNNING);
	assert_string_equal(a->reason, "restart requested: shutting web-1 down and starting it "
			    "again on lab-a (vcpus: 1 → 2)");
	fx_expect(fx_act(f, "web-2"), PLAN_START, "lab-a", CRD_VM_PENDING);
}

/* A VM with no status condition for it never gets RestartRequired written. */
static void test_status_writes_no_restart_condition_when_never_needed(void **state)
{
	struct fx *f = *state;
	struct inv_index doms;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_plan(f);
	assert_int_equal(inv_index_inventory(&doms, &f->inv), 0);
	assert_int_equal(status_vm_update(vm, fx_act(f, "web-1"), &f->inv, &doms, "t"), 0);
	assert_null(condition(vm, "RestartRequired"));
	inv_index_free(&doms);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defdiff_reads_what_needs_a_restart),
		cmocka_unit_test(test_defdiff_names_each_difference),
		cmocka_unit_test(test_defdiff_an_empty_cmdline_is_none),
		T(test_plan_leaves_a_vm_defined_as_its_spec_alone),
		T(test_plan_redefines_a_running_vm_whose_memory_changed),
		T(test_plan_redefines_before_starting),
		T(test_status_writes_no_restart_condition_when_never_needed),
		T(test_plan_restarts_a_vm_asked_to),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
