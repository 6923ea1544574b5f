/* predict_history: the moves a prediction learns the fixed part of a move from (see
 * predict.h): the Migrations recorded in the set a pass holds, and the moves this process
 * finished since. `drover apply` holds one set for all its rounds, so without the second
 * the moves of its first rounds taught the later ones nothing: all 8 moves of an
 * evacuation's first apply were predicted with the default (-43 to -63 %). */
#include "reconcile/predict.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/clk.h"

/* Moves this process finished, newest last; more than the history looks at per host. */
#define REMEMBERED 64

struct remembered {
	char *ns, *name, *dst;
	char end[32];               /* RFC 3339, as status.endTime */
	uint64_t fixed_ms;
	unsigned beside;
};

static struct {
	pthread_mutex_t lock;
	struct remembered moves[REMEMBERED];
	size_t next;                /* where the next one goes (the oldest falls out) */
} mem = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool pred_move_measured(const struct crd_migration *m)
{
	const struct crd_migration_status *st = &m->status;

	return st->phase == CRD_MIG_SUCCEEDED && st->statistics.set && st->end_time &&
	       clk_seconds_since(st->end_time) < PRED_HISTORY_S;
}

/* What move @m took besides its stream's time. A record edited by hand may say more
 * transfer than job: no fixed part. */
static uint64_t fixed_of(const struct crd_migration *m)
{
	const struct crd_mig_statistics *s = &m->status.statistics;

	return s->elapsed_ms > s->transfer_ms ? s->elapsed_ms - s->transfer_ms : 0;
}

static void forget(struct remembered *r)
{
	free(r->ns);
	free(r->name);
	free(r->dst);
	memset(r, 0, sizeof(*r));
}

void pred_remember(const struct crd_migration *m)
{
	const struct crd_migration_status *st = &m->status;

	if (!pred_move_measured(m) || !st->target_host || strlen(st->end_time) >= 32)
		return;
	pthread_mutex_lock(&mem.lock);
	struct remembered *r = &mem.moves[mem.next];
	for (size_t i = 0; i < REMEMBERED; i++)
		if (mem.moves[i].name && !strcmp(mem.moves[i].name, m->meta.name) &&
		    !strcmp(mem.moves[i].ns, m->meta.namespace))
			r = &mem.moves[i];   /* told twice: the newer word */
	if (r == &mem.moves[mem.next])
		mem.next = (mem.next + 1) % REMEMBERED;
	forget(r);
	r->ns = strdup(m->meta.namespace);
	r->name = strdup(m->meta.name);
	r->dst = strdup(st->target_host);
	if (r->ns && r->name && r->dst) {
		memcpy(r->end, st->end_time, strlen(st->end_time) + 1);
		r->fixed_ms = fixed_of(m);
		r->beside = st->prediction.concurrent_moves;
	} else {
		forget(r);   /* out of memory: one move fewer to learn from */
	}
	pthread_mutex_unlock(&mem.lock);
}

void pred_forget_remembered(void)
{
	pthread_mutex_lock(&mem.lock);
	for (size_t i = 0; i < REMEMBERED; i++)
		forget(&mem.moves[i]);
	mem.next = 0;
	pthread_mutex_unlock(&mem.lock);
}

/* The last PRED_HISTORY_MOVES moves that match: to @dst (any host when @any_dst) with
 * @beside moves beside them (any number when @any_beside). */
struct pick {
	const char *dst;
	unsigned beside;
	bool any_dst, any_beside;
	const char *end[PRED_HISTORY_MOVES];   /* newest first */
	uint64_t fixed[PRED_HISTORY_MOVES];
	size_t n;
};

/* A move to @dst with @beside moves beside it, ended @end, its fixed part @fixed. RFC
 * 3339 times in UTC compare as strings. */
static void consider(struct pick *p, const char *dst, unsigned beside, const char *end,
		     uint64_t fixed)
{
	if ((!p->any_dst && (!p->dst || strcmp(dst, p->dst))) ||
	    (!p->any_beside && beside != p->beside))
		return;
	size_t at = p->n < PRED_HISTORY_MOVES ? p->n++ : PRED_HISTORY_MOVES;
	/* Insertion into the newest-first list; the oldest falls off the end. */
	while (at > 0 && strcmp(p->end[at - 1], end) < 0) {
		if (at < PRED_HISTORY_MOVES) {
			p->end[at] = p->end[at - 1];
			p->fixed[at] = p->fixed[at - 1];
		}
		at--;
	}
	if (at < PRED_HISTORY_MOVES) {
		p->end[at] = end;
		p->fixed[at] = fixed;
	}
}

/* Fills @p from @set and the moves remembered (those @set does not hold). Called with
 * the lock held. */
static void pick_moves(struct pick *p, const struct crd_set *set)
{
	for (size_t i = 0; set && i < set->n_migrations; i++) {
		const struct crd_migration *m = &set->migrations[i];
		if (pred_move_measured(m) && m->status.target_host)
			consider(p, m->status.target_host, m->status.prediction.concurrent_moves,
				 m->status.end_time, fixed_of(m));
	}
	for (size_t i = 0; i < REMEMBERED; i++) {
		const struct remembered *r = &mem.moves[i];
		if (r->name && clk_seconds_since(r->end) < PRED_HISTORY_S &&
		    !(set && crd_set_migration(set, r->ns, r->name)))
			consider(p, r->dst, r->beside, r->end, r->fixed_ms);
	}
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

uint64_t pred_fixed_ms(const struct crd_set *set, const char *dst, unsigned beside)
{
	struct pick p = {.dst = dst, .beside = beside};

	pthread_mutex_lock(&mem.lock);
	/* The same host and as many moves beside; then any host; then any number beside. */
	for (int level = 0; level < 4 && !p.n; level++) {
		p.any_dst = level % 2 == 1;
		p.any_beside = level >= 2;
		pick_moves(&p, set);
	}
	pthread_mutex_unlock(&mem.lock);
	if (!p.n)
		return PRED_DEFAULT_FIXED_MS;
	qsort(p.fixed, p.n, sizeof(p.fixed[0]), by_value);
	return p.n % 2 ? p.fixed[p.n / 2] : (p.fixed[p.n / 2 - 1] + p.fixed[p.n / 2]) / 2;
}
