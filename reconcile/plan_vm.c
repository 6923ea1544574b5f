/* plan_vm: identity, conflicts, lost hosts, in-flight jobs and Migrations of one VM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/plan_affinity.h"
#include "crd/domain.h"
#include "reconcile/plan_vm.h"
#include "reconcile/defdiff.h"
#include "reconcile/tune.h"

/* A domain of the VM's name on a reachable host. */
struct copy {
	struct plan_host *h;
	const struct inv_domain *d;
};

/* Every domain of the VM's name: drover's for this VM, and those without drover metadata.
 * (A domain that drover defined for another VM of the same name is neither.) */
struct copies {
	struct copy *owned, *foreign;
	size_t n_owned, n_foreign;
	struct copy unsure;          /* a domain of the VM's name whose definition observe could
				      * not read (h NULL: none): whose it is, is unknown */
};

static void copies_free(struct copies *cp)
{
	free(cp->owned);
	free(cp->foreign);
	memset(cp, 0, sizeof(*cp));
}

/* Fills @cp from every reachable host, in host order. Returns 0, or -1 when out of memory. */
static int copies_find(const struct plan_ctx *c, const struct crd_vm *vm, struct copies *cp)
{
	size_t n;
	const struct inv_ref *e = inv_index_find(&c->doms, vm->meta.name, &n);

	memset(cp, 0, sizeof(*cp));
	cp->owned = calloc(n + 1, sizeof(*cp->owned));
	cp->foreign = calloc(n + 1, sizeof(*cp->foreign));
	if (!cp->owned || !cp->foreign)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct plan_host *h = &c->hosts[e[i].host];
		const struct inv_domain *d = e[i].d;
		if (!h->reachable)
			continue;
		if (d->definition_unknown)
			cp->unsure = (struct copy){h, d};
		else if (inv_domain_owned_by(d, vm->meta.namespace, vm->meta.name))
			cp->owned[cp->n_owned++] = (struct copy){h, d};
		else if (!d->owner_name)
			cp->foreign[cp->n_foreign++] = (struct copy){h, d};
	}
	return 0;
}

/* Appends "lab-a, lab-b" for the hosts of @n copies to @s. This function can't fail. */
static void hosts_list(struct plan_str *s, const struct copy *cp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		plan_str_add(s, "%s%s", i ? ", " : "", cp[i].h->name);
}

static bool mig_for(const struct crd_migration *m, const struct crd_vm *vm)
{
	return m->spec.vm_name && !strcmp(m->spec.vm_name, vm->meta.name) &&
	       !strcmp(m->meta.namespace, vm->meta.namespace);
}

/* True when @m records a move of @vm from host @src to host @dst (NULL: any) that never
 * ended: it is still Running. */
static bool records_move(const struct crd_migration *m, const struct crd_vm *vm, const char *src,
			 const char *dst)
{
	const char *from = m->status.source_host, *to = m->status.target_host;
	return m->status.phase == CRD_MIG_RUNNING && mig_for(m, vm) && from && to &&
	       (!src || !strcmp(from, src)) && (!dst || !strcmp(to, dst));
}

/* An unended Migration of @v whose record says it moves from @a's host to @b's, or NULL. */
static const struct crd_migration *move_between(const struct plan_ctx *c, const struct plan_vm *v,
						 const struct copy *a, const struct copy *b)
{
	for (size_t i = 0; i < c->desired->n_migrations; i++)
		if (records_move(&c->desired->migrations[i], v->vm, a->h->name, b->h->name))
			return &c->desired->migrations[i];
	return NULL;
}

/* Rule 9: a job or an incoming migration on any of the @n copies @list → WAIT; it counts
 * against the limits. A job that is drover's own move — an outgoing migration from the copy
 * with the job to the copy migrating in, between the hosts an unended Migration records —
 * was left running when an earlier drover stopped (this drover's own moves under way are
 * jobs of the inventory, rule 0): WATCH_MIGRATION takes it over, with the
 * knobs it started with, so it still ends. Anyone else's job (an operator's migration) is
 * waited for and never touched. Returns true when the VM is in flight (and planned). */
static bool in_flight(struct plan_ctx *c, struct plan_vm *v, const struct copy *list, size_t n)
{
	const struct copy *src = NULL, *dst = NULL, *job = NULL;
	bool busy = false;

	for (size_t i = 0; i < n; i++) {
		const struct copy *o = &list[i];
		if (o->d->migrating_in) {
			dst = o;
			busy = true;
			continue;
		}
		if (o->d->job_active)
			job = o;
		busy |= o->d->job_active;
		if (!src || o->d->active)
			src = o;
	}
	if (!busy)
		return false;
	src = job ? job : src;
	c->migrations++;
	if (src) {
		src->h->outbound++;
		v->host = src->h;
		v->dom = src->d;
	}
	const struct crd_migration *m = job && dst ? move_between(c, v, job, dst) : NULL;
	struct plan_emit e = {.kind = m ? PLAN_WATCH_MIGRATION : PLAN_WAIT, .v = v, .mig = m,
			      .src = src ? src->h : NULL, .dst = dst ? dst->h : NULL,
			      .phase = CRD_VM_MIGRATING};
	if (m) {
		struct plan_action *a = plan_emit(c, &e, "taking over migration %s %s → %s, left "
						  "running when drover stopped", m->meta.name,
						  src->h->name, dst->h->name);
		if (a)
			crd_effective_knobs(v->vm, m, &a->knobs);
	} else if (dst) {
		plan_emit(c, &e, "waiting: migration %s → %s in progress", src ? src->h->name : "?",
			  dst->h->name);
	} else {
		plan_emit(c, &e, "waiting: a libvirt job is running on %s at %s", v->vm->meta.name,
			  src ? src->h->name : "?");
	}
	return true;
}

/* The source copy of a move may go once the move reached the target: it is inactive, or
 * (a live move whose end libvirt could not confirm) still paused by the migration while
 * the target runs the guest. A source paused otherwise, or running, is never touched. */
static bool source_left_behind(const struct copy *src, const struct copy *dst)
{
	return !src->d->active ||
	       (src->d->paused_out && dst->d->state == INV_RUNNING && !dst->d->migrating_in);
}

/* Two copies, on the source and the target of a move whose record never ended, the
 * source's left behind: the move got as far as the target's definition — a cold move
 * defines it only once every disk is copied, a live one once the guest runs there — and
 * was cut short (drover stopped, or libvirt lost a daemon before it could confirm) before
 * the source's definition went, or libvirt is about to remove it. The move is finished:
 * the source definition goes, as the move would have removed it. Returns true when
 * planned. */
static bool interrupted_move(struct plan_ctx *c, struct plan_vm *v, const struct copies *cp)
{
	if (cp->n_owned != 2)
		return false;
	for (size_t k = 0; k < 2; k++) {
		const struct copy *src = &cp->owned[k], *dst = &cp->owned[1 - k];
		const struct crd_migration *m =
			source_left_behind(src, dst) ? move_between(c, v, src, dst) : NULL;
		if (!m)
			continue;
		v->host = dst->h;
		v->dom = dst->d;
		struct plan_emit e = {.kind = PLAN_UNDEFINE_STALE, .v = v, .mig = m, .src = dst->h,
				      .dst = src->h,
				      .phase = dst->d->active ? CRD_VM_RUNNING : CRD_VM_STOPPED};
		plan_emit(c, &e, "finishing move %s, cut short after %s was defined on %s: "
			  "removing the source definition on %s", m->meta.name, v->vm->meta.name,
			  dst->h->name, src->h->name);
		return true;
	}
	return false;
}

/* Rule 2: owned copies on two or more hosts. One active copy whose every other copy is
 * inactive on a fenced host: the others are stale (the VM was restarted after fencing).
 * Otherwise a conflict, left alone. */
static void several_copies(struct plan_ctx *c, struct plan_vm *v, const struct copies *cp)
{
	const struct copy *run = NULL;
	size_t n_active = 0;
	bool stale = true;
	struct plan_str hosts = {.len = 0};

	for (size_t i = 0; i < cp->n_owned; i++) {
		if (cp->owned[i].d->active) {
			n_active++;
			run = &cp->owned[i];
		} else if (!cp->owned[i].h->fenced) {
			stale = false;
		}
	}
	hosts_list(&hosts, cp->owned, cp->n_owned);
	if (n_active != 1 || !stale) {
		struct plan_emit e = {.kind = PLAN_BLOCKED, .problem = PLAN_PROBLEM_CONFLICT, .v = v,
				      .phase = CRD_VM_CONFLICT};
		plan_emit(c, &e, "defined on %zu hosts: %s; drover leaves it alone until only one "
			  "definition is left", cp->n_owned, hosts.buf);
		return;
	}
	v->host = run->h;
	v->dom = run->d;
	for (size_t i = 0; i < cp->n_owned; i++) {
		const struct copy *o = &cp->owned[i];
		struct plan_emit e = {.kind = PLAN_UNDEFINE_STALE, .v = v, .src = run->h,
				      .dst = o->h, .phase = CRD_VM_RUNNING};
		if (o != run)
			plan_emit(c, &e, "host %s was fenced and %s runs on %s: removing the stale "
				  "definition", o->h->name, v->vm->meta.name, run->h->name);
	}
}

/* Rule 1, adoption: no copy of drover's and exactly one domain of the name without drover's
 * metadata, on the pinned host or (unpinned) anywhere → it is the VM's instance. Two such
 * domains, or one away from the pinned host, might be the VM running already: a conflict.
 * Returns true when the VM is planned (conflict). */
static bool foreign_copies(struct plan_ctx *c, struct plan_vm *v, const struct copies *cp)
{
	const char *pin = v->vm->spec.host, *name = v->vm->meta.name;
	struct plan_emit e = {.kind = PLAN_BLOCKED, .problem = PLAN_PROBLEM_CONFLICT, .v = v,
			      .phase = CRD_VM_CONFLICT};
	struct plan_str hosts = {.len = 0};

	if (cp->n_owned || !cp->n_foreign)
		return false;
	hosts_list(&hosts, cp->foreign, cp->n_foreign);
	if (cp->n_foreign > 1) {
		plan_emit(c, &e, "domain %s exists on %s without drover metadata: cannot tell which "
			  "one to adopt", name, hosts.buf);
		return true;
	}
	if (pin && strcmp(pin, cp->foreign[0].h->name)) {
		plan_emit(c, &e, "domain %s on %s is not managed by drover and %s is pinned to %s: "
			  "remove that domain or pin %s to %s", name, hosts.buf, name, pin, name,
			  hosts.buf);
		return true;
	}
	v->host = cp->foreign[0].h;
	v->dom = cp->foreign[0].d;
	v->adopting = true;
	return false;
}

/* Queues a landing of @v (define, or start of its own definition) on @dst or, when NULL,
 * where placement chooses, for @cause. @why is the reason. */
static void queue_land(struct plan_ctx *c, struct plan_vm *v, struct plan_host *dst,
		       enum plan_cause cause, const char *why)
{
	struct plan_intent it = {.v = *v, .kind = PLAN_INTENT_LAND, .cause = cause, .dst = dst};

	snprintf(it.why, sizeof(it.why), "%s", why);
	plan_queue(c, &it);
	memset(&v->res, 0, sizeof(v->res));
}

/* Rules 4 and 5 for a VM with no instance: define it on its pinned host or by placement,
 * for @cause and the reason @why. */
static void undefined(struct plan_ctx *c, struct plan_vm *v, enum plan_cause cause,
		      const char *why)
{
	const char *pin = v->vm->spec.host;
	struct plan_host *h = plan_ctx_host(c, pin);
	struct plan_emit e = {.kind = PLAN_BLOCKED, .v = v, .dst = h, .phase = CRD_VM_PENDING};

	if (pin && !h) {
		e.problem = PLAN_PROBLEM_NO_HOST;
		plan_emit(c, &e, "spec.host %s is not a declared Host", pin);
	} else if (h && !h->reachable && !h->fenced) {
		e.problem = PLAN_PROBLEM_HOST_UNKNOWN;
		e.phase = CRD_VM_UNKNOWN;
		plan_emit(c, &e, "host %s is unreachable (%s): cannot tell whether %s is there",
			  pin, h->inv && h->inv->error ? h->inv->error : "not observed",
			  v->vm->meta.name);
	} else {
		queue_land(c, v, h, cause, why);
	}
}

/* Host @name is declared and not observed now; a fenced one counts only when
 * @even_fenced. */
static bool unseen(const struct plan_ctx *c, const char *name, bool even_fenced)
{
	const struct plan_host *h = plan_ctx_host(c, name);
	return h && !h->reachable && (even_fenced || !h->fenced);
}

/* Where @vm, of which no copy is visible, may be: the host it last ran on when that one is
 * not seen, else an unseen end of a move of it that never ended. The soak found why the
 * second: a move landed, its target lost power before any pass saw the VM there, and the
 * source, seen without the VM, cleared status.host; the VM counted as "not defined on any
 * host", its record was ended, and the source's stale disks were forgotten. */
static const char *last_host(const struct plan_ctx *c, const struct crd_vm *vm)
{
	const char *last = vm->status.host;
	const struct plan_host *h = plan_ctx_host(c, last);

	if (last && (!h || !h->reachable))
		return last;
	for (size_t i = 0; i < c->desired->n_migrations; i++) {
		const struct crd_migration *m = &c->desired->migrations[i];
		if (!records_move(m, vm, NULL, NULL))
			continue;
		if (unseen(c, m->status.target_host, true))
			return m->status.target_host;
		if (unseen(c, m->status.source_host, true))
			return m->status.source_host;
	}
	return last;
}

/* Rule 3: no instance is visible and the host it last ran on (or an unended move took it
 * to) is unreachable. Returns true when the VM is planned. */
static bool lost_host(struct plan_ctx *c, struct plan_vm *v)
{
	const struct crd_vm *vm = v->vm;
	const char *last = last_host(c, vm), *name = vm->meta.name;
	struct plan_host *h = plan_ctx_host(c, last);
	struct plan_emit e = {.kind = PLAN_BLOCKED, .v = v, .src = h, .phase = CRD_VM_UNKNOWN};
	char why[256];

	if (!last || (h && h->reachable))
		return false;
	if (!h) {
		e.problem = PLAN_PROBLEM_HOST_UNKNOWN;
		plan_emit(c, &e, "%s last ran on %s, which is no longer declared: declare it with "
			  "fenced: true to restart %s elsewhere", name, last, name);
	} else if (!h->fenced) {
		e.problem = PLAN_PROBLEM_HOST_UNKNOWN;
		plan_emit(c, &e, "host %s is unreachable (%s): %s may still run there", last,
			  h->inv && h->inv->error ? h->inv->error : "not observed", name);
	} else if (vm->spec.storage == CRD_STORAGE_LOCAL) {
		e.problem = PLAN_PROBLEM_LOST;
		plan_emit(c, &e, "host %s fenced: %s has local disks there; lost until %s returns",
			  last, name, last);
	} else if (!vm->spec.running) {
		e.kind = PLAN_NONE;
		e.phase = CRD_VM_STOPPED;
		plan_emit(c, &e, "host %s fenced: %s is not to run; its definition stays there",
			  last, name);
	} else if (vm->spec.host && !strcmp(vm->spec.host, last)) {
		e.problem = PLAN_PROBLEM_NO_HOST;
		e.phase = CRD_VM_PENDING;
		plan_emit(c, &e, "host %s fenced: %s is pinned there by spec.host; change spec.host "
			  "to restart it elsewhere", last, name);
	} else {
		snprintf(why, sizeof(why), "host %s fenced: restarting elsewhere", last);
		undefined(c, v, PLAN_CAUSE_FAILOVER, why);
	}
	return true;
}

/* ---- Migration objects (rule 6) ---- */

/* The host a Migration moves to: the one drover chose earlier, else the one asked for. */
static const char *mig_target(const struct crd_migration *m)
{
	return m->status.target_host ? m->status.target_host : m->spec.target_host;
}

/* Emits FINISH_MIGRATION of @m with @phase, @problem and the reason @why. */
static void finish(struct plan_ctx *c, const struct plan_vm *v, const struct crd_migration *m,
		   enum crd_mig_phase phase, enum plan_problem problem, const char *why)
{
	struct plan_emit e = {.kind = PLAN_FINISH_MIGRATION, .problem = problem, .v = v, .mig = m,
			      .src = v->host, .dst = NULL, .phase = plan_vm_phase_now(v),
			      .mig_phase = phase};
	struct plan_action *a = plan_emit(c, &e, "%s", why);
	const char *target = mig_target(m);

	if (a && target && !a->dst && !(a->dst = strdup(target)))
		c->oom = true;
}

/* The hosts where @m, a move of a local-storage VM that never ended, may have left copies
 * of the VM's disks: those of its source and target the VM is not on now — the source once
 * the VM is on the target (the move landed: its copies are stale), the target while the VM
 * is still on the source (cut short: a partial copy), both once it has moved on elsewhere.
 * Returns how many (0 for shared storage, a VM nowhere, or another kind of record). */
static size_t leftover_hosts(const struct plan_vm *v, const struct crd_migration *m,
			     const char *out[2])
{
	const char *ends[2] = {m->status.source_host, m->status.target_host};
	size_t n = 0;

	if (v->vm->spec.storage != CRD_STORAGE_LOCAL || !v->host ||
	    !records_move(m, v->vm, NULL, NULL) || !strcmp(ends[0], ends[1]))
		return 0;
	for (size_t i = 0; i < 2; i++)
		if (strcmp(v->host->name, ends[i]))
			out[n++] = ends[i];
	return n;
}

/* True when one of the hosts @m left copies on is not observed now, fenced or not. */
static bool leftovers_unseen(const struct plan_ctx *c, const struct plan_vm *v,
			     const struct crd_migration *m)
{
	const char *left[2];
	size_t n = leftover_hosts(v, m, left);
	bool any = false;

	for (size_t i = 0; i < n; i++)
		any = any || unseen(c, left[i], true);
	return any;
}

/* Settles @m when its end is already known. Returns true when a FINISH was emitted. */
static bool mig_settle(struct plan_ctx *c, const struct plan_vm *v, const struct crd_migration *m)
{
	const char *target = mig_target(m), *name = v->vm->meta.name, *pin = v->vm->spec.host;
	const char *src = m->status.source_host;
	bool there = target && v->host && !strcmp(v->host->name, target);
	bool moved = there && src && strcmp(src, target);
	char why[PLAN_REASON_MAX];

	if (leftovers_unseen(c, v, m)) {
		/* A local VM's disks left on a host not observed now: the record waits until it
		 * is seen again (a fenced host: when it returns), so they are found and deleted. */
		return true;
	} else if (m->spec.cancel && !moved) {
		finish(c, v, m, CRD_MIG_CANCELLED, PLAN_PROBLEM_NONE, "cancelled by spec.cancel");
	} else if (pin && (!m->spec.target_host || strcmp(m->spec.target_host, pin))) {
		snprintf(why, sizeof(why), "VirtualMachine %s is pinned to %s by spec.host; change "
			 "spec.host to move it", name, pin);
		finish(c, v, m, CRD_MIG_FAILED, PLAN_PROBLEM_REJECTED, why);
	} else if (moved && unseen(c, src, false)) {
		/* The source is not observed now: a copy may be left there (a move cut short).
		 * Settled once it is seen again (or fenced), so such a copy is found and removed. */
		return true;
	} else if (there) {
		snprintf(why, sizeof(why), moved ? "%s moved from %s to %s" : "%s is already on %s",
			 name, moved ? src : target, target);
		finish(c, v, m, CRD_MIG_SUCCEEDED, PLAN_PROBLEM_NONE, why);
	} else if (!v->dom) {
		snprintf(why, sizeof(why), "VirtualMachine %s is not defined on any host", name);
		finish(c, v, m, CRD_MIG_FAILED, PLAN_PROBLEM_REJECTED, why);
	} else if (m->status.phase == CRD_MIG_RUNNING) {
		/* Marked running, yet no job is: drover stopped while it ran; libvirt rolled it
		 * back. A user's Migration is not retried. */
		snprintf(why, sizeof(why), "interrupted: no migration of %s is running; it stays "
			 "on %s", name, v->host->name);
		finish(c, v, m, CRD_MIG_FAILED, PLAN_PROBLEM_NONE, why);
	} else if (m->spec.mode == CRD_MODE_LIVE && !v->dom->active) {
		finish(c, v, m, CRD_MIG_FAILED, PLAN_PROBLEM_REJECTED,
		       "Live migration needs a running VM");
	} else if (target && !plan_ctx_host(c, target)) {
		snprintf(why, sizeof(why), "target host %s is not a declared Host", target);
		finish(c, v, m, CRD_MIG_FAILED, PLAN_PROBLEM_REJECTED, why);
	} else {
		return false;
	}
	return true;
}

/* Settles every active Migration of @v and returns the one that drives a move now: the
 * first in the set; later ones wait (no action) until it ends. A move that left copies of
 * local disks waits too unless it is @cleaning, the one whose copies go this pass: ended
 * now, it would be ended without them, and nobody would come back for them (the soak's
 * fifth run: two moves cut short in a row, the second cleaned up, the first forgotten). */
static const struct crd_migration *migrations(struct plan_ctx *c, const struct plan_vm *v,
					      const struct crd_migration *cleaning)
{
	const struct crd_migration *winner = NULL;
	const char *left[2];

	for (size_t i = 0; i < c->desired->n_migrations; i++) {
		const struct crd_migration *m = &c->desired->migrations[i];
		if (!mig_for(m, v->vm) || crd_mig_phase_ended(m->status.phase) ||
		    (m != cleaning && leftover_hosts(v, m, left)) || mig_settle(c, v, m))
			continue;
		if (!winner)
			winner = m;
	}
	return winner;
}

/* A local-storage VM whose move ended while no drover watched it (libvirt finished or
 * rolled back the live job, or drover stopped between a cold move's steps): its record is
 * still Running, and every host the move may have left copies on is observed now. Returns
 * that record, or NULL. */
static const struct crd_migration *ended_local_move(const struct plan_ctx *c,
						    const struct plan_vm *v)
{
	const char *left[2];

	for (size_t i = 0; i < c->desired->n_migrations; i++) {
		const struct crd_migration *m = &c->desired->migrations[i];
		if (leftover_hosts(v, m, left) && !leftovers_unseen(c, v, m))
			return m;
	}
	return NULL;
}

/* The rest of move @m (settled in this pass): the copies of the VM's disks it left on other
 * hosts go, as the move itself would have deleted them. */
static void drop_left_disks(struct plan_ctx *c, struct plan_vm *v, const struct crd_migration *m)
{
	const char *left[2], *src = m->status.source_host, *dst = m->status.target_host;
	const char *name = v->vm->meta.name, *here = v->host->name;
	size_t n = leftover_hosts(v, m, left);

	for (size_t i = 0; i < n; i++) {
		struct plan_emit e = {.kind = PLAN_UNDEFINE_STALE, .v = v, .mig = m, .src = v->host,
				      .dst = plan_ctx_host(c, left[i]), .phase = plan_vm_phase_now(v)};
		if (!strcmp(here, dst))
			plan_emit(c, &e, "finishing move %s, which ended while drover was down: "
				  "deleting the stale copies of %s's local disks on %s", m->meta.name,
				  name, left[i]);
		else if (!strcmp(here, src))
			plan_emit(c, &e, "move %s was cut short, %s stayed on %s: deleting the partial "
				  "copies of its local disks on %s", m->meta.name, name, here, left[i]);
		else
			plan_emit(c, &e, "move %s never ended and %s has moved on to %s: deleting the "
				  "copies of its local disks the move left on %s", m->meta.name, name,
				  here, left[i]);
	}
}

/* ---- what the VM needs ---- */

/* Queues a move of @v (which has an instance) for @cause to @dst (NULL: placement). */
static void queue_move(struct plan_ctx *c, struct plan_vm *v, enum plan_cause cause,
		       const struct crd_migration *mig, struct plan_host *dst, const char *why)
{
	bool active = v->dom->active;
	struct plan_intent it = {.v = *v, .kind = PLAN_INTENT_MOVE, .cause = cause, .mig = mig,
				 .dst = dst, .live = active, .cold = !active};

	if (mig && active)
		it.cold = mig->spec.mode != CRD_MODE_LIVE;
	if (mig && mig->spec.mode == CRD_MODE_COLD)
		it.live = false;
	if (cause == PLAN_CAUSE_DRAIN && active)
		it.cold = v->vm->spec.eviction == CRD_EVICT_LIVE_MIGRATE_IF_POSSIBLE;
	snprintf(it.why, sizeof(it.why), "%s%s", plan_vm_adopt_note(v), why);
	plan_queue(c, &it);
	memset(&v->res, 0, sizeof(v->res));
}

/* True when the spec's domain differs from @v's persistent definition, with what differs
 * in @why. Only drover's own definitions (read by observe) are compared; an adopted one is
 * compared once it carries drover's metadata. */
static bool redefine_needed(const struct plan_vm *v, char *why, size_t size)
{
	struct inv_facts want;
	bool differs;

	if (v->adopting || !v->dom->facts.known)
		return false;
	/* The spec was validated: only out of memory fails here, and then nothing is compared
	 * (the next pass does). */
	differs = defdiff_from_vm(v->vm, &want) == 0 && defdiff_differs(&want, &v->dom->facts,
								       why, size);
	inv_facts_free(&want);
	return differs;
}

void plan_vm_at_host(struct plan_ctx *c, struct plan_vm *v)
{
	const char *at = v->host->name, *note = plan_vm_adopt_note(v), *name = v->vm->meta.name;
	bool active = v->dom->active, want = v->vm->spec.running;
	struct plan_emit e = {.kind = PLAN_NONE, .v = v, .src = v->host, .dst = v->host,
			      .phase = plan_vm_phase_now(v)};
	char why[PLAN_REASON_MAX / 2];

	/* A redefinition comes before a start, so the start boots the new definition; a
	 * stop comes first of all (nothing to wait for). */
	if (!want && active) {
		e.kind = PLAN_STOP;
		plan_emit(c, &e, "%srunning: false, running on %s", note, at);
	} else if (redefine_needed(v, why, sizeof(why))) {
		e.kind = PLAN_REDEFINE;
		plan_emit(c, &e, "spec.domain changed on %s: %s%s%s", at, why,
			  active ? "; restart required: drover restart " : "", active ? name : "");
	} else if (want && !active) {
		snprintf(why, sizeof(why), "%srunning: true, stopped on %s", note, at);
		queue_land(c, v, v->host, PLAN_CAUSE_SPEC, why);
	} else if (active && v->vm->restart_requested) {
		const char *rw = v->dom->restart_why;
		e.kind = PLAN_RESTART;
		plan_emit(c, &e, "restart requested: shutting %s down and starting it again on "
			  "%s%s%s%s", name, at, rw ? " (" : "", rw ? rw : "", rw ? ")" : "");
	} else if (tune_differs(&v->vm->spec.tuning, &v->dom->tuning_config,
				active ? &v->dom->tuning_live : NULL, why, sizeof(why))) {
		e.kind = PLAN_TUNE;
		plan_emit(c, &e, "%stuning on %s: %s", note, at, why);
	} else if (active && v->dom->restart_why) {
		struct plan_action *a = plan_emit(c, &e, "running on %s; restart required (%s): "
						  "drover restart %s", at, v->dom->restart_why, name);
		if (a)
			a->restart_required = true;
	} else {
		plan_emit(c, &e, "%s%s on %s", note, active ? "running" : "stopped", at);
	}
}

/* Rule 8: the instance's host drains. */
static void drain(struct plan_ctx *c, struct plan_vm *v)
{
	const char *at = v->host->name, *name = v->vm->meta.name;
	struct plan_emit e = {.kind = PLAN_BLOCKED, .problem = PLAN_PROBLEM_EVICTION, .v = v,
			      .src = v->host, .phase = plan_vm_phase_now(v)};
	char why[256];

	/* A VM that is to stop anyway is stopped where it is: nothing needs moving live. */
	if (v->dom->active && !v->vm->spec.running)
		plan_vm_at_host(c, v);
	else if (v->vm->spec.host)
		plan_emit(c, &e, "host %s draining: %s is pinned to %s by spec.host", at, name, at);
	else if (v->vm->spec.eviction == CRD_EVICT_NONE)
		plan_emit(c, &e, "host %s draining: evictionStrategy None", at);
	else if (v->vm->spec.eviction == CRD_EVICT_LIVE_MIGRATE && !v->dom->active)
		plan_emit(c, &e, "host %s draining: evictionStrategy LiveMigrate needs a running "
			  "VM; %s is stopped", at, name);
	else {
		snprintf(why, sizeof(why), "host %s draining", at);
		queue_move(c, v, PLAN_CAUSE_DRAIN, NULL, NULL, why);
	}
}

/* Rules 4, 5 and 8: where the VM should be, and what gets it there. */
static void decide(struct plan_ctx *c, struct plan_vm *v, const struct crd_migration *mig)
{
	const char *pin = v->vm->spec.host;
	char why[256];

	if (!v->dom) {
		undefined(c, v, PLAN_CAUSE_SPEC, "not defined yet");
	} else if (mig) {
		snprintf(why, sizeof(why), "Migration %s", mig->meta.name);
		queue_move(c, v, PLAN_CAUSE_MIGRATION, mig, plan_ctx_host(c, mig_target(mig)), why);
	} else if (pin && strcmp(pin, v->host->name)) {
		snprintf(why, sizeof(why), "spec.host changed: %s → %s", v->host->name, pin);
		queue_move(c, v, PLAN_CAUSE_PIN, NULL, plan_ctx_host(c, pin), why);
	} else if (v->host->spec->spec.drain) {
		drain(c, v);
	} else {
		plan_vm_at_host(c, v);
	}
}

/* Rule 0: an action of this drover under way for the VM → WAIT until it ends (passes do not
 * wait for jobs); a move counts against the limits. Returns true when the VM is planned. */
static bool own_job(struct plan_ctx *c, struct plan_vm *v, const struct copies *cp)
{
	const struct inv_job *j = inv_job_of(c->inv, v->vm->meta.namespace, v->vm->meta.name);

	if (!j)
		return false;
	for (size_t i = 0; i < cp->n_owned && !v->dom; i++)
		if (!cp->owned[i].d->migrating_in) {
			v->host = cp->owned[i].h;
			v->dom = cp->owned[i].d;
		}
	struct plan_host *src = plan_ctx_host(c, j->src), *dst = plan_ctx_host(c, j->dst);
	struct plan_emit e = {.kind = PLAN_WAIT, .v = v, .src = src, .dst = dst,
			      .phase = j->move ? CRD_VM_MIGRATING : plan_vm_phase_now(v)};
	if (j->move) {
		c->migrations++;
		if (src)
			src->outbound++;
	}
	plan_emit(c, &e, "waiting: %s under way", j->what);
	return true;
}

/* Reads the VM's resources. Returns true when the VM is planned (blocked, or out of memory). */
static bool resources(struct plan_ctx *c, struct plan_vm *v)
{
	char why[512];
	enum vmres_rc rc = vmres_from_vm(v->vm, &v->res, why, sizeof(why));
	struct plan_emit e = {.kind = PLAN_BLOCKED, .problem = PLAN_PROBLEM_PRECHECK, .v = v,
			      .phase = CRD_VM_PENDING};

	if (rc == VMRES_NOMEM)
		c->oom = true;
	else if (rc != VMRES_OK)
		plan_emit(c, &e, "PreCheckFailed: domain: %s", why);
	return rc != VMRES_OK;
}

/* What @v holds on a host: the larger of the spec's and the instance's memory and vCPUs,
 * the spec's huge pages (else the instance's). This function can't fail. */
static void sizes(struct plan_vm *v)
{
	v->vcpus = v->res.vcpus;
	v->hugepage_size = v->res.hugepage_size;
	if (!v->dom)
		return;
	if (v->dom->memory > v->memory)
		v->memory = v->dom->memory;
	if (v->dom->vcpus > v->vcpus)
		v->vcpus = v->dom->vcpus;
	if (!v->hugepage_size)
		v->hugepage_size = v->dom->hugepage_size;
}

/* The first declared host that was not seen (unreachable, or not observed), or NULL. A
 * domain there is invisible: it may still be one of a deleted VM's. */
static const struct plan_host *unreachable_host(const struct plan_ctx *c)
{
	for (size_t i = 0; i < c->n_hosts; i++)
		if (!c->hosts[i].reachable)
			return &c->hosts[i];
	return NULL;
}

/* Kubernetes mode: the object is being deleted (metadata.deletionTimestamp). Its owned
 * copies go one per pass — stopped and undefined (Delete) or left unowned (Retain) —
 * and once none is left on any host — every declared host seen, since an unreachable one
 * may hold a copy — nothing more is to do: the action says `released`, and the controller
 * drops its finalizer. Domains without drover's metadata are never touched. Returns true when planned. */
static bool deleting(struct plan_ctx *c, struct plan_vm *v, const struct copies *cp)
{
	const struct crd_vm *vm = v->vm;
	bool retain = vm->spec.deletion_policy == CRD_DELETION_RETAIN;
	struct plan_emit e = {.kind = PLAN_NONE, .v = v, .phase = CRD_VM_STOPPED};

	if (!vm->meta.deletion_timestamp)
		return false;
	if (!cp->n_owned) {
		const struct plan_host *dark = unreachable_host(c);
		struct plan_action *a;
		if (dark) {
			e.kind = PLAN_BLOCKED;
			e.problem = PLAN_PROBLEM_HOST_UNKNOWN;
			plan_emit(c, &e, "deleted: waiting for host %s, unreachable, which may still "
				  "hold a domain of %s", dark->name, vm->meta.name);
			return true;
		}
		a = plan_emit(c, &e, "deleted: no domain of %s is left%s", vm->meta.name,
			      retain ? " under drover's ownership" : "");
		if (a)
			a->released = true;
		return true;
	}
	v->host = cp->owned[0].h;
	v->dom = cp->owned[0].d;
	e.kind = retain ? PLAN_DISOWN : PLAN_DELETE;
	e.src = e.dst = v->host;
	e.phase = plan_vm_phase_now(v);
	if (retain)
		plan_emit(c, &e, "deleted with deletionPolicy Retain: %s on %s is left as it is, "
			  "without drover's metadata", vm->meta.name, v->host->name);
	else
		plan_emit(c, &e, "deleted: %s%s on %s (its disks are kept)",
			  v->dom->active ? "stopping and undefining " : "undefining ",
			  vm->meta.name, v->host->name);
	return true;
}

/* A domain of the VM's name whose definition could not be read (redefined or undefined
 * while observe read it): it may be the VM's, so nothing is done for the VM this pass, least
 * of all a define elsewhere (safety rule 1). Returns true when the VM is planned. */
static bool unsure_copy(struct plan_ctx *c, struct plan_vm *v, const struct copies *cp)
{
	struct plan_emit e = {.kind = PLAN_WAIT, .v = v, .src = cp->unsure.h};

	if (!cp->unsure.h)
		return false;
	v->host = cp->unsure.h;
	v->dom = cp->unsure.d;
	e.phase = plan_vm_phase_now(v);
	plan_emit(c, &e, "waiting: the definition of domain %s on %s could not be read (changed "
		  "meanwhile?); looking again next pass", v->vm->meta.name, cp->unsure.h->name);
	return true;
}

void plan_vm_classify(struct plan_ctx *c, const struct crd_vm *vm)
{
	struct plan_vm v = {.vm = vm};
	struct copies cp;

	if (resources(c, &v))
		return;
	v.memory = v.res.memory;
	if (copies_find(c, vm, &cp) < 0) {
		c->oom = true;
		goto cleanup;
	}
	if (own_job(c, &v, &cp) || unsure_copy(c, &v, &cp) ||
	    in_flight(c, &v, cp.owned, cp.n_owned) || deleting(c, &v, &cp))
		goto cleanup;
	if (cp.n_owned > 1) {
		if (!interrupted_move(c, &v, &cp))
			several_copies(c, &v, &cp);
		goto cleanup;
	}
	if (cp.n_owned == 1) {
		v.host = cp.owned[0].h;
		v.dom = cp.owned[0].d;
	} else if (foreign_copies(c, &v, &cp) || in_flight(c, &v, cp.foreign, v.dom ? 1 : 0)) {
		goto cleanup;
	}
	sizes(&v);
	if (!v.dom && lost_host(c, &v))
		goto cleanup;
	const struct crd_migration *ended = ended_local_move(c, &v);
	const struct crd_migration *winner = migrations(c, &v, ended);
	if (ended)
		drop_left_disks(c, &v, ended); /* anything else the VM needs: next pass */
	else
		decide(c, &v, winner);
cleanup:
	/* Where it runs now, for (anti-)affinity; moves and landings planned later update it. */
	if (v.host && v.dom && v.dom->active)
		plan_aff_locate(c, vm, v.host);
	copies_free(&cp);
	vmres_free(&v.res);
}
