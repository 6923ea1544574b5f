/* overrides: operator overrides of Host specs in directory mode (`drover drain`), kept in
 * the state dir because drover never writes into the manifests, and applied to the loaded
 * set: a Host's effective drain is its manifest's drain OR its override. */
#ifndef DROVER_OVERRIDES_H
#define DROVER_OVERRIDES_H

#include <stddef.h>

#include "crd/error.h"
#include "crd/types.h"

#define OVR_WUR __attribute__((warn_unused_result))
#define OVR_PATH_MAX 4096
#define OVR_MAX_RECORDS 10000     /* records read per pass; more are ignored with a note */
#define OVR_RECORD_MAX 4096       /* bytes of one record */

/* Writes the path of the override of Host @ns/@name, DIR/overrides/hosts/NS/NAME.json, into
 * @buf. Returns 0, or -1 with errno EINVAL when @ns or @name is not a DNS label (so a name
 * never leaves its folder) or ENAMETOOLONG when it does not fit. */
int ovr_host_path(const char *state_dir, const char *ns, const char *name, char *buf,
		  size_t size) OVR_WUR;

/* Drains Host @ns/@name: writes {"drain": true} to its override record atomically (a
 * reader or a crash never sees half a record). Returns 1 when written, 0 when the record
 * already said so (nothing written), -1 with errno set. */
int ovr_drain(const char *state_dir, const char *ns, const char *name) OVR_WUR;

/* Undrains Host @ns/@name: removes its override record. A drain written in the manifest
 * stays: drover does not write manifests. Returns 1 when a record was removed, 0 when there
 * was none (not an error), -1 with errno set. */
int ovr_undrain(const char *state_dir, const char *ns, const char *name) OVR_WUR;

/* Applies every override record under @state_dir to the Hosts of @set. A record for a Host
 * that is not in @set, or one that cannot be read or is not {"drain": BOOL}, is reported in
 * @errs as a note and ignored. Returns the number of records applied. This function can't
 * fail: a missing or unreadable overrides folder means no overrides. */
size_t ovr_apply(const char *state_dir, struct crd_set *set, struct crd_errors *errs);

/* ovr_apply for `drover run`: the notes become warn log lines. Returns the number of
 * records applied. This function can't fail. */
size_t ovr_apply_logged(const char *state_dir, struct crd_set *set);

/* Writes DIR/overrides, the folder `drover run` watches, into @buf and creates it (and the
 * hosts folder in it) when missing. Returns 0, or -1 with errno set. */
int ovr_watch_dir(const char *state_dir, char *buf, size_t size) OVR_WUR;

#endif
