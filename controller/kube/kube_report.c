/* kube_report: the reconciler's status and progress, turned into API writes and events. */
#include "controller/kube/kube_report.h"
#include "controller/cli/view.h"

#include <stdio.h>
#include <string.h>

#include "controller/kube/kube_controller.h"
#include "controller/kube/kube_status.h"
#include "controller/serve/log.h"
#include "crd/encode.h"
#include "reconcile/clk.h"
#include "reconcile/status.h"

#define KUBE_REPORT_NOTE_MAX 1024

int kube_report_init(struct kube_report *r, struct kube_writer *w, struct metrics *metrics)
{
	memset(r, 0, sizeof(*r));
	r->w = w;
	r->metrics = metrics;
	pthread_mutex_init(&r->lock, NULL);
	r->reported = json_object();
	r->moving = json_object();
	r->restarts = json_object();
	return r->reported && r->moving && r->restarts ? 0 : -1;
}

void kube_report_free(struct kube_report *r)
{
	if (!r->reported && !r->moving && !r->restarts)
		return;
	json_decref(r->reported);
	json_decref(r->moving);
	json_decref(r->restarts);
	pthread_mutex_destroy(&r->lock);
	memset(r, 0, sizeof(*r));
}

/* ---- events ---- */

void kube_report_event(struct kube_report *r, const char *kind, const struct crd_meta *m,
		       const char *reason, const char *type, const char *action, const char *note,
		       const char *once)
{
	json_t *regarding;

	if (once) {
		bool seen;

		pthread_mutex_lock(&r->lock);
		if (json_object_size(r->reported) >= KUBE_REPORT_REPORTED_MAX)
			json_object_clear(r->reported);
		seen = json_object_get(r->reported, once) != NULL;
		/* Out of memory, the event may be sent again later: harmless. */
		if (!seen)
			(void)json_object_set_new(r->reported, once, json_true());
		pthread_mutex_unlock(&r->lock);
		if (seen)
			return;
	}
	regarding = json_pack("{s:s,s:s,s:{s:s,s:s,s:s?}}", "apiVersion", CRD_API_VERSION, "kind", kind,
			      "metadata", "name", m->name, "namespace", m->namespace, "uid", m->uid);
	struct kube_event ev = {.regarding = regarding, .reason = reason, .note = note, .type = type,
				.action = action};
	if (!regarding || kube_writer_event(r->w, &ev) < 0)
		log_kv("warn", "event dropped", NULL);
	json_decref(regarding);
}

/* The object a move's events are about: the user's Migration, else the VM. */
static void report_move(struct kube_report *r, const struct plan_action *a, const char *reason,
			const char *type, const char *note)
{
	if (a->migration && a->migration->meta.uid)
		kube_report_event(r, "Migration", &a->migration->meta, reason, type, "Migrate", note, NULL);
	else
		kube_report_event(r, "VirtualMachine", &a->vm->meta, reason, type, "Migrate", note, NULL);
}

/* ---- what the reconciler reports (called with its lock held: no I/O here) ---- */

static void hand_status(struct kube_report *r, const struct kube_resource *res,
			const struct crd_meta *m, json_t *status)
{
	if (kube_writer_status(r->w, res, m->namespace, m->name, m->uid, status) < 0)
		log_kv("warn", "status not written: out of memory or too many objects", NULL);
}

static void sink_vm(void *opaque, struct crd_vm *vm)
{
	hand_status(opaque, &kube_res_vm, &vm->meta, crd_vm_status_to_json(&vm->status));
}

static void sink_migration(void *opaque, struct crd_migration *m)
{
	struct kube_report *r = opaque;

	if (m->meta.uid) {
		hand_status(r, &kube_res_migration, &m->meta, crd_migration_status_to_json(&m->status));
		return;
	}
	/* drover's own record of a move it decided: made through the API, so that `kubectl get
	 * migrations` shows it and a new leader finds it (and takes the move over). */
	if (kube_writer_record(r->w, &kube_res_migration, crd_migration_to_json(m)) < 0)
		log_kv("warn", "record not written: out of memory or too many objects", NULL);
}

static const struct crd_condition *host_condition(const struct crd_host *h, const char *type)
{
	for (size_t i = 0; i < h->status.conditions.n; i++)
		if (!strcmp(h->status.conditions.items[i].type, type))
			return &h->status.conditions.items[i];
	return NULL;
}

/* Host @h's failure as events, each sent once: HostFailed (or FencingHeld when the quorum
 * guard holds) per time its Failed condition turns True, FenceFailed and HostFenced per
 * fence (status.fencing.time). */
static void host_events(struct kube_report *r, const struct crd_host *h)
{
	const struct crd_condition *failed = host_condition(h, "Failed");
	const struct crd_condition *fenced = host_condition(h, "Fenced");
	const struct crd_fence_status *f = &h->status.fencing;
	char once[600];

	if (failed && failed->status == CRD_COND_TRUE && failed->reason &&
	    strcmp(failed->reason, "Fenced") && strcmp(failed->reason, "FenceFailed")) {
		bool held = !strcmp(failed->reason, "QuorumLost");
		const char *why = held ? KUBE_REASON_FENCING_HELD : KUBE_REASON_HOST_FAILED;
		snprintf(once, sizeof(once), "host/%s/%s/%s/%s", h->meta.namespace, h->meta.name, why,
			 failed->last_transition_time ? failed->last_transition_time : "");
		kube_report_event(r, "Host", &h->meta, why, KUBE_EVENT_WARNING, "Fence",
				  failed->message, once);
	}
	if (!fenced || !fenced->reason || !f->time)
		return;
	bool ok = fenced->status == CRD_COND_TRUE && !strcmp(fenced->reason, "FenceAgent");
	if (!ok && strcmp(fenced->reason, "FenceFailed"))
		return;
	const char *why = ok ? KUBE_REASON_HOST_FENCED : KUBE_REASON_FENCE_FAILED;
	snprintf(once, sizeof(once), "host/%s/%s/%s/%s", h->meta.namespace, h->meta.name, why,
		 f->time);
	kube_report_event(r, "Host", &h->meta, why, ok ? KUBE_EVENT_NORMAL : KUBE_EVENT_WARNING,
			  "Fence", fenced->message, once);
}

/* ---- restart requests (the annotation `drover restart` sets) ---- */

static void restart_key(const char *ns, const char *name, char *key, size_t len)
{
	snprintf(key, len, "%s/%s", ns, name);
}

bool kube_report_restart_taken(struct kube_report *r, const char *ns, const char *name,
			       const char *token)
{
	char key[600];

	restart_key(ns, name, key, sizeof(key));
	pthread_mutex_lock(&r->lock);
	const char *taken = json_string_value(json_object_get(r->restarts, key));
	bool same = taken && !strcmp(taken, token);
	pthread_mutex_unlock(&r->lock);
	return same;
}

json_t *kube_report_restarts(struct kube_report *r)
{
	pthread_mutex_lock(&r->lock);
	json_t *copy = json_deep_copy(r->restarts);
	pthread_mutex_unlock(&r->lock);
	return copy;
}

void kube_report_restart_forget(struct kube_report *r, const char *ns, const char *name,
				const char *token)
{
	char key[600];

	restart_key(ns, name, key, sizeof(key));
	pthread_mutex_lock(&r->lock);
	const char *taken = json_string_value(json_object_get(r->restarts, key));
	if (taken && !strcmp(taken, token))
		json_object_del(r->restarts, key);
	pthread_mutex_unlock(&r->lock);
}

/* A restart of @vm begins: its request is used up (at most one restart per request), and
 * the controller clears the annotation after the pass. */
static void sink_restart_taken(void *opaque, const struct crd_vm *vm)
{
	struct kube_report *r = opaque;
	const char *token = crd_map_get(&vm->meta.annotations, KUBE_ANNOTATION_RESTART);
	char key[600];

	if (!token)
		return;
	restart_key(vm->meta.namespace, vm->meta.name, key, sizeof(key));
	pthread_mutex_lock(&r->lock);
	if (json_object_set_new(r->restarts, key, json_string(token)) < 0)
		log_kv("warn", "out of memory: a restart request may be carried out twice", "vm", key,
		       NULL);
	pthread_mutex_unlock(&r->lock);
}

static void sink_host(void *opaque, struct crd_host *h)
{
	struct kube_report *r = opaque;

	host_events(r, h);
	hand_status(r, &kube_res_host, &h->meta, crd_host_status_to_json(&h->status));
	metrics_set_host(r->metrics, h->meta.name,
			 status_condition_true(&h->status.conditions, "Reachable"));
	metrics_set_host_failure(r->metrics, h->meta.name,
				 status_condition_true(&h->status.conditions, "Failed"),
				 h->status.fencing.time, h->status.fencing.result);
}

static void view_plan(void *opaque, const struct plan *p)
{
	struct kube_report *r = opaque;
	char once[KUBE_REPORT_NOTE_MAX], vm[600];

	for (size_t i = 0; i < p->n; i++) {
		const struct plan_action *a = &p->actions[i];
		const char *reason = a->problem == PLAN_PROBLEM_CONFLICT ? KUBE_REASON_CONFLICT
				     : a->problem == PLAN_PROBLEM_PRECHECK ? KUBE_REASON_PRECHECK_FAILED
				     : NULL;

		if (a->kind == PLAN_NONE && a->restart_required && a->vm->meta.uid) {
			/* Once per generation: each new definition that waits says so once. */
			snprintf(once, sizeof(once), "restart-required/%s/%lld", a->vm->meta.uid,
				 (long long)a->vm->meta.generation);
			kube_report_event(r, "VirtualMachine", &a->vm->meta, KUBE_REASON_RESTART_REQUIRED,
					  KUBE_EVENT_NORMAL, "Redefine", a->reason, once);
		}
		if (a->kind == PLAN_NONE)
			continue;
		snprintf(vm, sizeof(vm), "%s/%s", a->vm->meta.namespace, a->vm->meta.name);
		log_kv("info", "planned", "vm", vm, "action", plan_kind_str(a->kind), "reason",
		       a->reason ? a->reason : "", NULL);
		if (a->kind != PLAN_BLOCKED || !reason)
			continue;
		const struct crd_meta *m = a->migration ? &a->migration->meta : &a->vm->meta;
		snprintf(once, sizeof(once), "%s/%s/%.900s", reason, m->uid ? m->uid : m->name,
			 a->reason ? a->reason : "");
		kube_report_event(r, a->migration ? "Migration" : "VirtualMachine", m, reason, KUBE_EVENT_WARNING,
		       a->problem == PLAN_PROBLEM_CONFLICT ? "Observe" : "PreCheck", a->reason, once);
	}
}

static void view_move(void *opaque, const struct plan_action *a, const struct exec_move *mv)
{
	struct kube_report *r = opaque;
	char key[600], note[256];

	metrics_on_move(r->metrics, a->vm->meta.namespace, a->vm->meta.name, mv);
	snprintf(key, sizeof(key), "%s/%s", a->vm->meta.namespace, a->vm->meta.name);
	if (mv->phase != CRD_MIG_RUNNING || json_object_get(r->moving, key))
		return;
	(void)json_object_set_new(r->moving, key, json_true());   /* else: a repeated event */
	snprintf(note, sizeof(note), "%s: %s → %s (%s)", a->vm->meta.name, mv->source, mv->target,
		 plan_kind_str(a->kind));
	/* A move taken over was started once already, by the drover before this one. */
	report_move(r, a, a->kind == PLAN_WATCH_MIGRATION ? KUBE_REASON_MIGRATION_TAKEN_OVER
			  : KUBE_REASON_MIGRATION_STARTED, KUBE_EVENT_NORMAL, note);
}

/* Events of the VM actions someone watching a VM wants to see: a restart, and what its
 * deletion did to each domain. */
static void report_vm_action(struct kube_report *r, const struct plan_action *a, int rc,
			     const char *why)
{
	const char *reason = NULL, *action = NULL;

	if (a->kind == PLAN_RESTART) {
		reason = rc ? KUBE_REASON_RESTART_FAILED : KUBE_REASON_RESTARTED;
		action = "Restart";
	} else if (a->kind == PLAN_DELETE || a->kind == PLAN_DISOWN) {
		reason = rc ? KUBE_REASON_DELETE_FAILED : a->kind == PLAN_DELETE
			 ? KUBE_REASON_DOMAIN_DELETED : KUBE_REASON_DOMAIN_RETAINED;
		action = "Delete";
	}
	if (reason)
		kube_report_event(r, "VirtualMachine", &a->vm->meta, reason,
				  rc ? KUBE_EVENT_WARNING : KUBE_EVENT_NORMAL, action,
				  rc ? why : a->reason, NULL);
}

static void view_action_done(void *opaque, const struct plan_action *a, int rc, const char *why)
{
	struct kube_report *r = opaque;
	char key[600];

	snprintf(key, sizeof(key), "%s/%s", a->vm->meta.namespace, a->vm->meta.name);
	view_log_action_done(NULL, a, rc, why);
	if (!exec_is_move(a->kind)) {
		report_vm_action(r, a, rc, why);
		return;
	}
	json_object_del(r->moving, key);
	if (rc == REC_CANCELLED)
		report_move(r, a, KUBE_REASON_MIGRATION_CANCELLED, KUBE_EVENT_NORMAL, why);
	else
		report_move(r, a, rc ? KUBE_REASON_MIGRATION_FAILED : KUBE_REASON_MIGRATION_SUCCEEDED,
			    rc ? KUBE_EVENT_WARNING : KUBE_EVENT_NORMAL, rc ? why : a->reason);
}


/* Valid=False with @msg in the JSON list @conds of an object that did not decode: the
 * condition as last written is read back so that the one condition setter keeps its
 * transition time. Returns 0, or -1 when out of memory. */
static int set_invalid(json_t *conds, const char *msg, json_int_t gen)
{
	struct crd_conditions c;
	char now[32];
	int rc = -1;

	clk_rfc3339(now, sizeof(now));
	if (kube_condition_get(conds, "Valid", &c) == 0 &&
	    status_set_condition(&c, "Valid", CRD_COND_FALSE, "Invalid", msg, gen, now) == 0)
		rc = kube_condition_set(conds, &c.items[0]);
	crd_conditions_free(&c);
	return rc;
}

void kube_report_invalid(struct kube_report *r, const struct kube_resource *res, const json_t *obj,
			   const struct crd_errors *errs)
{
	const char *ns = kube_obj_ns(obj) ? kube_obj_ns(obj) : "default", *name = kube_obj_name(obj);
	const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
	json_int_t gen = kube_obj_generation(obj);
	char msg[KUBE_REPORT_NOTE_MAX] = "", line[512], once[600], object[600];
	size_t n = 0;

	for (size_t i = 0; i < errs->n && n + 2 < sizeof(msg); i++) {
		if (errs->items[i].severity != CRD_SEV_ERROR)
			continue;
		crd_error_format(&errs->items[i], line, sizeof(line));
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s", n ? "; " : "", line);
	}
	snprintf(object, sizeof(object), "%s %s/%s", res->kind, ns, name ? name : "?");
	log_kv("warn", "invalid object: nothing changes for it", "object", object, "errors", msg, NULL);
	if (!name || !uid)
		return;
	json_t *known = kube_writer_known(r->w, res, ns, name, uid);
	json_t *st = json_deep_copy(known ? known : json_object_get(obj, "status"));
	json_decref(known);
	if (!json_is_object(st)) {
		json_decref(st);
		st = json_object();
	}
	json_t *conds = json_object_get(st, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		if (json_object_set_new(st, "conditions", conds) < 0)
			conds = NULL;   /* released by the failed set */
	}
	if (!conds || set_invalid(conds, msg, gen) < 0 ||
	    json_object_set_new(st, "observedGeneration", json_integer(gen)) < 0 ||
	    kube_writer_status(r->w, res, ns, name, uid, json_incref(st)) < 0)
		log_kv("warn", "status not written: out of memory", NULL);
	json_decref(st);
	snprintf(once, sizeof(once), "invalid/%s/%lld", uid, (long long)gen);
	struct crd_meta m = {.name = (char *)name, .namespace = (char *)ns, .uid = (char *)uid};
	kube_report_event(r, res->kind, &m, KUBE_REASON_PRECHECK_FAILED, KUBE_EVENT_WARNING,
			  "Validate", msg, once);
}

/* A valid object that was reported invalid before gets Valid=True. */

struct rec_sink kube_report_sink(struct kube_report *r)
{
	return (struct rec_sink){.vm = sink_vm, .host = sink_host, .migration = sink_migration,
				 .restart_taken = sink_restart_taken, .opaque = r};
}

static void view_failover(void *opaque, const char *host, double seconds)
{
	struct kube_report *r = opaque;
	(void)host;
	metrics_on_failover(r->metrics, seconds);
}

struct rec_view kube_report_view(struct kube_report *r)
{
	return (struct rec_view){.plan = view_plan, .action_done = view_action_done,
				 .move = view_move, .failover = view_failover, .opaque = r};
}
