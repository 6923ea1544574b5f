/* view: the plan, like `terraform plan`, and live progress of moves. */
#include "controller/cli/view.h"

#include <string.h>
#include <unistd.h>

#include "controller/serve/log.h"
#include "controller/loop/reconciler.h"
#include "reconcile/clk.h"

#define VIEW_PLAIN_EVERY_S 2.0
#define VIEW_BAR 20

void view_init(struct view *v, FILE *out)
{
	memset(v, 0, sizeof(*v));
	v->out = out;
	v->tty = isatty(fileno(out)) == 1;
}

const char *view_bytes(unsigned long long bytes, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double value = (double)bytes;
	size_t u = 0;

	while (value >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		value /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", value, units[u]);
	return buf;
}

static char symbol(enum plan_kind k)
{
	switch (k) {
	case PLAN_DEFINE: case PLAN_DEFINE_START: return '+';
	case PLAN_START: case PLAN_RESTART: return '>';
	case PLAN_STOP: case PLAN_UNDEFINE_STALE: case PLAN_DELETE: case PLAN_DISOWN: return '-';
	case PLAN_MIGRATE_LIVE: case PLAN_MIGRATE_LIVE_COPY: case PLAN_MIGRATE_COLD:
	case PLAN_WATCH_MIGRATION: return '~';
	case PLAN_FINISH_MIGRATION: return '=';
	case PLAN_BLOCKED: return '!';
	case PLAN_WAIT: return '.';
	case PLAN_TUNE: case PLAN_REDEFINE: return '*';
	case PLAN_NONE: return ' ';
	}
	return '?';
}

/* "lab-a → lab-b", "on lab-a" or "" for the hosts of @a. */
static void where(const struct plan_action *a, char *buf, size_t size)
{
	if (a->src && a->dst && strcmp(a->src, a->dst))
		snprintf(buf, size, "%s → %s", a->src, a->dst);
	else if (a->dst || a->src)
		snprintf(buf, size, "on %s", a->dst ? a->dst : a->src);
	else
		buf[0] = '\0';
}

static void close_line(struct view *v)
{
	if (v->line_open) {
		fputc('\n', v->out);
		v->line_open = false;
	}
}

/* The hosts placement turned down for a VM it placed (a blocked VM's reason lists them
 * already): the first few, then how many more. */
static void print_rejected(struct view *v, const struct plan_action *a)
{
	enum { SHOWN = 5 };

	if (!a->placement || a->kind == PLAN_BLOCKED)
		return;
	for (size_t i = 0; i < a->rejected.n && i < SHOWN; i++)
		fprintf(v->out, "      not %s: %s\n", a->rejected.items[i].key,
			a->rejected.items[i].value);
	if (a->rejected.n > SHOWN)
		fprintf(v->out, "      (%zu more hosts turned down)\n", a->rejected.n - SHOWN);
}

int view_print_plan(struct view *v, const struct plan *p)
{
	int changes = 0, blocked = 0, waiting = 0, unchanged = 0;
	char hosts[160], name[140];

	close_line(v);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_action *a = &p->actions[i];
		if (a->kind == PLAN_NONE && a->restart_required) {
			/* Nothing drover does by itself: shown, not counted as a change. */
			where(a, hosts, sizeof(hosts));
			snprintf(name, sizeof(name), "%s/%s", a->vm->meta.namespace, a->vm->meta.name);
			fprintf(v->out, "  ! %-14s %-28s %-22s %s\n", "restart-required", name, hosts,
				a->reason ? a->reason : "");
			continue;
		}
		if (a->kind == PLAN_NONE) {
			unchanged++;
			continue;
		}
		blocked += a->kind == PLAN_BLOCKED;
		waiting += a->kind == PLAN_WAIT;
		changes += a->kind != PLAN_BLOCKED && a->kind != PLAN_WAIT;
		where(a, hosts, sizeof(hosts));
		if (a->kind == PLAN_FINISH_MIGRATION && a->migration)
			snprintf(name, sizeof(name), "migration %s/%s", a->migration->meta.namespace,
				 a->migration->meta.name);
		else
			snprintf(name, sizeof(name), "%s/%s", a->vm->meta.namespace, a->vm->meta.name);
		fprintf(v->out, "  %c %-14s %-28s %-22s %s\n", symbol(a->kind), plan_kind_str(a->kind),
			name, hosts, a->reason ? a->reason : "");
		print_rejected(v, a);
	}
	if (unchanged)
		fprintf(v->out, "    (%d VirtualMachine%s unchanged)\n", unchanged, unchanged == 1 ? "" : "s");
	fprintf(v->out, "Plan: %d to change, %d blocked, %d waiting.\n", changes, blocked, waiting);
	fflush(v->out);
	return changes;
}

int view_print_orphans(struct view *v, const struct plan_orphans *o)
{
	int prunes = 0;
	char name[300], hosts[160];

	close_line(v);
	for (size_t i = 0; i < o->n; i++) {
		const struct plan_orphan *x = &o->items[i];
		prunes += x->prune;
		snprintf(name, sizeof(name), "%s/%s", x->owner_namespace, x->owner_name);
		snprintf(hosts, sizeof(hosts), "on %s", x->host);
		fprintf(v->out, "  %c %-14s %-28s %-22s %s\n", x->prune ? '-' : '!',
			x->prune ? "prune" : "orphaned", name, hosts, x->reason);
	}
	if (o->n)
		fprintf(v->out, "Orphaned: %zu, %d to prune.\n", o->n, prunes);
	fflush(v->out);
	return prunes;
}

void view_on_orphans(void *opaque, const struct plan_orphans *o)
{
	(void)view_print_orphans(opaque, o);
}

void view_on_orphan_done(void *opaque, const struct plan_orphan *o, int rc, const char *why)
{
	struct view *v = opaque;

	close_line(v);
	if (rc == 0)
		fprintf(v->out, "done    %-14s %s/%s on %s\n", "prune", o->owner_namespace,
			o->owner_name, o->host);
	else
		fprintf(v->out, "FAILED  %-14s %s/%s on %s: %s\n", "prune", o->owner_namespace,
			o->owner_name, o->host, why);
	fflush(v->out);
}

void view_on_plan(void *opaque, const struct plan *p)
{
	view_print_plan(opaque, p);
}

void view_on_still_blocked(void *opaque, const struct plan *p)
{
	struct view *v = opaque;
	char hosts[160];

	close_line(v);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_action *a = &p->actions[i];
		if (a->kind != PLAN_BLOCKED)
			continue;
		where(a, hosts, sizeof(hosts));
		fprintf(v->out, "blocked %s/%s %s: %s\n", a->vm->meta.namespace, a->vm->meta.name,
			hosts, a->reason ? a->reason : "");
	}
	fflush(v->out);
}

void view_on_action_done(void *opaque, const struct plan_action *a, int rc, const char *why)
{
	struct view *v = opaque;
	char hosts[160];

	close_line(v);
	where(a, hosts, sizeof(hosts));
	if (rc == 0 || rc == REC_CANCELLED)
		fprintf(v->out, "%-7s %-14s %s/%s %s\n", rc ? "CANCELLED" : "done",
			plan_kind_str(a->kind), a->vm->meta.namespace, a->vm->meta.name, hosts);
	else
		fprintf(v->out, "FAILED  %-14s %s/%s %s: %s\n", plan_kind_str(a->kind),
			a->vm->meta.namespace, a->vm->meta.name, hosts, why);
	fflush(v->out);
}

/* One progress line of a move of VM @name; on a terminal it is redrawn in place, otherwise
 * printed at most every VIEW_PLAIN_EVERY_S. */
static void draw_progress(struct view *v, const char *name, const char *src, const char *dst,
			  const struct crd_mig_progress *p, enum crd_mig_run_mode mode)
{
	char bar[VIEW_BAR + 1], rate[32], dirty[32], eta[32] = "";
	int filled = p->percent * VIEW_BAR / 100;
	double now = clk_mono();

	if (!v->tty && now - v->last_line < VIEW_PLAIN_EVERY_S)
		return;
	v->last_line = now;
	for (int i = 0; i < VIEW_BAR; i++)
		bar[i] = i < filled ? '#' : '-';
	bar[VIEW_BAR] = '\0';
	if (p->transfer_rate_bps && p->data_remaining_bytes)
		snprintf(eta, sizeof(eta), " ETA %llus",
			 (unsigned long long)(p->data_remaining_bytes / p->transfer_rate_bps) + 1);
	fprintf(v->out, "%s%s %s → %s [%s] %3d%% %s/s dirty %s/s %s%s", v->tty ? "\r\033[K" : "",
		name, src, dst, bar, p->percent, view_bytes(p->transfer_rate_bps, rate, sizeof(rate)),
		view_bytes(p->memory_dirty_rate_bps, dirty, sizeof(dirty)), crd_mig_run_mode_str(mode),
		eta);
	if (v->tty)
		v->line_open = true;
	else
		fputc('\n', v->out);
	fflush(v->out);
}

void view_on_move(void *opaque, const struct plan_action *a, const struct exec_move *m)
{
	if (m->phase != CRD_MIG_RUNNING)
		return; /* the end is reported by view_on_action_done */
	draw_progress(opaque, a->vm->meta.name, m->source, m->target, &m->progress, m->mode);
}

void view_migration(struct view *v, const struct crd_migration *m, enum crd_mig_phase *shown)
{
	const struct crd_migration_status *st = &m->status;
	char moved[32];

	if (st->phase == CRD_MIG_RUNNING && *shown == CRD_MIG_RUNNING) {
		draw_progress(v, m->spec.vm_name, st->source_host ? st->source_host : "?",
			      st->target_host ? st->target_host : "?", &st->progress, st->mode);
		return;
	}
	if (st->phase == *shown)
		return;
	*shown = st->phase;
	close_line(v);
	fprintf(v->out, "migration %s/%s: %s", m->meta.namespace, m->meta.name,
		st->phase ? crd_mig_phase_str(st->phase) : "not picked up yet");
	if (st->source_host && st->target_host)
		fprintf(v->out, " (%s → %s)", st->source_host, st->target_host);
	if (st->phase == CRD_MIG_SUCCEEDED)
		fprintf(v->out, ", %s copied, downtime %lld ms",
			view_bytes(st->progress.data_processed_bytes, moved, sizeof(moved)),
			(long long)st->downtime_ms);
	/* What the move took against what drover said it would before it started. */
	if (st->phase == CRD_MIG_SUCCEEDED && st->statistics.set) {
		fprintf(v->out, ", took %.2f s", (double)st->statistics.elapsed_ms / 1000);
		if (st->prediction.set)
			fprintf(v->out, " (predicted %.2f s)", (double)st->prediction.duration_ms / 1000);
	}
	if (st->failure_reason && *st->failure_reason)
		fprintf(v->out, ": %s", st->failure_reason);
	fputc('\n', v->out);
	fflush(v->out);
}

void view_log_orphan_done(void *opaque, const struct plan_orphan *o, int rc, const char *why)
{
	char key[300];
	(void)opaque;

	snprintf(key, sizeof(key), "%s/%s", o->owner_namespace, o->owner_name);
	log_kv(rc < 0 ? "error" : "info", rc < 0 ? "action failed" : "action done", "vm", key,
	       "action", "prune", "dst", o->host, rc < 0 ? "why" : NULL, why ? why : "", NULL);
}

void view_log_action_done(void *opaque, const struct plan_action *a, int rc, const char *why)
{
	char key[300];
	(void)opaque;

	snprintf(key, sizeof(key), "%s/%s", a->vm->meta.namespace, a->vm->meta.name);
	bool failed = rc < 0;
	log_kv(failed ? "error" : "info", failed ? "action failed" : rc ? "action cancelled"
	       : "action done", "vm", key, "action", plan_kind_str(a->kind), "src",
	       a->src ? a->src : "-", "dst", a->dst ? a->dst : "-", failed ? "why" : NULL,
	       why ? why : "", NULL);   /* why only on failure: NULL ends */
}
