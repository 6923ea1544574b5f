/* The metrics registry: a move's gauges live while it runs and vanish when it ends, the
 * end is counted and timed, labels are escaped, the series cap holds, and the text is
 * what Prometheus's own checker accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>
#include <cmocka.h>

#include "controller/serve/metrics.h"

#define PROMTOOL "/usr/bin/promtool"

extern char **environ;

static struct exec_move running_move(int percent)
{
	struct exec_move mv = {.phase = CRD_MIG_RUNNING, .mode = CRD_RUN_PRECOPY,
			       .source = "lab-a", .target = "lab-b",
			       .start_time = "2026-11-23T18:13:51Z", .downtime_ms = -1};
	mv.progress.data_total_bytes = 1073741824;
	mv.progress.data_processed_bytes = 450971566;
	mv.progress.data_remaining_bytes = 622770258;
	mv.progress.memory_dirty_rate_bps = 5242880;
	mv.progress.transfer_rate_bps = 104857600;
	mv.progress.percent = percent;
	return mv;
}

static struct exec_move ended_move(enum crd_mig_phase phase, const char *end, int64_t downtime_ms)
{
	struct exec_move mv = running_move(100);
	mv.phase = phase;
	snprintf(mv.end_time, sizeof(mv.end_time), "%s", end);
	mv.downtime_ms = downtime_ms;
	return mv;
}

/* The rendering, which the test frees. */
static char *render(struct metrics *m)
{
	char *text = metrics_render(m, NULL);
	assert_non_null(text);
	return text;
}

static void assert_has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing \"%s\" in:\n%s", line, text);
}

static void assert_lacks(const char *text, const char *part)
{
	if (strstr(text, part))
		fail_msg("unexpected \"%s\" in:\n%s", part, text);
}

static void test_metrics_start_with_zero_counters(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	char *text = render(m);

	assert_has(text, "# TYPE drover_migrations_total counter\n");
	assert_has(text, "drover_migrations_total{phase=\"Succeeded\"} 0\n");
	assert_has(text, "drover_migrations_total{phase=\"Failed\"} 0\n");
	assert_has(text, "drover_migrations_total{phase=\"Cancelled\"} 0\n");
	assert_has(text, "drover_migrations_running 0\n");
	assert_has(text, "drover_reconcile_errors_total 0\n");
	assert_has(text, "drover_migration_duration_seconds_bucket{le=\"+Inf\"} 0\n");
	assert_lacks(text, "drover_migration_percent");
	free(text);
	metrics_free(m);
}

static void test_metrics_running_move_sets_per_vm_gauges(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct exec_move mv = running_move(42);

	metrics_on_move(m, "default", "web-1", &mv);
	char *text = render(m);
	assert_has(text, "drover_migrations_running 1\n");
	assert_has(text, "# TYPE drover_migration_percent gauge\n");
	assert_has(text, "drover_migration_percent{namespace=\"default\",vm=\"web-1\"} 42\n");
	assert_has(text, "drover_migration_data_processed_bytes{namespace=\"default\",vm=\"web-1\"} "
			 "450971566\n");
	assert_has(text, "drover_migration_data_remaining_bytes{namespace=\"default\",vm=\"web-1\"} "
			 "622770258\n");
	assert_has(text, "drover_migration_memory_dirty_rate_bytes_per_second{namespace=\"default\","
			 "vm=\"web-1\"} 5242880\n");
	assert_has(text, "drover_migration_transfer_rate_bytes_per_second{namespace=\"default\","
			 "vm=\"web-1\"} 104857600\n");
	free(text);

	/* The next sample replaces the values; it does not add a series. */
	mv = running_move(77);
	metrics_on_move(m, "default", "web-1", &mv);
	text = render(m);
	assert_has(text, "drover_migration_percent{namespace=\"default\",vm=\"web-1\"} 77\n");
	assert_lacks(text, "} 42\n");
	assert_has(text, "drover_migrations_running 1\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_finished_move_is_counted_and_its_series_vanish(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct exec_move a = running_move(10), b = running_move(20);

	metrics_on_move(m, "default", "web-1", &a);
	metrics_on_move(m, "shop", "db-1", &b);
	char *text = render(m);
	assert_has(text, "drover_migrations_running 2\n");
	free(text);

	/* 35 ms of downtime, 70 s from start to end. */
	a = ended_move(CRD_MIG_SUCCEEDED, "2026-11-23T18:15:01Z", 35);
	metrics_on_move(m, "default", "web-1", &a);
	text = render(m);
	assert_has(text, "drover_migrations_total{phase=\"Succeeded\"} 1\n");
	assert_has(text, "drover_migrations_running 1\n");
	assert_lacks(text, "vm=\"web-1\"");
	assert_has(text, "drover_migration_percent{namespace=\"shop\",vm=\"db-1\"} 20\n");
	assert_has(text, "drover_migration_downtime_seconds_bucket{le=\"0.025\"} 0\n");
	assert_has(text, "drover_migration_downtime_seconds_bucket{le=\"0.05\"} 1\n");
	assert_has(text, "drover_migration_downtime_seconds_sum 0.035000000000000003\n");
	assert_has(text, "drover_migration_duration_seconds_bucket{le=\"60\"} 0\n");
	assert_has(text, "drover_migration_duration_seconds_bucket{le=\"120\"} 1\n");
	assert_has(text, "drover_migration_duration_seconds_sum 70\n");
	free(text);

	b = ended_move(CRD_MIG_CANCELLED, "2026-11-23T18:14:01Z", -1);
	metrics_on_move(m, "shop", "db-1", &b);
	text = render(m);
	assert_has(text, "drover_migrations_total{phase=\"Cancelled\"} 1\n");
	assert_has(text, "drover_migrations_running 0\n");
	assert_lacks(text, "drover_migration_percent");
	assert_lacks(text, "drover_migration_data_processed_bytes");
	assert_has(text, "drover_migration_downtime_seconds_count 1\n"); /* not the cancelled one */
	assert_has(text, "drover_migration_duration_seconds_count 2\n");
	free(text);
	metrics_free(m);
}

/* Per host pair and final phase, for a dashboard of migration success across hosts; a pair
 * appears with its first ended move, never before. */
static void test_metrics_host_pair_counts_each_pair_and_phase(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct exec_move mv = running_move(10);
	char *text = render(m);

	assert_lacks(text, "drover_host_pair_migrations_total");
	free(text);
	metrics_on_move(m, "default", "web-1", &mv);
	text = render(m);
	assert_lacks(text, "drover_host_pair_migrations_total");
	free(text);
	mv = ended_move(CRD_MIG_SUCCEEDED, "2026-11-23T18:15:01Z", 35);
	metrics_on_move(m, "default", "web-1", &mv);
	metrics_on_move(m, "default", "web-2", &mv);
	mv = ended_move(CRD_MIG_FAILED, "2026-11-23T18:15:01Z", -1);
	snprintf(mv.source, sizeof(mv.source), "lab-b");
	snprintf(mv.target, sizeof(mv.target), "lab-c");
	metrics_on_move(m, "default", "db-1", &mv);
	text = render(m);
	assert_has(text, "# TYPE drover_host_pair_migrations_total counter\n");
	assert_has(text, "drover_host_pair_migrations_total{source=\"lab-a\",target=\"lab-b\","
			 "phase=\"Succeeded\"} 2\n");
	assert_has(text, "drover_host_pair_migrations_total{source=\"lab-b\",target=\"lab-c\","
			 "phase=\"Failed\"} 1\n");
	assert_lacks(text, "target=\"lab-b\",phase=\"Failed\"");
	free(text);
	metrics_free(m);
}

static void test_metrics_cold_move_has_no_downtime_sample(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct exec_move mv = ended_move(CRD_MIG_SUCCEEDED, "2026-11-23T18:13:56Z", 4000);

	mv.mode = CRD_RUN_COLD;
	metrics_on_move(m, "default", "web-1", &mv);
	char *text = render(m);
	assert_has(text, "drover_migrations_total{phase=\"Succeeded\"} 1\n");
	assert_has(text, "drover_migration_downtime_seconds_count 0\n");
	assert_has(text, "drover_migration_duration_seconds_bucket{le=\"5\"} 1\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_histograms_accumulate(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();

	metrics_on_reconcile(m, 0.02, false);
	metrics_on_reconcile(m, 0.3, true);
	metrics_on_reconcile(m, 1000, false);   /* above every bound: +Inf only */
	char *text = render(m);
	assert_has(text, "# TYPE drover_reconcile_duration_seconds histogram\n");
	assert_has(text, "drover_reconcile_duration_seconds_bucket{le=\"0.01\"} 0\n");
	assert_has(text, "drover_reconcile_duration_seconds_bucket{le=\"0.05\"} 1\n");
	assert_has(text, "drover_reconcile_duration_seconds_bucket{le=\"0.25\"} 1\n");
	assert_has(text, "drover_reconcile_duration_seconds_bucket{le=\"0.5\"} 2\n");
	assert_has(text, "drover_reconcile_duration_seconds_bucket{le=\"300\"} 2\n");
	assert_has(text, "drover_reconcile_duration_seconds_bucket{le=\"+Inf\"} 3\n");
	assert_has(text, "drover_reconcile_duration_seconds_count 3\n");
	assert_has(text, "drover_reconcile_duration_seconds_sum 1000.3200000000001\n");
	assert_has(text, "drover_reconcile_errors_total 1\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_failover_seconds_is_a_histogram(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();

	char *text = render(m);
	/* There before any failover, so dashboards and alerts read 0, not "no data". */
	assert_has(text, "# TYPE drover_failover_seconds histogram\n");
	assert_has(text, "drover_failover_seconds_count 0\n");
	free(text);
	metrics_on_failover(m, 14.5);
	metrics_on_failover(m, 50);
	metrics_on_failover(NULL, 1);
	text = render(m);
	assert_has(text, "drover_failover_seconds_bucket{le=\"10\"} 0\n");
	assert_has(text, "drover_failover_seconds_bucket{le=\"20\"} 1\n");
	assert_has(text, "drover_failover_seconds_bucket{le=\"60\"} 2\n");
	assert_has(text, "drover_failover_seconds_count 2\n");
	assert_has(text, "drover_failover_seconds_sum 64.5\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_hosts_and_vm_phases(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct crd_vm vms[3] = {0};

	vms[0].status.phase = CRD_VM_RUNNING;
	vms[1].status.phase = CRD_VM_RUNNING;
	vms[2].status.phase = CRD_VM_MIGRATING;
	metrics_set_host(m, "lab-a", true);
	metrics_set_host(m, "lab-b", true);
	metrics_set_host(m, "lab-b", false);
	metrics_set_vm_phases(m, vms, 3);
	char *text = render(m);
	assert_has(text, "drover_host_reachable{host=\"lab-a\"} 1\n");
	assert_has(text, "drover_host_reachable{host=\"lab-b\"} 0\n");
	assert_has(text, "drover_vms{phase=\"Running\"} 2\n");
	assert_has(text, "drover_vms{phase=\"Migrating\"} 1\n");
	assert_has(text, "drover_vms{phase=\"Conflict\"} 0\n");
	free(text);

	metrics_set_vm_phases(m, vms, 1);
	text = render(m);
	assert_has(text, "drover_vms{phase=\"Running\"} 1\n");
	assert_has(text, "drover_vms{phase=\"Migrating\"} 0\n");
	free(text);

	/* Orphans have no object: counted from what a pass found, and kept by the phases. */
	metrics_set_orphans(m, 2);
	metrics_set_vm_phases(m, vms, 1);
	text = render(m);
	assert_has(text, "drover_vms{phase=\"Orphaned\"} 2\n");
	free(text);
	metrics_set_orphans(m, 0);
	text = render(m);
	assert_has(text, "drover_vms{phase=\"Orphaned\"} 0\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_label_values_are_escaped(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();

	metrics_set_host(m, "a\"b\\c\nd", true);
	char *text = render(m);
	assert_has(text, "drover_host_reachable{host=\"a\\\"b\\\\c\\nd\"} 1\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_count_host_failures_and_fences_once(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	metrics_set_host_failure(m, "lab-c", false, NULL, NULL);
	metrics_set_host_failure(m, "lab-c", true, NULL, NULL);
	metrics_set_host_failure(m, "lab-c", true, "2026-12-04T17:00:00Z", "Failed");
	metrics_set_host_failure(m, "lab-c", true, "2026-12-04T17:00:00Z", "Failed");
	metrics_set_host_failure(m, "lab-c", true, "2026-12-04T17:00:09Z", "Succeeded");
	char *text = render(m);
	assert_has(text, "drover_host_failures_total 1\n");
	assert_has(text, "drover_host_failed{host=\"lab-c\"} 1\n");
	assert_has(text, "drover_fence_operations_total{result=\"Failed\"} 1\n");
	assert_has(text, "drover_fence_operations_total{result=\"Succeeded\"} 1\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_series_cap_holds_and_counts_drops(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	char name[32];

	for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
		snprintf(name, sizeof(name), "host-%d", i);
		metrics_set_host(m, name, true);
	}
	/* Eight series exist from the start (migrations by phase, running, reconcile errors,
	 * host failures, fences by result); the rest of the cap went to hosts. */
	int kept = METRICS_MAX_SERIES - 8;
	char *text = render(m);
	snprintf(name, sizeof(name), "host=\"host-%d\"", kept - 1);
	assert_has(text, name);
	snprintf(name, sizeof(name), "host=\"host-%d\"", kept);
	assert_lacks(text, name);
	char line[80];
	snprintf(line, sizeof(line), "drover_metrics_series_dropped_total %d\n", 18);
	assert_has(text, line);
	free(text);

	/* A move that does not fit is dropped whole, not half; its end is still counted. */
	struct exec_move mv = running_move(5);
	metrics_on_move(m, "default", "web-1", &mv);
	mv = ended_move(CRD_MIG_FAILED, "2026-11-23T18:14:00Z", -1);
	metrics_on_move(m, "default", "web-1", &mv);
	text = render(m);
	assert_lacks(text, "vm=\"web-1\"");
	assert_has(text, "drover_migrations_running 0\n");
	assert_has(text, "drover_migrations_total{phase=\"Failed\"} 1\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_too_long_label_is_dropped(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	char big[METRICS_LABEL_MAX + 2];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	metrics_set_host(m, big, true);
	big[METRICS_LABEL_MAX] = '\0';       /* exactly the limit: kept */
	metrics_set_host(m, big, true);
	char *text = render(m);
	assert_has(text, "drover_metrics_series_dropped_total 1\n");
	assert_has(text, "drover_host_reachable{host=\"xxx");
	free(text);
	metrics_free(m);
}

static void test_metrics_free_accepts_null(void **state)
{
	(void)state;
	metrics_free(NULL);
	metrics_on_reconcile(NULL, 1, true);
	assert_null(metrics_render(NULL, NULL));
}

/* Runs promtool check metrics on @text. Returns its exit status, with its output
 * (NUL-terminated, cut to fit) in @out. */
static int promtool_check(const char *text, char *out, size_t out_size)
{
	int in_pipe[2], out_pipe[2], status = -1;
	posix_spawn_file_actions_t fa;
	char *argv[] = {PROMTOOL, "check", "metrics", NULL};
	pid_t pid;
	size_t got = 0;

	assert_int_equal(pipe(in_pipe), 0);
	assert_int_equal(pipe(out_pipe), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 2);
	posix_spawn_file_actions_addclose(&fa, in_pipe[1]);
	posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
	assert_int_equal(posix_spawn(&pid, PROMTOOL, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in_pipe[0]);
	close(out_pipe[1]);
	/* promtool reads all of stdin before it says anything, so write, then read. */
	size_t len = strlen(text);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(in_pipe[1], text + done, len - done);
		assert_true(n > 0);
		done += (size_t)n;
	}
	close(in_pipe[1]);
	for (ssize_t n; got + 1 < out_size && (n = read(out_pipe[0], out + got, out_size - got - 1)) > 0;)
		got += (size_t)n;
	out[got] = '\0';
	close(out_pipe[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_metrics_text_passes_promtool(void **state)
{
	(void)state;
	if (access(PROMTOOL, X_OK) != 0) {
		print_message("promtool not found at " PROMTOOL " (Debian package prometheus): "
			      "skipped\n");
		skip();
	}
	struct metrics *m = metrics_new();
	struct crd_vm vms[1] = {0};
	struct exec_move mv = running_move(42);
	char out[4096];

	vms[0].status.phase = CRD_VM_RUNNING;
	metrics_on_move(m, "default", "web-1", &mv);
	mv = running_move(3);
	metrics_on_move(m, "shop", "db \"primary\"", &mv);
	mv = ended_move(CRD_MIG_SUCCEEDED, "2026-11-23T18:15:01Z", 35);
	metrics_on_move(m, "shop", "db \"primary\"", &mv);
	metrics_on_reconcile(m, 0.2, false);
	metrics_set_host(m, "lab-a", true);
	metrics_set_host(m, "lab\\b", false);
	metrics_set_vm_phases(m, vms, 1);
	char *text = render(m);
	int rc = promtool_check(text, out, sizeof(out));
	if (rc != 0)
		fail_msg("promtool check metrics exited %d:\n%s\non:\n%s", rc, out, text);
	free(text);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_start_with_zero_counters),
		cmocka_unit_test(test_metrics_running_move_sets_per_vm_gauges),
		cmocka_unit_test(test_metrics_finished_move_is_counted_and_its_series_vanish),
		cmocka_unit_test(test_metrics_host_pair_counts_each_pair_and_phase),
		cmocka_unit_test(test_metrics_cold_move_has_no_downtime_sample),
		cmocka_unit_test(test_metrics_histograms_accumulate),
		cmocka_unit_test(test_metrics_failover_seconds_is_a_histogram),
		cmocka_unit_test(test_metrics_hosts_and_vm_phases),
		cmocka_unit_test(test_metrics_label_values_are_escaped),
		cmocka_unit_test(test_metrics_count_host_failures_and_fences_once),
		cmocka_unit_test(test_metrics_series_cap_holds_and_counts_drops),
		cmocka_unit_test(test_metrics_too_long_label_is_dropped),
		cmocka_unit_test(test_metrics_free_accepts_null),
		cmocka_unit_test(test_metrics_text_passes_promtool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
