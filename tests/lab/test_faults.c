/* test_faults: infrastructure failing in the middle of a live move under `drover run
 * --dir` — the source's libvirtd killed, the target's libvirtd killed, the target's network
 * link cut — and then restored. Each time the VM ends running on exactly one host (the one
 * it is pinned to, once drover has reconnected and retried), its memory intact, and the
 * move's record says how it ended. */
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
#define VM "ft-1"
#define REACT_S 150   /* every wait below is bounded by this */

static struct fx fx;
static int drover_pid = -1;
static char disk[512];

static void write_vm(const char *host)
{
	/* 192 MiB written once, nothing rewritten: one precopy iteration of ~6 s at 32 MiB/s,
	 * long enough to break in its middle (see test_crash for why nothing is rewritten
	 * under a bandwidth cap). */
	struct fx_vm vm = {.name = VM, .host = host,
			   .spec_extra = "  migrationPolicy: {bandwidthMiBps: 32}\n",
			   .memory = "256Mi", .cmdline = "dirty_mib=0 static_mib=192", .disk = disk,
			   .serial = true};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static void lab(const char *verb, int host)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(host), NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 120), 0);
}

/* True when the VM runs on host i only, defined nowhere else. */
static bool only_on(int i)
{
	return lab_runs_only_on(VM, i, N_HOSTS);
}

static bool wait_only_on(int i)
{
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000))
		if (only_on(i))
			return true;
	return false;
}

/* Waits until drover has a move of the VM under way; returns its record's name. */
static void wait_move_running(char *name, size_t size)
{
	char phase[64] = "";

	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000)) {
		fx_latest_migration(&fx, VM, name, size);
		if (name[0] && fx_status(&fx, "migrations", name, "status.phase", phase,
					 sizeof(phase)) == 0 && !strcmp(phase, "Running"))
			return;
	}
	fail_msg("no move of " VM " started (latest record \"%s\": %s)", name, phase);
}

/* Every record of the VM's moves has ended, a failed one with a reason; prints them. */
static void assert_moves_ended(const char *first)
{
	char latest[128], phase[64], reason[512];

	fx_latest_migration(&fx, VM, latest, sizeof(latest));
	for (int tries = 0; tries < REACT_S * 10; tries++, usleep(100000)) {
		fx_status(&fx, "migrations", first, "status.phase", phase, sizeof(phase));
		if (strcmp(phase, "Running"))
			break;
	}
	fx_status(&fx, "migrations", first, "status.failureReason", reason, sizeof(reason));
	printf("  interrupted move %s: %s %s\n", first, phase, reason);
	assert_true(!strcmp(phase, "Succeeded") || (!strcmp(phase, "Failed") && reason[0]));
	/* The guest shows on its target a moment before the move's job has seen the end and
	 * written it down. */
	for (int tries = 0; tries < REACT_S * 10; tries++, usleep(100000)) {
		fx_status(&fx, "migrations", latest, "status.phase", phase, sizeof(phase));
		if (strcmp(phase, "Running"))
			break;
	}
	printf("  last move %s: %s\n", latest, phase);
	assert_string_equal(phase, "Succeeded");
}

/* Moves the VM from @from to @to and, once the move runs, breaks @victim with @fault
 * ("kill-libvirtd" or "link-down") for a few seconds, then repairs it. */
static void move_through_fault(int from, int to, const char *fault, int victim)
{
	char first[128];

	assert_true(only_on(from));
	write_vm(lab_host_name(to));
	wait_move_running(first, sizeof(first));
	sleep(1);
	lab(fault, victim);
	sleep(4);
	lab(!strcmp(fault, "link-down") ? "link-up" : "start-host", victim);
	if (!wait_only_on(to)) {
		char out[16384];
		printf("  not settled; what drover would do now:\n");
		(void)fx_drover(&fx, "plan", out, sizeof(out));
		for (int i = 0; i < N_HOSTS; i++) {
			const char *argv[] = {"virsh", "-c", lab_host_uri(i), "domstate", "--reason",
					      VM, NULL};
			(void)lab_run(argv, out, sizeof(out), 30);
			printf("  %s: %s", lab_host_name(i), out);
		}
		fail();
	}
	assert_moves_ended(first);
	lab_assert_guest_intact(VM);
}

static void test_source_libvirtd_killed_mid_move(void **state)
{
	(void)state;
	move_through_fault(0, 1, "kill-libvirtd", 0);
}

static void test_target_libvirtd_killed_mid_move(void **state)
{
	(void)state;
	move_through_fault(1, 0, "kill-libvirtd", 0);
}

static void test_target_link_cut_mid_move(void **state)
{
	(void)state;
	move_through_fault(0, 1, "link-down", 1);
}

static int group_setup(void **state)
{
	char log[400], serial[512];
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	lab_cleanup_guest(VM, VM ".qcow2");
	lab_serial_path(VM, serial, sizeof(serial));
	unlink(serial);
	if (lab_create_volume(0, "shared", VM ".qcow2", 32, disk, sizeof(disk)) < 0)
		return -1;
	write_vm("lab-a");
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", "off", NULL};
	drover_pid = lab_spawn(argv, log);
	return drover_pid > 0 && wait_only_on(0) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char log[400], out[32768];
	(void)state;
	lab_stop(drover_pid, 30);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *tail[] = {"grep", "-v", "-m", "80", "msg=\"reconciled\"", log, NULL};
	if (lab_run(tail, out, sizeof(out), 10) == 0)
		printf("---- drover run log (without passes) ----\n%s", out);
	/* Whatever a failed test left broken comes back. */
	for (int i = 0; i < N_HOSTS; i++) {
		const char *up[] = {"bash", "hack/lab", "link-up", lab_host_name(i), NULL};
		const char *start[] = {"bash", "hack/lab", "start-host", lab_host_name(i), NULL};
		(void)lab_run(up, NULL, 0, 30);
		(void)lab_run(start, NULL, 0, 120);
	}
	lab_cleanup_guest(VM, VM ".qcow2");
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_libvirtd_killed_mid_move),
		cmocka_unit_test(test_target_libvirtd_killed_mid_move),
		cmocka_unit_test(test_target_link_cut_mid_move),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
