/* lastvalid: the last manifest set that loaded without an error, kept in the state dir
 * (STATE/last-valid) so that directory mode goes on acting on it — failover above all —
 * while a typo makes the current manifests invalid, also across a restart of drover. */
#ifndef DROVER_LASTVALID_H
#define DROVER_LASTVALID_H

#include "crd/compiler.h"

#include <stddef.h>

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

#endif
