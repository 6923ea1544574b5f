/* test_drain: draining a host under `drover run --dir`. Four guests on lab-a (shared
 * and local storage; LiveMigrate, LiveMigrateIfPossible, None): an undrain mid-way
 * stops new moves (the one under way finishes); a drain moves every VM that may leave,
 * intact, and reports the one that may not. */
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

#define N_HOSTS 3
#define REACT_S 120  /* every wait below is bounded by this */

struct guest {
	const char *name, *storage, *eviction;
	bool movable;
	char disk[512];
};

static struct guest guests[] = {
	{"dr-1", "shared", "LiveMigrate", true, ""},
	{"dr-2", "local", "LiveMigrateIfPossible", true, ""},
	{"dr-3", "shared", "None", false, ""},
	{"dr-4", "shared", "LiveMigrate", true, ""},
};
#define N_GUESTS (sizeof(guests) / sizeof(guests[0]))

static struct fx fx;
static int drover_pid = -1;

static void write_hosts(bool drain_a)
{
	char text[2048];
	size_t len = 0;

	for (int i = 0; i < N_HOSTS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"---\napiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: %s}\n"
					"spec: {uri: \"%s\", migrationAddress: %s, drain: %s}\n",
					lab_host_name(i), lab_host_uri(i), lab_host_addr(i),
					i == 0 && drain_a ? "true" : "false");
	assert_int_equal(fx_write(&fx, "hosts.yaml", text), 0);
}

static void write_vm(const struct guest *g, bool pinned)
{
	char eviction[80];
	struct fx_vm vm = {.name = g->name, .host = pinned ? "lab-a" : NULL, .storage = g->storage,
			   .spec_extra = eviction, .memory = "32Mi",
			   .cmdline = "dirty_mib=2 rate_mibps=1", .disk = g->disk, .serial = true};

	snprintf(eviction, sizeof(eviction), "  evictionStrategy: %s\n", g->eviction);
	assert_int_equal(fx_write_vm(&fx, &vm), 0);
}

/* How many movable guests run somewhere other than lab-a (each on exactly one host). */
static int moved_off_a(void)
{
	int moved = 0;
	char st[64];

	for (size_t i = 0; i < N_GUESTS; i++) {
		if (!guests[i].movable)
			continue;
		lab_dom_state(0, guests[i].name, st, sizeof(st));
		moved += strcmp(st, "running") && lab_count_running(guests[i].name, N_HOSTS) == 1;
	}
	return moved;
}

static void assert_never_two_copies(void)
{
	for (size_t i = 0; i < N_GUESTS; i++)
		assert_true(lab_count_running(guests[i].name, N_HOSTS) <= 1);
}

static void test_undrain_midway_starts_no_new_move(void **state)
{
	int moved = 0;
	(void)state;

	write_hosts(true);
	for (int tenth = 0; tenth < REACT_S * 10 && moved == 0; tenth++, usleep(100000))
		moved = moved_off_a();
	assert_true(moved >= 1);
	write_hosts(false);
	/* Long enough for any move under way to end, and for new ones to show. */
	sleep(15);
	int after = moved_off_a();
	printf("  moved %d when undrained, %d after\n", moved, after);
	assert_true(after <= moved + 1);     /* only the move under way may have finished */
	assert_never_two_copies();
}

static void test_drain_moves_every_vm_that_may_leave(void **state)
{
	char msg[1024] = "", serial[512], st[64];
	int movable = 0;
	(void)state;

	for (size_t i = 0; i < N_GUESTS; i++)
		movable += guests[i].movable;
	write_hosts(true);
	for (int tenth = 0; tenth < REACT_S * 10 && moved_off_a() < movable; tenth++)
		usleep(100000);
	assert_int_equal(moved_off_a(), movable);
	assert_never_two_copies();
	lab_dom_state(0, "dr-3", st, sizeof(st));
	assert_string_equal(st, "running");          /* evictionStrategy None stays */
	for (int tenth = 0; tenth < 50 && !strstr(msg, "EvictionBlocked"); tenth++, usleep(100000))
		fx_condition(&fx, "virtualmachines", "dr-3", "Placed", msg, sizeof(msg));
	printf("  dr-3: Placed: %s\n", msg);
	assert_non_null(strstr(msg, "EvictionBlocked"));
	for (size_t i = 0; i < N_GUESTS; i++) {
		struct guestlog_result res;
		lab_serial_path(guests[i].name, serial, sizeof(serial));
		assert_int_equal(guestlog_analyze_file(serial, &res), 0);
		assert_int_equal(res.max_corrupt, 0);
		assert_int_equal(res.regressions, 0);
		assert_int_equal(res.banners, 1);       /* every move was live */
	}
	char sha[80];
	fx_host_file_sha(0, "images/dr-2.qcow2", sha, sizeof(sha));
	assert_false(sha[0]);                         /* the local disk left with its VM */
}

static void cleanup_guests(void)
{
	char vol[64], serial[512];
	for (size_t i = 0; i < N_GUESTS; i++) {
		snprintf(vol, sizeof(vol), "%s.qcow2", guests[i].name);
		lab_serial_path(guests[i].name, serial, sizeof(serial));
		lab_cleanup_guest(guests[i].name, vol);
		unlink(serial);
	}
}

static int group_setup(void **state)
{
	char log[400], vol[64];
	(void)state;
	if (lab_up(N_HOSTS) < 0 || fx_init(&fx) < 0)
		return -1;
	cleanup_guests();
	for (size_t i = 0; i < N_GUESTS; i++) {
		snprintf(vol, sizeof(vol), "%s.qcow2", guests[i].name);
		if (lab_create_volume(0, guests[i].storage, vol, 32, guests[i].disk,
				      sizeof(guests[i].disk)) < 0)
			return -1;
	}
	/* Pinned first so all four land on lab-a, then unpinned: they stay where they are
	 * until a drain moves them. */
	write_hosts(false);
	for (size_t i = 0; i < N_GUESTS; i++)
		write_vm(&guests[i], true);
	if (fx_drover(&fx, "apply", NULL, 0) != 0)
		return -1;
	for (size_t i = 0; i < N_GUESTS; i++)
		write_vm(&guests[i], false);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--max-outbound", "1", "--metrics-addr", "off", "--stop-timeout", "2",
			      NULL};
	drover_pid = lab_spawn(argv, log);
	return drover_pid > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char log[400], out[32768];
	(void)state;
	lab_stop(drover_pid, 30);
	snprintf(log, sizeof(log), "%s/drover-run.log", fx.dir);
	const char *cat[] = {"tail", "-n", "40", log, NULL};
	if (lab_run(cat, out, sizeof(out), 10) == 0)
		printf("---- drover run log (tail) ----\n%s", out);
	cleanup_guests();
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_undrain_midway_starts_no_new_move),
		cmocka_unit_test(test_drain_moves_every_vm_that_may_leave),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
