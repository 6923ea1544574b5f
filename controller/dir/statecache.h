/* statecache: what this process knows of its state dir's records, by path, so that an idle
 * pass neither writes nor reads them again: a digest of the JSON value whose text it last
 * wrote or found in each (a write that would change nothing is skipped, its text not even
 * made), and, between passes, the status its last writer or reader held (taken by the next
 * load while the file stays as it was, where reading and decoding every record was most
 * of an idle pass).
 *
 * A record's file is known by its identity (inode, size, modification time): anyone
 * else's write changes it, and the file is read again. Each write or read of a record
 * hands out a token, noted in the object written or read (crd_meta.record_token); a status
 * is kept only from the object whose token is the record's last, so a status a newer
 * write superseded (a move's job writing after the next pass loaded its VM) is never
 * kept. A status is kept from its pass's release to the next load; keptstatus says in
 * what form. */
#ifndef DROVER_STATECACHE_H
#define DROVER_STATECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "crd/types.h"

/* When @path is known to hold the text of a JSON value of digest @tree (crd_json_digest),
 * as written or found there, and its file is as it was then: counts as writing that text
 * again (a status kept for @path goes) and returns the write's token; else returns 0, and
 * the caller writes or compares the text. Can't fail. */
uint64_t sc_rewrote(const char *path, uint64_t tree);

/* @path holds the text of a JSON value of digest @tree now (written, or found there).
 * Returns the write's token, 0 when it could not be remembered (then nothing is kept of
 * it). A status kept for @path goes. */
uint64_t sc_wrote(const char *path, uint64_t tree);

/* @path, whose identity is @st, was read from disk. Returns the read's token, or 0. A
 * status kept for @path goes. */
uint64_t sc_read(const char *path, const struct stat *st);

/* When a status of @kind is kept for @path and the file's identity is still @st, swaps it
 * into *@status (what that held is freed) and returns its token; else returns 0. */
uint64_t sc_take(const char *path, const struct stat *st, enum crd_kind kind, void *status);

/* Keeps status *@status of @kind for @path when @token is the record's last write or read
 * and nothing is kept yet; *@status is then taken (left zeroed). Best effort: @status
 * belongs to an object about to be freed. Can't fail. */
void sc_keep(const char *path, enum crd_kind kind, void *status, uint64_t token);

/* @path was removed: nothing is known of it any more. Can't fail. */
void sc_forget(const char *path);

/* A load of every record ended: what it did not take (records of objects no longer
 * declared, of files gone) is not kept longer. Can't fail. */
void sc_load_done(void);

/* How many statuses are kept (tests). */
size_t sc_kept(void);

#endif
