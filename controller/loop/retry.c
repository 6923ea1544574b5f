/* retry: capped exponential backoff per VM for drover's own actions. */
#include "controller/loop/retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct retry_entry *find(const struct retry_table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->items[i].key, key))
			return &t->items[i];
	return NULL;
}

void retry_failed(struct retry_table *t, const char *key, const char *why, double now)
{
	struct retry_entry *e = find(t, key);

	if (!e) {
		if (t->n >= RETRY_MAX_KEYS)
			return;
		struct retry_entry *grown = realloc(t->items, (t->n + 1) * sizeof(*grown));
		if (!grown)
			return;
		t->items = grown;
		e = &t->items[t->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
	}
	e->failures++;
	double wait = RETRY_BASE_S;
	for (int i = 1; i < e->failures && wait < RETRY_CAP_S; i++)
		wait *= 2;
	e->next_try = now + (wait < RETRY_CAP_S ? wait : RETRY_CAP_S);
	snprintf(e->why, sizeof(e->why), "%s", why ? why : "");
}

void retry_succeeded(struct retry_table *t, const char *key)
{
	struct retry_entry *e = find(t, key);
	if (e)
		*e = t->items[--t->n];
}

double retry_wait_left(const struct retry_table *t, const char *key, double now)
{
	const struct retry_entry *e = find(t, key);
	return e && e->next_try > now ? e->next_try - now : 0;
}

double retry_next_due(const struct retry_table *t, double now)
{
	double soonest = -1;

	for (size_t i = 0; i < t->n; i++) {
		double left = t->items[i].next_try - now;
		if (left > 0 && (soonest < 0 || left < soonest))
			soonest = left;
	}
	return soonest;
}

const char *retry_why(const struct retry_table *t, const char *key)
{
	const struct retry_entry *e = find(t, key);
	return e ? e->why : NULL;
}

void retry_free(struct retry_table *t)
{
	if (!t)
		return;
	free(t->items);
	t->items = NULL;
	t->n = 0;
}
