/* test_apply: drover apply on the lab with running test guests — create, stop and
 * start; moves when spec.host changes (live on shared storage, live with local disks
 * copied, cold with disk copy); a Migration object; plan on a converged cluster.
 * virsh is the independent witness, the guest's serial log proves continuity. */
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

#define N_HOSTS 3

static struct fx fx;

static const char *const guests[] = {"ap-life", "ap-shared", "ap-local", "ap-cold", "ap-mig"};

/* Writes manifests/NAME.yaml: one VM of the test guest. */
static void write_vm(const char *name, const char *host, bool running, const char *storage,
		     const char *disk, const char *format, const char *cmdline)
{
	struct fx_vm vm = {.name = name, .host = host, .running = running ? "true" : "false",
			   .storage = storage, .memory = "64Mi",
			   .cmdline = cmdline ? cmdline : "dirty_mib=8 rate_mibps=4", .disk = disk,
			   .format = format, .serial = true};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static void assert_runs_only_on(const char *name, int host)
{
	assert_true(lab_runs_only_on(name, host, N_HOSTS));
}

static void test_apply_creates_stops_and_starts_a_vm(void **state)
{
	char disk[512], serial[512], st[64];
	(void)state;

	assert_int_equal(lab_create_volume(0, "shared", "ap-life.qcow2", 64, disk, sizeof(disk)), 0);
	write_vm("ap-life", "lab-a", true, "shared", disk, "qcow2", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_runs_only_on("ap-life", 0);
	lab_serial_path("ap-life", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	fx_status(&fx, "virtualmachines", "ap-life", "status.phase", st, sizeof(st));
	assert_string_equal(st, "Running");

	write_vm("ap-life", "lab-a", false, "shared", disk, "qcow2", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_dom_state(0, "ap-life", st, sizeof(st));
	assert_string_equal(st, "shut off");
	fx_status(&fx, "virtualmachines", "ap-life", "status.phase", st, sizeof(st));
	assert_string_equal(st, "Stopped");

	write_vm("ap-life", "lab-a", true, "shared", disk, "qcow2", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_runs_only_on("ap-life", 0);
	struct guestlog_result res;
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	assert_int_equal(res.banners, 2); /* booted twice: started, stopped, started */
}

/* Changes VM @name's pin from lab-a to lab-b while following its serial log, and
 * checks the live move: on lab-b only, no heartbeat gap over LAB_MAX_GAP_MS, intact. */
static void check_live_pin_change(const char *name, const char *storage, const char *disk)
{
	char serial[512], out[16384], rec[128], phase[64];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;

	write_vm(name, "lab-a", true, storage, disk, "qcow2", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_serial_path(name, serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);

	write_vm(name, "lab-b", true, storage, disk, "qcow2", NULL);
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "spec.host changed: lab-a → lab-b"));
	sleep(2);
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	assert_runs_only_on(name, 1);
	lab_assert_live_move_intact(name, &res);
	assert_int_equal(res.banners, 1); /* never rebooted: it was a live move */
	fx_latest_migration(&fx, name, rec, sizeof(rec));
	assert_true(rec[0]);
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Succeeded");
}

static void test_apply_live_migrates_shared_vm_when_pin_changes(void **state)
{
	char disk[512];
	(void)state;
	assert_int_equal(lab_create_volume(0, "shared", "ap-shared.qcow2", 64, disk, sizeof(disk)), 0);
	check_live_pin_change("ap-shared", "shared", disk);
}

static void test_apply_live_migrates_local_vm_copying_its_disk(void **state)
{
	char disk[512], sha[80];
	(void)state;
	assert_int_equal(lab_create_volume(0, "local", "ap-local.qcow2", 64, disk, sizeof(disk)), 0);
	check_live_pin_change("ap-local", "local", disk);
	fx_host_file_sha(1, "images/ap-local.qcow2", sha, sizeof(sha));
	assert_true(sha[0]);                 /* the disk is on lab-b now ... */
	fx_host_file_sha(0, "images/ap-local.qcow2", sha, sizeof(sha));
	assert_false(sha[0]);                /* ... and no longer on lab-a */
}

/* Fills host i's raw volume images/@file with random bytes; returns its SHA-256. */
static void fill_random(int i, const char *file, char *sha, size_t size)
{
	char path[600];
	snprintf(path, sizeof(path), "of=%s/hosts/%s/lib/images/%s", lab_dir(), lab_host_name(i), file);
	const char *argv[] = {"dd", "if=/dev/urandom", path, "bs=1M", "count=8", "conv=notrunc",
			      "status=none", NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 60), 0);
	char rel[300];
	snprintf(rel, sizeof(rel), "images/%s", file);
	fx_host_file_sha(i, rel, sha, size);
	assert_true(sha[0]);
}

static void test_apply_cold_migrates_stopped_local_vm_copying_its_disk(void **state)
{
	char disk[512], before[80], after[80], st[64];
	(void)state;

	assert_int_equal(lab_create_volume(0, "local", "ap-cold.raw", 8, disk, sizeof(disk)), 0);
	fill_random(0, "ap-cold.raw", before, sizeof(before));
	write_vm("ap-cold", "lab-a", false, "local", disk, "raw", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_dom_state(0, "ap-cold", st, sizeof(st));
	assert_string_equal(st, "shut off");

	write_vm("ap-cold", "lab-b", false, "local", disk, "raw", NULL);
	char out[16384];
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "cold-migrate"));
	lab_dom_state(1, "ap-cold", st, sizeof(st));
	assert_string_equal(st, "shut off");
	assert_int_equal(lab_count_defined("ap-cold", N_HOSTS), 1);
	fx_host_file_sha(1, "images/ap-cold.raw", after, sizeof(after));
	assert_string_equal(after, before);  /* every byte arrived */
	fx_host_file_sha(0, "images/ap-cold.raw", after, sizeof(after));
	assert_false(after[0]);              /* and the source copy is gone */
}

static void test_migration_object_moves_unpinned_vm_cold(void **state)
{
	char disk[512], host[64], target[64], text[512], phase[64], mode[64], serial[512];
	(void)state;

	assert_int_equal(lab_create_volume(0, "shared", "ap-mig.qcow2", 64, disk, sizeof(disk)), 0);
	write_vm("ap-mig", NULL, true, "shared", disk, "qcow2", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	fx_status(&fx, "virtualmachines", "ap-mig", "status.host", host, sizeof(host));
	assert_true(host[0]);
	snprintf(target, sizeof(target), "%s", strcmp(host, "lab-c") ? "lab-c" : "lab-a");
	snprintf(text, sizeof(text),
		 "apiVersion: drover.io/v1alpha1\nkind: Migration\nmetadata: {name: move-ap-mig}\n"
		 "spec: {vmName: ap-mig, targetHost: %s, mode: Cold}\n", target);
	assert_int_equal(fx_write(&fx, "migration.yaml", text), 0);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	fx_status(&fx, "migrations", "move-ap-mig", "status.phase", phase, sizeof(phase));
	fx_status(&fx, "migrations", "move-ap-mig", "status.mode", mode, sizeof(mode));
	assert_string_equal(phase, "Succeeded");
	assert_string_equal(mode, "Cold");
	assert_runs_only_on("ap-mig", target[4] - 'a');
	lab_serial_path("ap-mig", serial, sizeof(serial));
	struct guestlog_result res;
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	assert_int_equal(res.banners, 2);    /* a cold move reboots the guest */
	assert_int_equal(res.max_corrupt, 0);
	/* Unpinned: it stays where it landed; the finished Migration is not redone. */
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_runs_only_on("ap-mig", target[4] - 'a');
	/* The Migration is done; later tests plan without it. */
	char path[400];
	snprintf(path, sizeof(path), "%s/migration.yaml", fx.manifests);
	assert_int_equal(unlink(path), 0);
}

static void test_plan_on_converged_cluster_proposes_nothing(void **state)
{
	char out[16384];
	(void)state;
	assert_int_equal(fx_drover(&fx, "plan", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Plan: 0 to change, 0 blocked, 0 waiting."));
}

static void cleanup_guests(void)
{
	char volume[80], serial[512];
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		bool raw = !strcmp(guests[i], "ap-cold");
		snprintf(volume, sizeof(volume), "%s.%s", guests[i], raw ? "raw" : "qcow2");
		lab_cleanup_guest(guests[i], volume);
		lab_serial_path(guests[i], serial, sizeof(serial));
		unlink(serial);
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	cleanup_guests();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_guests();
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_creates_stops_and_starts_a_vm),
		cmocka_unit_test(test_apply_live_migrates_shared_vm_when_pin_changes),
		cmocka_unit_test(test_apply_live_migrates_local_vm_copying_its_disk),
		cmocka_unit_test(test_apply_cold_migrates_stopped_local_vm_copying_its_disk),
		cmocka_unit_test(test_migration_object_moves_unpinned_vm_cold),
		cmocka_unit_test(test_plan_on_converged_cluster_proposes_nothing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
