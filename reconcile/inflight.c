/* inflight: the live moves under way in this process (see inflight.h). A list: a process
 * runs a handful of moves at a time, never thousands. */
#include "reconcile/inflight.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct inflight_move *moves;

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

void inflight_enter(struct inflight_move *m, const char *src, const char *dst)
{
	*m = (struct inflight_move){.src = src, .dst = dst};
	pthread_mutex_lock(&lock);
	m->next = moves;
	moves = m;
	pthread_mutex_unlock(&lock);
}

unsigned inflight_beside(const struct inflight_move *m)
{
	unsigned beside = 0;

	pthread_mutex_lock(&lock);
	for (const struct inflight_move *o = moves; o; o = o->next)
		beside += o != m && (same(o->src, m->src) || same(o->src, m->dst) ||
				     same(o->dst, m->src) || same(o->dst, m->dst));
	pthread_mutex_unlock(&lock);
	return beside;
}

void inflight_leave(struct inflight_move *m)
{
	pthread_mutex_lock(&lock);
	for (struct inflight_move **p = &moves; *p; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	pthread_mutex_unlock(&lock);
}
