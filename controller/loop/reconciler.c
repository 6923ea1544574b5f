/* reconciler: observe, plan, write status, dispatch — one pass, and the loop that
 * converges. Actions run as jobs in threads of their own; a pass never waits for them. */
#include "controller/loop/reconciler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/loop/records.h"
#include "reconcile/clk.h"
#include "reconcile/invdigest.h"
#include "reconcile/observe.h"
#include "reconcile/predict.h"
#include "reconcile/status.h"

/* apply: how long a converge waits for a job to end before it looks again. */
#define REC_WAIT_S 1.0

/* What became of a cleanup of the copies a move left (an UNDEFINE_STALE action with the
 * move's record): the record is finished only once all of its cleanups succeeded. */
enum cleanup_state { CLEANUP_NONE, CLEANUP_RUNNING, CLEANUP_OK, CLEANUP_FAILED };

/* One pass's desired set and plan, shared by the jobs it dispatched (their actions and VMs
 * point into it): whoever lets go last frees it. @refs is guarded by the reconciler's lock. */
struct rec_snapshot {
	struct crd_set *set;
	struct crd_set owned;     /* the set, when the snapshot owns it (rec_pass) */
	struct plan plan;
	unsigned char *cleanup;   /* per plan action, enum cleanup_state; NULL until one runs */
	bool quiet_wanted;        /* the caller may run quiet passes after it (rec_pass_keep) */
	int refs;
};

struct rec_job {
	struct rec *r;
	struct rec_snapshot *snap;    /* a reference: @a and its VM live there */
	const struct plan_action *a;
	struct crd_vm *vm;            /* a->vm, the snapshot's own (writable) copy */
	struct crd_migration *mig;    /* the record of a move: a user's Migration, or @own */
	struct crd_migration own;     /* drover's record of a move it decided itself */
	struct exec_ctx ctx;
	struct exec_conns conns;
	virConnectPtr own_src, own_dst; /* a move's connections of its own, or NULL */
	struct exec_move move;
	struct mig_cancel cancel;     /* this job's own abort (a cancelled Migration) */
	char key[RETRY_KEY_MAX];      /* "ns/name" of the VM */
	char failover_from[64];       /* a restart after fencing: the fenced host, else "" */
	char started[32];             /* when the job began (RFC 3339) */
	char why[1024];
	int rc;
};

void rec_options_default(struct rec_options *opt)
{
	plan_limits_default(&opt->limits);
	opt->stop_timeout_s = 60;
	opt->max_rounds = 20;
	opt->wait_in_flight = true;
	opt->timeout_s = 3600;
	opt->keep_migrations = RECORDS_KEEP_DEFAULT;
	plan_failure_policy_default(&opt->failure);
	opt->resync_s = REC_RESYNC_DEFAULT_S;
}

/* hostfail's end of a failover, handed to the view. */
static void on_failover_done(void *opaque, const char *host, double seconds)
{
	struct rec *r = opaque;
	if (r->view.failover)
		r->view.failover(r->view.opaque, host, seconds);
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
	pthread_cond_init(&r->job_ended, NULL);
	lv_pool_init(&r->pool, NULL, NULL);
	hostfail_init(&r->hostfail, &r->opt.failure, &r->lock);
	r->hostfail.failover_done = on_failover_done;
	r->hostfail.failover_opaque = r;
	return lv_global_init();
}

void rec_set_wake(struct rec *r, lv_wake_fn fn, void *opaque)
{
	r->pool.wake = fn;
	r->pool.wake_opaque = opaque;
	r->hostfail.wake = fn;
	r->hostfail.wake_opaque = opaque;
}

void rec_set_secret_reader(struct rec *r,
			   char *(*fn)(void *opaque, const char *ns, const char *name,
				       const char *key, char *why, size_t why_size),
			   void *opaque)
{
	r->hostfail.secret = fn;
	r->hostfail.secret_opaque = opaque;
}

/* The sooner of two "seconds until due" (-1: nothing due). */
static double sooner(double a, double b)
{
	return a >= 0 && (b < 0 || a < b) ? a : b;
}

double rec_next_pass_in(struct rec *r, double resync_s)
{
	pthread_mutex_lock(&r->lock);
	double now = clk_mono(), due = retry_next_due(&r->retries, now);
	/* A down host reaching detectAfterSeconds, or its fence's retry, is due too. */
	due = sooner(hostfail_due_in(&r->hostfail, now), due);
	pthread_mutex_unlock(&r->lock);
	/* And the next try to reach a host that went away: its return is noticed then. */
	due = sooner(lv_reconnect_due_in(&r->pool), due);
	/* A little after it is due, so that it is past when the pass looks. */
	return due >= 0 && due < resync_s ? due + 0.1 : resync_s;
}

/* ---- failures within one converge ---- */

/* The reason of @key's failure in this converge, or NULL. */
static const char *failure_of(const struct rec_failed *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->keys[i], key))
			return f->why[i];
	return NULL;
}

static bool has_failed(const struct rec_failed *f, const char *key)
{
	return failure_of(f, key) != NULL;
}

/* Best effort: without memory the VM is merely tried again in this converge. */
static void remember_failure(struct rec_failed *f, const char *key, const char *why)
{
	char **keys = realloc(f->keys, (f->n + 1) * sizeof(*keys));
	char **whys = keys ? realloc(f->why, (f->n + 1) * sizeof(*whys)) : NULL;
	char *k = strdup(key), *w = strdup(why);

	if (keys)
		f->keys = keys;
	if (whys)
		f->why = whys;
	if (!keys || !whys || !k || !w) {
		free(k);
		free(w);
		return;
	}
	f->keys[f->n] = k;
	f->why[f->n++] = w;
}

static void failed_clear(struct rec_failed *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->keys[i]);
		free(f->why[i]);
	}
	free(f->keys);
	free(f->why);
	memset(f, 0, sizeof(*f));
}

/* The retry key of an action of kind @k on @vm: tuning backs off on its own, so a tuning
 * that libvirt refuses never holds up a move or a start of the same VM. */
static void vm_key(const struct crd_vm *vm, enum plan_kind k, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s%s", vm->meta.namespace, vm->meta.name,
		 k == PLAN_TUNE ? "#tune" : "");
}

/* ---- snapshots ---- */

/* A snapshot of @set (taken over when @take) with one reference, the caller's. Returns
 * NULL when out of memory (then @set is left as it was). */
static struct rec_snapshot *snapshot_new(struct crd_set *set, bool take)
{
	struct rec_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->refs = 1;
	s->set = set;
	if (take) {
		s->owned = *set;
		memset(set, 0, sizeof(*set));
		s->set = &s->owned;
	}
	return s;
}

/* Lets go of one reference; called with the lock held. The last one frees the snapshot,
 * its own set once the sink has kept what it wants of it. */
static void snapshot_put(struct rec *r, struct rec_snapshot *s)
{
	if (!s || --s->refs > 0)
		return;
	plan_free(&s->plan);
	if (s->set == &s->owned)
		rec_release_set(r, &s->owned);
	free(s->cleanup);
	free(s);
}

/* ---- status ---- */

int rec_observe_and_plan(struct rec *r, const struct crd_set *set, struct inventory *inv,
			 struct plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	struct plan_limits lim = r->opt.limits;

	if (obs_inventory(&r->pool, set, inv) < 0)
		return -1;
	lim.now = (int64_t)clk_wall();     /* balancing compares it with its earlier moves */
	return plan_compute(set, inv, &lim, plan);
}

int rec_orphans(const struct rec *r, const struct crd_set *set, const struct inventory *inv,
		struct plan_orphans *out)
{
	memset(out, 0, sizeof(*out));
	if (r->opt.orphans == REC_ORPHANS_IGNORE)
		return 0;
	return plan_orphans_compute(set, inv, r->opt.orphans == REC_ORPHANS_PRUNE, out);
}

/* Shows and records the orphans of @inv and, with --prune, stops and undefines them, one
 * after the other, in the calling thread (a prune is rare and each is bounded by the stop
 * timeout; not a job, since a job is a plan action of a declared VM). Counts into @res; a
 * failed prune makes the converge not converged. */
static void handle_orphans(struct rec *r, const struct crd_set *set, const struct inventory *inv,
			   struct rec_result *res)
{
	struct plan_orphans o;
	struct exec_ctx ctx = {.desired = set, .stop_timeout_s = r->opt.stop_timeout_s};
	char why[512];

	if (rec_orphans(r, set, inv, &o) < 0)
		return;
	res->orphans += (int)o.n;
	pthread_mutex_lock(&r->lock);
	if (r->view.orphans)        /* none is news too: a count drops to 0 */
		r->view.orphans(r->view.opaque, &o);
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < o.n; i++) {
		int rc = 0;
		if (o.items[i].prune) {
			rc = exec_prune(&ctx, lv_connect(&r->pool, o.items[i].host), &o.items[i], why,
					sizeof(why));
			lv_host_changed(&r->pool, o.items[i].host);
			if (rc < 0)
				res->actions_failed++;
			else
				res->actions_done++;
		}
		pthread_mutex_lock(&r->lock);
		if (r->sink.orphan)
			r->sink.orphan(r->sink.opaque, &o.items[i], o.items[i].prune && rc == 0);
		if (o.items[i].prune && r->view.orphan_done)
			r->view.orphan_done(r->view.opaque, &o.items[i], rc, why);
		pthread_mutex_unlock(&r->lock);
	}
	plan_orphans_free(&o);
}

/* The snapshot's own, writable copy of an object the plan points to. */
static struct crd_vm *set_vm(struct crd_set *set, const struct crd_vm *vm)
{
	return &set->vms[vm - set->vms];
}

static struct crd_migration *set_migration(struct crd_set *set, const struct crd_migration *m)
{
	return m ? &set->migrations[m - set->migrations] : NULL;
}

static void sink_vm(struct rec *r, struct crd_vm *vm)
{
	if (r->sink.vm)
		r->sink.vm(r->sink.opaque, vm);
}

static void sink_migration(struct rec *r, struct crd_migration *m)
{
	if (r->sink.migration)
		r->sink.migration(r->sink.opaque, m);
}

/* True when @vm's job is in @ended (NULL: none). */
static bool job_ended_for(const struct inventory *ended, const struct crd_vm *vm)
{
	for (size_t i = 0; ended && i < ended->n_jobs; i++)
		if (!strcmp(ended->jobs[i].vm_name, vm->meta.name) &&
		    !strcmp(ended->jobs[i].vm_namespace, vm->meta.namespace))
			return true;
	return false;
}

/* Writes every VM's status. The plan's actions and the inventory's domains are indexed
 * once here: a search per VM made an idle pass quadratic in the number of VMs. Without
 * memory for the indexes no VM status is written this pass; the next pass writes it.
 * A VM whose job ended after its set was loaded (@ended) keeps the status the job wrote:
 * written from the older set, it would undo it — a move's last host among it. The soak
 * found that: a pass on such a set saw the VM nowhere (its source had dropped it, its new
 * host had stopped answering) and cleared status.host; the next pass took the VM for
 * undefined and defined it on a third host while it ran on the unanswering one. */
static void write_vm_status(struct rec *r, struct crd_set *set, const struct inventory *inv,
			    const struct plan *plan, const struct inventory *ended, const char *now)
{
	const struct plan_action **acts = plan_actions_by_vm(plan, set);
	struct inv_index doms;

	if (inv_index_inventory(&doms, inv) == 0 && acts)
		for (size_t i = 0; i < set->n_vms; i++)
			if (!job_ended_for(ended, &set->vms[i]) &&
			    status_vm_update(&set->vms[i], acts[i], inv, &doms, now) == 0)
				sink_vm(r, &set->vms[i]);
	inv_index_free(&doms);
	free(acts);
}

/* A VM whose action failed in this converge keeps saying so (ActionFailed) over what its
 * plan says; one waiting out the backoff of an earlier failure says so, with the failure,
 * until its next try. */
static void write_failures(struct rec *r, struct crd_set *set, const char *now)
{
	char key[RETRY_KEY_MAX];
	double mono = clk_mono();

	for (size_t i = 0; i < set->n_vms * 2; i++) {
		struct crd_vm *vm = &set->vms[i / 2];
		enum plan_kind k = i % 2 ? PLAN_TUNE : PLAN_NONE;
		vm_key(vm, k, key, sizeof(key));
		const char *why = failure_of(&r->failed, key);
		double left = why ? 0 : retry_wait_left(&r->retries, key, mono);
		if (why ? status_vm_action_failed(vm, k, why, now) == 0
		    : left > 0 && status_vm_backing_off(vm, k, retry_why(&r->retries, key), left,
							now) == 0)
			sink_vm(r, vm);
	}
}

/* True when @a cleans up copies that move @m left: an UNDEFINE_STALE with its record. */
static bool cleans_up_after(const struct plan_action *a, const struct crd_migration *m)
{
	return a->kind == PLAN_UNDEFINE_STALE && m && a->migration == m;
}

/* True when the plan deletes copies move @m left: its record is finished once they are
 * gone (finish_after_cleanup), not before — finished first, a cleanup that failed (or a
 * crash before it ran) would leave a copy nothing comes back for. */
static bool has_cleanup(const struct plan *plan, const struct crd_migration *m)
{
	for (size_t i = 0; i < plan->n; i++)
		if (cleans_up_after(&plan->actions[i], m))
			return true;
	return false;
}

/* Writes the status of every Host of @set from @inv. Called with the lock held. */
static void write_host_status(struct rec *r, struct crd_set *set, const struct inventory *inv,
			      const char *now)
{
	for (size_t i = 0; i < set->n_hosts; i++) {
		struct crd_host *h = &set->hosts[i];
		if (status_host_update(h, inv_host_by_name(inv, h->meta.name), now) == 0 &&
		    r->sink.host)
			r->sink.host(r->sink.opaque, h);
	}
}

/* Writes the status of every object of the snapshot from @inv and its plan. Called with
 * the lock held. This function can't fail (a status that cannot be built is skipped). */
static void write_status(struct rec *r, struct rec_snapshot *s, const struct inventory *inv,
			 const struct inventory *ended)
{
	struct crd_set *set = s->set;
	char now[32];

	clk_rfc3339(now, sizeof(now));
	write_host_status(r, set, inv, now);
	for (size_t i = 0; i < s->plan.n; i++) {
		const struct plan_action *a = &s->plan.actions[i];
		struct crd_migration *m = set_migration(set, a->migration);
		if (!m || (a->kind == PLAN_FINISH_MIGRATION && has_cleanup(&s->plan, a->migration)))
			continue;
		if (a->kind == PLAN_FINISH_MIGRATION ? status_migration_finish(m, a, now) == 0
		    : status_migration_pending(m, a, now) > 0)
			sink_migration(r, m);
	}
	write_vm_status(r, set, inv, &s->plan, ended, now);
	write_failures(r, set, now);
}

/* ---- jobs ---- */

/* A job's record of its move: the user's Migration, or one of drover's own, made on first
 * use and named after the VM and the time drover decided to move it. Returns NULL when out
 * of memory. */
static struct crd_migration *move_record(struct rec_job *job, const char *now)
{
	const struct plan_action *a = job->a;
	struct crd_migration *m = &job->own;
	char name[64], stamp[16];

	if (job->mig)
		return job->mig;
	/* web-1-20261123-181351 */
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
	if (!m->meta.name || !m->meta.namespace || !m->spec.vm_name) {
		crd_migration_free(m);
		return NULL;
	}
	return job->mig = m;
}

/* A move's record changed (phase, progress): its Migration and its VM say so. */
static void on_move(void *opaque, const struct plan_action *a, const struct exec_move *mv)
{
	struct rec_job *job = opaque;
	struct rec *r = job->r;
	char now[32];

	clk_rfc3339(now, sizeof(now));
	pthread_mutex_lock(&r->lock);
	struct crd_migration *m = move_record(job, now);
	if (m && status_migration_move(m, a, mv, now) == 0) {
		sink_migration(r, m);
		pred_remember(m);   /* the next moves' predictions learn from it */
		if (status_vm_move(job->vm, m, mv) == 0)
			sink_vm(r, job->vm);
	}
	if (r->view.move)
		r->view.move(r->view.opaque, a, mv);
	pthread_mutex_unlock(&r->lock);
}

static void running_remove(struct rec *r, const struct rec_job *job)
{
	for (size_t i = 0; i < r->n_running; i++)
		if (r->running[i] == job) {
			r->running[i] = r->running[--r->n_running];
			return;
		}
}

/* The job's outcome, recorded where the passes find it. Called with the lock held. */
static void job_settle(struct rec *r, struct rec_job *job)
{
	char now[32];

	clk_rfc3339(now, sizeof(now));
	if (job->rc != 0 && job->move.phase == CRD_MIG_CANCELLED) {
		job->rc = REC_CANCELLED;   /* asked for: no failure, no backoff */
		r->ended_ok++;
	} else if (job->rc == 0) {
		r->ended_ok++;
		retry_succeeded(&r->retries, job->key);
	} else {
		r->ended_failed++;
		remember_failure(&r->failed, job->key, job->why);
		retry_failed(&r->retries, job->key, job->why, clk_mono());
		if (status_vm_action_failed(job->vm, job->a->kind, job->why, now) == 0)
			sink_vm(r, job->vm);
	}
	if (r->view.action_done)
		r->view.action_done(r->view.opaque, job->a, job->rc, job->why);
}

/* A cleanup of @job's snapshot ended: once every cleanup of the same move succeeded, the
 * move's record is finished as the plan said. A cleanup that failed or never started leaves
 * it Running: the next pass plans the cleanup again. Called with the lock held. */
static void finish_after_cleanup(struct rec *r, struct rec_job *job)
{
	struct rec_snapshot *s = job->snap;
	const struct plan_action *fin = NULL;
	char now[32];

	if (!s->cleanup || !cleans_up_after(job->a, job->a->migration))
		return;
	s->cleanup[job->a - s->plan.actions] = job->rc == 0 ? CLEANUP_OK : CLEANUP_FAILED;
	for (size_t i = 0; i < s->plan.n; i++) {
		const struct plan_action *a = &s->plan.actions[i];
		if (cleans_up_after(a, job->a->migration) && s->cleanup[i] != CLEANUP_OK)
			return;
		if (a->kind == PLAN_FINISH_MIGRATION && a->migration == job->a->migration)
			fin = a;
	}
	struct crd_migration *m = set_migration(s->set, job->a->migration);
	clk_rfc3339(now, sizeof(now));
	if (fin && m && status_migration_finish(m, fin, now) == 0)
		sink_migration(r, m);
}

/* Adds action @a, as a job the planner must plan around, to @inv. Returns 0, or -1 when
 * out of memory. */
static int job_describe(const struct plan_action *a, struct inventory *inv)
{
	char what[200];

	snprintf(what, sizeof(what), "%s%s%s%s%s", plan_kind_str(a->kind), a->src ? " " : "",
		 a->src ? a->src : "", a->dst ? " → " : "", a->dst ? a->dst : "");
	return inv_add_job(inv, a->vm->meta.namespace, a->vm->meta.name, what, a->src, a->dst,
			   exec_is_move(a->kind));
}

/* A restart after fencing (a define+start of cause Failover) is recorded as a Migration of
 * reason Failover, cold, from the fenced host: the record of the failover, in directory and
 * Kubernetes mode alike. */
static void record_failover(struct rec_job *job)
{
	struct exec_move mv = {.phase = job->rc == 0 ? CRD_MIG_SUCCEEDED : CRD_MIG_FAILED,
			       .mode = CRD_RUN_COLD, .downtime_ms = -1};

	if (!job->failover_from[0])
		return;
	snprintf(mv.source, sizeof(mv.source), "%s", job->failover_from);
	snprintf(mv.target, sizeof(mv.target), "%s", job->a->dst ? job->a->dst : "");
	snprintf(mv.start_time, sizeof(mv.start_time), "%s", job->started);
	clk_rfc3339(mv.end_time, sizeof(mv.end_time));
	snprintf(mv.note, sizeof(mv.note), "%.500s", job->rc == 0 ? "" : job->why);
	on_move(job, job->a, &mv);
}

/* A job runs over connections of its own, opened here, in the job's thread, for the
 * hosts the pool reaches (a host it does not is not tried again here).
 * - A move's long calls (the migration's perform call, a cold move's disk streams) held
 *   the pool's connections for the whole move, and every RPC of the passes waited behind
 *   them (passes of 2-6 s while a move ran, against 0.03 s idle).
 * - Any job's calls on the pool's connection raced the pass's observer threads inside
 *   libvirt 9.0's client: drover crashed there under ASan (a start's virDomainGetState,
 *   in g_main_loop_quit), and a stalled pass once had a start queued on the connection of
 *   the call it waited for.
 * Where one cannot be opened, the pool's stays in use. */
static void job_open_own(struct rec_job *job)
{
	const struct exec_conns *c = &job->conns;
	bool one_host = c->src_host && c->src_host == c->dst_host;

	if (c->src && c->src_host && (job->own_src = lv_open_own(c->src_host->spec.uri, NULL)))
		job->conns.src = job->own_src;
	if (one_host && job->own_src)
		job->conns.dst = job->own_src;
	else if (!one_host && c->dst && c->dst_host &&
		 (job->own_dst = lv_open_own(c->dst_host->spec.uri, NULL)))
		job->conns.dst = job->own_dst;
}

static void job_close_own(struct rec_job *job)
{
	if (job->own_src)
		virConnectClose(job->own_src);
	if (job->own_dst)
		virConnectClose(job->own_dst);
}

/* Whoever lets go last frees it: the job ends here, the snapshot when its last job has. */
static void *job_thread(void *arg)
{
	struct rec_job *job = arg;
	struct rec *r = job->r;

	job_open_own(job);
	job->rc = exec_action(&job->ctx, job->a, &job->conns, &job->move, job->why,
			      sizeof(job->why));
	job_close_own(job);
	/* Before the job counts as ended: the pass it wakes must not trust a cache that
	 * misses what the job did. */
	lv_host_changed(&r->pool, job->a->src);
	lv_host_changed(&r->pool, job->a->dst);
	record_failover(job);
	pthread_mutex_lock(&r->lock);
	if (job->failover_from[0])
		hostfail_failover_ended(&r->hostfail, job->failover_from, job->rc == 0, clk_mono());
	job_settle(r, job);
	finish_after_cleanup(r, job);
	r->ended++;
	(void)job_describe(job->a, &r->just_ended); /* best effort */
	running_remove(r, job);
	snapshot_put(r, job->snap);
	pthread_cond_broadcast(&r->job_ended);
	pthread_mutex_unlock(&r->lock);
	/* A move's own record has said its last word: from now on its written status is the
	 * truth (a move whose outcome is unknown stays Running there, and the next pass loads
	 * and settles it). */
	crd_migration_free(&job->own);
	if (r->pool.wake)
		r->pool.wake(r->pool.wake_opaque, NULL);
	free(job);
	return NULL;
}

static const struct crd_host *host_named(const struct crd_set *set, const char *name)
{
	for (size_t i = 0; name && i < set->n_hosts; i++)
		if (!strcmp(set->hosts[i].meta.name, name))
			return &set->hosts[i];
	return NULL;
}

/* Starts a job for @a of snapshot @s. Called with the lock held. Returns 0, or -1 when no
 * job could be started (out of memory, no thread): the next pass plans it again. */
static int job_start(struct rec *r, struct rec_snapshot *s, const struct plan_action *a)
{
	struct rec_job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t thread;

	if (!job)
		return -1;
	job->r = r;
	job->snap = s;
	job->a = a;
	job->vm = set_vm(s->set, a->vm);
	job->mig = set_migration(s->set, a->migration);
	vm_key(a->vm, a->kind, job->key, sizeof(job->key));
	clk_rfc3339(job->started, sizeof(job->started));
	if (a->cause == CRD_MIG_FAILOVER && a->kind == PLAN_DEFINE_START && job->vm->status.host)
		snprintf(job->failover_from, sizeof(job->failover_from), "%s", job->vm->status.host);
	/* Written ahead, before anything is defined (status_vm_landing); best effort like
	 * every status write. */
	if (a->kind == PLAN_DEFINE_START && a->dst && status_vm_landing(job->vm, a->dst) == 0)
		sink_vm(r, job->vm);
	job->ctx = (struct exec_ctx){.desired = s->set, .stop_timeout_s = r->opt.stop_timeout_s,
				     .on_move = on_move, .opaque = job, .cancel = &job->cancel};
	/* Connections are taken here, by the dispatching thread: the pool is not shared with
	 * the jobs. */
	job->conns.src = a->src ? lv_connect(&r->pool, a->src) : NULL;
	job->conns.dst = a->dst ? lv_connect(&r->pool, a->dst) : NULL;
	job->conns.src_host = host_named(s->set, a->src);
	job->conns.dst_host = host_named(s->set, a->dst);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	s->refs++;
	r->running[r->n_running++] = job;
	int rc = pthread_create(&thread, &attr, job_thread, job);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		running_remove(r, job);
		s->refs--;
		free(job);
		return -1;
	}
	if (job->failover_from[0])
		hostfail_failover_started(&r->hostfail, job->failover_from);
	return 0;
}

/* Lists every job under way in @inv, so the planner plans around them, and (@stale_set:
 * the set may have been loaded before they ended) the jobs ended since the last round.
 * Called with the lock held. Returns 0, or -1 when out of memory. */
static int jobs_into_inventory(struct rec *r, struct inventory *inv, bool stale_set)
{
	for (size_t i = 0; i < r->n_running; i++)
		if (job_describe(r->running[i]->a, inv) < 0)
			return -1;
	for (size_t i = 0; stale_set && i < r->just_ended.n_jobs; i++) {
		const struct inv_job *j = &r->just_ended.jobs[i];
		if (inv_add_job(inv, j->vm_namespace, j->vm_name, j->what, j->src, j->dst,
				j->move) < 0)
			return -1;
	}
	return 0;
}

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

/* ---- passes ---- */

static bool acts(enum plan_kind k)
{
	return k != PLAN_BLOCKED && k != PLAN_WAIT && k != PLAN_FINISH_MIGRATION && k != PLAN_NONE;
}

/* What keeps the plan from being converged, ignoring VMs given up on in this converge. */
struct pending {
	int changes, blocked, waiting;
	unsigned long ended;      /* r->ended when the round planned */
	bool held_back;           /* VMs of jobs just ended waited once more: plan again */
	bool finish_only;         /* every change is a FINISH_MIGRATION: statuses say it all */
	uint64_t quiet_key;       /* see quiet_key */
};

static void count_pending(struct rec *r, const struct plan *plan, struct pending *p)
{
	char key[RETRY_KEY_MAX];

	memset(p, 0, sizeof(*p));
	p->finish_only = true;
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_action *a = &plan->actions[i];
		vm_key(a->vm, a->kind, key, sizeof(key));
		if (a->kind != PLAN_FINISH_MIGRATION && has_failed(&r->failed, key))
			continue;
		if (a->kind == PLAN_BLOCKED)
			p->blocked++;
		else if (a->kind == PLAN_WAIT)
			p->waiting++;
		else if (a->kind != PLAN_NONE)
			p->changes++;
		if (acts(a->kind))
			p->finish_only = false;
	}
	p->finish_only = p->finish_only && p->changes > 0;
}

/* True when a pass with the same set that observes the same can do nothing new: every
 * host answers (none fenced, failing or being fenced), no balancing (time alone moves it),
 * no Migration under way. Called with the lock held, after the plan. */
static bool may_be_quiet(struct rec *r, const struct crd_set *set, const struct inventory *inv,
			 double mono)
{
	if (r->n_running || inv->n_jobs || hostfail_busy(&r->hostfail) ||
	    hostfail_due_in(&r->hostfail, mono) >= 0)
		return false;
	for (size_t i = 0; i < inv->n_hosts; i++)
		if (!inv->hosts[i].reachable || inv->hosts[i].fenced)
			return false;
	for (size_t i = 0; i < set->n_policies; i++)
		if (set->policies[i].spec.has_balance)
			return false;
	for (size_t i = 0; i < set->n_migrations; i++)
		if (!crd_mig_phase_ended(set->migrations[i].status.phase))
			return false;
	return true;
}

/* The key of a pass that quiet passes may follow (rec_quiet_pass): the digest of what it
 * observed, when its plan is converged and may_be_quiet; else 0. */
static uint64_t quiet_key(struct rec *r, const struct crd_set *set, const struct inventory *inv,
			  const struct pending *p, double mono)
{
	if (p->changes || p->blocked || p->waiting || !may_be_quiet(r, set, inv, mono))
		return 0;
	return inv_digest(inv);
}

/* Dispatches the plan's actions, stops first (they free memory for what follows), each as
 * a job, skipping VMs given up on or backing off, while job slots last. Called with the
 * lock held. Returns the number of jobs started. */
static int dispatch(struct rec *r, struct rec_snapshot *s)
{
	char key[RETRY_KEY_MAX];
	double mono = clk_mono();
	int started = 0;

	for (int stage = 0; stage < 2 && !r->stopping; stage++)
		for (size_t i = 0; i < s->plan.n && r->n_running < REC_MAX_PARALLEL; i++) {
			const struct plan_action *a = &s->plan.actions[i];
			bool early = a->kind == PLAN_STOP || a->kind == PLAN_UNDEFINE_STALE ||
				     a->kind == PLAN_DELETE;
			if (!acts(a->kind) || early != (stage == 0))
				continue;
			vm_key(a->vm, a->kind, key, sizeof(key));
			if (has_failed(&r->failed, key) || retry_wait_left(&r->retries, key, mono) > 0)
				continue;
			/* The request is used up as the restart begins: at most one per request (the
			 * set a converge keeps across its rounds forgets it too). */
			if (a->kind == PLAN_RESTART) {
				set_vm(s->set, a->vm)->restart_requested = false;
				if (r->sink.restart_taken)
					r->sink.restart_taken(r->sink.opaque, a->vm);
			}
			if (cleans_up_after(a, a->migration) && !s->cleanup)
				s->cleanup = calloc(s->plan.n, 1);   /* none: the record waits */
			if (job_start(r, s, a) != 0)
				continue;
			started++;
			if (s->cleanup && cleans_up_after(a, a->migration))
				s->cleanup[i] = CLEANUP_RUNNING;
		}
	return started;
}

/* NONE actions of adopted domains: drover's metadata written into them (cheap, no job), in
 * every round, also one with nothing else to do: a domain whose definition lost it
 * (redefined behind drover's back) is otherwise adopted again on every pass, never marked.
 * Best effort: an adoption that fails now is tried again next pass. */
static void adopt(struct rec *r, const struct plan *plan)
{
	for (size_t i = 0; i < plan->n && !r->stopping; i++) {
		const struct plan_action *a = &plan->actions[i];
		if (a->kind != PLAN_NONE || !a->adopt || !a->dst)
			continue;
		struct exec_ctx ctx = {0};
		struct exec_conns conns = {.dst = lv_connect(&r->pool, a->dst)};
		struct exec_move mv;
		char why[64];
		if (exec_action(&ctx, a, &conns, &mv, why, sizeof(why)) < 0)
			continue;
	}
}

/* One round: observe, plan around the jobs under way, write status, dispatch. @show
 * hands the plan to the view. Fills @p and @res (blocked, running, counts of jobs ended
 * since the last round). Returns the number of jobs started, or -1 when out of memory. */
static int round_run(struct rec *r, struct rec_snapshot *s, bool show, struct pending *p,
		     struct rec_result *res, bool stale_set)
{
	struct inventory inv;
	struct plan_limits lim = r->opt.limits;
	int started = -1;

	pthread_mutex_lock(&r->lock);
	unsigned long ended_before = r->ended;
	pthread_mutex_unlock(&r->lock);
	if (obs_inventory(&r->pool, s->set, &inv) < 0)
		goto cleanup;
	lim.now = (int64_t)clk_wall();     /* balancing compares it with its earlier moves */
	pthread_mutex_lock(&r->lock);
	/* Planned and written under the lock: jobs write the status of the same objects. A
	 * host's failure is judged from this pass's probes before the planner reads it. A job
	 * that ended while the hosts were read may have been seen half done (a move that ended
	 * between reading its source and its target shows the VM running on both): its VM
	 * waits once more, as after a set loaded before the job ended. */
	double mono = clk_mono();
	bool stale = stale_set || r->ended != ended_before;
	bool held_back = stale && r->just_ended.n_jobs > 0;
	if (jobs_into_inventory(r, &inv, stale) == 0 &&
	    hostfail_observe(&r->hostfail, s->set, &inv, mono) == 0 &&
	    plan_compute(s->set, &inv, &lim, &s->plan) == 0) {
		write_status(r, s, &inv, stale ? &r->just_ended : NULL);
		(void)hostfail_act(&r->hostfail, s->set, &inv, &s->plan, mono, r->stopping,
				   r->sink.host, r->sink.opaque);
		if (show && r->view.plan)
			r->view.plan(r->view.opaque, &s->plan);
		count_pending(r, &s->plan, p);
		p->ended = r->ended;
		p->held_back = held_back;
		started = p->finish_only ? 0 : dispatch(r, s);
		p->quiet_key = !s->quiet_wanted || started || held_back
				       ? 0 : quiet_key(r, s->set, &inv, p, mono);
		res->blocked = p->blocked;
		res->running = (int)r->n_running;
		res->actions_done += r->ended_ok;
		res->actions_failed += r->ended_failed;
		r->ended_ok = r->ended_failed = 0;
	}
	inv_free(&r->just_ended);   /* jobs ended from now on are the next round's */
	pthread_mutex_unlock(&r->lock);
	if (started >= 0)
		adopt(r, &s->plan);
	/* Orphans: in a converge's first round, and in every pass of a controller. */
	if (started >= 0 && (show || stale_set))
		handle_orphans(r, s->set, &inv, res);
cleanup:
	inv_free(&inv);
	return started;
}

int rec_pass_keep(struct rec *r, struct crd_set *set, bool *kept, struct rec_result *res,
		  rec_after_fn after, void *opaque)
{
	struct rec_snapshot *s = snapshot_new(set, true);
	struct pending p;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (kept)
		*kept = false;
	if (!s)
		return -1;
	s->quiet_wanted = kept != NULL;
	pthread_mutex_lock(&r->lock);
	failed_clear(&r->failed);   /* a controller retries through the backoff */
	pthread_mutex_unlock(&r->lock);
	if (round_run(r, s, false, &p, res, true) >= 0) {
		res->converged = !p.changes && !p.blocked && !p.waiting && !res->running;
		/* A VM whose job just ended waited in this pass (its set may predate the end):
		 * the next pass, on a fresh set, plans it, and no event would wake one. */
		res->again = p.finish_only || p.held_back;
		/* An orphan is acted on, and counted, by every pass. */
		res->quiet_key = res->orphans ? 0 : p.quiet_key;
		rc = 0;
	}
	pthread_mutex_lock(&r->lock);
	if (after)
		after(opaque, s->set, &s->plan);
	if (kept && res->quiet_key && s->refs == 1 && s->set == &s->owned) {
		*set = s->owned;   /* handed back whole: nothing of it is released or kept */
		memset(&s->owned, 0, sizeof(s->owned));
		*kept = true;
	}
	snapshot_put(r, s);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int rec_quiet_pass(struct rec *r, struct crd_set *hosts, uint64_t key)
{
	struct inventory inv;
	char now[32];
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	bool idle = !r->n_running && !hostfail_busy(&r->hostfail);
	pthread_mutex_unlock(&r->lock);
	if (!idle)
		return 0;
	if (obs_inventory(&r->pool, hosts, &inv) < 0)
		return -1;
	if (key && inv_digest(&inv) == key) {
		clk_rfc3339(now, sizeof(now));
		pthread_mutex_lock(&r->lock);
		write_host_status(r, hosts, &inv, now);
		pthread_mutex_unlock(&r->lock);
		rc = 1;
	}
	inv_free(&inv);
	return rc;
}

void rec_release_set(struct rec *r, struct crd_set *set)
{
	if (r->sink.release)
		r->sink.release(r->sink.opaque, set);
	crd_set_free(set);
}

int rec_pass(struct rec *r, struct crd_set *set, struct rec_result *res, rec_after_fn after,
	     void *opaque)
{
	return rec_pass_keep(r, set, NULL, res, after, opaque);
}

/* Waits until a job ends after the round that saw @p, or @max_s passes. */
static void wait_job_end(struct rec *r, const struct pending *p, double max_s)
{
	struct timespec until = clk_realtime_after(max_s);

	pthread_mutex_lock(&r->lock);
	while (r->ended == p->ended &&
	       pthread_cond_timedwait(&r->job_ended, &r->lock, &until) == 0)
		;
	pthread_mutex_unlock(&r->lock);
}

/* Waits until no job runs. */
static void wait_all_jobs(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	while (r->n_running > 0)
		pthread_cond_wait(&r->job_ended, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

int rec_converge(struct rec *r, struct crd_set *set, struct rec_result *res)
{
	double deadline = clk_mono() + r->opt.timeout_s;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&r->lock);
	failed_clear(&r->failed);
	pthread_mutex_unlock(&r->lock);
	/* @counted: the rounds that count against max_rounds (see wait_in_flight). */
	for (int round = 0, counted = 0; counted < r->opt.max_rounds; round++, counted++) {
		struct rec_snapshot *s = snapshot_new(set, false);
		struct pending p = {0};
		/* The set is the caller's own, which the jobs write: never stale. */
		int started = s ? round_run(r, s, round == 0, &p, res, false) : -1;

		bool last = started >= 0 && !p.changes && !p.waiting && !res->running;
		pthread_mutex_lock(&r->lock);
		if (last && round > 0 && p.blocked && r->view.still_blocked)
			r->view.still_blocked(r->view.opaque, &s->plan);
		snapshot_put(r, s);
		bool failed = r->failed.n > 0;
		pthread_mutex_unlock(&r->lock);
		if (started < 0) {
			ret = -1;
			break;
		}
		res->converged = !p.changes && !p.blocked && !p.waiting && !res->running && !failed;
		if (last)
			break;
		if (p.finish_only || p.held_back)
			continue; /* statuses were written, or a job's end raced its hosts' read */
		if (clk_mono() > deadline)
			break;
		/* For a job to end (a round now would only find its VM waiting), or for a limit,
		 * or for someone else's job. */
		wait_job_end(r, &p, REC_WAIT_S);
		if (!started && r->opt.wait_in_flight)
			counted--;
	}
	wait_all_jobs(r);
	pthread_mutex_lock(&r->lock);
	res->actions_done += r->ended_ok;
	res->actions_failed += r->ended_failed;
	r->ended_ok = r->ended_failed = 0;
	res->converged = res->converged && !r->failed.n && !res->actions_failed;
	res->running = 0;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void rec_stop(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_mutex_unlock(&r->lock);
}

size_t rec_handover(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	size_t left = r->n_running;
	if (!left)
		pthread_mutex_unlock(&r->lock);
	return left;
}

void rec_free(struct rec *r)
{
	if (!r)
		return;
	wait_all_jobs(r);
	hostfail_free(&r->hostfail);
	lv_pool_free(&r->pool);
	inv_free(&r->just_ended);
	failed_clear(&r->failed);
	retry_free(&r->retries);
	pthread_cond_destroy(&r->job_ended);
	pthread_mutex_destroy(&r->lock);
}
