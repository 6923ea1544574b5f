/* plan_place: the placement rules — filter hosts, pre-check them, keep the required terms,
 * then take the best preferred score and the most free memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/plan_affinity.h"
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

bool plan_place_fits(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
		     const struct plan_host *h, char *why, size_t size)
{
	const char *state = plan_check_host_state(h, op);
	const struct crd_kv *miss = state ? NULL : selector_miss(v->vm, h);

	if (state)
		snprintf(why, size, "%s", state);
	else if (miss)
		snprintf(why, size, "hostSelector %s=%s does not match", miss->key, miss->value);
	else
		return plan_aff_ok(c, h, why, size);
	return false;
}

/* Appends @host → @why to the rejections; the array grows by doubling (n at a power of
 * two means it is full). */
static void reject(struct plan_choice *ch, const char *host, const char *why)
{
	size_t n = ch->rejected.n;
	struct crd_kv *items = ch->rejected.items;

	if (ch->oom)
		return;
	if (!(n & (n - 1))) {
		items = realloc(items, (n ? 2 * n : 4) * sizeof(*items));
		if (!items) {
			ch->oom = true;
			return;
		}
		ch->rejected.items = items;
	}
	items[n].key = strdup(host);
	items[n].value = strdup(why);
	if (!items[n].key || !items[n].value) {
		free(items[n].key);
		free(items[n].value);
		ch->oom = true;
		return;
	}
	ch->rejected.n++;
}

/* Checks candidate @h; a host that does not fit goes to the rejections with its reason.
 * Returns true when it fits. */
static bool candidate(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
		      const struct plan_host *h, struct plan_choice *ch)
{
	char why[600], pre[512];

	if (!plan_place_fits(c, v, op, h, why, sizeof(why))) {
		/* reported as is */
	} else if (!plan_check_target(c, v, op, h, pre, sizeof(pre))) {
		snprintf(why, sizeof(why), "PreCheckFailed: %s", pre);
	} else {
		return true;
	}
	reject(ch, h->name, why);
	return false;
}

/* "no schedulable host: lab-b: why, lab-c: why" from the rejections into @why. */
static void no_host(const struct plan_choice *ch, const struct plan_host *exclude, char *why,
		    size_t size)
{
	struct plan_str no = {.len = 0};

	for (size_t i = 0; i < ch->rejected.n; i++)
		plan_str_add(&no, "%s%s: %s", i ? ", " : "", ch->rejected.items[i].key,
			     ch->rejected.items[i].value);
	if (ch->oom)
		plan_str_add(&no, "%s(out of memory listing the rest)", no.len ? ", " : "");
	snprintf(why, size, "no schedulable host: %s",
		 no.len ? no.buf : exclude ? "no other Host is declared" : "no Host is declared");
}

/* True when @h beats @best: higher preferred score, then more free memory. */
static bool better(const struct plan_ctx *c, const struct plan_host *h,
		   const struct plan_host *best)
{
	int sh = c->scratch[h - c->hosts].score, sb = c->scratch[best - c->hosts].score;

	if (sh != sb)
		return sh > sb;
	return plan_host_available(h) > plan_host_available(best);
}

struct plan_host *plan_place(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
			     const struct plan_host *exclude, struct plan_choice *ch, char *why,
			     size_t size)
{
	struct plan_host *best = NULL;
	size_t n_fit = 0;
	bool scored = false;

	memset(ch, 0, sizeof(*ch));
	plan_aff_eval(c, v);
	/* Hosts are sorted by name, so a strict comparison keeps the first name on a tie. */
	for (size_t i = 0; i < c->n_hosts; i++) {
		struct plan_host *h = &c->hosts[i];
		if (h == exclude || !candidate(c, v, op, h, ch))
			continue;
		n_fit++;
		scored |= best && c->scratch[i].score != c->scratch[best - c->hosts].score;
		if (!best || better(c, h, best))
			best = h;
	}
	if (best) {
		snprintf(ch->reason, sizeof(ch->reason), "%s of %zu feasible host%s",
			 scored ? "best preferred (anti-)affinity, then most free memory"
				: "most free memory", n_fit, n_fit == 1 ? "" : "s");
		return best;
	}
	snprintf(ch->reason, sizeof(ch->reason), "no feasible host");
	if (size)
		no_host(ch, exclude, why, size);
	return NULL;
}

int plan_choice_give(struct plan_choice *ch, struct plan_action *a, const char *reason)
{
	int rc = ch->oom ? -1 : 0;

	if (!a) {
		crd_map_free(&ch->rejected);
		return rc;
	}
	a->rejected = ch->rejected;
	memset(&ch->rejected, 0, sizeof(ch->rejected));
	a->placement = strdup(reason ? reason : ch->reason);
	return a->placement ? rc : -1;
}
