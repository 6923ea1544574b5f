/* test_migrate: Migrations in directory mode under `drover run --dir` — `drover migrate`
 * creates one as a request in the state dir and follows it to the end; a request naming
 * a VM drover never saw is refused; a running Migration is aborted at once (the VM stays
 * on its source) when its manifest is removed or says spec.cancel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/lab/drover_fixture.h"

#define N_HOSTS 3
#define REACT_S 90   /* every wait below is bounded by this */
#define VM "mg-1"

static struct fx fx;
static int drover_pid = -1;
static char disk[512];

/* The host VM runs on (exactly one), or -1. */
static int host_of_vm(void)
{
	char st[64];
	int on = -1;

	for (int i = 0; i < N_HOSTS; i++) {
		lab_dom_state(i, VM, st, sizeof(st));
		if (!strcmp(st, "running"))
			on = on < 0 ? i : -2;
	}
	return on < 0 ? -1 : on;
}

/* Waits until the status record of Migration @name says phase @phase. */
static bool wait_phase(const char *name, const char *phase)
{
	char got[64];

	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000))
		if (fx_status(&fx, "migrations", name, "status.phase", got, sizeof(got)) == 0 &&
		    !strcmp(got, phase))
			return true;
	printf("  migration %s: phase \"%s\", waited for %s\n", name, got, phase);
	return false;
}

/* A Migration manifest of VM to host @to that runs until it is stopped: 1 MiB/s for a
 * guest dirtying 2 MiB/s, no deadline, no auto-converge. */
static void write_slow_migration(const char *name, int to, bool cancel)
{
	char text[1024], file[80];

	snprintf(text, sizeof(text),
		 "apiVersion: drover.io/v1alpha1\nkind: Migration\nmetadata: {name: %s}\n"
		 "spec: {vmName: " VM ", targetHost: %s, mode: Live, bandwidthMiBps: 1, "
		 "allowAutoConverge: false, completionTimeoutPerGiBSeconds: 0, "
		 "progressTimeoutSeconds: 0, cancel: %s}\n",
		 name, lab_host_name(to), cancel ? "true" : "false");
	snprintf(file, sizeof(file), "%s.yaml", name);
	assert_int_equal(fx_write(&fx, file, text), 0);
}

static void remove_manifest(const char *name)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s.yaml", fx.manifests, name);
	assert_int_equal(unlink(path), 0);
}

/* The phases in status.phaseTransitionTimestamps of Migration @name, space-separated,
 * must be @want, each with a time. */
static void assert_phases(const char *name, const char *want)
{
	char path[400], got[256] = "";
	size_t len = 0, i;
	json_t *entry;

	snprintf(path, sizeof(path), "%s/migrations/default/%s.json", fx.state, name);
	json_t *rec = json_load_file(path, 0, NULL);
	assert_non_null(rec);
	json_t *list = json_object_get(json_object_get(rec, "status"), "phaseTransitionTimestamps");
	json_array_foreach(list, i, entry) {
		assert_non_null(json_string_value(json_object_get(entry, "phaseTransitionTimestamp")));
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? " " : "",
					json_string_value(json_object_get(entry, "phase")));
	}
	json_decref(rec);
	printf("  %s: %s\n", name, got);
	assert_string_equal(got, want);
}

static void test_migrate_moves_a_vm_and_follows_it_to_the_end(void **state)
{
	char out[16384], phase[64];
	(void)state;

	int from = host_of_vm();
	assert_true(from >= 0);
	int to = (from + 1) % N_HOSTS;
	const char *argv[] = {lab_drover(), "migrate", VM, "--to", lab_host_name(to),
			      "--name", "mg-cli", "--state-dir", fx.state, "--timeout", "120", NULL};
	int rc = lab_run(argv, out, sizeof(out), 150);
	printf("%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "migration default/mg-cli created"));
	assert_non_null(strstr(out, "Succeeded"));
	assert_int_equal(host_of_vm(), to);
	assert_int_equal(lab_count_defined(VM, N_HOSTS), 1);
	assert_int_equal(fx_status(&fx, "migrations", "mg-cli", "status.phase", phase,
				   sizeof(phase)), 0);
	assert_string_equal(phase, "Succeeded");
	assert_phases("mg-cli", "Pending Running Succeeded");
	/* The request is done with: removed once its end is recorded; the record stays. */
	char request[400];
	struct stat st;
	snprintf(request, sizeof(request), "%s/overrides/migrations/default/mg-cli.json", fx.state);
	bool gone = false;
	for (int tenth = 0; tenth < REACT_S * 10 && !gone; tenth++, usleep(100000))
		gone = stat(request, &st) < 0;
	assert_true(gone);
}

static void test_migrate_of_a_vm_drover_never_saw_is_refused(void **state)
{
	char out[4096], dir[400];
	struct stat st;
	(void)state;

	const char *argv[] = {lab_drover(), "migrate", "no-such-vm", "--state-dir", fx.state,
			      NULL};
	assert_int_equal(lab_run(argv, out, sizeof(out), 30), 1);
	snprintf(dir, sizeof(dir), "%s/overrides/migrations/default", fx.state);
	/* Nothing requested: at most the folder of the earlier, finished request. */
	const char *ls[] = {"ls", "-A", dir, NULL};
	if (stat(dir, &st) == 0) {
		assert_int_equal(lab_run(ls, out, sizeof(out), 10), 0);
		assert_string_equal(out, "");
	}
}

/* Starts a slow Migration named @name, waits until it runs, then withdraws it with
 * @withdraw; it must end Cancelled with the VM on its source, only there. */
static void abort_running(const char *name, void (*withdraw)(const char *name, int to))
{
	int from = host_of_vm();
	assert_true(from >= 0);
	int to = (from + 1) % N_HOSTS;

	write_slow_migration(name, to, false);
	assert_true(wait_phase(name, "Running"));
	sleep(2); /* well under way */
	withdraw(name, to);
	assert_true(wait_phase(name, "Cancelled"));
	assert_phases(name, "Pending Running Cancelled");
	assert_int_equal(host_of_vm(), from);
	assert_int_equal(lab_count_defined(VM, N_HOSTS), 1);
}

static void withdraw_by_removing(const char *name, int to)
{
	(void)to;
	remove_manifest(name);
}

static void withdraw_by_cancel(const char *name, int to)
{
	write_slow_migration(name, to, true);
}

static void test_removing_a_running_migrations_manifest_aborts_it(void **state)
{
	(void)state;
	abort_running("mg-removed", withdraw_by_removing);
}

static void test_cancel_in_a_running_migrations_manifest_aborts_it(void **state)
{
	(void)state;
	abort_running("mg-cancelled", withdraw_by_cancel);
	remove_manifest("mg-cancelled");
}

static int group_setup(void **state)
{
	struct fx_vm vm = {.name = VM, .memory = "32Mi", .cmdline = "dirty_mib=2 rate_mibps=2",
			   .disk = disk};
	char log[400];
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	lab_cleanup_guest(VM, VM ".qcow2");
	if (lab_create_volume(0, "shared", VM ".qcow2", 32, disk, sizeof(disk)) < 0)
		return -1;
	if (fx_write_vm(&fx, &vm) < 0)
		return -1;
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", "off", NULL};
	drover_pid = lab_spawn(argv, log);
	if (drover_pid <= 0)
		return -1;
	for (int tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000))
		if (host_of_vm() >= 0)
			return 0;
	return -1;
}

static int group_teardown(void **state)
{
	char log[400], out[32768];
	(void)state;
	lab_stop(drover_pid, 30);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *cat[] = {"tail", "-n", "60", log, NULL};
	if (lab_run(cat, out, sizeof(out), 10) == 0)
		printf("---- drover run log (tail) ----\n%s", out);
	lab_cleanup_guest(VM, VM ".qcow2");
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_moves_a_vm_and_follows_it_to_the_end),
		cmocka_unit_test(test_migrate_of_a_vm_drover_never_saw_is_refused),
		cmocka_unit_test(test_removing_a_running_migrations_manifest_aborts_it),
		cmocka_unit_test(test_cancel_in_a_running_migrations_manifest_aborts_it),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
