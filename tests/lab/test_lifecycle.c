/* test_lifecycle: the manifest as the whole truth for a running test guest — a changed
 * spec.domain redefines the persistent definition and sets RestartRequired without
 * restarting anything; a removed manifest leaves the guest running and Orphaned, and
 * --prune undefines it with its disk left in place. virsh is the witness. */
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

#include "tests/lab/drover_fixture.h"
#include "tests/lab/guestlog.h"
#include "tests/lab/lab_assert.h"

#define N_HOSTS 2
#define VM "lc-1"

static struct fx fx;
static char disk[512];

static void write_vm(const char *memory)
{
	struct fx_vm vm = {.name = VM, .host = "lab-a", .running = "true", .storage = "shared",
			   .memory = memory, .cmdline = "dirty_mib=8 rate_mibps=4", .disk = disk,
			   .format = "qcow2", .serial = true};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

/* <memory> of the domain on lab-a, in KiB: of the definition (@inactive) or the guest. */
static long memory_kib(bool inactive)
{
	const char *argv[] = {"virsh", "-c", lab_host_uri(0), "dumpxml", VM,
			      inactive ? "--inactive" : NULL, NULL};
	char out[16384];

	if (lab_run(argv, out, sizeof(out), 30) != 0)
		return -1;
	const char *m = strstr(out, "<memory unit='KiB'>");
	return m ? strtol(m + strlen("<memory unit='KiB'>"), NULL, 10) : -1;
}

static int boots(void)
{
	char serial[512];
	struct guestlog_result res;
	lab_serial_path(VM, serial, sizeof(serial));
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	return (int)res.banners;
}

static void test_a_memory_change_redefines_and_requires_a_restart(void **state)
{
	char serial[512], out[16384], cond[1024], uuid_before[64], uuid_after[64];
	const char *uuid[] = {"virsh", "-q", "-c", lab_host_uri(0), "domuuid", VM, NULL};
	(void)state;

	assert_int_equal(lab_create_volume(0, "shared", VM ".qcow2", 64, disk, sizeof(disk)), 0);
	write_vm("64Mi");
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_serial_path(VM, serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	/* Defined as the spec says: nothing to redefine. */
	assert_int_equal(fx_drover(&fx, "plan", out, sizeof(out)), 0);
	assert_int_equal(lab_run(uuid, uuid_before, sizeof(uuid_before), 30), 0);

	write_vm("96Mi");
	assert_int_equal(fx_drover(&fx, "plan", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "redefine"));
	assert_non_null(strstr(out, "memory: 64Mi → 96Mi"));
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 0);
	assert_int_equal(memory_kib(true), 96 * 1024);    /* the definition has it ... */
	assert_int_equal(memory_kib(false), 64 * 1024);   /* ... the running guest not yet */
	assert_int_equal(lab_run(uuid, uuid_after, sizeof(uuid_after), 30), 0);
	assert_string_equal(uuid_after, uuid_before);
	fx_condition(&fx, "virtualmachines", VM, "RestartRequired", cond, sizeof(cond));
	printf("  RestartRequired: %s\n", cond);
	assert_non_null(strstr(cond, "DefinitionChanged: memory: 64Mi → 96Mi"));
	/* Nothing restarts by itself: another apply changes nothing and says why. */
	assert_int_equal(fx_drover(&fx, "plan", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "restart-required"));
	assert_non_null(strstr(out, "drover restart " VM));
	assert_non_null(strstr(out, "Plan: 0 to change"));
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_true(lab_runs_only_on(VM, 0, N_HOSTS));
	lab_assert_guest_intact(VM);
	assert_int_equal(boots(), 1);
}

/* drover restart: one new boot, with the new memory, on the same host. */
static void test_restart_boots_the_new_definition(void **state)
{
	char out[16384], cond[1024], serial[512];
	const char *restart[] = {lab_drover(), "restart", VM, "--state-dir", fx.state, NULL};
	(void)state;

	assert_int_equal(lab_run(restart, out, sizeof(out), 30), 0);
	printf("  $ drover restart\n%s", out);
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "restart requested"));
	assert_true(lab_runs_only_on(VM, 0, N_HOSTS));
	assert_int_equal(memory_kib(false), 96 * 1024);
	lab_serial_path(VM, serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(boots(), 2);
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 0);
	fx_condition(&fx, "virtualmachines", VM, "RestartRequired", cond, sizeof(cond));
	assert_string_equal(cond, "UpToDate: ");
	assert_int_equal(boots(), 2);           /* the request was used up: no second restart */
}

static void test_a_removed_manifest_orphans_and_prune_undefines(void **state)
{
	char out[16384], path[400], phase[64];
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/%s.yaml", fx.manifests, VM);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fx_drover(&fx, "plan", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "orphaned"));
	assert_non_null(strstr(out, "default/" VM " is no longer declared; left running"));
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 0);
	assert_true(lab_runs_only_on(VM, 0, N_HOSTS));
	assert_int_equal(fx_status(&fx, "virtualmachines", VM, "status.phase", phase,
				   sizeof(phase)), 0);
	assert_string_equal(phase, "Orphaned");

	const char *prune[] = {lab_drover(), "apply", "-f", fx.manifests, "--state-dir", fx.state,
			       "--stop-timeout", "2", "--prune", NULL};
	int rc = lab_run(prune, out, sizeof(out), 300);
	printf("  $ drover apply --prune (exit %d)\n%s", rc, out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "done    prune"));
	assert_int_equal(lab_count_defined(VM, N_HOSTS), 0);
	assert_int_equal(stat(disk, &st), 0);               /* the disk is still there */
	assert_int_equal(fx_status(&fx, "virtualmachines", VM, "status.phase", phase,
				   sizeof(phase)), -1);         /* and its record gone */
}

static void cleanup(void)
{
	char serial[512];
	lab_cleanup_guest(VM, VM ".qcow2");
	lab_serial_path(VM, serial, sizeof(serial));
	unlink(serial);
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	cleanup();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup();
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_memory_change_redefines_and_requires_a_restart),
		cmocka_unit_test(test_restart_boots_the_new_definition),
		cmocka_unit_test(test_a_removed_manifest_orphans_and_prune_undefines),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
