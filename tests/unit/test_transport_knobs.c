/* test_transport_knobs: the knob combinations libvirt 9.0 refuses, the room a disk copy
 * asks of the target pool, and the prediction a live move starts with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crd/types.h"
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
	assert_int_equal(mig_throttle_initial(200 * MIB, 20 * MIB), 95);
	assert_int_equal(mig_throttle_initial(1 * MIB, 20 * MIB), 20);   /* QEMU's floor */
	assert_int_equal(mig_throttle_initial(UINT64_MAX, 1), 99);        /* the cap */
	assert_int_equal(mig_throttle_initial(0, 20 * MIB), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knobs_direct_allows_everything),
		cmocka_unit_test(test_knobs_tunnelled_alone_is_fine),
		cmocka_unit_test(test_knobs_tunnelled_refuses_what_libvirt_refuses),
		cmocka_unit_test(test_storage_margin_is_a_tenth_with_a_floor),
		cmocka_unit_test(test_predict_quiet_guest_converges_in_about_one_pass),
		cmocka_unit_test(test_predict_guest_dirtying_faster_than_the_cap_does_not_converge),
		cmocka_unit_test(test_predict_copied_disks_add_their_time),
		cmocka_unit_test(test_predict_uncapped_moves_assume_a_gigabit),
		cmocka_unit_test(test_throttle_starts_where_the_guest_needs_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
