/* test_behind: changes made behind `drover run`'s back are seen by its next pass, although
 * it reads a domain's definition again only when libvirt's events say it may have changed:
 * a definition replaced by `virsh define` of an edited XML (drover's ownership element
 * taken out: drover adopts the domain again, writing it back), a domain undefined (drover
 * defines and starts it again), a guest killed (restarted). And a change made while drover's
 * connection to the host is lost (link cut, the change made from inside the host) is seen
 * once it reconnects: a new connection reads the host in full. The first changes are made
 * while drover's passes are quiet (they only observe, nothing having changed since the last
 * full pass), and so is, last, an edit of the VM's manifest, which its next pass loads. */
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

#include "reconcile/inventory.h"
#include "tests/lab/drover_fixture.h"

#define N_HOSTS 2
#define HOST 1              /* lab-b: where the VM is pinned */
#define OTHER 0             /* lab-a: no VM of this suite runs there */
#define VM "bh-1"
#define REACT_S 90          /* every wait below is bounded by this */
#define QUIET_S 150         /* but the wait for a quiet pass, by this */
/* drover's resync, short: a quiet pass comes at the second resync after the last change.
 * Changes behind its back must still be seen through events and the reconnect's full read
 * (a resync takes definitions from the cache those keep). */
#define RESYNC_S "5"

static struct fx fx;
static int drover_pid = -1;
static char disk[512];

static bool has_owner(void)
{
	return lab_owned_by_drover(HOST, VM);
}

/* Prints how libvirt sees the VM on HOST: state, and the owner in each definition. */
static void say_state(void)
{
	virConnectPtr conn = lab_connect(HOST);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, VM) : NULL;
	int state = -1, reason = -1;
	char *cfg = NULL, *live = NULL;

	if (dom) {
		virDomainGetState(dom, &state, &reason, 0);
		cfg = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, INV_METADATA_URI,
					   VIR_DOMAIN_AFFECT_CONFIG);
		live = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, INV_METADATA_URI,
					    VIR_DOMAIN_AFFECT_LIVE);
	}
	char placed[512];
	fx_condition(&fx, "virtualmachines", VM, "Placed", placed, sizeof(placed));
	printf("  %s on lab-b: %s, state %d/%d, persistent %d, owner in config: %s, live: %s; "
	       "drover says: %s\n", VM, dom ? "found" : "not found", state, reason,
	       dom ? virDomainIsPersistent(dom) : -1, cfg ? cfg : "none", live ? live : "none",
	       placed);
	fflush(stdout);
	free(cfg);
	free(live);
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
}

static bool runs_on_host(void)
{
	return lab_runs_only_on(VM, HOST, N_HOSTS);
}

static void say_state(void);

/* Waits until @cond holds, @max_s at most; returns seconds waited, or -1. Says what it
 * sees every 10 s. */
static int wait_for_s(bool (*cond)(void), int max_s)
{
	for (int tenth = 0; tenth < max_s * 10; tenth++, usleep(100000)) {
		if (cond())
			return tenth / 10;
		if (tenth % 100 == 99)
			say_state();
	}
	return -1;
}

static int wait_for(bool (*cond)(void))
{
	return wait_for_s(cond, REACT_S);
}

static bool owned_and_running(void)
{
	return has_owner() && runs_on_host();
}

static char log_path[400];
static long idle_from;        /* drover's log from this offset on */

/* The size of drover's log now: where lines written from now on start. */
static long log_end(void)
{
	FILE *f = fopen(log_path, "r");
	long end = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;

	if (f)
		fclose(f);
	return end;
}

/* True once drover's log, from idle_from on, has a pass whose line holds @what. */
static bool pass_logged(const char *what)
{
	FILE *f = fopen(log_path, "r");
	char line[2048];
	bool seen = false;

	if (!f)
		return false;
	if (fseek(f, idle_from, SEEK_SET) == 0)
		while (!seen && fgets(line, sizeof(line), f))
			seen = strstr(line, "msg=\"reconciled\"") && strstr(line, what);
	fclose(f);
	return seen;
}

/* A pass that ran no job: every job begun before idle_from has ended, so none is in
 * flight on the host's connection. */
static bool drover_idle(void)
{
	return pass_logged(" running=0 ");
}

/* A quiet pass: one that only observed, the last full pass having planned nothing new. */
static bool drover_quiet(void)
{
	return pass_logged(" quiet=true");
}

/* Waits until drover has no job left (one begun for the change just seen may still be
 * verifying it): the next test's fault must not land in it. A define+start whose guest
 * dies while it is verified undefines the domain again (nothing half-made), which is not
 * this test's subject. */
static void wait_drover_idle(void)
{
	idle_from = log_end();
	assert_true(idle_from >= 0);
	int waited = wait_for(drover_idle);
	printf("  drover idle after %d s more\n", waited);
	assert_true(waited >= 0);
}

/* Writes @text to @path (replacing it), or fails the test. */
static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Writes VM's persistent definition on HOST, without drover's <metadata>, to @path. */
static void write_unowned_xml(const char *path)
{
	virConnectPtr conn = lab_connect(HOST);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, VM) : NULL;
	char *xml = dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE) : NULL;

	assert_non_null(xml);
	char *start = strstr(xml, "<metadata>"), *end = strstr(xml, "</metadata>");
	assert_non_null(start);
	assert_non_null(end);
	end += strlen("</metadata>");
	memmove(start, end, strlen(end) + 1);
	write_text(path, xml);
	free(xml);
	virDomainFree(dom);
	virConnectClose(conn);
}

static void virsh(const char *verb, const char *arg)
{
	const char *argv[] = {"virsh", "-q", "-c", lab_host_uri(HOST), verb, arg, NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 60), 0);
}

static void lab_on(int host, const char *verb)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(host), NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 120), 0);
}

static void lab(const char *verb)
{
	lab_on(HOST, verb);
}

static void test_behind_vm_starts(void **state)
{
	struct fx_vm vm = {.name = VM, .host = "lab-b", .memory = "32Mi", .disk = disk};
	(void)state;

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
	int waited = wait_for(owned_and_running);
	printf("  running on lab-b, owned, after %d s\n", waited);
	assert_true(waited >= 0);
}

/* With nothing changing, drover's passes go quiet (they observe, and plan nothing): the
 * changes the tests below make behind its back are seen by a quiet controller. */
static void test_behind_goes_quiet_while_nothing_changes(void **state)
{
	(void)state;

	idle_from = log_end();
	assert_true(idle_from >= 0);
	/* A full pass that changes nothing, then a quiet one: two resyncs at most. */
	int waited = wait_for_s(drover_quiet, QUIET_S);
	printf("  a quiet pass after %d s\n", waited);
	assert_true(waited >= 0);
}

static bool tier_is(const char *want)
{
	char tier[64];
	return fx_status(&fx, "virtualmachines", VM, "metadata.labels.tier", tier,
			 sizeof(tier)) == 0 && !strcmp(tier, want);
}

static bool labelled(void)
{
	return tier_is("quiet");
}

/* A manifest edited while drover is quiet is loaded by its next pass: its record takes the
 * new label. */
static void test_behind_sees_a_manifest_edited_while_quiet(void **state)
{
	struct fx_vm vm = {.name = VM, .host = "lab-b", .memory = "32Mi", .disk = disk,
			   .labels = "tier: quiet"};

	test_behind_goes_quiet_while_nothing_changes(state);
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
	int waited = wait_for(labelled);
	printf("  the new label in drover's record after %d s\n", waited);
	assert_true(waited >= 0);
	assert_true(owned_and_running());
}

static void test_behind_sees_a_definition_edited_by_virsh_define(void **state)
{
	char path[400];
	(void)state;

	snprintf(path, sizeof(path), "%s/edited.xml", fx.dir);
	write_unowned_xml(path);
	virsh("define", path);
	say_state();
	int waited = wait_for(owned_and_running);
	printf("  ownership written back after %d s\n", waited);
	assert_true(waited >= 0);
}

static void test_behind_sees_a_domain_undefined(void **state)
{
	(void)state;
	/* Undefined while it runs (a transient guest now), then stopped: gone. Drover may act
	 * between the two; either way it ends defined and running again. */
	virsh("undefine", VM);
	virsh("destroy", VM);
	int waited = wait_for(owned_and_running);
	printf("  defined and running again after %d s\n", waited);
	assert_true(waited >= 0);
	wait_drover_idle();
}

/* The pid of VM's QEMU on HOST, from libvirt's pid file in the host's private /run. */
static long qemu_pid(void)
{
	char path[512], buf[32] = "";
	snprintf(path, sizeof(path), "%s/hosts/%s/run/qemu/%s.pid", lab_dir(), lab_host_name(HOST),
		 VM);
	FILE *f = fopen(path, "r");
	if (f && !fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	if (f)
		fclose(f);
	return strtol(buf, NULL, 10);
}

static long killed_pid;

static bool restarted(void)
{
	long pid = qemu_pid();
	return pid > 0 && pid != killed_pid && runs_on_host();
}

static void test_behind_sees_a_guest_killed(void **state)
{
	char pid[32];
	(void)state;

	killed_pid = qemu_pid();
	assert_true(killed_pid > 0);
	snprintf(pid, sizeof(pid), "%ld", killed_pid);
	const char *argv[] = {"kill", "-KILL", pid, NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 10), 0);
	int waited = wait_for(restarted);
	printf("  QEMU %ld killed, a new one runs after %d s\n", killed_pid, waited);
	assert_true(waited >= 0);
	/* The next test cuts the host's link: the start's job must not be caught in the cut
	 * (what a job does when its host goes away is not this test's subject). */
	wait_drover_idle();
}

static bool host_unreachable(void)
{
	char cond[512];
	fx_condition(&fx, "hosts", lab_host_name(HOST), "Reachable", cond, sizeof(cond));
	return !strncmp(cond, "Unreachable", 11);
}

static void test_behind_lost_connection_resyncs_the_host(void **state)
{
	char path[400], ns[64];
	(void)state;

	snprintf(path, sizeof(path), "%s/edited-offline.xml", fx.dir);
	write_unowned_xml(path);
	lab("link-down");
	int lost = wait_for(host_unreachable);
	printf("  drover saw lab-b unreachable after %d s\n", lost);
	if (lost < 0)
		lab("link-up");
	assert_true(lost >= 0);
	/* From inside the host: drover's connection is gone, its events with it. */
	snprintf(ns, sizeof(ns), "drover-%s", lab_host_name(HOST));
	const char *argv[] = {"ip", "netns", "exec", ns, "virsh", "-q", "-c", lab_host_uri(HOST),
			      "define", path, NULL};
	int rc = lab_run(argv, NULL, 0, 60);
	lab("link-up");
	assert_int_equal(rc, 0);
	int waited = wait_for(owned_and_running);
	printf("  ownership written back after %d s once the link was up\n", waited);
	assert_true(waited >= 0);
}

/* Defines and undefines a throwaway domain on HOST a few times: lifecycle events that
 * drover hears from a host it still has. */
static void stir_events(void)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/noise.xml", fx.dir);
	write_text(path, "<domain type='qemu'><name>bh-noise</name><memory>16384</memory>"
			 "<os><type>hvm</type></os></domain>\n");
	for (int i = 0; i < 3; i++) {
		virsh("define", path);
		virsh("undefine", "bh-noise");
	}
}

static bool relabelled(void)
{
	return tier_is("let-go");
}

/* A Host dropped from the manifests while cut off is let go without holding drover up.
 * Closing its connection waits on RPCs until keepalive gives up, and keepalive runs in
 * libvirt's event thread; while it waited, an event from another host once found the
 * connection pool locked, stopped that thread, and drover froze until TCP gave up. */
static void test_behind_lets_go_of_a_host_dropped_while_cut_off(void **state)
{
	struct fx_vm vm = {.name = VM, .host = "lab-b", .memory = "32Mi", .disk = disk,
			   .labels = "tier: let-go"};
	(void)state;

	wait_drover_idle();
	lab_on(OTHER, "link-down");
	int rc = fx_write_hosts_but(&fx, N_HOSTS, "0", OTHER);
	if (rc == 0) {
		stir_events();
		rc = fx_write_vm(&fx, &vm);
	}
	int waited = rc == 0 ? wait_for(relabelled) : -1;
	printf("  a pass after lab-a was dropped cut off, %d s later\n", waited);
	lab_on(OTHER, "link-up");
	assert_int_equal(rc, 0);
	assert_int_equal(fx_write_hosts(&fx, N_HOSTS, "0"), 0);
	assert_true(waited >= 0);
}

/* SIGTERM while a host is cut off: drover exits 0. Stopping closes every connection; the
 * cut-off host's waits on its RPCs until keepalive gives up, and libvirt then calls the
 * close callback, which once found the other host already cleared and crashed (the
 * soak's seed 20261206: a link down, then SIGTERM). */
static void test_behind_stops_cleanly_while_a_host_is_cut_off(void **state)
{
	(void)state;

	wait_drover_idle();
	lab("link-down");
	sleep(2);
	int rc = lab_stop(drover_pid, 60);
	drover_pid = -1;
	lab("link-up");
	printf("  drover stopped with status %d\n", rc);
	assert_int_equal(rc, 0);
}

static int group_setup(void **state)
{
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0 || fx_write_hosts(&fx, N_HOSTS, "0") < 0)
		return -1;
	lab_cleanup_guest(VM, VM ".qcow2");
	if (lab_create_volume(0, "shared", VM ".qcow2", 32, disk, sizeof(disk)) < 0)
		return -1;
	snprintf(log_path, sizeof(log_path), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", "off", "--resync", RESYNC_S,
			      NULL};
	drover_pid = lab_spawn(argv, log_path);
	return drover_pid > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char log[400], out[16384];
	(void)state;
	lab_stop(drover_pid, 10);
	const char *up[] = {"bash", "hack/lab", "link-up", lab_host_name(HOST), NULL};
	lab_run(up, NULL, 0, 60);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *cat[] = {"tail", "-n", "60", log, NULL};
	if (lab_run(cat, out, sizeof(out), 10) == 0)
		printf("---- drover run log (tail) ----\n%s", out);
	lab_cleanup_guest(VM, VM ".qcow2");
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_behind_vm_starts),
		cmocka_unit_test(test_behind_goes_quiet_while_nothing_changes),
		cmocka_unit_test(test_behind_sees_a_definition_edited_by_virsh_define),
		cmocka_unit_test(test_behind_sees_a_domain_undefined),
		cmocka_unit_test(test_behind_sees_a_guest_killed),
		cmocka_unit_test(test_behind_lost_connection_resyncs_the_host),
		cmocka_unit_test(test_behind_sees_a_manifest_edited_while_quiet),
		cmocka_unit_test(test_behind_lets_go_of_a_host_dropped_while_cut_off),
		cmocka_unit_test(test_behind_stops_cleanly_while_a_host_is_cut_off),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
