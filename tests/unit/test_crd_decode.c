/* Decoding fills typed structs with defaults; API objects, encoders and domain XML round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "crd/domain.h"
#include "crd/encode.h"
#include "crd/load.h"
#include "crd/node.h"
#include "tests/unit/crd_test_util.h"

static void load_text(const char *name, const char *text, struct crd_set *set, int want_rc)
{
	struct crd_errors errs = {0};
	int rc = crd_load_buffer(name, text, strlen(text), set, &errs);
	if (rc != want_rc)
		crd_errors_print(&errs, stderr);
	assert_int_equal(rc, want_rc);
	crd_errors_free(&errs);
}

static void test_vm_short_form_gets_defaults(void **state)
{
	struct crd_set set = {0};
	(void)state;
	load_text("t.yaml", "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
		  "metadata: {name: v}\nspec:\n  domain: {memory: 64Mi, disks: [{path: /d.img}]}\n",
		  &set, 0);
	const struct crd_vm *vm = crd_set_vm(&set, "default", "v");
	assert_non_null(vm);
	assert_string_equal(vm->meta.namespace, "default");
	assert_true(vm->spec.running);
	assert_null(vm->spec.host);
	assert_int_equal(vm->spec.domain.memory, 64 << 20);
	assert_int_equal(vm->spec.domain.vcpus, 1);
	assert_int_equal(vm->spec.domain.type, CRD_DOMAIN_KVM);
	assert_int_equal(vm->spec.domain.disks[0].format, CRD_DISK_QCOW2);
	assert_int_equal(vm->spec.domain.disks[0].bus, CRD_BUS_VIRTIO);
	assert_int_equal(vm->spec.storage, CRD_STORAGE_SHARED);
	assert_int_equal(vm->spec.eviction, CRD_EVICT_LIVE_MIGRATE);
	assert_int_equal(vm->spec.migration_policy.set, 0);
	assert_int_equal(vm->meta.line, 1);
	crd_set_free(&set);
}

static void test_knobs_layer_defaults_policy_then_migration(void **state)
{
	struct crd_set set = {0};
	struct crd_knobs k;
	(void)state;
	load_text("t.yaml", "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
		  "metadata: {name: v}\nspec:\n  domain: {memory: 64Mi}\n"
		  "  migrationPolicy: {maxDowntimeMs: 50, compression: xbzrle}\n---\n"
		  "apiVersion: drover.io/v1alpha1\nkind: Migration\nmetadata: {name: m}\n"
		  "spec: {vmName: v, maxDowntimeMs: 900, parallelConnections: 4}\n", &set, 0);
	crd_effective_knobs(&set.vms[0], &set.migrations[0], &k);
	assert_int_equal(k.max_downtime_ms, 900);
	assert_int_equal(k.compression, CRD_COMPRESS_XBZRLE);
	assert_int_equal(k.parallel_connections, 4);
	assert_int_equal(k.completion_timeout_per_gib_s, 150);
	assert_true(k.allow_auto_converge);
	assert_false(k.allow_post_copy);
	assert_int_equal(set.migrations[0].spec.mode, CRD_MODE_AUTO);
	crd_effective_knobs(NULL, NULL, &k);
	assert_int_equal(k.max_downtime_ms, 300);
	crd_set_free(&set);
}

static void test_api_json_object_round_trips(void **state)
{
	size_t len = 0;
	char *text = test_read_file("tests/data/good/all-fields.yaml", &len);
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	(void)state;

	assert_non_null(text);
	load_text("all-fields.yaml", text, &set, 0);
	json_t *objs[] = {crd_host_to_json(&set.hosts[0]), crd_vm_to_json(&set.vms[0]),
			  crd_migration_to_json(&set.migrations[0])};
	for (size_t i = 0; i < 3; i++) {
		struct crd_object o;
		assert_non_null(objs[i]);
		assert_int_equal(crd_decode_json_object(objs[i], "api", &o, &errs), 0);
		json_t *again = o.kind == CRD_KIND_HOST ? crd_host_to_json(&o.u.host)
			: o.kind == CRD_KIND_VM ? crd_vm_to_json(&o.u.vm)
			: crd_migration_to_json(&o.u.migration);
		assert_true(json_equal(objs[i], again));
		char *yaml = crd_json_to_yaml(again);
		assert_non_null(yaml);
		struct crd_set s2 = {0};
		load_text("again.yaml", yaml, &s2, 0);
		free(yaml);
		crd_set_free(&s2);
		json_decref(again);
		json_decref(objs[i]);
		crd_object_free(&o);
	}
	assert_int_equal(set.hosts[0].status.memory_free, 40ull << 30);
	assert_string_equal(set.hosts[0].meta.finalizers[0], "drover.io/host");
	assert_int_equal(set.migrations[0].status.progress.percent, 100);
	const struct crd_migration_status *ms = &set.migrations[0].status;
	assert_int_equal(ms->n_transitions, 3);
	assert_int_equal(ms->transitions[0].phase, CRD_MIG_PENDING);
	assert_string_equal(ms->transitions[0].time, "2026-11-23T09:59:58Z");
	assert_int_equal(ms->transitions[2].phase, CRD_MIG_SUCCEEDED);
	assert_string_equal(ms->transitions[2].time, "2026-11-23T10:00:09.5+00:00");
	assert_int_equal(set.vms[0].status.phase, CRD_VM_MIGRATING);
	const struct crd_tuning *t = &set.vms[0].spec.tuning;
	assert_int_equal(t->set, CRD_TUNE_HARD_LIMIT | CRD_TUNE_SOFT_LIMIT |
				 CRD_TUNE_SWAP_HARD_LIMIT | CRD_TUNE_MIN_GUARANTEE |
				 CRD_TUNE_BLKIO_WEIGHT);
	assert_int_equal(t->swap_hard_limit, 3ull << 30);
	assert_int_equal(t->n_disk_io, 2);
	assert_string_equal(t->disk_io[1].target, "sda");
	assert_int_equal(t->disk_io[1].set, CRD_IO_READ_BYTES | CRD_IO_WRITE_BYTES |
					    CRD_IO_TOTAL_IOPS);
	assert_true(set.vms[0].spec.domain.hugepages);
	crd_set_free(&set);
	crd_errors_free(&errs);
	free(text);
}

static void test_api_object_errors_name_the_object(void **state)
{
	json_error_t jerr;
	json_t *obj = json_loads("{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Host\","
				 "\"metadata\":{\"name\":\"h\",\"namespace\":\"ns\"},"
				 "\"spec\":{\"uri\":\"qemu:///system\",\"drain\":\"no\"}}", 0, &jerr);
	struct crd_object o;
	struct crd_errors errs = {0};
	char line[512];
	(void)state;

	assert_int_equal(crd_decode_json_object(obj, "api", &o, &errs), -1);
	crd_error_format(&errs.items[0], line, sizeof(line));
	assert_string_equal(line, "api: Host ns/h: spec.drain: expected a boolean, got \"no\"");
	json_decref(obj);
	obj = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", 0, &jerr);
	assert_int_equal(crd_decode_json_object(obj, "api", &o, &errs), 1);
	json_decref(obj);
	crd_errors_free(&errs);
}

/* A Migration record as the state dir and the API hold it: the phase history comes back. */
static void test_migration_phase_transitions_round_trip(void **state)
{
	static const char *const text =
		"{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\","
		"\"metadata\":{\"name\":\"m\",\"namespace\":\"default\"},"
		"\"spec\":{\"vmName\":\"web-1\"},"
		"\"status\":{\"phase\":\"Failed\",\"phaseTransitionTimestamps\":["
		"{\"phase\":\"Running\",\"phaseTransitionTimestamp\":\"2026-11-23T10:00:00Z\"},"
		"{\"phase\":\"Failed\",\"phaseTransitionTimestamp\":\"2026-11-23T10:02:30Z\"}]}}";
	json_error_t jerr;
	json_t *obj = json_loads(text, 0, &jerr);
	struct crd_object o;
	struct crd_errors errs = {0};
	(void)state;

	assert_non_null(obj);
	assert_int_equal(crd_decode_json_object(obj, "state", &o, &errs), 0);
	const struct crd_migration_status *st = &o.u.migration.status;
	assert_int_equal(st->n_transitions, 2);
	assert_int_equal(st->transitions[0].phase, CRD_MIG_RUNNING);
	assert_string_equal(st->transitions[0].time, "2026-11-23T10:00:00Z");
	assert_int_equal(st->transitions[1].phase, CRD_MIG_FAILED);
	assert_string_equal(st->transitions[1].time, "2026-11-23T10:02:30Z");
	json_t *again = crd_migration_status_to_json(st);
	char *s = json_dumps(json_object_get(again, "phaseTransitionTimestamps"), JSON_COMPACT);
	assert_string_equal(s, "[{\"phase\":\"Running\",\"phaseTransitionTimestamp\":"
			    "\"2026-11-23T10:00:00Z\"},{\"phase\":\"Failed\","
			    "\"phaseTransitionTimestamp\":\"2026-11-23T10:02:30Z\"}]");
	free(s);
	json_decref(again);
	json_decref(obj);
	crd_object_free(&o);
	crd_errors_free(&errs);
}

static void test_migration_prediction_and_statistics_round_trip(void **state)
{
	static const char *const text =
		"{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\","
		"\"metadata\":{\"name\":\"m\",\"namespace\":\"default\"},"
		"\"spec\":{\"vmName\":\"web-1\",\"transport\":\"Tunnelled\"},"
		"\"status\":{\"phase\":\"Running\",\"prediction\":{\"durationSeconds\":14,"
		"\"durationMilliseconds\":13250,\"converges\":false,\"dirtyRateBytesPerSecond\":8388608,"
		"\"concurrentMoves\":1},"
		"\"statistics\":{\"elapsedMilliseconds\":9500,\"transferMilliseconds\":8400,"
		"\"transferredBytes\":29360128}}}";
	json_error_t jerr;
	json_t *obj = json_loads(text, 0, &jerr);
	struct crd_object o;
	struct crd_errors errs = {0};
	(void)state;

	assert_non_null(obj);
	assert_int_equal(crd_decode_json_object(obj, "state", &o, &errs), 0);
	const struct crd_migration *m = &o.u.migration;
	assert_int_equal(m->spec.knobs.transport, CRD_TRANSPORT_TUNNELLED);
	assert_true(m->status.prediction.set);
	assert_int_equal(m->status.prediction.duration_s, 14);
	assert_int_equal(m->status.prediction.duration_ms, 13250);
	assert_false(m->status.prediction.converges);
	assert_int_equal(m->status.prediction.dirty_rate_bps, 8388608);
	assert_int_equal(m->status.prediction.concurrent_moves, 1);
	json_t *again = crd_migration_status_to_json(&m->status);
	char *s = json_dumps(json_object_get(again, "prediction"), JSON_COMPACT);
	assert_string_equal(s, "{\"durationSeconds\":14,\"durationMilliseconds\":13250,"
			    "\"converges\":false,"
			    "\"dirtyRateBytesPerSecond\":8388608,\"concurrentMoves\":1}");
	free(s);
	assert_true(m->status.statistics.set);
	assert_int_equal(m->status.statistics.elapsed_ms, 9500);
	assert_int_equal(m->status.statistics.transfer_ms, 8400);
	assert_int_equal(m->status.statistics.transferred_bytes, 29360128);
	s = json_dumps(json_object_get(again, "statistics"), JSON_COMPACT);
	assert_string_equal(s, "{\"elapsedMilliseconds\":9500,\"transferMilliseconds\":8400,"
			    "\"transferredBytes\":29360128}");
	free(s);
	json_decref(again);
	json_decref(obj);
	crd_object_free(&o);
	crd_errors_free(&errs);
}

static void test_migration_transition_with_unknown_phase_is_refused(void **state)
{
	json_error_t jerr;
	json_t *obj = json_loads("{\"apiVersion\":\"drover.io/v1alpha1\",\"kind\":\"Migration\","
				 "\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\"},"
				 "\"spec\":{\"vmName\":\"web-1\"},\"status\":{"
				 "\"phaseTransitionTimestamps\":[{\"phase\":\"Flying\","
				 "\"phaseTransitionTimestamp\":\"2026-11-23T10:00:00Z\"}]}}", 0, &jerr);
	struct crd_object o;
	struct crd_errors errs = {0};
	char line[512];
	(void)state;

	assert_non_null(obj);
	assert_int_equal(crd_decode_json_object(obj, "api", &o, &errs), -1);
	crd_error_format(&errs.items[0], line, sizeof(line));
	assert_string_equal(line, "api: Migration ns/m: status.phaseTransitionTimestamps[0].phase: "
			    "expected one of Pending, Scheduling, PreChecking, Running, Succeeded, "
			    "Failed, Cancelled, got \"Flying\"");
	json_decref(obj);
	crd_errors_free(&errs);
}

static void test_status_encoders_omit_unset_fields(void **state)
{
	struct crd_vm_status st = {.host = "lab-a", .phase = CRD_VM_RUNNING};
	struct crd_migration_status ms = {0};
	(void)state;
	json_t *j = crd_vm_status_to_json(&st);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"host\":\"lab-a\",\"phase\":\"Running\"}");
	free(s);
	json_decref(j);
	j = crd_migration_status_to_json(&ms);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
}

static void test_yaml_output_quotes_strings_that_look_like_other_types(void **state)
{
	json_t *v = json_pack("{s:s, s:s, s:i, s:b}", "a", "true", "b", "123", "c", 5, "d", 1);
	char *y = crd_json_to_yaml(v);
	(void)state;
	assert_non_null(y);
	assert_non_null(strstr(y, "a: \"true\""));
	assert_non_null(strstr(y, "b: \"123\""));
	assert_non_null(strstr(y, "c: 5"));
	assert_non_null(strstr(y, "d: true"));
	free(y);
	json_decref(v);
}

/* The short form's cpu: a named model exactly (no fallback), or host-model. */
static void test_short_form_cpu_expands_to_a_cpu_element(void **state)
{
	static const char *const vm =
		"apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: c%d}\n"
		"spec:\n  domain: {type: qemu, memory: 64Mi, cpu: %s}\n";
	const char *cpus[] = {"Skylake-Server", "host-model"};
	const char *want[] = {"<cpu mode='custom' match='exact'>\n"
			      "    <model fallback='forbid'>Skylake-Server</model>\n  </cpu>",
			      "<cpu mode='host-model'/>"};
	char text[512], why[256];
	(void)state;
	for (int i = 0; i < 2; i++) {
		struct crd_set set = {0};
		snprintf(text, sizeof(text), vm, i, cpus[i]);
		load_text("t.yaml", text, &set, 0);
		char *xml = crd_vm_domain_xml(&set.vms[0]);
		assert_non_null(xml);
		if (!strstr(xml, want[i]))
			fail_msg("missing %s in\n%s", want[i], xml);
		snprintf(text, sizeof(text), "c%d", i);
		assert_int_equal(crd_domain_check_xml(xml, strlen(xml), text, why, sizeof(why)), 0);
		free(xml);
		crd_set_free(&set);
	}
}

static void test_short_form_expands_to_escaped_libvirt_xml(void **state)
{
	struct crd_set set = {0};
	char why[256];
	(void)state;
	load_text("t.yaml", "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
		  "metadata: {name: g1}\nspec:\n  domain:\n    type: qemu\n    memory: 64Mi\n"
		  "    kernel: /var/tmp/drover-lab/shared/guest.elf\n    cmdline: \"a=1 & b='<2>'\"\n"
		  "    disks: [{path: /s/g1.qcow2}, {path: /s/g1.raw, format: raw, bus: sata}]\n"
		  "    interfaces: [{bridge: br0}, {network: default}]\n"
		  "    serial: {path: /s/g1.log}\n", &set, 0);
	char *xml = crd_vm_domain_xml(&set.vms[0]);
	assert_non_null(xml);
	static const char *const want[] = {
		"<domain type='qemu'>", "<name>g1</name>", "<memory unit='KiB'>65536</memory>",
		"<vcpu>1</vcpu>", "<type arch='x86_64' machine='pc'>hvm</type>",
		"<kernel>/var/tmp/drover-lab/shared/guest.elf</kernel>",
		"<cmdline>a=1 &amp; b=&apos;&lt;2&gt;&apos;</cmdline>",
		"<driver name='qemu' type='qcow2' cache='none'/>", "<source file='/s/g1.qcow2'/>",
		"<target dev='vda' bus='virtio'/>", "<target dev='sda' bus='sata'/>",
		"<interface type='bridge'>", "<source bridge='br0'/>", "<source network='default'/>",
		"<serial type='file'>", "<source path='/s/g1.log' append='on'/>",
		"<console type='file'>",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(xml, want[i]))
			fail_msg("missing %s in\n%s", want[i], xml);
	assert_null(strstr(xml, "host-passthrough"));
	assert_int_equal(crd_domain_check_xml(xml, strlen(xml), "g1", why, sizeof(why)), 0);
	free(xml);
	crd_set_free(&set);
}

static void test_oversized_input_is_refused_before_parsing(void **state)
{
	size_t n = CRD_FILE_MAX_BYTES + 1;
	char *big = malloc(n + 1);
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	(void)state;

	memset(big, '#', n);
	big[n] = '\0';
	assert_int_equal(crd_load_buffer("big.yaml", big, n, &set, &errs), -1);
	assert_string_equal(errs.items[0].message, "file is larger than the limit of 4 MiB");
	crd_errors_free(&errs);
	/* One document over 1 MiB inside a file under 4 MiB. */
	n = CRD_DOC_MAX_BYTES + 100;
	memcpy(big, "a: \"", 4);
	memset(big + 4, 'x', n - 6);
	memcpy(big + n - 2, "\"\n", 2);
	assert_int_equal(crd_load_buffer("doc.yaml", big, n, &set, &errs), -1);
	assert_string_equal(errs.items[0].message, "document is larger than the limit of 1 MiB");
	crd_errors_free(&errs);
	free(big);
}

static void test_error_list_is_capped(void **state)
{
	struct crd_errors errs = {0};
	(void)state;
	for (int i = 0; i < CRD_ERRORS_MAX + 50; i++)
		crd_errors_add(&errs, CRD_SEV_ERROR, "f", i + 1, 1, NULL, "x", "e%d", i);
	assert_int_equal(errs.n, CRD_ERRORS_MAX);
	assert_int_equal(errs.dropped, 50);
	assert_int_equal(errs.n_errors, CRD_ERRORS_MAX + 50);
	crd_errors_free(&errs);
	crd_errors_free(NULL);
}

/* The field of error @i after loading @text (which must fail) into @out. */
static void error_field(const char *text, size_t i, char *out, size_t size)
{
	struct crd_set set = {0};
	struct crd_errors errs = {0};

	assert_int_equal(crd_load_buffer("t.yaml", text, strlen(text), &set, &errs), -1);
	assert_true(errs.n > i);
	snprintf(out, size, "%s", errs.items[i].field);
	crd_errors_free(&errs);
	crd_set_free(&set);
}

/* Error paths name list items by index (several digits too), and a path longer than the
 * decoder's buffer is cut, not overrun. */
static void test_error_paths_name_indexes_and_are_cut_when_long(void **state)
{
	char text[4096], field[1024], key[601];
	size_t n = 0;
	(void)state;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
			      "metadata: {name: v}\nspec:\n  domain:\n    memory: 64Mi\n"
			      "    disks:\n");
	for (int d = 0; d < 12; d++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "    - {path: /d%d.img}\n", d);
	snprintf(text + n, sizeof(text) - n, "    - {path: /last.img, bogus: 1}\n");
	error_field(text, 0, field, sizeof(field));
	assert_string_equal(field, "spec.domain.disks[12].bogus");

	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(text, sizeof(text), "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
		 "metadata: {name: v}\nspec:\n  domain: {memory: 64Mi}\n  %s: 1\n", key);
	error_field(text, 0, field, sizeof(field));
	assert_int_equal(strlen(field), 511);
	assert_memory_equal(field, "spec.xxxx", 9);
}

static int keep_root(void *ctx, struct crd_node *root, int line, int col)
{
	(void)line;
	(void)col;
	*(struct crd_node **)ctx = root;
	return 0;
}

/* A node holds its key and text in its own allocation, the key copied from a buffer the
 * parser reuses for every key: keys of growing and shrinking lengths, on scalars, maps and
 * lists, each keep their own text. */
static void test_yaml_nodes_keep_their_own_keys_and_texts(void **state)
{
	char text[4096], key[1001];   /* libyaml: implicit keys up to 1024 */
	struct crd_errors errs = {0};
	struct crd_node *root = NULL;
	(void)state;

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(text, sizeof(text), "a: 1\n%s: {b: two, c: [x, {d: ~}]}\ne: \"3\"\n", key);
	assert_int_equal(crd_yaml_parse("t.yaml", text, strlen(text), keep_root, &root, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(root);
	assert_int_equal(root->n_kids, 3);
	assert_string_equal(root->kids[0]->key, "a");
	assert_string_equal(root->kids[0]->text, "1");
	assert_int_equal(root->kids[0]->kind, CRD_NODE_INT);
	const struct crd_node *big = root->kids[1];
	assert_string_equal(big->key, key);
	assert_int_equal(big->kind, CRD_NODE_MAP);
	assert_null(big->text);
	assert_int_equal(big->key_line, 2);
	assert_string_equal(crd_node_get(big, "b")->text, "two");
	const struct crd_node *c = crd_node_get(big, "c");
	assert_int_equal(c->n_kids, 2);
	assert_null(c->kids[0]->key);
	assert_string_equal(c->kids[0]->text, "x");
	assert_int_equal(crd_node_get(c->kids[1], "d")->kind, CRD_NODE_NULL);
	assert_string_equal(root->kids[2]->key, "e");
	assert_string_equal(root->kids[2]->text, "3");
	assert_int_equal(root->kids[2]->kind, CRD_NODE_STR);
	crd_node_free(root);
	crd_errors_free(&errs);
}

/* The digest that lets a writer skip an unchanged record tells apart values that differ
 * anywhere, also where a plain concatenation of their parts would not. */
static void test_json_digest_tells_values_apart(void **state)
{
	(void)state;
	const char *texts[] = {
		"{\"a\": \"bc\"}", "{\"ab\": \"c\"}", "{\"a\": [\"b\", \"c\"]}",
		"{\"a\": [\"bc\"]}", "{\"a\": 1}", "{\"a\": \"1\"}", "{\"a\": 1.0}",
		"{\"a\": true}", "{\"a\": false}", "{\"a\": null}", "{\"a\": {}}", "{}",
		"[]", "[[]]", "[{}]", "{\"a\": 2}", "{\"a\": 1, \"b\": 2}",
	};
	size_t n = sizeof(texts) / sizeof(texts[0]);
	uint64_t d[sizeof(texts) / sizeof(texts[0])];

	for (size_t i = 0; i < n; i++) {
		json_t *v = json_loads(texts[i], JSON_DECODE_ANY, NULL);
		json_t *again = json_loads(texts[i], JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		d[i] = crd_json_digest(v);
		assert_true(d[i] != 0);
		assert_true(d[i] == crd_json_digest(again));   /* the same value, the same digest */
		json_decref(v);
		json_decref(again);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_true(d[i] != d[j]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_short_form_gets_defaults),
		cmocka_unit_test(test_knobs_layer_defaults_policy_then_migration),
		cmocka_unit_test(test_api_json_object_round_trips),
		cmocka_unit_test(test_api_object_errors_name_the_object),
		cmocka_unit_test(test_migration_phase_transitions_round_trip),
		cmocka_unit_test(test_migration_prediction_and_statistics_round_trip),
		cmocka_unit_test(test_migration_transition_with_unknown_phase_is_refused),
		cmocka_unit_test(test_status_encoders_omit_unset_fields),
		cmocka_unit_test(test_yaml_output_quotes_strings_that_look_like_other_types),
		cmocka_unit_test(test_short_form_expands_to_escaped_libvirt_xml),
		cmocka_unit_test(test_short_form_cpu_expands_to_a_cpu_element),
		cmocka_unit_test(test_oversized_input_is_refused_before_parsing),
		cmocka_unit_test(test_error_list_is_capped),
		cmocka_unit_test(test_yaml_nodes_keep_their_own_keys_and_texts),
		cmocka_unit_test(test_json_digest_tells_values_apart),
		cmocka_unit_test(test_error_paths_name_indexes_and_are_cut_when_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
