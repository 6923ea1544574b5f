/* test_transport: live moves of a running test guest with each migration transport and
 * knob: Tunnelled (nothing on the target's migration ports: the stream rides libvirtd's
 * connection), Direct without encryption (the guest's memory crosses the wire in the
 * clear: a marker from its command line, which the guest keeps in its memory, is seen on
 * the target's migration ports), Direct with TLS (the same marker is not seen, though
 * the stream is), xbzrle and mt compression, and parallel connections. A knob libvirt
 * refuses is refused before anything changes. The wire is watched with a raw socket on
 * the target's end of its veth; virsh and the guest's serial log are the witnesses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lab/drover_fixture.h"
#include "tests/lab/guestlog.h"
#include "tests/lab/lab_assert.h"
#include "tests/lab/wire.h"

#define N_HOSTS 2
/* In the guest's command line, and so in its memory (the guest keeps a copy of it). */
#define MARKER "DroverWireMarker-7f3a9c"

static struct fx fx;

static const char *const guests[] = {"tr-tun", "tr-plain", "tr-tls", "tr-xbz", "tr-mt",
				     "tr-par", "tr-bad"};

static void write_vm(const char *name, const char *host, const char *disk, const char *policy)
{
	char extra[256];
	snprintf(extra, sizeof(extra), "  migrationPolicy: %s\n", policy);
	struct fx_vm vm = {.name = name, .host = host, .storage = "shared", .memory = "64Mi",
			   .cmdline = "dirty_mib=4 rate_mibps=2 marker=" MARKER, .disk = disk,
			   .format = "qcow2", .serial = true, .spec_extra = extra};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

/* What crossed lab-b's migration ports during a move. */
struct wire_seen {
	uint64_t bytes;
	bool marker;
};

/* `drover plan --estimate` shows the move of running @name from lab-a to lab-b with the
 * prediction it would start with (its dirty rate measured on lab-a), and changes nothing. */
static void assert_estimated(const char *name)
{
	char out[16384], head[160];

	assert_int_equal(fx_drover_plan_all(&fx, "--estimate", out, sizeof(out)), 2);
	snprintf(head, sizeof(head), "estimate default/%s lab-a → lab-b: ", name);
	const char *line = strstr(out, head);
	assert_non_null(line);
	line += strlen(head);
	assert_true(line[0] >= '0' && line[0] <= '9'); /* seconds, not "none (why)" */
	assert_non_null(strstr(line, "converge"));
	assert_non_null(strstr(line, "dirty rate "));
	assert_true(lab_runs_only_on(name, 0, N_HOSTS));
}

/* Starts @name on lab-a with migrationPolicy @policy, moves it live to lab-b by its pin
 * (estimated first) while watching lab-b's migration ports (into @seen), and checks the
 * move: on lab-b only, never rebooted, heartbeats on time, memory intact, the Migration
 * Succeeded. */
static void move_live(const char *name, const char *policy, struct wire_seen *seen)
{
	char disk[512], volume[80], serial[512], rec[128], phase[64], predicted[32], rate[32];
	struct guestlog_watch *follow = NULL;
	struct wire_watch *wire = NULL;
	struct guestlog_result res;
	/* hack/lab gives host i the migration ports 49152 + 100 i ... + 99. */
	const uint16_t lo = 49152 + 100, hi = lo + 99;

	snprintf(volume, sizeof(volume), "%s.qcow2", name);
	assert_int_equal(lab_create_volume(0, "shared", volume, 32, disk, sizeof(disk)), 0);
	write_vm(name, "lab-a", disk, policy);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_serial_path(name, serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(guestlog_follow_start(serial, &follow), 0);

	write_vm(name, "lab-b", disk, policy);
	assert_estimated(name);
	assert_int_equal(wire_watch_start("dl-b", lo, hi, MARKER, &wire), 0);
	int rc = fx_drover(&fx, "apply", NULL, 0);
	assert_int_equal(wire_watch_stop(wire, &seen->bytes, &seen->marker), 0);
	printf("  %s: %llu bytes on lab-b's migration ports, marker %s\n", name,
	       (unsigned long long)seen->bytes, seen->marker ? "seen" : "not seen");
	assert_int_equal(rc, 0);
	sleep(2);
	assert_int_equal(guestlog_follow_stop(follow, &res), 0);
	assert_true(lab_runs_only_on(name, 1, N_HOSTS));
	lab_assert_live_move_intact(name, &res);
	assert_int_equal(res.banners, 1);
	fx_latest_migration(&fx, name, rec, sizeof(rec));
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Succeeded");
	/* Every live move drover starts is predicted first (status.prediction). */
	fx_status(&fx, "migrations", rec, "status.prediction.durationMilliseconds", predicted,
		  sizeof(predicted));
	fx_status(&fx, "migrations", rec, "status.prediction.dirtyRateBytesPerSecond", rate,
		  sizeof(rate));
	printf("  %s: predicted %s ms at a dirty rate of %s B/s\n", name, predicted, rate);
	assert_true(predicted[0]);
}

static void test_tunnelled_moves_a_running_guest_through_libvirtd(void **state)
{
	struct wire_seen seen;
	(void)state;
	move_live("tr-tun", "{transport: Tunnelled}", &seen);
	assert_int_equal(seen.bytes, 0); /* nothing on QEMU's own migration ports */
}

static void test_direct_without_encryption_carries_memory_in_the_clear(void **state)
{
	struct wire_seen seen;
	(void)state;
	move_live("tr-plain", "{transport: Direct, encryption: None}", &seen);
	assert_true(seen.bytes > (1u << 20));
	assert_true(seen.marker);
}

static void test_tls_encrypts_the_migration_stream(void **state)
{
	struct wire_seen seen;
	(void)state;
	move_live("tr-tls", "{encryption: TLS}", &seen);
	assert_true(seen.bytes > (1u << 20)); /* the stream went by ... */
	assert_false(seen.marker);            /* ... and the guest's memory was not readable */
}

static void test_xbzrle_compression_moves_live(void **state)
{
	struct wire_seen seen;
	(void)state;
	move_live("tr-xbz", "{compression: xbzrle}", &seen);
}

static void test_mt_compression_moves_live(void **state)
{
	struct wire_seen seen;
	(void)state;
	move_live("tr-mt", "{compression: mt}", &seen);
}

static void test_parallel_connections_move_live(void **state)
{
	struct wire_seen seen;
	(void)state;
	move_live("tr-par", "{parallelConnections: 4}", &seen);
	assert_true(seen.bytes > (1u << 20));
}

/* Knobs valid one by one but refused together (the VM's policy says Tunnelled, the
 * Migration asks for post-copy): refused before anything changes, with the reason. */
static void test_knobs_libvirt_refuses_are_refused_before_the_move(void **state)
{
	char disk[512], text[1024], phase[64], why[1024], st[64];
	(void)state;

	assert_int_equal(lab_create_volume(0, "shared", "tr-bad.qcow2", 32, disk, sizeof(disk)), 0);
	struct fx_vm vm = {.name = "tr-bad", .storage = "shared", .memory = "64Mi",
			   .cmdline = "dirty_mib=4 rate_mibps=2", .disk = disk, .format = "qcow2",
			   .spec_extra = "  migrationPolicy: {transport: Tunnelled}\n"};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	int from = lab_count_running("tr-bad", 1) == 1 ? 0 : 1;
	snprintf(text, sizeof(text),
		 "apiVersion: drover.io/v1alpha1\nkind: Migration\nmetadata: {name: tr-bad-move}\n"
		 "spec: {vmName: tr-bad, targetHost: %s, allowPostCopy: true}\n",
		 lab_host_name(1 - from));
	assert_int_equal(fx_write(&fx, "tr-bad-move.yaml", text), 0);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);
	fx_status(&fx, "migrations", "tr-bad-move", "status.phase", phase, sizeof(phase));
	fx_status(&fx, "migrations", "tr-bad-move", "status.failureReason", why, sizeof(why));
	printf("  tr-bad-move: %s: %s\n", phase, why);
	assert_string_equal(phase, "Failed");
	assert_non_null(strstr(why, "PreCheckFailed: transport: Tunnelled cannot be combined "
				    "with allowPostCopy"));
	lab_dom_state(from, "tr-bad", st, sizeof(st));
	assert_string_equal(st, "running");
	assert_int_equal(lab_count_defined("tr-bad", N_HOSTS), 1);
	char path[512];
	snprintf(path, sizeof(path), "%s/tr-bad-move.yaml", fx.manifests);
	unlink(path);
}

static void cleanup(void)
{
	char volume[80];
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		snprintf(volume, sizeof(volume), "%s.qcow2", guests[i]);
		lab_cleanup_guest(guests[i], volume);
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	cleanup();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup();
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tunnelled_moves_a_running_guest_through_libvirtd),
		cmocka_unit_test(test_direct_without_encryption_carries_memory_in_the_clear),
		cmocka_unit_test(test_tls_encrypts_the_migration_stream),
		cmocka_unit_test(test_xbzrle_compression_moves_live),
		cmocka_unit_test(test_mt_compression_moves_live),
		cmocka_unit_test(test_parallel_connections_move_live),
		cmocka_unit_test(test_knobs_libvirt_refuses_are_refused_before_the_move),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
