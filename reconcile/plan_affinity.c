/* plan_affinity: required and preferred (anti-)affinity terms, per host, for one placement. */
#include <stdio.h>
#include <stdlib.h>
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

/* The domains of label @key (not "host"), built by plan_aff_index for every key a term of
 * the set names; NULL only for a key no term names. This function can't fail. */
static const struct plan_aff_topo *topo_find(const struct plan_ctx *c, const char *key)
{
	for (size_t i = 0; i < c->n_topos; i++)
		if (!strcmp(c->topos[i].key, key))
			return &c->topos[i];
	return NULL;
}

/* Numbers every host's domain under label @key into @dom: hosts with the same value share
 * the number of the first of them; a host without the label is in no domain (-1). */
static void topo_number(const struct plan_ctx *c, const char *key, int *dom)
{
	for (size_t h = 0; h < c->n_hosts; h++) {
		const char *v = crd_map_get(&c->hosts[h].spec->meta.labels, key);
		size_t k;
		for (k = 0; v && k < h; k++)
			if (dom[k] == (int)k &&
			    !strcmp(crd_map_get(&c->hosts[k].spec->meta.labels, key), v))
				break;
		dom[h] = v ? (int)k : -1;
	}
}

/* Adds the domains of label @key unless it is "host" or known. Returns 0, or -1 when out of
 * memory. */
static int topo_add(struct plan_ctx *c, const char *key)
{
	if (!strcmp(key, TOPOLOGY_HOST) || topo_find(c, key))
		return 0;
	/* Full at a power of two: the array grows by doubling. */
	if (!(c->n_topos & (c->n_topos - 1))) {
		size_t cap = c->n_topos ? 2 * c->n_topos : 2;
		struct plan_aff_topo *t = realloc(c->topos, cap * sizeof(*t));
		if (!t)
			return -1;
		c->topos = t;
	}
	int *dom = calloc(c->n_hosts + 1, sizeof(*dom));
	if (!dom)
		return -1;
	topo_number(c, key, dom);
	c->topos[c->n_topos++] = (struct plan_aff_topo){key, dom};
	return 0;
}

/* Numbers the domains of every topology label the terms of @vm name. Returns 0, or -1 when
 * out of memory. */
static int topo_add_vm(struct plan_ctx *c, const struct crd_vm *vm)
{
	const struct crd_affinity *a = &vm->spec.affinity;

	for (size_t k = 0; k < a->n_anti; k++)
		if (topo_add(c, a->anti[k].topology_key) < 0)
			return -1;
	for (size_t k = 0; k < a->n_together; k++)
		if (topo_add(c, a->together[k].topology_key) < 0)
			return -1;
	return 0;
}

void plan_aff_free(struct plan_ctx *c)
{
	for (size_t i = 0; i < c->n_topos; i++)
		free(c->topos[i].dom);
	free(c->topos);
	free(c->dom_first);
	c->topos = NULL;
	c->n_topos = 0;
	c->dom_first = NULL;
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

static int ref_cmp(const void *a, const void *b)
{
	const struct plan_aff_ref *x = a, *y = b;
	int r = !x->key || !y->key ? (x->key != NULL) - (y->key != NULL) : strcmp(x->key, y->key);

	if (!r && x->key)
		r = strcmp(x->value, y->value);
	return r ? r : (x->vm > y->vm) - (x->vm < y->vm);
}

/* The first ref of the sorted @refs (of @n) with @key=@value (NULL key: empty selector);
 * *@end is one past the last. */
static const struct plan_aff_ref *ref_range(const struct plan_aff_ref *refs, size_t n,
					    const char *key, const char *value,
					    const struct plan_aff_ref **end)
{
	struct plan_aff_ref probe = {.key = key, .value = value, .vm = 0};
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ref_cmp(&refs[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	hi = lo;
	probe.vm = (size_t)-1;
	while (hi < n && ref_cmp(&refs[hi], &probe) <= 0)
		hi++;
	*end = refs + hi;
	return refs + lo;
}

int plan_aff_index(struct plan_ctx *c)
{
	const struct crd_set *d = c->desired;
	size_t n_labels = 0, n_terms = 0;

	for (size_t i = 0; i < d->n_vms; i++) {
		n_labels += d->vms[i].meta.labels.n;
		n_terms += d->vms[i].spec.affinity.n_anti;
	}
	c->labels = calloc(n_labels + 1, sizeof(*c->labels));
	c->anti_terms = calloc(n_terms + 1, sizeof(*c->anti_terms));
	c->dom_first = calloc(c->n_hosts + 1, sizeof(*c->dom_first));
	if (!c->labels || !c->anti_terms || !c->dom_first)
		return -1;
	for (size_t i = 0; i < d->n_vms; i++) {
		const struct crd_vm *vm = &d->vms[i];
		bool counted = false;
		if (topo_add_vm(c, vm) < 0)
			return -1;
		for (size_t k = 0; k < vm->meta.labels.n; k++)
			c->labels[c->n_labels++] = (struct plan_aff_ref){
				vm->meta.labels.items[k].key, vm->meta.labels.items[k].value, i, NULL};
		for (size_t k = 0; k < vm->spec.affinity.n_anti; k++) {
			const struct crd_affinity_term *t = &vm->spec.affinity.anti[k];
			if (!t->required)
				continue;
			const struct crd_kv *first = t->selector.n ? &t->selector.items[0] : NULL;
			c->anti_terms[c->n_anti_terms++] = (struct plan_aff_ref){
				first ? first->key : NULL, first ? first->value : NULL, i, t};
			c->n_anti_required += !counted;
			counted = true;
		}
	}
	qsort(c->labels, c->n_labels, sizeof(*c->labels), ref_cmp);
	qsort(c->anti_terms, c->n_anti_terms, sizeof(*c->anti_terms), ref_cmp);
	return 0;
}

/* True when VM @i of the set is another VM of @v's namespace that runs somewhere. */
static bool other_placed(const struct plan_ctx *c, const struct plan_vm *v, size_t i)
{
	const struct crd_vm *u = &c->desired->vms[i];
	return u != v->vm && c->loc[i] && !strcmp(u->meta.namespace, v->vm->meta.namespace);
}

/* Forgets what the last term marked: scratch.first of its hosts, and the VM noted for each
 * of its domains. This function can't fail. */
static void marks_clear(const struct plan_ctx *c)
{
	struct plan_aff_marks *mk = c->marks;

	for (size_t m = 0; m < mk->n; m++)
		c->scratch[mk->hosts[m]].first = NULL;
	for (size_t m = 0; m < mk->n_dom; m++)
		c->dom_first[mk->dom[m]] = NULL;
	mk->n = mk->n_dom = 0;
}

/* Notes (scratch.first, c->marked) on each host a VM of @v's namespace that @t selects
 * running there, other than @v. Returns how many such VMs there are. */
static size_t mark_matches(const struct plan_ctx *c, const struct plan_vm *v,
			   const struct crd_affinity_term *t)
{
	const struct crd_set *d = c->desired;
	struct plan_aff_marks *mk = c->marks;
	const struct plan_aff_ref *r, *end;
	size_t n = 0;

	marks_clear(c);
	/* The VMs carrying the first pair, or (empty selector) every VM. */
	if (t->selector.n) {
		r = ref_range(c->labels, c->n_labels, t->selector.items[0].key,
			      t->selector.items[0].value, &end);
	} else {
		r = c->labels;
		end = r;        /* an empty selector walks the VMs below */
	}
	for (size_t i = 0; !t->selector.n && i < d->n_vms; i++)
		if (other_placed(c, v, i)) {
			struct plan_aff_host *s = &c->scratch[c->loc[i] - c->hosts];
			if (!s->first)
				mk->hosts[mk->n++] = (size_t)(c->loc[i] - c->hosts);
			s->first = s->first ? s->first : &d->vms[i];
			n++;
		}
	for (; r < end; r++) {
		const struct crd_vm *u = &d->vms[r->vm];
		if (!other_placed(c, v, r->vm) || !selects(&t->selector, &u->meta.labels))
			continue;
		struct plan_aff_host *s = &c->scratch[c->loc[r->vm] - c->hosts];
		if (!s->first) {
			s->first = u;
			mk->hosts[mk->n++] = (size_t)(c->loc[r->vm] - c->hosts);
		}
		n++;
	}
	return n;
}

/* A VM the term selects in host @h's domain, or NULL (after mark_matches and, for a label
 * key, mark_domains with its @topo). */
static const struct crd_vm *near(const struct plan_ctx *c, bool by_host,
				 const struct plan_aff_topo *topo, size_t h)
{
	if (by_host)
		return c->scratch[h].first;
	return !topo || topo->dom[h] < 0 ? NULL : c->dom_first[topo->dom[h]];
}

/* Notes for each domain of @topo that a marked host is in the VM the term selects on the
 * first such host (in marking order), so near() is one lookup per host. */
static void mark_domains(const struct plan_ctx *c, const struct plan_aff_topo *topo)
{
	struct plan_aff_marks *mk = c->marks;

	for (size_t m = 0; m < mk->n; m++) {
		size_t h = mk->hosts[m];
		int d = topo->dom[h];
		if (d < 0 || c->dom_first[d])
			continue;
		c->dom_first[d] = c->scratch[h].first;
		mk->dom[mk->n_dom++] = (size_t)d;
	}
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
	bool by_host = !strcmp(t->topology_key, TOPOLOGY_HOST);
	/* Every VM placed is of the set, and plan_aff_index numbered its terms' keys. */
	const struct plan_aff_topo *topo = by_host ? NULL : topo_find(c, t->topology_key);

	/* Nothing selected: nothing to keep away from, and the first of a group lands anywhere. */
	if (!n)
		return;
	if (by_host && anti) {
		/* Only the hosts the matches run on are touched. */
		for (size_t m = 0; m < c->marks->n; m++) {
			struct plan_aff_host *s = &c->scratch[c->marks->hosts[m]];
			if (t->required)
				fail_host(s, PLAN_AFF_ANTI, t, s->first);
			else
				s->score--;
		}
		return;
	}
	if (topo)
		mark_domains(c, topo);
	for (size_t h = 0; h < c->n_hosts; h++) {
		struct plan_aff_host *s = &c->scratch[h];
		const struct crd_vm *other = near(c, by_host, topo, h);
		if (anti && other && t->required)
			fail_host(s, PLAN_AFF_ANTI, t, other);
		else if (anti && other)
			s->score--;
		else if (!anti && !other && t->required)
			fail_host(s, PLAN_AFF_TOGETHER, t, NULL);
		else if (!anti && other)
			s->score++;
	}
}

/* Closes to @v the domains of the other VM of term ref @r when its term selects @v. */
static void theirs_one(const struct plan_ctx *c, const struct plan_vm *v,
		       const struct plan_aff_ref *r)
{
	const struct crd_vm *u = &c->desired->vms[r->vm];
	const struct plan_aff_topo *topo;

	if (!other_placed(c, v, r->vm) || !selects(&r->term->selector, &v->vm->meta.labels))
		return;
	size_t at = (size_t)(c->loc[r->vm] - c->hosts);
	if (!strcmp(r->term->topology_key, TOPOLOGY_HOST)) {
		fail_host(&c->scratch[at], PLAN_AFF_THEIRS, r->term, u);
		return;
	}
	/* A host without the label is in no domain: nothing shares it. */
	topo = topo_find(c, r->term->topology_key);
	for (size_t h = 0; topo && topo->dom[at] >= 0 && h < c->n_hosts; h++)
		if (topo->dom[h] == topo->dom[at])
			fail_host(&c->scratch[h], PLAN_AFF_THEIRS, r->term, u);
}

/* Required anti-affinity terms of the other VMs that select @v: their domains are closed.
 * Only terms whose first pair is one of @v's labels (or that select every VM) can. */
static void eval_theirs(const struct plan_ctx *c, const struct plan_vm *v)
{
	const struct crd_map *labels = &v->vm->meta.labels;
	const struct plan_aff_ref *r, *end;

	for (r = ref_range(c->anti_terms, c->n_anti_terms, NULL, NULL, &end); r < end; r++)
		theirs_one(c, v, r);
	for (size_t k = 0; k < labels->n; k++)
		for (r = ref_range(c->anti_terms, c->n_anti_terms, labels->items[k].key,
				   labels->items[k].value, &end); r < end; r++)
			theirs_one(c, v, r);
}

void plan_aff_eval(const struct plan_ctx *c, const struct plan_vm *v)
{
	const struct crd_affinity *a = &v->vm->spec.affinity;

	marks_clear(c);
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
	struct plan_str sel;
	char dom[160];

	/* Called for every candidate host: the kept ones cost one test, not a cleared buffer. */
	if (s->rule == PLAN_AFF_OK)
		return true;
	sel.len = 0;
	sel.buf[0] = '\0';
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
