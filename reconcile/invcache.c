/* invcache: one host's domains as last read, and the rules for which events invalidate what. */
#include "reconcile/invcache.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libvirt/libvirt.h>

#include "reconcile/invpack.h"

void invc_init(struct invc *c)
{
	memset(c, 0, sizeof(*c));
}

static void drop_doms(struct invc *c)
{
	free(c->arena);
	free(c->recs);
	c->arena = NULL;
	c->recs = NULL;
	c->n_doms = 0;
}

void invc_free(struct invc *c)
{
	if (!c)
		return;
	drop_doms(c);
	free(c->marks);
	memset(c, 0, sizeof(*c));
}

enum invc_mark invc_lifecycle_mark(int event, int detail)
{
	switch (event) {
	case VIR_DOMAIN_EVENT_SUSPENDED:
	case VIR_DOMAIN_EVENT_SHUTDOWN:
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
	case VIR_DOMAIN_EVENT_CRASHED:
		/* The guest's state moved; its definition did not. */
		return INVC_JOB;
	case VIR_DOMAIN_EVENT_RESUMED:
		/* The end of an incoming migration (or its post-copy phase): the target's copy
		 * is about to turn persistent, read it again. */
		return detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED ||
				       detail == VIR_DOMAIN_EVENT_RESUMED_POSTCOPY
			       ? INVC_DEFINITION
			       : INVC_JOB;
	default:
		/* Defined, undefined, started, stopped (a transient domain vanishes with it), and
		 * whatever a newer libvirt adds: read it again. */
		return INVC_DEFINITION;
	}
}

void invc_invalidate(struct invc *c)
{
	c->epoch++;
	c->valid = false;
	c->n_marks = 0;
}

void invc_mark(struct invc *c, const char *uuid, enum invc_mark mark)
{
	/* Kept even while invalid: an event during a full read may postdate what it read. */
	if (mark == INVC_NONE || !uuid)
		return;
	for (size_t i = 0; i < c->n_marks; i++) {
		if (strcasecmp(c->marks[i].uuid, uuid))
			continue;
		if (mark > c->marks[i].mark)
			c->marks[i].mark = mark;
		return;
	}
	if (c->n_marks == c->cap_marks) {
		size_t cap = c->cap_marks ? c->cap_marks * 2 : 16;
		struct invc_marked *grown = cap <= INVC_MAX_MARKS
						    ? realloc(c->marks, cap * sizeof(*grown))
						    : NULL;
		if (!grown) {
			invc_invalidate(c);
			return;
		}
		c->marks = grown;
		c->cap_marks = cap;
	}
	struct invc_marked *m = &c->marks[c->n_marks++];
	memset(m->uuid, 0, sizeof(m->uuid));
	strncpy(m->uuid, uuid, sizeof(m->uuid) - 1);
	m->mark = mark;
}

static int cmp_marked(const void *a, const void *b)
{
	return strcasecmp(((const struct invc_marked *)a)->uuid,
			  ((const struct invc_marked *)b)->uuid);
}

void invc_begin(struct invc *c, double now, struct invc_pass *p)
{
	memset(p, 0, sizeof(*p));
	p->epoch = c->epoch;
	p->full = !c->valid || now - c->synced_at >= INVC_RESYNC_S || now < c->synced_at;
	if (p->full || !c->n_marks) {
		c->n_marks = 0;
		return;
	}
	/* The pass takes the list; the cache starts a new one for events from now on. */
	p->marks = c->marks;
	p->n_marks = c->n_marks;
	c->marks = NULL;
	c->n_marks = c->cap_marks = 0;
	/* qsort and bsearch take no NULL array, even an empty one (UBSan). */
	if (p->n_marks > 1)
		qsort(p->marks, p->n_marks, sizeof(*p->marks), cmp_marked);
}

enum invc_mark invc_pass_mark(const struct invc_pass *p, const char *uuid)
{
	struct invc_marked key = {{0}, INVC_NONE};

	if (p->full)
		return INVC_DEFINITION;
	if (!p->n_marks || !uuid)
		return INVC_NONE;
	strncpy(key.uuid, uuid, sizeof(key.uuid) - 1);
	const struct invc_marked *m =
		bsearch(&key, p->marks, p->n_marks, sizeof(*p->marks), cmp_marked);
	return m ? m->mark : INVC_NONE;
}

static int cmp_rec(const void *a, const void *b)
{
	return strcasecmp(invpack_uuid(*(unsigned char *const *)a),
			  invpack_uuid(*(unsigned char *const *)b));
}

static int cmp_uuid_rec(const void *key, const void *rec)
{
	return strcasecmp(key, invpack_uuid(*(unsigned char *const *)rec));
}

int invc_cached(const struct invc *c, const struct invc_pass *p, const char *uuid,
		struct inv_domain *out)
{
	unsigned char *const *rec;

	memset(out, 0, sizeof(*out));
	if (p->full || !uuid || !*uuid || invc_pass_mark(p, uuid) >= INVC_DEFINITION)
		return 0;
	rec = c->n_doms ? bsearch(uuid, c->recs, c->n_doms, sizeof(*c->recs), cmp_uuid_rec)
			: NULL;
	/* A definition the last pass could not read is no answer: read it again. */
	if (!rec || invpack_definition_unknown(*rec))
		return 0;
	return invpack_read(*rec, out) == 0 ? 1 : -1;
}

int invc_store(struct invc *c, const struct inv_host *h)
{
	size_t total = 0, at = 0;

	drop_doms(c);
	for (size_t i = 0; i < h->n_domains; i++)
		total += invpack_size(&h->domains[i]);
	if (h->n_domains && (!(c->arena = malloc(total)) ||
			     !(c->recs = calloc(h->n_domains, sizeof(*c->recs))))) {
		drop_doms(c);
		return -1;
	}
	for (size_t i = 0; i < h->n_domains; i++) {
		c->recs[i] = c->arena + at;
		at += invpack_write(&h->domains[i], c->recs[i]);
	}
	c->n_doms = h->n_domains;
	if (c->n_doms > 1)
		qsort(c->recs, c->n_doms, sizeof(*c->recs), cmp_rec);
	return 0;
}

void invc_finish(struct invc *c, struct invc_pass *p, bool ok, double now)
{
	/* An invalidation during the pass (the connection dropped) may have hidden changes the
	 * pass did not see: the cache stays invalid, the next pass reads all. */
	if (!ok || p->epoch != c->epoch) {
		if (!ok)
			invc_invalidate(c);
	} else {
		if (p->full)
			c->synced_at = now;
		c->valid = true;
	}
	free(p->marks);
	memset(p, 0, sizeof(*p));
}
