/* test_transport_knobs: the knob combinations libvirt 9.0 refuses, the room a disk copy
 * asks of the target pool, and the prediction a live move starts with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crd/types.h"
#include "reconcile/clk.h"
#include "reconcile/inflight.h"
#include "reconcile/migrate.h"
#include "reconcile/predict.h"
#include "reconcile/storage.h"

static struct crd_knobs tunnelled(void)
{
	struct crd_knobs k;
	crd_knobs_default(&k);
	k.transport = CRD_TRANSPORT_TUNNELLED;
	return k;
}

static void test_knobs_direct_allows_everything(void **state)
{
	struct crd_knobs k;
	(void)state;
	crd_knobs_default(&k);
	k.allow_post_copy = true;
	k.parallel_connections = 4;
	k.encryption = CRD_ENCRYPT_TLS;
	assert_null(crd_knobs_conflict(&k, true));
}

static void test_knobs_tunnelled_alone_is_fine(void **state)
{
	struct crd_knobs k = tunnelled();
	(void)state;
	k.compression = CRD_COMPRESS_XBZRLE;
	assert_null(crd_knobs_conflict(&k, false));
}

static void test_knobs_tunnelled_refuses_what_libvirt_refuses(void **state)
{
	struct crd_knobs k = tunnelled();
	(void)state;
	k.allow_post_copy = true;
	assert_non_null(strstr(crd_knobs_conflict(&k, false), "allowPostCopy"));
	k = tunnelled();
	k.parallel_connections = 2;
	assert_non_null(strstr(crd_knobs_conflict(&k, false), "parallelConnections"));
	k = tunnelled();
	k.encryption = CRD_ENCRYPT_TLS;
	assert_non_null(strstr(crd_knobs_conflict(&k, false), "TLS"));
	k = tunnelled();
	assert_non_null(strstr(crd_knobs_conflict(&k, true), "local disks"));
}

static void test_storage_margin_is_a_tenth_with_a_floor(void **state)
{
	(void)state;
	assert_int_equal(stor_bytes_needed(0), STOR_MARGIN_MIN);
	assert_int_equal(stor_bytes_needed(1ULL << 20), (1ULL << 20) + STOR_MARGIN_MIN);
	assert_int_equal(stor_bytes_needed(10ULL << 30), (10ULL << 30) + (1ULL << 30));
}

#define MIB (1ULL << 20)

static void test_predict_quiet_guest_converges_in_about_one_pass(void **state)
{
	struct pred_input in = {.memory_bytes = 64 * MIB, .dirty_bps = 1 * MIB,
				.bandwidth_bps = 32 * MIB, .max_downtime_ms = 300};
	struct crd_mig_prediction p;
	(void)state;
	pred_model(&in, &p);
	assert_true(p.set);
	assert_true(p.converges);
	/* 2 s for the memory, then 1/16 of 2 s dirtied: a short second pass (62.5 ms), within
	 * the downtime budget. */
	assert_int_equal(p.duration_s, 3);
	assert_int_equal(p.duration_ms, 2063);
	assert_int_equal(p.dirty_rate_bps, 1 * MIB);
}

static void test_predict_guest_dirtying_faster_than_the_cap_does_not_converge(void **state)
{
	struct pred_input in = {.memory_bytes = 96 * MIB, .dirty_bps = 200 * MIB,
				.bandwidth_bps = 20 * MIB, .max_downtime_ms = 300};
	struct crd_mig_prediction p;
	(void)state;
	pred_model(&in, &p);
	assert_false(p.converges);
}

static void test_predict_copied_disks_add_their_time(void **state)
{
	struct pred_input in = {.memory_bytes = 0, .disk_bytes = 100 * MIB,
				.bandwidth_bps = 10 * MIB, .max_downtime_ms = 300};
	struct crd_mig_prediction p;
	(void)state;
	pred_model(&in, &p);
	assert_true(p.converges);
	assert_int_equal(p.duration_s, 10);
	assert_int_equal(p.duration_ms, 10000);
}

static void test_predict_uncapped_moves_assume_a_gigabit(void **state)
{
	struct crd_knobs k;
	(void)state;
	crd_knobs_default(&k);
	assert_int_equal(pred_bandwidth_bps(&k), PRED_DEFAULT_BPS);
	k.bandwidth_mibps = 20;
	assert_int_equal(pred_bandwidth_bps(&k), 20 * MIB);
}

static void test_throttle_starts_where_the_guest_needs_it(void **state)
{
	(void)state;
	/* Half of 20 MiB/s from 200 MiB/s: keep 5 %, throttle 95 %. */
	assert_int_equal(pred_throttle_initial(200 * MIB, 20 * MIB), 95);
	assert_int_equal(pred_throttle_initial(1 * MIB, 20 * MIB), 20);   /* QEMU's floor */
	assert_int_equal(pred_throttle_initial(UINT64_MAX, 1), 99);        /* the cap */
	assert_int_equal(pred_throttle_initial(0, 20 * MIB), 20);
}

static void test_predict_adds_the_fixed_part_of_a_move(void **state)
{
	struct pred_input in = {.memory_bytes = 64 * MIB, .dirty_bps = 1 * MIB,
				.bandwidth_bps = 32 * MIB, .max_downtime_ms = 300, .fixed_ms = 1000};
	struct crd_mig_prediction p;
	(void)state;
	pred_model(&in, &p);
	assert_true(p.converges);
	assert_int_equal(p.duration_ms, 3063);   /* the quiet guest's 2063 ms, and 1 s */
}

/* The hot benchmark's guest: 52 MiB with data, rewritten at 40 MiB/s, moved at 20 MiB/s. */
static void test_predict_counts_auto_converges_passes_when_it_does_not_converge(void **state)
{
	struct pred_input in = {.memory_bytes = 52 * MIB, .dirty_bps = 40 * MIB,
				.bandwidth_bps = 20 * MIB, .max_downtime_ms = 300};
	struct crd_mig_prediction plain, throttled;
	(void)state;
	pred_model(&in, &plain);
	assert_false(plain.converges);
	/* Two passes of 2.6 s, the second as large as the first: no longer shrinking. */
	assert_int_equal(plain.duration_ms, 5200);
	in.auto_converge = true;
	pred_model(&in, &throttled);
	/* Still plain pre-copy's answer: it is what starts auto-converge at once. */
	assert_false(throttled.converges);
	/* Two passes of 2.6 s count as dirtying more than half of what they sent: throttled
	 * to 75 % (half the bandwidth), the guest dirties 10 MiB/s; a third pass of 2.6 s,
	 * then 26, 13, 6.5 and 3.25 MiB, the last within 300 ms at 20 MiB/s. */
	assert_int_equal(throttled.duration_ms, 10238);
}

static void test_predict_auto_converge_that_cannot_keep_up_stops_at_the_pass_limit(void **state)
{
	/* The initial throttle caps at 99 %, which leaves 2 MiB/s of 200: more than half of
	 * what a pass of 1 MiB/s sends, so it stays 99 % and the passes never shrink to the
	 * downtime; the model stops at PRED_MAX_PASSES. */
	struct pred_input in = {.memory_bytes = 64 * MIB, .dirty_bps = 200 * MIB,
				.bandwidth_bps = 1 * MIB, .max_downtime_ms = 300,
				.auto_converge = true};
	struct crd_mig_prediction p;
	(void)state;
	pred_model(&in, &p);
	assert_false(p.converges);
	assert_true(p.duration_ms >= 64 * 1000);
	assert_true(p.duration_ms <= PRED_MAX_PASSES * 64 * 1000);
}

/* A Migration @i of @set: to @dst, ended @end, with @elapsed_ms of which @transfer_ms sent. */
static void measured(struct crd_set *set, size_t i, const char *dst, const char *end,
		     enum crd_mig_phase phase, uint64_t elapsed_ms, uint64_t transfer_ms)
{
	struct crd_migration *m = &set->migrations[i];
	m->status.phase = phase;
	m->status.target_host = (char *)dst;
	m->status.end_time = (char *)end;
	m->status.statistics = (struct crd_mig_statistics){.set = true, .elapsed_ms = elapsed_ms,
							    .transfer_ms = transfer_ms};
}

static void test_fixed_part_is_the_median_of_the_last_moves_to_the_host(void **state)
{
	struct crd_migration migs[9] = {0};
	struct crd_set set = {.migrations = migs, .n_migrations = 9};
	char t[7][32];
	(void)state;
	assert_int_equal(pred_fixed_ms(&set, "lab-b", 0), PRED_DEFAULT_FIXED_MS);   /* none */
	/* The same second for all: ordered by their last characters (RFC 3339 in UTC). */
	for (int i = 0; i < 7; i++) {
		clk_rfc3339(t[i], sizeof(t[i]));
		t[i][19] = '\0';
		snprintf(t[i] + 19, sizeof(t[i]) - 19, ".%dZ", i);
	}
	/* The oldest of six to lab-b (t[0]) drops out: the last five are 900..1300. */
	measured(&set, 0, "lab-b", t[0], CRD_MIG_SUCCEEDED, 9000, 0);
	measured(&set, 1, "lab-b", t[3], CRD_MIG_SUCCEEDED, 2100, 1000);   /* 1100 */
	measured(&set, 2, "lab-b", t[1], CRD_MIG_SUCCEEDED, 1900, 1000);   /* 900 */
	measured(&set, 3, "lab-b", t[5], CRD_MIG_SUCCEEDED, 1300, 0);      /* 1300 */
	measured(&set, 4, "lab-b", t[2], CRD_MIG_SUCCEEDED, 10000, 9000);  /* 1000 */
	measured(&set, 5, "lab-b", t[4], CRD_MIG_SUCCEEDED, 1200, 0);      /* 1200 */
	/* Neither counts for lab-b: a failed move, and one to lab-c. */
	measured(&set, 6, "lab-b", t[6], CRD_MIG_FAILED, 50000, 0);
	measured(&set, 7, "lab-c", t[6], CRD_MIG_SUCCEEDED, 400, 0);
	/* Older than the history. */
	measured(&set, 8, "lab-c", "2020-01-01T00:00:00Z", CRD_MIG_SUCCEEDED, 99000, 0);
	assert_int_equal(pred_fixed_ms(&set, "lab-b", 0), 1100);
	assert_int_equal(pred_fixed_ms(&set, "lab-c", 0), 400);
	/* No move to lab-d yet: the last five to any host (t[2]..t[6] ones, 400 the lowest). */
	assert_int_equal(pred_fixed_ms(&set, "lab-d", 0), 1100);
	assert_int_equal(pred_fixed_ms(NULL, "lab-b", 0), PRED_DEFAULT_FIXED_MS);
	/* A record that says more transfer than job (edited by hand) adds nothing. */
	measured(&set, 7, "lab-c", t[6], CRD_MIG_SUCCEEDED, 400, 900);
	assert_int_equal(pred_fixed_ms(&set, "lab-c", 0), 0);
}

/* Moves side by side share the hosts: a move learns from moves with as many beside them
 * first, the same host before any host; from the others only when there are none. */
static void test_fixed_part_counts_the_moves_side_by_side(void **state)
{
	struct crd_migration migs[3] = {0};
	struct crd_set set = {.migrations = migs, .n_migrations = 3};
	char now[32];
	(void)state;
	clk_rfc3339(now, sizeof(now));
	measured(&set, 0, "lab-b", now, CRD_MIG_SUCCEEDED, 800, 0);     /* alone */
	measured(&set, 1, "lab-b", now, CRD_MIG_SUCCEEDED, 1700, 100);  /* one beside it */
	migs[1].status.prediction.concurrent_moves = 1;
	measured(&set, 2, "lab-c", now, CRD_MIG_SUCCEEDED, 2000, 0);    /* one beside it */
	migs[2].status.prediction.concurrent_moves = 1;
	assert_int_equal(pred_fixed_ms(&set, "lab-b", 0), 800);
	assert_int_equal(pred_fixed_ms(&set, "lab-b", 1), 1600);
	assert_int_equal(pred_fixed_ms(&set, "lab-c", 1), 2000);
	assert_int_equal(pred_fixed_ms(&set, "lab-c", 0), 800);        /* alone: lab-b's */
	assert_int_equal(pred_fixed_ms(&set, "lab-d", 1), 1800);       /* any host's, as many */
	assert_int_equal(pred_fixed_ms(&set, "lab-b", 3), (800 + 1600) / 2);  /* any number */
}

/* A move this process finished teaches the next predictions even when the set does not
 * hold it (`drover apply` keeps one set for all its rounds); once the set holds it too, it
 * counts once. */
static void test_fixed_part_learns_from_moves_this_process_made(void **state)
{
	struct crd_migration migs[2] = {0};
	struct crd_set set = {.migrations = migs, .n_migrations = 1};
	char now[32];
	(void)state;
	pred_forget_remembered();
	clk_rfc3339(now, sizeof(now));
	measured(&set, 0, "lab-b", now, CRD_MIG_SUCCEEDED, 900, 0);
	migs[0].meta = (struct crd_meta){.name = "m1", .namespace = "default"};
	struct crd_migration own = migs[0];
	own.meta.name = "m2";
	own.status.statistics.elapsed_ms = 1500;
	pred_remember(&own);
	assert_int_equal(pred_fixed_ms(NULL, "lab-b", 0), 1500);
	assert_int_equal(pred_fixed_ms(&set, "lab-b", 0), (900 + 1500) / 2);
	/* The set holds it now (a pass read it back): once, not twice. */
	migs[1] = own;
	set.n_migrations = 2;
	assert_int_equal(pred_fixed_ms(&set, "lab-b", 0), (900 + 1500) / 2);
	/* A move not measured (failed) is not learnt. */
	own.meta.name = "m3";
	own.status.phase = CRD_MIG_FAILED;
	pred_remember(&own);
	assert_int_equal(pred_fixed_ms(NULL, "lab-b", 0), 1500);
	pred_forget_remembered();
	assert_int_equal(pred_fixed_ms(NULL, "lab-b", 0), PRED_DEFAULT_FIXED_MS);
}

/* The moves beside a move are those sharing its source or its target, while under way. */
static void test_inflight_counts_moves_sharing_a_host(void **state)
{
	struct inflight_move ab, cb, cd, ba, xd;
	(void)state;
	inflight_enter(&ab, "a", "b");
	assert_int_equal(inflight_beside(&ab), 0);
	inflight_enter(&cb, "c", "b");
	assert_int_equal(inflight_beside(&cb), 1);   /* the same target */
	assert_int_equal(inflight_beside(&ab), 1);   /* entered later, counted all the same */
	inflight_enter(&cd, "c", "d");
	assert_int_equal(inflight_beside(&cd), 1);   /* the same source as c → b */
	inflight_enter(&ba, "b", "a");
	assert_int_equal(inflight_beside(&ba), 2);   /* a → b and c → b */
	inflight_leave(&ab);
	inflight_leave(&cb);
	inflight_enter(&xd, "x", "d");
	assert_int_equal(inflight_beside(&xd), 1);   /* c → d only */
	inflight_leave(&xd);
	inflight_leave(&cd);
	inflight_leave(&ba);
	inflight_enter(&xd, "a", "b");
	assert_int_equal(inflight_beside(&xd), 0);   /* all gone */
	inflight_leave(&xd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knobs_direct_allows_everything),
		cmocka_unit_test(test_fixed_part_counts_the_moves_side_by_side),
		cmocka_unit_test(test_fixed_part_learns_from_moves_this_process_made),
		cmocka_unit_test(test_inflight_counts_moves_sharing_a_host),
		cmocka_unit_test(test_knobs_tunnelled_alone_is_fine),
		cmocka_unit_test(test_knobs_tunnelled_refuses_what_libvirt_refuses),
		cmocka_unit_test(test_storage_margin_is_a_tenth_with_a_floor),
		cmocka_unit_test(test_predict_quiet_guest_converges_in_about_one_pass),
		cmocka_unit_test(test_predict_guest_dirtying_faster_than_the_cap_does_not_converge),
		cmocka_unit_test(test_predict_copied_disks_add_their_time),
		cmocka_unit_test(test_predict_uncapped_moves_assume_a_gigabit),
		cmocka_unit_test(test_throttle_starts_where_the_guest_needs_it),
		cmocka_unit_test(test_predict_adds_the_fixed_part_of_a_move),
		cmocka_unit_test(test_predict_counts_auto_converges_passes_when_it_does_not_converge),
		cmocka_unit_test(test_predict_auto_converge_that_cannot_keep_up_stops_at_the_pass_limit),
		cmocka_unit_test(test_fixed_part_is_the_median_of_the_last_moves_to_the_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
