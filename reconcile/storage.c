/* storage: storage pools on live connections — the pool of a directory, the proof that
 * two hosts share a directory, and the free space a copy needs. */
#include "reconcile/storage.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <libvirt/virterror.h>

#include "crd/quantity.h"
#include "reconcile/clk.h"
#include "reconcile/domxml.h"
#include "reconcile/inventory.h"
#include "reconcile/why.h"

#define STOR_PROOFS_MAX 128
#define STOR_KEY_MAX 640

virStoragePoolPtr stor_pool_holding(virConnectPtr conn, const char *path)
{
	virStoragePoolPtr *pools = NULL, found = NULL;
	int n = conn && path ? virConnectListAllStoragePools(conn, &pools,
							      VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
			     : -1;

	for (int i = 0; i < n; i++) {
		char *xml = found ? NULL : virStoragePoolGetXMLDesc(pools[i], 0);
		char *dir = xml ? domxml_xpath_string(xml, "/pool/target/path") : NULL;
		if (dir && inv_path_in_dir(path, dir))
			found = pools[i];
		else
			virStoragePoolFree(pools[i]);
		free(dir);
		free(xml);
	}
	free(pools);
	virResetLastError();
	return found;
}

/* ---- the proof ---- */

/* Proofs that held, with when they stop counting. Shared by the threads that run moves. */
static struct {
	pthread_mutex_t lock;
	struct {
		char key[STOR_KEY_MAX];
		double until;
	} at[STOR_PROOFS_MAX];
	size_t n;
} proofs = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The cache key of (source, target, directory of @path) in @key; false when too long. */
static bool proof_key(const char *src, const char *dst, const char *path, char *key, size_t size)
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) : 0;
	int n = snprintf(key, size, "%s\n%s\n%.*s", src, dst, dir_len, path);

	return n > 0 && (size_t)n < size;
}

static bool proof_known(const char *key)
{
	double now = clk_mono();
	bool known = false;

	pthread_mutex_lock(&proofs.lock);
	for (size_t i = 0; i < proofs.n && !known; i++)
		known = proofs.at[i].until > now && !strcmp(proofs.at[i].key, key);
	pthread_mutex_unlock(&proofs.lock);
	return known;
}

/* Remembers a proof, in place of its own older entry or of an expired one; with the table
 * full of live proofs it is not remembered (the next move proves again). */
static void proof_remember(const char *key)
{
	double now = clk_mono();
	size_t slot = STOR_PROOFS_MAX;

	pthread_mutex_lock(&proofs.lock);
	for (size_t i = 0; i < proofs.n && slot == STOR_PROOFS_MAX; i++)
		if (!strcmp(proofs.at[i].key, key) || proofs.at[i].until <= now)
			slot = i;
	if (slot == STOR_PROOFS_MAX && proofs.n < STOR_PROOFS_MAX)
		slot = proofs.n++;
	if (slot < STOR_PROOFS_MAX) {
		snprintf(proofs.at[slot].key, sizeof(proofs.at[slot].key), "%s", key);
		proofs.at[slot].until = now + STOR_PROOF_TTL_S;
	}
	pthread_mutex_unlock(&proofs.lock);
}

void stor_proofs_forget(void)
{
	pthread_mutex_lock(&proofs.lock);
	proofs.n = 0;
	pthread_mutex_unlock(&proofs.lock);
}

/* A probe volume name no other file has: "drover-probe-" and 128 random bits. Returns 0,
 * or -1 when the kernel gives no randomness. */
static int probe_name(char *name, size_t size)
{
	unsigned char bits[16];
	size_t len;

	if (getrandom(bits, sizeof(bits), 0) != (ssize_t)sizeof(bits))
		return -1;
	len = (size_t)snprintf(name, size, "drover-probe-");
	for (size_t i = 0; i < sizeof(bits) && len + 2 < size; i++)
		len += (size_t)snprintf(name + len, size - len, "%02x", bits[i]);
	return 0;
}

/* Whether @pool (on the target) lists volume @name after a refresh: STOR_UNKNOWN with
 * @why when the refresh fails. */
static enum stor_sharing target_sees(virStoragePoolPtr pool, const char *name, char *why,
				     size_t why_size)
{
	virStorageVolPtr vol;

	if (virStoragePoolRefresh(pool, 0) < 0) {
		why_fail(why, why_size, "refresh: %s", virGetLastErrorMessage());
		return STOR_UNKNOWN;
	}
	vol = virStorageVolLookupByName(pool, name);
	if (vol)
		virStorageVolFree(vol);
	return vol ? STOR_SHARED : STOR_SEPARATE;
}

enum stor_sharing stor_sharing(virConnectPtr src, virConnectPtr dst, const char *src_name,
			       const char *dst_name, const char *path, char *why,
			       size_t why_size)
{
	virStoragePoolPtr src_pool = NULL, dst_pool = NULL;
	virStorageVolPtr probe = NULL;
	char key[STOR_KEY_MAX], name[64], xml[256], seen_why[256] = "";
	enum stor_sharing ret = STOR_UNKNOWN;

	if (!proof_key(src_name, dst_name, path, key, sizeof(key))) {
		why_fail(why, why_size, "storage: path too long: %s", path);
		return STOR_UNKNOWN;
	}
	if (proof_known(key))
		return STOR_SHARED;
	if (!(src_pool = stor_pool_holding(src, path))) {
		why_fail(why, why_size, "storage: cannot tell whether %s sees the same %s: no active "
		     "storage pool on %s holds its directory", dst_name, path, src_name);
		goto cleanup;
	}
	if (!(dst_pool = stor_pool_holding(dst, path))) {
		why_fail(why, why_size, "storage: %s has no active storage pool for %s", dst_name, path);
		goto cleanup;
	}
	if (probe_name(name, sizeof(name)) < 0) {
		why_fail(why, why_size, "storage: no randomness for a probe volume");
		goto cleanup;
	}
	snprintf(xml, sizeof(xml), "<volume><name>%s</name><capacity unit='bytes'>0</capacity>"
		 "<target><format type='raw'/></target></volume>", name);
	if (!(probe = virStorageVolCreateXML(src_pool, xml, 0))) {
		why_fail(why, why_size, "storage: cannot tell whether %s sees the same %s: creating a "
		     "probe on %s failed: %s", dst_name, path, src_name, virGetLastErrorMessage());
		goto cleanup;
	}
	ret = target_sees(dst_pool, name, seen_why, sizeof(seen_why));
	if (ret == STOR_SHARED)
		proof_remember(key);
	else
		why_fail(why, why_size, "storage: %s does not see the file %s created next to %s: the "
		     "path is not shared storage between them%s%s", dst_name, src_name, path,
		     seen_why[0] ? "; " : "", seen_why);
cleanup:
	if (probe) {
		virStorageVolDelete(probe, 0);
		virStorageVolFree(probe);
		/* The target's pool listed the probe: its list forgets it now, not at the next
		 * refresh someone else makes. */
		if (dst_pool && ret == STOR_SHARED)
			virStoragePoolRefresh(dst_pool, 0);
	}
	if (src_pool)
		virStoragePoolFree(src_pool);
	if (dst_pool)
		virStoragePoolFree(dst_pool);
	virResetLastError();
	return ret;
}

int stor_prove_shared(virConnectPtr src, virConnectPtr dst, const char *src_name,
		      const char *dst_name, const char *path, char *why, size_t why_size)
{
	return stor_sharing(src, dst, src_name, dst_name, path, why, why_size) == STOR_SHARED ? 0
											      : -1;
}

/* ---- room for copies ---- */

uint64_t stor_bytes_needed(uint64_t allocated)
{
	uint64_t margin = allocated / 10;

	return allocated + (margin < STOR_MARGIN_MIN ? STOR_MARGIN_MIN : margin);
}

uint64_t stor_allocation(virConnectPtr conn, const char *path)
{
	virStorageVolPtr vol = virStorageVolLookupByPath(conn, path);
	virStorageVolInfo info;
	uint64_t bytes = 0;

	if (vol && virStorageVolGetInfo(vol, &info) == 0)
		bytes = info.allocation;
	if (vol)
		virStorageVolFree(vol);
	virResetLastError();
	return bytes;
}

/* The volume at @path on @conn after a refresh of its directory's pool; NULL with
 * *@gone true only when that pool does not list it either. */
static virStorageVolPtr volume_after_refresh(virConnectPtr conn, const char *path, bool *gone)
{
	virStoragePoolPtr pool = stor_pool_holding(conn, path);
	virStorageVolPtr vol = NULL;

	*gone = false;
	if (pool && virStoragePoolRefresh(pool, 0) == 0) {
		vol = virStorageVolLookupByPath(conn, path);
		*gone = !vol && virGetLastErrorCode() == VIR_ERR_NO_STORAGE_VOL;
	}
	if (pool)
		virStoragePoolFree(pool);
	return vol;
}

int stor_delete_volume(virConnectPtr conn, const char *path)
{
	virStorageVolPtr vol = virStorageVolLookupByPath(conn, path);
	bool gone = false;
	int ret = -1;

	/* Any other failure (the connection dropped, say) says nothing about the file. */
	if (!vol && virGetLastErrorCode() == VIR_ERR_NO_STORAGE_VOL)
		vol = volume_after_refresh(conn, path, &gone);
	if (vol) {
		ret = virStorageVolDelete(vol, 0);
		virStorageVolFree(vol);
	} else if (gone) {
		ret = 0;
	}
	virResetLastError();
	return ret < 0 ? -1 : 0;
}

/* The bytes of @disks that land in the directory of @disks[i] (inclusive of it). */
static uint64_t bytes_in_dir_of(const struct stor_disk *disks, size_t n, size_t i)
{
	const char *slash = strrchr(disks[i].path, '/');
	size_t dir_len = slash ? (size_t)(slash - disks[i].path) : 0;
	uint64_t sum = 0;

	for (size_t k = 0; k < n; k++) {
		const char *s = strrchr(disks[k].path, '/');
		if ((size_t)(s ? s - disks[k].path : 0) == dir_len &&
		    !strncmp(disks[k].path, disks[i].path, dir_len))
			sum += disks[k].bytes;
	}
	return sum;
}

int stor_check_room(virConnectPtr dst, const char *dst_name, const struct stor_disk *disks,
		    size_t n, char *why, size_t why_size)
{
	for (size_t i = 0; i < n; i++) {
		virStoragePoolPtr pool = stor_pool_holding(dst, disks[i].path);
		virStoragePoolInfo info;
		char have[32], need[32];
		uint64_t needed = stor_bytes_needed(bytes_in_dir_of(disks, n, i));
		if (!pool)
			return why_fail(why, why_size, "storage: %s has no active storage pool for %s",
				    dst_name, disks[i].path);
		int rc = virStoragePoolRefresh(pool, 0) == 0 ? virStoragePoolGetInfo(pool, &info) : -1;
		const char *pool_name = virStoragePoolGetName(pool);
		if (rc == 0 && info.available < needed) {
			crd_quantity_format(info.available, have, sizeof(have));
			crd_quantity_format(needed, need, sizeof(need));
			why_fail(why, why_size, "storage: pool %s on %s has %s free, the copy of %s needs %s",
			     pool_name ? pool_name : "?", dst_name, have, disks[i].path, need);
		}
		virStoragePoolFree(pool);
		virResetLastError();
		if (rc == 0 && info.available < needed)
			return -1;
	}
	return 0;
}
