/* plan: desired objects + observed inventory in, ordered actions out. Pure: no libvirt, no
 * clock, no I/O. Pass one (plan_vm.c) settles identity and queues moves and landings; pass
 * two resolves moves biggest first under the limits; pass three defines and starts; pass
 * four (plan_balance.c) evens the hosts out by live moves of converged VMs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/plan.h"
#include "reconcile/plan_affinity.h"
#include "reconcile/plan_balance.h"
#include "reconcile/plan_check.h"
#include "reconcile/plan_ctx.h"
#include "reconcile/plan_place.h"
#include "reconcile/plan_vm.h"

void plan_limits_default(struct plan_limits *lim)
{
	lim->max_migrations = 5;
	lim->max_outbound_per_host = 2;
}

const char *plan_kind_str(enum plan_kind k)
{
	static const char *const NAMES[] = {
		[PLAN_NONE] = "none", [PLAN_DEFINE] = "define", [PLAN_DEFINE_START] = "define+start",
		[PLAN_START] = "start", [PLAN_STOP] = "stop", [PLAN_MIGRATE_LIVE] = "live-migrate",
		[PLAN_MIGRATE_LIVE_COPY] = "live-migrate+copy-storage",
		[PLAN_MIGRATE_COLD] = "cold-migrate", [PLAN_UNDEFINE_STALE] = "undefine-stale",
		[PLAN_FINISH_MIGRATION] = "finish-migration", [PLAN_BLOCKED] = "blocked",
		[PLAN_WAIT] = "wait", [PLAN_WATCH_MIGRATION] = "watch-migration",
		[PLAN_TUNE] = "tune", [PLAN_REDEFINE] = "redefine", [PLAN_DELETE] = "delete",
		[PLAN_DISOWN] = "disown", [PLAN_RESTART] = "restart",
	};
	size_t i = (size_t)k;
	return i < sizeof(NAMES) / sizeof(NAMES[0]) && NAMES[i] ? NAMES[i] : "";
}

bool plan_has_changes(const struct plan *p)
{
	for (size_t i = 0; p && i < p->n; i++) {
		enum plan_kind k = p->actions[i].kind;
		if (k != PLAN_NONE && k != PLAN_BLOCKED && k != PLAN_WAIT)
			return true;
	}
	return false;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->actions[i].src);
		free(p->actions[i].dst);
		free(p->actions[i].reason);
		free(p->actions[i].placement);
		crd_map_free(&p->actions[i].rejected);
	}
	free(p->actions);
	memset(p, 0, sizeof(*p));
}

/* ---- ordering ---- */

static int vm_cmp(const struct crd_vm *x, const struct crd_vm *y)
{
	int r = strcmp(x->meta.namespace, y->meta.namespace);
	return r ? r : strcmp(x->meta.name, y->meta.name);
}

static int vm_ptr_cmp(const void *a, const void *b)
{
	return vm_cmp(*(const struct crd_vm *const *)a, *(const struct crd_vm *const *)b);
}

/* Rule 11: what unblocks others first. */
static int kind_rank(enum plan_kind k)
{
	switch (k) {
	case PLAN_UNDEFINE_STALE:
	case PLAN_FINISH_MIGRATION: return 0;
	case PLAN_STOP: return 1;
	case PLAN_MIGRATE_LIVE:
	case PLAN_MIGRATE_LIVE_COPY:
	case PLAN_MIGRATE_COLD:
	case PLAN_WATCH_MIGRATION: return 2;
	case PLAN_DEFINE:
	case PLAN_DEFINE_START:
	case PLAN_START: return 3;
	default: return 4;
	}
}

static int mem_desc(uint64_t x, uint64_t y)
{
	return x > y ? -1 : x < y;
}

static int item_cmp(const void *a, const void *b)
{
	const struct plan_item *x = a, *y = b;
	int r = kind_rank(x->a.kind) - kind_rank(y->a.kind);

	if (!r && kind_rank(x->a.kind) == 2)
		r = mem_desc(x->memory, y->memory);
	if (!r)
		r = vm_cmp(x->a.vm, y->a.vm);
	return r ? r : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Moves go biggest first (rule 8 and 11), so the big ones get the free slots and memory. */
static int move_cmp(const void *a, const void *b)
{
	const struct plan_intent *x = a, *y = b;
	int r = mem_desc(x->v.memory, y->v.memory);
	return r ? r : vm_cmp(x->v.vm, y->v.vm);
}

static int land_cmp(const void *a, const void *b)
{
	const struct plan_intent *x = a, *y = b;
	return vm_cmp(x->v.vm, y->v.vm);
}

/* ---- pass two: moves ---- */

/* Rule 10: WAIT when a limit is reached. Returns true when the move waits. */
static bool limited(struct plan_ctx *c, struct plan_intent *it)
{
	struct plan_vm *v = &it->v;
	struct plan_emit e = {.kind = PLAN_WAIT, .v = v, .mig = it->mig, .src = v->host,
			      .dst = it->dst, .phase = plan_vm_phase_now(v)};

	if (c->migrations >= c->lim.max_migrations)
		plan_emit(c, &e, "waiting: %u migrations running (limit %u); %s", c->migrations,
			  c->lim.max_migrations, it->why);
	else if (v->host->outbound >= c->lim.max_outbound_per_host)
		plan_emit(c, &e, "waiting: %u migrations leaving %s (limit %u); %s",
			  v->host->outbound, v->host->name, c->lim.max_outbound_per_host, it->why);
	else
		return false;
	return true;
}

/* Hands @ch to action @a (NULL: dropped); out of memory is sticky in @c. */
static void give_choice(struct plan_ctx *c, struct plan_choice *ch, struct plan_action *a,
			const char *reason)
{
	if (plan_choice_give(ch, a, reason) < 0)
		c->oom = true;
}

/* A move no pre-check lets through: a Migration fails (the VM stays as it is), a pin change
 * or a drain is blocked. */
static void move_failed(struct plan_ctx *c, struct plan_intent *it, const char *why,
			struct plan_choice *ch)
{
	struct plan_vm *v = &it->v;
	struct plan_emit e = {.kind = PLAN_BLOCKED, .problem = PLAN_PROBLEM_PRECHECK, .v = v,
			      .mig = it->mig, .src = v->host, .dst = it->dst,
			      .phase = plan_vm_phase_now(v)};
	struct plan_action *a = NULL;

	switch (it->cause) {
	case PLAN_CAUSE_MIGRATION:
		e.kind = PLAN_FINISH_MIGRATION;
		e.mig_phase = CRD_MIG_FAILED;
		plan_emit(c, &e, "PreCheckFailed: %s", why);
		plan_vm_at_host(c, v);
		break;
	case PLAN_CAUSE_DRAIN:
		e.problem = PLAN_PROBLEM_EVICTION;
		a = plan_emit(c, &e, "%s: cannot %s %s: %s", it->why,
			      it->cold ? "move" : "live-migrate", v->vm->meta.name, why);
		break;
	default:
		a = plan_emit(c, &e, "PreCheckFailed: %s", why);
		break;
	}
	give_choice(c, ch, it->dst ? NULL : a, NULL);
}

/* Finds where @it can go by @op. Returns the host, or NULL with the reason in @why; when
 * placement chose, its reasons are in @ch (released first). */
static struct plan_host *move_target(struct plan_ctx *c, struct plan_intent *it, enum plan_op op,
				     struct plan_choice *ch, char *why, size_t size)
{
	crd_map_free(&ch->rejected);
	if (!it->dst)
		return plan_place(c, &it->v, op, it->v.host, ch, why, size);
	if (!plan_check_target(c, &it->v, op, it->dst, why, size))
		return NULL;
	/* A Migration's own target keeps the required terms too; a pin is the operator's word. */
	if (it->cause == PLAN_CAUSE_MIGRATION) {
		char aff[512];
		plan_aff_eval(c, &it->v);
		if (!plan_aff_ok(c, it->dst, aff, sizeof(aff))) {
			snprintf(why, size, "affinity: %s", aff);
			return NULL;
		}
	}
	return it->dst;
}

/* The status.reason of the Migration that records a move queued for @cause. */
static enum crd_mig_reason move_cause(enum plan_cause cause)
{
	switch (cause) {
	case PLAN_CAUSE_PIN: return CRD_MIG_SPEC_HOST_CHANGED;
	case PLAN_CAUSE_DRAIN: return CRD_MIG_DRAIN;
	case PLAN_CAUSE_MIGRATION: return CRD_MIG_REQUESTED;
	case PLAN_CAUSE_BALANCE: return CRD_MIG_BALANCE;
	case PLAN_CAUSE_FAILOVER: return CRD_MIG_FAILOVER;
	default: return CRD_MIG_REASON_NONE;
	}
}

static void resolve_move(struct plan_ctx *c, struct plan_intent *it)
{
	struct plan_vm *v = &it->v;
	struct plan_host *dst = NULL;
	enum plan_op op = PLAN_OP_LIVE;
	char why[PLAN_REASON_MAX], live_why[PLAN_REASON_MAX] = "";
	struct plan_choice ch = {.oom = false};

	if (limited(c, it))
		return;
	if (it->live && !(dst = move_target(c, it, PLAN_OP_LIVE, &ch, why, sizeof(why))))
		memcpy(live_why, why, sizeof(why));
	if (!dst && it->cold)
		dst = move_target(c, it, op = PLAN_OP_COLD, &ch, why, sizeof(why));
	if (!dst) {
		move_failed(c, it, why, &ch);
		return;
	}
	enum plan_kind kind = op == PLAN_OP_COLD ? PLAN_MIGRATE_COLD
			      : v->vm->spec.storage == CRD_STORAGE_LOCAL ? PLAN_MIGRATE_LIVE_COPY
			      : PLAN_MIGRATE_LIVE;
	struct plan_emit e = {.kind = kind, .v = v, .mig = it->mig, .src = v->host, .dst = dst,
			      .phase = CRD_VM_MIGRATING};
	struct plan_str r = {.len = 0};
	plan_str_add(&r, "%s", it->why);
	if (it->cause != PLAN_CAUSE_PIN)
		plan_str_add(&r, ": %s → %s", v->host->name, dst->name);
	if (!it->dst)
		plan_str_add(&r, " (%s)", ch.reason);
	if (*live_why)
		plan_str_add(&r, "; cold because live migration is not possible: %s", live_why);
	struct plan_action *a = plan_emit(c, &e, "%s", r.buf);
	if (a) {
		crd_effective_knobs(v->vm, it->mig, &a->knobs);
		a->cause = move_cause(it->cause);
	}
	give_choice(c, &ch, it->dst ? NULL : a, NULL);
	if (plan_op_runs(v, op)) {
		dst->placed += v->memory;
		plan_host_move_alloc(c, v, v->dom->active ? v->host : NULL, dst);
	}
	c->migrations++;
	v->host->outbound++;
}

/* ---- pass three: defines and starts ---- */

static void resolve_land(struct plan_ctx *c, struct plan_intent *it)
{
	struct plan_vm *v = &it->v;
	enum plan_op op = v->dom ? PLAN_OP_START : PLAN_OP_DEFINE;
	char why[PLAN_REASON_MAX];
	struct plan_host *dst = it->dst;
	struct plan_emit e = {.kind = PLAN_BLOCKED, .problem = PLAN_PROBLEM_PRECHECK, .v = v,
			      .src = v->host, .dst = dst, .phase = plan_vm_phase_now(v)};
	struct plan_choice ch = {.oom = false};
	struct plan_action *a;

	if (dst && !plan_check_target(c, v, op, dst, why, sizeof(why))) {
		plan_emit(c, &e, "PreCheckFailed: %s", why);
		return;
	}
	if (!dst && !(dst = plan_place(c, v, op, NULL, &ch, why, sizeof(why)))) {
		e.problem = PLAN_PROBLEM_NO_HOST;
		give_choice(c, &ch, plan_emit(c, &e, "%s", why), NULL);
		return;
	}
	bool runs = plan_op_runs(v, op);
	e.kind = op == PLAN_OP_START ? PLAN_START : runs ? PLAN_DEFINE_START : PLAN_DEFINE;
	e.problem = PLAN_PROBLEM_NONE;
	e.dst = dst;
	e.phase = runs ? CRD_VM_PENDING : CRD_VM_STOPPED;
	if (it->dst) {
		a = plan_emit(c, &e, "%s", it->why);
	} else {
		a = plan_emit(c, &e, "%s: placed on %s (%s)", it->why, dst->name, ch.reason);
		give_choice(c, &ch, a, NULL);
	}
	if (a) {
		a->cause = move_cause(it->cause);   /* a restart after fencing: Failover */
		/* Its record is a Migration like any move's: one with valid knobs. */
		if (a->cause != CRD_MIG_REASON_NONE)
			crd_effective_knobs(v->vm, NULL, &a->knobs);
	}
	if (runs) {
		dst->placed += v->memory;
		plan_host_move_alloc(c, v, NULL, dst);
	}
}

/* ---- the whole ---- */

/* Pass one over every VM in namespace/name order. Returns 0 or -1 (out of memory). */
static int classify_all(struct plan_ctx *c)
{
	const struct crd_set *d = c->desired;
	const struct crd_vm **vms = calloc(d->n_vms + 1, sizeof(*vms));

	if (!vms)
		return -1;
	for (size_t i = 0; i < d->n_vms; i++)
		vms[i] = &d->vms[i];
	qsort(vms, d->n_vms, sizeof(*vms), vm_ptr_cmp);
	for (size_t i = 0; i < d->n_vms && !c->oom; i++)
		plan_vm_classify(c, vms[i]);
	free(vms);
	return c->oom ? -1 : 0;
}

/* Moves the ordered actions of @c into @out. Returns 0 or -1 (out of memory). */
static int take_actions(struct plan_ctx *c, struct plan *out)
{
	if (c->n)
		qsort(c->items, c->n, sizeof(*c->items), item_cmp);
	out->actions = calloc(c->n + 1, sizeof(*out->actions));
	if (!out->actions)
		return -1;
	for (size_t i = 0; i < c->n; i++)
		out->actions[i] = c->items[i].a;
	out->n = c->n;
	c->n = 0;       /* the strings now belong to @out */
	return 0;
}

const struct plan_action **plan_actions_by_vm(const struct plan *p, const struct crd_set *set)
{
	const struct plan_action **by = calloc(set->n_vms + 1, sizeof(*by));

	for (size_t i = 0; by && i < p->n; i++) {
		const struct plan_action *a = &p->actions[i];
		/* The vm points into @set: its position is its slot, no search needed. */
		size_t k = (size_t)(a->vm - set->vms);
		if (a->kind != PLAN_FINISH_MIGRATION && k < set->n_vms && !by[k])
			by[k] = a;
	}
	return by;
}

int plan_compute(const struct crd_set *desired, const struct inventory *inv,
		 const struct plan_limits *lim, struct plan *out)
{
	struct plan_ctx c;
	struct plan_limits eff;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	plan_limits_default(&eff);
	if (lim && lim->max_migrations)
		eff.max_migrations = lim->max_migrations;
	if (lim && lim->max_outbound_per_host)
		eff.max_outbound_per_host = lim->max_outbound_per_host;
	eff.now = lim ? lim->now : 0;
	if (plan_ctx_init(&c, desired, inv, &eff) < 0 || classify_all(&c) < 0)
		goto cleanup;
	if (c.moves.n)
		qsort(c.moves.items, c.moves.n, sizeof(*c.moves.items), move_cmp);
	for (size_t i = 0; i < c.moves.n && !c.oom; i++)
		resolve_move(&c, &c.moves.items[i]);
	/* A Migration refused above may have queued a start; sort after pass two. */
	if (c.lands.n)
		qsort(c.lands.items, c.lands.n, sizeof(*c.lands.items), land_cmp);
	for (size_t i = 0; i < c.lands.n && !c.oom; i++)
		resolve_land(&c, &c.lands.items[i]);
	plan_balance(&c);
	if (c.oom || take_actions(&c, out) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	plan_ctx_free(&c);
	return rc;
}
