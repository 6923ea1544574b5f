/* test_localmove: moves of VMs whose disks are local, each proven on real hosts. A running
 * VM whose disk does not fit in the target pool's free space is refused before it is
 * touched: it keeps running on its source, nothing is defined or created on the target, and
 * the Migration says why. A running local-storage VM moved cold arrives with its disk
 * byte-identical and boots once on the target, and drover's memory while it copies stays
 * well under the disk's size. The target pool with little room is a tmpfs
 * mounted in lab-b's own mount namespace (nsenter into its libvirtd's), at a directory
 * lab-a has as an ordinary pool of the same name. A live move whose target loses power
 * during the disk copy leaves no copy there once the target is back. A copy counts as gone
 * only when its pool, refreshed, does not list it. virsh is the witness,
 * the guest's serial log proves what ran. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "reconcile/storage.h"
#include "tests/lab/drover_fixture.h"
#include "tests/lab/guestlog.h"

#define N_HOSTS 2
#define SMALL_DIR "/var/lib/libvirt/small" /* as the hosts see it */
/* The cold move's disk: this many MiB of random data, then 8 MiB of hole. Larger than the
 * bound on drover's memory while it copies, so a copy held in memory shows. */
#define COLD_DATA_MIB 160
#define COLD_PEAK_MAX_KIB (80 * 1024)

static struct fx fx;

static const char *const guests[] = {"lm-big", "lm-cold", "lm-cut", "lm-unlisted"};

/* The test guest on local storage, pinned to @host, with @extra spec lines (or NULL). */
static void write_vm_with(const char *name, const char *host, const char *disk,
			  const char *extra)
{
	struct fx_vm vm = {.name = name, .host = host, .running = "true", .storage = "local",
			   .memory = "64Mi", .cmdline = "dirty_mib=4 rate_mibps=2", .disk = disk,
			   .format = "raw", .serial = true, .spec_extra = extra};

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static void write_vm(const char *name, const char *host, const char *disk)
{
	write_vm_with(name, host, disk, NULL);
}

/* Fills host i's volume @rel (below its /var/lib/libvirt) with @mib MiB of random bytes, as
 * a raw disk; returns its SHA-256. */
static void fill_random(int i, const char *rel, unsigned mib, char *sha, size_t size)
{
	char path[600], count[16];
	snprintf(path, sizeof(path), "of=%s/hosts/%s/lib/%s", lab_dir(), lab_host_name(i), rel);
	snprintf(count, sizeof(count), "count=%u", mib);
	const char *argv[] = {"dd", "if=/dev/urandom", path, "bs=1M", count, "conv=notrunc",
			      "status=none", NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 60), 0);
	fx_host_file_sha(i, rel, sha, size);
	assert_true(sha[0]);
}

/* Runs `nsenter -t PID -m CMD...` in host @i's mount namespace (its libvirtd's), its
 * stdout into @out (may be NULL). Returns its exit status, or -1. */
static int in_host_mount_ns(int i, const char *const cmd[], char *out, size_t size)
{
	char pidfile[512], pid[32] = "";
	const char *argv[16] = {"nsenter", "-t", pid, "-m", "--"};
	FILE *f;

	snprintf(pidfile, sizeof(pidfile), "%s/hosts/%s/libvirtd.pid", lab_dir(), lab_host_name(i));
	f = fopen(pidfile, "r");
	if (!f)
		return -1;
	if (!fgets(pid, sizeof(pid), f))
		pid[0] = '\0';
	fclose(f);
	pid[strcspn(pid, "\n")] = '\0';
	size_t n = 5;
	for (size_t k = 0; cmd[k] && n < 15; k++)
		argv[n++] = cmd[k];
	argv[n] = NULL;
	return pid[0] ? lab_run(argv, out, size, 30) : -1;
}

static int virsh(int i, const char *a, const char *b, const char *c, const char *d,
		 const char *e)
{
	const char *argv[] = {"virsh", "-q", "-c", lab_host_uri(i), a, b, c, d, e, NULL};
	return lab_run(argv, NULL, 0, 60);
}

/* Pool "small" on both hosts at SMALL_DIR: on lab-a an ordinary directory, on lab-b a tmpfs
 * of @mib MiB in lab-b's mount namespace. */
static void make_small_pools(unsigned mib)
{
	char size[32];
	snprintf(size, sizeof(size), "size=%um", mib);
	const char *mkdir_cmd[] = {"mkdir", "-p", SMALL_DIR, NULL};
	const char *mount_cmd[] = {"mount", "-t", "tmpfs", "-o", size, "drover-lab-small",
				   SMALL_DIR, NULL};
	for (int i = 0; i < N_HOSTS; i++)
		assert_int_equal(in_host_mount_ns(i, mkdir_cmd, NULL, 0), 0);
	assert_int_equal(in_host_mount_ns(1, mount_cmd, NULL, 0), 0);
	for (int i = 0; i < N_HOSTS; i++)
		assert_int_equal(virsh(i, "pool-create-as", "small", "dir", "--target", SMALL_DIR), 0);
}

static void remove_small_pools(void)
{
	const char *umount_cmd[] = {"umount", SMALL_DIR, NULL};
	const char *rmdir_cmd[] = {"rm", "-rf", "--", SMALL_DIR, NULL};
	for (int i = 0; i < N_HOSTS; i++) {
		(void)virsh(i, "vol-delete", "--pool", "small", "lm-big.raw", NULL);
		(void)virsh(i, "pool-destroy", "small", NULL, NULL, NULL);
	}
	(void)in_host_mount_ns(1, umount_cmd, NULL, 0);
	for (int i = 0; i < N_HOSTS; i++)
		(void)in_host_mount_ns(i, rmdir_cmd, NULL, 0);
}

/* What host @i has in SMALL_DIR, as it sees it (lab-b: its tmpfs), one path a line, into @out. */
static void small_files(int i, char *out, size_t size)
{
	const char *find_cmd[] = {"find", SMALL_DIR, "-mindepth", "1", NULL};
	out[0] = '\0';
	assert_int_equal(in_host_mount_ns(i, find_cmd, out, size), 0);
}

static void test_local_disk_larger_than_target_free_space_is_refused_before_the_move(void **state)
{
	char disk[512], sha[80], serial[512], rec[128], phase[64], why[1024], st[64], vols[512];
	struct guestlog_result res;
	(void)state;

	make_small_pools(24);
	assert_int_equal(lab_create_volume(0, "small", "lm-big.raw", 32, disk, sizeof(disk)), 0);
	fill_random(0, "small/lm-big.raw", 32, sha, sizeof(sha)); /* 32 MiB allocated */
	write_vm("lm-big", "lab-a", disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_serial_path("lm-big", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);

	write_vm("lm-big", "lab-b", disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 1);
	fx_latest_migration(&fx, "lm-big", rec, sizeof(rec));
	assert_true(rec[0]);
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	fx_status(&fx, "migrations", rec, "status.failureReason", why, sizeof(why));
	printf("  lm-big: Migration %s: %s: %s\n", rec, phase, why);
	assert_string_equal(phase, "Failed");
	assert_non_null(strstr(why, "PreCheckFailed: storage: pool small on lab-b has"));
	assert_non_null(strstr(why, "free, the copy of " SMALL_DIR "/lm-big.raw needs"));

	/* Nothing changed: running on lab-a only, nothing on lab-b, the same disk. */
	lab_dom_state(0, "lm-big", st, sizeof(st));
	assert_string_equal(st, "running");
	assert_int_equal(lab_count_running("lm-big", N_HOSTS), 1);
	assert_int_equal(lab_count_defined("lm-big", N_HOSTS), 1);
	small_files(1, vols, sizeof(vols));
	assert_string_equal(vols, ""); /* not even a volume created for the copy */
	fx_status(&fx, "virtualmachines", "lm-big", "status.host", phase, sizeof(phase));
	assert_string_equal(phase, "lab-a");
	fx_host_file_sha(0, "small/lm-big.raw", why, sizeof(why));
	assert_string_equal(why, sha);
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	assert_int_equal(res.banners, 1); /* never restarted */
	assert_int_equal(res.max_corrupt, 0);
}

/* The refused VM goes, pass or fail, so the next test's apply has nothing left to refuse
 * (and its TCG guest no longer takes a CPU). */
static int remove_big_manifest(void **state)
{
	char path[600];
	(void)state;
	snprintf(path, sizeof(path), "%s/lm-big.yaml", fx.manifests);
	unlink(path);
	lab_cleanup_guest("lm-big", NULL);
	return 0;
}

/* Waits up to @max_s for @pid to exit, its resource use into *@ru (may be NULL); returns
 * its exit status, or -1 (then kills it). */
static int wait_exit(int pid, double max_s, struct rusage *ru)
{
	int status = 0;
	for (int i = 0; i < (int)(max_s * 5); i++) {
		if (wait4(pid, &status, WNOHANG, ru) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(200000);
	}
	(void)lab_stop(pid, 5);
	return -1;
}

/* Runs `drover apply` (at most 600 s) and sets *@peak_kib to its peak resident memory.
 * Returns its exit status, or -1. */
static int apply_with_peak_rss(long *peak_kib)
{
	char log[400];
	struct rusage ru = {0};
	const char *argv[] = {lab_drover(), "apply", "-f", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", NULL};

	snprintf(log, sizeof(log), "%s/apply.log", fx.dir);
	int pid = lab_spawn(argv, log);
	int rc = pid > 0 ? wait_exit(pid, 600, &ru) : -1;
	*peak_kib = ru.ru_maxrss;
	return rc;
}

static void test_running_local_vm_moved_cold_keeps_its_disk_and_boots_once_on_target(void **state)
{
	char disk[512], before[80], after[80], host[64], text[512], phase[64], serial[512];
	struct guestlog_result res;
	(void)state;

	assert_int_equal(lab_create_volume(0, "local", "lm-cold.raw", COLD_DATA_MIB, disk,
					   sizeof(disk)), 0);
	fill_random(0, "images/lm-cold.raw", COLD_DATA_MIB, before, sizeof(before));
	/* Data, then a hole: the copy keeps the hole, and its progress counts the data. */
	char file[600], size[16];
	snprintf(file, sizeof(file), "%s/hosts/%s/lib/images/lm-cold.raw", lab_dir(),
		 lab_host_name(0));
	snprintf(size, sizeof(size), "%uM", COLD_DATA_MIB + 8);
	const char *grow[] = {"truncate", "-s", size, file, NULL};
	assert_int_equal(lab_run(grow, NULL, 0, 30), 0);
	fx_host_file_sha(0, "images/lm-cold.raw", before, sizeof(before));
	write_vm("lm-cold", "lab-a", disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_serial_path("lm-cold", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);

	/* Unpinned now (a Migration moves only unpinned VMs), still on lab-a. */
	write_vm("lm-cold", NULL, disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	fx_status(&fx, "virtualmachines", "lm-cold", "status.host", host, sizeof(host));
	assert_string_equal(host, "lab-a");
	snprintf(text, sizeof(text),
		 "apiVersion: drover.io/v1alpha1\nkind: Migration\nmetadata: {name: move-lm-cold}\n"
		 "spec: {vmName: lm-cold, targetHost: lab-b, mode: Cold}\n");
	assert_int_equal(fx_write(&fx, "migration.yaml", text), 0);
	long peak_kib = 0;
	assert_int_equal(apply_with_peak_rss(&peak_kib), 0);
	/* The copy holds at most a range of the disk: libvirt's client keeps whatever a
	 * download brings, so one stream for the whole disk let drover's memory grow with it. */
	printf("  drover apply's peak RSS while copying %u MiB: %ld KiB\n", COLD_DATA_MIB,
	       peak_kib);
	assert_true(peak_kib < COLD_PEAK_MAX_KIB);
	fx_status(&fx, "migrations", "move-lm-cold", "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Succeeded");
	fx_status(&fx, "migrations", "move-lm-cold", "status.mode", phase, sizeof(phase));
	assert_string_equal(phase, "Cold");
	/* Holes once counted as copied data: 200 %, a record drover itself could not read. */
	fx_status(&fx, "migrations", "move-lm-cold", "status.progress.percent", phase,
		  sizeof(phase));
	assert_string_equal(phase, "100");
	assert_true(lab_runs_only_on("lm-cold", 1, N_HOSTS));
	assert_int_equal(lab_count_defined("lm-cold", N_HOSTS), 1);
	fx_host_file_sha(1, "images/lm-cold.raw", after, sizeof(after));
	assert_string_equal(after, before); /* every byte arrived */
	fx_host_file_sha(0, "images/lm-cold.raw", after, sizeof(after));
	assert_false(after[0]);             /* and the source copy is gone */
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 60000), 0);
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	assert_int_equal(res.banners, 2); /* one new boot, on the target */
	assert_int_equal(res.max_corrupt, 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/migration.yaml", fx.manifests);
	assert_int_equal(unlink(path), 0);
}

/* hack/lab VERB HOST (stop-host, start-host). */
static void lab_verb(const char *verb, int host)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(host), NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 120), 0);
}

/* The second 60-minute soak's violation: a live move with its disk copied, whose target
 * loses power in the middle of the copy. The move fails and the guest runs on on lab-a with
 * its disk; the partial copy on lab-b is not forgotten: the record waits while lab-b is
 * off, and once lab-b is back the copy is deleted. */
static void test_target_power_cut_during_a_local_live_move_leaves_no_copy(void **state)
{
	char disk[512], sha[80], now[80], serial[512], log[600], copy[600], rec[128], phase[64];
	struct stat st;
	(void)state;

	assert_int_equal(lab_create_volume(0, "local", "lm-cut.raw", 48, disk, sizeof(disk)), 0);
	fill_random(0, "images/lm-cut.raw", 48, sha, sizeof(sha));
	const char *cap = "  migrationPolicy: {bandwidthMiBps: 8}\n";   /* a copy of 6 s */
	write_vm_with("lm-cut", "lab-a", disk, cap);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_serial_path("lm-cut", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);

	write_vm_with("lm-cut", "lab-b", disk, cap);
	snprintf(log, sizeof(log), "%s/cut-apply.log", fx.dir);
	const char *argv[] = {lab_drover(), "apply", "-f", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", NULL};
	int pid = lab_spawn(argv, log);
	assert_true(pid > 0);
	/* The copy under way: lab-b's file has grown past 8 MiB. */
	snprintf(copy, sizeof(copy), "%s/hosts/lab-b/lib/images/lm-cut.raw", lab_dir());
	bool copying = false;
	for (int i = 0; i < 300 && !copying; i++) {
		copying = stat(copy, &st) == 0 && st.st_blocks * 512 > (8 << 20);
		if (!copying)
			usleep(100000);
	}
	lab_verb("stop-host", 1);
	int rc = wait_exit(pid, 120, NULL);
	fx_latest_migration(&fx, "lm-cut", rec, sizeof(rec));
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	printf("  copying when cut: %d; apply exit %d; Migration %s: %s\n", copying, rc, rec, phase);
	bool left = stat(copy, &st) == 0;
	write_vm_with("lm-cut", "lab-a", disk, cap);   /* stay: the move is not asked again */
	lab_verb("start-host", 1);
	assert_true(copying);
	assert_true(lab_runs_only_on("lm-cut", 0, N_HOSTS));
	assert_string_equal(phase, "Running");   /* waits for lab-b: its copy is still there */
	assert_true(left);

	/* Its exit says how the record ended (a move the pin no longer asks for: Failed). */
	(void)fx_drover(&fx, "apply", NULL, 0);
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Failed");
	assert_int_equal(stat(copy, &st), -1);   /* the partial copy went */
	assert_true(lab_runs_only_on("lm-cut", 0, N_HOSTS));
	fx_host_file_sha(0, "images/lm-cut.raw", now, sizeof(now));
	assert_string_equal(now, sha);
}

/* The third 60-minute soak's violation: a local disk left on the source after a live move
 * that succeeded. Deleting the source's copy took any failed lookup of its path for a file
 * already gone: a connection lost in between (the soak killed that libvirtd), or a pool
 * whose list missed the file. Now only a pool that, refreshed, still does not list the
 * file counts as gone; anything else leaves the copy to be asked about again. */
static void test_a_copy_is_gone_only_when_its_refreshed_pool_does_not_list_it(void **state)
{
	const char *disk = "/var/lib/libvirt/images/lm-unlisted.raw";
	char sha[80], file[600];
	struct stat st;
	(void)state;

	/* Made behind libvirt's back: lab-a's pool has not listed it. */
	fill_random(0, "images/lm-unlisted.raw", 1, sha, sizeof(sha));
	virConnectPtr a = lab_connect(0);
	assert_non_null(a);
	assert_int_equal(stor_delete_volume(a, disk), 0);
	snprintf(file, sizeof(file), "%s/hosts/lab-a/lib/images/lm-unlisted.raw", lab_dir());
	assert_int_equal(stat(file, &st), -1);
	assert_int_equal(stor_delete_volume(a, disk), 0);   /* gone: still gone */
	virConnectClose(a);

	/* Asked over a connection whose libvirtd went away: not known, so not gone. */
	fill_random(1, "images/lm-unlisted.raw", 1, sha, sizeof(sha));
	virConnectPtr b = lab_connect(1);
	assert_non_null(b);
	lab_verb("stop-host", 1);
	int lost = stor_delete_volume(b, disk);
	virConnectClose(b);
	lab_verb("start-host", 1);
	snprintf(file, sizeof(file), "%s/hosts/lab-b/lib/images/lm-unlisted.raw", lab_dir());
	assert_int_equal(lost, -1);
	assert_int_equal(stat(file, &st), 0);
}

static void cleanup(void)
{
	char volume[80], serial[512], file[600];
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		snprintf(volume, sizeof(volume), "%s.raw", guests[i]);
		lab_cleanup_guest(guests[i], volume);
		lab_serial_path(guests[i], serial, sizeof(serial));
		unlink(serial);
		/* A file its pool may not list (lm-unlisted's), which a delete by name misses. */
		for (int h = 0; h < N_HOSTS; h++) {
			snprintf(file, sizeof(file), "%s/hosts/%s/lib/images/%s.raw", lab_dir(),
				 lab_host_name(h), guests[i]);
			unlink(file);
		}
	}
	remove_small_pools();
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
	lab_restore_hosts(N_HOSTS);
	cleanup();
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
			test_local_disk_larger_than_target_free_space_is_refused_before_the_move,
			remove_big_manifest),
		cmocka_unit_test(test_running_local_vm_moved_cold_keeps_its_disk_and_boots_once_on_target),
		cmocka_unit_test(test_target_power_cut_during_a_local_live_move_leaves_no_copy),
		cmocka_unit_test(test_a_copy_is_gone_only_when_its_refreshed_pool_does_not_list_it),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
