/* The inventory cache's rules: which events make a pass read a domain's definition again,
 * which only its job, and when everything is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libvirt/libvirt.h>

#include "reconcile/invcache.h"

#define UUID_A "11111111-1111-1111-1111-111111111111"
#define UUID_B "22222222-2222-2222-2222-222222222222"
#define UUID_C "33333333-3333-3333-3333-333333333333"

/* A host with two domains, A and B, and a cache that has read it in full at time 0. */
struct fx {
	struct inv_domain doms[2];
	struct inv_host host;
	struct invc c;
};

static void fx_pass(struct fx *f, double now, bool ok)
{
	struct invc_pass p;

	invc_begin(&f->c, now, &p);
	assert_int_equal(invc_store(&f->c, &f->host), 0);
	invc_finish(&f->c, &p, ok, now);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->doms[0].name = strdup("a");
	f->doms[1].name = strdup("b");
	memcpy(f->doms[0].uuid, UUID_A, sizeof(UUID_A));
	memcpy(f->doms[1].uuid, UUID_B, sizeof(UUID_B));
	f->doms[0].memory = 1 << 20;
	f->doms[0].persistent = f->doms[1].persistent = true;
	f->host.domains = f->doms;
	f->host.n_domains = 2;
	invc_init(&f->c);
	fx_pass(f, 0, true);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	invc_free(&f->c);
	inv_domain_free(&f->doms[0]);
	inv_domain_free(&f->doms[1]);
	free(f);
	return 0;
}

/* Whether pass @p may take domain @uuid from cache @c (its entry decoded, then let go). */
static bool cached(const struct invc *c, const struct invc_pass *p, const char *uuid)
{
	struct inv_domain d;
	int rc = invc_cached(c, p, uuid, &d);

	assert_true(rc >= 0);
	inv_domain_free(&d);
	return rc == 1;
}

static void test_first_pass_reads_everything(void **state)
{
	struct invc c;
	struct invc_pass p;
	(void)state;

	invc_init(&c);
	invc_begin(&c, 1, &p);
	assert_true(p.full);
	assert_int_equal(invc_pass_mark(&p, UUID_A), INVC_DEFINITION);
	assert_false(cached(&c, &p, UUID_A));
	invc_finish(&c, &p, true, 1);
	invc_free(&c);
}

/* A host with no domain (a fresh lab host) stores, serves and marks nothing, without
 * handing libc's qsort or bsearch an empty NULL array (UBSan: undefined). */
static void test_empty_host_caches_nothing(void **state)
{
	struct inv_host h = {.name = "empty", .reachable = true};
	struct invc c;
	struct invc_pass p;
	(void)state;

	invc_init(&c);
	invc_begin(&c, 1, &p);
	assert_int_equal(invc_store(&c, &h), 0);
	invc_finish(&c, &p, true, 1);
	invc_begin(&c, 2, &p);
	assert_false(p.full);
	assert_false(cached(&c, &p, UUID_A));
	assert_int_equal(invc_pass_mark(&p, UUID_A), INVC_NONE);
	invc_finish(&c, &p, true, 2);
	invc_free(&c);
}

static void test_quiet_host_is_served_from_cache(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	invc_begin(&f->c, 10, &p);
	assert_false(p.full);
	struct inv_domain a;
	assert_int_equal(invc_cached(&f->c, &p, UUID_A, &a), 1);
	assert_string_equal(a.name, "a");
	assert_int_equal(a.memory, 1 << 20);
	inv_domain_free(&a);
	assert_int_equal(invc_pass_mark(&p, UUID_B), INVC_NONE);
	assert_false(cached(&f->c, &p, UUID_C));    /* new domain: read it */
	invc_finish(&f->c, &p, true, 10);
}

static void test_definition_events_invalidate_the_domain_only(void **state)
{
	struct fx *f = *state;
	static const int events[][2] = {
		{VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_UPDATED},
		{VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED},
		{VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED},
		{VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED},
		{VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED},
		{VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED},
		{VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED},
	};

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct invc_pass p;
		assert_int_equal(invc_lifecycle_mark(events[i][0], events[i][1]), INVC_DEFINITION);
		invc_mark(&f->c, UUID_A, invc_lifecycle_mark(events[i][0], events[i][1]));
		invc_begin(&f->c, 10, &p);
		assert_false(cached(&f->c, &p, UUID_A));
		assert_true(cached(&f->c, &p, UUID_B));
		invc_finish(&f->c, &p, true, 10);
	}
}

static void test_state_events_ask_for_the_job_not_the_definition(void **state)
{
	struct fx *f = *state;
	static const int events[][2] = {
		{VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED},
		{VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED},
		{VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED},
		{VIR_DOMAIN_EVENT_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED},
		{VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_CRASHED_PANICKED},
		{VIR_DOMAIN_EVENT_PMSUSPENDED, VIR_DOMAIN_EVENT_PMSUSPENDED_MEMORY},
	};

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct invc_pass p;
		invc_mark(&f->c, UUID_A, invc_lifecycle_mark(events[i][0], events[i][1]));
		invc_begin(&f->c, 10, &p);
		assert_int_equal(invc_pass_mark(&p, UUID_A), INVC_JOB);
		assert_true(cached(&f->c, &p, UUID_A));
		invc_finish(&f->c, &p, true, 10);
	}
}

static void test_strongest_mark_wins_and_marks_last_one_pass(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	invc_mark(&f->c, UUID_A, INVC_DEFINITION);
	invc_mark(&f->c, UUID_A, INVC_JOB);
	invc_begin(&f->c, 10, &p);
	assert_int_equal(invc_pass_mark(&p, UUID_A), INVC_DEFINITION);
	invc_finish(&f->c, &p, true, 10);
	invc_begin(&f->c, 11, &p);
	assert_int_equal(invc_pass_mark(&p, UUID_A), INVC_NONE);
	invc_finish(&f->c, &p, true, 11);
}

static void test_event_during_a_pass_counts_for_the_next(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	invc_begin(&f->c, 10, &p);
	invc_mark(&f->c, UUID_B, INVC_DEFINITION);      /* after the pass read B, maybe */
	invc_finish(&f->c, &p, true, 10);
	invc_begin(&f->c, 11, &p);
	assert_false(cached(&f->c, &p, UUID_B));
	invc_finish(&f->c, &p, true, 11);
}

static void test_event_during_the_first_full_read_is_kept(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	invc_invalidate(&f->c);
	invc_begin(&f->c, 10, &p);
	assert_true(p.full);
	invc_mark(&f->c, UUID_A, INVC_DEFINITION);
	assert_int_equal(invc_store(&f->c, &f->host), 0);
	invc_finish(&f->c, &p, true, 10);
	invc_begin(&f->c, 11, &p);
	assert_false(p.full);
	assert_false(cached(&f->c, &p, UUID_A));
	assert_true(cached(&f->c, &p, UUID_B));
	invc_finish(&f->c, &p, true, 11);
}

static void test_lost_connection_forces_a_full_read(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	invc_invalidate(&f->c);     /* keepalive lost, reconnected: events were missed */
	invc_begin(&f->c, 10, &p);
	assert_true(p.full);
	assert_false(cached(&f->c, &p, UUID_B));
	invc_finish(&f->c, &p, true, 10);
	invc_begin(&f->c, 11, &p);
	assert_false(p.full);
	invc_finish(&f->c, &p, true, 11);
}

static void test_invalidation_during_a_pass_keeps_the_cache_invalid(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	invc_begin(&f->c, 10, &p);
	invc_invalidate(&f->c);
	invc_finish(&f->c, &p, true, 10);
	invc_begin(&f->c, 11, &p);
	assert_true(p.full);
	invc_finish(&f->c, &p, true, 11);
}

static void test_failed_pass_forces_a_full_read(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	fx_pass(f, 10, false);
	invc_begin(&f->c, 11, &p);
	assert_true(p.full);
	invc_finish(&f->c, &p, true, 11);
}

static void test_full_read_every_resync_period_without_events(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	invc_begin(&f->c, INVC_RESYNC_S - 1, &p);
	assert_false(p.full);
	invc_finish(&f->c, &p, true, INVC_RESYNC_S - 1);
	invc_begin(&f->c, INVC_RESYNC_S, &p);
	assert_true(p.full);
	invc_finish(&f->c, &p, true, INVC_RESYNC_S);
	invc_begin(&f->c, INVC_RESYNC_S + 1, &p);
	assert_false(p.full);
	invc_finish(&f->c, &p, true, INVC_RESYNC_S + 1);
}

static void test_too_many_marks_read_everything(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;
	char uuid[37];

	for (unsigned i = 0; i <= INVC_MAX_MARKS; i++) {
		snprintf(uuid, sizeof(uuid), "00000000-0000-0000-0000-%012u", i);
		invc_mark(&f->c, uuid, INVC_JOB);
	}
	invc_begin(&f->c, 10, &p);
	assert_true(p.full);
	invc_finish(&f->c, &p, true, 10);
}

static void test_cache_follows_the_last_pass(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	f->host.n_domains = 1;      /* B is gone */
	fx_pass(f, 10, true);
	f->host.n_domains = 2;
	invc_begin(&f->c, 11, &p);
	assert_true(cached(&f->c, &p, UUID_A));
	assert_false(cached(&f->c, &p, UUID_B));
	invc_finish(&f->c, &p, true, 11);
}

static void test_unreadable_definition_is_read_again(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	/* The last pass listed B but could not read its definition (redefined meanwhile). */
	inv_domain_forget_definition(&f->doms[1]);
	fx_pass(f, 10, true);
	invc_begin(&f->c, 11, &p);
	assert_false(p.full);
	assert_true(cached(&f->c, &p, UUID_A));
	assert_false(cached(&f->c, &p, UUID_B));
	invc_finish(&f->c, &p, true, 11);
}

static void test_undefine_then_define_reads_the_definition_again(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	/* `virsh define` of an edited XML over a running domain, or undefine and define
	 * again between two passes: the strongest mark stays, whatever came last. */
	invc_mark(&f->c, UUID_A,
		  invc_lifecycle_mark(VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED));
	invc_mark(&f->c, UUID_A,
		  invc_lifecycle_mark(VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_UPDATED));
	invc_mark(&f->c, UUID_A,
		  invc_lifecycle_mark(VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED));
	invc_begin(&f->c, 10, &p);
	assert_int_equal(invc_pass_mark(&p, UUID_A), INVC_DEFINITION);
	assert_false(cached(&f->c, &p, UUID_A));
	assert_true(cached(&f->c, &p, UUID_B));
	invc_finish(&f->c, &p, true, 10);
}

static void test_metadata_event_reads_the_definition_again(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;

	/* What lv's metadata-change callback records: the owner may have changed. */
	invc_mark(&f->c, UUID_B, INVC_DEFINITION);
	invc_begin(&f->c, 10, &p);
	assert_false(cached(&f->c, &p, UUID_B));
	invc_finish(&f->c, &p, true, 10);
}

static void test_cached_entry_is_a_deep_copy(void **state)
{
	struct fx *f = *state;
	struct invc_pass p;
	struct inv_domain *a = &f->doms[0];

	a->owner_namespace = strdup("default");
	a->owner_name = strdup("a");
	a->restart_why = strdup("memory 1Gi → 2Gi");
	a->facts.known = true;
	a->facts.type = strdup("kvm");
	a->facts.n_disks = 1;
	a->facts.disks = calloc(1, sizeof(char *));
	a->facts.disks[0] = strdup("/shared/a.qcow2");
	a->tuning_config.known = true;
	a->tuning_config.n_disks = 1;
	a->tuning_config.disks = calloc(1, sizeof(*a->tuning_config.disks));
	a->tuning_config.disks[0].target = strdup("vda");
	a->tuning_config.disks[0].v[0] = 100;
	fx_pass(f, 10, true);
	inv_domain_free(a);         /* the host's copy goes; the cache's stays whole */
	invc_begin(&f->c, 11, &p);
	struct inv_domain c;
	assert_int_equal(invc_cached(&f->c, &p, UUID_A, &c), 1);
	assert_string_equal(c.owner_name, "a");
	assert_string_equal(c.restart_why, "memory 1Gi → 2Gi");
	assert_true(c.facts.known);
	assert_string_equal(c.facts.type, "kvm");
	assert_string_equal(c.facts.disks[0], "/shared/a.qcow2");
	assert_true(c.tuning_config.known);
	assert_string_equal(c.tuning_config.disks[0].target, "vda");
	assert_int_equal(c.tuning_config.disks[0].v[0], 100);
	inv_domain_free(&c);
	invc_finish(&f->c, &p, true, 11);
}

static void test_forgetting_a_definition_keeps_the_domain(void **state)
{
	struct fx *f = *state;
	struct inv_domain *a = &f->doms[0];
	(void)state;

	a->owner_namespace = strdup("default");
	a->owner_name = strdup("a");
	a->active = true;
	a->state = INV_RUNNING;
	inv_domain_forget_definition(a);
	assert_true(a->definition_unknown);
	assert_string_equal(a->name, "a");
	assert_string_equal(a->uuid, UUID_A);
	assert_true(a->active);
	assert_int_equal(a->state, INV_RUNNING);
	assert_null(a->owner_name);
	assert_null(a->owner_namespace);
	assert_int_equal(a->memory, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_pass_reads_everything),
		cmocka_unit_test(test_empty_host_caches_nothing),
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(test_quiet_host_is_served_from_cache),
		T(test_definition_events_invalidate_the_domain_only),
		T(test_state_events_ask_for_the_job_not_the_definition),
		T(test_strongest_mark_wins_and_marks_last_one_pass),
		T(test_event_during_a_pass_counts_for_the_next),
		T(test_event_during_the_first_full_read_is_kept),
		T(test_lost_connection_forces_a_full_read),
		T(test_invalidation_during_a_pass_keeps_the_cache_invalid),
		T(test_failed_pass_forces_a_full_read),
		T(test_full_read_every_resync_period_without_events),
		T(test_too_many_marks_read_everything),
		T(test_cache_follows_the_last_pass),
		T(test_unreadable_definition_is_read_again),
		T(test_undefine_then_define_reads_the_definition_again),
		T(test_metadata_event_reads_the_definition_again),
		T(test_cached_entry_is_a_deep_copy),
		T(test_forgetting_a_definition_keeps_the_domain),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
