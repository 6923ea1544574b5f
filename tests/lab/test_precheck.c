/* test_precheck: what drover refuses to do. A failed pre-check (memory, a name taken
 * on the target, a missing bridge or pool, storage declared shared that is not, or local
 * that is shared), an unknown host and a VM defined on two hosts change nothing on any
 * host, and the reason reaches status or the output. */
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

#define N_HOSTS 3

static struct fx fx;

static const char *const guests[] = {"pc-mem", "pc-name", "pc-bridge", "pc-pool", "pc-conf",
				     "pc-reach", "pc-fake", "pc-real", "pc-named", "pc-cpu",
				     "pc-mislabel"};

/* Writes manifests/NAME.yaml: a running test guest pinned to @host. @extra is added
 * to spec.domain (e.g. interfaces), @storage and @disk as given. */
static void write_vm(const char *name, const char *host, const char *storage, const char *disk,
		     const char *extra)
{
	struct fx_vm vm = {.name = name, .host = host, .storage = storage, .memory = "64Mi",
			   .cmdline = "dirty_mib=4 rate_mibps=2", .disk = disk,
			   .domain_extra = extra};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

/* The manifest a test that may fail half-way leaves for cleanup, so a failure does not
 * carry over into the next tests. */
static const char *remove_after_test;

static void remove_vm_manifest(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.yaml", fx.manifests, name);
	unlink(path);
}

/* Starts VM @name on lab-a with a shared disk, then asks for it on lab-b. */
static void start_then_pin_to_b(const char *name, const char *storage, const char *pool,
				const char *extra)
{
	char disk[512], volume[80];

	snprintf(volume, sizeof(volume), "%s.qcow2", name);
	assert_int_equal(lab_create_volume(0, pool, volume, 32, disk, sizeof(disk)), 0);
	write_vm(name, "lab-a", storage, disk, extra);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	write_vm(name, "lab-b", storage, disk, extra);
}

/* apply must fail, leave @name running on lab-a only, and say @check in status. */
static void assert_refused(const char *name, const char *check)
{
	char msg[1024], phase[64], state[64];

	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);
	lab_dom_state(0, name, state, sizeof(state));
	assert_string_equal(state, "running");
	assert_int_equal(lab_count_running(name, N_HOSTS), 1);
	fx_condition(&fx, "virtualmachines", name, "Placed", msg, sizeof(msg));
	printf("  %s: Placed: %s\n", name, msg);
	assert_non_null(strstr(msg, "PreCheckFailed"));
	assert_non_null(strstr(msg, check));
	fx_status(&fx, "virtualmachines", name, "status.host", phase, sizeof(phase));
	assert_string_equal(phase, "lab-a");
	remove_vm_manifest(name);
}

/* A move the executor's pre-checks refuse (the planner cannot see why): apply fails, @name
 * keeps running on lab-a only, and its Migration record failed with "PreCheckFailed" and
 * @check as the reason. */
static void assert_move_refused(const char *name, const char *check)
{
	char rec[128], phase[64], why[1024], state[64];

	remove_after_test = name;
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);
	lab_dom_state(0, name, state, sizeof(state));
	assert_string_equal(state, "running");
	assert_int_equal(lab_count_running(name, N_HOSTS), 1);
	assert_int_equal(lab_count_defined(name, N_HOSTS), 1);
	fx_latest_migration(&fx, name, rec, sizeof(rec));
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	fx_status(&fx, "migrations", rec, "status.failureReason", why, sizeof(why));
	printf("  %s: Migration %s: %s: %s\n", name, rec, phase, why);
	assert_string_equal(phase, "Failed");
	assert_non_null(strstr(why, "PreCheckFailed"));
	assert_non_null(strstr(why, check));
	fx_status(&fx, "virtualmachines", name, "status.host", phase, sizeof(phase));
	assert_string_equal(phase, "lab-a");
}

static void write_hosts(const char *lab_b_reserved)
{
	char text[2048];
	size_t len = 0;

	for (int i = 0; i < N_HOSTS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"---\napiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: %s}\n"
					"spec: {uri: \"%s\", migrationAddress: %s, reservedMemory: %s}\n",
					lab_host_name(i), lab_host_uri(i), lab_host_addr(i),
					i == 1 ? lab_b_reserved : "0");
	assert_int_equal(fx_write(&fx, "hosts.yaml", text), 0);
}

static void test_precheck_memory_refuses_a_move_to_a_full_host(void **state)
{
	(void)state;
	start_then_pin_to_b("pc-mem", "shared", "shared", NULL);
	write_hosts("1000Gi"); /* lab-b keeps more for itself than the machine has */
	assert_refused("pc-mem", "memory");
	write_hosts("0");
}

static void test_precheck_name_taken_on_target_refuses_a_move(void **state)
{
	(void)state;
	start_then_pin_to_b("pc-name", "shared", "shared", NULL);
	/* Someone else's domain of the same name on lab-b (no drover metadata). */
	struct lab_guest other = {.name = "pc-name", .memory_mib = 32,
				  .serial_path = "/dev/null", .cmdline = ""};
	char *xml = lab_guest_xml(&other);
	assert_non_null(xml);
	virConnectPtr conn = lab_connect(1);
	assert_non_null(conn);
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	free(xml);
	assert_non_null(dom);
	virDomainFree(dom);
	virConnectClose(conn);
	assert_refused("pc-name", "name");
	char st[64];
	lab_dom_state(1, "pc-name", st, sizeof(st));
	assert_string_equal(st, "shut off"); /* the other domain is left as it was */
}

/* Adds (or removes) a bridge inside lab-a's network namespace. */
static int lab_a_bridge(bool add)
{
	const char *argv[] = {"ip", "-n", "drover-lab-a", "link", add ? "add" : "del", "br-only-a",
			      add ? "type" : NULL, "bridge", NULL};
	return lab_run(argv, NULL, 0, 30);
}

static void test_precheck_missing_bridge_refuses_a_move(void **state)
{
	(void)state;
	assert_int_equal(lab_a_bridge(true), 0);
	start_then_pin_to_b("pc-bridge", "shared", "shared",
			    "    interfaces: [{bridge: br-only-a}]\n");
	assert_refused("pc-bridge", "br-only-a");
}

/* A pool NAME at /var/lib/libvirt/extra on host @i (its own directory there), unless
 * there is one already. */
static void make_extra_pool(int i, const char *name)
{
	const char *info[] = {"virsh", "-q", "-c", lab_host_uri(i), "pool-info", name, NULL};
	if (lab_run(info, NULL, 0, 30) == 0)
		return;
	const char *argv[] = {"virsh", "-q", "-c", lab_host_uri(i), "pool-create-as", name, "dir",
			      "--target", "/var/lib/libvirt/extra", NULL};
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/hosts/%s/lib/extra", lab_dir(), lab_host_name(i));
	const char *mk[] = {"mkdir", "-p", dir, NULL};
	assert_int_equal(lab_run(mk, NULL, 0, 30), 0);
	assert_int_equal(lab_run(argv, NULL, 0, 30), 0);
}

static void test_precheck_missing_pool_refuses_a_local_move(void **state)
{
	(void)state;
	make_extra_pool(0, "extra");
	start_then_pin_to_b("pc-pool", "local", "extra", NULL);
	assert_refused("pc-pool", "storage");
}

/* Safety rule 7: the lab's "local" pools have the same path on every host but are
 * different disks. A VM declaring them shared (and even allowed to fall back to cold) is
 * refused: the guest keeps running on lab-a and nothing is defined on lab-b. */
static void test_precheck_same_path_other_file_refuses_a_shared_live_move(void **state)
{
	char other[512], migration[128], phase[64];
	(void)state;

	/* lab-b has a file at the same path, so the path alone would pass. */
	assert_int_equal(lab_create_volume(1, "local", "pc-fake.qcow2", 32, other, sizeof(other)),
			 0);
	start_then_pin_to_b("pc-fake", "shared", "local", NULL);
	struct fx_vm vm = {.name = "pc-fake", .host = "lab-b", .storage = "shared",
			   .memory = "64Mi", .cmdline = "dirty_mib=4 rate_mibps=2", .disk = other,
			   .spec_extra = "  evictionStrategy: LiveMigrateIfPossible\n"};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
	assert_move_refused("pc-fake", "not shared storage");
	fx_latest_migration(&fx, "pc-fake", migration, sizeof(migration));
	fx_status(&fx, "migrations", migration, "status.mode", phase, sizeof(phase));
	assert_string_not_equal(phase, "Cold"); /* no cold fallback for shared storage */
}

/* The same VM with its disk in the truly shared directory is proven and moves live. */
static void test_precheck_truly_shared_disk_still_moves_live(void **state)
{
	(void)state;
	start_then_pin_to_b("pc-real", "shared", "shared", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_true(lab_runs_only_on("pc-real", 1, N_HOSTS));
	remove_vm_manifest("pc-real");
}

/* The mirror image of rule 7: a VM declared storage: local whose disk is in fact in the
 * directory both hosts share. A move would copy it onto itself: the planner refuses it
 * (the target already has the file). And a move of it that never ended (its record left
 * Running from lab-b to lab-a, as a crash leaves it) must not have its "stale copy" on
 * lab-b deleted when it is settled: that file is the disk the VM runs from. */
static void test_precheck_local_disk_in_a_shared_directory_is_never_copied_or_deleted(void **state)
{
	char path[600], msg[1024], phase[64], rec[1024];
	struct stat st;
	(void)state;

	remove_after_test = "pc-mislabel";
	start_then_pin_to_b("pc-mislabel", "local", "shared", NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);
	fx_condition(&fx, "virtualmachines", "pc-mislabel", "Placed", msg, sizeof(msg));
	printf("  pc-mislabel: Placed: %s\n", msg);
	assert_non_null(strstr(msg, "PreCheckFailed"));
	assert_true(lab_runs_only_on("pc-mislabel", 0, N_HOSTS));

	snprintf(path, sizeof(path), "%s/shared/pc-mislabel.qcow2", lab_dir());
	write_vm("pc-mislabel", "lab-a", "local", path, NULL);
	snprintf(path, sizeof(path), "%s/migrations/default", fx.state);
	const char *mk[] = {"mkdir", "-p", path, NULL};
	assert_int_equal(lab_run(mk, NULL, 0, 10), 0);
	snprintf(path, sizeof(path), "%s/migrations/default/pc-mislabel-left.json", fx.state);
	snprintf(rec, sizeof(rec),
		 "{\"apiVersion\": \"drover.io/v1alpha1\", \"kind\": \"Migration\", "
		 "\"metadata\": {\"name\": \"pc-mislabel-left\", \"namespace\": \"default\"}, "
		 "\"spec\": {\"vmName\": \"pc-mislabel\", \"targetHost\": \"lab-a\"}, "
		 "\"status\": {\"phase\": \"Running\", \"reason\": \"SpecHostChanged\", "
		 "\"sourceHost\": \"lab-b\", \"targetHost\": \"lab-a\"}}\n");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(rec, f);
	fclose(f);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	fx_status(&fx, "migrations", "pc-mislabel-left", "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Succeeded");
	snprintf(path, sizeof(path), "%s/shared/pc-mislabel.qcow2", lab_dir());
	assert_int_equal(stat(path, &st), 0);   /* the VM's own disk: still there */
	assert_true(lab_runs_only_on("pc-mislabel", 0, N_HOSTS));
}

/* `hack/lab cpu-lacks`: host @i's libvirtd restarted seeing a CPU without @feature ("-":
 * as it is). Returns its exit status. */
static int cpu_lacks(int i, const char *feature)
{
	const char *argv[] = {"bash", "hack/lab", "cpu-lacks", lab_host_name(i), feature, NULL};
	return lab_run(argv, NULL, 0, 120);
}

/* A target of an older CPU generation (lab-b's libvirtd sees no AES) cannot run a guest
 * defined with the Westmere model, which has it: libvirt's CPU comparison refuses the move
 * before anything changes, and the guest runs on on lab-a; once lab-b has AES again, the
 * same move goes through. */
static void test_precheck_cpu_the_target_lacks_refuses_a_live_move(void **state)
{
	(void)state;
	start_then_pin_to_b("pc-cpu", "shared", "shared", "    cpu: Westmere\n");
	assert_int_equal(cpu_lacks(1, "aes"), 0);
	assert_move_refused("pc-cpu", "cpu: lab-b cannot run the CPU pc-cpu is defined with");
	/* The same lab-b with its CPU as it is takes the same guest: the model was the cause. */
	assert_int_equal(cpu_lacks(1, "-"), 0);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_true(lab_runs_only_on("pc-cpu", 1, N_HOSTS));
}

/* The copy finds the target's pool by directory, not by the source pool's name. */
static void test_cold_copy_between_pools_of_different_names(void **state)
{
	char disk[512], sha_a[65], sha_b[65], st[64];
	(void)state;

	make_extra_pool(0, "extra");
	make_extra_pool(1, "extra-b");
	assert_int_equal(lab_create_volume(0, "extra", "pc-named.qcow2", 32, disk, sizeof(disk)),
			 0);
	fx_host_file_sha(0, "extra/pc-named.qcow2", sha_a, sizeof(sha_a));
	struct fx_vm vm = {.name = "pc-named", .host = "lab-a", .running = "false",
			   .storage = "local", .memory = "64Mi", .cmdline = "", .disk = disk};
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	vm.host = "lab-b";
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_dom_state(1, "pc-named", st, sizeof(st));
	assert_string_equal(st, "shut off");
	assert_int_equal(lab_count_defined("pc-named", N_HOSTS), 1);
	fx_host_file_sha(1, "extra/pc-named.qcow2", sha_b, sizeof(sha_b));
	assert_string_equal(sha_a, sha_b);
	fx_host_file_sha(0, "extra/pc-named.qcow2", sha_a, sizeof(sha_a));
	assert_string_equal(sha_a, ""); /* the source's copy is deleted */
	remove_vm_manifest("pc-named");
}

static void test_unknown_host_is_an_error_that_changes_nothing(void **state)
{
	char out[16384];
	(void)state;
	write_vm("pc-unknown", "lab-z", "shared", "/var/tmp/drover-lab/shared/none.qcow2", NULL);
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 1);
	assert_int_equal(lab_count_defined("pc-unknown", N_HOSTS), 0);
	remove_vm_manifest("pc-unknown");
}

static void test_vm_defined_on_two_hosts_is_a_conflict_left_alone(void **state)
{
	char disk[512], phase[64], st[64];
	(void)state;

	assert_int_equal(lab_create_volume(0, "shared", "pc-conf.qcow2", 32, disk, sizeof(disk)), 0);
	write_vm("pc-conf", "lab-a", "shared", disk, NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	/* A second definition of the same VM, drover's metadata and all, on lab-c. */
	virConnectPtr a = lab_connect(0), c = lab_connect(2);
	assert_non_null(a);
	assert_non_null(c);
	virDomainPtr dom = virDomainLookupByName(a, "pc-conf");
	assert_non_null(dom);
	char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	assert_non_null(xml);
	virDomainPtr copy = virDomainDefineXML(c, xml);
	assert_non_null(copy);
	free(xml);
	virDomainFree(copy);
	virDomainFree(dom);
	virConnectClose(a);
	virConnectClose(c);

	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);
	fx_status(&fx, "virtualmachines", "pc-conf", "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Conflict");
	lab_dom_state(0, "pc-conf", st, sizeof(st));
	assert_string_equal(st, "running");
	lab_dom_state(2, "pc-conf", st, sizeof(st));
	assert_string_equal(st, "shut off");
	remove_vm_manifest("pc-conf");
}

static void test_unreachable_host_is_reported_and_blocks_nothing(void **state)
{
	char disk[512], st[64], msg[1024], text[4096];
	(void)state;

	/* A fourth host at an address nothing answers on, beside the three real ones. */
	write_hosts("0");
	snprintf(text, sizeof(text),
		 "apiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: lab-gone}\n"
		 "spec: {uri: \"qemu+tcp://10.77.0.99/system\", migrationAddress: 10.77.0.99}\n");
	assert_int_equal(fx_write(&fx, "gone.yaml", text), 0);
	assert_int_equal(lab_create_volume(0, "shared", "pc-reach.qcow2", 32, disk, sizeof(disk)), 0);
	write_vm("pc-reach", "lab-a", "shared", disk, NULL);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_dom_state(0, "pc-reach", st, sizeof(st));
	assert_string_equal(st, "running");
	fx_condition(&fx, "hosts", "lab-gone", "Reachable", msg, sizeof(msg));
	printf("  lab-gone: Reachable: %s\n", msg);
	assert_non_null(strstr(msg, "Unreachable"));
	fx_condition(&fx, "hosts", "lab-a", "Reachable", msg, sizeof(msg));
	assert_non_null(strstr(msg, "Connected"));
	char path[512];
	snprintf(path, sizeof(path), "%s/gone.yaml", fx.manifests);
	assert_int_equal(unlink(path), 0);
	remove_vm_manifest("pc-reach");
}

static void cleanup(void)
{
	char volume[80];
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		snprintf(volume, sizeof(volume), "%s.qcow2", guests[i]);
		lab_cleanup_guest(guests[i], volume);
	}
	(void)lab_a_bridge(false);
	/* The extra pools: their volumes, the pools, and the directories behind them. */
	const char *const pools[] = {"extra", "extra-b"};
	for (int i = 0; i < 2; i++) {
		const char *del[] = {"virsh", "-q", "-c", lab_host_uri(i), "vol-delete", "--pool",
				     pools[i], NULL, NULL};
		const char *destroy[] = {"virsh", "-q", "-c", lab_host_uri(i), "pool-destroy",
					 pools[i], NULL};
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/hosts/%s/lib/extra", lab_dir(), lab_host_name(i));
		const char *rm[] = {"rm", "-rf", "--", dir, NULL};
		del[7] = "pc-pool.qcow2";
		(void)lab_run(del, NULL, 0, 30);
		del[7] = "pc-named.qcow2";
		(void)lab_run(del, NULL, 0, 30);
		(void)lab_run(destroy, NULL, 0, 30);
		(void)lab_run(rm, NULL, 0, 30);
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	cleanup();
	return 0;
}

/* Each test: what a failed one left behind goes, so the next starts clean. */
static int test_teardown(void **state)
{
	(void)state;
	if (remove_after_test)
		remove_vm_manifest(remove_after_test);
	remove_after_test = NULL;
	return 0;
}

/* The CPU test: lab-b's libvirtd back to the CPU it has, also when the test failed. */
static int cpu_teardown(void **state)
{
	(void)cpu_lacks(1, "-");
	return test_teardown(state);
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
		cmocka_unit_test(test_precheck_memory_refuses_a_move_to_a_full_host),
		cmocka_unit_test(test_precheck_name_taken_on_target_refuses_a_move),
		cmocka_unit_test(test_precheck_missing_bridge_refuses_a_move),
		cmocka_unit_test(test_precheck_missing_pool_refuses_a_local_move),
		cmocka_unit_test_teardown(test_precheck_same_path_other_file_refuses_a_shared_live_move, test_teardown),
		cmocka_unit_test(test_precheck_truly_shared_disk_still_moves_live),
		cmocka_unit_test_teardown(
			test_precheck_local_disk_in_a_shared_directory_is_never_copied_or_deleted,
			test_teardown),
		cmocka_unit_test_teardown(test_precheck_cpu_the_target_lacks_refuses_a_live_move,
					  cpu_teardown),
		cmocka_unit_test(test_cold_copy_between_pools_of_different_names),
		cmocka_unit_test(test_unknown_host_is_an_error_that_changes_nothing),
		cmocka_unit_test(test_vm_defined_on_two_hosts_is_a_conflict_left_alone),
		cmocka_unit_test(test_unreachable_host_is_reported_and_blocks_nothing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
