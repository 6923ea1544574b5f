/* storage: storage pools on live connections — the pool of a directory (one rule for
 * the pre-checks and the copies), the proof that two hosts share a directory, and the
 * free space a copy needs. */
#ifndef DROVER_STORAGE_H
#define DROVER_STORAGE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>


/* How long a proof that two hosts share a directory is trusted. */
#define STOR_PROOF_TTL_S 300.0

/* The active pool of @conn whose directory holds file @path (by the pool's target path,
 * as the planner's pre-check finds it), or NULL. The caller frees the pool. */
virStoragePoolPtr stor_pool_holding(virConnectPtr conn, const char *path) DROVER_WUR;

/* Whether two hosts see one directory (shared storage) or each its own at the same path. */
enum stor_sharing {
	STOR_UNKNOWN,    /* not found out (no pool, a probe that could not be made, ...) */
	STOR_SHARED,     /* a probe made through one host's pool was listed by the other's */
	STOR_SEPARATE,   /* it was not: the same path holds two different files */
};

/* What stor_prove_shared finds out, as one of the three answers; @why says what the
 * probe saw when the answer is not STOR_SHARED. Thread-safe. */
enum stor_sharing stor_sharing(virConnectPtr src, virConnectPtr dst, const char *src_name,
			       const char *dst_name, const char *path, char *why,
			       size_t why_size);

/* Proves that @dst (Host @dst_name) sees the same directory as @src (@src_name) where
 * @path lies: a uniquely named probe volume is created through @src's pool of that
 * directory and must be found through @dst's pool of it after a refresh, then deleted.
 * Two different directories that merely have the same path (two local disks) cannot
 * pass. A success is remembered per (source, target, directory) for STOR_PROOF_TTL_S.
 * Thread-safe. Returns 0 when proven, -1 with "storage: ..." in @why otherwise. */
int stor_prove_shared(virConnectPtr src, virConnectPtr dst, const char *src_name,
		      const char *dst_name, const char *path, char *why, size_t why_size) DROVER_WUR;

/* Forgets every remembered proof (tests). This function can't fail. */
void stor_proofs_forget(void);

/* The bytes a copy of @allocated bytes needs free in the target pool: the allocation
 * plus a margin (a tenth, at least STOR_MARGIN_MIN) for the copy's own metadata and for
 * what else lands there meanwhile. Pure. */
uint64_t stor_bytes_needed(uint64_t allocated);
#define STOR_MARGIN_MIN (64ULL << 20)

/* A disk a move copies: its path and allocated bytes on the source. */
struct stor_disk {
	const char *path;
	uint64_t bytes;
};

/* Checks that @dst (Host @dst_name) has, in the pool of each disk's directory, room for
 * the copies of @disks[0..n) that land there (stor_bytes_needed of their sum). Returns 0,
 * or -1 with "storage: ..." in @why (no pool, or too little free). */
int stor_check_room(virConnectPtr dst, const char *dst_name, const struct stor_disk *disks,
		    size_t n, char *why, size_t why_size) DROVER_WUR;

/* Deletes the volume at @path on @conn. A path no pool lists is looked up again after a
 * refresh of the pool of its directory: a list that missed a file (a pool not refreshed
 * since a restart, a file made behind libvirt's back) must not pass for a file that is
 * gone. Returns 0 when the file is gone (deleted, or listed nowhere after the refresh),
 * -1 when that could not be shown (no answer, no active pool for the directory, a
 * refused delete). */
int stor_delete_volume(virConnectPtr conn, const char *path) DROVER_WUR;

/* The allocated bytes of the volume at @path on @conn, or 0 when it is in no pool. Can't
 * fail. */
uint64_t stor_allocation(virConnectPtr conn, const char *path);

#endif
