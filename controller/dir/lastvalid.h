/* lastvalid: the last manifest set that loaded without an error, kept in the state dir
 * (STATE/last-valid) so that directory mode goes on acting on it — failover above all —
 * while a typo makes the current manifests invalid, also across a restart of drover. */
#ifndef DROVER_LASTVALID_H
#define DROVER_LASTVALID_H

#include "crd/compiler.h"

#include <stddef.h>

#include <jansson.h>

#include "crd/error.h"

#define LASTVALID_MAX_FILES 10000     /* manifest files copied at most */
#define LASTVALID_FILE_MAX (16u << 20) /* bytes of one manifest file at most */

/* Writes STATE/last-valid into @buf. Returns 0, or -1 when it does not fit. */
int lastvalid_dir(const char *state_dir, char *buf, size_t size) DROVER_WUR;

/* Copies the manifest files (*.yaml, *.yml, *.json, recursively, symlinks not followed)
 * of directory @src into STATE/last-valid, replacing the copy there as a whole: the new
 * copy is built beside it and renamed into place, so a crash leaves the old or the new
 * set, never half of one. Returns 0, or -1 with errno set (the old copy is then kept). */
int lastvalid_save(const char *src, const char *state_dir) DROVER_WUR;

/* Writes the directory of the saved set into @buf: STATE/last-valid, or the previous copy
 * when a crash came between the two renames of a save. Returns 0, or -1 when no set was
 * ever saved. */
int lastvalid_find(const char *state_dir, char *buf, size_t size) DROVER_WUR;

/* While the manifests are invalid, `run --dir` records so in STATE/manifests.json: since
 * when, the set it acts on instead, and the errors — what `drover status` shows. */
#define LASTVALID_NOTE_ERRORS 50          /* errors recorded at most; the rest are counted */
#define LASTVALID_NOTE_MAX (1u << 20)     /* bytes of the record read at most */

struct lastvalid_note {
	char *since;                    /* RFC 3339 */
	char *acting_on;                /* the last valid set's directory, or NULL: none (nothing
					 * is acted on) */
	struct crd_errors errs;         /* the errors, with file, line, column and field */
	size_t more;                    /* errors not recorded */
};

/* Records that the manifests are invalid since @since, with the errors of @errs (notes
 * left out), acting on @acting_on (NULL: nothing). Written atomically; the same record
 * again is not rewritten. Returns 0, or -1 with errno set. */
int lastvalid_note_invalid(const char *state_dir, const char *since, const char *acting_on,
			   const struct crd_errors *errs) DROVER_WUR;

/* The record @n as JSON: {"valid": false, "invalidSince", "actingOn", "errors": [{"file",
 * "line", "column", "field", "object", "message"}], "moreErrors"}, members without a value
 * left out. The caller decrefs it. Returns NULL when out of memory. */
json_t *lastvalid_note_to_json(const struct lastvalid_note *n) DROVER_WUR;

/* Removes the record: the manifests are valid. A missing record is fine. Returns 0, or -1
 * with errno set. */
int lastvalid_note_valid(const char *state_dir);

/* Reads the record into @out (zeroed; free it with lastvalid_note_free). Returns 1 when the
 * manifests are recorded invalid, 0 when there is no record, -1 when it cannot be read
 * (too big, not JSON, not a record: then @out is empty). */
int lastvalid_note_read(const char *state_dir, struct lastvalid_note *out) DROVER_WUR;

/* Frees what @n holds and zeroes it; accepts NULL. */
void lastvalid_note_free(struct lastvalid_note *n);

#endif
