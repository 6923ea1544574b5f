/* reconciler: observe, plan, write status, execute — one pass, and the loop that
 * converges. */
#include "controller/loop/reconciler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/clk.h"
#include "reconcile/observe.h"
#include "reconcile/status.h"

#define REC_WAIT_S 1.0

void rec_options_default(struct rec_options *opt)
{
	plan_limits_default(&opt->limits);
	opt->stop_timeout_s = 60;
	opt->max_rounds = 20;
	opt->wait_in_flight = true;
	opt->timeout_s = 3600;
}

int rec_init(struct rec *r, const struct rec_options *opt, const struct rec_sink *sink,
	     const struct rec_view *view)
{
	memset(r, 0, sizeof(*r));
	r->opt = *opt;
	if (sink)
		r->sink = *sink;
	if (view)
		r->view = *view;
	pthread_mutex_init(&r->lock, NULL);
	lv_pool_init(&r->pool, NULL, NULL);
	return lv_global_init();
}

void rec_set_wake(struct rec *r, lv_wake_fn fn, void *opaque)
{
	r->pool.wake = fn;
	r->pool.wake_opaque = opaque;
}

double rec_retry_due_in(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	double due = retry_next_due(&r->retries, clk_mono());
	pthread_mutex_unlock(&r->lock);
	return due;
}

void rec_free(struct rec *r)
{
	if (!r)
		return;
	lv_pool_free(&r->pool);
	for (size_t i = 0; i < r->n_records; i++)
		crd_migration_free(&r->records[i].m);
	free(r->records);
	r->records = NULL;
	r->n_records = 0;
	retry_free(&r->retries);
	pthread_mutex_destroy(&r->lock);
}

int rec_observe_and_plan(struct rec *r, const struct crd_set *set, struct inventory *inv,
			 struct plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	if (obs_inventory(&r->pool, set, inv) < 0)
		return -1;
	return plan_compute(set, inv, &r->opt.limits, plan);
}

/* Records the end of a Migration the planner closed without a move. */
static void finish_migration(struct rec *r, const struct plan_action *a, const char *now)
{
	struct crd_migration *m = (struct crd_migration *)a->migration;
	struct exec_move mv = {.phase = a->migration_phase, .downtime_ms = -1};

	if (!m)
		return;
	snprintf(mv.source, sizeof(mv.source), "%s", m->status.source_host ? m->status.source_host
					      : a->src ? a->src : "");
	snprintf(mv.target, sizeof(mv.target), "%s", m->status.target_host ? m->status.target_host
					      : a->dst ? a->dst : "");
	snprintf(mv.start_time, sizeof(mv.start_time), "%s", m->status.start_time ? m->status.start_time
					      : now);
	snprintf(mv.end_time, sizeof(mv.end_time), "%s", now);
	snprintf(mv.note, sizeof(mv.note), "%s", a->reason ? a->reason : "");
	mv.progress = m->status.progress;
	mv.mode = m->status.mode;
	if (a->migration_phase == CRD_MIG_SUCCEEDED)
		mv.progress.percent = 100;
	if (status_migration_update(&m->status, &mv, m->meta.generation, now) == 0 &&
	    r->sink.migration)
		r->sink.migration(r->sink.opaque, m);
}

/* A user's Migration the plan is about to carry out, or waits to (a limit), is Pending
 * until its move starts. Called with the lock held. */
static void mark_pending(struct rec *r, const struct plan_action *a, const char *now)
{
	struct crd_migration *m = (struct crd_migration *)a->migration;

	if (!m || m->status.phase != CRD_MIG_PHASE_NONE || a->kind == PLAN_BLOCKED)
		return;
	if (status_migration_set_phase(&m->status, CRD_MIG_PENDING, now) == 0 && r->sink.migration)
		r->sink.migration(r->sink.opaque, m);
}

/* Writes every VM's status. The plan's actions and the inventory's domains are indexed
 * once here: a search per VM made an idle pass quadratic in the number of VMs. Without
 * memory for the indexes no VM status is written this pass; the next pass writes it. */
static void write_vm_status(struct rec *r, struct crd_set *set, const struct inventory *inv,
			    const struct plan *plan, const char *now)
{
	const struct plan_action **acts = plan_actions_by_vm(plan, set);
	struct inv_index doms;

	if (inv_index_inventory(&doms, inv) == 0 && acts)
		for (size_t i = 0; i < set->n_vms; i++) {
			struct crd_vm *vm = &set->vms[i];
			if (status_vm_update(vm, acts[i], inv, &doms, now) == 0 && r->sink.vm)
				r->sink.vm(r->sink.opaque, vm);
		}
	inv_index_free(&doms);
	free(acts);
}

void rec_write_status(struct rec *r, struct crd_set *set, const struct inventory *inv,
		      const struct plan *plan)
{
	char now[32];

	clk_rfc3339(now, sizeof(now));
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < set->n_hosts; i++) {
		struct crd_host *h = &set->hosts[i];
		if (status_host_update(h, inv_host_by_name(inv, h->meta.name), now) == 0 && r->sink.host)
			r->sink.host(r->sink.opaque, h);
	}
	for (size_t i = 0; i < plan->n; i++)
		if (plan->actions[i].kind == PLAN_FINISH_MIGRATION)
			finish_migration(r, &plan->actions[i], now);
		else
			mark_pending(r, &plan->actions[i], now);
	write_vm_status(r, set, inv, plan, now);
	pthread_mutex_unlock(&r->lock);
}

/* ---- moves drover records itself ---- */

/* The record of the move @a is carrying out (a user's Migration, or one of drover's
 * own, made on first use). Called with the lock held. Returns NULL when out of memory. */
static struct crd_migration *move_record(struct rec *r, const struct plan_action *a,
					 const char *now)
{
	if (a->migration)
		return (struct crd_migration *)a->migration;
	for (size_t i = 0; i < r->n_records; i++)
		if (!strcmp(r->records[i].m.spec.vm_name, a->vm->meta.name) &&
		    !strcmp(r->records[i].m.meta.namespace, a->vm->meta.namespace) &&
		    r->records[i].m.status.phase == CRD_MIG_RUNNING)
			return &r->records[i].m;
	struct rec_record *grown = realloc(r->records, (r->n_records + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	r->records = grown;
	struct crd_migration *m = &r->records[r->n_records].m;
	memset(m, 0, sizeof(*m));
	/* web-1-20261123-181351: the VM and when drover decided to move it. */
	char name[64], stamp[16];
	snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2s-%.2s%.2s%.2s", now, now + 5, now + 8, now + 11,
		 now + 14, now + 17);
	snprintf(name, sizeof(name), "%.46s-%s", a->vm->meta.name, stamp);
	m->meta.name = strdup(name);
	m->meta.namespace = strdup(a->vm->meta.namespace);
	m->meta.generation = 1;
	m->spec.vm_name = strdup(a->vm->meta.name);
	m->spec.target_host = a->dst ? strdup(a->dst) : NULL;
	m->spec.mode = a->kind == PLAN_MIGRATE_COLD ? CRD_MODE_COLD : CRD_MODE_AUTO;
	/* Every knob written: a drover that takes the move over after a restart watches it with
	 * the knobs it started with, whatever the VM's policy says by then. */
	m->spec.knobs = a->knobs;
	m->spec.knobs.set = CRD_KNOB_ALL;
	crd_map_free(&m->meta.labels);
	if (!m->meta.name || !m->meta.namespace || !m->spec.vm_name) {
		crd_migration_free(m);
		return NULL;
	}
	r->n_records++;
	return m;
}

struct rec_job {
	struct rec *r;
	struct crd_set *set;
	const struct plan_action *a;
	struct exec_ctx ctx;
	struct exec_conns conns;
	struct exec_move move;
	char why[1024];
	int rc;
	pthread_t thread;
	bool started;
	struct mig_cancel cancel;     /* this action's own abort, under the reconciler's */
};

int rec_cancel_migration(struct rec *r, const char *ns, const char *name)
{
	int found = 0;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_running; i++) {
		const struct crd_migration *m = r->running[i]->a->migration;
		if (m && !strcmp(m->meta.namespace, ns) && !strcmp(m->meta.name, name)) {
			__atomic_store_n(&r->running[i]->cancel.requested, 1, __ATOMIC_SEQ_CST);
			found = 1;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

int rec_cancel_withdrawn(struct rec *r, const struct crd_set *desired)
{
	int stopped = 0;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_running; i++) {
		const struct crd_migration *m = r->running[i]->a->migration, *now;
		/* A move drover decided itself, or the record of one taken over that nothing
		 * declares (see state_add_unfinished): the manifests cannot withdraw it. */
		if (!m || m->undeclared)
			continue;
		now = crd_set_migration(desired, m->meta.namespace, m->meta.name);
		if (now && !now->spec.cancel)
			continue;
		if (!__atomic_exchange_n(&r->running[i]->cancel.requested, 1, __ATOMIC_SEQ_CST))
			stopped++;
	}
	pthread_mutex_unlock(&r->lock);
	return stopped;
}

static void on_move(void *opaque, const struct plan_action *a, const struct exec_move *mv)
{
	struct rec_job *job = opaque;
	struct rec *r = job->r;
	struct crd_vm *vm = (struct crd_vm *)a->vm;
	char now[32];

	clk_rfc3339(now, sizeof(now));
	pthread_mutex_lock(&r->lock);
	struct crd_migration *m = move_record(r, a, now);
	if (m && status_migration_update(&m->status, mv, m->meta.generation, now) == 0) {
		if (r->sink.migration)
			r->sink.migration(r->sink.opaque, m);
		free(vm->status.migration.name);
		vm->status.migration.name = strdup(m->meta.name);
		vm->status.migration.phase = mv->phase;
		vm->status.migration.percent = mv->progress.percent;
		vm->status.phase = mv->phase == CRD_MIG_RUNNING ? CRD_VM_MIGRATING : vm->status.phase;
		if (r->sink.vm)
			r->sink.vm(r->sink.opaque, vm);
	}
	if (r->view.move)
		r->view.move(r->view.opaque, a, mv);
	pthread_mutex_unlock(&r->lock);
}

static void *job_thread(void *arg)
{
	struct rec_job *job = arg;
	job->rc = exec_action(&job->ctx, job->a, &job->conns, &job->move, job->why,
			      sizeof(job->why));
	return NULL;
}

static const struct crd_host *host_named(const struct crd_set *set, const char *name)
{
	for (size_t i = 0; name && i < set->n_hosts; i++)
		if (!strcmp(set->hosts[i].meta.name, name))
			return &set->hosts[i];
	return NULL;
}

static void vm_key(const struct crd_vm *vm, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", vm->meta.namespace, vm->meta.name);
}

/* True while @vm's last failed action is backing off (see controller/retry.h). */
static bool backing_off(struct rec *r, const struct crd_vm *vm)
{
	char key[RETRY_KEY_MAX];
	vm_key(vm, key, sizeof(key));
	return retry_wait_left(&r->retries, key, clk_mono()) > 0;
}

static bool acts(enum plan_kind k)
{
	return k != PLAN_BLOCKED && k != PLAN_WAIT && k != PLAN_FINISH_MIGRATION;
}

/* A VM whose action failed earlier in this converge; it is not tried again. */
struct failed {
	const struct crd_vm **vms;
	char **why;
	size_t n;
};

static bool has_failed(const struct failed *f, const struct crd_vm *vm)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->vms[i] == vm)
			return true;
	return false;
}

static void remember_failure(struct failed *f, const struct crd_vm *vm, const char *why)
{
	const struct crd_vm **vms = realloc(f->vms, (f->n + 1) * sizeof(*vms));
	char **whys = vms ? realloc(f->why, (f->n + 1) * sizeof(*whys)) : NULL;
	if (vms)
		f->vms = vms;
	if (whys)
		f->why = whys;
	if (!vms || !whys)
		return;
	f->vms[f->n] = vm;
	f->why[f->n++] = strdup(why);
}

static void failed_free(struct failed *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->why[i]);
	free(f->vms);
	free(f->why);
}

/* Runs @jobs[0..n) in threads and waits for them all; while they run they are
 * listed in r->running, so a cancel can find them. */
static void run_jobs(struct rec *r, struct rec_job *jobs, size_t n)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < n; i++)
		r->running[i] = &jobs[i];
	r->n_running = n;
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < n; i++)
		jobs[i].started = pthread_create(&jobs[i].thread, NULL, job_thread, &jobs[i]) == 0;
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		else
			job_thread(&jobs[i]); /* no thread to be had: run it here */
	}
	pthread_mutex_lock(&r->lock);
	r->n_running = 0;
	pthread_mutex_unlock(&r->lock);
}

/* Executes the plan's actions: stops first (they free memory for what follows), then
 * everything else in parallel. Failures are remembered in @f. */
static void execute(struct rec *r, struct crd_set *set, const struct plan *plan,
		    struct failed *f, struct rec_result *res)
{
	struct rec_job *jobs = calloc(REC_MAX_PARALLEL, sizeof(*jobs));
	if (!jobs)
		return;
	for (int stage = 0; stage < 2; stage++) {
		size_t n = 0;
		for (size_t i = 0; i < plan->n && n < REC_MAX_PARALLEL; i++) {
			const struct plan_action *a = &plan->actions[i];
			bool early = a->kind == PLAN_STOP || a->kind == PLAN_UNDEFINE_STALE;
			if (!acts(a->kind) || a->kind == PLAN_NONE || has_failed(f, a->vm) ||
			    early != (stage == 0) || backing_off(r, a->vm))
				continue;
			struct rec_job *job = &jobs[n++];
			memset(job, 0, sizeof(*job));
			job->r = r;
			job->set = set;
			job->a = a;
			job->cancel.parent = &r->cancel;
			job->ctx = (struct exec_ctx){.desired = set, .stop_timeout_s = r->opt.stop_timeout_s,
						     .on_move = on_move, .opaque = job, .cancel = &job->cancel};
			job->conns.src = a->src ? lv_connect(&r->pool, a->src) : NULL;
			job->conns.dst = a->dst ? lv_connect(&r->pool, a->dst) : NULL;
			job->conns.src_host = host_named(set, a->src);
			job->conns.dst_host = host_named(set, a->dst);
		}
		run_jobs(r, jobs, n);
		for (size_t i = 0; i < n; i++) {
			char key[RETRY_KEY_MAX];
			vm_key(jobs[i].a->vm, key, sizeof(key));
			if (jobs[i].rc != 0 && jobs[i].move.phase == CRD_MIG_CANCELLED) {
				/* Asked for: no failure, no backoff; the next pass replans. */
				jobs[i].rc = REC_CANCELLED;
				res->actions_done++;
			} else if (jobs[i].rc == 0) {
				res->actions_done++;
				retry_succeeded(&r->retries, key);
			} else {
				res->actions_failed++;
				remember_failure(f, jobs[i].a->vm, jobs[i].why);
				retry_failed(&r->retries, key, jobs[i].why, clk_mono());
			}
			if (r->view.action_done) {
				pthread_mutex_lock(&r->lock);
				r->view.action_done(r->view.opaque, jobs[i].a, jobs[i].rc, jobs[i].why);
				pthread_mutex_unlock(&r->lock);
			}
		}
	}
	free(jobs);
}

/* NONE actions of adopted domains: drover's metadata written into them (cheap, no thread),
 * in every round, also one with nothing else to do: a domain whose definition lost it
 * (redefined behind drover's back) is otherwise adopted again on every pass, never marked. */
static void adopt_domains(struct rec *r, struct crd_set *set, const struct plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_action *a = &plan->actions[i];
		if (a->kind != PLAN_NONE || !a->adopt || !a->dst)
			continue;
		struct exec_ctx ctx = {.desired = set};
		struct exec_conns conns = {.dst = lv_connect(&r->pool, a->dst)};
		struct exec_move mv;
		char why[64];
		/* Best effort: an adoption that fails now is tried again next pass. */
		if (exec_action(&ctx, a, &conns, &mv, why, sizeof(why)) < 0)
			continue;
	}
}

/* Forgets the records of this converge's moves once every job has ended: their last
 * status is written, and from then on the written status is the truth. A move whose
 * outcome is unknown (its source went away) stays Running there, and the next converge
 * loads and settles it; a record kept here could be taken for a new move's. */
static void forget_records(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_records; i++)
		crd_migration_free(&r->records[i].m);
	r->n_records = 0;
	pthread_mutex_unlock(&r->lock);
}

/* Marks the VMs whose action failed in their status, so the reason is not lost. */
static void write_failures(struct rec *r, const struct failed *f)
{
	char now[32];

	clk_rfc3339(now, sizeof(now));
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < f->n; i++) {
		struct crd_vm *vm = (struct crd_vm *)f->vms[i];
		if (status_set_condition(&vm->status.conditions, "Placed", CRD_COND_FALSE,
					 "ActionFailed", f->why[i] ? f->why[i] : "",
					 vm->meta.generation, now) == 0 && r->sink.vm)
			r->sink.vm(r->sink.opaque, vm);
	}
	pthread_mutex_unlock(&r->lock);
}

/* VMs waiting out the backoff of an earlier failure say so in their status, with the
 * failure, until their next try. */
static void write_backoffs(struct rec *r, struct crd_set *set, const struct failed *f)
{
	char now[32], key[RETRY_KEY_MAX], msg[700];
	double mono = clk_mono();

	clk_rfc3339(now, sizeof(now));
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < set->n_vms; i++) {
		struct crd_vm *vm = &set->vms[i];
		vm_key(vm, key, sizeof(key));
		double left = retry_wait_left(&r->retries, key, mono);
		if (left <= 0 || has_failed(f, vm))
			continue;
		snprintf(msg, sizeof(msg), "%s; next try in %.0f s", retry_why(&r->retries, key), left);
		if (status_set_condition(&vm->status.conditions, "Placed", CRD_COND_FALSE,
					 "BackingOff", msg, vm->meta.generation, now) == 0 && r->sink.vm)
			r->sink.vm(r->sink.opaque, vm);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Counts what keeps the plan from being converged, ignoring VMs given up on. */
static void count_pending(const struct plan *plan, const struct failed *f, int *changes,
			  int *blocked, int *waiting)
{
	*changes = *blocked = *waiting = 0;
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_action *a = &plan->actions[i];
		if (has_failed(f, a->vm) && a->kind != PLAN_FINISH_MIGRATION)
			continue;
		if (a->kind == PLAN_BLOCKED)
			(*blocked)++;
		else if (a->kind == PLAN_WAIT)
			(*waiting)++;
		else if (a->kind != PLAN_NONE)
			(*changes)++;
	}
}

int rec_converge(struct rec *r, struct crd_set *set, struct rec_result *res)
{
	struct failed f = {0};
	double deadline = clk_mono() + r->opt.timeout_s;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	/* @counted: the rounds that count against max_rounds (see wait_in_flight). */
	for (int round = 0, counted = 0; counted < r->opt.max_rounds; round++, counted++) {
		struct inventory inv;
		struct plan plan;
		int changes, blocked, waiting;

		if (rec_observe_and_plan(r, set, &inv, &plan) < 0) {
			inv_free(&inv);
			ret = -1;
			break;
		}
		rec_write_status(r, set, &inv, &plan);
		if (round == 0 && r->view.plan) {
			pthread_mutex_lock(&r->lock);
			r->view.plan(r->view.opaque, &plan);
			pthread_mutex_unlock(&r->lock);
		}
		count_pending(&plan, &f, &changes, &blocked, &waiting);
		res->blocked = blocked;
		res->converged = !changes && !blocked && !waiting && !f.n;
		bool finish_only = changes > 0;
		for (size_t i = 0; finish_only && i < plan.n; i++)
			if (plan.actions[i].kind != PLAN_FINISH_MIGRATION &&
			    plan.actions[i].kind != PLAN_NONE && plan.actions[i].kind != PLAN_BLOCKED &&
			    plan.actions[i].kind != PLAN_WAIT && !has_failed(&f, plan.actions[i].vm))
				finish_only = false;
		if (changes && !finish_only)
			execute(r, set, &plan, &f, res);
		adopt_domains(r, set, &plan);
		plan_free(&plan);
		inv_free(&inv);
		if (!changes && !waiting)
			break;
		if (finish_only)
			continue; /* statuses were written; the next pass sees them closed */
		if (clk_mono() > deadline)
			break;
		if (!changes) {
			clk_sleep(REC_WAIT_S); /* only waiting: for a limit or a running job */
			if (r->opt.wait_in_flight)
				counted--;
		}
	}
	write_failures(r, &f);
	write_backoffs(r, set, &f);
	forget_records(r);
	res->converged = res->converged && !f.n;
	failed_free(&f);
	return ret;
}
