/* quiet: when a pass of `drover run --dir` may only observe (rec_quiet_pass). The last full
 * pass planned nothing new (it left a quiet key), wrote no VM or Migration record, removed
 * nothing and acted on the manifests; and the files a load reads are as they were. An idle
 * pass then neither parses every manifest nor takes every status back nor plans every VM,
 * which was nearly all of its cost. The files are compared by their stamps (treestamp),
 * not by inotify's word, which misses changes made over NFS. */
#ifndef DROVER_QUIET_H
#define DROVER_QUIET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/dir/statedir.h"
#include "controller/loop/reconciler.h"

/* A full pass at least this often, even when every pass between could be quiet: the same
 * bound as observe's full read of every host. */
#define QUIET_MAX_S 300

struct quiet {
	bool valid;
	uint64_t key;                    /* the full pass's (rec_result.quiet_key) */
	struct crd_set hosts;            /* its Hosts, whose status a quiet pass writes */
	size_t vms;                      /* its VMs, for the log */
	uint64_t manifests, overrides;   /* treestamps taken before its set was loaded */
	double since;                    /* monotonic: when it began */
	unsigned long written;           /* VM and Migration records written before it */
	int failures;                    /* the sink's failed writes before it */
};

/* Whether this pass may be quiet, over the manifests at @dir and the overrides at @odir:
 * the last full pass allowed it, was not too long ago, nothing told of a change to the
 * files (@files_changed) and their stamps are as they were. Can't fail. */
bool quiet_allowed(const struct quiet *q, const char *dir, const char *odir, bool files_changed);

/* A full pass begins: forgets the last one's key (its Hosts' statuses kept by @r's sink for
 * the load), and notes the files' stamps, before they are read, and what @ds wrote so far.
 * Can't fail: a stamp that cannot be taken is 0, and no pass after this one is quiet. */
void quiet_begin(struct quiet *q, struct rec *r, const char *dir, const char *odir,
		 const struct state_sink *ds);

/* The full pass ended, with @res, on a set of @vms VMs that rec_pass_keep handed back into
 * @set (@kept) or took. Keeps its Hosts and key when it handed the set back, wrote no VM
 * or Migration record, every write of @ds landed and the caller says it is @clean (nothing
 * removed behind it, the manifests valid); then lets go of the rest of @set. Can't fail. */
void quiet_end(struct quiet *q, struct rec *r, struct crd_set *set, bool kept, bool clean,
	       const struct rec_result *res, size_t vms, const struct state_sink *ds);

/* Frees what @q holds, at exit. Can't fail. */
void quiet_free(struct quiet *q);

#endif
