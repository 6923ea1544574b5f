/* status_print: what `drover status` prints — the recorded hosts, virtual machines and
 * migrations as tables, or as one Kubernetes List in JSON or YAML. */
#include "controller/cli/status_print.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "controller/cli/table.h"
#include "controller/cli/view.h"
#include "crd/encode.h"
#include "crd/quantity.h"
#include "reconcile/status.h"

/* ---- order ---- */

/* Every kind starts with its metadata, so a pointer to an object is one to its crd_meta. */
_Static_assert(offsetof(struct crd_host, meta) == 0, "crd_host starts with meta");
_Static_assert(offsetof(struct crd_vm, meta) == 0, "crd_vm starts with meta");
_Static_assert(offsetof(struct crd_migration, meta) == 0, "crd_migration starts with meta");

static int by_namespace_name(const void *a, const void *b)
{
	const struct crd_meta *x = *(const struct crd_meta *const *)a;
	const struct crd_meta *y = *(const struct crd_meta *const *)b;
	int c = strcmp(x->namespace ? x->namespace : "default", y->namespace ? y->namespace : "default");
	return c ? c : strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Returns pointers to the @n objects of @size bytes at @base, sorted by namespace and name;
 * the caller frees the array (not the objects). Returns NULL when out of memory. */
static const void **sorted(const void *base, size_t n, size_t size)
{
	const void **v = malloc((n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = (const char *)base + i * size;
	qsort(v, n, sizeof(*v), by_namespace_name);
	return v;
}

/* ---- JSON and YAML ---- */

/* Appends the whole objects of one kind, sorted. Returns 0, or -1 when out of memory. */
static int append_kind(json_t *items, const void *base, size_t n, size_t size,
		       json_t *(*to_json)(const void *obj))
{
	const void **v = sorted(base, n, size);
	int rc = -1;

	if (!v)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(items, to_json(v[i])) < 0)
			goto cleanup;
	rc = 0;
cleanup:
	free(v);
	return rc;
}

static json_t *host_json(const void *obj) { return crd_host_to_json(obj); }
static json_t *vm_json(const void *obj) { return crd_vm_to_json(obj); }
static json_t *migration_json(const void *obj) { return crd_migration_to_json(obj); }

json_t *status_to_list(const struct crd_set *set, const struct lastvalid_note *invalid)
{
	json_t *items = json_array();
	json_t *list = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "List",
				 "metadata", "resourceVersion", "");

	if (!items || !list ||
	    append_kind(items, set->hosts, set->n_hosts, sizeof(*set->hosts), host_json) < 0 ||
	    append_kind(items, set->vms, set->n_vms, sizeof(*set->vms), vm_json) < 0 ||
	    append_kind(items, set->migrations, set->n_migrations, sizeof(*set->migrations),
			migration_json) < 0 ||
	    json_object_set(list, "items", items) < 0 ||
	    (invalid && json_object_set_new(list, "manifests", lastvalid_note_to_json(invalid)) < 0)) {
		json_decref(list);
		list = NULL;
	}
	json_decref(items);
	return list;
}

/* ---- AGE ---- */

/* Parses RFC 3339 ("2026-11-23T18:35:57Z", fractions and offsets allowed). Returns 0 with
 * @out set, or -1. */
static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long offset = 0;

	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
		if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
			return -1;
		offset = (*p == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = timegm(&tm) - offset;
	return 0;
}

/* The steps of k8s.io/apimachinery's duration.HumanDuration, so AGE reads as in kubectl. */
const char *status_age(const char *since, time_t now, char *buf, size_t size)
{
	time_t start;

	if (!since || parse_rfc3339(since, &start) < 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	long long s = now > start ? (long long)(now - start) : 0;
	long long m = s / 60, h = s / 3600, d = s / 86400;

	if (s < 120)
		snprintf(buf, size, "%llds", s);
	else if (m < 10 && s % 60)
		snprintf(buf, size, "%lldm%llds", m, s % 60);
	else if (m < 180)
		snprintf(buf, size, "%lldm", m);
	else if (h < 8 && m % 60)
		snprintf(buf, size, "%lldh%lldm", h, m % 60);
	else if (h < 48)
		snprintf(buf, size, "%lldh", h);
	else if (h < 192 && h % 24)
		snprintf(buf, size, "%lldd%lldh", d, h % 24);
	else if (d < 730)
		snprintf(buf, size, "%lldd", d);
	else if (d < 2920 && d % 365)
		snprintf(buf, size, "%lldy%lldd", d / 365, d % 365);
	else
		snprintf(buf, size, "%lldy", d / 365);
	return buf;
}

/* ---- tables ---- */

/* Returns the condition @type of @c, or NULL. */
static const struct crd_condition *condition(const struct crd_conditions *c, const char *type)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].type && !strcmp(c->items[i].type, type))
			return &c->items[i];
	return NULL;
}

/* "True", "False", "Unknown", or "-" when the condition was never reported. */
static const char *condition_status(const struct crd_conditions *c, const char *type)
{
	const struct crd_condition *x = condition(c, type);
	return x ? crd_cond_status_str(x->status) : "-";
}

/* Why condition @type is False (its message, else its reason), or NULL when it is not. */
static const char *false_because(const struct crd_conditions *c, const char *type)
{
	const struct crd_condition *x = condition(c, type);

	if (!x || x->status != CRD_COND_FALSE)
		return NULL;
	return x->message && *x->message ? x->message : x->reason;
}

static void meta_cells(struct table *t, const struct crd_meta *m)
{
	table_cell(t, m->namespace ? m->namespace : "default");
	table_cell(t, m->name);
}

#define N_COLS(a) (sizeof(a) / sizeof((a)[0]))

/* One table section: how a row of its kind is filled in. The wide view (-o wide, as in
 * kubectl) has the @wide_headers columns before the last one; @row fills them when @wide. */
struct section {
	const char *title;
	const char *const *headers;
	size_t n_cols;
	const char *const *wide_headers;
	size_t n_wide;
	size_t last_max;            /* characters of the last column; 0 = no limit */
	void (*row)(struct table *t, const void *obj, time_t now, bool wide);
};

/* The wide columns of a Host: vCPUs allocated of its CPU threads, its CPU load and its free
 * huge pages, each "-" until observe reported it. */
static void host_wide_cells(struct table *t, const struct crd_host *h)
{
	const struct crd_host_cpu *cpu = &h->status.cpu;
	const struct crd_host_hugepages *hp = &h->status.hugepages;
	char size[32];

	if (cpu->threads) {
		table_cellf(t, "%lld/%lld", (long long)cpu->allocated_vcpus, (long long)cpu->threads);
		table_cellf(t, "%.0f%%", 100.0 * cpu->load);
	} else {
		table_cell(t, NULL);
		table_cell(t, NULL);
	}
	if (hp->page_size && crd_quantity_format(hp->page_size, size, sizeof(size)) >= 0)
		table_cellf(t, "%lld/%lld of %s", (long long)hp->free, (long long)hp->total, size);
	else
		table_cell(t, NULL);
}

static void host_row(struct table *t, const void *obj, time_t now, bool wide)
{
	const struct crd_host *h = obj;
	const struct crd_conditions *c = &h->status.conditions;
	const struct crd_hypervisor *hv = &h->status.hypervisor;
	const char *why = false_because(c, "Reachable");
	char flags[64], free_b[32], total_b[32];

	(void)now;
	bool fenced = h->spec.fenced || status_condition_true(c, "Fenced");
	snprintf(flags, sizeof(flags), "%s%s%s%s", h->spec.unschedulable ? ",Unschedulable" : "",
		 h->spec.drain ? ",Drain" : "", status_condition_true(c, "Failed") ? ",Failed" : "",
		 fenced ? ",Fenced" : "");
	meta_cells(t, &h->meta);
	table_cell(t, condition_status(c, "Reachable"));
	table_cell(t, condition_status(c, "Ready"));
	table_cell(t, flags[0] ? flags + 1 : NULL);
	table_cellf(t, "%lld", (long long)h->status.vms);
	if (h->status.memory_total)
		table_cellf(t, "%s/%s", view_bytes(h->status.memory_free, free_b, sizeof(free_b)),
			    view_bytes(h->status.memory_total, total_b, sizeof(total_b)));
	else
		table_cell(t, NULL);
	table_cellf(t, "%s%s%s", hv->type ? hv->type : "", hv->type && hv->version ? " " : "",
		    hv->version ? hv->version : "");
	if (wide)
		host_wide_cells(t, h);
	table_cell(t, why ? why : false_because(c, "Ready"));
}

static const char *const host_headers[] = {
	"NAMESPACE", "NAME", "REACHABLE", "READY", "FLAGS", "VMS", "MEMORY FREE/TOTAL", "HYPERVISOR",
	"REASON",
};

static const char *const host_wide_headers[] = {"VCPUS/THREADS", "LOAD", "HUGEPAGES FREE/TOTAL"};

static const struct section host_section = {
	.title = "HOSTS",
	.headers = host_headers,
	.n_cols = N_COLS(host_headers),
	.wide_headers = host_wide_headers,
	.n_wide = N_COLS(host_wide_headers),
	.row = host_row,
};

/* status.placement of a VM: why its host was chosen, and how many others were turned down
 * (-o yaml lists them with their reasons). */
static void vm_placement_cell(struct table *t, const struct crd_vm *vm)
{
	const struct crd_vm_placement *pl = &vm->status.placement;
	size_t n = pl->rejected.n;

	if (!pl->reason && !n)
		table_cell(t, NULL);
	else if (!n)
		table_cell(t, pl->reason);
	else
		table_cellf(t, "%s (%zu host%s rejected)", pl->reason ? pl->reason : "-", n,
			    n == 1 ? "" : "s");
}

static void vm_row(struct table *t, const void *obj, time_t now, bool wide)
{
	const struct crd_vm *vm = obj;
	const struct crd_vm_migration_ref *mig = &vm->status.migration;

	(void)now;
	meta_cells(t, &vm->meta);
	table_cell(t, vm->spec.running ? "running" : "stopped");
	table_cell(t, vm->status.host);
	table_cell(t, vm->spec.host);
	table_cell(t, crd_vm_phase_str(vm->status.phase));
	if (mig->name && mig->phase != CRD_MIG_PHASE_NONE)
		table_cellf(t, "%s %s %d%%", mig->name, crd_mig_phase_str(mig->phase),
			    (int)mig->percent);
	else
		table_cell(t, mig->name);
	if (wide)
		vm_placement_cell(t, vm);
	table_cell(t, false_because(&vm->status.conditions, "Placed"));
}

static const char *const vm_headers[] = {
	"NAMESPACE", "NAME", "DESIRED", "HOST", "PINNED", "PHASE", "MIGRATION", "REASON",
};

static const char *const vm_wide_headers[] = {"PLACEMENT"};

static const struct section vm_section = {
	.title = "VIRTUAL MACHINES",
	.headers = vm_headers,
	.n_cols = N_COLS(vm_headers),
	.wide_headers = vm_wide_headers,
	.n_wide = N_COLS(vm_wide_headers),
	.row = vm_row,
};

static void migration_row(struct table *t, const void *obj, time_t now, bool wide)
{
	const struct crd_migration *m = obj;
	const struct crd_migration_status *st = &m->status;
	char age[32];

	(void)wide;                 /* every column of a Migration is in the narrow view */
	meta_cells(t, &m->meta);
	table_cell(t, m->spec.vm_name);
	table_cell(t, st->source_host);
	table_cell(t, st->target_host ? st->target_host : m->spec.target_host);
	table_cell(t, crd_mig_phase_str(st->phase));
	/* The mode it runs in once it runs; until then the mode asked for (Auto, Live, Cold). */
	table_cell(t, st->mode != CRD_RUN_MODE_NONE ? crd_mig_run_mode_str(st->mode)
						     : crd_migration_mode_str(m->spec.mode));
	if (st->phase == CRD_MIG_RUNNING || st->phase == CRD_MIG_SUCCEEDED || st->progress.percent > 0)
		table_cellf(t, "%d%%", (int)st->progress.percent);
	else
		table_cell(t, NULL);
	if (st->downtime_ms > 0)
		table_cellf(t, "%lldms", (long long)st->downtime_ms);
	else
		table_cell(t, NULL);
	table_cell(t, status_age(st->start_time ? st->start_time : m->meta.creation_timestamp, now,
				 age, sizeof(age)));
	table_cell(t, st->failure_reason);
}

static const char *const migration_headers[] = {
	"NAMESPACE", "NAME", "VM", "SOURCE", "TARGET", "PHASE", "MODE", "PROGRESS", "DOWNTIME", "AGE",
	"FAILURE REASON",
};

static const struct section migration_section = {
	.title = "MIGRATIONS",
	.headers = migration_headers,
	.n_cols = N_COLS(migration_headers),
	.last_max = STATUS_REASON_MAX,
	.row = migration_row,
};

/* The headers of @sec in @wide view or not into @buf (TABLE_MAX_COLS). Returns how many,
 * 0 when they do not fit (table_init then marks the table failed). */
static size_t section_headers(const struct section *sec, bool wide, const char **buf)
{
	size_t n = 0;

	if (sec->n_cols + (wide ? sec->n_wide : 0) > TABLE_MAX_COLS)
		return 0;
	for (size_t i = 0; i + 1 < sec->n_cols; i++)
		buf[n++] = sec->headers[i];
	for (size_t i = 0; wide && i < sec->n_wide; i++)
		buf[n++] = sec->wide_headers[i];
	buf[n++] = sec->headers[sec->n_cols - 1];
	return n;
}

/* Prints one section: a blank line when one came before, the title, then the table of
 * the @n objects of @size bytes at @base, sorted; nothing when @n is 0. Returns 0, or -1
 * when out of memory or writing failed. */
static int print_section(FILE *out, const struct section *sec, const void *base, size_t n,
			 size_t size, time_t now, bool wide, int *printed)
{
	struct table t;
	const char *headers[TABLE_MAX_COLS] = {NULL};
	const void **v = NULL;
	int rc = -1;

	if (n == 0)
		return 0;
	size_t n_cols = section_headers(sec, wide, headers);
	table_init(&t, headers, n_cols);
	if (n_cols)
		table_set_max_width(&t, n_cols - 1, sec->last_max);
	if (!(v = sorted(base, n, size)))
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		sec->row(&t, v[i], now, wide);
	if (*printed)
		fputc('\n', out);
	fprintf(out, "%s\n", sec->title);
	if (table_print(&t, out) < 0)
		goto cleanup;
	*printed = 1;
	rc = 0;
cleanup:
	free(v);
	table_free(&t);
	return rc;
}

/* The MANIFESTS INVALID section: since when, what drover acts on meanwhile, and each error
 * at its place. Returns 0, or -1 when out of memory or writing failed. */
static int print_invalid(FILE *out, const struct lastvalid_note *n, int *printed)
{
	static const char *const headers[] = {"FILE", "FIELD", "ERROR"};
	struct table t;
	int rc = -1;

	table_init(&t, headers, N_COLS(headers));
	for (size_t i = 0; i < n->errs.n; i++) {
		const struct crd_error *e = &n->errs.items[i];
		if (e->line > 0)
			table_cellf(&t, "%s:%d:%d", e->file ? e->file : "-", e->line, e->col);
		else
			table_cell(&t, e->file);
		table_cell(&t, e->field && *e->field ? e->field : e->object);
		table_cell(&t, e->message);
	}
	fprintf(out, "MANIFESTS INVALID since %s: %s%s\n", n->since,
		n->acting_on ? "acting on the last valid set in " : "no valid set saved, nothing is "
								   "acted on",
		n->acting_on ? n->acting_on : "");
	if (table_rows(&t) && table_print(&t, out) < 0)
		goto cleanup;
	if (n->more)
		fprintf(out, "... and %zu more error%s\n", n->more, n->more == 1 ? "" : "s");
	*printed = 1;
	rc = 0;
cleanup:
	table_free(&t);
	return rc;
}

static int print_tables(FILE *out, const struct crd_set *set, const struct lastvalid_note *invalid,
			time_t now, bool wide)
{
	int printed = 0;

	if ((invalid && print_invalid(out, invalid, &printed) < 0) ||
	    print_section(out, &host_section, set->hosts, set->n_hosts, sizeof(*set->hosts), now,
			  wide, &printed) < 0 ||
	    print_section(out, &vm_section, set->vms, set->n_vms, sizeof(*set->vms), now, wide,
			  &printed) < 0 ||
	    print_section(out, &migration_section, set->migrations, set->n_migrations,
			  sizeof(*set->migrations), now, wide, &printed) < 0)
		return -1;
	return 0;
}

int status_print(FILE *out, const struct crd_set *set, const struct lastvalid_note *invalid,
		 const char *format, time_t now)
{
	json_t *list = NULL;
	char *yaml = NULL;
	int rc = -1;

	if (!strcmp(format, "table") || !strcmp(format, "wide")) {
		rc = print_tables(out, set, invalid, now, !strcmp(format, "wide"));
		goto cleanup;
	}
	if (strcmp(format, "json") && strcmp(format, "yaml"))
		goto cleanup;
	if (!(list = status_to_list(set, invalid)))
		goto cleanup;
	if (!strcmp(format, "json")) {
		char *text = crd_json_dumps(list, JSON_INDENT(4) | JSON_SORT_KEYS);
		if (!text)
			goto cleanup;
		fputs(text, out);
		fputc('\n', out);
		free(text);
	} else {
		if (!(yaml = crd_json_to_yaml(list)))
			goto cleanup;
		fputs(yaml, out);
	}
	rc = 0;
cleanup:
	free(yaml);
	json_decref(list);
	return rc == 0 && (fflush(out) != 0 || ferror(out)) ? -1 : rc;
}
