/* test_escalation: the pure parts of live migration — the completion deadline, progress in
 * percent, and the escalation ladder (downtime raises, then post-copy when allowed, then
 * abort), also as it resumes for a migration taken over from an earlier drover. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reconcile/migrate.h"

static void test_deadline_scales_with_gib_and_has_a_floor(void **state)
{
	struct crd_knobs k;
	(void)state;
	crd_knobs_default(&k);               /* 150 s per GiB */
	assert_true(mig_deadline_s(&k, 4ULL << 30) == 600.0);
	assert_true(mig_deadline_s(&k, 64ULL << 20) == MIG_MIN_DEADLINE_S);
	k.completion_timeout_per_gib_s = 0;  /* 0 = no limit */
	assert_true(mig_deadline_s(&k, 4ULL << 30) == 0.0);
}

/* A record with a percent outside 0..100 does not decode: a copy that moves more than it
 * counted on (a sparse disk's holes once made a cold copy's 100 % into 400 %) says 100. */
static void test_percent_stays_within_0_and_100(void **state)
{
	(void)state;
	assert_int_equal(mig_percent(0, 0), 0);
	assert_int_equal(mig_percent(5, 0), 0);
	assert_int_equal(mig_percent(1, 4), 25);
	assert_int_equal(mig_percent(4, 4), 100);
	assert_int_equal(mig_percent(16, 4), 100);
}

static void test_ladder_raises_downtime_then_aborts_without_postcopy(void **state)
{
	struct crd_knobs k;
	struct mig_ladder l = {0};
	uint32_t ms = 0;
	(void)state;
	crd_knobs_default(&k);               /* 300 ms, post-copy not allowed */
	const uint32_t expect[] = {600, 1200, 2400};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mig_next_step(&l, &k, &ms), MIG_STEP_DOWNTIME);
		assert_int_equal(ms, expect[i]);
	}
	assert_int_equal(mig_next_step(&l, &k, &ms), MIG_STEP_ABORT);
	assert_int_equal(mig_next_step(&l, &k, &ms), MIG_STEP_ABORT);
}

static void test_ladder_switches_to_postcopy_once_when_allowed(void **state)
{
	struct crd_knobs k;
	struct mig_ladder l = {.downtime_raises = MIG_DOWNTIME_RAISES};
	uint32_t ms = 0;
	(void)state;
	crd_knobs_default(&k);
	k.allow_post_copy = true;
	assert_int_equal(mig_next_step(&l, &k, &ms), MIG_STEP_POSTCOPY);
	assert_int_equal(mig_next_step(&l, &k, &ms), MIG_STEP_ABORT);
}

static void test_ladder_caps_downtime(void **state)
{
	struct crd_knobs k;
	struct mig_ladder l = {0};
	uint32_t ms = 0;
	(void)state;
	crd_knobs_default(&k);
	k.max_downtime_ms = 4000;
	assert_int_equal(mig_next_step(&l, &k, &ms), MIG_STEP_DOWNTIME);
	assert_int_equal(ms, MIG_DOWNTIME_CAP_MS);
}

static void test_ladder_resumes_past_the_raises_a_job_had(void **state)
{
	struct crd_knobs k;
	uint32_t ms = 0;
	(void)state;
	crd_knobs_default(&k);               /* 300 ms: raises to 600, 1200, 2400 */
	struct mig_ladder fresh = {0}, some = {0}, all = {0};
	mig_ladder_resume(&fresh, &k, 300);  /* never raised: the ladder starts afresh */
	assert_int_equal(fresh.downtime_raises, 0);
	mig_ladder_resume(&some, &k, 1200);  /* raised twice by the drover before */
	assert_int_equal(some.downtime_raises, 2);
	assert_int_equal(mig_next_step(&some, &k, &ms), MIG_STEP_DOWNTIME);
	assert_int_equal(ms, 2400);
	mig_ladder_resume(&all, &k, 5000);   /* past the ladder: what is left is the end */
	assert_int_equal(all.downtime_raises, MIG_DOWNTIME_RAISES);
	assert_false(all.postcopy_started);
	assert_int_equal(mig_next_step(&all, &k, &ms), MIG_STEP_ABORT);
}

static void test_ladder_resume_at_the_cap_leaves_no_raise(void **state)
{
	struct crd_knobs k;
	struct mig_ladder l = {0};
	uint32_t ms = 0;
	(void)state;
	crd_knobs_default(&k);
	k.max_downtime_ms = 4000;            /* every raise is the cap */
	k.allow_post_copy = true;
	mig_ladder_resume(&l, &k, MIG_DOWNTIME_CAP_MS);
	assert_int_equal(mig_next_step(&l, &k, &ms), MIG_STEP_POSTCOPY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_scales_with_gib_and_has_a_floor),
		cmocka_unit_test(test_percent_stays_within_0_and_100),
		cmocka_unit_test(test_ladder_raises_downtime_then_aborts_without_postcopy),
		cmocka_unit_test(test_ladder_switches_to_postcopy_once_when_allowed),
		cmocka_unit_test(test_ladder_caps_downtime),
		cmocka_unit_test(test_ladder_resumes_past_the_raises_a_job_had),
		cmocka_unit_test(test_ladder_resume_at_the_cap_leaves_no_raise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
