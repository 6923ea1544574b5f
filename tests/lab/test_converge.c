/* test_converge: a guest that dirties memory faster than the migration link can copy
 * it. Plain pre-copy (what `virsh migrate --live --bandwidth` does) does not finish;
 * drover's escalation (auto-converge, then raising the maximum downtime) completes
 * the move with the guest intact. */
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
#include <libvirt/libvirt.h>

#include "tests/lab/drover_fixture.h"
#include "tests/lab/guestlog.h"

#define N_HOSTS 3
#define BANDWIDTH_MIBPS 20
#define PLAIN_BUDGET_S 15

static struct fx fx;

/* The hot guest, pinned to @host. @policy is its migrationPolicy (flow mapping). */
static void write_hot_vm_policy(const char *host, const char *policy)
{
	char disk[512], extra[256];
	struct fx_vm vm = {.name = "cv-hot", .host = host, .spec_extra = extra, .memory = "96Mi",
			   .cmdline = "dirty_mib=48 rate_mibps=0", .disk = disk, .serial = true};

	snprintf(disk, sizeof(disk), "%s/shared/cv-hot.qcow2", lab_dir());
	snprintf(extra, sizeof(extra), "  migrationPolicy: %s\n", policy);
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

static void write_hot_vm(const char *host)
{
	char policy[160];
	snprintf(policy, sizeof(policy),
		 "{bandwidthMiBps: %d, allowAutoConverge: true, progressTimeoutSeconds: 20}",
		 BANDWIDTH_MIBPS);
	write_hot_vm_policy(host, policy);
}

/* The way operators script it: one live pre-copy migration at the same bandwidth,
 * given PLAIN_BUDGET_S seconds, then aborted. Returns true when it finished. */
static bool plain_precopy_finishes(void)
{
	virConnectPtr conn = lab_connect(0);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, "cv-hot") : NULL;
	virDomainJobInfo info;
	char bw[16], budget[16], uri[64];
	bool finished = false;

	assert_non_null(dom);
	snprintf(bw, sizeof(bw), "%d", BANDWIDTH_MIBPS);
	snprintf(budget, sizeof(budget), "%d", PLAIN_BUDGET_S);
	snprintf(uri, sizeof(uri), "tcp://%s", lab_host_addr(1));
	/* virsh runs the migration; the test watches libvirt's job and aborts it. */
	const char *argv[] = {"timeout", budget, "virsh", "-c", lab_host_uri(0), "migrate", "--live",
			      "--p2p", "--persistent", "--undefinesource", "--unsafe", "--bandwidth",
			      bw, "cv-hot", lab_host_uri(1), uri, NULL};
	finished = lab_run(argv, NULL, 0, PLAIN_BUDGET_S + 10) == 0;
	if (!finished) {
		virDomainAbortJob(dom);
		for (int i = 0; i < 50; i++) {   /* wait for the abort to land, 10 s at most */
			if (virDomainGetJobInfo(dom, &info) == 0 && info.type == VIR_DOMAIN_JOB_NONE)
				break;
			usleep(200000);
		}
	}
	virDomainFree(dom);
	virConnectClose(conn);
	return finished;
}

static void test_hot_guest_needs_drover_escalation_to_move(void **state)
{
	char disk[512], serial[512], rec[128], phase[64];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;
	(void)state;

	assert_int_equal(lab_create_volume(0, "shared", "cv-hot.qcow2", 64, disk, sizeof(disk)), 0);
	write_hot_vm("lab-a");
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	lab_serial_path("cv-hot", serial, sizeof(serial));
	assert_int_equal(guestlog_wait_heartbeats(serial, 5, 30000), 0);
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);

	assert_false(plain_precopy_finishes());
	char st[64];
	lab_dom_state(0, "cv-hot", st, sizeof(st));
	assert_string_equal(st, "running"); /* still on its source after the abort */

	write_hot_vm("lab-b");
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	sleep(2);
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	lab_dom_state(1, "cv-hot", st, sizeof(st));
	assert_string_equal(st, "running");
	assert_int_equal(lab_count_defined("cv-hot", N_HOSTS), 1);
	printf("  cv-hot: %llu heartbeats, max gap %ld ms, corrupt %llu\n",
	       (unsigned long long)res.heartbeats, res.max_gap_ms,
	       (unsigned long long)res.max_corrupt);
	assert_int_equal(res.max_corrupt, 0);
	assert_int_equal(res.regressions, 0);
	assert_int_equal(res.banners, 1);
	fx_latest_migration(&fx, "cv-hot", rec, sizeof(rec));
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	assert_string_equal(phase, "Succeeded");
}

static void test_hot_guest_moves_by_switching_to_postcopy_when_allowed(void **state)
{
	char rec[128], phase[64], mode[64], serial[512];
	struct guestlog_watch *watch = NULL;
	struct guestlog_result res;
	(void)state;

	/* cv-hot runs on lab-b after the test before. No auto-converge this time: the
	 * downtime raises cannot catch up with it, so the ladder ends in post-copy. */
	char policy[200];
	snprintf(policy, sizeof(policy),
		 "{bandwidthMiBps: %d, allowAutoConverge: false, allowPostCopy: true, "
		 "progressTimeoutSeconds: 10}", BANDWIDTH_MIBPS / 2);
	lab_serial_path("cv-hot", serial, sizeof(serial));
	assert_int_equal(guestlog_follow_start(serial, &watch), 0);
	write_hot_vm_policy("lab-c", policy);
	assert_int_equal(fx_drover(&fx, "apply", NULL, 0), 0);
	sleep(2);
	assert_int_equal(guestlog_follow_stop(watch, &res), 0);
	char st[64];
	lab_dom_state(2, "cv-hot", st, sizeof(st));
	assert_string_equal(st, "running");
	assert_int_equal(lab_count_defined("cv-hot", N_HOSTS), 1);
	fx_latest_migration(&fx, "cv-hot", rec, sizeof(rec));
	fx_status(&fx, "migrations", rec, "status.phase", phase, sizeof(phase));
	fx_status(&fx, "migrations", rec, "status.mode", mode, sizeof(mode));
	printf("  cv-hot: %s in %s, max gap %ld ms, corrupt %llu\n", phase, mode, res.max_gap_ms,
	       (unsigned long long)res.max_corrupt);
	assert_string_equal(phase, "Succeeded");
	assert_string_equal(mode, "PostCopy");
	assert_int_equal(res.max_corrupt, 0);   /* pages fetched on demand arrived intact */
	assert_int_equal(res.regressions, 0);
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	lab_cleanup_guest("cv-hot", "cv-hot.qcow2");
	return 0;
}

static int group_teardown(void **state)
{
	char serial[512];
	(void)state;
	lab_cleanup_guest("cv-hot", "cv-hot.qcow2");
	lab_serial_path("cv-hot", serial, sizeof(serial));
	unlink(serial);
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_guest_needs_drover_escalation_to_move),
		cmocka_unit_test(test_hot_guest_moves_by_switching_to_postcopy_when_allowed),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
