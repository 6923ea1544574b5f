/* Proves the drover test guest (hack/guest) and its log reader: boots the guest under plain QEMU
 * with TCG, follows its serial log with guestlog, and corrupts guest memory from outside through
 * QEMU's gdbstub to show that the guest's checker catches it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hack/guest/layout.h"
#include "tests/lab/guestlog.h"
#include "tests/lab/lab.h"

extern char **environ;

#define MAX_QEMU 4
#define GDB_REPLY_CAP 4096
#define GDB_IO_TIMEOUT_MS 3000

struct lab {
	char dir[64];
	char guest[PATH_MAX];
	char qemu[PATH_MAX];
	pid_t pids[MAX_QEMU];
	struct guestlog_watch *watch; /* the running follower, stopped by teardown after a failure */
};

static struct lab lab;

static void lab_path(char *out, size_t cap, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", lab.dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static double ts_seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Finds @name on $PATH. Returns 0 with @out filled, or -1. */
static int find_on_path(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	const char *p, *colon;
	int n;

	for (p = path ? path : "/usr/bin:/bin"; p && *p; p = colon ? colon + 1 : NULL) {
		colon = strchr(p, ':');
		n = snprintf(out, cap, "%.*s/%s", colon ? (int)(colon - p) : (int)strlen(p), p, name);
		if (n > 0 && (size_t)n < cap && access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* Stops the QEMU in slot @i: SIGTERM, then SIGKILL after two seconds. Can't fail. */
static void qemu_stop_slot(int i)
{
	pid_t pid = lab.pids[i];
	long deadline = now_ms() + 2000;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		sleep_ms(20);
	}
	lab.pids[i] = 0;
}

static void qemu_stop(pid_t pid)
{
	int i;

	for (i = 0; i < MAX_QEMU; i++)
		if (lab.pids[i] == pid)
			qemu_stop_slot(i);
}

/* Boots the guest with kernel command line @append, serial log at @log, and @gdb_sock (may be NULL)
 * as a gdbstub socket. Returns the QEMU pid; the group teardown kills it if the test does not. */
static pid_t qemu_start(const char *append, const char *log, const char *gdb_sock)
{
	char serial[PATH_MAX + 8], gdb[PATH_MAX + 32], err[PATH_MAX];
	const char *argv[32];
	int n = 0, slot, fd_in, fd_err;
	pid_t pid;

	for (slot = 0; slot < MAX_QEMU && lab.pids[slot] > 0; slot++)
		;
	assert_true(slot < MAX_QEMU);
	assert_true(snprintf(serial, sizeof(serial), "file:%s", log) < (int)sizeof(serial));
	argv[n++] = lab.qemu;
	argv[n++] = "-machine";
	argv[n++] = "pc";
	argv[n++] = "-accel";
	argv[n++] = "tcg";
	argv[n++] = "-m";
	argv[n++] = "64";
	argv[n++] = "-kernel";
	argv[n++] = lab.guest;
	argv[n++] = "-append";
	argv[n++] = append;
	argv[n++] = "-serial";
	argv[n++] = serial;
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-nodefaults";
	argv[n++] = "-no-reboot";
	if (gdb_sock) {
		assert_true(snprintf(gdb, sizeof(gdb), "unix:%s,server=on,wait=off", gdb_sock) <
			    (int)sizeof(gdb));
		argv[n++] = "-gdb";
		argv[n++] = gdb;
	}
	argv[n] = NULL;
	lab_path(err, sizeof(err), "qemu.err");
	/* Opened before fork: the child only dup2s and execs, which is safe next to the follower
	 * thread. */
	fd_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd_err = open(err, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(fd_in >= 0 && fd_err >= 0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* no QEMU outlives a crashed test */
		if (dup2(fd_in, 0) < 0 || dup2(fd_err, 1) < 0 || dup2(fd_err, 2) < 0)
			_exit(126);
		execve(lab.qemu, (char *const *)argv, environ);
		_exit(127);
	}
	close(fd_in);
	close(fd_err);
	assert_true(pid > 0);
	lab.pids[slot] = pid;
	return pid;
}

static struct guestlog_watch *follow(const char *log)
{
	assert_null(lab.watch);
	assert_int_equal(guestlog_follow_start(log, &lab.watch), 0);
	return lab.watch;
}

static int unfollow(struct guestlog_result *r)
{
	struct guestlog_watch *w = lab.watch;

	lab.watch = NULL;
	return guestlog_follow_stop(w, r);
}

/* Waits until the follower has seen @n heartbeats (or, with @corrupt > 0, a corrupt= of at least
 * @corrupt), for at most @timeout_ms. Returns the last snapshot in @r. */
static void wait_watch(struct guestlog_watch *w, uint64_t n, uint64_t corrupt, long timeout_ms,
		       struct guestlog_result *r)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		guestlog_follow_peek(w, r);
		if (r->heartbeats >= n && r->max_corrupt >= corrupt)
			return;
		if (now_ms() > deadline)
			return;
		sleep_ms(GUESTLOG_POLL_MS);
	}
}

static void assert_steady(const struct guestlog_result *r, uint64_t min_heartbeats)
{
	assert_true(r->banner_seen);
	assert_int_equal(r->banners, 1);
	assert_true(r->heartbeats >= min_heartbeats);
	assert_int_equal(r->regressions, 0);
	/* Strictly increasing by one: nothing lost or repeated on the serial line. */
	assert_int_equal(r->last_counter - r->first_counter + 1, r->heartbeats);
	assert_true(r->max_gap_ms > 0 && r->max_gap_ms <= 2000);
	assert_int_equal(r->lines_skipped, 0);
}

static void test_guest_heartbeats_steadily_and_dirties_at_the_asked_rate(void **state)
{
	struct guestlog_watch *w;
	struct guestlog_result r, after;
	char log[PATH_MAX];
	double secs, rate;
	pid_t pid;

	(void)state;
	lab_path(log, sizeof(log), "paced.log");
	/* Follow before QEMU creates the file: the reader must wait for it. */
	w = follow(log);
	pid = qemu_start("dirty_mib=8 rate_mibps=4 hz=10", log, NULL);
	wait_watch(w, 45, 0, 20000, &r);
	qemu_stop(pid);
	assert_int_equal(unfollow(&r), 0);

	assert_steady(&r, 20);
	assert_int_equal(r.banner_mem_mib, 64);
	assert_int_equal(r.banner_dirty_mib, 8);
	assert_int_equal(r.banner_rate_mibps, 4);
	assert_int_equal(r.banner_hz, 10);
	assert_int_equal(r.max_corrupt, 0);
	assert_true(r.last_pass >= 1); /* at least one pass was verified */
	secs = ts_seconds(&r.last_heartbeat, &r.first_heartbeat);
	assert_true(secs > 2.0);
	rate = (double)(r.last_dirtied_mib - r.first_dirtied_mib) / secs;
	print_message("paced guest: %llu heartbeats over %.2f s, max gap %ld ms, %.2f MiB/s (asked 4)\n",
		      (unsigned long long)r.heartbeats, secs, r.max_gap_ms, rate);
	assert_true(rate >= 2.0 && rate <= 8.0);

	/* The untimed reader agrees with the live one on the finished file. */
	assert_int_equal(guestlog_analyze_file(log, &after), 0);
	assert_int_equal(after.heartbeats, r.heartbeats);
	assert_int_equal(after.last_counter, r.last_counter);
	assert_int_equal(after.max_gap_ms, 0);
	assert_true(after.banner_seen);
}

static void test_guest_keeps_heartbeating_while_dirtying_flat_out(void **state)
{
	struct guestlog_watch *w;
	struct guestlog_result r;
	char log[PATH_MAX];
	double secs, rate;
	pid_t pid;

	(void)state;
	lab_path(log, sizeof(log), "flat-out.log");
	pid = qemu_start("dirty_mib=32 rate_mibps=0", log, NULL);
	/* guestlog_wait_heartbeats: the guest is up; then measure with timing from here on. */
	assert_int_equal(guestlog_wait_heartbeats(log, 1, 15000), 0);
	w = follow(log);
	wait_watch(w, 32, 0, 15000, &r);
	qemu_stop(pid);
	assert_int_equal(unfollow(&r), 0);

	assert_steady(&r, 20);
	assert_int_equal(r.banner_dirty_mib, 32);
	assert_int_equal(r.max_corrupt, 0);
	secs = ts_seconds(&r.last_heartbeat, &r.first_heartbeat);
	assert_true(secs > 1.0);
	rate = (double)(r.last_dirtied_mib - r.first_dirtied_mib) / secs;
	print_message("flat-out guest under TCG: %.0f MiB/s, %llu passes over 32 MiB, max gap %ld ms\n",
		      rate, (unsigned long long)r.last_pass, r.max_gap_ms);
	/* It must outrun a 10 MiB/s migration link, or it is no use for non-convergence tests. */
	assert_true(rate > 20.0);
}

/* Reads one gdb remote packet body into @reply, skipping acks, and acks it. Returns 0, or -1 on I/O
 * error or when nothing complete arrives before @deadline (ms, CLOCK_MONOTONIC). */
static int gdb_read_packet(int fd, char *reply, size_t cap, long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t len = 0;
	int hashes = -1;
	char c;

	/* Skip acks up to '$', keep the body, stop two checksum digits after '#'. */
	while (hashes != 0 && now_ms() < deadline) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(fd, &c, 1) != 1)
			return -1;
		if (hashes > 0)
			hashes--;
		else if (c == '#' && len)
			hashes = 2;
		else if (c == '$' && !len)
			len = 1;
		else if (len && len < cap)
			reply[len++ - 1] = c;
	}
	if (hashes != 0 || !len)
		return -1;
	reply[len - 1] = '\0';
	return write(fd, "+", 1) == 1 ? 0 : -1;
}

/* Sends one gdb remote packet and reads its reply into @reply. Stop notices ("T..", "S..") that
 * QEMU sends on its own, e.g. when the client connects, are skipped. Returns 0, or -1 on I/O error
 * or timeout. */
static int gdb_request(int fd, const char *cmd, char *reply, size_t cap)
{
	long deadline = now_ms() + GDB_IO_TIMEOUT_MS;
	char pkt[256];
	unsigned sum = 0;
	size_t i;
	int n;

	for (i = 0; cmd[i]; i++)
		sum += (unsigned char)cmd[i];
	n = snprintf(pkt, sizeof(pkt), "$%s#%02x", cmd, sum & 0xFF);
	if (n <= 0 || (size_t)n >= sizeof(pkt) || write(fd, pkt, (size_t)n) != n)
		return -1;
	for (i = 0; i < 8; i++) {
		if (gdb_read_packet(fd, reply, cap, deadline) < 0)
			return -1;
		if (reply[0] != 'T' && reply[0] != 'S')
			return 0;
	}
	return -1;
}

/* Writes the 32-bit word 0 at guest-physical @addr (paging is off, so virtual = physical). */
static void gdb_zero_word(int fd, uint32_t addr)
{
	char cmd[64], reply[GDB_REPLY_CAP];

	assert_true(snprintf(cmd, sizeof(cmd), "M%x,4:00000000", addr) < (int)sizeof(cmd));
	assert_int_equal(gdb_request(fd, cmd, reply, sizeof(reply)), 0);
	assert_string_equal(reply, "OK");
}

static int gdb_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long deadline = now_ms() + 5000;
	int fd;

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	while (now_ms() < deadline) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		sleep_ms(50);
	}
	return -1;
}

/* Reads the (small) log into @buf. */
static void read_log(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_guest_reports_memory_corrupted_from_outside(void **state)
{
	static char text[1 << 20];
	const uint32_t hits[] = {GUEST_STATIC_BASE + 0x1000, GUEST_STATIC_BASE + 0x100004,
				 GUEST_DIRTY_BASE + 0x2008};
	struct guestlog_watch *w;
	struct guestlog_result before, r;
	char log[PATH_MAX], sock[PATH_MAX], reply[GDB_REPLY_CAP], want[64];
	size_t i;
	pid_t pid;
	int fd;

	(void)state;
	lab_path(log, sizeof(log), "corrupt.log");
	lab_path(sock, sizeof(sock), "gdb.sock");
	w = follow(log);
	pid = qemu_start("dirty_mib=4 rate_mibps=0 static_mib=2 hz=20", log, sock);
	wait_watch(w, 10, 0, 15000, &before);
	assert_true(before.heartbeats >= 10);
	assert_int_equal(before.max_corrupt, 0);

	/* A gdb client stops the VM on connect and resumes it on detach, so the words are written
	 * while the guest cannot race with them. */
	fd = gdb_connect(sock);
	assert_true(fd >= 0);
	for (i = 0; i < sizeof(hits) / sizeof(hits[0]); i++)
		gdb_zero_word(fd, hits[i]);
	assert_int_equal(gdb_request(fd, "D", reply, sizeof(reply)), 0);
	close(fd);

	wait_watch(w, before.heartbeats + 20, 3, 15000, &r);
	qemu_stop(pid);
	assert_int_equal(unfollow(&r), 0);
	print_message("corruption: corrupt=%llu after %zu words zeroed over the gdbstub\n",
		      (unsigned long long)r.max_corrupt, sizeof(hits) / sizeof(hits[0]));
	/* Each bad word counts once: static words are repaired, dirty words rewritten. */
	assert_int_equal(r.max_corrupt, 3);
	assert_int_equal(r.regressions, 0);
	assert_true(r.heartbeats >= before.heartbeats + 20); /* the guest went on after it */
	read_log(log, text, sizeof(text));
	for (i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
		snprintf(want, sizeof(want), "addr=0x%08x want=", hits[i]);
		assert_non_null(strstr(text, want));
	}
}

static void test_guestlog_skips_overlong_lines_and_counts_regressions(void **state)
{
	char path[PATH_MAX], longline[GUESTLOG_LINE_CAP * 3];
	struct guestlog_result r;
	FILE *f;

	(void)state;
	lab_path(path, sizeof(path), "synthetic.log");
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "drover-guest ready mem_mib=64 dirty_mib=8 rate_mibps=0 hz=10\r\n"
		   "hb 1 pass=0 corrupt=0 dirtied_mib=1\n"
		   "hb %s pass=0 corrupt=9 dirtied_mib=1\n"
		   "hb 2 pass=1 corrupt=0 dirtied_mib=2\n"
		   "hb 2 pass=1 corrupt=0 dirtied_mib=2\n"
		   "hb x pass=1 corrupt=0 dirtied_mib=2\n"
		   "noise\n"
		   "hb 3 pass=2 corrupt=5 dirtied_mib=3\n"
		   "hb 4 pass=2 corrupt=5 dirtied_",
		longline);
	fclose(f);
	assert_int_equal(guestlog_analyze_file(path, &r), 0);
	assert_true(r.banner_seen);
	assert_int_equal(r.banner_hz, 10);
	assert_int_equal(r.heartbeats, 4);
	assert_int_equal(r.first_counter, 1);
	assert_int_equal(r.last_counter, 3);
	assert_int_equal(r.regressions, 1);
	assert_int_equal(r.max_corrupt, 5);
	assert_int_equal(r.lines_skipped, 2);
	assert_int_equal(r.last_dirtied_mib, 3);
	assert_int_equal(guestlog_wait_heartbeats(path, 4, 100), 0);
	assert_int_equal(guestlog_wait_heartbeats(path, 5, 100), -1);
	unlink(path);
}

static int group_setup(void **state)
{
	static char beside[PATH_MAX];
	const char *guest = getenv("DROVER_GUEST_ELF");

	(void)state;
	memset(&lab, 0, sizeof(lab));
	if (!guest && lab_build_path("guest/guest.elf", beside, sizeof(beside)) == 0 &&
	    access(beside, R_OK) == 0)
		guest = beside;
	if (!guest)
		guest = "build/guest/guest.elf";
	if (!realpath(guest, lab.guest)) {
		fprintf(stderr, "test_guest: %s: %s (run `make guest`, or set DROVER_GUEST_ELF)\n",
			guest, strerror(errno));
		return -1;
	}
	if (find_on_path("qemu-system-x86_64", lab.qemu, sizeof(lab.qemu)) < 0) {
		fprintf(stderr, "test_guest: qemu-system-x86_64 not found on PATH\n");
		return -1;
	}
	/* Last: cmocka skips the group teardown when setup fails, so nothing may be left to undo. */
	snprintf(lab.dir, sizeof(lab.dir), "/tmp/drover-guest-XXXXXX");
	if (!mkdtemp(lab.dir)) {
		lab.dir[0] = '\0';
		return -1;
	}
	return 0;
}

/* Stops what a failed test left running (its QEMU, its follower), so the next test has the CPUs. */
static int test_teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < MAX_QEMU; i++)
		qemu_stop_slot(i);
	(void)unfollow(NULL);
	return 0;
}

/* Same as test_teardown, then removes the temp dir. */
static int group_teardown(void **state)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	test_teardown(state);
	if (!lab.dir[0])
		return 0;
	d = opendir(lab.dir);
	while (d && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", lab.dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(lab.dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guestlog_skips_overlong_lines_and_counts_regressions),
		cmocka_unit_test_teardown(test_guest_heartbeats_steadily_and_dirties_at_the_asked_rate,
					  test_teardown),
		cmocka_unit_test_teardown(test_guest_keeps_heartbeating_while_dirtying_flat_out,
					  test_teardown),
		cmocka_unit_test_teardown(test_guest_reports_memory_corrupted_from_outside,
					  test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
