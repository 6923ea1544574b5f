/* test_placement: placement that decides, on real hosts with running guests. Four unpinned
 * guests on one host with balancing on end up spread by live moves, intact, and then stay
 * put; three guests with required anti-affinity land on three hosts; a drain whose only
 * targets would break that anti-affinity is blocked with the reason; a guest with more
 * vCPUs than cpuOvercommit allows anywhere is not placed, with the reason. */
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
#define REACT_S 180             /* every wait below is bounded by this */
#define SCHEDULABLE_MIB 256     /* what each host offers after reservedMemory */

static const char *const balanced[] = {"bal-1", "bal-2", "bal-3", "bal-4"};
static const char *const replicas[] = {"db-1", "db-2", "db-3"};
#define N_BAL 4
#define N_DB 3

static struct fx fx;
static int drover_pid = -1;
static unsigned long long reserved_mib;

/* The lab's hosts share this machine's memory: reserving all but SCHEDULABLE_MIB makes a
 * few 32Mi guests a real share of each host. */
static int compute_reserved(void)
{
	reserved_mib = lab_reserved_leaving_mib(SCHEDULABLE_MIB);
	return reserved_mib ? 0 : -1;
}

static void write_hosts(bool drain_a)
{
	char text[2048];
	size_t len = 0;

	for (int i = 0; i < N_HOSTS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"---\napiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: %s}\n"
					"spec: {uri: \"%s\", migrationAddress: %s, drain: %s, "
					"reservedMemory: %lluMi}\n", lab_host_name(i), lab_host_uri(i),
					lab_host_addr(i), i == 0 && drain_a ? "true" : "false",
					reserved_mib);
	assert_int_equal(fx_write(&fx, "hosts.yaml", text), 0);
}

/* Overcommitted memory, so the free-memory check (the hosts share one machine) steps back
 * and the allocation within SCHEDULABLE_MIB × 2 governs. */
static void write_policy(const char *extra)
{
	char text[512];
	snprintf(text, sizeof(text), "apiVersion: drover.io/v1alpha1\nkind: PlacementPolicy\n"
		 "metadata: {name: default}\nspec:\n  memoryOvercommit: 2\n%s", extra);
	assert_int_equal(fx_write(&fx, "policy.yaml", text), 0);
}

static const char *const all_guests[] = {"bal-1", "bal-2", "bal-3", "bal-4", "db-1", "db-2",
					 "db-3", "cpu-1"};
#define N_ALL (sizeof(all_guests) / sizeof(all_guests[0]))
static char disks[N_ALL][512];

static const char *disk_of(const char *name)
{
	for (size_t i = 0; i < N_ALL; i++)
		if (!strcmp(all_guests[i], name))
			return disks[i];
	fail_msg("no disk for %s", name);
	return NULL;
}

static void write_guest(const char *name, const char *host, const char *labels,
			const char *spec_extra, const char *domain_extra)
{
	struct fx_vm vm = {.name = name, .host = host, .storage = "shared", .memory = "32Mi",
			   .cmdline = "dirty_mib=2 rate_mibps=1", .disk = disk_of(name),
			   .serial = true, .labels = labels, .spec_extra = spec_extra,
			   .domain_extra = domain_extra};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

/* The lab host index guest @name runs on (and only there), or -1. */
static int host_of(const char *name)
{
	for (int i = 0; i < N_HOSTS; i++)
		if (lab_runs_only_on(name, i, N_HOSTS))
			return i;
	return -1;
}

static int count_on(int host, const char *const *names, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		k += host_of(names[i]) == host;
	return k;
}

/* 4 × 32Mi of 256Mi on lab-a: 50/0/0. Two moves make it 25/12.5/12.5, within 20 points. */
static void test_balance_spreads_a_crowded_host_and_then_stays_put(void **state)
{
	char log[400];
	int where[N_BAL];
	(void)state;

	write_policy("  balance: {resource: memory, maxSpreadPercent: 20, maxMovesPerHour: 6}\n");
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--metrics-addr", "off", "--stop-timeout", "2", NULL};
	drover_pid = lab_spawn(argv, log);
	assert_true(drover_pid > 0);
	for (int tenth = 0; tenth < REACT_S * 10 && count_on(0, balanced, N_BAL) > 2; tenth++)
		usleep(100000);
	assert_int_equal(count_on(0, balanced, N_BAL), 2);
	/* Long enough for several passes: a balanced cluster makes no further move. */
	sleep(20);
	for (size_t i = 0; i < N_BAL; i++) {
		where[i] = host_of(balanced[i]);
		assert_true(where[i] >= 0);
	}
	assert_int_equal(count_on(0, balanced, N_BAL), 2);
	assert_int_equal(count_on(1, balanced, N_BAL), 1);
	assert_int_equal(count_on(2, balanced, N_BAL), 1);
	sleep(10);
	for (size_t i = 0; i < N_BAL; i++)
		assert_int_equal(host_of(balanced[i]), where[i]);
	lab_stop(drover_pid, 30);
	drover_pid = -1;
	for (size_t i = 0; i < N_BAL; i++) {
		char serial[512], mig[128], reason[64];
		struct guestlog_result res;
		lab_serial_path(balanced[i], serial, sizeof(serial));
		assert_int_equal(guestlog_analyze_file(serial, &res), 0);
		assert_int_equal(res.max_corrupt, 0);
		assert_int_equal(res.banners, 1);       /* never restarted: every move was live */
		if (where[i] == 0)
			continue;
		fx_latest_migration(&fx, balanced[i], mig, sizeof(mig));
		assert_true(mig[0]);
		assert_int_equal(fx_status(&fx, "migrations", mig, "status.reason", reason,
					   sizeof(reason)), 0);
		printf("  %s moved by %s (%s)\n", balanced[i], mig, reason);
		assert_string_equal(reason, "Balance");
		lab_assert_guest_intact(balanced[i]);
	}
}

#define ANTI_DB "  affinity:\n    antiAffinity:\n    - {labelSelector: {app: db}, required: true}\n"

static void test_required_anti_affinity_lands_replicas_on_three_hosts(void **state)
{
	bool used[N_HOSTS] = {false};
	(void)state;

	write_policy("");
	for (size_t i = 0; i < N_DB; i++)
		write_guest(replicas[i], NULL, "app: db", ANTI_DB, NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	for (size_t i = 0; i < N_DB; i++) {
		int h = host_of(replicas[i]);
		printf("  %s on %s\n", replicas[i], h >= 0 ? lab_host_name(h) : "?");
		assert_true(h >= 0);
		assert_false(used[h]);
		used[h] = true;
	}
}

static void test_drain_that_would_break_anti_affinity_is_blocked(void **state)
{
	char msg[1024] = "";
	const char *on_a = NULL;
	(void)state;

	for (size_t i = 0; i < N_DB; i++)
		if (host_of(replicas[i]) == 0)
			on_a = replicas[i];
	assert_non_null(on_a);
	write_hosts(true);
	assert_int_not_equal(fx_drover(&fx, "apply", NULL, 0), 0);     /* blocked: exit 2 */
	fx_condition(&fx, "virtualmachines", on_a, "Placed", msg, sizeof(msg));
	printf("  %s: Placed: %s\n", on_a, msg);
	assert_non_null(strstr(msg, "EvictionBlocked"));
	assert_non_null(strstr(msg, "anti-affinity app=db (required)"));
	assert_int_equal(host_of(on_a), 0);          /* still running where it was */
	write_hosts(false);
}

static void test_vm_with_more_vcpus_than_cpu_overcommit_allows_is_not_placed(void **state)
{
	char msg[1024] = "";
	(void)state;

	write_policy("  cpuOvercommit: 1\n");
	write_guest("cpu-1", NULL, NULL, NULL, "    vcpus: 64\n");
	assert_int_not_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_int_equal(lab_count_defined("cpu-1", N_HOSTS), 0);
	fx_condition(&fx, "virtualmachines", "cpu-1", "Placed", msg, sizeof(msg));
	printf("  cpu-1: Placed: %s\n", msg);
	assert_non_null(strstr(msg, "cpu: lab-a has"));
	assert_non_null(strstr(msg, "cpuOvercommit 1), cpu-1 needs 64"));
}

static void cleanup_guests(void)
{
	char vol[64], serial[512];

	for (size_t i = 0; i < N_ALL; i++) {
		snprintf(vol, sizeof(vol), "%s.qcow2", all_guests[i]);
		lab_serial_path(all_guests[i], serial, sizeof(serial));
		lab_cleanup_guest(all_guests[i], vol);
		unlink(serial);
	}
}

static int group_setup(void **state)
{
	char vol[64];
	(void)state;

	if (compute_reserved() < 0 || lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0)
		return -1;
	cleanup_guests();
	for (size_t i = 0; i < N_ALL; i++) {
		snprintf(vol, sizeof(vol), "%s.qcow2", all_guests[i]);
		if (lab_create_volume(0, "shared", vol, 32, disks[i], sizeof(disks[i])) < 0)
			return -1;
	}
	/* Pinned first so all four start on lab-a, then unpinned: balancing moves them. */
	write_hosts(false);
	write_policy("");
	for (size_t i = 0; i < N_BAL; i++)
		write_guest(balanced[i], "lab-a", NULL, NULL, NULL);
	if (fx_drover(&fx, "apply", NULL, 0) != 0)
		return -1;
	for (size_t i = 0; i < N_BAL; i++)
		write_guest(balanced[i], NULL, NULL, NULL, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	char log[400], out[32768];
	(void)state;
	if (drover_pid > 0)
		lab_stop(drover_pid, 30);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *cat[] = {"tail", "-n", "40", log, NULL};
	if (lab_run(cat, out, sizeof(out), 10) == 0)
		printf("---- drover run log (tail) ----\n%s", out);
	cleanup_guests();
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_balance_spreads_a_crowded_host_and_then_stays_put),
		cmocka_unit_test(test_required_anti_affinity_lands_replicas_on_three_hosts),
		cmocka_unit_test(test_drain_that_would_break_anti_affinity_is_blocked),
		cmocka_unit_test(test_vm_with_more_vcpus_than_cpu_overcommit_allows_is_not_placed),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
