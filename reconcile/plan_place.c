/* plan_place: the placement rules — filter hosts, pre-check them, take the most free memory. */
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_place.h"

/* The first hostSelector key @h's labels do not match, or NULL when all match. */
static const struct crd_kv *selector_miss(const struct crd_vm *vm, const struct plan_host *h)
{
	const struct crd_map *sel = &vm->spec.host_selector;

	for (size_t i = 0; i < sel->n; i++) {
		const char *have = crd_map_get(&h->spec->meta.labels, sel->items[i].key);
		if (!have || strcmp(have, sel->items[i].value))
			return &sel->items[i];
	}
	return NULL;
}

/* Checks candidate @h; on failure appends "NAME: why" to @no. Returns true when it fits. */
static bool candidate(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
		      const struct plan_host *h, struct plan_str *no)
{
	char why[512];
	const char *state = plan_check_host_state(h, op);
	const struct crd_kv *miss = state ? NULL : selector_miss(v->vm, h);
	const char *sep = no->len ? ", " : "";

	if (state) {
		plan_str_add(no, "%s%s: %s", sep, h->name, state);
		return false;
	}
	if (miss) {
		plan_str_add(no, "%s%s: hostSelector %s=%s does not match", sep, h->name, miss->key,
			     miss->value);
		return false;
	}
	if (!plan_check_target(c, v, op, h, why, sizeof(why))) {
		plan_str_add(no, "%s%s: PreCheckFailed: %s", sep, h->name, why);
		return false;
	}
	return true;
}

struct plan_host *plan_place(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
			     const struct plan_host *exclude, char *why, size_t size)
{
	struct plan_host *best = NULL;
	struct plan_str no = {.len = 0};

	/* Hosts are sorted by name, so a strict comparison keeps the first name on a tie. */
	for (size_t i = 0; i < c->n_hosts; i++) {
		struct plan_host *h = &c->hosts[i];
		if (h == exclude || !candidate(c, v, op, h, &no))
			continue;
		if (!best || plan_host_available(h) > plan_host_available(best))
			best = h;
	}
	if (!best && size)
		snprintf(why, size, "no schedulable host: %s",
			 no.len ? no.buf : exclude ? "no other Host is declared" : "no Host is declared");
	return best;
}
