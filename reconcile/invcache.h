/* invcache: one host's domains as last read, kept current by libvirt's events, so a pass
 * fetches and parses a domain's definition again only when it may have changed. Pure data
 * and rules: no libvirt calls, no clock (times are passed in), no locking (the owner locks:
 * marks come from libvirt's event thread, the entries belong to the observer). */
#ifndef DROVER_INVCACHE_H
#define DROVER_INVCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "reconcile/inventory.h"

#define INVC_WUR __attribute__((warn_unused_result))

/* A full read of the host at least this often, events or not: a change whose event was
 * missed without the connection dropping (a dropped one invalidates the cache at once)
 * is seen within this long. Above `drover run`'s 30 s resync, so periodic passes use the
 * cache. Definition events do arrive: `virsh event --all` on a lab host (libvirt 9.0's
 * QEMU driver) saw define, metadata edits and undefine (2026-12-06), and test_behind
 * sees them wake drover. (An earlier session saw none from a libvirtd started apart from
 * the lab; not reproduced.) */
#define INVC_RESYNC_S 300.0
/* More marks than this between two passes: reading everything again is cheaper than
 * tracking them (and the list stays bounded). */
#define INVC_MAX_MARKS 4096

/* What an event says may have changed about one domain, from least to most. */
enum invc_mark {
	INVC_NONE = 0,
	INVC_JOB = 1,          /* state or job only: the definition is unchanged */
	INVC_DEFINITION = 2,   /* the definition (and so also state and job) */
};

struct invc_marked {
	char uuid[37];
	enum invc_mark mark;
};

struct invc {
	/* Written on events, under the owner's lock. */
	unsigned epoch;              /* bumped by every invalidation */
	bool valid;                  /* the entries are a full read of this epoch, kept current */
	double synced_at;            /* monotonic seconds of the last full read */
	struct invc_marked *marks;
	size_t n_marks, cap_marks;
	/* The observer's: the domains of the last pass, packed (invpack) into one arena, and
	 * their records sorted by UUID. */
	unsigned char *arena;
	unsigned char **recs;
	size_t n_doms;
};

/* One pass over a host: what was decided at its start. */
struct invc_pass {
	unsigned epoch;
	bool full;                   /* read every definition; the cache is not used */
	struct invc_marked *marks;   /* the marks taken, sorted by UUID (the pass's own) */
	size_t n_marks;
};

/* An empty cache: the first pass is a full read. This function can't fail. */
void invc_init(struct invc *c);
/* Releases everything and zeroes @c; accepts NULL. */
void invc_free(struct invc *c);

/* What libvirt's lifecycle event @event with @detail (virDomainEventType and its detail
 * enum) may have changed. This function can't fail. */
enum invc_mark invc_lifecycle_mark(int event, int detail);

/* Everything may have changed unseen: a new connection, a lost one, events that could not
 * be registered. The next pass reads the host in full. This function can't fail. */
void invc_invalidate(struct invc *c);

/* Records that domain @uuid may have changed as @mark says (the strongest mark wins). Too
 * many marks, or no memory for one, invalidates the whole cache. This function can't fail. */
void invc_mark(struct invc *c, const char *uuid, enum invc_mark mark);

/* Starts a pass at monotonic time @now: takes the marks (events after this count for the
 * next pass) and decides whether it is a full read. This function can't fail. */
void invc_begin(struct invc *c, double now, struct invc_pass *p);

/* The mark of domain @uuid in pass @p. This function can't fail. */
enum invc_mark invc_pass_mark(const struct invc_pass *p, const char *uuid);

/* The domain @uuid as cached, when pass @p may use it: not a full read, no event said its
 * definition changed, and the last pass could read it (not definition_unknown). Decodes it
 * into @out, a copy of the caller's (for inv_domain_free). Returns 1 with @out filled, 0
 * when there is none to use, -1 when out of memory (@out zeroed both ways). The cache never
 * says whether a domain exists: the pass's own list does. */
int invc_cached(const struct invc *c, const struct invc_pass *p, const char *uuid,
		struct inv_domain *out) INVC_WUR;

/* Replaces the entries by packed copies of @h's domains (the observer's side, no lock needed).
 * Returns 0, or -1 when out of memory (then the cache is emptied and invalid). */
int invc_store(struct invc *c, const struct inv_host *h) INVC_WUR;

/* Ends pass @p at monotonic time @now (under the lock): the cache is valid when nothing
 * invalidated it meanwhile and the read succeeded (@ok). Releases @p. Can't fail. */
void invc_finish(struct invc *c, struct invc_pass *p, bool ok, double now);

#endif
