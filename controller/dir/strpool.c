/* strpool: one counted copy of each string kept statuses hold (see strpool.h). */
#include "controller/dir/strpool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crd/encode.h"

struct slot {
	char *s;                 /* NULL: empty, or a tombstone when @gone */
	uint64_t hash;
	uint32_t refs;
	bool gone;
};

static struct {
	pthread_mutex_t lock;
	struct slot *slots;
	size_t cap, used, live;  /* used counts tombstones too; cap a power of two */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Can't fail. */
static uint64_t hash_of(const char *s)
{
	return crd_fnv1a(CRD_FNV1A_INIT, s, strlen(s));
}

/* The slot holding @s (by content), or NULL. Called with the lock held. */
static struct slot *lookup(const char *s, uint64_t h)
{
	for (size_t i = h & (pool.cap - 1), n = 0; pool.cap && n < pool.cap;
	     i = (i + 1) & (pool.cap - 1), n++) {
		struct slot *x = &pool.slots[i];
		if (!x->s && !x->gone)
			return NULL;
		if (x->s && x->hash == h && !strcmp(x->s, s))
			return x;
	}
	return NULL;
}

/* An empty slot for hash @h (tombstones are reused). Called with the lock held, with room. */
static struct slot *free_slot(uint64_t h)
{
	size_t i = h & (pool.cap - 1);

	while (pool.slots[i].s)
		i = (i + 1) & (pool.cap - 1);
	return &pool.slots[i];
}

/* Room for one more string: the table grows (or is rebuilt without its tombstones) at half
 * full. Returns 0, or -1 when out of memory. Called with the lock held. */
static int room(void)
{
	if (pool.cap && (pool.used + 1) * 2 <= pool.cap)
		return 0;
	size_t cap = pool.cap ? pool.cap : 256;
	while ((pool.live + 1) * 4 > cap)
		cap *= 2;
	struct slot *old = pool.slots, *grown = calloc(cap, sizeof(*grown));
	size_t old_cap = pool.cap;
	if (!grown)
		return -1;
	pool.slots = grown;
	pool.cap = cap;
	pool.used = pool.live;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].s)
			*free_slot(old[i].hash) = old[i];
	free(old);
	return 0;
}

char *sp_get(const char *s)
{
	uint64_t h = hash_of(s);
	char *got = NULL;

	pthread_mutex_lock(&pool.lock);
	struct slot *x = lookup(s, h);
	if (x) {
		x->refs++;
		got = x->s;
	} else if (room() == 0 && (got = strdup(s))) {
		x = free_slot(h);
		if (!x->gone)
			pool.used++;
		*x = (struct slot){.s = got, .hash = h, .refs = 1};
		pool.live++;
	}
	pthread_mutex_unlock(&pool.lock);
	return got;
}

void sp_put(char *pooled)
{
	if (!pooled)
		return;
	pthread_mutex_lock(&pool.lock);
	struct slot *x = lookup(pooled, hash_of(pooled));
	if (x && x->s == pooled && --x->refs == 0) {
		free(x->s);
		*x = (struct slot){.gone = true};
		pool.live--;
	}
	pthread_mutex_unlock(&pool.lock);
}

bool sp_holds(const char *p)
{
	if (!p)
		return false;
	pthread_mutex_lock(&pool.lock);
	const struct slot *x = lookup(p, hash_of(p));
	bool held = x && x->s == p;
	pthread_mutex_unlock(&pool.lock);
	return held;
}

size_t sp_count(void)
{
	pthread_mutex_lock(&pool.lock);
	size_t n = pool.live;
	pthread_mutex_unlock(&pool.lock);
	return n;
}
