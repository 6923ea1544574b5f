/* test_async: `drover run --dir` never waits for one long action — a VM declared, and a
 * drain begun, while a slow live move runs are acted on at once — and SIGTERM in the
 * middle of a move hands it over instead of aborting it: drover exits within seconds, the
 * libvirt job runs on, and the next drover takes it over and records its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "tests/lab/drover_fixture.h"
#include "tests/lab/lab_assert.h"

#define N_HOSTS 3
#define REACT_S 20    /* a new VM, a drain: acted on within this while the move runs */
#define MOVE_MAX_S 180 /* the slow move's bound in all */

static struct fx fx;
static int drover_pid = -1;
static char disk_slow[512], disk_new[512], disk_drained[512];

/* The slow guest: 48 MiB rewritten at 1 MiB/s, moved at 2 MiB/s: each pre-copy pass sends
 * half of the one before (24 s, 12 s, ...), about 50 s a move, converging without help —
 * once the guest has written its whole region (before that, most of it is zero pages, which
 * cost nothing to send; the static region is at most 4 MiB). fill=1: it writes the region at
 * once on boot, then at 1 MiB/s. */
static void write_slow(const char *host)
{
	struct fx_vm vm = {.name = "as-slow", .host = host, .storage = "shared", .memory = "96Mi",
			   .spec_extra = "  migrationPolicy: {bandwidthMiBps: 2, "
					 "allowAutoConverge: false, progressTimeoutSeconds: 0, "
					 "completionTimeoutPerGiBSeconds: 0}\n",
			   .cmdline = "dirty_mib=48 rate_mibps=1 fill=1", .disk = disk_slow,
			   .serial = true};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static void write_small(const char *name, const char *host, const char *disk)
{
	struct fx_vm vm = {.name = name, .host = host, .storage = "shared", .memory = "32Mi",
			   .cmdline = "dirty_mib=1 rate_mibps=1", .disk = disk};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to @max_s until @name runs on host @i (and nowhere else is defined); returns the
 * seconds waited, or -1. */
static double wait_only_on(const char *name, int i, int max_s)
{
	double start = now_s();
	for (int tenth = 0; tenth < max_s * 10; tenth++, usleep(100000))
		if (lab_runs_only_on(name, i, N_HOSTS) && lab_count_defined(name, N_HOSTS) == 1)
			return now_s() - start;
	return -1;
}

/* The phase of the newest Migration record of @vm into @phase ("" when none). */
static void latest_phase(const char *vm, char *phase, size_t size)
{
	char rec[128];
	phase[0] = '\0';
	fx_latest_migration(&fx, vm, rec, sizeof(rec));
	if (*rec)
		fx_status(&fx, "migrations", rec, "status.phase", phase, size);
}

static bool wait_phase(const char *vm, const char *want, int max_s)
{
	char phase[32];
	for (int tenth = 0; tenth < max_s * 10; tenth++, usleep(100000)) {
		latest_phase(vm, phase, sizeof(phase));
		if (!strcmp(phase, want))
			return true;
	}
	return false;
}

/* True while host @i runs a libvirt job on domain @name (an outgoing migration). */
static bool job_on(int i, const char *name)
{
	virConnectPtr conn = lab_connect(i);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
	virDomainJobInfo info = {0};
	bool busy = dom && virDomainGetJobInfo(dom, &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE;

	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
	return busy;
}

/* Waits up to @max_s until host @i runs a libvirt job on @name: a move's record says Running
 * a moment before libvirt has the job (pre-checks and the dirty-rate measure come first). */
static bool wait_job_on(int i, const char *name, int max_s)
{
	for (int tenth = 0; tenth < max_s * 10; tenth++, usleep(100000))
		if (job_on(i, name))
			return true;
	return false;
}

/* Waits (at most 120 s) until the slow guest has written its whole dirty region once. */
static void wait_slow_filled(void)
{
	char serial[512];
	struct guestlog_result res = {0};

	lab_serial_path("as-slow", serial, sizeof(serial));
	for (int tenth = 0; tenth < 1200 && res.last_dirtied_mib < 48; tenth++, usleep(100000))
		if (guestlog_analyze_file(serial, &res) < 0)
			memset(&res, 0, sizeof(res));
	printf("  as-slow has dirtied %llu MiB\n", (unsigned long long)res.last_dirtied_mib);
	assert_true(res.last_dirtied_mib >= 48);
}

static int start_drover(void)
{
	char log[400];
	snprintf(log, sizeof(log), "%s/drover-run-%ld.log", fx.dir, (long)time(NULL));
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", "off", NULL};
	drover_pid = lab_spawn(argv, log);
	return drover_pid > 0 ? 0 : -1;
}

static void test_async_acts_on_a_new_vm_and_a_drain_while_a_long_move_runs(void **state)
{
	char serial[512], phase[32];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;
	(void)state;

	write_slow("lab-a");
	write_small("as-drained", "lab-c", disk_drained);
	assert_true(wait_only_on("as-slow", 0, 60) >= 0);
	assert_true(wait_only_on("as-drained", 2, 60) >= 0);
	write_small("as-drained", NULL, disk_drained);   /* unpinned: stays where it runs */
	wait_slow_filled();
	lab_serial_path("as-slow", serial, sizeof(serial));
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);

	write_slow("lab-b");
	assert_true(wait_phase("as-slow", "Running", REACT_S));

	/* A VM declared meanwhile runs within seconds, not when the move ends. */
	double start = now_s();
	write_small("as-new", "lab-b", disk_new);
	double waited = wait_only_on("as-new", 1, REACT_S);
	printf("  as-new running on lab-b after %.1f s\n", waited);
	assert_true(waited >= 0);
	latest_phase("as-slow", phase, sizeof(phase));
	assert_string_equal(phase, "Running");   /* the slow move has not ended */
	assert_true(wait_job_on(0, "as-slow", REACT_S));

	/* A drain of another host starts its moves too. */
	char out[4096];
	const char *argv[] = {lab_drover(), "drain", "lab-c", "--state-dir", fx.state, NULL};
	assert_int_equal(lab_run(argv, out, sizeof(out), 30), 0);
	double drained = -1;
	for (int tenth = 0; tenth < REACT_S * 10 && drained < 0; tenth++, usleep(100000))
		if (lab_count_running("as-drained", N_HOSTS) == 1 &&
		    !lab_runs_only_on("as-drained", 2, N_HOSTS) &&
		    lab_count_defined("as-drained", N_HOSTS) == 1)
			drained = now_s() - start;
	printf("  as-drained left lab-c %.1f s after the new VM was declared\n", drained);
	assert_true(drained >= 0);
	latest_phase("as-slow", phase, sizeof(phase));
	assert_string_equal(phase, "Running");
	printf("  the slow move is still running\n");

	assert_true(wait_phase("as-slow", "Succeeded", MOVE_MAX_S));
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	lab_assert_live_move_intact("as-slow", &res);
	assert_int_equal(res.banners, 1);
	assert_true(lab_runs_only_on("as-slow", 1, N_HOSTS));
}

static void test_async_sigterm_hands_a_move_over_to_the_next_drover(void **state)
{
	char serial[512], rec[128], reason[64];
	struct guestlog_result res;
	(void)state;

	write_slow("lab-a");
	assert_true(wait_phase("as-slow", "Running", REACT_S));
	assert_true(wait_job_on(1, "as-slow", REACT_S)); /* mid-move */
	fx_latest_migration(&fx, "as-slow", rec, sizeof(rec));
	double start = now_s();
	assert_int_equal(lab_stop(drover_pid, 5), 0);   /* exits, code 0, within 5 s */
	drover_pid = -1;
	printf("  drover exited %.1f s after SIGTERM\n", now_s() - start);
	assert_true(job_on(1, "as-slow"));               /* the move runs on without it */

	assert_int_equal(start_drover(), 0);
	assert_true(wait_phase("as-slow", "Succeeded", MOVE_MAX_S));
	char latest[128];
	fx_latest_migration(&fx, "as-slow", latest, sizeof(latest));
	assert_string_equal(latest, rec);                /* the same move, never a second one */
	fx_status(&fx, "migrations", rec, "status.reason", reason, sizeof(reason));
	printf("  %s: Succeeded, reason %s\n", rec, reason);
	assert_true(wait_only_on("as-slow", 0, 30) >= 0); /* one copy, on the target */
	lab_assert_guest_intact("as-slow");
	lab_serial_path("as-slow", serial, sizeof(serial));
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	assert_int_equal(res.banners, 1);                /* one boot in all */
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	const char *names[] = {"as-slow", "as-new", "as-drained"};
	char *disks[] = {disk_slow, disk_new, disk_drained};
	for (int i = 0; i < 3; i++) {
		char vol[64];
		snprintf(vol, sizeof(vol), "%s.qcow2", names[i]);
		lab_cleanup_guest(names[i], vol);
		if (lab_create_volume(0, "shared", vol, 32, disks[i], 512) < 0)
			return -1;
	}
	return start_drover();
}

static int group_teardown(void **state)
{
	(void)state;
	lab_stop(drover_pid, 10);
	lab_cleanup_guest("as-slow", "as-slow.qcow2");
	lab_cleanup_guest("as-new", "as-new.qcow2");
	lab_cleanup_guest("as-drained", "as-drained.qcow2");
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_async_acts_on_a_new_vm_and_a_drain_while_a_long_move_runs),
		cmocka_unit_test(test_async_sigterm_hands_a_move_over_to_the_next_drover),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
