/* metrics: what drover counts about itself (migrations, reconciles, hosts, VMs), kept in
 * a small thread-safe registry and rendered in the Prometheus text format 0.0.4. */
#include "controller/serve/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/kube/kube_obj.h"
#include "reconcile/clk.h"

/* ---- what there is ---- */

/* Counter and gauge families, rendered in this order. */
enum fam {
	F_MIGRATIONS_TOTAL, F_HOST_PAIR_MIGRATIONS, F_MIGRATIONS_RUNNING, F_DATA_PROCESSED,
	F_DATA_REMAINING, F_DIRTY_RATE, F_TRANSFER_RATE, F_PERCENT, F_RECONCILE_ERRORS, F_HOST_REACHABLE,
	F_VMS, F_HOST_FAILED, F_HOST_FAILURES, F_FENCE_OPS, F_FENCE_LAST, F_MANIFESTS_VALID,
	F_SERIES_DROPPED, F_COUNT
};

#define N_LABELS 3                        /* labels of a family at the most */

struct fam_desc {
	const char *name, *help, *type;
	const char *labels[N_LABELS];     /* NULL when unused */
};

static const struct fam_desc fams[F_COUNT] = {
	[F_MIGRATIONS_TOTAL] = {"drover_migrations_total",
				"Migrations that ended, by final phase.", "counter", {"phase"}},
	[F_MIGRATIONS_RUNNING] = {"drover_migrations_running", "Migrations running now.", "gauge", {NULL}},
	[F_DATA_PROCESSED] = {"drover_migration_data_processed_bytes",
			      "Bytes a running migration has transferred.", "gauge",
			      {"namespace", "vm"}},
	[F_DATA_REMAINING] = {"drover_migration_data_remaining_bytes",
			      "Bytes a running migration has left to transfer.", "gauge",
			      {"namespace", "vm"}},
	[F_DIRTY_RATE] = {"drover_migration_memory_dirty_rate_bytes_per_second",
			  "Rate at which the guest of a running migration dirties memory.", "gauge",
			  {"namespace", "vm"}},
	[F_TRANSFER_RATE] = {"drover_migration_transfer_rate_bytes_per_second",
			     "Rate at which a running migration transfers data.", "gauge",
			     {"namespace", "vm"}},
	[F_PERCENT] = {"drover_migration_percent", "Progress of a running migration (0-100).",
		       "gauge", {"namespace", "vm"}},
	[F_RECONCILE_ERRORS] = {"drover_reconcile_errors_total",
				"Reconcile passes that failed or had an action fail.", "counter",
				{NULL}},
	[F_HOST_REACHABLE] = {"drover_host_reachable",
			      "Whether drover reaches the host's libvirt (1) or not (0).", "gauge",
			      {"host"}},
	[F_VMS] = {"drover_vms", "Virtual machines by status phase.", "gauge", {"phase"}},
	[F_HOST_FAILED] = {"drover_host_failed",
			   "Whether the host is Failed (unreachable past detectAfterSeconds).", "gauge",
			   {"host"}},
	[F_HOST_FAILURES] = {"drover_host_failures_total", "Hosts that became Failed.", "counter",
			     {NULL}},
	[F_FENCE_OPS] = {"drover_fence_operations_total", "Fences drover ran, by result.",
			 "counter", {"result"}},
	[F_FENCE_LAST] = {"drover_host_last_fence_timestamp_seconds",
			  "When drover last fenced the host (status.fencing.time).", "gauge",
			  {"host"}},
	[F_MANIFESTS_VALID] = {"drover_manifests_valid",
			       "Whether the manifests load (1); 0: drover acts on the last valid set.",
			       "gauge", {NULL}},
	[F_SERIES_DROPPED] = {"drover_metrics_series_dropped_total",
			      "Series not recorded: the series cap was reached or a label was too long.",
			      "counter", {NULL}},
	/* Created at a move's end: one series per host pair and final phase that happened. */
	[F_HOST_PAIR_MIGRATIONS] = {"drover_host_pair_migrations_total",
				    "Migrations that ended, by source host, target host and final phase.",
				    "counter", {"source", "target", "phase"}},
};

/* The per-VM gauges of a running migration: created and removed together. */
static const enum fam vm_fams[] = {F_DATA_PROCESSED, F_DATA_REMAINING, F_DIRTY_RATE,
				   F_TRANSFER_RATE, F_PERCENT};
#define N_VM_FAMS (sizeof(vm_fams) / sizeof(vm_fams[0]))

/* Histograms, unlabelled, with fixed buckets (upper bounds, ascending). */
enum hist_id { H_DOWNTIME, H_MIG_DURATION, H_RECONCILE, H_FAILOVER, H_COUNT };
#define MAX_BUCKETS 12

struct hist_desc {
	const char *name, *help;
	double bounds[MAX_BUCKETS];
	size_t n;
};

/* Downtime is kept in seconds: Prometheus's base unit, and what promtool's lint wants. */
static const struct hist_desc hists[H_COUNT] = {
	[H_DOWNTIME] = {"drover_migration_downtime_seconds",
			"Guest downtime of live migrations that succeeded.",
			{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}, 10},
	[H_MIG_DURATION] = {"drover_migration_duration_seconds",
			    "Duration of migrations that ended, start to end.",
			    {1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600}, 10},
	[H_RECONCILE] = {"drover_reconcile_duration_seconds", "Duration of one reconcile pass.",
			 {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}, 12},
	/* The target is under a minute with the default detection; Proxmox takes ~2. */
	[H_FAILOVER] = {"drover_failover_seconds",
			"Host failures, from the first failed probe to the last of the host's VMs "
			"running elsewhere.",
			{10, 20, 30, 45, 60, 90, 120, 180, 300, 600}, 10},
};

struct series {
	enum fam fam;
	char *labels[N_LABELS];           /* owned; NULL when the family has fewer labels */
	double value;
};

struct hist {
	uint64_t counts[MAX_BUCKETS];     /* per bucket, not cumulative */
	uint64_t count;
	double sum;
};

struct metrics {
	pthread_mutex_t lock;             /* guards everything below */
	struct series *series;
	size_t n_series, cap_series;
	struct hist hist[H_COUNT];
	double dropped;
};

/* ---- series (called with the lock held) ---- */

static bool same_label(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct series *series_find(struct metrics *m, enum fam f, const char *l0, const char *l1,
				   const char *l2)
{
	for (size_t i = 0; i < m->n_series; i++) {
		struct series *s = &m->series[i];
		if (s->fam == f && same_label(s->labels[0], l0) && same_label(s->labels[1], l1) &&
		    same_label(s->labels[2], l2))
			return s;
	}
	return NULL;
}

static void labels_free(char *labels[N_LABELS])
{
	for (int l = 0; l < N_LABELS; l++)
		free(labels[l]);
}

/* Copies label value @v for a family that has label @name. Returns 0 with *@out
 * set (NULL when the family has no such label), or -1 when @v is too long or out of
 * memory. */
static int label_dup(const char *name, const char *v, char **out)
{
	*out = NULL;
	if (!name)
		return 0;
	if (!v)
		v = "";
	if (strlen(v) > METRICS_LABEL_MAX)
		return -1;
	*out = strdup(v);
	return *out ? 0 : -1;
}

/* Room for one more series. Returns 0, or -1 at the cap or when out of memory. */
static int series_reserve(struct metrics *m)
{
	if (m->n_series == METRICS_MAX_SERIES)
		return -1;
	if (m->n_series < m->cap_series)
		return 0;
	size_t cap = m->cap_series ? m->cap_series * 2 : 32;
	if (cap > METRICS_MAX_SERIES)
		cap = METRICS_MAX_SERIES;
	struct series *grown = realloc(m->series, cap * sizeof(*grown));
	if (!grown)
		return -1;
	m->series = grown;
	m->cap_series = cap;
	return 0;
}

/* The series of family @f with labels @l0/@l1/@l2, created at 0 when absent. Returns NULL
 * (and counts a dropped series) when the cap is reached, a label is too long, or out
 * of memory. */
static struct series *series_get(struct metrics *m, enum fam f, const char *l0, const char *l1,
				 const char *l2)
{
	const struct fam_desc *d = &fams[f];
	struct series s = {.fam = f};

	l0 = d->labels[0] ? (l0 ? l0 : "") : NULL;
	l1 = d->labels[1] ? (l1 ? l1 : "") : NULL;
	l2 = d->labels[2] ? (l2 ? l2 : "") : NULL;
	struct series *found = series_find(m, f, l0, l1, l2);
	if (found)
		return found;
	if (series_reserve(m) < 0 || label_dup(d->labels[0], l0, &s.labels[0]) < 0 ||
	    label_dup(d->labels[1], l1, &s.labels[1]) < 0 ||
	    label_dup(d->labels[2], l2, &s.labels[2]) < 0) {
		labels_free(s.labels);
		m->dropped += 1;
		return NULL;
	}
	m->series[m->n_series] = s;
	return &m->series[m->n_series++];
}

static void series_set(struct metrics *m, enum fam f, const char *l0, const char *l1, double v)
{
	struct series *s = series_get(m, f, l0, l1, NULL);
	if (s)
		s->value = v;
}

static void series_add(struct metrics *m, enum fam f, const char *l0, const char *l1,
		       const char *l2, double v)
{
	struct series *s = series_get(m, f, l0, l1, l2);
	if (s)
		s->value += v;
}

/* Removes one series, keeping the order of the others (so the output is stable). */
static void series_remove(struct metrics *m, enum fam f, const char *l0, const char *l1)
{
	struct series *s = series_find(m, f, l0, l1, NULL);
	if (!s)
		return;
	labels_free(s->labels);
	size_t i = (size_t)(s - m->series);
	memmove(s, s + 1, (m->n_series - i - 1) * sizeof(*s));
	m->n_series--;
}

static size_t series_count(const struct metrics *m, enum fam f)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_series; i++)
		n += m->series[i].fam == f;
	return n;
}

static void hist_observe(struct metrics *m, enum hist_id id, double v)
{
	const struct hist_desc *d = &hists[id];
	struct hist *h = &m->hist[id];

	if (isnan(v))
		return;
	for (size_t i = 0; i < d->n; i++)
		if (v <= d->bounds[i]) {
			h->counts[i]++;
			break;
		}
	h->count++;  /* a value above every bound is only in +Inf, which is the count */
	h->sum += v;
}

/* ---- the registry ---- */

static const char *const final_phases[] = {"Succeeded", "Failed", "Cancelled"};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	/* Series that always exist, so that rate() and alerts see a 0 before the first event. */
	for (size_t i = 0; i < sizeof(final_phases) / sizeof(final_phases[0]); i++)
		series_set(m, F_MIGRATIONS_TOTAL, final_phases[i], NULL, 0);
	series_set(m, F_MIGRATIONS_RUNNING, NULL, NULL, 0);
	series_set(m, F_RECONCILE_ERRORS, NULL, NULL, 0);
	series_set(m, F_HOST_FAILURES, NULL, NULL, 0);
	series_set(m, F_FENCE_OPS, "Succeeded", NULL, 0);
	series_set(m, F_FENCE_OPS, "Failed", NULL, 0);
	if (m->dropped) {
		metrics_free(m);
		return NULL;
	}
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_series; i++)
		labels_free(m->series[i].labels);
	free(m->series);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Seconds from @start to @end (RFC 3339), or NAN when either does not parse. */
static double span_seconds(const char *start, const char *end)
{
	double a, b;
	if (clk_parse_rfc3339(start, &a) < 0 || clk_parse_rfc3339(end, &b) < 0 || b < a)
		return NAN;
	return b - a;
}

/* Records the end of a move and forgets its per-VM series. Lock held. */
static void move_ended(struct metrics *m, const char *ns, const char *vm,
		       const struct exec_move *mv)
{
	series_add(m, F_MIGRATIONS_TOTAL, crd_mig_phase_str(mv->phase), NULL, NULL, 1);
	series_add(m, F_HOST_PAIR_MIGRATIONS, mv->source, mv->target, crd_mig_phase_str(mv->phase), 1);
	hist_observe(m, H_MIG_DURATION, span_seconds(mv->start_time, mv->end_time));
	if (mv->phase == CRD_MIG_SUCCEEDED && mv->mode != CRD_RUN_COLD && mv->downtime_ms >= 0)
		hist_observe(m, H_DOWNTIME, (double)mv->downtime_ms / 1000.0);
	for (size_t i = 0; i < N_VM_FAMS; i++)
		series_remove(m, vm_fams[i], ns, vm);
}

/* Sets the per-VM gauges of a running move; all five or none, so that counting one
 * family counts the moves. Lock held. */
static void move_running(struct metrics *m, const char *ns, const char *vm,
			 const struct exec_move *mv)
{
	const struct crd_mig_progress *p = &mv->progress;
	const double values[N_VM_FAMS] = {(double)p->data_processed_bytes,
					  (double)p->data_remaining_bytes,
					  (double)p->memory_dirty_rate_bps,
					  (double)p->transfer_rate_bps, (double)p->percent};

	if (!series_find(m, F_PERCENT, ns, vm, NULL) && m->n_series + N_VM_FAMS > METRICS_MAX_SERIES) {
		m->dropped += N_VM_FAMS;
		return;
	}
	for (size_t i = 0; i < N_VM_FAMS; i++)
		series_set(m, vm_fams[i], ns, vm, values[i]);
	if (!series_find(m, F_PERCENT, ns, vm, NULL)) /* a label too long, or out of memory */
		for (size_t i = 0; i < N_VM_FAMS; i++)
			series_remove(m, vm_fams[i], ns, vm);
}

void metrics_on_move(struct metrics *m, const char *ns, const char *vm,
		     const struct exec_move *mv)
{
	if (!m || !mv)
		return;
	ns = ns ? ns : "";
	vm = vm ? vm : "";
	pthread_mutex_lock(&m->lock);
	switch (mv->phase) {
	case CRD_MIG_RUNNING:
		move_running(m, ns, vm, mv);
		break;
	case CRD_MIG_SUCCEEDED:
	case CRD_MIG_FAILED:
	case CRD_MIG_CANCELLED:
		move_ended(m, ns, vm, mv);
		break;
	default:
		break;
	}
	series_set(m, F_MIGRATIONS_RUNNING, NULL, NULL, (double)series_count(m, F_PERCENT));
	pthread_mutex_unlock(&m->lock);
}

void metrics_on_reconcile(struct metrics *m, double seconds, bool error)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	hist_observe(m, H_RECONCILE, seconds < 0 ? 0 : seconds);
	if (error)
		series_add(m, F_RECONCILE_ERRORS, NULL, NULL, NULL, 1);
	pthread_mutex_unlock(&m->lock);
}

void metrics_on_failover(struct metrics *m, double seconds)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	hist_observe(m, H_FAILOVER, seconds < 0 ? 0 : seconds);
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_host(struct metrics *m, const char *host, bool reachable)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	series_set(m, F_HOST_REACHABLE, host, NULL, reachable ? 1 : 0);
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_host_failure(struct metrics *m, const char *host, bool failed,
			      const char *fence_time, const char *fence_result)
{
	double t;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	const struct series *was = series_find(m, F_HOST_FAILED, host, NULL, NULL);
	if (failed && !(was && was->value == 1))
		series_add(m, F_HOST_FAILURES, NULL, NULL, NULL, 1);
	series_set(m, F_HOST_FAILED, host, NULL, failed ? 1 : 0);
	/* A fence time not seen before is a fence that ran (or one from before a restart). */
	if (fence_time && fence_result && clk_parse_rfc3339(fence_time, &t) == 0) {
		const struct series *last = series_find(m, F_FENCE_LAST, host, NULL, NULL);
		if (!last || last->value != t) {
			series_add(m, F_FENCE_OPS, !strcmp(fence_result, "Failed") ? "Failed"
						   : "Succeeded", NULL, NULL, 1);
			series_set(m, F_FENCE_LAST, host, NULL, t);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_manifests_valid(struct metrics *m, bool valid)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	series_set(m, F_MANIFESTS_VALID, NULL, NULL, valid ? 1 : 0);
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_vm_phases(struct metrics *m, const struct crd_vm *vms, size_t n)
{
	size_t counts[CRD_VM_UNKNOWN + 1] = {0};

	if (!m)
		return;
	for (size_t i = 0; i < n; i++)
		if (vms[i].status.phase > CRD_VM_PHASE_NONE && vms[i].status.phase <= CRD_VM_UNKNOWN)
			counts[vms[i].status.phase]++;
	pthread_mutex_lock(&m->lock);
	for (int p = CRD_VM_PENDING; p <= CRD_VM_UNKNOWN; p++)
		series_set(m, F_VMS, crd_vm_phase_str((enum crd_vm_phase)p), NULL, (double)counts[p]);
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_orphans(struct metrics *m, size_t n)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	series_set(m, F_VMS, crd_vm_phase_str(CRD_VM_ORPHANED), NULL, (double)n);
	pthread_mutex_unlock(&m->lock);
}

/* ---- rendering ---- */

/* A text builder with a hard cap whose errors are sticky: after a failure every call
 * does nothing and the caller checks `failed` once at the end. */
struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	for (int attempt = 0; attempt < 2 && !o->failed; attempt++) {
		size_t room = o->cap - o->len;
		va_start(ap, fmt);
		int n = vsnprintf(o->buf ? o->buf + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
		} else if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		} else {
			size_t want = o->len + (size_t)n + 1, cap = o->cap ? o->cap : 4096;
			while (cap < want)
				cap *= 2;
			if (want > METRICS_RENDER_MAX) {
				o->failed = true;
				return;
			}
			if (cap > METRICS_RENDER_MAX)
				cap = METRICS_RENDER_MAX;
			char *grown = realloc(o->buf, cap);
			if (!grown) {
				o->failed = true;
				return;
			}
			o->buf = grown;
			o->cap = cap;
		}
	}
}

/* Appends @s escaped: backslash and newline always, the double quote in label values. */
static void out_escaped(struct out *o, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n"
			: quote && *s == '"' ? "\\\"" : NULL;
		if (!esc)
			continue;
		out_printf(o, "%.*s%s", (int)(s - run), run, esc);
		run = s + 1;
	}
	out_printf(o, "%s", run);
}

/* A sample value: integers as integers (counts, bytes), others with full precision.
 * (No floor/fabs: libdrover does not link libm.) */
static void out_value(struct out *o, double v)
{
	if (isinf(v))
		out_printf(o, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		out_printf(o, "NaN");
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		out_printf(o, "%lld", (long long)v);  /* within 2^53 an integer is exact */
	else
		out_printf(o, "%.17g", v);
}

static void out_header(struct out *o, const char *name, const char *help, const char *type)
{
	out_printf(o, "# HELP %s ", name);
	out_escaped(o, help, false);
	out_printf(o, "\n# TYPE %s %s\n", name, type);
}

static void render_family(struct out *o, const struct metrics *m, enum fam f)
{
	const struct fam_desc *d = &fams[f];

	if (!series_count(m, f))
		return;  /* the per-VM gauges when nothing moves, hosts before the first pass */
	out_header(o, d->name, d->help, d->type);
	for (size_t i = 0; i < m->n_series; i++) {
		const struct series *s = &m->series[i];
		if (s->fam != f)
			continue;
		out_printf(o, "%s", d->name);
		for (int l = 0; l < N_LABELS && d->labels[l]; l++) {
			out_printf(o, "%s%s=\"", l ? "," : "{", d->labels[l]);
			out_escaped(o, s->labels[l], true);
			out_printf(o, "\"%s", l == N_LABELS - 1 || !d->labels[l + 1] ? "}" : "");
		}
		out_printf(o, " ");
		out_value(o, s->value);
		out_printf(o, "\n");
	}
}

static void render_hist(struct out *o, const struct metrics *m, enum hist_id id)
{
	const struct hist_desc *d = &hists[id];
	const struct hist *h = &m->hist[id];
	uint64_t cumulative = 0;

	out_header(o, d->name, d->help, "histogram");
	for (size_t i = 0; i < d->n; i++) {
		cumulative += h->counts[i];
		out_printf(o, "%s_bucket{le=\"%g\"} %llu\n", d->name, d->bounds[i],
			   (unsigned long long)cumulative);
	}
	out_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum ", d->name,
		   (unsigned long long)h->count, d->name);
	out_value(o, h->sum);
	out_printf(o, "\n%s_count %llu\n", d->name, (unsigned long long)h->count);
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct out o = {0};

	if (!m)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (int f = 0; f < F_COUNT; f++)
		render_family(&o, m, (enum fam)f);
	/* The dropped count lives outside the series so that it can never be dropped itself. */
	const struct fam_desc *d = &fams[F_SERIES_DROPPED];
	out_header(&o, d->name, d->help, d->type);
	out_printf(&o, "%s ", d->name);
	out_value(&o, m->dropped);
	out_printf(&o, "\n");
	for (int id = 0; id < H_COUNT; id++)
		render_hist(&o, m, (enum hist_id)id);
	pthread_mutex_unlock(&m->lock);
	out_printf(&o, "%s", "");  /* a NUL even when nothing was written */
	if (o.failed || !o.buf) {
		free(o.buf);
		return NULL;
	}
	if (len)
		*len = o.len;
	return o.buf;
}
