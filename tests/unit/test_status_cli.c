/* drover status prints what the state dir records: aligned, sorted tables, a kubectl-style
 * List in JSON or YAML, and clear errors. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "controller/cli/cli.h"
#include "controller/dir/lastvalid.h"
#include "controller/dir/statedir.h"
#include "controller/cli/status_print.h"
#include "controller/cli/table.h"
#include "controller/cli/view.h"
#include "tests/unit/state_test_util.h"

/* 2026-11-23T18:15:00Z: AGE is measured up to here. */
#define NOW ((time_t)1795457700)

static const char fixture[] =
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Host\n"
	"metadata: {name: kvm-b}\n"
	"spec: {uri: 'qemu+tcp://10.0.0.12/system', unschedulable: true, drain: true}\n"
	"status:\n"
	"  conditions:\n"
	"  - {type: Reachable, status: 'False', reason: ConnectFailed,\n"
	"     message: 'unable to connect: Connection refused', lastTransitionTime: '2026-11-23T18:10:00Z'}\n"
	"  - {type: Ready, status: 'False', reason: Unreachable, lastTransitionTime: '2026-11-23T18:10:00Z'}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Host\n"
	"metadata: {name: kvm-a}\n"
	"spec: {uri: 'qemu+tcp://10.0.0.11/system'}\n"
	"status:\n"
	"  conditions:\n"
	"  - {type: Reachable, status: 'True', reason: Connected, lastTransitionTime: '2026-11-23T18:00:00Z'}\n"
	"  - {type: Ready, status: 'True', reason: Schedulable, lastTransitionTime: '2026-11-23T18:00:00Z'}\n"
	"  hypervisor: {type: QEMU, version: 7.2.0, libvirtVersion: 9.0.0, arch: x86_64}\n"
	"  memory: {total: 64Gi, free: 40Gi}\n"
	"  vms: 3\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: web-1}\n"
	"spec: {host: kvm-b, domain: {memory: 1Gi}}\n"
	"status:\n"
	"  host: kvm-a\n"
	"  phase: Migrating\n"
	"  conditions:\n"
	"  - {type: Placed, status: 'False', reason: Moving, message: 'moving to kvm-b',\n"
	"     lastTransitionTime: '2026-11-23T18:13:51Z'}\n"
	"  migration: {name: web-1-20261123-181351, phase: Running, percent: 42}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: db-1, namespace: prod}\n"
	"spec: {domain: {memory: 4Gi}}\n"
	"status:\n"
	"  host: kvm-a\n"
	"  phase: Running\n"
	"  conditions:\n"
	"  - {type: Placed, status: 'True', reason: OnChosenHost, message: 'running on kvm-a',\n"
	"     lastTransitionTime: '2026-11-23T18:00:00Z'}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: batch-1}\n"
	"spec: {running: false, domain: {memory: 512Mi}}\n"
	"status: {host: kvm-a, phase: Stopped}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: api-1}\n"
	"spec: {domain: {memory: 48Gi}}\n"
	"status:\n"
	"  phase: Pending\n"
	"  conditions:\n"
	"  - {type: Placed, status: 'False', reason: NoHostFits,\n"
	"     message: \"no host fits:\\nkvm-a has 40Gi free, api-1 needs 48Gi\",\n"
	"     lastTransitionTime: '2026-11-23T18:00:00Z'}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Migration\n"
	"metadata: {name: web-1-20261123-181351}\n"
	"spec: {vmName: web-1, targetHost: kvm-b}\n"
	"status:\n"
	"  phase: Running\n"
	"  sourceHost: kvm-a\n"
	"  targetHost: kvm-b\n"
	"  mode: PreCopy\n"
	"  startTime: '2026-11-23T18:13:51Z'\n"
	"  progress: {dataTotalBytes: 1073741824, dataProcessedBytes: 450971566, iteration: 2, percent: 42}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Migration\n"
	"metadata: {name: web-1-20261123-170000}\n"
	"spec: {vmName: web-1, targetHost: kvm-a}\n"
	"status:\n"
	"  phase: Succeeded\n"
	"  sourceHost: kvm-b\n"
	"  targetHost: kvm-a\n"
	"  mode: PreCopy\n"
	"  startTime: '2026-11-23T17:00:00Z'\n"
	"  endTime: '2026-11-23T17:00:09Z'\n"
	"  progress: {percent: 100}\n"
	"  downtimeMs: 35\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Migration\n"
	"metadata: {name: move-db-1, namespace: prod}\n"
	"spec: {vmName: db-1, targetHost: kvm-b, mode: Live}\n"
	"status:\n"
	"  phase: Failed\n"
	"  startTime: '2026-11-23T18:05:00Z'\n"
	"  failureReason: 'PreCheckFailed: kvm-b is unreachable (unable to connect: Connection refused); db-1 stays on kvm-a'\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Migration\n"
	"metadata: {name: move-api-1}\n"
	"spec: {vmName: api-1}\n";

static const char expected_table[] =
	"HOSTS\n"
	"NAMESPACE   NAME    REACHABLE   READY   FLAGS                 VMS   MEMORY FREE/TOTAL   HYPERVISOR   REASON\n"
	"default     kvm-a   True        True    -                     3     40.0 GiB/64.0 GiB   QEMU 7.2.0   -\n"
	"default     kvm-b   False       False   Unschedulable,Drain   0     -                   -            unable to connect: Connection refused\n"
	"\n"
	"VIRTUAL MACHINES\n"
	"NAMESPACE   NAME      DESIRED   HOST    PINNED   PHASE       MIGRATION                           REASON\n"
	"default     api-1     running   -       -        Pending     -                                   no host fits: kvm-a has 40Gi free, api-1 needs 48Gi\n"
	"default     batch-1   stopped   kvm-a   -        Stopped     -                                   -\n"
	"default     web-1     running   kvm-a   kvm-b    Migrating   web-1-20261123-181351 Running 42%   moving to kvm-b\n"
	"prod        db-1      running   kvm-a   -        Running     -                                   -\n"
	"\n"
	"MIGRATIONS\n"
	"NAMESPACE   NAME                    VM      SOURCE   TARGET   PHASE       MODE      PROGRESS   DOWNTIME   AGE   FAILURE REASON\n"
	"default     move-api-1              api-1   -        -        -           Auto      -          -          -     -\n"
	"default     web-1-20261123-170000   web-1   kvm-b    kvm-a    Succeeded   PreCopy   100%       35ms       75m   -\n"
	"default     web-1-20261123-181351   web-1   kvm-a    kvm-b    Running     PreCopy   42%        -          69s   -\n"
	"prod        move-db-1               db-1    -        kvm-b    Failed      Live      -          -          10m   PreCheckFailed: kvm-b is unreachable (unable to connect:...\n";

/* The fixture set, and what status_print wrote for it. */
struct out {
	struct crd_set set;
	char *text;
	size_t len;
};

static int out_setup(void **state)
{
	struct out *o = calloc(1, sizeof(*o));

	if (!o)
		return -1;
	*state = o;
	return 0;
}

static int out_teardown(void **state)
{
	struct out *o = *state;

	crd_set_free(&o->set);
	free(o->text);
	free(o);
	return 0;
}

/* Prints the fixture as @format into o->text; fails the test unless status_print returns @rc. */
static struct out *print_fixture(void **state, const char *format, int rc)
{
	struct out *o = *state;
	FILE *f = open_memstream(&o->text, &o->len);

	assert_non_null(f);
	st_load(&o->set, fixture);
	assert_int_equal(status_print(f, &o->set, NULL, format, NOW), rc);
	assert_int_equal(fclose(f), 0);
	return o;
}

/* The line of o->text that contains @needle, copied into @buf; fails the test when none. */
static const char *line_with(const struct out *o, const char *needle, char *buf, size_t size)
{
	const char *hit = strstr(o->text, needle);

	if (!hit)
		fail_msg("no line with \"%s\" in:\n%s", needle, o->text);
	const char *start = hit;
	while (start > o->text && start[-1] != '\n')
		start--;
	const char *end = strchr(hit, '\n');
	snprintf(buf, size, "%.*s", (int)(end ? end - start : (ptrdiff_t)strlen(start)), start);
	return buf;
}

static void test_status_table_matches_kubectl_layout(void **state)
{
	struct out *o = print_fixture(state, "table", 0);

	if (strcmp(o->text, expected_table)) {
		fprintf(stderr, "got:\n%s\nexpected:\n%s", o->text, expected_table);
		fail();
	}
}

static void test_status_table_lists_vm_with_migration_progress(void **state)
{
	char line[512];
	struct out *o = print_fixture(state, "table", 0);

	line_with(o, "default     web-1 ", line, sizeof(line));
	assert_non_null(strstr(line, " kvm-a "));                       /* HOST: where it is */
	assert_non_null(strstr(line, " kvm-b "));                       /* PINNED: where it goes */
	assert_non_null(strstr(line, " web-1-20261123-181351 Running 42% "));
}

static void test_status_table_shows_reason_of_false_placed_condition_on_one_line(void **state)
{
	char line[512];
	struct out *o = print_fixture(state, "table", 0);

	/* The message has a newline; the row must not break. */
	line_with(o, "api-1     running", line, sizeof(line));
	assert_non_null(strstr(line, "no host fits: kvm-a has 40Gi free, api-1 needs 48Gi"));
	line_with(o, "prod        db-1 ", line, sizeof(line));
	assert_null(strstr(line, "running on kvm-a"));                  /* Placed is True */
}

static void test_status_table_sorts_by_namespace_then_name(void **state)
{
	struct out *o = print_fixture(state, "table", 0);
	const char *order[] = {"kvm-a ", "kvm-b ", "api-1 ", "batch-1 ", "web-1 ", "db-1 ",
			       "move-api-1 ", "web-1-20261123-170000", "web-1-20261123-181351",
			       "move-db-1 "};
	const char *at = o->text;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *next = strstr(at, order[i]);
		if (!next)
			fail_msg("\"%s\" missing or out of order", order[i]);
		at = next;
	}
}

static void test_status_table_shows_host_flags_memory_and_hypervisor(void **state)
{
	char line[512];
	struct out *o = print_fixture(state, "table", 0);

	line_with(o, "default     kvm-a ", line, sizeof(line));
	assert_non_null(strstr(line, " 40.0 GiB/64.0 GiB "));
	assert_non_null(strstr(line, " QEMU 7.2.0 "));
	line_with(o, "default     kvm-b ", line, sizeof(line));
	assert_non_null(strstr(line, " False "));
	assert_non_null(strstr(line, " Unschedulable,Drain "));
	assert_non_null(strstr(line, "unable to connect: Connection refused"));
}

static void test_status_table_shows_downtime_age_and_shortened_failure_reason(void **state)
{
	char line[512];
	struct out *o = print_fixture(state, "table", 0);

	line_with(o, "web-1-20261123-170000", line, sizeof(line));
	assert_non_null(strstr(line, " 100% "));
	assert_non_null(strstr(line, " 35ms "));
	assert_non_null(strstr(line, " 75m "));
	line_with(o, "move-db-1", line, sizeof(line));
	assert_non_null(strstr(line, "PreCheckFailed: kvm-b is unreachable"));
	assert_null(strstr(line, "stays on kvm-a"));
	const char *reason = strstr(line, "PreCheckFailed");
	assert_true(strlen(reason) <= STATUS_REASON_MAX);
	assert_string_equal(reason + strlen(reason) - 3, "...");
}

static void test_status_json_is_a_list_of_whole_objects(void **state)
{
	json_error_t err;
	struct out *o = print_fixture(state, "json", 0);
	json_t *doc = json_loads(o->text, 0, &err);
	static const char *const kinds[] = {
		"Host", "Host", "VirtualMachine", "VirtualMachine", "VirtualMachine", "VirtualMachine",
		"Migration", "Migration", "Migration", "Migration",
	};

	if (!doc)
		fail_msg("not JSON: %s\n%s", err.text, o->text);
	assert_string_equal(json_string_value(json_object_get(doc, "apiVersion")), "v1");
	assert_string_equal(json_string_value(json_object_get(doc, "kind")), "List");
	json_t *items = json_object_get(doc, "items");
	assert_int_equal(json_array_size(items), sizeof(kinds) / sizeof(kinds[0]));
	for (size_t i = 0; i < json_array_size(items); i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(items, i), "kind")),
				    kinds[i]);
	json_t *web1 = json_array_get(items, 4);
	json_int_t percent = 0;
	const char *name = NULL, *host = NULL;
	assert_int_equal(json_unpack(web1, "{s:{s:s}, s:{s:s, s:{s:I}}}", "metadata", "name", &name,
				     "status", "host", &host, "migration", "percent", &percent),
			 0);
	assert_string_equal(name, "web-1");
	assert_string_equal(host, "kvm-a");
	assert_int_equal(percent, 42);
	json_decref(doc);
}

static void test_status_yaml_is_the_same_list(void **state)
{
	struct out *o = print_fixture(state, "yaml", 0);

	assert_memory_equal(o->text, "apiVersion: v1\nkind: List\n", 26);
	assert_non_null(strstr(o->text, "\nitems:\n- apiVersion: drover.io/v1alpha1\n  kind: Host\n"));
	assert_non_null(strstr(o->text, "  kind: VirtualMachine\n"));
	assert_non_null(strstr(o->text, "      percent: 42\n"));
	assert_non_null(strstr(o->text, "    downtimeMs: 35\n"));
	assert_non_null(strstr(o->text, "    failureReason: "));
}

static void test_status_empty_set_prints_no_table_but_an_empty_list(void **state)
{
	struct out *o = *state;
	struct crd_set empty = {0};
	FILE *f = open_memstream(&o->text, &o->len);

	assert_int_equal(status_print(f, &empty, NULL, "table", NOW), 0);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(o->len, 0);
	assert_int_equal(status_print(f, &empty, NULL, "json", NOW), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(o->text, "\"items\": []"));
}

static void test_status_rejects_unknown_format(void **state)
{
	struct out *o = print_fixture(state, "xml", -1);
	assert_int_equal(o->len, 0);
}

/* A Host observed with CPU and huge pages, one not yet; a VM placed with reasons. */
static const char wide_fixture[] =
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Host\n"
	"metadata: {name: kvm-a}\n"
	"spec: {uri: 'qemu+tcp://10.0.0.11/system'}\n"
	"status:\n"
	"  memory: {total: 64Gi, free: 40Gi}\n"
	"  cpu: {threads: 32, allocatedVcpus: 48, load: 0.41}\n"
	"  hugepages: {pageSize: 2Mi, total: 1024, free: 512}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: Host\n"
	"metadata: {name: kvm-b}\n"
	"spec: {uri: 'qemu+tcp://10.0.0.12/system'}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: web-1}\n"
	"spec: {domain: {memory: 1Gi}}\n"
	"status:\n"
	"  host: kvm-a\n"
	"  phase: Running\n"
	"  placement: {reason: 'most free memory of 1 feasible host',\n"
	"              rejected: {kvm-b: 'anti-affinity app=db (required): db-1 runs on kvm-b'}}\n"
	"---\n"
	"apiVersion: drover.io/v1alpha1\n"
	"kind: VirtualMachine\n"
	"metadata: {name: web-2}\n"
	"spec: {domain: {memory: 1Gi}}\n";

/* Prints @yaml as @format with @invalid into o->text; fails unless status_print returns 0. */
static struct out *print_yaml(void **state, const char *yaml,
			      const struct lastvalid_note *invalid, const char *format)
{
	struct out *o = *state;
	FILE *f = open_memstream(&o->text, &o->len);

	assert_non_null(f);
	st_load(&o->set, yaml);
	assert_int_equal(status_print(f, &o->set, invalid, format, NOW), 0);
	assert_int_equal(fclose(f), 0);
	return o;
}

/* -o wide, as kubectl's: the columns of the table, and before the last one a Host's vCPUs of
 * its threads, CPU load and free huge pages, a VM's status.placement. */
static void test_status_wide_shows_host_capacity_and_vm_placement(void **state)
{
	char line[512];
	struct out *o = print_yaml(state, wide_fixture, NULL, "wide");

	line_with(o, "REACHABLE   READY", line, sizeof(line));
	assert_non_null(strstr(line, " HYPERVISOR   VCPUS/THREADS   LOAD   HUGEPAGES FREE/TOTAL   REASON"));
	line_with(o, "default     kvm-a ", line, sizeof(line));
	assert_non_null(strstr(line, " 48/32 "));
	assert_non_null(strstr(line, " 41% "));
	assert_non_null(strstr(line, " 512/1024 of 2Mi "));
	line_with(o, "default     kvm-b ", line, sizeof(line));
	assert_non_null(strstr(line, " -               -      -                      -"));
	line_with(o, "DESIRED   HOST", line, sizeof(line));
	assert_non_null(strstr(line, " MIGRATION   PLACEMENT "));
	line_with(o, "default     web-1 ", line, sizeof(line));
	assert_non_null(strstr(line, " most free memory of 1 feasible host (1 host rejected) "));
	line_with(o, "default     web-2 ", line, sizeof(line));
	assert_null(strstr(line, "feasible"));
}

/* The plain table keeps its columns: wide ones only with -o wide. */
static void test_status_table_leaves_wide_columns_out(void **state)
{
	struct out *o = print_yaml(state, wide_fixture, NULL, "table");

	assert_null(strstr(o->text, "VCPUS/THREADS"));
	assert_null(strstr(o->text, "PLACEMENT"));
	assert_null(strstr(o->text, "512/1024"));
}

/* What run --dir recorded while the manifests are invalid: @acting_on the last valid set. */
static void invalid_note(struct lastvalid_note *n, const char *acting_on)
{
	memset(n, 0, sizeof(*n));
	n->since = strdup("2026-11-23T18:14:00Z");
	n->acting_on = acting_on ? strdup(acting_on) : NULL;
	crd_errors_add(&n->errs, CRD_SEV_ERROR, "/etc/drover/vms.yaml", 4, 25,
		       "VirtualMachine default/x", "spec.domain.memory",
		       "expected a quantity like 512Mi, got \"12Q\"");
	crd_errors_add(&n->errs, CRD_SEV_ERROR, "/etc/drover/broken.yaml", 0, 0, NULL, "",
		       "not YAML");
	n->more = 3;
}

static void test_status_table_lists_invalid_manifests_first(void **state)
{
	char line[512];
	struct lastvalid_note n;
	static const char *const acting[] = {"/var/lib/drover/last-valid", NULL};

	for (size_t i = 0; i < 2; i++) {
		struct out *o = *state;
		crd_set_free(&o->set);
		free(o->text);
		o->text = NULL;
		invalid_note(&n, acting[i]);
		print_yaml(state, wide_fixture, &n, "table");
		if (acting[i])
			assert_memory_equal(o->text, "MANIFESTS INVALID since 2026-11-23T18:14:00Z: acting "
				    "on the last valid set in /var/lib/drover/last-valid\n", 103);
		else
			assert_non_null(strstr(o->text, "MANIFESTS INVALID since 2026-11-23T18:14:00Z: "
						       "no valid set saved, nothing is acted on\n"));
		line_with(o, "/etc/drover/vms.yaml", line, sizeof(line));
		assert_string_equal(line, "/etc/drover/vms.yaml:4:25   spec.domain.memory   "
					  "expected a quantity like 512Mi, got \"12Q\"");
		line_with(o, "/etc/drover/broken.yaml", line, sizeof(line));
		assert_non_null(strstr(line, " not YAML"));
		assert_non_null(strstr(o->text, "\n... and 3 more errors\n\nHOSTS\n"));
		lastvalid_note_free(&n);
	}
}

static void test_status_json_says_when_manifests_are_invalid(void **state)
{
	struct lastvalid_note n;
	json_error_t err;
	json_int_t line = 0, more = 0;
	const char *file = NULL, *since = NULL;
	int valid = 1;

	invalid_note(&n, "/var/lib/drover/last-valid");
	struct out *o = print_yaml(state, wide_fixture, &n, "json");
	json_t *doc = json_loads(o->text, 0, &err);
	if (!doc)
		fail_msg("not JSON: %s\n%s", err.text, o->text);
	assert_int_equal(json_unpack(json_object_get(doc, "manifests"), "{s:b, s:s, s:I, s:[{s:s, s:I}]}",
				     "valid", &valid, "invalidSince", &since, "moreErrors", &more,
				     "errors", "file", &file, "line", &line), 0);
	assert_false(valid);
	assert_string_equal(since, "2026-11-23T18:14:00Z");
	assert_string_equal(file, "/etc/drover/vms.yaml");
	assert_int_equal(line, 4);
	assert_int_equal(more, 3);
	json_decref(doc);
	lastvalid_note_free(&n);
	/* Valid manifests: no member at all, the List as kubectl prints it. */
	free(o->text);
	o->text = NULL;
	crd_set_free(&o->set);
	print_yaml(state, wide_fixture, NULL, "json");
	assert_null(strstr(o->text, "\"manifests\""));
}

static void test_status_age_reads_like_kubectl(void **state)
{
	static const struct { long ago; const char *age; } cases[] = {
		{0, "0s"}, {-30, "0s"}, {59, "59s"}, {119, "119s"}, {125, "2m5s"}, {600, "10m"},
		{4500, "75m"}, {3 * 3600 + 120, "3h2m"}, {8 * 3600 + 59, "8h"}, {47 * 3600, "47h"},
		{49 * 3600, "2d1h"}, {8 * 86400, "8d"}, {800 * 86400L, "2y70d"}, {3000 * 86400L, "8y"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(status_age("2026-11-23T18:15:00Z", NOW + cases[i].ago, buf,
					       sizeof(buf)), cases[i].age);
	assert_string_equal(status_age("2026-11-23T19:15:00+01:00", NOW + 5, buf, sizeof(buf)), "5s");
	assert_string_equal(status_age("2026-11-23T18:14:59.5Z", NOW, buf, sizeof(buf)), "1s");
	assert_string_equal(status_age("yesterday", NOW, buf, sizeof(buf)), "-");
	assert_string_equal(status_age("2026-11-23T18:14:59", NOW, buf, sizeof(buf)), "-");
	assert_string_equal(status_age(NULL, NOW, buf, sizeof(buf)), "-");
}

/* ---- the table builder ---- */

static char *print_table(const struct table *t, int rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(table_print(t, f), rc);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_table_aligns_by_characters_and_cuts_on_a_character_boundary(void **state)
{
	static const char *const headers[] = {"NAME", "NOTE"};
	struct table t;
	char long_cell[TABLE_CELL_MAX * 2];

	(void)state;
	memset(long_cell, 'x', sizeof(long_cell) - 1);
	memcpy(long_cell + TABLE_CELL_MAX - 3, "\xc3\xa9", 2);  /* é across the cut */
	long_cell[sizeof(long_cell) - 1] = '\0';
	table_init(&t, headers, 2);
	table_cell(&t, "h\xc3\xb4te");                          /* hôte: 4 characters, 5 bytes */
	table_cell(&t, "");
	table_cell(&t, "vm");
	table_cell(&t, long_cell);
	assert_int_equal(table_rows(&t), 2);
	char *text = print_table(&t, 0);
	assert_memory_equal(text, "NAME   NOTE\nh\xc3\xb4te   -\nvm     xxx", 32);
	const char *cut = strrchr(text, 'x');
	assert_true(cut[1] == '\n' || (unsigned char)cut[1] == 0xc3);
	assert_true(strlen(strchr(text + 30, 'x')) < TABLE_CELL_MAX);
	free(text);
	table_free(&t);
}

static void test_table_caps_rows_and_says_how_many_more(void **state)
{
	static const char *const headers[] = {"N"};
	struct table t;

	(void)state;
	table_init(&t, headers, 1);
	for (int i = 0; i < TABLE_MAX_ROWS + 5; i++)
		table_cellf(&t, "%d", i);
	assert_int_equal(table_rows(&t), TABLE_MAX_ROWS);
	char *text = print_table(&t, 0);
	assert_non_null(strstr(text, "\n... 5 more rows not shown\n"));
	free(text);
	table_free(&t);
}

static void test_table_refuses_unfinished_row_and_bad_column_count(void **state)
{
	static const char *const headers[] = {"A", "B"};
	struct table t;

	(void)state;
	table_init(&t, headers, 2);
	table_cell(&t, "only one");
	free(print_table(&t, -1));
	table_free(&t);
	table_init(&t, headers, 0);
	table_cell(&t, "ignored");
	free(print_table(&t, -1));
	table_free(&t);
	table_free(NULL);
}

/* ---- the command ---- */

/* Runs `drover status ARGS...` with stdout and stderr captured into @out and @err. */
static int run_status(char *out, char *err, size_t size, int argc, char **argv)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int saved_out = dup(1), saved_err = dup(2), rc;

	assert_true(fo && fe && saved_out >= 0 && saved_err >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	rc = cli_status(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	rewind(fo);
	rewind(fe);
	out[fread(out, 1, size - 1, fo)] = '\0';
	err[fread(err, 1, size - 1, fe)] = '\0';
	fclose(fo);
	fclose(fe);
	return rc;
}

static void test_status_cli_kubeconfig_is_not_implemented_yet(void **state)
{
	char out[256], err[256];
	char *argv[] = {"status", "--kubeconfig", "/nonexistent/kubeconfig", NULL};

	(void)state;
	assert_int_equal(run_status(out, err, sizeof(out), 3, argv), 1);
	assert_string_equal(err, "drover status --kubeconfig: not implemented yet; use kubectl get "
				 "vm,host,migration\n");
	assert_string_equal(out, "");
}

static void test_status_cli_empty_state_dir_says_so_and_succeeds(void **state)
{
	char dir[512], out[512], err[256], want[600];
	char *argv[] = {"status", "--state-dir", dir, NULL};

	st_path(state, "empty", dir, sizeof(dir));
	assert_int_equal(run_status(out, err, sizeof(out), 3, argv), 0);
	snprintf(want, sizeof(want),
		 "no status recorded in %s (run drover apply or drover run first)\n", dir);
	assert_string_equal(out, want);
	assert_string_equal(err, "");
}

static void test_status_cli_unreadable_state_dir_fails_naming_it(void **state)
{
	char dir[512], out[256], err[1024];
	char *argv[] = {"status", "--state-dir", dir, NULL};

	st_path(state, "a-file", dir, sizeof(dir));
	st_write_file(dir, "not a directory");
	assert_int_equal(run_status(out, err, sizeof(out), 3, argv), 1);
	assert_non_null(strstr(err, dir));
	assert_string_equal(out, "");
}

static void test_status_cli_prints_what_statedir_recorded(void **state)
{
	struct crd_set set = {0};
	char dir[512], out[8192], err[1024], path[1024];
	char *argv[] = {"status", "--state-dir", dir, "-o", "json", NULL};

	st_path(state, "recorded", dir, sizeof(dir));
	st_load(&set, fixture);
	for (size_t i = 0; i < set.n_vms; i++)
		assert_int_equal(state_write_vm(dir, &set.vms[i]), 0);
	assert_int_equal(state_write_host(dir, &set.hosts[0]), 0);
	crd_set_free(&set);
	snprintf(path, sizeof(path), "%s/virtualmachines/default/broken.json", dir);
	st_write_file(path, "{");
	assert_int_equal(run_status(out, err, sizeof(out), 5, argv), 0);
	assert_non_null(strstr(err, "broken.json"));            /* noted, not fatal */
	json_t *doc = json_loads(out, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "items")), 5);
	json_decref(doc);
}

/* What run --dir records while the manifests are invalid is shown even before any status
 * was recorded; a record that cannot be read is a note, not a failure. */
static void test_status_cli_shows_recorded_invalid_manifests(void **state)
{
	struct crd_errors errs = {0};
	char dir[512], out[4096], err[1024], path[1024];
	char *argv[] = {"status", "--state-dir", dir, NULL};

	st_path(state, "invalid", dir, sizeof(dir));
	crd_errors_add(&errs, CRD_SEV_ERROR, "/m/bad.yaml", 4, 25, NULL, "spec.domain.memory",
		       "expected a quantity like 512Mi");
	crd_errors_add(&errs, CRD_SEV_NOTE, "/m/other.yaml", 1, 1, NULL, "", "document skipped");
	assert_int_equal(lastvalid_note_invalid(dir, "2026-11-23T18:14:00Z", NULL, &errs), 0);
	crd_errors_free(&errs);
	assert_int_equal(run_status(out, err, sizeof(out), 3, argv), 0);
	assert_non_null(strstr(out, "MANIFESTS INVALID since 2026-11-23T18:14:00Z: no valid set "
				    "saved, nothing is acted on\n"));
	assert_non_null(strstr(out, "/m/bad.yaml:4:25   spec.domain.memory   expected a quantity"));
	assert_null(strstr(out, "other.yaml"));                 /* notes are not errors */
	assert_null(strstr(out, "no status recorded"));
	assert_string_equal(err, "");
	/* Valid again: the record goes, and status says nothing is recorded. */
	assert_int_equal(lastvalid_note_valid(dir), 0);
	assert_int_equal(lastvalid_note_valid(dir), 0);
	assert_int_equal(run_status(out, err, sizeof(out), 3, argv), 0);
	assert_non_null(strstr(out, "no status recorded"));
	/* Not a record: noted on stderr, the rest still printed. */
	snprintf(path, sizeof(path), "%s/manifests.json", dir);
	st_write_file(path, "{\"valid\": true}");
	assert_int_equal(run_status(out, err, sizeof(out), 3, argv), 0);
	assert_non_null(strstr(err, "manifests.json is not readable"));
	assert_non_null(strstr(out, "no status recorded"));
}

/* Tests that print the fixture get a fresh struct out; the others see the group's temp dir. */
#define OUT_TEST(f) cmocka_unit_test_setup_teardown(f, out_setup, out_teardown)

/* `drover migrate` (waiting) ends with what the move took against its prediction. */
static void test_view_says_what_a_move_took_against_its_prediction(void **state)
{
	struct crd_migration m = {0};
	struct view v;
	char *text = NULL;
	size_t len = 0;
	enum crd_mig_phase shown = CRD_MIG_RUNNING;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	m.meta.namespace = "default";
	m.meta.name = "web-1-move";
	m.status.phase = CRD_MIG_SUCCEEDED;
	m.status.source_host = "lab-a";
	m.status.target_host = "lab-b";
	m.status.downtime_ms = 40;
	m.status.prediction = (struct crd_mig_prediction){.set = true, .duration_ms = 9100};
	m.status.statistics = (struct crd_mig_statistics){.set = true, .elapsed_ms = 9330};
	view_init(&v, out);
	view_migration(&v, &m, &shown);
	fclose(out);
	assert_non_null(strstr(text, "took 9.33 s (predicted 9.10 s)"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		OUT_TEST(test_status_table_matches_kubectl_layout),
		OUT_TEST(test_status_table_lists_vm_with_migration_progress),
		OUT_TEST(test_status_table_shows_reason_of_false_placed_condition_on_one_line),
		OUT_TEST(test_status_table_sorts_by_namespace_then_name),
		OUT_TEST(test_status_table_shows_host_flags_memory_and_hypervisor),
		OUT_TEST(test_status_table_shows_downtime_age_and_shortened_failure_reason),
		OUT_TEST(test_status_json_is_a_list_of_whole_objects),
		OUT_TEST(test_status_yaml_is_the_same_list),
		OUT_TEST(test_status_empty_set_prints_no_table_but_an_empty_list),
		OUT_TEST(test_status_rejects_unknown_format),
		OUT_TEST(test_status_wide_shows_host_capacity_and_vm_placement),
		OUT_TEST(test_status_table_leaves_wide_columns_out),
		OUT_TEST(test_status_table_lists_invalid_manifests_first),
		OUT_TEST(test_status_json_says_when_manifests_are_invalid),
		cmocka_unit_test(test_status_age_reads_like_kubectl),
		cmocka_unit_test(test_table_aligns_by_characters_and_cuts_on_a_character_boundary),
		cmocka_unit_test(test_table_caps_rows_and_says_how_many_more),
		cmocka_unit_test(test_table_refuses_unfinished_row_and_bad_column_count),
		cmocka_unit_test(test_status_cli_kubeconfig_is_not_implemented_yet),
		cmocka_unit_test(test_status_cli_empty_state_dir_says_so_and_succeeds),
		cmocka_unit_test(test_status_cli_unreadable_state_dir_fails_naming_it),
		cmocka_unit_test(test_status_cli_prints_what_statedir_recorded),
		cmocka_unit_test(test_status_cli_shows_recorded_invalid_manifests),
		cmocka_unit_test(test_view_says_what_a_move_took_against_its_prediction),
	};
	return cmocka_run_group_tests(tests, st_group_setup, st_group_teardown);
}
