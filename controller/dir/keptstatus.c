/* keptstatus: a status kept between passes, in a form of its own (see keptstatus.h). */
#include "controller/dir/keptstatus.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "controller/dir/strpool.h"

/* Kept VM statuses are bump-allocated from blocks of this size (or one record's, when
 * larger); a block is unmapped once no record in it is alive. */
#define KS_BLOCK_BYTES (1u << 20)
#define KS_ALIGN 16

struct block {
	size_t size, used, live;   /* mapped bytes, bytes handed out, records alive */
};
#define KS_HEADER ((sizeof(struct block) + KS_ALIGN - 1) & ~(size_t)(KS_ALIGN - 1))

/* A kept VM status; its conditions and placement rejections follow it in the block. */
struct packed_vm {
	struct block *blk;
	struct crd_vm_status st;
};

static struct {
	pthread_mutex_t lock;
	struct block *cur;         /* where records are handed out now */
} blocks = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* @size bytes for a record, and its block into *@blk. NULL when out of memory. */
static void *bump(size_t size, struct block **blk)
{
	void *p = NULL;

	size = (size + KS_ALIGN - 1) & ~(size_t)(KS_ALIGN - 1);
	pthread_mutex_lock(&blocks.lock);
	struct block *b = blocks.cur;
	if (!b || b->used + size > b->size) {
		size_t want = KS_HEADER + size > KS_BLOCK_BYTES ? KS_HEADER + size : KS_BLOCK_BYTES;
		void *m = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b && !b->live)
			munmap(b, b->size);
		blocks.cur = b = m == MAP_FAILED ? NULL : m;
		if (b)
			*b = (struct block){.size = want, .used = KS_HEADER};
	}
	if (b) {
		p = (char *)b + b->used;
		b->used += size;
		b->live++;
		*blk = b;
	}
	pthread_mutex_unlock(&blocks.lock);
	return p;
}

/* A record of @b is no longer alive. */
static void release(struct block *b)
{
	pthread_mutex_lock(&blocks.lock);
	if (--b->live == 0) {
		if (b == blocks.cur)
			b->used = KS_HEADER;   /* empty: handed out again from its start */
		else
			munmap(b, b->size);
	}
	pthread_mutex_unlock(&blocks.lock);
}

/* ---- statuses of any kind ---- */

static size_t status_size(enum crd_kind kind)
{
	switch (kind) {
	case CRD_KIND_HOST: return sizeof(struct crd_host_status);
	case CRD_KIND_VM: return sizeof(struct crd_vm_status);
	case CRD_KIND_MIGRATION: return sizeof(struct crd_migration_status);
	default: return 0;
	}
}

/* Frees what status *@st of @kind holds and zeroes it. Can't fail. */
static void status_clear(enum crd_kind kind, void *st)
{
	struct crd_object o = {.kind = kind};
	void *in = kind == CRD_KIND_HOST ? (void *)&o.u.host.status
		   : kind == CRD_KIND_VM ? (void *)&o.u.vm.status
		   : kind == CRD_KIND_MIGRATION ? (void *)&o.u.migration.status : NULL;

	if (!in)
		return;
	memcpy(in, st, status_size(kind));
	crd_object_free(&o);   /* only the status is set */
	memset(st, 0, status_size(kind));
}

/* ---- VM statuses: packed, their strings pooled ---- */

/* Calls @fn on every string of VM status @st, each of them even after a call failed (the
 * undoing calls must visit them all); returns false when a call did. */
static bool vm_strings(struct crd_vm_status *st, bool (*fn)(char **s))
{
	bool ok = fn(&st->host);

	ok = fn(&st->migration.name) && ok;
	ok = fn(&st->placement.reason) && ok;
	for (size_t i = 0; i < st->conditions.n; i++) {
		struct crd_condition *c = &st->conditions.items[i];
		ok = fn(&c->type) && ok;
		ok = fn(&c->reason) && ok;
		ok = fn(&c->message) && ok;
		ok = fn(&c->last_transition_time) && ok;
	}
	for (size_t i = 0; i < st->placement.rejected.n; i++) {
		ok = fn(&st->placement.rejected.items[i].key) && ok;
		ok = fn(&st->placement.rejected.items[i].value) && ok;
	}
	return ok;
}

/* An owned string becomes a reference to the pool's copy. */
static bool to_pool(char **s)
{
	char *p = *s ? sp_get(*s) : NULL;

	if (*s && !p)
		return false;
	free(*s);
	*s = p;
	return true;
}

/* A pool reference becomes an owned string. */
static bool from_pool(char **s)
{
	char *own = *s ? strdup(*s) : NULL;

	if (*s && !own)
		return false;
	sp_put(*s);
	*s = own;
	return true;
}

/* A pool reference goes. */
static bool unpool(char **s)
{
	sp_put(*s);
	*s = NULL;
	return true;
}

/* Owned or pooled (after a to_pool or from_pool that stopped half way): each its way. */
static bool let_go(char **s)
{
	if (sp_holds(*s))
		sp_put(*s);
	else
		free(*s);
	*s = NULL;
	return true;
}

/* A packed status (every string of it pooled) goes. */
static void packed_free(struct packed_vm *p)
{
	(void)vm_strings(&p->st, unpool);
	release(p->blk);
}

static void *keep_vm(struct crd_vm_status *st)
{
	size_t nc = st->conditions.n, nr = st->placement.rejected.n;
	size_t size = sizeof(struct packed_vm) + nc * sizeof(struct crd_condition) +
		      nr * sizeof(struct crd_kv);
	struct block *blk;
	struct packed_vm *p = bump(size, &blk);

	if (!p) {
		status_clear(CRD_KIND_VM, st);
		return NULL;
	}
	struct crd_condition *conds = (struct crd_condition *)(p + 1);
	struct crd_kv *rejected = (struct crd_kv *)(conds + nc);
	p->blk = blk;
	p->st = *st;
	p->st.conditions.items = nc ? memcpy(conds, st->conditions.items, nc * sizeof(*conds))
				    : NULL;
	p->st.placement.rejected.items =
		nr ? memcpy(rejected, st->placement.rejected.items, nr * sizeof(*rejected)) : NULL;
	free(st->conditions.items);
	free(st->placement.rejected.items);
	memset(st, 0, sizeof(*st));   /* its strings are the packed copy's now */
	if (!vm_strings(&p->st, to_pool)) {
		(void)vm_strings(&p->st, let_go);
		release(p->blk);
		return NULL;
	}
	return p;
}

/* A heap copy of @n items of @size from @from (NULL for none); false when out of memory. */
static bool dup_items(void **to, const void *from, size_t n, size_t size)
{
	*to = n ? malloc(n * size) : NULL;
	if (n && !*to)
		return false;
	if (n)
		memcpy(*to, from, n * size);
	return true;
}

static bool give_vm(struct packed_vm *p, struct crd_vm_status *status)
{
	struct crd_vm_status st = p->st;
	void *conds = NULL, *rejected = NULL;
	bool ok = dup_items(&conds, p->st.conditions.items, st.conditions.n,
			    sizeof(struct crd_condition)) &&
		  dup_items(&rejected, p->st.placement.rejected.items, st.placement.rejected.n,
			    sizeof(struct crd_kv));

	st.conditions.items = conds;
	st.placement.rejected.items = rejected;
	if (!ok) {
		free(conds);
		free(rejected);
		packed_free(p);
		return false;
	}
	/* The references move to @st, which makes them its own strings; the packed copy is
	 * only let go of. */
	ok = vm_strings(&st, from_pool);
	release(p->blk);
	if (!ok) {
		(void)vm_strings(&st, let_go);    /* owned or still pooled: each its way */
		status_clear(CRD_KIND_VM, &st);   /* then the arrays */
		return false;
	}
	status_clear(CRD_KIND_VM, status);
	*status = st;
	return true;
}

/* ---- any kind ---- */

void *ks_keep(enum crd_kind kind, void *status)
{
	size_t size = status_size(kind);

	if (kind == CRD_KIND_VM)
		return keep_vm(status);
	void *kept = size ? malloc(size) : NULL;
	if (!kept) {
		if (size)
			status_clear(kind, status);
		return NULL;
	}
	memcpy(kept, status, size);
	memset(status, 0, size);
	return kept;
}

bool ks_give(enum crd_kind kind, void *kept, void *status)
{
	if (kind == CRD_KIND_VM)
		return give_vm(kept, status);
	status_clear(kind, status);
	memcpy(status, kept, status_size(kind));
	free(kept);
	return true;
}

void ks_free(enum crd_kind kind, void *kept)
{
	if (!kept)
		return;
	if (kind == CRD_KIND_VM) {
		packed_free(kept);
		return;
	}
	status_clear(kind, kept);
	free(kept);
}
