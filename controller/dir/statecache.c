/* statecache: what this process knows of its state dir's records (see statecache.h). */
#include "controller/dir/statecache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "controller/dir/keptstatus.h"
#include "crd/encode.h"

/* Per record, keyed by a digest of its path: 64 bytes, one per record of the state dir
 * (10k VMs, 10k entries, in a table at most 3/4 full). */
struct entry {
	uint64_t key;            /* 0 = empty slot */
	uint64_t tree;           /* crd_json_digest of the value whose text is known to be
				  * there; 0 = not known */
	uint64_t token;          /* the last write or read; 0 = none */
	void *kept;              /* a status of @kind kept between passes (keptstatus), or NULL */
	/* The file's identity when last written or read. */
	uint64_t ino;
	int64_t mtime_ns;
	off_t size;
	uint8_t kind;            /* enum crd_kind */
};

/* At most this many records are known; beyond, writes compare with the file and loads read
 * it, as without the cache. */
#define SC_MAX_ENTRIES 400000

static struct {
	pthread_mutex_t lock;
	struct entry *slots;
	size_t cap, n;           /* cap a power of two, at most 3/4 full (linear probing) */
	uint64_t tokens;
	size_t kept;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The key of @path: never 0 (0 marks an empty slot). This function can't fail. */
static uint64_t path_key(const char *path)
{
	uint64_t h = crd_fnv1a(CRD_FNV1A_INIT, path, strlen(path));
	return h ? h : 1;
}

/* The slot of path digest @key: its entry, or the empty slot where it would go. Called
 * with the lock held and a table. */
static struct entry *slot_of(uint64_t key)
{
	size_t i = key & (cache.cap - 1);

	while (cache.slots[i].key && cache.slots[i].key != key)
		i = (i + 1) & (cache.cap - 1);
	return &cache.slots[i];
}

/* Makes room for one more entry. Returns 0, or -1 when the table is full and cannot grow.
 * Called with the lock held. */
static int reserve(void)
{
	if (cache.n + 1 > (size_t)SC_MAX_ENTRIES)
		return -1;
	if (cache.cap && (cache.n + 1) * 4 <= cache.cap * 3)
		return 0;
	size_t cap = cache.cap ? cache.cap * 2 : 1024;
	struct entry *old = cache.slots, *grown = calloc(cap, sizeof(*grown));
	size_t old_cap = cache.cap;
	if (!grown)
		return -1;
	cache.slots = grown;
	cache.cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*slot_of(old[i].key) = old[i];
	free(old);
	return 0;
}

/* The entry of @path, NULL when unknown. Called with the lock held. */
static struct entry *find(const char *path)
{
	if (!cache.cap)
		return NULL;
	struct entry *e = slot_of(path_key(path));
	return e->key ? e : NULL;
}

/* The entry of @path, made when new; NULL when the table cannot take it. Called with the
 * lock held. */
static struct entry *find_or_add(const char *path)
{
	uint64_t key = path_key(path);

	if (reserve() < 0)
		return find(path);
	struct entry *e = slot_of(key);
	if (!e->key) {
		*e = (struct entry){.key = key};
		cache.n++;
	}
	return e;
}

/* The status kept in @e goes. Called with the lock held. */
static void drop_kept(struct entry *e)
{
	if (!e->kept)
		return;
	ks_free(e->kind, e->kept);
	e->kept = NULL;
	cache.kept--;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static bool same_file(const struct entry *e, const struct stat *st)
{
	return e->ino == st->st_ino && e->size == st->st_size && e->mtime_ns == mtime_ns(st);
}

static void note_file(struct entry *e, const struct stat *st)
{
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime_ns = mtime_ns(st);
}

/* Notes that @e's record was written, read or found to hold what a write would put there,
 * its file now @st, the text of a value of digest @tree (0: not known); returns the
 * token of that write or read. Called with the lock held. */
static uint64_t note_write(struct entry *e, const struct stat *st, uint64_t tree)
{
	drop_kept(e);
	note_file(e, st);
	e->tree = tree;
	return e->token = ++cache.tokens;
}

uint64_t sc_rewrote(const char *path, uint64_t tree)
{
	struct stat st;
	uint64_t token = 0;

	if (!tree || stat(path, &st) < 0)
		return 0;
	pthread_mutex_lock(&cache.lock);
	struct entry *e = find(path);
	if (e && e->tree == tree && same_file(e, &st))
		token = note_write(e, &st, tree);
	pthread_mutex_unlock(&cache.lock);
	return token;
}

uint64_t sc_wrote(const char *path, uint64_t tree)
{
	struct stat st;
	uint64_t token = 0;

	if (stat(path, &st) < 0)
		return 0;
	pthread_mutex_lock(&cache.lock);
	struct entry *e = find_or_add(path);
	if (e)
		token = note_write(e, &st, tree);
	pthread_mutex_unlock(&cache.lock);
	return token;
}

uint64_t sc_read(const char *path, const struct stat *st)
{
	uint64_t token = 0;

	pthread_mutex_lock(&cache.lock);
	struct entry *e = find_or_add(path);
	if (e)   /* what it holds is not known: a write compares with the file */
		token = note_write(e, st, 0);
	pthread_mutex_unlock(&cache.lock);
	return token;
}

uint64_t sc_take(const char *path, const struct stat *st, enum crd_kind kind, void *status)
{
	uint64_t token = 0;

	pthread_mutex_lock(&cache.lock);
	struct entry *e = find(path);
	if (e && e->kept && e->kind == kind && same_file(e, st)) {
		void *kept = e->kept;
		e->kept = NULL;
		cache.kept--;
		if (ks_give(kind, kept, status))
			token = e->token;
	}
	pthread_mutex_unlock(&cache.lock);
	return token;
}

void sc_keep(const char *path, enum crd_kind kind, void *status, uint64_t token)
{
	if (!token)
		return;
	pthread_mutex_lock(&cache.lock);
	struct entry *e = find(path);
	if (e && e->token == token && !e->kept && (e->kept = ks_keep(kind, status))) {
		e->kind = (uint8_t)kind;
		cache.kept++;
	}
	pthread_mutex_unlock(&cache.lock);
}

void sc_forget(const char *path)
{
	pthread_mutex_lock(&cache.lock);
	struct entry *e = find(path);
	if (e) {
		drop_kept(e);
		e->tree = 0;
		e->token = 0;
	}
	pthread_mutex_unlock(&cache.lock);
}

void sc_load_done(void)
{
	pthread_mutex_lock(&cache.lock);
	for (size_t i = 0; cache.kept && i < cache.cap; i++)
		drop_kept(&cache.slots[i]);
	pthread_mutex_unlock(&cache.lock);
}

size_t sc_kept(void)
{
	pthread_mutex_lock(&cache.lock);
	size_t n = cache.kept;
	pthread_mutex_unlock(&cache.lock);
	return n;
}
