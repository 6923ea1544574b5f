/* kube_controller: drover over the Kubernetes API — informers, one work item, and the
 * worker that builds the set from their caches and runs the reconciler while this replica
 * leads. */
#include "controller/kube/kube_controller.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/kube/kube_config.h"
#include "controller/kube/kube_lease.h"
#include "controller/kube/kube_queue.h"
#include "controller/kube/kube_report.h"
#include "controller/kube/kube_status.h"
#include "controller/kube/kube_watch.h"
#include "controller/kube/kube_writer.h"
#include "controller/serve/log.h"
#include "controller/loop/records.h"
#include "crd/load.h"
#include "reconcile/clk.h"
#include "reconcile/status.h"

#define KUBE_CONTROLLER_LEASE_NAME "drover"
#define KUBE_CONTROLLER_DRAIN_S 10            /* last status writes on shutdown */

static const struct kube_resource *const kube_controller_kinds[] = {&kube_res_host, &kube_res_vm,
							   &kube_res_migration, &kube_res_policy};
#define KUBE_CONTROLLER_N_KINDS (sizeof(kube_controller_kinds) / sizeof(kube_controller_kinds[0]))

struct kube_controller {
	struct kube_client *c;
	struct kube_controller_options o;
	char identity[KUBE_LEASE_IDENTITY_MAX];
	struct rec rec;
	bool rec_ok;
	struct kube_writer *w;
	struct kube_report rep;
	struct kube_queue *q;
	struct kube_informer *inf[KUBE_CONTROLLER_N_KINDS];
	struct kube_lease *lease;
	pthread_mutex_t lock;     /* guards the fields below */
	pthread_t worker;
	bool worker_started, stopping;
	size_t left;              /* jobs handed over by kube_controller_stop */
	int lost;                 /* atomic */
};

void kube_controller_options_default(struct kube_controller_options *o)
{
	memset(o, 0, sizeof(*o));
	o->lease_namespace = "default";
	o->lease_duration_s = 15;
	o->renew_deadline_s = 10;
	o->retry_period_s = 2;
	rec_options_default(&o->rec);
	o->rec.max_rounds = KUBE_CONTROLLER_ROUNDS;
	o->rec.wait_in_flight = false;
}

bool kube_controller_lost(struct kube_controller *k)
{
	return __atomic_load_n(&k->lost, __ATOMIC_SEQ_CST) != 0;
}

static void wake(struct kube_controller *k)
{
	if (kube_queue_add(k->q, KUBE_CONTROLLER_KEY) < 0) {
		/* The queue is shut down: no pass is wanted any more. */
	}
}

/* ---- one pass: the informers' objects → a set → converge ---- */

static const char *meta_str(const json_t *obj, const char *field)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static bool phase_terminal(const char *phase)
{
	return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") ||
			 !strcmp(phase, "Cancelled"));
}

/* Adds or removes finalizer @name of @res on @obj; logged either way. Returns 0, or -1. */
static int finalizer(struct kube_controller *k, const struct kube_resource *res, const char *fin,
		     const json_t *obj, bool add)
{
	struct kube_response r;
	const char *ns = kube_obj_ns(obj), *name = kube_obj_name(obj);
	int rc = add ? kube_finalizer_add(k->c, res, ns, name, obj, fin, NULL, &r)
		     : kube_finalizer_remove(k->c, res, ns, name, obj, fin, NULL, &r);
	char object[600];

	snprintf(object, sizeof(object), "%s %s/%s", res->kind, ns, name);
	log_kv(rc ? "warn" : "info", rc ? (add ? "finalizer not added" : "finalizer not removed")
				     : (add ? "finalizer added" : "finalizer removed"),
	       "object", object, "finalizer", fin, "code", LOG_INT(r.code), NULL);
	kube_response_free(&r);
	return rc;
}

static int migration_finalizer(struct kube_controller *k, const json_t *obj, bool add)
{
	return finalizer(k, &kube_res_migration, KUBE_FINALIZER_MIGRATION, obj, add);
}

/* Decides whether VirtualMachine @obj takes part in this pass: only once it carries the
 * deletion finalizer, so that no domain is made for an object that could then go without
 * drover seeing it. One being deleted always does: the planner applies its
 * deletionPolicy, and the finalizer goes once nothing of drover's is left (finish_pass). */
static bool vm_admit(struct kube_controller *k, const json_t *obj, bool *retry)
{
	if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp") ||
	    kube_has_finalizer(obj, KUBE_FINALIZER_VM))
		return true;
	if (finalizer(k, &kube_res_vm, KUBE_FINALIZER_VM, obj, true) == 0)
		return true;
	*retry = true;
	return false;
}

/* Decides whether Migration @obj (@view: with the status drover knows) takes part in this
 * pass, keeping the abort finalizer on the live ones and taking it off those that ended. */
static bool migration_admit(struct kube_controller *k, const json_t *obj, const json_t *view,
			    bool *retry)
{
	const char *phase = json_string_value(json_object_get(json_object_get(view, "status"), "phase"));
	bool deleting = json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp") != NULL;
	bool has = kube_has_finalizer(obj, KUBE_FINALIZER_MIGRATION);

	if (phase_terminal(phase)) {
		if (deleting && has && migration_finalizer(k, obj, false) < 0)
			*retry = true;
		return !deleting;
	}
	if (deleting || has)
		return true;    /* being deleted: it runs with spec.cancel set, and ends */
	if (migration_finalizer(k, obj, true) == 0)
		return true;
	*retry = true;
	/* Not started yet: it waits for its finalizer, so that deleting it always aborts it. */
	return phase && *phase && strcmp(phase, "Pending");
}

/* True when `drover restart` asked VM @m to restart (its annotation) and no restart was
 * begun for that request yet. This function can't fail. */
static bool restart_wanted(struct kube_controller *k, const struct crd_meta *m)
{
	const char *token = crd_map_get(&m->annotations, KUBE_ANNOTATION_RESTART);

	return token && *token && !m->deletion_timestamp &&
	       !kube_report_restart_taken(&k->rep, m->namespace, m->name, token);
}

static void mark_valid(struct crd_object *o)
{
	if (o->kind == CRD_KIND_POLICY)
		return;         /* no status: nothing observed about a policy */
	struct crd_conditions *c = o->kind == CRD_KIND_HOST ? &o->u.host.status.conditions
				   : o->kind == CRD_KIND_VM ? &o->u.vm.status.conditions
				   : &o->u.migration.status.conditions;
	int64_t gen = o->kind == CRD_KIND_HOST ? o->u.host.meta.generation
		      : o->kind == CRD_KIND_VM ? o->u.vm.meta.generation
		      : o->u.migration.meta.generation;
	char now[32];

	for (size_t i = 0; i < c->n; i++) {
		if (!c->items[i].type || strcmp(c->items[i].type, "Valid") ||
		    c->items[i].status == CRD_COND_TRUE)
			continue;
		clk_rfc3339(now, sizeof(now));
		if (status_set_condition(c, "Valid", CRD_COND_TRUE, "Valid", "", gen, now) < 0)
			log_kv("warn", "out of memory", NULL);
		return;
	}
}

/* Decodes @obj (with the status drover last handed over, which the cache may not show
 * yet) into @set. Returns 0, or -1 when out of memory. */
static int add_object(struct kube_controller *k, const struct kube_resource *res, const json_t *obj,
		      struct crd_set *set, bool *retry)
{
	struct crd_errors errs = {0};
	struct crd_object o;
	json_t *view = json_copy((json_t *)obj);
	json_t *known = kube_writer_known(k->w, res, kube_obj_ns(obj) ? kube_obj_ns(obj) : "default",
				  kube_obj_name(obj) ? kube_obj_name(obj) : "", meta_str(obj, "uid"));
	int rc = 0;

	if (!view) {
		json_decref(known);
		return -1;
	}
	/* Without the status drover knows, the object would decode as one never worked on. */
	if (known && json_object_set_new(view, "status", known) < 0) {
		rc = -1;
		goto cleanup;
	}
	if (res == &kube_res_migration && !migration_admit(k, obj, view, retry))
		goto cleanup;
	if (res == &kube_res_vm && !vm_admit(k, obj, retry))
		goto cleanup;
	int d = crd_decode_json_object(view, "api", &o, &errs);
	/* A PlacementPolicy has no status to say it is invalid in: the log says it. */
	if (d < 0 && res != &kube_res_policy)
		kube_report_invalid(&k->rep, res, view, &errs);
	else if (d < 0)
		log_kv("warn", "invalid PlacementPolicy: its namespace keeps the defaults", "name",
		       kube_obj_name(obj) ? kube_obj_name(obj) : "?", NULL);
	if (d != 0)
		goto cleanup;
	if (o.kind == CRD_KIND_MIGRATION && o.u.migration.meta.deletion_timestamp)
		o.u.migration.spec.cancel = true;
	if (o.kind == CRD_KIND_VM)
		o.u.vm.restart_requested = restart_wanted(k, &o.u.vm.meta);
	mark_valid(&o);
	if (crd_set_add(set, &o) < 0) {
		crd_object_free(&o);
		rc = -1;
	}
cleanup:
	json_decref(view);
	crd_errors_free(&errs);
	return rc;
}

/* Builds the set from every informer's cache. Returns 0, or -1 when out of memory. */
static int snapshot(struct kube_controller *k, struct crd_set *set, bool *retry)
{
	for (size_t i = 0; i < KUBE_CONTROLLER_N_KINDS; i++) {
		json_t *list = kube_informer_list(k->inf[i]), *live = json_object(), *obj;
		size_t j;
		int rc = list && live ? 0 : -1;

		json_array_foreach(list, j, obj) {
			char key[600];

			/* A live object missing from @live would have its pending status pruned. */
			if (rc == 0 && kube_obj_key(obj, key, sizeof(key)) == 0 &&
			    json_object_set_new(live, key, json_true()) < 0)
				rc = -1;
			if (rc == 0)
				rc = add_object(k, kube_controller_kinds[i], obj, set, retry);
		}
		if (rc == 0)
			kube_writer_prune(k->w, kube_controller_kinds[i], live);
		json_decref(list);
		json_decref(live);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Names ("ns/name") gathered under the reconciler's lock, acted on after it. */
struct names {
	char **v;
	size_t n;
};

/* Best effort: a name not kept is dealt with by a later pass. */
static void names_add(struct names *l, const struct crd_meta *m)
{
	char **grown = realloc(l->v, (l->n + 1) * sizeof(*grown));

	if (!grown)
		return;
	l->v = grown;
	if (asprintf(&l->v[l->n], "%s/%s", m->namespace, m->name) >= 0)
		l->n++;
}

/* Splits entry @i of @l into namespace and name (in place). Returns the name. */
static const char *names_split(struct names *l, size_t i)
{
	char *slash = strchr(l->v[i], '/');

	*slash = '\0';
	return slash + 1;
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* What a pass leaves to do with its set, gathered by after_pass under the reconciler's
 * lock (no I/O there) and done after it. */
struct pass_end {
	struct kube_controller *k;
	size_t hosts, vms, migrations;
	struct names release;     /* Migrations being deleted that ended: their finalizer goes */
	struct names release_vms; /* VMs being deleted with nothing of drover's left: likewise */
	struct names forget;      /* drover's own finished records past the kept ones */
};

static bool own_record(const struct crd_migration *m, const void *opaque)
{
	(void)opaque;
	return records_own(m);
}

static void after_pass(void *opaque, const struct crd_set *set, const struct plan *plan)
{
	struct pass_end *e = opaque;
	const struct crd_migration **old = NULL;

	for (size_t i = 0; i < plan->n; i++)
		if (plan->actions[i].released && plan->actions[i].vm->meta.deletion_timestamp)
			names_add(&e->release_vms, &plan->actions[i].vm->meta);

	metrics_set_vm_phases(e->k->o.metrics, set->vms, set->n_vms);
	e->hosts = set->n_hosts;
	e->vms = set->n_vms;
	e->migrations = set->n_migrations;
	for (size_t i = 0; i < set->n_migrations; i++) {
		const struct crd_migration *m = &set->migrations[i];
		if (m->meta.deletion_timestamp && phase_terminal(crd_mig_phase_str(m->status.phase)))
			names_add(&e->release, &m->meta);
	}
	/* A user's Migration is the user's to delete; drover's own records it keeps tidy. */
	long n = records_to_forget(set, e->k->o.rec.keep_migrations, own_record, NULL, &old);
	for (long i = 0; i < n; i++)
		names_add(&e->forget, &old[i]->meta);
	free(old);
}

/* The restart requests whose restart began lose their annotation (only while it still
 * names that request); a request is forgotten once the cache shows it gone. Best effort:
 * what fails is tried again after the next pass. */
static void drop_restart_requests(struct kube_controller *k)
{
	json_t *taken = kube_report_restarts(&k->rep), *token;
	const char *key;

	json_object_foreach(taken, key, token) {
		char ns[300];
		const char *slash = strchr(key, '/'), *want = json_string_value(token);
		if (!slash || !want || (size_t)(slash - key) >= sizeof(ns))
			continue;
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
		json_t *obj = kube_informer_get(k->inf[1], ns, slash + 1);
		const char *now = json_string_value(json_object_get(json_object_get(
			json_object_get(obj, "metadata"), "annotations"), KUBE_ANNOTATION_RESTART));
		struct kube_response r = {0};
		if (!now || strcmp(now, want))
			kube_report_restart_forget(&k->rep, ns, slash + 1, want);
		else if (kube_annotation_drop(k->c, &kube_res_vm, ns, slash + 1, obj,
					      KUBE_ANNOTATION_RESTART, want, &r) < 0)
			log_kv("warn", "restart request not cleared", "vm", key, "error", r.message,
			       NULL);
		kube_response_free(&r);
		json_decref(obj);
	}
	json_decref(taken);
}

/* Migrations being deleted that this pass brought to an end lose their finalizer; drover's
 * old records go. Best effort: what fails is logged, and a later pass tries again. */
static void finish_pass(struct kube_controller *k, struct pass_end *e)
{
	char path[KUBE_PATH_MAX];

	for (size_t i = 0; i < e->release.n; i++) {
		const char *name = names_split(&e->release, i);
		json_t *obj = kube_informer_get(k->inf[2], e->release.v[i], name);
		if (obj && kube_has_finalizer(obj, KUBE_FINALIZER_MIGRATION))
			(void)migration_finalizer(k, obj, false);
		json_decref(obj);
	}
	for (size_t i = 0; i < e->release_vms.n; i++) {
		const char *name = names_split(&e->release_vms, i);
		json_t *obj = kube_informer_get(k->inf[1], e->release_vms.v[i], name);
		if (obj && kube_has_finalizer(obj, KUBE_FINALIZER_VM))
			(void)finalizer(k, &kube_res_vm, KUBE_FINALIZER_VM, obj, false);
		json_decref(obj);
	}
	drop_restart_requests(k);
	for (size_t i = 0; i < e->forget.n; i++) {
		const char *name = names_split(&e->forget, i);
		struct kube_response r = {0};
		if (kube_path(path, sizeof(path), &kube_res_migration, e->forget.v[i], name, NULL) < 0)
			continue;
		if (kube_request(k->c, "DELETE", path, NULL, NULL, &r) < 0 ||
		    (r.code >= 300 && r.code != 404))
			log_kv("warn", "old record not deleted", "migration", name, "error", r.message,
			       NULL);
		kube_response_free(&r);
	}
	names_free(&e->release);
	names_free(&e->release_vms);
	names_free(&e->forget);
}

/* One pass over the whole set: it dispatches and does not wait for the jobs, whose ends
 * wake the queue. Returns true when it should be retried with backoff. */
static bool pass(struct kube_controller *k)
{
	struct crd_set set = {0};
	struct rec_result res = {0};
	struct pass_end e = {.k = k};
	bool retry = false, failed = true;
	double started = clk_mono();

	if (snapshot(k, &set, &retry) < 0 || rec_pass(&k->rec, &set, &res, after_pass, &e) < 0) {
		log_kv("error", "reconcile failed: out of memory", NULL);
		retry = true;
		goto cleanup;
	}
	log_kv("info", "reconciled", "hosts", LOG_INT(e.hosts), "vms", LOG_INT(e.vms),
	       "migrations", LOG_INT(e.migrations), "done", LOG_INT(res.actions_done),
	       "failed", LOG_INT(res.actions_failed), "blocked", LOG_INT(res.blocked),
	       "running", LOG_INT(res.running), "converged", res.converged ? "true" : "false",
	       NULL);
	failed = res.actions_failed > 0;
	retry = retry || failed || res.blocked > 0 || res.again;
cleanup:
	finish_pass(k, &e);
	metrics_on_reconcile(k->o.metrics, clk_mono() - started, failed);
	crd_set_free(&set);
	return retry;
}

static bool stopping(struct kube_controller *k)
{
	pthread_mutex_lock(&k->lock);
	bool s = k->stopping;
	pthread_mutex_unlock(&k->lock);
	return s;
}

static void *worker_main(void *arg)
{
	struct kube_controller *k = arg;
	char key[KUBE_QUEUE_KEY_MAX];

	wake(k);
	for (;;) {
		int got = kube_queue_get(k->q, k->o.rec.resync_s, key, sizeof(key));

		if (got < 0 || kube_controller_lost(k) || stopping(k))
			break;
		bool retry = pass(k);
		int queued = retry ? kube_queue_add_rate_limited(k->q, KUBE_CONTROLLER_KEY) : 0;
		if (!retry) {
			kube_queue_forget(k->q, KUBE_CONTROLLER_KEY);
			/* As drover run: the pass's free pages go back before a wait. */
			malloc_trim(0);
		}
		if (got > 0)
			kube_queue_done(k->q, key);
		/* The resync, or sooner what is due without any event: a down host's detection
		 * (detectAfterSeconds) or fence retry, a reconnect, a backed-off action. */
		double next = k->rec_ok ? rec_next_pass_in(&k->rec, k->o.rec.resync_s)
				       : k->o.rec.resync_s;
		if (queued < 0 || kube_queue_add_after(k->q, KUBE_CONTROLLER_KEY, next) < 0)
			break;   /* shut down */
	}
	return NULL;
}

/* ---- wiring ---- */

/* True when @old and @obj differ outside status and resourceVersion: status writes (ours
 * above all) do not call for a pass. */
static bool changed_beyond_status(const json_t *old, const json_t *obj)
{
	json_t *a = json_copy((json_t *)old), *b = json_copy((json_t *)obj);
	json_t *ma = json_copy(json_object_get(a, "metadata")), *mb = json_copy(json_object_get(b, "metadata"));
	bool changed = true;

	if (a && b && ma && mb) {
		json_object_del(a, "status");
		json_object_del(b, "status");
		json_object_del(ma, "resourceVersion");
		json_object_del(mb, "resourceVersion");
		json_object_del(ma, "managedFields");
		json_object_del(mb, "managedFields");
		/* Out of memory: "changed", the side that only costs a pass. */
		if (json_object_set(a, "metadata", ma) == 0 && json_object_set(b, "metadata", mb) == 0)
			changed = !json_equal(a, b);
	}
	json_decref(a);
	json_decref(b);
	json_decref(ma);
	json_decref(mb);
	return changed;
}

static void on_change(void *opaque, enum kube_event_type type, const json_t *old, const json_t *obj)
{
	if (type == KUBE_EV_MODIFIED && old && !changed_beyond_status(old, obj))
		return;
	wake(opaque);
}

/* A Migration being deleted or given spec.cancel aborts its move now: the worker may
 * be inside that very move, and would only see the change once the move has ended. */
static void on_migration_change(void *opaque, enum kube_event_type type, const json_t *old,
				const json_t *obj)
{
	struct kube_controller *k = opaque;
	const json_t *meta = json_object_get(obj, "metadata");
	bool deleting = json_object_get(meta, "deletionTimestamp") != NULL;
	bool cancel = json_is_true(json_object_get(json_object_get(obj, "spec"), "cancel"));
	char migration[600];

	if ((deleting || cancel) && type != KUBE_EV_DELETED &&
	    rec_cancel_migration(&k->rec, kube_obj_ns(obj), kube_obj_name(obj))) {
		snprintf(migration, sizeof(migration), "%s/%s", kube_obj_ns(obj), kube_obj_name(obj));
		log_kv("info", "aborting a running migration", "migration", migration, "reason",
		       deleting ? "deleted" : "spec.cancel", NULL);
	}
	on_change(opaque, type, old, obj);
}

static void on_libvirt_event(void *opaque, const char *host)
{
	(void)host;
	wake(opaque);
}

static json_t *lookup(void *opaque, const struct kube_resource *res, const char *ns, const char *name)
{
	struct kube_controller *k = opaque;

	for (size_t i = 0; i < KUBE_CONTROLLER_N_KINDS; i++)
		if (kube_controller_kinds[i] == res)
			return kube_informer_get(k->inf[i], ns, name);
	return NULL;
}

static void on_started_leading(void *opaque)
{
	struct kube_controller *k = opaque;

	pthread_mutex_lock(&k->lock);
	if (!k->stopping && !k->worker_started)
		k->worker_started = pthread_create(&k->worker, NULL, worker_main, k) == 0;
	pthread_mutex_unlock(&k->lock);
	log_kv("info", "leading: reconciling", "identity", k->identity, NULL);
}

static void on_stopped_leading(void *opaque)
{
	struct kube_controller *k = opaque;

	pthread_mutex_lock(&k->lock);
	bool stopping = k->stopping;
	pthread_mutex_unlock(&k->lock);
	if (stopping)
		return;
	/* Another replica may lead soon: stop acting at once. Moves under way are not aborted:
	 * they run on in the source's libvirtd, and the new leader takes them over. */
	rec_stop(&k->rec);
	__atomic_store_n(&k->lost, 1, __ATOMIC_SEQ_CST);
	kube_queue_shutdown(k->q);
	log_kv("error", "leadership lost: stopping", NULL);
}

static int start_informers(struct kube_controller *k, char *err, size_t errlen)
{
	double deadline = clk_mono() + KUBE_CONTROLLER_SYNC_TIMEOUT_S;

	for (size_t i = 0; i < KUBE_CONTROLLER_N_KINDS; i++) {
		bool migrations = kube_controller_kinds[i] == &kube_res_migration;
		struct kube_informer_options io = {.res = kube_controller_kinds[i], .namespace = k->o.namespace,
						   .handler = migrations ? on_migration_change : on_change,
						   .opaque = k};
		if (kube_informer_start(k->c, &io, &k->inf[i]) < 0) {
			snprintf(err, errlen, "cannot start the informer of %s", kube_controller_kinds[i]->plural);
			return -1;
		}
	}
	for (size_t i = 0; i < KUBE_CONTROLLER_N_KINDS; i++) {
		double left = deadline - clk_mono();
		if (!kube_informer_wait_synced(k->inf[i], left > 0 ? left : 0)) {
			snprintf(err, errlen, "%s not listed within %d s (is the CRD installed? see the log)",
				 kube_controller_kinds[i]->plural, KUBE_CONTROLLER_SYNC_TIMEOUT_S);
			return -1;
		}
	}
	return 0;
}

static int start_lease(struct kube_controller *k)
{
	struct kube_lease_options lo;

	kube_lease_options_default(&lo);
	lo.namespace = k->o.lease_namespace;
	lo.name = KUBE_CONTROLLER_LEASE_NAME;
	lo.identity = k->identity;
	lo.lease_duration_s = k->o.lease_duration_s;
	lo.renew_deadline_s = k->o.renew_deadline_s;
	lo.retry_period_s = k->o.retry_period_s;
	lo.started_leading = on_started_leading;
	lo.stopped_leading = on_stopped_leading;
	lo.opaque = k;
	return kube_lease_start(k->c, &lo, &k->lease);
}

/* hostfail's reader of passwordSecretRef: key @key of Secret @ns/@name, its first line
 * (a Secret made from a file keeps the file's line break). Called from a fence thread. */
static char *read_secret(void *opaque, const char *ns, const char *name, const char *key,
			 char *why, size_t why_size)
{
	struct kube_controller *k = opaque;
	struct kube_response r = {0};
	char path[KUBE_PATH_MAX];
	char *pw = NULL;
	const char *b64;

	if (snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns, name) >=
	    (int)sizeof(path)) {
		snprintf(why, why_size, "Secret %s/%s: name too long", ns, name);
		return NULL;
	}
	if (kube_request(k->c, "GET", path, NULL, NULL, &r) < 0 || r.code != 200)
		snprintf(why, why_size, "Secret %s/%s: %s%s%ld", ns, name,
			 r.message[0] ? r.message : "", r.message[0] ? ", HTTP " : "HTTP ", r.code);
	else if (!(b64 = json_string_value(json_object_get(json_object_get(r.body, "data"), key))))
		snprintf(why, why_size, "Secret %s/%s has no key \"%.64s\"", ns, name, key);
	else if (!(pw = kube_base64_decode(b64, NULL)))
		snprintf(why, why_size, "Secret %s/%s: key \"%.64s\" is not base64", ns, name, key);
	else
		pw[strcspn(pw, "\r\n")] = '\0';
	kube_response_free(&r);
	return pw;
}

struct kube_controller *kube_controller_start(struct kube_client *c,
					      const struct kube_controller_options *o, char *err,
					      size_t errlen)
{
	struct kube_controller *k = calloc(1, sizeof(*k));
	struct kube_queue_options qo;
	char host[64] = "drover";

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->c = c;
	k->o = *o;
	pthread_mutex_init(&k->lock, NULL);
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "drover");
	if (o->identity)
		snprintf(k->identity, sizeof(k->identity), "%s", o->identity);
	else
		snprintf(k->identity, sizeof(k->identity), "%s_%ld", host, (long)getpid());
	kube_queue_options_default(&qo);
	qo.base_delay_s = 1;
	qo.max_delay_s = o->rec.resync_s;
	k->q = kube_queue_new(&qo);
	k->w = kube_writer_new(c, k->identity, lookup, k);
	bool ok = kube_report_init(&k->rep, k->w, o->metrics) == 0 && k->q && k->w;
	struct rec_sink sink = kube_report_sink(&k->rep);
	struct rec_view view = kube_report_view(&k->rep);
	k->rec_ok = ok && rec_init(&k->rec, &o->rec, &sink, &view) == 0;
	if (!k->rec_ok) {
		snprintf(err, errlen, ok ? "libvirt cannot be initialised" : "out of memory");
		goto fail;
	}
	rec_set_wake(&k->rec, on_libvirt_event, k);
	rec_set_secret_reader(&k->rec, read_secret, k);
	if (start_informers(k, err, errlen) < 0)
		goto fail;
	if (start_lease(k) < 0) {
		snprintf(err, errlen, "leader election cannot start");
		goto fail;
	}
	return k;
fail:
	(void)kube_controller_stop(k, 0);
	kube_controller_free(k);
	return NULL;
}

bool kube_controller_stop(struct kube_controller *k, double worker_wait_s)
{
	struct timespec until;
	bool started;

	pthread_mutex_lock(&k->lock);
	k->stopping = true;
	started = k->worker_started;
	pthread_mutex_unlock(&k->lock);
	if (k->rec_ok)
		rec_stop(&k->rec);   /* moves under way are left to the next leader, not aborted */
	if (k->q)
		kube_queue_shutdown(k->q);
	if (started) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)worker_wait_s;
		if (pthread_timedjoin_np(k->worker, NULL, &until) != 0)
			return false;
		k->worker_started = false;
	}
	/* The jobs still running are handed over: from here on they write no status (the
	 * reconciler's lock stays held), so the writer can drain what it has. */
	k->left = k->rec_ok ? rec_handover(&k->rec) : 0;
	if (k->w && !kube_writer_drain(k->w, KUBE_CONTROLLER_DRAIN_S))
		log_kv("warn", "some status was not written before stopping", NULL);
	kube_lease_stop(k->lease, !kube_controller_lost(k));
	/* All asked at once, then joined: each notices within about a second. */
	for (size_t i = 0; i < KUBE_CONTROLLER_N_KINDS; i++)
		kube_informer_request_stop(k->inf[i]);
	for (size_t i = 0; i < KUBE_CONTROLLER_N_KINDS; i++)
		kube_informer_stop(k->inf[i]);
	return true;
}

size_t kube_controller_handover(const struct kube_controller *k)
{
	return k->left;
}

void kube_controller_free(struct kube_controller *k)
{
	if (!k)
		return;
	kube_lease_free(k->lease);
	kube_writer_free(k->w);   /* before the informers: it reads their caches */
	for (size_t i = 0; i < KUBE_CONTROLLER_N_KINDS; i++)
		kube_informer_free(k->inf[i]);
	kube_queue_free(k->q);
	if (k->rec_ok)
		rec_free(&k->rec);
	kube_report_free(&k->rep);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
