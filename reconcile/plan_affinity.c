/* plan_affinity: required and preferred (anti-)affinity terms, per host, for one placement. */
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_affinity.h"

#define TOPOLOGY_HOST "host"

/* True when every pair of @sel is among @labels. An empty selector matches every VM. */
static bool selects(const struct crd_map *sel, const struct crd_map *labels)
{
	for (size_t i = 0; i < sel->n; i++) {
		const char *have = crd_map_get(labels, sel->items[i].key);
		if (!have || strcmp(have, sel->items[i].value))
			return false;
	}
	return true;
}

/* True when hosts @a and @b share the topology domain of @key: the same host, or the same
 * value of that Host label (a host without the label is in no domain). */
static bool same_domain(const char *key, const struct plan_host *a, const struct plan_host *b)
{
	if (!strcmp(key, TOPOLOGY_HOST))
		return a == b;
	const char *va = crd_map_get(&a->spec->meta.labels, key);
	const char *vb = crd_map_get(&b->spec->meta.labels, key);
	return va && vb && !strcmp(va, vb);
}

static bool has_terms(const struct crd_vm *vm)
{
	return vm->spec.affinity.n_anti || vm->spec.affinity.n_together;
}

bool plan_aff_trivial(const struct plan_ctx *c, const struct plan_vm *v)
{
	return !has_terms(v->vm) && !c->n_anti_required;
}

void plan_aff_locate(struct plan_ctx *c, const struct crd_vm *vm, struct plan_host *h)
{
	c->loc[plan_ctx_vm_index(c, vm)] = h;
}

/* Notes (scratch.first) on each host a VM of @v's namespace that @t selects running there,
 * other than @v. Returns how many such VMs there are. */
static size_t mark_matches(const struct plan_ctx *c, const struct plan_vm *v,
			   const struct crd_affinity_term *t)
{
	const struct crd_set *d = c->desired;
	size_t n = 0;

	for (size_t h = 0; h < c->n_hosts; h++)
		c->scratch[h].first = NULL;
	for (size_t i = 0; i < d->n_vms; i++) {
		const struct crd_vm *u = &d->vms[i];
		if (u == v->vm || !c->loc[i] || strcmp(u->meta.namespace, v->vm->meta.namespace) ||
		    !selects(&t->selector, &u->meta.labels))
			continue;
		struct plan_aff_host *s = &c->scratch[c->loc[i] - c->hosts];
		if (!s->first)
			s->first = u;
		n++;
	}
	return n;
}

/* A VM @t selects in @h's domain, or NULL (after mark_matches). */
static const struct crd_vm *near(const struct plan_ctx *c, const struct crd_affinity_term *t,
				 const struct plan_host *h)
{
	if (!strcmp(t->topology_key, TOPOLOGY_HOST))
		return c->scratch[h - c->hosts].first;
	for (size_t m = 0; m < c->n_hosts; m++)
		if (c->scratch[m].first && same_domain(t->topology_key, &c->hosts[m], h))
			return c->scratch[m].first;
	return NULL;
}

static void fail_host(struct plan_aff_host *s, int rule, const struct crd_affinity_term *t,
		      const struct crd_vm *other)
{
	if (s->rule != PLAN_AFF_OK)
		return;
	s->rule = rule;
	s->term = t;
	s->other = other;
}

/* One term of @v (@anti: keep away; else keep together) over every host. */
static void eval_term(const struct plan_ctx *c, const struct plan_vm *v,
		      const struct crd_affinity_term *t, bool anti)
{
	size_t n = mark_matches(c, v, t);

	for (size_t h = 0; h < c->n_hosts; h++) {
		struct plan_aff_host *s = &c->scratch[h];
		const struct crd_vm *other = n ? near(c, t, &c->hosts[h]) : NULL;
		if (anti && other && t->required)
			fail_host(s, PLAN_AFF_ANTI, t, other);
		else if (anti && other)
			s->score--;
		/* The first of a group lands anywhere: nothing to be near yet. */
		else if (!anti && n && !other && t->required)
			fail_host(s, PLAN_AFF_TOGETHER, t, NULL);
		else if (!anti && other)
			s->score++;
	}
}

/* Required anti-affinity terms of the other VMs that select @v: their domains are closed. */
static void eval_theirs(const struct plan_ctx *c, const struct plan_vm *v)
{
	const struct crd_set *d = c->desired;

	for (size_t i = 0; c->n_anti_required && i < d->n_vms; i++) {
		const struct crd_vm *u = &d->vms[i];
		if (u == v->vm || !c->loc[i] || strcmp(u->meta.namespace, v->vm->meta.namespace))
			continue;
		for (size_t k = 0; k < u->spec.affinity.n_anti; k++) {
			const struct crd_affinity_term *t = &u->spec.affinity.anti[k];
			if (!t->required || !selects(&t->selector, &v->vm->meta.labels))
				continue;
			for (size_t h = 0; h < c->n_hosts; h++)
				if (same_domain(t->topology_key, c->loc[i], &c->hosts[h]))
					fail_host(&c->scratch[h], PLAN_AFF_THEIRS, t, u);
		}
	}
}

void plan_aff_eval(const struct plan_ctx *c, const struct plan_vm *v)
{
	const struct crd_affinity *a = &v->vm->spec.affinity;

	memset(c->scratch, 0, c->n_hosts * sizeof(*c->scratch));
	if (plan_aff_trivial(c, v))
		return;
	for (size_t k = 0; k < a->n_anti; k++)
		eval_term(c, v, &a->anti[k], true);
	for (size_t k = 0; k < a->n_together; k++)
		eval_term(c, v, &a->together[k], false);
	eval_theirs(c, v);
}

/* "app=db,tier=x" for a selector. */
static void selector_text(const struct crd_map *sel, struct plan_str *s)
{
	for (size_t i = 0; i < sel->n; i++)
		plan_str_add(s, "%s%s=%s", i ? "," : "", sel->items[i].key, sel->items[i].value);
	if (!sel->n)
		plan_str_add(s, "(all VMs)");
}

/* "on lab-b", "in rack r1", or "on lab-b (no rack label)". */
static void domain_text(const struct plan_host *h, const char *key, char *buf, size_t size)
{
	const char *v = crd_map_get(&h->spec->meta.labels, key);

	if (!strcmp(key, TOPOLOGY_HOST))
		snprintf(buf, size, "on %s", h->name);
	else if (v)
		snprintf(buf, size, "in %s %s", key, v);
	else
		snprintf(buf, size, "on %s (no %s label)", h->name, key);
}

bool plan_aff_ok(const struct plan_ctx *c, const struct plan_host *h, char *why, size_t size)
{
	const struct plan_aff_host *s = &c->scratch[h - c->hosts];
	struct plan_str sel = {.len = 0};
	char dom[160];

	if (s->rule == PLAN_AFF_OK)
		return true;
	selector_text(&s->term->selector, &sel);
	domain_text(h, s->term->topology_key, dom, sizeof(dom));
	if (s->rule == PLAN_AFF_ANTI)
		snprintf(why, size, "anti-affinity %s (required): %s runs %s", sel.buf,
			 s->other->meta.name, dom);
	else if (s->rule == PLAN_AFF_THEIRS)
		snprintf(why, size, "anti-affinity of %s (%s, required): it runs %s",
			 s->other->meta.name, sel.buf, dom);
	else
		snprintf(why, size, "affinity %s (required): no such VM runs %s", sel.buf, dom);
	return false;
}
