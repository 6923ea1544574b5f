/* lab_assert: cmocka checks of a guest that several lab tests make the same way. Include it
 * after <cmocka.h>. */
#ifndef DROVER_TESTS_LAB_ASSERT_H
#define DROVER_TESTS_LAB_ASSERT_H

#include <stdio.h>

#include "tests/lab/guestlog.h"
#include "tests/lab/lab.h"

/* The most a live move may hold a guest's heartbeats back (it sends 10 a second). */
#define LAB_MAX_GAP_MS 2000

/* What the serial log of guest @name, followed across a live move, must show: it kept
 * beating (at least 10 heartbeats, never one counted twice), paused no longer than
 * LAB_MAX_GAP_MS, and its memory pattern was never corrupted. */
static inline void lab_assert_live_move_intact(const char *name, const struct guestlog_result *res)
{
	printf("  %s: %llu heartbeats, max gap %ld ms, corrupt %llu\n", name,
	       (unsigned long long)res->heartbeats, res->max_gap_ms,
	       (unsigned long long)res->max_corrupt);
	assert_true(res->heartbeats >= 10);
	assert_int_equal(res->regressions, 0);
	assert_true(res->max_gap_ms <= LAB_MAX_GAP_MS);
	assert_int_equal(res->max_corrupt, 0);
}

/* Guest @vm runs (two more heartbeats come within 30 s) and its memory pattern was never
 * corrupted. */
static inline void lab_assert_guest_intact(const char *vm)
{
	char serial[512];
	struct guestlog_result before, after;

	lab_serial_path(vm, serial, sizeof(serial));
	assert_int_equal(guestlog_analyze_file(serial, &before), 0);
	assert_int_equal(guestlog_wait_heartbeats(serial, before.heartbeats + 2, 30000), 0);
	assert_int_equal(guestlog_analyze_file(serial, &after), 0);
	assert_int_equal(after.max_corrupt, 0);
}

#endif
