/* plan_balance: the balance pass — greedy moves that even the hosts out most per GiB moved
 * (the fall of the sum of squared uses), while the spread exceeds maxSpreadPercent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/quantity.h"
#include "reconcile/clk.h"
#include "reconcile/plan_affinity.h"
#include "reconcile/plan_balance.h"
#include "reconcile/plan_check.h"
#include "reconcile/plan_place.h"

/* One schedulable host of the namespace with its use in percent. */
struct bal_host {
	struct plan_host *h;
	double util;
	double cap;                     /* memory: bytes after reservedMemory; cpu: threads */
};

struct bal {
	struct plan_ctx *c;
	const struct crd_policy *pol;
	struct bal_host *hosts;
	size_t n;
	double cap_max;                 /* the largest capacity of @hosts */
};

/* When @m was started (its start, else its creation, else its first transition), or -1. */
static double mig_time(const struct crd_migration *m)
{
	double t;

	if (clk_parse_rfc3339(m->status.start_time, &t) == 0 ||
	    clk_parse_rfc3339(m->meta.creation_timestamp, &t) == 0 ||
	    (m->status.n_transitions &&
	     clk_parse_rfc3339(m->status.transitions[0].time, &t) == 0))
		return t;
	return -1;
}

/* Balance Migrations of @ns (of @vm when not NULL) started within @window seconds of now. */
static size_t recent(const struct plan_ctx *c, const char *ns, const struct crd_vm *vm,
		     double window)
{
	size_t n = 0;

	for (size_t i = 0; i < c->desired->n_migrations; i++) {
		const struct crd_migration *m = &c->desired->migrations[i];
		double t = mig_time(m);
		if (m->status.reason != CRD_MIG_BALANCE || strcmp(m->meta.namespace, ns) ||
		    (vm && (!m->spec.vm_name || strcmp(m->spec.vm_name, vm->meta.name))))
			continue;
		/* A record without a time is counted: unknown history holds balancing back. */
		if (t < 0 || (double)c->lim.now - t < window)
			n++;
	}
	return n;
}

/* The use of @h in percent by @res, and its capacity; false when it cannot be measured. */
static bool measure(const struct plan_host *h, enum crd_balance_resource res, double *util,
		    double *cap)
{
	const struct inv_host *i = h->inv;

	if (res == CRD_BALANCE_CPU) {
		if (!i->cpu_threads || !i->has_cpu_load)
			return false;
		*cap = i->cpu_threads;
		*util = 100.0 * i->cpu_load;
		return true;
	}
	if (i->memory_total <= h->spec->spec.reserved_memory)
		return false;
	*cap = (double)(i->memory_total - h->spec->spec.reserved_memory);
	*util = 100.0 * (double)h->alloc_mem / *cap;
	return true;
}

/* Fills b->hosts with the schedulable, measurable hosts of the policy's namespace. */
static int collect_hosts(struct bal *b)
{
	struct plan_ctx *c = b->c;

	b->hosts = calloc(c->n_hosts + 1, sizeof(*b->hosts));
	if (!b->hosts)
		return -1;
	for (size_t i = 0; i < c->n_hosts; i++) {
		struct plan_host *h = &c->hosts[i];
		struct bal_host *x = &b->hosts[b->n];
		if (strcmp(h->spec->meta.namespace, b->pol->meta.namespace) ||
		    plan_check_host_state(h, PLAN_OP_LIVE) ||
		    !measure(h, b->pol->spec.balance.resource, &x->util, &x->cap))
			continue;
		x->h = h;
		b->cap_max = x->cap > b->cap_max ? x->cap : b->cap_max;
		b->n++;
	}
	return 0;
}

/* The spread (max − min use) with hosts @a and @b at @ua and @ub instead. */
static double spread_with(const struct bal *b, size_t a, double ua, size_t bb, double ub)
{
	double lo = 1e300, hi = -1e300;

	for (size_t i = 0; i < b->n; i++) {
		double u = i == a ? ua : i == bb ? ub : b->hosts[i].util;
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
	}
	return hi - lo;
}

/* Points of use @it's VM takes off source @s and adds to @d. */
static void shares(const struct bal *b, const struct plan_item *it, const struct bal_host *s,
		   const struct bal_host *d, double *off, double *on)
{
	if (b->pol->spec.balance.resource == CRD_BALANCE_CPU) {
		/* No per-guest figure: the host's load shared by allocated vCPUs. */
		double alloc = s->h->alloc_vcpus ? (double)s->h->alloc_vcpus : 1.0;
		double threads_busy = s->util / 100.0 * s->cap * it->vcpus / alloc;
		*off = 100.0 * threads_busy / s->cap;
		*on = 100.0 * threads_busy / d->cap;
		return;
	}
	*off = 100.0 * (double)it->memory / s->cap;
	*on = 100.0 * (double)it->memory / d->cap;
}

/* True when @it is a running, converged, unpinned, shared-storage LiveMigrate VM on @s that
 * balance has not moved within the hold time. */
static bool movable(const struct bal *b, const struct plan_item *it, const struct plan_host *s)
{
	const struct crd_vm *vm = it->a.vm;

	return it->a.kind == PLAN_NONE && it->a.phase == CRD_VM_RUNNING && it->a.src &&
	       !strcmp(it->a.src, s->name) && !vm->spec.host &&
	       vm->spec.eviction == CRD_EVICT_LIVE_MIGRATE &&
	       vm->spec.storage == CRD_STORAGE_SHARED &&
	       !strcmp(vm->meta.namespace, b->pol->meta.namespace) &&
	       !recent(b->c, vm->meta.namespace, vm, PLAN_BALANCE_HOLD_S);
}

/* The best move found so far. */
struct bal_move {
	size_t item, dst;
	double score, after;
	bool found;
};

/* The fall of the sum of squared uses when a host at @us gives @off points and one at @ud
 * takes @on. */
static double gain_of(double us, double off, double ud, double on)
{
	double us2 = us - off, ud2 = ud + on;

	return us * us + ud * ud - us2 * us2 - ud2 * ud2;
}

/* Score per GiB of a move of @it that gains @gain. */
static double score_of(const struct plan_item *it, double gain)
{
	double gib = (double)it->memory / (double)(1u << 30);

	return gain / (gib > 0 ? gib : 1e-9);
}

/* True when no move of @it off host @si can beat @best. The gain falls as the target's use
 * and the points it takes grow (uses are never negative), so a move to the least used other
 * host, were it of the largest capacity, bounds every move try_vm can find; what it can only
 * bound is not worth the affinity evaluation. The slack keeps rounding from deciding. */
static bool cannot_beat(const struct bal *b, const struct plan_item *it, size_t si,
			const size_t *order, const struct bal_move *best)
{
	const struct bal_host roomiest = {.cap = b->cap_max};
	size_t di = order[0] == si ? order[1] : order[0];
	double off, on;

	if (!best->found)
		return false;
	shares(b, it, &b->hosts[si], &roomiest, &off, &on);
	return score_of(it, gain_of(b->hosts[si].util, off, b->hosts[di].util, on)) + 1e-6 <
	       best->score;
}

/* Tries @it's VM from host @si to each host below it, least used first; keeps the first
 * feasible one that evens them out without overshooting when it beats @best. Returns -1
 * when out of memory. */
static int try_vm(struct bal *b, size_t idx, size_t si, const size_t *order,
		  struct bal_move *best)
{
	struct plan_ctx *c = b->c;
	const struct plan_item *it = &c->items[idx];
	struct plan_vm v = {.vm = it->a.vm, .memory = it->memory, .vcpus = it->vcpus,
			    .hugepage_size = it->hugepage_size, .host = b->hosts[si].h};
	char why[PLAN_REASON_MAX];

	if (cannot_beat(b, it, si, order, best))
		return 0;
	v.dom = plan_host_domain(c, v.host, v.vm->meta.name);
	enum vmres_rc r = vmres_from_vm(v.vm, &v.res, why, sizeof(why));
	if (r != VMRES_OK || !v.dom)
		return r == VMRES_NOMEM ? -1 : 0;
	plan_aff_eval(c, &v);
	for (size_t k = 0; k < b->n; k++) {
		size_t di = order[k];
		double off, on;
		if (di == si)
			continue;
		if (b->hosts[di].util >= b->hosts[si].util)
			break;
		shares(b, it, &b->hosts[si], &b->hosts[di], &off, &on);
		double us = b->hosts[si].util, ud = b->hosts[di].util;
		double us2 = us - off, ud2 = ud + on;
		/* The sum of squared uses falls with every move from a fuller host to an emptier
		 * one that does not overshoot; the spread alone would not move while two hosts
		 * tie for the top. */
		double gain = gain_of(us, off, ud, on);
		if (ud2 + PLAN_BALANCE_MARGIN > us2 || gain <= 0 ||
		    !plan_place_fits(c, &v, PLAN_OP_LIVE, b->hosts[di].h, why, sizeof(why)) ||
		    !plan_check_target(c, &v, PLAN_OP_LIVE, b->hosts[di].h, why, sizeof(why)))
			continue;
		double after = spread_with(b, si, us2, di, ud2);
		double score = score_of(it, gain);
		if (!best->found || score > best->score) {
			*best = (struct bal_move){.item = idx, .dst = di, .score = score,
						  .after = after, .found = true};
		}
		break;
	}
	vmres_free(&v.res);
	return 0;
}

static int util_cmp_ctx(const struct bal *b, size_t x, size_t y)
{
	double ux = b->hosts[x].util, uy = b->hosts[y].util;
	return ux < uy ? -1 : ux > uy ? 1 : (x > y) - (x < y);
}

/* Host indexes by use, least first (insertion sort: a few hundred hosts). */
static void order_hosts(const struct bal *b, size_t *order)
{
	for (size_t i = 0; i < b->n; i++) {
		size_t j = i;
		order[i] = i;
		while (j > 0 && util_cmp_ctx(b, order[j - 1], i) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

/* Turns the NONE action of @m's VM into the live move. Returns -1 when out of memory. */
static int apply_move(struct bal *b, const struct bal_move *m, size_t si, double spread)
{
	struct plan_ctx *c = b->c;
	struct plan_item *it = &c->items[m->item];
	struct bal_host *s = &b->hosts[si], *d = &b->hosts[m->dst];
	const char *res = crd_balance_resource_str(b->pol->spec.balance.resource);
	char reason[PLAN_REASON_MAX];
	double off, on;

	shares(b, it, s, d, &off, &on);
	snprintf(reason, sizeof(reason), "balance: %s spread %.0f%% > %u%%: %s %.0f%% → %s %.0f%%; "
		 "spread after %.0f%%", res, spread, b->pol->spec.balance.max_spread_percent,
		 s->h->name, s->util, d->h->name, d->util, m->after);
	char *r = strdup(reason), *dst = strdup(d->h->name);
	if (!r || !dst) {
		free(r);
		free(dst);
		return -1;
	}
	free(it->a.reason);
	free(it->a.dst);
	it->a.reason = r;
	it->a.dst = dst;
	it->a.kind = PLAN_MIGRATE_LIVE;
	it->a.phase = CRD_VM_MIGRATING;
	it->a.cause = CRD_MIG_BALANCE;
	crd_effective_knobs(it->a.vm, NULL, &it->a.knobs);
	struct plan_vm v = {.vm = it->a.vm, .memory = it->memory, .vcpus = it->vcpus,
			    .hugepage_size = it->hugepage_size};
	d->h->placed += it->memory;
	plan_host_move_alloc(c, &v, s->h, d->h);
	s->util -= off;
	d->util += on;
	s->h->outbound++;
	c->migrations++;
	return 0;
}

/* One namespace's balancing. Returns -1 when out of memory. */
static int balance_ns(struct bal *b)
{
	struct plan_ctx *c = b->c;
	const struct crd_balance *cfg = &b->pol->spec.balance;
	size_t done = recent(c, b->pol->meta.namespace, NULL, 3600);
	size_t *order = NULL;
	int rc = -1;

	if (collect_hosts(b) < 0 || !(order = calloc(b->n + 1, sizeof(*order))))
		goto cleanup;
	while (b->n >= 2 && done < cfg->max_moves_per_hour && c->migrations < c->lim.max_migrations) {
		order_hosts(b, order);
		size_t si = order[b->n - 1];
		double spread = b->hosts[si].util - b->hosts[order[0]].util;
		struct bal_move best = {.found = false};
		if (spread <= cfg->max_spread_percent ||
		    b->hosts[si].h->outbound >= c->lim.max_outbound_per_host)
			break;
		for (size_t i = 0; i < c->n; i++)
			if (movable(b, &c->items[i], b->hosts[si].h) &&
			    try_vm(b, i, si, order, &best) < 0)
				goto cleanup;
		if (!best.found || apply_move(b, &best, si, spread) < 0)
			break;
		done++;
	}
	rc = c->oom ? -1 : 0;
cleanup:
	free(order);
	free(b->hosts);
	b->hosts = NULL;
	b->n = 0;
	return rc;
}

void plan_balance(struct plan_ctx *c)
{
	/* Decide on a settled cluster only: with moves under way the figures are in flux. */
	if (!c->lim.now || c->migrations)
		return;
	for (size_t i = 0; i < c->desired->n_policies && !c->oom; i++) {
		struct bal b = {.c = c, .pol = &c->desired->policies[i]};
		if (b.pol->spec.has_balance && balance_ns(&b) < 0)
			c->oom = true;
	}
}
