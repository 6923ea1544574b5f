/* test_tls: drover over qemu+tls with the lab's certificates (hack/lab's CA, a server
 * certificate per host, a client directory for ?pkipath=): a VM is started, then moved
 * live when its pin changes, the source daemon opening the target's qemu+tls URI
 * with the client certificate. A client whose CA the hosts do not share cannot
 * connect: drover reports the hosts unreachable and changes nothing. virsh over
 * qemu+tcp is the independent witness, the guest's serial log proves continuity. */
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

#define N_HOSTS 3     /* the lab; the manifests name lab-a and lab-b */
#define TLS_HOSTS 2

static struct fx fx;        /* Hosts with the lab's client certificate */
static struct fx fx_bad;    /* Hosts with a client certificate from an unrelated CA */
static char untrusted[400]; /* that client's pkipath directory, inside fx_bad.dir */

static const char *const guests[] = {"tls-mig", "tls-keep"};

/* Host i's qemu+tls URI with the client certificates in @pkipath. */
static void tls_uri(int i, const char *pkipath, char *buf, size_t size)
{
	snprintf(buf, size, "qemu+tls://%s/system?pkipath=%s", lab_host_addr(i), pkipath);
}

static void lab_pkipath(char *buf, size_t size)
{
	snprintf(buf, size, "%s/pki/client", lab_dir());
}

/* Writes @f's manifests/hosts.yaml: lab-a and lab-b over qemu+tls with @pkipath. */
static int write_tls_hosts(struct fx *f, const char *pkipath)
{
	char text[2048], uri[512];
	size_t len = 0;

	for (int i = 0; i < TLS_HOSTS && len < sizeof(text); i++) {
		tls_uri(i, pkipath, uri, sizeof(uri));
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

/* `virsh -c URI version`: its exit status. */
static int virsh_version(const char *uri)
{
	const char *argv[] = {"virsh", "-c", uri, "version", NULL};
	return lab_run(argv, NULL, 0, 60);
}

static void test_tls_lab_client_certificate_opens_each_host(void **state)
{
	char pki[400], uri[512];
	(void)state;

	lab_pkipath(pki, sizeof(pki));
	for (int i = 0; i < TLS_HOSTS; i++) {
		tls_uri(i, pki, uri, sizeof(uri));
		assert_int_equal(virsh_version(uri), 0);
	}
}

static void test_apply_over_tls_starts_then_live_migrates_when_pin_changes(void **state)
{
	char disk[512], serial[512], out[16384], rec[128], phase[64], cond[512];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;
	(void)state;

	assert_int_equal(lab_create_volume(0, "shared", "tls-mig.qcow2", 64, disk, sizeof(disk)), 0);
	write_vm(&fx, "tls-mig", "lab-a", disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_runs_only_on("tls-mig", 0);
	fx_condition(&fx, "hosts", "lab-a", "Reachable", cond, sizeof(cond));
	assert_string_equal(cond, "Connected: ");
	lab_serial_path("tls-mig", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);

	write_vm(&fx, "tls-mig", "lab-b", disk);
	assert_int_equal(fx_drover(&fx, "apply", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "spec.host changed: lab-a → lab-b"));
	sleep(2);
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	assert_runs_only_on("tls-mig", 1);
	lab_assert_live_move_intact("tls-mig", &res);
	assert_int_equal(res.banners, 1); /* never rebooted: it was a live move */
	fx_latest_migration(&fx, "tls-mig", rec, sizeof(rec));
	assert_true(rec[0]);
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Succeeded");
	fx_status(&fx, "migrations", rec, "status.mode", phase, sizeof(phase));
	assert_string_equal(phase, "PreCopy");
}

static void test_untrusted_ca_cannot_connect_and_changes_nothing(void **state)
{
	char disk[512], serial[512], uri[512], out[16384], cond[512], rec[128];
	struct guestlog_result res;
	(void)state;

	/* A VM running on lab-a, put there over trusted TLS. */
	assert_int_equal(lab_create_volume(0, "shared", "tls-keep.qcow2", 64, disk, sizeof(disk)), 0);
	write_vm(&fx, "tls-keep", "lab-a", disk);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	assert_runs_only_on("tls-keep", 0);
	lab_serial_path("tls-keep", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 3, 30000), 0);

	/* The same VM pinned to lab-b, seen by a client the hosts do not trust. */
	tls_uri(0, untrusted, uri, sizeof(uri));
	assert_int_not_equal(virsh_version(uri), 0);
	assert_int_equal(write_tls_hosts(&fx_bad, untrusted), 0);
	write_vm(&fx_bad, "tls-keep", "lab-b", disk);

	assert_int_not_equal(fx_drover_plan_all(&fx_bad, NULL, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "warning: host lab-a unreachable"));
	assert_non_null(strstr(out, "warning: host lab-b unreachable"));
	assert_non_null(strstr(out, "Plan: 0 to change, 1 blocked"));

	assert_int_equal(fx_drover(&fx_bad, "apply", out, sizeof(out)), 1);
	for (int i = 0; i < TLS_HOSTS; i++) {
		fx_condition(&fx_bad, "hosts", lab_host_name(i), "Reachable", cond, sizeof(cond));
		printf("  %s Reachable: %s\n", lab_host_name(i), cond);
		assert_non_null(strstr(cond, "Unreachable: "));
		assert_non_null(strstr(cond, "certificate"));
	}
	fx_latest_migration(&fx_bad, "tls-keep", rec, sizeof(rec));
	assert_string_equal(rec, "");
	assert_runs_only_on("tls-keep", 0);
	assert_int_equal(guestlog_analyze_file(serial, &res), 0);
	assert_int_equal(res.banners, 1);
	assert_int_equal(res.max_corrupt, 0);
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
	fx_cleanup(&fx); /* fx_bad's takes the untrusted certificates with it */
	fx_cleanup(&fx_bad);
	return 0;
}

/* The lab, both working directories and the untrusted client certificate (a CA of
 * its own, made by hack/lab). Returns 0, or -1 after undoing what it made. */
static int group_setup(void **state)
{
	char pki[400];

	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_init(&fx_bad) < 0)
		goto fail;
	lab_pkipath(pki, sizeof(pki));
	if (write_tls_hosts(&fx, pki) < 0)
		goto fail;
	snprintf(untrusted, sizeof(untrusted), "%s/untrusted-pki", fx_bad.dir);
	const char *argv[] = {"bash", "hack/lab", "untrusted-pki", untrusted, NULL};
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
		cmocka_unit_test(test_tls_lab_client_certificate_opens_each_host),
		cmocka_unit_test(test_apply_over_tls_starts_then_live_migrates_when_pin_changes),
		cmocka_unit_test(test_untrusted_ca_cannot_connect_and_changes_nothing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
