/* test_lab_teardown: `hack/lab down` leaves no libvirtd, sshd, QEMU, namespace, link,
 * mount or directory behind. Runs last in the lab suite: it takes the lab down. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/lab/lab.h"

#define MAX_PIDS 64

/* Reads the pid in PATH, or returns 0. */
static int read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;

	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

/* Collects the pids of every libvirtd, sshd and guest the lab started. */
static int lab_pids(int *pids, int max)
{
	char path[1024];
	int n = 0;

	for (int i = 0; i < LAB_MAX_HOSTS && n < max; i++) {
		snprintf(path, sizeof(path), "%s/hosts/%s/libvirtd.pid", lab_dir(), lab_host_name(i));
		int pid = read_pid(path);
		if (pid > 0)
			pids[n++] = pid;
		snprintf(path, sizeof(path), "%s/hosts/%s/sshd.pid", lab_dir(), lab_host_name(i));
		if ((pid = read_pid(path)) > 0 && n < max)
			pids[n++] = pid;
		snprintf(path, sizeof(path), "%s/hosts/%s/run/qemu", lab_dir(), lab_host_name(i));
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) && n < max) {
			size_t len = strlen(e->d_name);
			if (len < 5 || strcmp(e->d_name + len - 4, ".pid"))
				continue;
			char pidfile[1400];
			snprintf(pidfile, sizeof(pidfile), "%s/%s", path, e->d_name);
			if ((pid = read_pid(pidfile)) > 0)
				pids[n++] = pid;
		}
		if (d)
			closedir(d);
	}
	return n;
}

/* True when FILE (e.g. /proc/self/mountinfo) contains NEEDLE on any line. */
static int file_mentions(const char *file, const char *needle)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen(file, "r");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

static void test_lab_down_leaves_nothing_behind(void **state)
{
	int pids[MAX_PIDS];
	char out[4096];
	struct stat st;
	(void)state;

	assert_int_equal(lab_up(3), 0);
	int n = lab_pids(pids, MAX_PIDS);
	assert_true(n >= 3);

	assert_int_equal(lab_down(), 0);

	for (int i = 0; i < n; i++)
		assert_true(kill(pids[i], 0) != 0);
	const char *netns[] = {"ip", "netns", "list", NULL};
	assert_int_equal(lab_run(netns, out, sizeof(out), 30), 0);
	assert_null(strstr(out, "drover-lab-"));
	const char *links[] = {"ip", "-o", "link", "show", NULL};
	assert_int_equal(lab_run(links, out, sizeof(out), 30), 0);
	assert_null(strstr(out, "drover-lab0"));
	assert_null(strstr(out, " dl-"));
	assert_false(file_mentions("/proc/self/mountinfo", lab_dir()));
	assert_false(file_mentions("/proc/self/mountinfo", "/run/netns/drover-lab"));
	assert_int_not_equal(stat(lab_dir(), &st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_down_leaves_nothing_behind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
