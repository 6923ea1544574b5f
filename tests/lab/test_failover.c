/* test_failover: a host loses power. Its VMs are Unknown and nothing is restarted
 * until the operator fences it; then the shared-storage VM restarts elsewhere and the
 * local-storage one is reported lost; when the host comes back, the stale definition
 * is removed. At no moment do two copies of a VM run. */
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

#define N_HOSTS 3
#define FAILED_HOST 2   /* lab-c */

static struct fx fx;
static char shared_disk[512], local_disk[512];

static void write_hosts(bool fenced)
{
	char text[2048];
	size_t len = 0;

	for (int i = 0; i < N_HOSTS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"---\napiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: %s}\n"
					"spec: {uri: \"%s\", migrationAddress: %s, fenced: %s}\n",
					lab_host_name(i), lab_host_uri(i), lab_host_addr(i),
					i == FAILED_HOST && fenced ? "true" : "false");
	assert_int_equal(fx_write(&fx, "hosts.yaml", text), 0);
}

/* VM @name, pinned to @host or (NULL) unpinned: it then stays where it landed. */
static void write_vm(const char *name, const char *host, const char *storage, const char *disk)
{
	struct fx_vm vm = {.name = name, .host = host, .storage = storage, .memory = "32Mi",
			   .cmdline = "dirty_mib=2 rate_mibps=1", .disk = disk};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static void lab_host(const char *verb)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(FAILED_HOST), NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 120), 0);
}

static void assert_status(const char *vm, const char *phase)
{
	char buf[64];
	fx_status(&fx, "virtualmachines", vm, "status.phase", buf, sizeof(buf));
	assert_string_equal(buf, phase);
}

static void test_vms_land_on_the_host_that_will_fail(void **state)
{
	(void)state;
	write_hosts(false);
	write_vm("fo-shared", "lab-c", "shared", shared_disk);
	write_vm("fo-local", "lab-c", "local", local_disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	/* Unpinned from here on: they stay where they landed, and may be placed anew. */
	write_vm("fo-shared", NULL, "shared", shared_disk);
	write_vm("fo-local", NULL, "local", local_disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	char st[64];
	lab_dom_state(FAILED_HOST, "fo-shared", st, sizeof(st));
	assert_string_equal(st, "running");
	lab_dom_state(FAILED_HOST, "fo-local", st, sizeof(st));
	assert_string_equal(st, "running");
}

static void test_power_loss_makes_vms_unknown_and_restarts_nothing(void **state)
{
	(void)state;
	lab_host("stop-host");
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);  /* blocked: not converged */
	assert_status("fo-shared", "Unknown");
	assert_status("fo-local", "Unknown");
	assert_int_equal(lab_count_defined("fo-shared", N_HOSTS), 0); /* lab-c answers nothing */
	assert_int_equal(lab_count_defined("fo-local", N_HOSTS), 0);
}

static void test_fencing_restarts_the_shared_vm_elsewhere_and_reports_the_local_one(void **state)
{
	char msg[1024];
	(void)state;
	write_hosts(true);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);  /* fo-local stays blocked */
	assert_int_equal(lab_count_running("fo-shared", N_HOSTS), 1);
	assert_status("fo-shared", "Running");
	fx_condition(&fx, "virtualmachines", "fo-local", "Placed", msg, sizeof(msg));
	printf("  fo-local: Placed: %s\n", msg);
	assert_non_null(strstr(msg, "Lost"));
	assert_int_equal(lab_count_defined("fo-local", N_HOSTS), 0);
}

static void test_returning_host_loses_its_stale_copy_never_two_running(void **state)
{
	char st[64];
	(void)state;
	lab_host("start-host");
	/* Back, with the definitions it had: fo-shared is now defined twice, shut off on
	 * lab-c; it must not be started there. */
	lab_dom_state(FAILED_HOST, "fo-shared", st, sizeof(st));
	assert_string_equal(st, "shut off");
	assert_int_equal(lab_count_running("fo-shared", N_HOSTS), 1);
	(void)fx_drover(&fx, "apply", NULL, 0);
	assert_int_equal(lab_count_running("fo-shared", N_HOSTS), 1);
	assert_int_equal(lab_count_defined("fo-shared", N_HOSTS), 1);
	lab_dom_state(FAILED_HOST, "fo-shared", st, sizeof(st));
	assert_string_equal(st, "");                 /* the stale copy is gone */
	lab_dom_state(FAILED_HOST, "fo-local", st, sizeof(st));
	assert_string_equal(st, "shut off");         /* its disk is here: left for the operator */
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0)
		return -1;
	lab_cleanup_guest("fo-shared", "fo-shared.qcow2");
	lab_cleanup_guest("fo-local", "fo-local.qcow2");
	if (lab_create_volume(FAILED_HOST, "shared", "fo-shared.qcow2", 32, shared_disk,
			      sizeof(shared_disk)) < 0 ||
	    lab_create_volume(FAILED_HOST, "local", "fo-local.qcow2", 32, local_disk,
			      sizeof(local_disk)) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	/* The failed host comes back whatever happened, so later tests find three hosts. */
	const char *argv[] = {"bash", "hack/lab", "start-host", lab_host_name(FAILED_HOST), NULL};
	(void)lab_run(argv, NULL, 0, 120);
	lab_cleanup_guest("fo-shared", "fo-shared.qcow2");
	lab_cleanup_guest("fo-local", "fo-local.qcow2");
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vms_land_on_the_host_that_will_fail),
		cmocka_unit_test(test_power_loss_makes_vms_unknown_and_restarts_nothing),
		cmocka_unit_test(test_fencing_restarts_the_shared_vm_elsewhere_and_reports_the_local_one),
		cmocka_unit_test(test_returning_host_loses_its_stale_copy_never_two_running),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
