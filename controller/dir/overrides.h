/* overrides: what an operator asks of directory mode through the CLI, kept in the state dir
 * because drover never writes into the manifests: Host drain overrides (`drover drain`),
 * applied to the loaded set — a Host's effective drain is its manifest's drain OR its
 * override — and Migration requests (`drover migrate`), loaded with the manifests. */
#ifndef DROVER_OVERRIDES_H
#define DROVER_OVERRIDES_H

#include "crd/compiler.h"

#include <stddef.h>

#include <jansson.h>

#include "crd/error.h"
#include "crd/types.h"

#define OVR_PATH_MAX 4096
#define OVR_MAX_RECORDS 10000     /* records read per pass; more are ignored with a note */
#define OVR_RECORD_MAX 4096       /* bytes of one record */

/* Writes the path of the override of Host @ns/@name, DIR/overrides/hosts/NS/NAME.json, into
 * @buf. Returns 0, or -1 with errno EINVAL when @ns or @name is not a DNS label (so a name
 * never leaves its folder) or ENAMETOOLONG when it does not fit. */
int ovr_host_path(const char *state_dir, const char *ns, const char *name, char *buf,
		  size_t size) DROVER_WUR;

/* Drains Host @ns/@name: writes {"drain": true} to its override record atomically (a
 * reader or a crash never sees half a record). Returns 1 when written, 0 when the record
 * already said so (nothing written), -1 with errno set. */
int ovr_drain(const char *state_dir, const char *ns, const char *name) DROVER_WUR;

/* Undrains Host @ns/@name: removes its override record. A drain written in the manifest
 * stays: drover does not write manifests. Returns 1 when a record was removed, 0 when there
 * was none (not an error), -1 with errno set. */
int ovr_undrain(const char *state_dir, const char *ns, const char *name) DROVER_WUR;

/* Applies every override record under @state_dir to the Hosts of @set. A record for a Host
 * that is not in @set, or one that cannot be read or is not {"drain": BOOL}, is reported in
 * @errs as a note and ignored. Returns the number of records applied. This function can't
 * fail: a missing or unreadable overrides folder means no overrides. */
size_t ovr_apply(const char *state_dir, struct crd_set *set, struct crd_errors *errs);

/* Writes DIR/overrides, the folder `drover run` watches, into @buf and creates it (and the
 * hosts folder in it) when missing. Returns 0, or -1 with errno set. */
int ovr_watch_dir(const char *state_dir, char *buf, size_t size) DROVER_WUR;

/* ---- Migration requests ---- */

/* Writes DIR/overrides/migrations, where `drover migrate` leaves Migration objects (one JSON
 * file each, DIR/overrides/migrations/NS/NAME.json), into @buf. Returns 0, or -1 with errno
 * ENAMETOOLONG. */
int ovr_migrations_dir(const char *state_dir, char *buf, size_t size) DROVER_WUR;

/* Writes Migration object @obj (consumed, also on failure) named @ns/@name as a request,
 * atomically. Returns 0, or -1 with errno set: EEXIST when a request of that name exists,
 * EINVAL when @ns or @name is not a DNS label. */
int ovr_request_migration(const char *state_dir, const char *ns, const char *name,
			  json_t *obj) DROVER_WUR;

/* Removes the request of every Migration of @set that has finished (Succeeded, Failed,
 * Cancelled): its record stays in the state dir, kept and pruned like any other. Returns
 * the number of requests removed. This function can't fail. */
size_t ovr_forget_finished(const char *state_dir, const struct crd_set *set);

/* ---- restart requests (`drover restart VM`) ---- */

/* Asks for a restart of VM @ns/@name: DIR/overrides/restarts/NS/NAME.json, written
 * atomically. Returns 0, or -1 with errno set (EINVAL for a name that is not a DNS label). */
int ovr_request_restart(const char *state_dir, const char *ns, const char *name) DROVER_WUR;

/* Removes the restart request of VM @ns/@name, done as the restart begins: a crash after
 * it leaves the VM restarted or stopped (then started as running: true says), never
 * restarted twice. Returns 0 (also when there was none), or -1 with errno set. */
int ovr_take_restart(const char *state_dir, const char *ns, const char *name) DROVER_WUR;

/* ---- fence records (`drover fence HOST`) ---- */

/* Records a fence an operator ran by hand on Host @ns/@name: @f (its status.fencing) in
 * DIR/overrides/fences/NS/NAME.json, written atomically. Every load gives it to the Host's
 * status.fencing while it is newer than the one recorded there, so a controller that writes
 * the Host's status at the same moment cannot lose it. Returns 0, or -1 with errno set
 * (EINVAL for a name that is not a DNS label or a record without a time). */
int ovr_record_fence(const char *state_dir, const char *ns, const char *name,
		     const struct crd_fence_status *f) DROVER_WUR;

/* Removes the fence record of every Host of @set whose status.fencing holds it already (as
 * new or newer): that status has been written. Returns the number of records removed.
 * This function can't fail. */
size_t ovr_forget_fences(const char *state_dir, const struct crd_set *set);

/* What ovr_load_desired adds beyond what is declared. */
enum ovr_load {
	OVR_DECLARED = 0,         /* only what is declared: to tell what was withdrawn */
	OVR_UNFINISHED,           /* also the Migrations recorded that never ended */
};

/* Loads what directory mode is asked to do: the manifests in @paths together with the
 * Migration requests (one set: names must be unique across both), the status recorded in
 * the state dir, with OVR_UNFINISHED the Migrations recorded there that never ended (a
 * crash cut them short: the planner settles them), the drain overrides, the fence
 * records newer than a Host's recorded status.fencing and the restart requests
 * (crd_vm.restart_requested). Problems go to @errs (overrides that do not apply as notes). Returns 0, or -1 when any manifest or request is invalid: then nothing may be
 * changed anywhere. */
int ovr_load_desired(const char *const *paths, size_t n, const char *state_dir,
		     enum ovr_load what, struct crd_set *set, struct crd_errors *errs) DROVER_WUR;

#endif
