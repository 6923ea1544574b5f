/* test_run: drover run --dir as a controller — it acts on a new manifest, restarts a
 * guest stopped behind its back (libvirt lifecycle event), moves a guest when its pin
 * changes, keeps running through invalid manifests, and stops cleanly on SIGTERM. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "tests/lab/drover_fixture.h"

#define N_HOSTS 3
#define REACT_S 30   /* every wait below is bounded by this */
#define METRICS_PORT "19479"   /* drover's /metrics in this test */

static struct fx fx;
static int drover_pid = -1;
static char disk[512];

static void write_vm(const char *host)
{
	struct fx_vm vm = {.name = "rn-1", .host = host, .memory = "32Mi", .disk = disk};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

/* Waits until virsh sees rn-1 running on host i; returns seconds waited or -1. */
static int wait_running_on(int i)
{
	char st[64];
	for (int tenth = 0; tenth < REACT_S * 10; tenth++) {
		lab_dom_state(i, "rn-1", st, sizeof(st));
		if (!strcmp(st, "running") && lab_count_defined("rn-1", N_HOSTS) == 1)
			return tenth / 10;
		usleep(100000);
	}
	return -1;
}

static void test_run_starts_a_vm_when_its_manifest_appears(void **state)
{
	(void)state;
	write_vm("lab-c");
	int waited = wait_running_on(2);
	printf("  running on lab-c after %d s\n", waited);
	assert_true(waited >= 0);
}

static void test_run_restarts_a_vm_stopped_behind_its_back(void **state)
{
	(void)state;
	virConnectPtr conn = lab_connect(2);
	assert_non_null(conn);
	virDomainPtr dom = virDomainLookupByName(conn, "rn-1");
	assert_non_null(dom);
	assert_int_equal(virDomainDestroy(dom), 0);
	virDomainFree(dom);
	virConnectClose(conn);
	int waited = wait_running_on(2);
	printf("  running again after %d s\n", waited);
	assert_true(waited >= 0);
}

static void test_run_moves_a_vm_when_its_pin_changes(void **state)
{
	(void)state;
	write_vm("lab-a");
	int waited = wait_running_on(0);
	printf("  moved to lab-a after %d s\n", waited);
	assert_true(waited >= 0);
}

/* The value of the sample @series in drover's /metrics, or -1 when absent. */
static double metric(const char *series)
{
	return lab_metric(METRICS_PORT, series);
}

static void test_run_metrics_match_the_migration_status(void **state)
{
	char rec[128], downtime[32];
	(void)state;

	/* The pin change of the test before moved rn-1 once, live; virsh can see it on the
	 * target a moment before drover has recorded the end of the move. */
	char phase[32] = "";
	for (int tenth = 0; tenth < REACT_S * 10 && strcmp(phase, "Succeeded"); tenth++) {
		fx_latest_migration(&fx, "rn-1", rec, sizeof(rec));
		fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
		usleep(100000);
	}
	assert_string_equal(phase, "Succeeded");
	fx_status(&fx, "migrations", rec, "status.downtimeMs", downtime, sizeof(downtime));
	printf("  Succeeded in metrics: %.0f\n", metric("drover_migrations_total{phase=\"Succeeded\"}"));
	assert_true(metric("drover_migrations_total{phase=\"Succeeded\"}") == 1);
	assert_true(metric("drover_migrations_running") == 0);
	assert_true(metric("drover_migration_downtime_seconds_count") == 1);
	double sum_ms = metric("drover_migration_downtime_seconds_sum") * 1000;
	printf("  downtime: status %s ms, metrics %.0f ms\n", downtime, sum_ms);
	assert_true(sum_ms > atof(downtime) - 1 && sum_ms < atof(downtime) + 1);
	assert_true(metric("drover_host_reachable{host=\"lab-a\"}") == 1);
}

/* Waits (at most REACT_S) until `drover status` shows @text, or (@shown false) no longer
 * does; returns whether it came to that, with the last output in @out. */
static bool wait_status_shows(const char *text, bool shown, char *out, size_t size)
{
	const char *argv[] = {lab_drover(), "status", "--state-dir", fx.state, NULL};

	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000))
		if (lab_run(argv, out, size, 30) == 0 && (strstr(out, text) != NULL) == shown)
			return true;
	return false;
}

static void test_run_keeps_running_through_invalid_manifests(void **state)
{
	char out[16384];
	(void)state;
	assert_int_equal(fx_write(&fx, "broken.yaml",
				  "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
				  "metadata: {name: Not_A_Name}\nspec: {}\n"), 0);
	/* drover status lists the file with its place, and what drover acts on meanwhile. */
	if (!wait_status_shows("broken.yaml:3:", true, out, sizeof(out)))
		fail_msg("drover status does not show the invalid manifest:\n%s", out);
	printf("  %.*s\n", (int)strcspn(out, "\n"), out);
	assert_non_null(strstr(out, "MANIFESTS INVALID since "));
	assert_non_null(strstr(out, "acting on the last valid set in "));
	assert_non_null(strstr(out, "metadata.name"));
	assert_int_equal(kill(drover_pid, 0), 0);       /* still alive */
	assert_int_equal(wait_running_on(0), 0);        /* and nothing was touched */
	char path[512];
	snprintf(path, sizeof(path), "%s/broken.yaml", fx.manifests);
	assert_int_equal(unlink(path), 0);
	if (!wait_status_shows("MANIFESTS INVALID", false, out, sizeof(out)))
		fail_msg("drover status still shows invalid manifests:\n%s", out);
}

/* Waits until VM @name's Placed condition mentions @reason; returns the condition text. */
static bool wait_placed(const char *name, const char *reason, char *msg, size_t size)
{
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000)) {
		fx_condition(&fx, "virtualmachines", name, "Placed", msg, size);
		if (strstr(msg, reason))
			return true;
	}
	return false;
}

static void test_run_backs_off_an_action_that_keeps_failing(void **state)
{
	/* A kernel that does not exist: defining works, starting fails, every time. */
	struct fx_vm bad = {.name = "rn-bad", .host = "lab-b", .memory = "32Mi",
			    .kernel = "/nonexistent/kernel"};
	char msg[1024];
	(void)state;

	assert_int_equal(fx_write_vm(&fx, &bad), 0);
	/* The failure shows: as ActionFailed, or (the next pass follows at once) as BackingOff,
	 * whose message carries the same reason. */
	assert_true(wait_placed("rn-bad", "/nonexistent/kernel", msg, sizeof(msg)));
	/* Wake drover at once (any manifest change): inside the backoff it does not try
	 * again, and says why and when it will. */
	assert_int_equal(fx_write(&fx, "touch.yaml", "# nothing\n"), 0);
	assert_true(wait_placed("rn-bad", "BackingOff", msg, sizeof(msg)));
	printf("  rn-bad: Placed: %s\n", msg);
	assert_non_null(strstr(msg, "next try in"));
	assert_int_equal(lab_count_defined("rn-bad", N_HOSTS), 0); /* nothing half-made */
	char path[512];
	snprintf(path, sizeof(path), "%s/rn-bad.yaml", fx.manifests);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/touch.yaml", fx.manifests);
	assert_int_equal(unlink(path), 0);
}

static void test_run_stops_cleanly_on_sigterm(void **state)
{
	(void)state;
	assert_int_equal(lab_stop(drover_pid, 10), 0);
	drover_pid = -1;
}

static int group_setup(void **state)
{
	char log[400];
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	lab_cleanup_guest("rn-1", "rn-1.qcow2");
	if (lab_create_volume(0, "shared", "rn-1.qcow2", 32, disk, sizeof(disk)) < 0)
		return -1;
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", "127.0.0.1:" METRICS_PORT, NULL};
	drover_pid = lab_spawn(argv, log);
	return drover_pid > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char log[400];
	(void)state;
	lab_stop(drover_pid, 10);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *cat[] = {"cat", log, NULL};
	char out[16384];
	if (lab_run(cat, out, sizeof(out), 10) == 0)
		printf("---- drover run log ----\n%s", out);
	lab_cleanup_guest("rn-1", "rn-1.qcow2");
	lab_cleanup_guest("rn-bad", NULL);
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_starts_a_vm_when_its_manifest_appears),
		cmocka_unit_test(test_run_restarts_a_vm_stopped_behind_its_back),
		cmocka_unit_test(test_run_moves_a_vm_when_its_pin_changes),
		cmocka_unit_test(test_run_metrics_match_the_migration_status),
		cmocka_unit_test(test_run_keeps_running_through_invalid_manifests),
		cmocka_unit_test(test_run_backs_off_an_action_that_keeps_failing),
		cmocka_unit_test(test_run_stops_cleanly_on_sigterm),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
