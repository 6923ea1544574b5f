/* spec.tuning against a domain's: read from libvirt's XML, compared by the pure planner
 * (PLAN_TUNE when live or the definition differs), reported as the Tuned condition. */
#include "tests/unit/plan_fixtures.h"

#include "crd/domain.h"
#include "reconcile/invindex.h"
#include "reconcile/status.h"
#include "reconcile/tune.h"

#define TUNED_XML(soft, weight, iops)                                                    \
	"<domain type='kvm'><name>web-1</name><memory unit='KiB'>1048576</memory>"       \
	"<memtune><hard_limit unit='KiB'>2097152</hard_limit>"                           \
	"<soft_limit unit='KiB'>" soft "</soft_limit></memtune>"                         \
	"<blkiotune><weight>" weight "</weight></blkiotune><devices>"                    \
	"<disk type='file' device='disk'><source file='/shared/web-1.qcow2'/>"           \
	"<target dev='vda' bus='virtio'/><iotune><total_bytes_sec>104857600"             \
	"</total_bytes_sec><read_iops_sec>" iops "</read_iops_sec></iotune></disk>"      \
	"</devices></domain>"

#define TUNING "tuning: {memory: {hardLimit: 2Gi, softLimit: 1Gi}, blkio: {weight: 500}, " \
	"diskIO: [{target: vda, totalBytesSec: 100Mi, readIopsSec: 2000}]}"

/* Gives domain @d the tuning of @config_xml as its definition and, when running, of
 * @live_xml live. */
static void fx_tuning(struct inv_domain *d, const char *config_xml, const char *live_xml)
{
	inv_tuning_free(&d->tuning_config);
	inv_tuning_free(&d->tuning_live);
	assert_int_equal(tune_from_xml(config_xml, &d->tuning_config), 0);
	if (d->active)
		assert_int_equal(tune_from_xml(live_xml, &d->tuning_live), 0);
}

static void test_tune_reads_memtune_blkiotune_and_iotune(void **state)
{
	struct inv_tuning t;
	(void)state;

	assert_int_equal(tune_from_xml(TUNED_XML("1048576", "500", "2000"), &t), 0);
	assert_true(t.known);
	assert_int_equal(t.hard_limit, 2 * GiB);
	assert_int_equal(t.soft_limit, 1 * GiB);
	assert_int_equal(t.swap_hard_limit, 0);
	assert_int_equal(t.blkio_weight, 500);
	assert_int_equal(t.n_disks, 1);
	assert_string_equal(t.disks[0].target, "vda");
	assert_int_equal(t.disks[0].v[0], 100 * MiB);
	assert_int_equal(t.disks[0].v[4], 2000);
	inv_tuning_free(&t);
	assert_int_equal(tune_from_xml("<domain", &t), -1);
	assert_false(t.known);
}

static void test_plan_leaves_a_tuned_vm_alone(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-a, " TUNING);
	struct inv_domain *d = fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_tuning(d, TUNED_XML("1048576", "500", "2000"), TUNED_XML("1048576", "500", "2000"));
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* A change made behind drover's back (virsh memtune --live) is put back. */
static void test_plan_tunes_a_vm_changed_live(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-a, " TUNING);
	struct inv_domain *d = fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_tuning(d, TUNED_XML("1048576", "500", "2000"), TUNED_XML("524288", "500", "10"));
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_TUNE, "lab-a", CRD_VM_RUNNING);
	assert_non_null(strstr(a->reason, "memory.softLimit: 512Mi live, want 1Gi"));
	assert_non_null(strstr(a->reason, "diskIO vda.readIopsSec: 10 live, want 2000"));
	assert_null(strstr(a->reason, "in the definition"));
	assert_true(plan_has_changes(&f->plan));
}

/* A stopped VM has only its definition compared: there is nothing live. */
static void test_plan_tunes_the_definition_of_a_stopped_vm(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-a, running: false, " TUNING);
	struct inv_domain *d = fx_dom(f, "lab-a", "web-1", INV_SHUTOFF);
	fx_tuning(d, TUNED_XML("1048576", "100", "2000"), NULL);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "web-1");
	fx_expect(a, PLAN_TUNE, "lab-a", CRD_VM_STOPPED);
	assert_non_null(strstr(a->reason, "blkio.weight: 100 in the definition, want 500"));
}

/* Not read (a domain observe could not look at): nothing to compare, nothing done. Nor is
 * a domain's own tuning touched when the spec asks for none. */
static void test_plan_does_not_tune_unknown_or_unasked(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_vm(f, "web-1", "1Gi", "host: lab-a, " TUNING);
	fx_vm(f, "web-2", "1Gi", "host: lab-a");
	fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	struct inv_domain *d = fx_dom(f, "lab-a", "web-2", INV_RUNNING);
	fx_tuning(d, TUNED_XML("4", "100", "1"), TUNED_XML("4", "100", "1"));
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
	fx_expect(fx_act(f, "web-2"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* Only the fields written are enforced; libvirt holds KiB, so 1000000 bytes is 977 KiB. */
static void test_tune_compares_written_fields_in_kib(void **state)
{
	struct crd_tuning want = {.set = CRD_TUNE_SOFT_LIMIT, .soft_limit = 1000000};
	struct inv_tuning have = {.known = true, .soft_limit = 977 * 1024, .hard_limit = 1};
	char why[128];
	(void)state;

	assert_false(tune_differs(&want, &have, &have, why, sizeof(why)));
	assert_string_equal(why, "");
	have.soft_limit = 976 * 1024;
	assert_true(tune_differs(&want, &have, NULL, why, sizeof(why)));
	/* A short buffer still says something differs. */
	assert_true(tune_differs(&want, &have, &have, why, 8));
}

static void test_status_tuned_follows_the_plan(void **state)
{
	struct fx *f = *state;
	struct inv_index doms;
	fx_host(f, "lab-a", "");
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "host: lab-a, " TUNING);
	struct inv_domain *d = fx_dom(f, "lab-a", "web-1", INV_RUNNING);
	fx_tuning(d, TUNED_XML("1048576", "500", "2000"), TUNED_XML("524288", "500", "2000"));
	fx_plan(f);
	assert_int_equal(inv_index_inventory(&doms, &f->inv), 0);
	assert_int_equal(status_vm_update(vm, fx_act(f, "web-1"), &f->inv, &doms, "t1"), 0);
	const struct crd_condition *c = NULL;
	for (size_t i = 0; i < vm->status.conditions.n; i++)
		if (!strcmp(vm->status.conditions.items[i].type, "Tuned"))
			c = &vm->status.conditions.items[i];
	assert_non_null(c);
	assert_int_equal(c->status, CRD_COND_FALSE);
	assert_string_equal(c->reason, "Drift");
	/* Refused by libvirt: that reason stays while the difference does. */
	assert_int_equal(status_vm_action_failed(vm, PLAN_TUNE, "blkio.weight: refused", "t1"), 0);
	assert_int_equal(status_vm_update(vm, fx_act(f, "web-1"), &f->inv, &doms, "t1"), 0);
	assert_string_equal(c->reason, "TuningFailed");
	assert_string_equal(c->message, "blkio.weight: refused");
	fx_tuning(d, TUNED_XML("1048576", "500", "2000"), TUNED_XML("1048576", "500", "2000"));
	fx_plan(f);
	assert_int_equal(status_vm_update(vm, fx_act(f, "web-1"), &f->inv, &doms, "t2"), 0);
	assert_int_equal(c->status, CRD_COND_TRUE);
	assert_string_equal(c->reason, "Applied");
	inv_index_free(&doms);
}

static void test_domain_short_form_hugepages(void **state)
{
	struct fx *f = *state;
	struct crd_vm *vm = fx_vm(f, "web-1", "1Gi", "");
	(void)state;

	vm->spec.domain.hugepages = true;
	char *xml = crd_domain_expand(vm);
	assert_non_null(xml);
	assert_non_null(strstr(xml, "<memoryBacking>\n    <hugepages/>\n  </memoryBacking>"));
	free(xml);
	assert_true(crd_domain_has_disk(&vm->spec.domain, "vda"));
	assert_false(crd_domain_has_disk(&vm->spec.domain, "vdb"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tune_reads_memtune_blkiotune_and_iotune),
		T(test_plan_leaves_a_tuned_vm_alone),
		T(test_plan_tunes_a_vm_changed_live),
		T(test_plan_tunes_the_definition_of_a_stopped_vm),
		T(test_plan_does_not_tune_unknown_or_unasked),
		cmocka_unit_test(test_tune_compares_written_fields_in_kib),
		T(test_status_tuned_follows_the_plan),
		T(test_domain_short_form_hugepages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
