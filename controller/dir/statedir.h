/* statedir: the status of every object in directory mode, one JSON file per object
 * under --state-dir, each written atomically. Manifests are never written. */
#ifndef DROVER_STATEDIR_H
#define DROVER_STATEDIR_H

#include "crd/compiler.h"

#include <jansson.h>

#include "controller/loop/reconciler.h"
#include "crd/error.h"
#include "crd/types.h"

#define STATE_DEFAULT_DIR "/var/lib/drover"

/* Writes the whole object, status included, to DIR/KIND/NAMESPACE/NAME.json through a
 * temporary file, fsync and rename, so a reader (or a crash) never sees half a file.
 * Returns 0, or -1 with errno set. */
/* Takes the lock of state dir @dir (creating it) for a process that acts on the hosts
 * (apply, run): two at once would both take over, escalate or abort the same migration job.
 * Returns the lock's descriptor, held until state_unlock or the process ends, or -1 with
 * @why ("another drover ... is working with DIR" when it is taken). */
int state_lock(const char *dir, char *why, size_t size) DROVER_WUR;

/* Releases a lock from state_lock; accepts -1. This function can't fail. */
void state_unlock(int fd);

/* The status record of @h, @vm, @m: written (atomically) unless it holds that already;
 * the object notes which write of its record it is (crd_meta.record_token). Return 0, or
 * -1 with errno set. */
int state_write_host(const char *dir, struct crd_host *h) DROVER_WUR;
/* How many records of @kind this process has written: a write that found the file already
 * holding the text is not counted. Can't fail. */
unsigned long state_written(enum crd_kind kind);

int state_write_vm(const char *dir, struct crd_vm *vm) DROVER_WUR;
int state_write_migration(const char *dir, struct crd_migration *m) DROVER_WUR;

/* Writes @obj (consumed, also on failure) as indented JSON to @path through a temporary
 * file, fsync and rename, creating the directories above @path when missing; a file that
 * already holds exactly that is left alone. Returns 0, or -1 with errno set (then @path is
 * as it was). */
int state_write_json(const char *path, json_t *obj) DROVER_WUR;

/* Gives every object of @set the status recorded for it in @dir, if any (objects
 * without a record keep theirs). A record that cannot be read is reported in @errs
 * as a note and ignored: status is observed again anyway. This function can't fail. */
void state_load_status(const char *dir, struct crd_set *set, struct crd_errors *errs);

/* Reads every record in @dir into @out (zeroed or holding objects). Returns 0, or -1
 * when the directory cannot be read, with @errs appended. */
int state_read_all(const char *dir, struct crd_set *out, struct crd_errors *errs) DROVER_WUR;

/* Adds to @set every Migration recorded in @dir as Running (a move drover decided itself,
 * or a user's whose manifest is gone, cut short by a crash or restart), whose VM @set
 * declares and that @set does not hold already, marked undeclared — so the planner settles
 * it: takes over its job still in flight, or records how it ended. A Pending record is not
 * added: it never started, and nothing declares it any more. Balance moves started within
 * PLAN_BALANCE_HOLD_S are added as well, ended or not: the planner's balance history; and
 * live moves that succeeded within PRED_HISTORY_S with their statistics: the prediction's
 * (pred_fixed_ms). Unreadable records are notes in @errs. Returns the number added. This
 * function can't fail. */
size_t state_add_unfinished(const char *dir, struct crd_set *set, struct crd_errors *errs);

/* Reads the record of Migration @ns/@name into @out (zeroed; the caller frees it with
 * crd_migration_free). Returns 1 when read, 0 when there is no record yet, -1 when it
 * cannot be read or does not decode (with why in @errs). */
int state_read_migration(const char *dir, const char *ns, const char *name,
			 struct crd_migration *out, struct crd_errors *errs) DROVER_WUR;

/* Removes the record of Migration @ns/@name (kept records are pruned this way).
 * Returns 0, or -1 with errno set. */
int state_remove_migration(const char *dir, const char *ns, const char *name);

/* The status record of orphan @o's VM: phase Orphaned on its host, or removed when @gone
 * (pruned). A VM without a record gets none. Returns 0, or -1 with errno. */
int state_mark_orphan(const char *dir, const struct plan_orphan *o, bool gone) DROVER_WUR;

/* Removes the records of finished Migrations (Succeeded, Failed, Cancelled) beyond the
 * @keep newest (by endTime) of each VM. Every Migration of @set is spared: a user's
 * Migration still in the manifests keeps its record, or it would run again. Returns
 * the number of records removed, or -1 when the state dir cannot be read. */
int state_prune_migrations(const char *dir, const struct crd_set *set, size_t keep);

/* Directory mode's status sink for the reconciler: every status it reports is
 * written under @s->dir. A write that fails is reported once on stderr. */
struct state_sink {
	const char *dir;
	int failures;
};
struct rec_sink state_sink(struct state_sink *s);

#endif
