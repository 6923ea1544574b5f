/* The soak's schedule (tests/soak/schedule.c, compiled in here: the soak is no part of
 * libdrover) is the same for the same seed, and keeps its own rules: one host fault at a
 * time, each ended, and every step in order within the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/soak/schedule.c"

static void test_soak_schedule_same_seed_same_steps(void **state)
{
	struct soak_schedule a, b, c;

	(void)state;
	assert_int_equal(soak_schedule_make(42, 1200, &a), 0);
	assert_int_equal(soak_schedule_make(42, 1200, &b), 0);
	assert_int_equal(soak_schedule_make(43, 1200, &c), 0);
	assert_true(a.n > 50);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.steps, b.steps, a.n * sizeof(*a.steps));
	assert_true(a.n != c.n || memcmp(a.steps, c.steps, a.n * sizeof(*a.steps)));
	free(a.steps);
	free(b.steps);
	free(c.steps);
}

static void test_soak_schedule_ends_every_host_fault_and_has_one_at_a_time(void **state)
{
	struct soak_schedule s;
	unsigned faults = 0, kinds[SOAK_KINDS] = {0};

	(void)state;
	for (unsigned long seed = 1; seed <= 50; seed++) {
		int faulted = -1;
		double prev = 0;
		assert_int_equal(soak_schedule_make(seed, 600, &s), 0);
		for (size_t i = 0; i < s.n; i++) {
			const struct soak_step *st = &s.steps[i];
			assert_true(st->at >= prev && st->at <= 600);
			prev = st->at;
			kinds[st->kind]++;
			faults += soak_kind_is_fault(st->kind);
			if (is_host_fault(st->kind)) {
				assert_int_equal(faulted, -1);
				faulted = st->host;
			} else if (st->kind == SOAK_END_HOST) {
				assert_int_equal(st->host, faulted);
				faulted = -1;
			}
			if (st->kind == SOAK_F_POINT)
				assert_true(st->point >= 0 && (size_t)st->point < soak_n_fault_points);
		}
		assert_int_equal(faulted, -1);
		free(s.steps);
	}
	assert_true(faults > 0);
	for (int k = 0; k < SOAK_KINDS; k++)
		assert_true(kinds[k] > 0);   /* every kind is drawn */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak_schedule_same_seed_same_steps),
		cmocka_unit_test(test_soak_schedule_ends_every_host_fault_and_has_one_at_a_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
