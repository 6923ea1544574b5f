/* plan_ctx: the planner's working state — hosts, counters, the action list and the queues. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/plan_affinity.h"
#include "reconcile/plan_ctx.h"

void plan_str_add(struct plan_str *s, const char *fmt, ...)
{
	static const char CUT[] = "...";
	size_t room = sizeof(s->buf) - s->len;
	va_list ap;

	if (room <= 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(s->buf + s->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < room) {
		s->len += (size_t)n;
		return;
	}
	/* Cut: keep the buffer full so later appends do nothing, and say so. */
	s->len = sizeof(s->buf) - 1;
	memcpy(s->buf + s->len - (sizeof(CUT) - 1), CUT, sizeof(CUT) - 1);
}

static int host_cmp(const void *a, const void *b)
{
	const struct plan_host *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	return r ? r : strcmp(x->spec->meta.namespace, y->spec->meta.namespace);
}

/* The policy of @h's namespace and what its running guests hold. */
static void host_alloc_init(struct plan_ctx *c, struct plan_host *h)
{
	const struct crd_policy *p = crd_set_policy(c->desired, h->spec->meta.namespace);

	h->pol = p ? &p->spec : &c->default_pol;
	for (size_t k = 0; h->inv && k < h->inv->n_domains; k++) {
		const struct inv_domain *d = &h->inv->domains[k];
		if (!d->active)
			continue;
		h->alloc_mem += d->memory;
		h->alloc_vcpus += d->vcpus;
	}
}

int plan_ctx_init(struct plan_ctx *c, const struct crd_set *desired, const struct inventory *inv,
		  const struct plan_limits *lim)
{
	memset(c, 0, sizeof(*c));
	c->desired = desired;
	c->inv = inv;
	if (lim)
		c->lim = *lim;
	else
		plan_limits_default(&c->lim);
	if (!desired->n_hosts)
		return 0;
	c->hosts = calloc(desired->n_hosts, sizeof(*c->hosts));
	if (!c->hosts) {
		c->oom = true;
		return -1;
	}
	for (size_t i = 0; i < desired->n_hosts; i++) {
		struct plan_host *h = &c->hosts[c->n_hosts++];
		h->spec = &desired->hosts[i];
		h->name = h->spec->meta.name;
		h->inv = inv_host_by_name(inv, h->name);
		h->reachable = h->inv && h->inv->reachable;
		h->fenced = h->spec->spec.fenced || (h->inv && h->inv->fenced);
	}
	qsort(c->hosts, c->n_hosts, sizeof(*c->hosts), host_cmp);
	crd_policy_spec_default(&c->default_pol);
	for (size_t i = 0; i < c->n_hosts; i++)
		host_alloc_init(c, &c->hosts[i]);
	c->loc = calloc(desired->n_vms + 1, sizeof(*c->loc));
	c->scratch = calloc(c->n_hosts + 1, sizeof(*c->scratch));
	c->marks = calloc(1, sizeof(*c->marks) + 2 * (c->n_hosts + 1) * sizeof(c->marks->hosts[0]));
	if (c->marks)
		c->marks->dom = c->marks->hosts + c->n_hosts + 1;
	if (!c->loc || !c->scratch || !c->marks || plan_aff_index(c) < 0) {
		c->oom = true;
		return -1;
	}
	/* Numbered after sorting: a VM's copies come in host-name order, as reasons list them. */
	for (size_t i = 0; i < c->n_hosts; i++)
		inv_index_add(&c->doms, i, c->hosts[i].inv);
	if (inv_index_sort(&c->doms) < 0) {
		c->oom = true;
		return -1;
	}
	return 0;
}

static void intents_free(struct plan_intents *q)
{
	for (size_t i = 0; i < q->n; i++)
		vmres_free(&q->items[i].v.res);
	free(q->items);
	memset(q, 0, sizeof(*q));
}

void plan_ctx_free(struct plan_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].a.src);
		free(c->items[i].a.dst);
		free(c->items[i].a.reason);
		free(c->items[i].a.placement);
		crd_map_free(&c->items[i].a.rejected);
	}
	free(c->items);
	free(c->loc);
	free(c->scratch);
	free(c->marks);
	free(c->labels);
	free(c->anti_terms);
	plan_aff_free(c);
	free(c->hosts);
	inv_index_free(&c->doms);
	intents_free(&c->moves);
	intents_free(&c->lands);
	memset(c, 0, sizeof(*c));
}

size_t plan_ctx_vm_index(const struct plan_ctx *c, const struct crd_vm *vm)
{
	return (size_t)(vm - c->desired->vms);
}

int plan_host_hugepage_index(const struct plan_host *h, uint64_t size)
{
	for (size_t i = 0; size && h->inv && i < h->inv->n_hugepages; i++)
		if (h->inv->hugepages[i].page_size == size)
			return (int)i;
	return -1;
}

/* Adds (@sign 1) or removes (-1) @v's share of @h. */
static void host_book(struct plan_host *h, const struct plan_vm *v, int sign)
{
	int hp = plan_host_hugepage_index(h, v->hugepage_size);
	uint64_t pages = hp < 0 ? 0 : (v->memory + v->hugepage_size - 1) / v->hugepage_size;

	if (sign > 0) {
		h->alloc_mem += v->memory;
		h->alloc_vcpus += v->vcpus;
		if (hp >= 0)
			h->hp_placed[hp] += pages;
		return;
	}
	h->alloc_mem -= h->alloc_mem < v->memory ? h->alloc_mem : v->memory;
	h->alloc_vcpus -= h->alloc_vcpus < v->vcpus ? h->alloc_vcpus : v->vcpus;
}

void plan_host_move_alloc(struct plan_ctx *c, const struct plan_vm *v, struct plan_host *src,
			  struct plan_host *dst)
{
	if (src)
		host_book(src, v, -1);
	if (dst)
		host_book(dst, v, 1);
	c->loc[plan_ctx_vm_index(c, v->vm)] = dst;
}

struct plan_host *plan_ctx_host(const struct plan_ctx *c, const char *name)
{
	for (size_t i = 0; name && i < c->n_hosts; i++)
		if (!strcmp(c->hosts[i].name, name))
			return &c->hosts[i];
	return NULL;
}

const struct inv_domain *plan_host_domain(const struct plan_ctx *c, const struct plan_host *h,
					  const char *name)
{
	return inv_index_on_host(&c->doms, name, (size_t)(h - c->hosts));
}

uint64_t plan_host_available(const struct plan_host *h)
{
	uint64_t free_mem = h->inv ? h->inv->memory_free : 0;
	uint64_t held = h->spec->spec.reserved_memory;

	if (held > free_mem)
		return 0;
	free_mem -= held;
	return h->placed > free_mem ? 0 : free_mem - h->placed;
}

/* Grows an array of @size-byte elements to hold one more. Returns 0 or -1. */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, ncap * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* A copy of @h's name, or NULL for no host; sets c->oom when the copy fails. */
static char *host_dup(struct plan_ctx *c, const struct plan_host *h)
{
	char *s = h ? strdup(h->name) : NULL;
	if (h && !s)
		c->oom = true;
	return s;
}

struct plan_action *plan_emit(struct plan_ctx *c, const struct plan_emit *e, const char *fmt, ...)
{
	char reason[PLAN_REASON_MAX];
	va_list ap;

	if (c->oom || grow((void **)&c->items, c->n, &c->cap, sizeof(*c->items)) < 0) {
		c->oom = true;
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	struct plan_item *it = &c->items[c->n];
	memset(it, 0, sizeof(*it));
	it->a = (struct plan_action){
		.kind = e->kind, .problem = e->problem, .vm = e->v->vm, .migration = e->mig,
		.phase = e->phase, .migration_phase = e->mig_phase, .adopt = e->v->adopting,
	};
	it->a.src = host_dup(c, e->src);
	it->a.dst = host_dup(c, e->dst);
	it->a.reason = strdup(reason);
	if (!it->a.reason)
		c->oom = true;
	it->memory = e->v->memory;
	it->vcpus = e->v->vcpus;
	it->hugepage_size = e->v->hugepage_size;
	it->seq = c->n++;
	return c->oom ? NULL : &it->a;
}

void plan_queue(struct plan_ctx *c, struct plan_intent *it)
{
	struct plan_intents *q = it->kind == PLAN_INTENT_MOVE ? &c->moves : &c->lands;

	if (c->oom || grow((void **)&q->items, q->n, &q->cap, sizeof(*q->items)) < 0) {
		c->oom = true;
		vmres_free(&it->v.res);
		return;
	}
	q->items[q->n++] = *it;
	memset(&it->v.res, 0, sizeof(it->v.res));
}

enum crd_vm_phase plan_vm_phase_now(const struct plan_vm *v)
{
	if (!v->dom)
		return CRD_VM_PENDING;
	return v->dom->active ? CRD_VM_RUNNING : CRD_VM_STOPPED;
}

const char *plan_vm_adopt_note(const struct plan_vm *v)
{
	return v->adopting ? "adopting existing domain; " : "";
}
