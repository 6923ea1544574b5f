/* test_redefine: a running VM's definition redefined behind `drover run`'s back, over and
 * over (`virsh define` of an edited XML: drover's ownership element kept or taken out, two
 * defines back to back), never makes drover take the VM for undefined. The VM is unpinned,
 * so a pass that did would place a second copy on the other host (safety rule 1): one copy
 * runs, on one host, at every look; and no action that defines or starts the VM appears in
 * drover's log after its first start. */
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
#define VM "rd-1"
#define ROUNDS 12           /* redefinitions, each followed by LOOKS looks */
#define LOOKS 20            /* 100 ms apart, plus the looks' own time */
#define REACT_S 120         /* every wait below is bounded by this */

static struct fx fx;
static int drover_pid = -1;
static char disk[512], log_path[400];
static int home = -1;           /* the host the VM landed on */
static long log_from;           /* drover's log from here on: after the VM's first start */

/* The host VM runs on alone (defined nowhere else), or -1. */
static int only_host(void)
{
	char state[64];

	if (lab_count_running(VM, N_HOSTS) != 1 || lab_count_defined(VM, N_HOSTS) != 1)
		return -1;
	for (int i = 0; i < N_HOSTS; i++) {
		lab_dom_state(i, VM, state, sizeof(state));
		if (!strcmp(state, "running"))
			return i;
	}
	return -1;
}

static bool has_owner(int host)
{
	return lab_owned_by_drover(host, VM);
}

/* Writes VM's persistent definition on home to @path, edited: a <description> naming
 * @round, and without drover's <metadata> when @unowned. */
static void write_edited_xml(const char *path, int round, bool unowned)
{
	virConnectPtr conn = lab_connect(home);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, VM) : NULL;
	char *xml = dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE) : NULL;
	char *start, *end, *uuid_end;
	FILE *f;

	assert_non_null(xml);
	if (unowned && (start = strstr(xml, "<metadata>")) && (end = strstr(xml, "</metadata>"))) {
		end += strlen("</metadata>");
		memmove(start, end, strlen(end) + 1);
	}
	/* An earlier round's description goes; the new one follows the UUID. */
	if ((start = strstr(xml, "<description>")) && (end = strstr(xml, "</description>"))) {
		end += strlen("</description>");
		memmove(start, end, strlen(end) + 1);
	}
	uuid_end = strstr(xml, "</uuid>");
	assert_non_null(uuid_end);
	uuid_end += strlen("</uuid>");
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%.*s\n  <description>redefined behind drover's back, round %d</description>%s",
		(int)(uuid_end - xml), xml, round, uuid_end);
	assert_int_equal(fclose(f), 0);
	free(xml);
	virDomainFree(dom);
	virConnectClose(conn);
}

static void virsh_define(const char *path)
{
	const char *argv[] = {"virsh", "-q", "-c", lab_host_uri(home), "define", path, NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 60), 0);
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "r");
	long size = -1;

	if (f && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (f)
		fclose(f);
	return size;
}

/* Counts drover's log lines from log_from on: passes ended ("reconciled"), and actions
 * for VM that define or start it (printed), and of those the ones done (@done may be
 * NULL). */
static void scan_log(int *passes, int *lands, int *done)
{
	FILE *f = fopen(log_path, "r");
	char line[2048];
	int ignored;

	done = done ? done : &ignored;
	*passes = *lands = *done = 0;
	assert_non_null(f);
	assert_int_equal(fseek(f, log_from, SEEK_SET), 0);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "msg=\"reconciled\""))
			(*passes)++;
		if (!strstr(line, "/" VM " ") && !strstr(line, "/" VM "\""))
			continue;
		if (strstr(line, "action=define") || strstr(line, "action=start") ||
		    strstr(line, "action=\"define")) {
			(*lands)++;
			*done += strstr(line, "msg=\"action done\"") != NULL;
			if (log_from > 0)
				printf("  after the first start: %s", line);
		}
	}
	fclose(f);
}

static void test_redefine_vm_starts(void **state)
{
	struct fx_vm vm = {.name = VM, .memory = "32Mi", .disk = disk};
	int tenth;
	(void)state;

	assert_int_equal(fx_write_vm(&fx, &vm), 0);
	for (tenth = 0; tenth < REACT_S * 10; tenth++, usleep(100000))
		if ((home = only_host()) >= 0 && has_owner(home))
			break;
	printf("  %s runs on %s, owned, after %d s\n", VM, home >= 0 ? lab_host_name(home) : "-",
	       tenth / 10);
	assert_true(home >= 0);
	/* The landing's own line comes once its job has ended, which may be after libvirt
	 * runs the guest: the log is counted from after it (a failed try before it counts
	 * for nothing). */
	int passes = 0, lands = 0, done = 0;
	for (tenth = 0; tenth < REACT_S * 10 && !done; tenth++, usleep(100000))
		scan_log(&passes, &lands, &done);
	assert_true(done > 0);
	log_from = file_size(log_path);
	assert_true(log_from >= 0);
}

static void test_redefine_never_lands_a_second_copy(void **state)
{
	char path[400];
	int looks = 0, passes = 0, lands = 0;
	(void)state;

	assert_true(home >= 0);
	snprintf(path, sizeof(path), "%s/edited.xml", fx.dir);
	for (int round = 0; round < ROUNDS; round++) {
		write_edited_xml(path, round, round % 2 == 1);
		virsh_define(path);
		if (round % 3 == 2)
			virsh_define(path);    /* twice in a row: the definition in flux */
		for (int look = 0; look < LOOKS; look++, looks++, usleep(100000)) {
			int at = only_host();
			if (at != home)
				printf("  round %d, look %d: %s is not running on %s alone\n", round,
				       look, VM, lab_host_name(home));
			assert_int_equal(at, home);
		}
	}
	/* The last redefinition may have taken the ownership element out: drover writes it
	 * back. Then every pass since the first start is in the log. */
	int tenth;
	for (tenth = 0; tenth < REACT_S * 10 && !has_owner(home); tenth++, usleep(100000))
		;
	assert_true(has_owner(home));
	assert_int_equal(only_host(), home);
	scan_log(&passes, &lands, NULL);
	printf("  %d redefinitions, %d looks: one copy on %s at each; %d passes of drover, "
	       "%d defines or starts of %s\n", ROUNDS + ROUNDS / 3, looks, lab_host_name(home),
	       passes, lands, VM);
	assert_true(passes > 0);
	assert_int_equal(lands, 0);
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
	FILE *f = fopen(log_path, "w");     /* lab_spawn appends */
	if (f)
		fclose(f);
	const char *argv[] = {lab_drover(), "run", "--dir", fx.manifests, "--state-dir", fx.state,
			      "--stop-timeout", "2", "--metrics-addr", "off", NULL};
	drover_pid = lab_spawn(argv, log_path);
	return drover_pid > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char out[16384];
	(void)state;
	lab_stop(drover_pid, 10);
	const char *tail[] = {"tail", "-n", "40", log_path, NULL};
	if (lab_run(tail, out, sizeof(out), 10) == 0)
		printf("---- drover run log (tail) ----\n%s", out);
	lab_cleanup_guest(VM, VM ".qcow2");
	fx_cleanup(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redefine_vm_starts),
		cmocka_unit_test(test_redefine_never_lands_a_second_copy),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
