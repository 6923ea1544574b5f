/* test_lab: the lab itself — hosts up and distinct, and real running guests
 * live-migrated between them with plain libvirt calls (no drover involved). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "tests/lab/guestlog.h"
#include "tests/lab/lab.h"
#include "tests/lab/lab_assert.h"

#define N_HOSTS 3

/* Extracts the text of the first <uuid> inside <host> of capabilities XML. */
static void host_uuid(const char *caps, char *uuid, size_t size)
{
	const char *host = strstr(caps, "<host>");
	const char *start = host ? strstr(host, "<uuid>") : NULL;
	const char *end = start ? strstr(start, "</uuid>") : NULL;

	uuid[0] = '\0';
	if (start && end && (size_t)(end - start - 6) < size)
		snprintf(uuid, size, "%.*s", (int)(end - start - 6), start + 6);
}

static void test_lab_hosts_reachable_with_distinct_uuids(void **state)
{
	char uuids[N_HOSTS][64];
	(void)state;

	for (int i = 0; i < N_HOSTS; i++) {
		const char *argv[] = {"virsh", "-c", lab_host_uri(i), "list", NULL};
		assert_int_equal(lab_run(argv, NULL, 0, 30), 0);

		virConnectPtr conn = lab_connect(i);
		assert_non_null(conn);
		char *caps = virConnectGetCapabilities(conn);
		assert_non_null(caps);
		host_uuid(caps, uuids[i], sizeof(uuids[i]));
		free(caps);
		virConnectClose(conn);
		assert_int_equal(strlen(uuids[i]), 36);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(uuids[i], uuids[j]);
	}
}

/* Live-migrates NAME from host SRC to DST the way an operator's script would,
 * with EXTRA_FLAGS for the storage kind. Returns libvirt's result. */
static int migrate_live(int src, int dst, const char *name, unsigned long extra_flags)
{
	virConnectPtr conn = lab_connect(src);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
	virTypedParameterPtr params = NULL;
	int nparams = 0, maxparams = 0, rc = -1;
	char uri[64];

	snprintf(uri, sizeof(uri), "tcp://%s", lab_host_addr(dst));
	if (dom && virTypedParamsAddString(&params, &nparams, &maxparams,
					   VIR_MIGRATE_PARAM_URI, uri) == 0)
		rc = virDomainMigrateToURI3(dom, lab_host_uri(dst), params, nparams,
					    VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER |
						    VIR_MIGRATE_PERSIST_DEST |
						    VIR_MIGRATE_UNDEFINE_SOURCE | extra_flags);
	if (rc < 0)
		fprintf(stderr, "migrate %s: %s\n", name, virGetLastErrorMessage());
	virTypedParamsFree(params, nparams);
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
	return rc;
}

static void start_guest(int host, const struct lab_guest *g)
{
	char *xml = lab_guest_xml(g);
	assert_non_null(xml);
	virConnectPtr conn = lab_connect(host);
	assert_non_null(conn);
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	free(xml);
	if (!dom || virDomainCreate(dom) < 0)
		fail_msg("start %s on %s: %s", g->name, lab_host_name(host), virGetLastErrorMessage());
	virDomainFree(dom);
	virConnectClose(conn);
}

/* Starts guest NAME on lab-a with its disk in POOL, live-migrates it to lab-b while
 * following its serial log, and checks it runs on lab-b only, intact, without a
 * heartbeat gap over LAB_MAX_GAP_MS. */
static void check_live_move(const char *name, const char *pool, unsigned long flags)
{
	char disk[512], serial[512], volume[80];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;

	snprintf(volume, sizeof(volume), "%s.qcow2", name);
	lab_serial_path(name, serial, sizeof(serial));
	lab_cleanup_guest(name, volume);
	unlink(serial);
	assert_int_equal(lab_create_volume(0, pool, volume, 64, disk, sizeof(disk)), 0);

	struct lab_guest g = {.name = name, .memory_mib = 64, .disk_path = disk,
			      .serial_path = serial, .cmdline = "dirty_mib=8 rate_mibps=4"};
	start_guest(0, &g);
	assert_int_equal(guestlog_wait_heartbeats(serial, 5, 30000), 0);
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);

	assert_int_equal(migrate_live(0, 1, name, flags), 0);

	/* Let the guest run on the target long enough to show it goes on. */
	sleep(3);
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	assert_int_equal(lab_count_running(name, N_HOSTS), 1);
	char st[64];
	lab_dom_state(1, name, st, sizeof(st));
	assert_string_equal(st, "running");
	assert_int_equal(lab_count_defined(name, N_HOSTS), 1);
	lab_assert_live_move_intact(name, &res);
	lab_cleanup_guest(name, volume);
	unlink(serial);
}

static void test_guest_live_migrates_on_shared_storage(void **state)
{
	(void)state;
	/* UNSAFE: libvirt only trusts storage it recognises as shared (NFS, GFS2, ...) by
	 * the file system type; the lab's shared directory is a plain directory, so
	 * libvirt cannot tell, and refuses a live migration without this flag. */
	check_live_move("lab-shared-1", "shared", VIR_MIGRATE_UNSAFE);
}

static void test_guest_live_migrates_with_local_disk_copy(void **state)
{
	(void)state;
	/* The disk is in lab-a's own pool; libvirt pre-creates it in lab-b's pool
	 * (same path) and mirrors it while memory is copied. */
	check_live_move("lab-local-1", "local", VIR_MIGRATE_NON_SHARED_DISK);
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0) {
		fprintf(stderr, "hack/lab up failed\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	lab_cleanup_guest("lab-shared-1", "lab-shared-1.qcow2");
	lab_cleanup_guest("lab-local-1", "lab-local-1.qcow2");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_hosts_reachable_with_distinct_uuids),
		cmocka_unit_test(test_guest_live_migrates_on_shared_storage),
		cmocka_unit_test(test_guest_live_migrates_with_local_disk_copy),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
