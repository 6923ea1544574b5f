/* test_scale: 200 VMs and 1,000 Migrations applied at once in directory mode. `drover run
 * --dir` works through them within its limit (no pass does more than --max-migrations),
 * loses none (every VM defined on exactly one host, the one its last Migration named) and
 * runs none twice (every Migration Succeeded, having been Running once). The VMs' five
 * Migrations each are worked through one after the other. The VMs are
 * stopped, so each move is a cold move of a definition: the test is about the controller,
 * not about copying memory. */
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
#include <libvirt/libvirt.h>

#include "tests/lab/drover_fixture.h"

#define N_HOSTS 2
#define N_VMS 200
#define PER_VM 5                 /* Migrations per VM: there and back, five times */
#define LIMIT "20"               /* --max-migrations */
#define REACT_S 900              /* the whole run is bounded by this */

static struct fx fx;
static int drover_pid = -1;
static char log_path[400];
static int start_host[N_VMS];    /* where each VM was first defined */

/* Appends to the growing text *@buf (size *@cap, length *@len). */
static void __attribute__((format(printf, 4, 5)))
append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		*cap = *cap * 2 + (size_t)n;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
}

static void write_vms(void)
{
	size_t len = 0, cap = 1 << 16;
	char *text = malloc(cap);

	assert_non_null(text);
	for (int i = 0; i < N_VMS; i++) {
		char name[16], doc[1024];
		struct fx_vm vm = {.name = name, .running = "false", .memory = "16Mi"};

		snprintf(name, sizeof(name), "sc-%03d", i);
		assert_true(fx_vm_yaml(&vm, doc, sizeof(doc)) >= 0);
		append(&text, &len, &cap, "---\n%s", doc);
	}
	assert_int_equal(fx_write(&fx, "vms.yaml", text), 0);
	free(text);
}

/* The Migrations name no target: with two hosts drover picks the other one each time, so
 * every Migration is a real move (one naming the host the VM is on would succeed at once,
 * as in KubeVirt) and five of them leave the VM on the other host. */

static void write_migrations(void)
{
	size_t len = 0, cap = 1 << 18;
	char *text = malloc(cap);

	assert_non_null(text);
	for (int i = 0; i < N_VMS; i++)
		for (int j = 0; j < PER_VM; j++)
			append(&text, &len, &cap,
			       "---\napiVersion: drover.io/v1alpha1\nkind: Migration\n"
			       "metadata: {name: sc-%03d-m%d}\nspec: {vmName: sc-%03d}\n", i, j, i);
	assert_int_equal(fx_write(&fx, "migrations.yaml", text), 0);
	free(text);
}

/* How many Migration records say Succeeded (and how many anything else that ended). */
static int count_succeeded(int *failed)
{
	char name[64], phase[64];
	int ok = 0;

	*failed = 0;
	for (int i = 0; i < N_VMS; i++)
		for (int j = 0; j < PER_VM; j++) {
			snprintf(name, sizeof(name), "sc-%03d-m%d", i, j);
			if (fx_status(&fx, "migrations", name, "status.phase", phase, sizeof(phase)) < 0)
				continue;
			ok += !strcmp(phase, "Succeeded");
			*failed += !strcmp(phase, "Failed") || !strcmp(phase, "Cancelled");
		}
	return ok;
}

/* Host index of every sc- domain, by libvirt; a VM on both hosts or on none fails. */
static void assert_each_on(const int *want)
{
	int seen[N_VMS];

	for (int i = 0; i < N_VMS; i++)
		seen[i] = -1;
	for (int h = 0; h < N_HOSTS; h++) {
		virConnectPtr conn = lab_connect(h);
		virDomainPtr *doms = NULL;
		assert_non_null(conn);
		int n = virConnectListAllDomains(conn, &doms, 0);
		assert_true(n >= 0);
		for (int k = 0; k < n; k++) {
			int i;
			if (sscanf(virDomainGetName(doms[k]), "sc-%d", &i) == 1 && i >= 0 && i < N_VMS) {
				assert_int_equal(seen[i], -1);   /* defined on one host only */
				seen[i] = h;
			}
			virDomainFree(doms[k]);
		}
		free(doms);
		virConnectClose(conn);
	}
	for (int i = 0; i < N_VMS; i++)
		assert_int_equal(seen[i], want[i]);
}

/* No pass of drover's log moved more than LIMIT VMs (its passes end with a "reconciled"
 * line; the defines that placed the VMs at first are not moves). Returns the passes. */
static int assert_passes_within_limit(void)
{
	FILE *f = fopen(log_path, "r");
	char line[1024];
	int passes = 0, most = 0, moves = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "msg=\"action done\"") && strstr(line, "-migrate"))
			moves++;
		if (!strstr(line, "msg=\"reconciled\""))
			continue;
		most = moves > most ? moves : most;
		moves = 0;
		passes++;
	}
	fclose(f);
	printf("  %d passes, at most %d moves in one\n", passes, most);
	assert_true(most > 0 && most <= atoi(LIMIT));
	return passes;
}

/* Each Migration ran once: Running appears once in its phase history. */
static void assert_ran_once(void)
{
	char path[600];

	for (int i = 0; i < N_VMS; i++)
		for (int j = 0; j < PER_VM; j++) {
			snprintf(path, sizeof(path), "%s/migrations/default/sc-%03d-m%d.json", fx.state,
				 i, j);
			json_t *rec = json_load_file(path, 0, NULL), *e;
			size_t k;
			int running = 0;
			assert_non_null(rec);
			json_array_foreach(json_object_get(json_object_get(rec, "status"),
							   "phaseTransitionTimestamps"), k, e) {
				const char *phase = json_string_value(json_object_get(e, "phase"));
				running += phase && !strcmp(phase, "Running");
			}
			json_decref(rec);
			assert_int_equal(running, 1);
		}
}

static void test_scale_1000_migrations_of_200_vms_at_once(void **state)
{
	char host[64];
	int final[N_VMS], failed = 0, ok = 0;
	(void)state;

	/* The VMs first, placed by drover; then every Migration at once. */
	write_vms();
	for (int s = 0; s < 120; s++, sleep(1)) {
		int placed = 0;
		for (int i = 0; i < N_VMS; i++) {
			char name[32];
			snprintf(name, sizeof(name), "sc-%03d", i);
			placed += fx_status(&fx, "virtualmachines", name, "status.host", host,
					    sizeof(host)) == 0 && host[0];
		}
		if (placed == N_VMS)
			break;
	}
	for (int i = 0; i < N_VMS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "sc-%03d", i);
		assert_int_equal(fx_status(&fx, "virtualmachines", name, "status.host", host,
					   sizeof(host)), 0);
		start_host[i] = !strcmp(host, lab_host_name(1));
		final[i] = PER_VM % 2 ? 1 - start_host[i] : start_host[i];
	}
	write_migrations();
	for (int s = 0; s < REACT_S && ok + failed < N_VMS * PER_VM; s += 2, sleep(2))
		ok = count_succeeded(&failed);
	printf("  %d Succeeded, %d failed or cancelled\n", ok, failed);
	assert_int_equal(ok, N_VMS * PER_VM);
	assert_each_on(final);
	assert_ran_once();
	assert_passes_within_limit();
}

/* Removes every sc- domain of the lab hosts (one connection per host, not per VM). */
static void cleanup_all(void)
{
	for (int h = 0; h < lab_host_count(); h++) {
		virConnectPtr conn = lab_connect(h);
		virDomainPtr *doms = NULL;
		int n = conn ? virConnectListAllDomains(conn, &doms, 0) : 0;
		for (int k = 0; k < n; k++) {
			if (!strncmp(virDomainGetName(doms[k]), "sc-", 3)) {
				virDomainDestroy(doms[k]);
				virDomainUndefine(doms[k]);
			}
			virDomainFree(doms[k]);
		}
		free(doms);
		if (conn)
			virConnectClose(conn);
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(3) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	cleanup_all();
	snprintf(log_path, sizeof(log_path), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--max-migrations", LIMIT, "--max-outbound", LIMIT,
			      "--metrics-addr", "off", NULL};
	drover_pid = lab_spawn(argv, log_path);
	return drover_pid > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	lab_stop(drover_pid, 60);
	cleanup_all();
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_1000_migrations_of_200_vms_at_once),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
