/* status: VM, Host and Migration status derived from the plan and the inventory. */
#include "reconcile/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/quantity.h"

/* Replaces *@dst with a copy of @src (NULL allowed). Returns 0, or -1 when out of memory. */
static int set_str(char **dst, const char *src)
{
	char *copy = NULL;
	if (src && !(copy = strdup(src)))
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

int status_set_condition(struct crd_conditions *c, const char *type, enum crd_cond_status st,
			 const char *reason, const char *message, int64_t generation,
			 const char *now)
{
	struct crd_condition *cond = NULL;

	for (size_t i = 0; i < c->n && !cond; i++)
		if (!strcmp(c->items[i].type, type))
			cond = &c->items[i];
	if (!cond) {
		struct crd_condition *grown = realloc(c->items, (c->n + 1) * sizeof(*grown));
		if (!grown)
			return -1;
		c->items = grown;
		cond = &c->items[c->n];
		memset(cond, 0, sizeof(*cond));
		if (!(cond->type = strdup(type)))
			return -1;
		c->n++;
		cond->status = st == CRD_COND_UNKNOWN ? CRD_COND_TRUE : CRD_COND_UNKNOWN;
	}
	if (cond->status != st || !cond->last_transition_time) {
		if (set_str(&cond->last_transition_time, now) < 0)
			return -1;
		cond->status = st;
	}
	cond->observed_generation = generation;
	return set_str(&cond->reason, reason) < 0 || set_str(&cond->message, message ? message : "") < 0
		       ? -1 : 0;
}

/* Condition @type of @c, or NULL. */
static const struct crd_condition *find_condition(const struct crd_conditions *c,
						  const char *type)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].type && !strcmp(c->items[i].type, type))
			return &c->items[i];
	return NULL;
}

bool status_condition_true(const struct crd_conditions *c, const char *type)
{
	const struct crd_condition *cond = find_condition(c, type);
	return cond && cond->status == CRD_COND_TRUE;
}

const char *status_problem_reason(enum plan_problem p)
{
	switch (p) {
	case PLAN_PROBLEM_NONE: return "";
	case PLAN_PROBLEM_CONFLICT: return "Conflict";
	case PLAN_PROBLEM_PRECHECK: return "PreCheckFailed";
	case PLAN_PROBLEM_NO_HOST: return "NoSchedulableHost";
	case PLAN_PROBLEM_HOST_UNKNOWN: return "HostUnreachable";
	case PLAN_PROBLEM_REJECTED: return "Rejected";
	case PLAN_PROBLEM_EVICTION: return "EvictionBlocked";
	case PLAN_PROBLEM_LOST: return "Lost";
	}
	return "Unknown";
}

/* The host where @vm's own domain is: an active copy first, else the first defined one in
 * inventory order. */
static const struct inv_host *find_instance(const struct crd_vm *vm, const struct inventory *inv,
					    const struct inv_index *doms,
					    const struct inv_domain **dom)
{
	const struct inv_host *found = NULL;
	size_t n;
	const struct inv_ref *e = inv_index_find(doms, vm->meta.name, &n);

	*dom = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct inv_host *h = &inv->hosts[e[i].host];
		const struct inv_domain *d = e[i].d;
		if (!h->reachable || d->migrating_in ||
		    !inv_domain_owned_by(d, vm->meta.namespace, vm->meta.name))
			continue;
		if (!found || (d->active && !(*dom)->active)) {
			found = h;
			*dom = d;
		}
	}
	return found;
}

/* True when @host names a host that is not reachable (or no longer observed). */
static bool last_host_unseen(const struct inventory *inv, const char *host)
{
	const struct inv_host *h = host ? inv_host_by_name(inv, host) : NULL;
	return host && (!h || !h->reachable);
}

/* True when a job under way (or just ended) acts on @vm with @host as its target: a
 * define+start there wrote status.host ahead (status_vm_landing) and may not have defined
 * the VM yet. */
static bool landing_on(const struct crd_vm *vm, const struct inventory *inv, const char *host)
{
	const struct inv_job *j = host ? inv_job_of(inv, vm->meta.namespace, vm->meta.name) : NULL;
	return j && j->dst && !strcmp(j->dst, host);
}

/* True when reachable host @host holds a domain named like @vm whose owner is not known to
 * be someone else: one without drover's ownership element (redefined without it, about to
 * be adopted again) or whose definition observe could not read. It may be @vm's own. */
static bool unowned_copy_on(const struct crd_vm *vm, const struct inventory *inv,
			    const struct inv_index *doms, const char *host)
{
	size_t n;
	const struct inv_ref *e = host ? inv_index_find(doms, vm->meta.name, &n) : NULL;

	for (size_t i = 0; e && i < n; i++) {
		const struct inv_host *h = &inv->hosts[e[i].host];
		if (h->reachable && !strcmp(h->name, host) &&
		    (e[i].d->definition_unknown || !e[i].d->owner_name))
			return true;
	}
	return false;
}

static enum crd_vm_phase derive_phase(const struct plan_action *a, const struct inv_domain *d)
{
	if (a && a->phase != CRD_VM_PHASE_NONE)
		return a->phase;
	if (!d)
		return CRD_VM_PENDING;
	return d->active ? CRD_VM_RUNNING : CRD_VM_STOPPED;
}

/* status.placement from the action whose placement ran; kept as it was otherwise (the VM
 * stays where placement put it, for the reasons given then). Returns 0 or -1. */
static int placement_update(struct crd_vm_placement *pl, const struct plan_action *a)
{
	struct crd_map copy = {0};

	if (!a || !a->placement)
		return 0;
	if (a->rejected.n && !(copy.items = calloc(a->rejected.n, sizeof(*copy.items))))
		return -1;
	for (size_t i = 0; i < a->rejected.n; i++, copy.n++) {
		copy.items[i].key = strdup(a->rejected.items[i].key);
		copy.items[i].value = strdup(a->rejected.items[i].value);
		if (!copy.items[i].key || !copy.items[i].value) {
			copy.n++;
			crd_map_free(&copy);
			return -1;
		}
	}
	if (set_str(&pl->reason, a->placement) < 0) {
		crd_map_free(&copy);
		return -1;
	}
	crd_map_free(&pl->rejected);
	pl->rejected = copy;
	return 0;
}

/* Host status.cpu and status.hugepages: threads, vCPUs of the running guests, load; the
 * first huge page size. This function can't fail. */
static void host_capacity(struct crd_host_status *st, const struct inv_host *ih)
{
	int64_t vcpus = 0;

	for (size_t i = 0; i < ih->n_domains; i++)
		if (ih->domains[i].active)
			vcpus += ih->domains[i].vcpus;
	st->cpu.threads = ih->cpu_threads;
	st->cpu.allocated_vcpus = vcpus;
	st->cpu.load = ih->has_cpu_load ? ih->cpu_load : 0;
	memset(&st->hugepages, 0, sizeof(st->hugepages));
	if (ih->n_hugepages)
		st->hugepages = (struct crd_host_hugepages){
			.page_size = ih->hugepages[0].page_size,
			.total = (int64_t)ih->hugepages[0].total,
			.free = (int64_t)ih->hugepages[0].free,
		};
}

/* True when condition @type of @c has reason @reason. This function can't fail. */
static bool condition_reason_is(const struct crd_conditions *c, const char *type,
				const char *reason)
{
	const struct crd_condition *cond = find_condition(c, type);
	return cond && cond->reason && !strcmp(cond->reason, reason);
}

/* Tuned, for a VM with spec.tuning: False while the planner sees a difference (the
 * reason lists it), True once it sees none. The planner compares only a VM settled where
 * it should be; meanwhile (a move, a start) the condition stays as it was. A tuning that
 * libvirt refuses is written by whoever executed it (reason TuningFailed).
 * Returns 0, or -1 when out of memory. */
static int tuned_condition(struct crd_vm *vm, const struct plan_action *a, int64_t gen,
			   const char *now)
{
	struct crd_conditions *c = &vm->status.conditions;

	if (!crd_tuning_any(&vm->spec.tuning) || !a)
		return 0;
	/* What libvirt refused says more than the difference it leaves: it stays until the
	 * tuning is applied. */
	if (a->kind == PLAN_TUNE && condition_reason_is(c, "Tuned", "TuningFailed"))
		return 0;
	if (a->kind == PLAN_TUNE)
		return status_set_condition(c, "Tuned", CRD_COND_FALSE, "Drift", a->reason, gen, now);
	if (a->kind == PLAN_NONE)
		return status_set_condition(c, "Tuned", CRD_COND_TRUE, "Applied", "", gen, now);
	return 0;
}

/* RestartRequired: True while the running guest differs from its definition (observe
 * says how), or when this pass redefines a running guest; then False once, and no longer
 * written after that for a VM that never needed it. Returns 0, or -1 when out of memory. */
static int restart_condition(struct crd_vm *vm, const struct plan_action *a,
			     const struct inv_domain *dom, int64_t gen, const char *now)
{
	struct crd_conditions *c = &vm->status.conditions;
	bool redefining = a && a->kind == PLAN_REDEFINE && dom && dom->active;
	const char *why = dom && dom->active ? dom->restart_why : NULL;

	if (why || redefining)
		return status_set_condition(c, "RestartRequired", CRD_COND_TRUE, "DefinitionChanged",
					    why ? why : a->reason, gen, now);
	if (!find_condition(c, "RestartRequired"))
		return 0;
	return status_set_condition(c, "RestartRequired", CRD_COND_FALSE, "UpToDate", "", gen, now);
}

int status_vm_update(struct crd_vm *vm, const struct plan_action *a, const struct inventory *inv,
		     const struct inv_index *doms, const char *now)
{
	struct crd_vm_status *st = &vm->status;
	const struct inv_domain *dom;
	const struct inv_host *at = find_instance(vm, inv, doms, &dom);
	int64_t gen = vm->meta.generation;
	const char *problem = a ? status_problem_reason(a->problem) : "";
	const char *why = a && a->reason ? a->reason : "";
	bool moving = a && (a->phase == CRD_VM_MIGRATING);
	bool placed = at && (!vm->spec.host || !strcmp(vm->spec.host, at->name)) && !moving;
	int rc = 0;

	st->observed_generation = gen;
	st->phase = derive_phase(a, dom);
	/* The last known host is the planner's memory of where the VM may still run: while
	 * that host cannot be seen and no copy is visible, it is kept, whatever the reason
	 * (unknown, lost, ...). Forgetting it would let the next pass define a second copy.
	 * So is it while that host holds a domain of the VM's name that may be the VM's (its
	 * definition redefined without drover's element, or unreadable this pass): should the
	 * host then drop out of sight, the VM must count as lost there, not as undefined. And
	 * so is it while a job is putting the VM there. */
	if (at || !(last_host_unseen(inv, st->host) || unowned_copy_on(vm, inv, doms, st->host) ||
		    landing_on(vm, inv, st->host)))
		rc |= set_str(&st->host, at ? at->name : NULL);
	if (a && a->problem != PLAN_PROBLEM_NONE)
		rc |= status_set_condition(&st->conditions, "Placed", CRD_COND_FALSE, problem, why,
					   gen, now);
	else
		rc |= status_set_condition(&st->conditions, "Placed",
					   placed ? CRD_COND_TRUE : CRD_COND_FALSE,
					   placed ? "OnDesiredHost" : at ? "Moving" : "NotDefined",
					   why, gen, now);
	rc |= status_set_condition(&st->conditions, "Running",
				   dom && dom->active ? CRD_COND_TRUE : CRD_COND_FALSE,
				   dom && dom->active ? "DomainActive" : "DomainInactive", "", gen, now);
	rc |= status_set_condition(&st->conditions, "Migrating",
				   moving ? CRD_COND_TRUE : CRD_COND_FALSE,
				   moving ? "MigrationInProgress" : "NoMigration", moving ? why : "",
				   gen, now);
	rc |= placement_update(&st->placement, a);
	rc |= tuned_condition(vm, a, gen, now);
	rc |= restart_condition(vm, a, dom, gen, now);
	bool live = dom && dom->active && vm->spec.eviction != CRD_EVICT_NONE;
	rc |= status_set_condition(&st->conditions, "LiveMigratable",
				   live ? CRD_COND_TRUE : CRD_COND_FALSE,
				   live ? "Migratable"
					: !(dom && dom->active) ? "NotRunning" : "EvictionStrategyNone",
				   "", gen, now);
	return rc ? -1 : 0;
}

int status_host_update(struct crd_host *h, const struct inv_host *ih, const char *now)
{
	struct crd_host_status *st = &h->status;
	struct crd_hypervisor *hv = &st->hypervisor;
	int64_t gen = h->meta.generation;
	bool up = ih && ih->reachable;
	char version[32];
	int rc = 0;

	st->observed_generation = gen;
	rc |= status_set_condition(&st->conditions, "Reachable", up ? CRD_COND_TRUE : CRD_COND_FALSE,
				   up ? "Connected" : "Unreachable",
				   up ? "" : ih && ih->error ? ih->error : "not observed", gen, now);
	bool ready = up && !h->spec.unschedulable && !h->spec.drain && !h->spec.fenced;
	rc |= status_set_condition(&st->conditions, "Ready", ready ? CRD_COND_TRUE : CRD_COND_FALSE,
				   ready ? "Schedulable"
				   : !up ? "Unreachable"
				   : h->spec.fenced ? "Fenced"
				   : h->spec.drain ? "Draining" : "Unschedulable",
				   "", gen, now);
	if (!up)
		return rc ? -1 : 0;
	rc |= set_str(&hv->type, ih->hv_type);
	snprintf(version, sizeof(version), "%lu.%lu.%lu", ih->hv_version / 1000000,
		 ih->hv_version / 1000 % 1000, ih->hv_version % 1000);
	rc |= set_str(&hv->version, version);
	snprintf(version, sizeof(version), "%lu.%lu.%lu", ih->lib_version / 1000000,
		 ih->lib_version / 1000 % 1000, ih->lib_version % 1000);
	rc |= set_str(&hv->libvirt_version, version);
	rc |= set_str(&hv->arch, ih->arch);
	rc |= set_str(&hv->cpu_model, ih->cpu_model);
	st->memory_total = ih->memory_total;
	st->memory_free = ih->memory_free;
	host_capacity(st, ih);
	st->vms = (int64_t)ih->n_domains;
	return rc ? -1 : 0;
}

/* The Failed condition's reason for each verdict. */
static const char *failed_reason(enum plan_host_verdict v)
{
	switch (v) {
	case PLAN_HOST_UP: return "Reachable";
	case PLAN_HOST_SUSPECT: return "Suspect";
	case PLAN_HOST_FAILED: return "Unreachable";
	case PLAN_HOST_FENCE: return "Fencing";
	case PLAN_HOST_BACKOFF: return "FenceFailed";
	case PLAN_HOST_QUORUM: return "QuorumLost";
	case PLAN_HOST_FENCED: return "Fenced";
	}
	return "";
}

int status_host_failure(struct crd_host *h, const struct plan_host_decision *d, bool fence_failed,
			const char *fence_why, const char *now)
{
	struct crd_conditions *c = &h->status.conditions;
	int64_t gen = h->meta.generation;
	bool failed = d->verdict != PLAN_HOST_UP && d->verdict != PLAN_HOST_SUSPECT;
	bool agent = d->verdict == PLAN_HOST_FENCED, fenced = agent || h->spec.fenced;
	int rc = 0;

	rc |= status_set_condition(c, "Failed", failed ? CRD_COND_TRUE : CRD_COND_FALSE,
				   failed_reason(d->verdict), d->reason, gen, now);
	rc |= status_set_condition(c, "Fenced", fenced ? CRD_COND_TRUE : CRD_COND_FALSE,
				   agent ? "FenceAgent" : fenced ? "Operator"
				   : fence_failed ? "FenceFailed" : "NotFenced",
				   fenced ? (agent ? d->reason : "spec.fenced is true")
				   : fence_failed && fence_why ? fence_why : "", gen, now);
	return rc ? -1 : 0;
}

int status_host_fence_ran(struct crd_host *h, const char *action, bool succeeded,
			  const char *now)
{
	struct crd_fence_status *f = &h->status.fencing;
	int rc = set_str(&f->last_action, action);
	rc |= set_str(&f->result, succeeded ? "Succeeded" : "Failed");
	rc |= set_str(&f->time, now);
	return rc ? -1 : 0;
}

bool status_host_fenced_by_agent(const struct crd_host *h)
{
	const struct crd_fence_status *f = &h->status.fencing;
	return f->last_action && f->result && !strcmp(f->last_action, "off") &&
	       !strcmp(f->result, "Succeeded");
}

int status_migration_set_phase(struct crd_migration_status *st, enum crd_mig_phase phase,
			       const char *now)
{
	size_t n = st->n_transitions;
	char *stamp;

	st->phase = phase;
	if (phase == CRD_MIG_PHASE_NONE || (n && st->transitions[n - 1].phase == phase))
		return 0;
	if (!(stamp = strdup(now)))
		return -1;
	if (n >= CRD_MIG_TRANSITIONS_MAX) {
		/* Only a record that keeps changing its mind gets here; its latest phases are
		 * the ones that explain where it stands. */
		free(st->transitions[0].time);
		n = CRD_MIG_TRANSITIONS_MAX - 1;
		memmove(&st->transitions[0], &st->transitions[1], n * sizeof(st->transitions[0]));
	}
	st->transitions[n] = (struct crd_mig_transition){.phase = phase, .time = stamp};
	st->n_transitions = n + 1;
	return 0;
}

int status_migration_update(struct crd_migration_status *st, const struct exec_move *mv,
			    int64_t generation, const char *now)
{
	int rc = 0;

	st->observed_generation = generation;
	rc |= status_migration_set_phase(st, mv->phase, now);
	st->mode = mv->mode;
	st->progress = mv->progress;
	/* A move taken over keeps the prediction made when it started. */
	if (mv->prediction.set)
		st->prediction = mv->prediction;
	if (mv->statistics.set)
		st->statistics = mv->statistics;
	st->downtime_ms = mv->downtime_ms < 0 ? 0 : mv->downtime_ms;
	rc |= set_str(&st->source_host, mv->source[0] ? mv->source : NULL);
	rc |= set_str(&st->target_host, mv->target[0] ? mv->target : NULL);
	rc |= set_str(&st->start_time, mv->start_time[0] ? mv->start_time : NULL);
	rc |= set_str(&st->end_time, mv->end_time[0] ? mv->end_time : NULL);
	bool failed = mv->phase == CRD_MIG_FAILED || mv->phase == CRD_MIG_CANCELLED;
	rc |= set_str(&st->failure_reason, failed && mv->note[0] ? mv->note : NULL);
	bool done = mv->phase == CRD_MIG_SUCCEEDED || failed;
	rc |= status_set_condition(&st->conditions, "Complete", done ? CRD_COND_TRUE : CRD_COND_FALSE,
				   crd_mig_phase_str(mv->phase), mv->note, generation, now);
	return rc ? -1 : 0;
}

int status_migration_finish(struct crd_migration *m, const struct plan_action *a, const char *now)
{
	if (!m->status.reason)
		m->status.reason = m->undeclared ? a->cause : CRD_MIG_REQUESTED;
	struct exec_move mv = {.phase = a->migration_phase, .downtime_ms = -1};
	const struct crd_migration_status *st = &m->status;

	snprintf(mv.source, sizeof(mv.source), "%s", st->source_host ? st->source_host
		 : a->src ? a->src : "");
	snprintf(mv.target, sizeof(mv.target), "%s", st->target_host ? st->target_host
		 : a->dst ? a->dst : "");
	snprintf(mv.start_time, sizeof(mv.start_time), "%s", st->start_time ? st->start_time : now);
	snprintf(mv.end_time, sizeof(mv.end_time), "%s", now);
	snprintf(mv.note, sizeof(mv.note), "%s", a->reason ? a->reason : "");
	mv.progress = st->progress;
	mv.mode = st->mode;
	if (a->migration_phase == CRD_MIG_SUCCEEDED)
		mv.progress.percent = 100;
	return status_migration_update(&m->status, &mv, m->meta.generation, now);
}

int status_migration_move(struct crd_migration *m, const struct plan_action *a,
			  const struct exec_move *mv, const char *now)
{
	if (!m->status.reason)
		m->status.reason = a->migration ? CRD_MIG_REQUESTED : a->cause;
	return status_migration_update(&m->status, mv, m->meta.generation, now);
}

int status_migration_pending(struct crd_migration *m, const struct plan_action *a,
			     const char *now)
{
	if (m->status.phase != CRD_MIG_PHASE_NONE || a->kind == PLAN_BLOCKED)
		return 0;
	m->status.reason = CRD_MIG_REQUESTED;
	return status_migration_set_phase(&m->status, CRD_MIG_PENDING, now) < 0 ? -1 : 1;
}

int status_vm_move(struct crd_vm *vm, const struct crd_migration *m, const struct exec_move *mv)
{
	struct crd_vm_status *st = &vm->status;

	if (set_str(&st->migration.name, m->meta.name) < 0)
		return -1;
	st->migration.phase = mv->phase;
	st->migration.percent = mv->progress.percent;
	if (mv->phase == CRD_MIG_RUNNING)
		st->phase = CRD_VM_MIGRATING;
	return 0;
}

int status_vm_landing(struct crd_vm *vm, const char *host)
{
	return set_str(&vm->status.host, host);
}

int status_vm_action_failed(struct crd_vm *vm, enum plan_kind kind, const char *why,
			    const char *now)
{
	bool tune = kind == PLAN_TUNE;
	return status_set_condition(&vm->status.conditions, tune ? "Tuned" : "Placed",
				    CRD_COND_FALSE, tune ? "TuningFailed" : "ActionFailed",
				    why ? why : "", vm->meta.generation, now);
}

int status_vm_backing_off(struct crd_vm *vm, enum plan_kind kind, const char *why,
			  double left_s, const char *now)
{
	char msg[700];
	bool tune = kind == PLAN_TUNE;

	snprintf(msg, sizeof(msg), "%s; next try in %.0f s", why ? why : "", left_s);
	return status_set_condition(&vm->status.conditions, tune ? "Tuned" : "Placed",
				    CRD_COND_FALSE, tune ? "TuningFailed" : "BackingOff", msg,
				    vm->meta.generation, now);
}
