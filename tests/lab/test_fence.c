/* test_fence: a host fails and nobody is there. drover run (detectAfterSeconds 10) sees its
 * libvirt and its migration address fail, powers it off through its BMC with the real
 * fence_ipmilan, and only then restarts its two shared-storage guests elsewhere; a monitor
 * sampling every host every 0.5 s never sees two copies. A host whose BMC cannot be reached
 * keeps its guests unrestarted, with the reason in its Fenced condition; drover cut off from
 * every host at once fences nothing; a fenced host powered on again loses its stale copies.
 * A typo in the manifests before the power cut does not stop any of it. drover_failover_seconds
 * counts the failover once it ended. An operator's `drover fence HOST` powers a healthy host
 * off through the same BMC and its guests restart elsewhere, as after an automatic fence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "reconcile/clk.h"
#include "tests/lab/drover_fixture.h"

#define N_HOSTS 3
#define N_VMS 2
#define DETECT_S "10"
#define METRICS_PORT "19486"   /* drover's /metrics in this test */

static struct fx fx;
static char disks[N_VMS][512];
static const char *const vms[N_VMS] = {"fe-1", "fe-2"};
static int drover_pid = -1;

/* ---- the monitor: every host, every 0.5 s, how many copies of each guest run ---- */

static struct {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	bool stop;
	int max_copies[N_VMS];
	unsigned long samples;
} mon = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *monitor(void *arg)
{
	virConnectPtr conns[N_HOSTS] = {NULL};
	(void)arg;
	for (;;) {
		int copies[N_VMS] = {0};
		for (int i = 0; i < N_HOSTS; i++) {
			if (!conns[i])
				conns[i] = lab_connect(i);
			for (int v = 0; conns[i] && v < N_VMS; v++) {
				virDomainPtr d = virDomainLookupByName(conns[i], vms[v]);
				copies[v] += d && virDomainIsActive(d) == 1;
				if (d)
					virDomainFree(d);
				else if (virConnectIsAlive(conns[i]) != 1) {
					virConnectClose(conns[i]);
					conns[i] = NULL;
				}
			}
		}
		pthread_mutex_lock(&mon.lock);
		for (int v = 0; v < N_VMS; v++)
			if (copies[v] > mon.max_copies[v])
				mon.max_copies[v] = copies[v];
		mon.samples++;
		bool stop = mon.stop;
		pthread_mutex_unlock(&mon.lock);
		if (stop)
			break;
		clk_sleep(0.5);
	}
	for (int i = 0; i < N_HOSTS; i++)
		if (conns[i])
			virConnectClose(conns[i]);
	return NULL;
}

static void assert_never_two_copies(void)
{
	int most[N_VMS];
	/* Copied out: a failed assertion must not leave the lock held (the monitor and the
	 * later cases would wait on it for ever). */
	pthread_mutex_lock(&mon.lock);
	memcpy(most, mon.max_copies, sizeof(most));
	unsigned long samples = mon.samples;
	pthread_mutex_unlock(&mon.lock);
	printf("  monitor: %lu samples, most copies seen %d and %d\n", samples, most[0], most[1]);
	for (int v = 0; v < N_VMS; v++)
		assert_true(most[v] <= 1);
}

/* ---- helpers ---- */

static void lab_verb(const char *verb, int host)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(host), NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 120), 0);
}

/* Where guest @v runs (a host index), or -1. */
static int runs_on(int v)
{
	char st[64];
	for (int i = 0; i < N_HOSTS; i++) {
		lab_dom_state(i, vms[v], st, sizeof(st));
		if (!strcmp(st, "running"))
			return i;
	}
	return -1;
}

/* Waits up to @max_s for condition @type of host @i to have @reason; returns its text. */
static bool wait_host_condition(int i, const char *type, const char *reason, double max_s,
				char *buf, size_t size)
{
	double end = clk_mono() + max_s;
	do {
		fx_condition(&fx, "hosts", lab_host_name(i), type, buf, size);
		if (!strncmp(buf, reason, strlen(reason)))
			return true;
		clk_sleep(0.5);
	} while (clk_mono() < end);
	printf("  %s %s: %s (waited for %s)\n", lab_host_name(i), type, buf, reason);
	return false;
}

static void write_hosts(void)
{
	assert_int_equal(fx_write_hosts_fenced(&fx, N_HOSTS, "0"), 0);
}

static void write_vm(int v, const char *host)
{
	struct fx_vm vm = {.name = vms[v], .host = host, .storage = "shared", .memory = "32Mi",
			   .cmdline = "dirty_mib=1 rate_mibps=1", .disk = disks[v]};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

/* Waits up to @max_s for every guest to run on a host other than @not. */
static bool wait_all_run_elsewhere(int not, double max_s)
{
	double end = clk_mono() + max_s;
	do {
		int ok = 0;
		for (int v = 0; v < N_VMS; v++) {
			int at = runs_on(v);
			ok += at >= 0 && at != not;
		}
		if (ok == N_VMS)
			return true;
		clk_sleep(1);
	} while (clk_mono() < end);
	return false;
}

/* True when drover's log so far holds @text. */
static bool drover_log_has(const char *text)
{
	char path[400], line[2048];
	bool found = false;
	snprintf(path, sizeof(path), "%s/drover-run.log", fx.dir);
	FILE *f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* The agent's own words in a FenceFailed condition's "REASON: MESSAGE" @cond, where the
 * message is fence_run's "fence_ipmilan action=off exited N: OUTPUT" (or "... did not
 * finish within T s: OUTPUT"): OUTPUT, or NULL when the message is not the agent's or its
 * output is empty. This function can't fail. */
static const char *agent_message(const char *cond)
{
	const char *m = strstr(cond, "fence_ipmilan action=off ");
	const char *out = m ? strstr(m, ": ") : NULL;
	if (!out)
		return NULL;
	out += 2;
	return strspn(out, " \t\n") < strlen(out) ? out : NULL;
}

/* Waits up to @max_s for drover's log to hold a "fence failed" Warning for host @i whose
 * result carries @words (its first 60 bytes: logfmt quotes the whole value). */
static bool wait_fence_failed_line(int i, const char *words, double max_s)
{
	char path[400], line[4096], host[80], want[64];
	double end = clk_mono() + max_s;
	bool found = false;

	snprintf(path, sizeof(path), "%s/drover-run.log", fx.dir);
	snprintf(host, sizeof(host), "host=%s ", lab_host_name(i));
	snprintf(want, sizeof(want), "%.60s", words);
	do {
		FILE *f = fopen(path, "r");
		while (f && !found && fgets(line, sizeof(line), f))
			found = strstr(line, "level=warn msg=\"fence failed\"") && strstr(line, host) &&
				strstr(line, want);
		if (f)
			fclose(f);
		if (!found)
			clk_sleep(0.5);
	} while (!found && clk_mono() < end);
	if (!found)
		printf("  no \"fence failed\" line for %s with \"%s\"\n", lab_host_name(i), want);
	return found;
}

/* The value of the sample @series in drover's /metrics, or -1 when absent. */
static double metric(const char *series)
{
	return lab_metric(METRICS_PORT, series);
}

/* Waits up to @max_s for drover_failover_seconds to have counted @n failovers. */
static bool wait_failovers_counted(double n, double max_s)
{
	double end = clk_mono() + max_s;
	do {
		if (metric("drover_failover_seconds_count") >= n)
			return true;
		clk_sleep(0.5);
	} while (clk_mono() < end);
	return false;
}

/* Waits up to @max_s for host @i to hold no copy of any guest (its stale ones removed). */
static bool wait_no_copies_on(int i, double max_s)
{
	char st[64];
	double end = clk_mono() + max_s;
	int left;
	do {
		left = 0;
		for (int v = 0; v < N_VMS; v++) {
			lab_dom_state(i, vms[v], st, sizeof(st));
			left += *st != '\0';
		}
		if (left)
			clk_sleep(1);
	} while (left && clk_mono() < end);
	return left == 0;
}

/* ---- the cases ---- */

static void test_guests_land_on_the_host_that_will_fail(void **state)
{
	(void)state;
	write_hosts();
	for (int v = 0; v < N_VMS; v++)
		write_vm(v, "lab-c");
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	for (int v = 0; v < N_VMS; v++)
		write_vm(v, NULL);   /* unpinned: may be restarted elsewhere */
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	for (int v = 0; v < N_VMS; v++)
		assert_int_equal(runs_on(v), 2);
	char log[400];
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", "127.0.0.1:" METRICS_PORT,
			      "--detect-after", DETECT_S, NULL};
	drover_pid = lab_spawn(argv, log);
	assert_true(drover_pid > 0);
	/* Its first pass saved the manifests as the last valid set (the typo comes later). */
	char saved[400];
	struct stat st;
	snprintf(saved, sizeof(saved), "%s/last-valid", fx.state);
	for (int t = 0; t < 60 && stat(saved, &st) != 0; t++)
		clk_sleep(0.5);
	assert_int_equal(stat(saved, &st), 0);
	assert_int_equal(pthread_create(&mon.thread, NULL, monitor, NULL), 0);
	mon.started = true;
}

static void test_power_cut_fences_through_the_bmc_then_restarts_elsewhere(void **state)
{
	char buf[1024], result[64];
	(void)state;
	int offs = lab_bmc_power_offs(2);
	/* An unrelated typo first: directory mode goes on with the last valid set. */
	assert_int_equal(fx_write(&fx, "typo.yaml", "apiVersion: drover.io/v1alpha1\nkind: Hots\n"),
			 0);
	double cut = clk_mono(), cut_wall = clk_wall();
	lab_verb("stop-host", 2);
	/* The proof's bound: both run elsewhere within 60 s of the cut, or the test fails. */
	bool moved = wait_all_run_elsewhere(2, 60);
	printf("  power cut to both guests running elsewhere: %.1f s (detectAfterSeconds %s)\n",
	       clk_mono() - cut, DETECT_S);
	assert_true(moved);
	/* The BMC was asked to power the host off (fence_ipmilan off → chassis control), after
	 * the cut and before libvirt started either guest on its new host: ordering of
	 * wall-clock instants on this one machine, not durations. */
	assert_true(lab_bmc_power_offs(2) > offs);
	double off = lab_bmc_power_off_time(2, offs + 1);
	printf("  BMC power-off %.3f s after the cut\n", off - cut_wall);
	assert_true(off > cut_wall);
	for (int v = 0; v < N_VMS; v++) {
		int at = runs_on(v);
		double started = at >= 0 ? lab_domain_last_start(at, vms[v]) : -1;
		printf("  %s started on %s %.3f s after the BMC's power-off\n", vms[v],
		       at >= 0 ? lab_host_name(at) : "?", started - off);
		assert_true(started > off);
	}
	assert_int_equal(fx_status(&fx, "hosts", "lab-c", "status.fencing.result", result,
				   sizeof(result)), 0);
	assert_string_equal(result, "Succeeded");
	fx_condition(&fx, "hosts", "lab-c", "Fenced", buf, sizeof(buf));
	printf("  lab-c Fenced: %s\n", buf);
	assert_non_null(strstr(buf, "FenceAgent"));
	for (int v = 0; v < N_VMS; v++) {
		char mig[128], reason[64] = "", src[64];
		/* The record is written once the restart's job has ended: wait for it. */
		for (int t = 0; t < 40 && strcmp(reason, "Failover"); t++) {
			fx_latest_migration(&fx, vms[v], mig, sizeof(mig));
			if (fx_status(&fx, "migrations", mig, "status.reason", reason,
				      sizeof(reason)) < 0 || strcmp(reason, "Failover"))
				clk_sleep(0.5);
		}
		assert_int_equal(fx_status(&fx, "migrations", mig, "status.sourceHost", src,
					   sizeof(src)), 0);
		printf("  %s: Migration %s, reason %s, from %s\n", vms[v], mig, reason, src);
		assert_string_equal(reason, "Failover");
		assert_string_equal(src, "lab-c");
	}
	/* Counted once both run elsewhere: from the first failed probe, so at least the
	 * detection time (a bound, not a timing). */
	assert_true(wait_failovers_counted(1, 30));
	double took = metric("drover_failover_seconds_sum");
	printf("  drover_failover_seconds: %.1f s\n", took);
	assert_true(took >= atof(DETECT_S));
	assert_true(drover_log_has("failover ended"));
	clk_sleep(1.5);   /* a pass or two reads the records back */
	assert_false(drover_log_has("does not decode"));
	assert_true(drover_log_has("manifests invalid: acting on the last valid set"));
	char typo[512];
	snprintf(typo, sizeof(typo), "%s/typo.yaml", fx.manifests);
	assert_int_equal(unlink(typo), 0);
	assert_never_two_copies();
}

static void test_fenced_host_powered_on_loses_its_stale_copies(void **state)
{
	(void)state;
	lab_verb("start-host", 2);
	assert_true(wait_no_copies_on(2, 90));
	for (int v = 0; v < N_VMS; v++)
		assert_int_equal(lab_count_running(vms[v], N_HOSTS), 1);
	assert_never_two_copies();
}

/* `drover fence HOST` by hand, on a healthy host running a guest: the BMC powers it off,
 * the Host is recorded fenced, and its guests restart elsewhere through the running
 * controller; powered on again, it loses its stale copies. */
static void test_operator_fence_powers_off_and_guests_restart_elsewhere(void **state)
{
	char out[4096], result[64], buf[1024];
	(void)state;
	int at = runs_on(0);
	assert_true(at >= 0);
	int offs = lab_bmc_power_offs(at);
	double counted = metric("drover_failover_seconds_count");
	const char *argv[] = {lab_drover(), "fence", lab_host_name(at), "--state-dir", fx.state,
			      NULL};
	int rc = lab_run(argv, out, sizeof(out), 120);
	printf("  $ drover fence %s (exit %d)\n%s", lab_host_name(at), rc, out);
	assert_int_equal(rc, 0);
	assert_true(lab_bmc_power_offs(at) > offs);
	assert_int_equal(fx_status(&fx, "hosts", lab_host_name(at), "status.fencing.result", result,
				   sizeof(result)), 0);
	assert_string_equal(result, "Succeeded");
	fx_condition(&fx, "hosts", lab_host_name(at), "Fenced", buf, sizeof(buf));
	printf("  %s Fenced: %s\n", lab_host_name(at), buf);
	assert_non_null(strstr(buf, "FenceAgent"));
	bool moved = wait_all_run_elsewhere(at, 120);
	assert_true(moved);
	assert_true(wait_failovers_counted(counted + 1, 30));
	lab_verb("start-host", at);
	assert_true(wait_no_copies_on(at, 90));
	for (int v = 0; v < N_VMS; v++)
		assert_int_equal(lab_count_running(vms[v], N_HOSTS), 1);
	assert_never_two_copies();
}

static void test_unreachable_bmc_restarts_nothing(void **state)
{
	char buf[1024];
	(void)state;
	int at = runs_on(0);
	assert_true(at >= 0);
	lab_verb("bmc-stop", at);
	lab_verb("stop-host", at);
	bool said = wait_host_condition(at, "Fenced", "FenceFailed", 90, buf, sizeof(buf));
	printf("  %s Fenced: %s\n", lab_host_name(at), buf);
	/* Not restarted: its host was never confirmed off. */
	assert_int_equal(lab_count_running(vms[0], N_HOSTS), 0);
	/* The condition and the event (directory mode: drover's Warning line) carry the
	 * agent's own message. Read before the host answers again and clears both. */
	bool agent_said = said && agent_message(buf) != NULL;
	bool event_said = agent_said && wait_fence_failed_line(at, agent_message(buf), 15);
	lab_verb("start-host", at);
	lab_verb("bmc-start", at);
	assert_true(said);
	assert_true(agent_said);
	assert_true(event_said);
	assert_never_two_copies();
}

static void test_drover_cut_off_from_every_host_fences_nothing(void **state)
{
	char buf[1024];
	(void)state;
	int offs[N_HOSTS];
	for (int i = 0; i < N_HOSTS; i++) {
		offs[i] = lab_bmc_power_offs(i);
		lab_verb("link-down", i);
	}
	bool held = wait_host_condition(0, "Failed", "QuorumLost", 90, buf, sizeof(buf));
	printf("  lab-a Failed: %s\n", buf);
	for (int i = 0; i < N_HOSTS; i++)
		lab_verb("link-up", i);
	assert_true(held);
	for (int i = 0; i < N_HOSTS; i++)
		assert_int_equal(lab_bmc_power_offs(i), offs[i]);
	assert_never_two_copies();
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0)
		return -1;
	for (int v = 0; v < N_VMS; v++) {
		char vol[64];
		snprintf(vol, sizeof(vol), "%s.qcow2", vms[v]);
		lab_cleanup_guest(vms[v], vol);
		if (lab_create_volume(2, "shared", vol, 32, disks[v], sizeof(disks[v])) < 0)
			return -1;
	}
	return 0;
}

/* The end of drover's log, for the test's own log (the working directory goes away). */
static void print_drover_log(void)
{
	char path[400], line[1024];
	static char tail[40][1024];
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/drover-run.log", fx.dir);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		snprintf(tail[n++ % 40], sizeof(tail[0]), "%s", line);
	if (f)
		fclose(f);
	printf("  --- drover run, last lines ---\n");
	for (size_t i = n > 40 ? n - 40 : 0; i < n; i++)
		printf("  %s", tail[i % 40]);
}

static int group_teardown(void **state)
{
	(void)state;
	print_drover_log();
	pthread_mutex_lock(&mon.lock);
	mon.stop = true;
	pthread_mutex_unlock(&mon.lock);
	if (mon.started)
		pthread_join(mon.thread, NULL);
	if (drover_pid > 0)
		lab_stop(drover_pid, 10);
	lab_restore_hosts(N_HOSTS);
	for (int v = 0; v < N_VMS; v++) {
		char vol[64];
		snprintf(vol, sizeof(vol), "%s.qcow2", vms[v]);
		lab_cleanup_guest(vms[v], vol);
	}
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guests_land_on_the_host_that_will_fail),
		cmocka_unit_test(test_power_cut_fences_through_the_bmc_then_restarts_elsewhere),
		cmocka_unit_test(test_fenced_host_powered_on_loses_its_stale_copies),
		cmocka_unit_test(test_operator_fence_powers_off_and_guests_restart_elsewhere),
		cmocka_unit_test(test_unreachable_bmc_restarts_nothing),
		cmocka_unit_test(test_drover_cut_off_from_every_host_fences_nothing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
