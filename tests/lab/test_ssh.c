/* test_ssh: drover over qemu+ssh with the lab's keys (hack/lab: an sshd
 * in each host's namespaces, a client key, known_hosts pinning each host's key, and for
 * the openssh transport a client configuration reached through ?command=). A VM is
 * started, then moved live when its pin changes, the source daemon opening the
 * target's ssh URI for the peer-to-peer move. libvirt's libssh transport, with its own
 * ?known_hosts=, reaches each host too. A client whose known_hosts pins another key for
 * the hosts cannot connect: drover reports the hosts unreachable with ssh's reason and
 * changes nothing.
 * virsh over qemu+tcp is the independent witness, the guest's serial log proves
 * continuity. */
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

#define N_HOSTS 2

static struct fx fx;        /* Hosts over qemu+ssh with the lab's client directory */
static struct fx fx_bad;    /* Hosts over qemu+ssh whose known_hosts pins another key */
static char untrusted[400]; /* that client directory (hack/lab untrusted-ssh), in fx_bad.dir */

static const char *const guests[] = {"ssh-mig", "ssh-keep"};

enum scheme { SSH, LIBSSH };

/* Host i's URI over @s with client key @key (NULL: the lab's) and the known_hosts of client
 * directory @client (hack/lab's $LAB_DIR/ssh, or an untrusted one): what `hack/lab ssh-uri`
 * and `libssh-uri` print for the lab's own key and directory. */
static void ssh_uri(int i, enum scheme s, const char *client, const char *key, char *buf,
		    size_t size)
{
	char lab_key[400];

	snprintf(lab_key, sizeof(lab_key), "%s/ssh/client/id_ed25519", lab_dir());
	if (!key)
		key = lab_key;
	if (s == SSH)
		snprintf(buf, size, "qemu+ssh://root@%s/system?keyfile=%s&no_tty=1&command=%s/ssh",
			 lab_host_addr(i), key, client);
	else
		snprintf(buf, size,
			 "qemu+libssh://root@%s/system?keyfile=%s"
			 "&known_hosts=%s/known_hosts&known_hosts_verify=normal&sshauth=privkey",
			 lab_host_addr(i), key, client);
}

static void lab_client(char *buf, size_t size)
{
	snprintf(buf, size, "%s/ssh", lab_dir());
}

/* Writes @f's manifests/hosts.yaml: lab-a and lab-b over @s with client directory @client
 * and key @key (NULL: the lab's). */
static int write_ssh_hosts(struct fx *f, enum scheme s, const char *client, const char *key)
{
	char text[4096], uri[1024];
	size_t len = 0;

	for (int i = 0; i < N_HOSTS && len < sizeof(text); i++) {
		ssh_uri(i, s, client, key, uri, sizeof(uri));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"---\napiVersion: drover.io/v1alpha1\nkind: Host\n"
					"metadata: {name: %s}\n"
					"spec: {uri: \"%s\", migrationAddress: %s, reservedMemory: 0}\n",
					lab_host_name(i), uri, lab_host_addr(i));
	}
	return len < sizeof(text) ? fx_write(f, "hosts.yaml", text) : -1;
}

/* Writes @f's manifests/NAME.yaml: one running VM of the test guest on a shared disk. */
static void write_vm(struct fx *f, const char *name, const char *host, const char *disk)
{
	struct fx_vm vm = {.name = name, .host = host, .running = "true", .storage = "shared",
			   .memory = "64Mi", .cmdline = "dirty_mib=8 rate_mibps=4", .disk = disk,
			   .format = "qcow2", .serial = true};

	assert_int_equal(fx_write_vm(f, &vm), 0);
}

static void assert_runs_only_on(const char *name, int host)
{
	assert_true(lab_runs_only_on(name, host, N_HOSTS));
}

/* `virsh -c URI hostname` into @out: its exit status. */
static int virsh_hostname(const char *uri, char *out, size_t size)
{
	const char *argv[] = {"virsh", "-c", uri, "hostname", NULL};
	return lab_run(argv, out, size, 60);
}

static void test_ssh_lab_key_opens_each_host_over_both_transports(void **state)
{
	char client[400], uri[1024], out[256];
	(void)state;

	lab_client(client, sizeof(client));
	for (int i = 0; i < N_HOSTS; i++)
		for (int s = SSH; s <= LIBSSH; s++) {
			ssh_uri(i, (enum scheme)s, client, NULL, uri, sizeof(uri));
			assert_int_equal(virsh_hostname(uri, out, sizeof(out)), 0);
			/* the host's own daemon, reached inside its namespaces */
			assert_non_null(strstr(out, lab_host_name(i)));
		}
}

/* Starts @name on lab-a through @f's Hosts, moves it live to lab-b by its pin and checks
 * the move: on lab-b only, never rebooted, heartbeats on time, the Migration Succeeded. */
static void move_live(struct fx *f, const char *name)
{
	char disk[512], volume[80], serial[512], out[16384], rec[128], phase[64], cond[1024];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;

	snprintf(volume, sizeof(volume), "%s.qcow2", name);
	assert_int_equal(lab_create_volume(0, "shared", volume, 64, disk, sizeof(disk)), 0);
	write_vm(f, name, "lab-a", disk);
	assert_int_equal(fx_drover(f, "apply", NULL, 0), 0);
	assert_runs_only_on(name, 0);
	for (int i = 0; i < N_HOSTS; i++) {
		fx_condition(f, "hosts", lab_host_name(i), "Reachable", cond, sizeof(cond));
		assert_string_equal(cond, "Connected: ");
	}
	lab_serial_path(name, serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);

	write_vm(f, name, "lab-b", disk);
	assert_int_equal(fx_drover(f, "apply", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "spec.host changed: lab-a → lab-b"));
	sleep(2);
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	assert_runs_only_on(name, 1);
	lab_assert_live_move_intact(name, &res);
	assert_int_equal(res.banners, 1); /* never rebooted: it was a live move */
	fx_latest_migration(f, name, rec, sizeof(rec));
	assert_true(rec[0]);
	fx_status(f, "migrations", rec, "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Succeeded");
	fx_status(f, "migrations", rec, "status.mode", phase, sizeof(phase));
	assert_string_equal(phase, "PreCopy");
}

static void test_apply_over_ssh_starts_then_live_migrates_when_pin_changes(void **state)
{
	(void)state;
	move_live(&fx, "ssh-mig");
}

/* ssh-keep's disk, created with the guest. */
static char keep_disk[512];

/* ssh-keep running on lab-a (put there over trusted ssh, once), with its serial log path
 * in @serial; its disk is keep_disk. */
static void keep_running_on_a(char *serial, size_t size)
{
	lab_serial_path("ssh-keep", serial, size);
	if (keep_disk[0] && lab_runs_only_on("ssh-keep", 0, N_HOSTS))
		return;
	assert_int_equal(lab_create_volume(0, "shared", "ssh-keep.qcow2", 64, keep_disk,
					   sizeof(keep_disk)), 0);
	write_vm(&fx, "ssh-keep", "lab-a", keep_disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_runs_only_on("ssh-keep", 0);
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
}

/* fx_bad's hosts are ssh URIs with client directory @client and key @key, which cannot
 * connect, for @why (what ssh says): ssh-keep pinned to lab-b there is planned blocked, both
 * hosts are Reachable=False with that reason, and nothing changed — no Migration, the
 * guest running on lab-a only, booted once, its memory intact. */
static void assert_ssh_refused_changes_nothing(const char *client, const char *key,
					       const char *why)
{
	char serial[512], uri[1024], out[16384], cond[4096], rec[128];
	struct guestlog_result res;

	keep_running_on_a(serial, sizeof(serial));
	ssh_uri(0, SSH, client, key, uri, sizeof(uri));
	assert_int_not_equal(virsh_hostname(uri, out, sizeof(out)), 0);
	assert_int_equal(write_ssh_hosts(&fx_bad, SSH, client, key), 0);
	write_vm(&fx_bad, "ssh-keep", "lab-b", keep_disk);

	assert_int_not_equal(fx_drover_plan_all(&fx_bad, NULL, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "warning: host lab-a unreachable"));
	assert_non_null(strstr(out, "warning: host lab-b unreachable"));
	assert_non_null(strstr(out, "Plan: 0 to change, 1 blocked"));

	assert_int_equal(fx_drover(&fx_bad, "apply", out, sizeof(out)), 1);
	for (int i = 0; i < N_HOSTS; i++) {
		fx_condition(&fx_bad, "hosts", lab_host_name(i), "Reachable", cond, sizeof(cond));
		printf("  %s Reachable: %s\n", lab_host_name(i), cond);
		assert_non_null(strstr(cond, "Unreachable: "));
		assert_non_null(strstr(cond, why));
	}
	fx_latest_migration(&fx_bad, "ssh-keep", rec, sizeof(rec));
	assert_string_equal(rec, "");
	assert_runs_only_on("ssh-keep", 0);
	assert_int_equal(lab_count_defined("ssh-keep", N_HOSTS), 1);
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	assert_int_equal(res.banners, 1);
	assert_int_equal(res.max_corrupt, 0);
}

/* The client pins other host keys: ssh refuses the hosts. */
static void test_untrusted_host_key_cannot_connect_and_changes_nothing(void **state)
{
	(void)state;
	assert_ssh_refused_changes_nothing(untrusted, NULL, "Host key verification failed");
}

/* The hosts are trusted, but the client's key is one no host authorizes: the hosts refuse
 * it, and no password is asked for (BatchMode, no_tty). */
static void test_refused_client_key_cannot_connect_and_changes_nothing(void **state)
{
	char client[400], key[512];
	(void)state;

	lab_client(client, sizeof(client));
	snprintf(key, sizeof(key), "%s/impostor", untrusted);
	assert_ssh_refused_changes_nothing(client, key, "Permission denied");
}

static void cleanup_guests(void)
{
	char volume[80], serial[512];
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		snprintf(volume, sizeof(volume), "%s.qcow2", guests[i]);
		lab_cleanup_guest(guests[i], volume);
		lab_serial_path(guests[i], serial, sizeof(serial));
		unlink(serial);
	}
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_guests();
	fx_cleanup(&fx);
	fx_cleanup(&fx_bad); /* takes the untrusted client directory with it */
	return 0;
}

/* The lab, the working directories and the untrusted client directory (made by
 * hack/lab). Returns 0, or -1 after undoing what it made. */
static int group_setup(void **state)
{
	char client[400];

	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_init(&fx_bad) < 0)
		goto fail;
	lab_client(client, sizeof(client));
	if (write_ssh_hosts(&fx, SSH, client, NULL) < 0)
		goto fail;
	snprintf(untrusted, sizeof(untrusted), "%s/untrusted-ssh", fx_bad.dir);
	const char *argv[] = {"bash", "hack/lab", "untrusted-ssh", untrusted, NULL};
	if (lab_run(argv, NULL, 0, 60) != 0)
		goto fail;
	cleanup_guests();
	return 0;
fail:
	group_teardown(state);
	return -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_lab_key_opens_each_host_over_both_transports),
		cmocka_unit_test(test_apply_over_ssh_starts_then_live_migrates_when_pin_changes),
		cmocka_unit_test(test_untrusted_host_key_cannot_connect_and_changes_nothing),
		cmocka_unit_test(test_refused_client_key_cannot_connect_and_changes_nothing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
