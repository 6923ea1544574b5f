/* test_prometheus: Debian's Prometheus (hack/prometheus, as make demo starts it) scrapes a
 * real `drover run --dir` on the lab, and its HTTP API answers PromQL about drover's
 * migrations after a live move of a running guest: a real scrape, a real query. */
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
#include <jansson.h>

#include "tests/lab/drover_fixture.h"

#define N_HOSTS 2
#define REACT_S 60                     /* every wait below is bounded by this */
#define METRICS_ADDR "127.0.0.1:19482" /* drover's /metrics in this test */
#define PROM_ADDR "127.0.0.1:19492"    /* Prometheus in this test (not the demo's 9090) */

static struct fx fx;
static int drover_pid = -1;
static char disk[512], prom_dir[400];

/* The value of the one sample PromQL @query returns now, or -1 when it returns none (or
 * Prometheus does not answer). */
static double promql(const char *query)
{
	char out[65536], arg[1024];
	json_t *doc = NULL;
	double v = -1;

	snprintf(arg, sizeof(arg), "query=%s", query);
	const char *argv[] = {"curl", "-sf", "--get", "--data-urlencode", arg,
			      "http://" PROM_ADDR "/api/v1/query", NULL};
	if (lab_run(argv, out, sizeof(out), 10) != 0)
		return -1;
	doc = json_loads(out, 0, NULL);
	json_t *result = json_object_get(json_object_get(doc, "data"), "result");
	if (json_is_array(result) && json_array_size(result) == 1) {
		json_t *value = json_object_get(json_array_get(result, 0), "value");
		const char *text = json_string_value(json_array_get(value, 1));
		if (text)
			v = strtod(text, NULL);
	}
	json_decref(doc);
	return v;
}

/* Waits until PromQL @query returns @want; returns it, or the last value seen. */
static double wait_promql(const char *query, double want)
{
	double v = -1;
	for (int tenth = 0; tenth < REACT_S * 10 && v != want; tenth += 5) {
		v = promql(query);
		if (v != want)
			usleep(500000);
	}
	printf("  %s = %g\n", query, v);
	return v;
}

static void write_vm(const char *host)
{
	struct fx_vm vm = {.name = "pm-1", .host = host, .memory = "32Mi", .disk = disk,
			   .storage = "shared"};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static void test_prometheus_scrapes_drover(void **state)
{
	(void)state;
	assert_true(wait_promql("up{job=\"drover\"}", 1) == 1);
	assert_true(wait_promql("drover_migrations_total{phase=\"Succeeded\"}", 0) == 0);
	assert_true(wait_promql("sum(drover_host_reachable)", N_HOSTS) == N_HOSTS);
}

static void test_prometheus_counts_a_live_move_of_a_running_guest(void **state)
{
	char rec[128] = "", phase[32] = "";
	(void)state;

	for (int tenth = 0; tenth < REACT_S * 10 && lab_count_running("pm-1", N_HOSTS) != 1; tenth++)
		usleep(100000);
	assert_true(lab_runs_only_on("pm-1", 0, N_HOSTS));
	write_vm("lab-b");  /* the pin changes: drover moves it live */
	for (int tenth = 0; tenth < REACT_S * 10 && strcmp(phase, "Succeeded"); tenth++) {
		fx_latest_migration(&fx, "pm-1", rec, sizeof(rec));
		fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
		usleep(100000);
	}
	assert_string_equal(phase, "Succeeded");
	assert_true(lab_runs_only_on("pm-1", 1, N_HOSTS));
	assert_true(wait_promql("drover_migrations_total{phase=\"Succeeded\"}", 1) == 1);
	assert_true(wait_promql("drover_host_pair_migrations_total{source=\"lab-a\","
				"target=\"lab-b\",phase=\"Succeeded\"}", 1) == 1);
	assert_true(wait_promql("drover_migration_duration_seconds_count", 1) == 1);
	assert_true(wait_promql("drover_migrations_total{phase=\"Failed\"}", 0) == 0);
	/* The dashboard's success ratio, over what Prometheus has stored. */
	assert_true(wait_promql("sum(max_over_time(drover_migrations_total{phase=\"Succeeded\"}[10m]))"
				" / sum(max_over_time(drover_migrations_total[10m]))", 1) == 1);
}

static int group_setup(void **state)
{
	char log[400];
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	lab_cleanup_guest("pm-1", "pm-1.qcow2");
	if (lab_create_volume(0, "shared", "pm-1.qcow2", 32, disk, sizeof(disk)) < 0)
		return -1;
	write_vm("lab-a");
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", METRICS_ADDR, NULL};
	drover_pid = lab_spawn(argv, log);
	if (drover_pid <= 0)
		return -1;
	snprintf(prom_dir, sizeof(prom_dir), "%s/prometheus", fx.dir);
	const char *prom[] = {"bash", "hack/prometheus", "start", prom_dir, METRICS_ADDR, PROM_ADDR,
			      NULL};
	return lab_run(prom, NULL, 0, 90) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char log[400], out[16384];
	(void)state;
	const char *stop[] = {"bash", "hack/prometheus", "stop", prom_dir, NULL};
	if (prom_dir[0] && lab_run(stop, NULL, 0, 30) != 0)
		printf("hack/prometheus stop failed\n");
	lab_stop(drover_pid, 10);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *cat[] = {"tail", "-n", "40", log, NULL};
	if (lab_run(cat, out, sizeof(out), 10) == 0)
		printf("---- drover run log (tail) ----\n%s", out);
	lab_cleanup_guest("pm-1", "pm-1.qcow2");
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_scrapes_drover),
		cmocka_unit_test(test_prometheus_counts_a_live_move_of_a_running_guest),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
