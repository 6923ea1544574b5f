/* coldmove: move a VM that is (or is made) shut off, and the power operations that
 * need waiting. */
#include "reconcile/coldmove.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "reconcile/clk.h"
#include "reconcile/domxml.h"
#include "reconcile/fault.h"
#include "reconcile/inventory.h"
#include "reconcile/storage.h"
#include "reconcile/vmres.h"
#include "reconcile/why.h"

#define COLD_MAX_DISKS 64
#define COLD_CHUNK (256 * 1024)
/* Bytes of a disk's file one pair of streams carries. libvirt's client keeps what a
 * download stream brings until it is read, without limit (its event loop reads the socket
 * whether or not drover reads the stream): with one stream for a whole disk, a target
 * slower to write than the source is to read made drover hold up to the whole disk in
 * memory. A range at a time bounds that. */
#define COLD_RANGE (32ull << 20)
/* A started domain must still run this long later to count as started. */
#define COLD_VERIFY_S 1.0

static bool is_shut_off(virDomainPtr dom)
{
	return virDomainIsActive(dom) == 0;
}

int cold_stop(virDomainPtr dom, double timeout_s)
{
	double deadline = clk_mono() + timeout_s;

	if (is_shut_off(dom))
		return 0;
	virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN);
	virResetLastError();
	fault_point("stop.requested");
	while (clk_mono() < deadline) {
		if (is_shut_off(dom))
			return 0;
		clk_sleep(0.2);
	}
	/* The guest ignored the request (or has no ACPI): power it off. */
	if (virDomainDestroy(dom) < 0 && !is_shut_off(dom))
		return -1;
	return 0;
}

int cold_start_verified(virDomainPtr dom, char *why, size_t why_size)
{
	int state = 0, reason = 0;

	if (virDomainIsActive(dom) != 1 && virDomainCreate(dom) < 0)
		return why_fail(why, why_size, "start: %s", virGetLastErrorMessage());
	fault_point("start.started");
	clk_sleep(COLD_VERIFY_S);
	if (virDomainGetState(dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_RUNNING)
		return why_fail(why, why_size, "started, but not running a moment later (state %d)",
			    state);
	return 0;
}

/* ---- disks ---- */

struct disk_copy {
	char *path;
	virStorageVolPtr src_vol;
	virStorageVolPtr dst_vol;   /* created on the target; NULL until then */
	unsigned long long bytes;       /* allocated bytes: what the copy moves */
};

/* Where a copy is and what it reports to. */
struct copy_run {
	cold_progress_fn progress;
	void *opaque;
	unsigned long long *done, total;
	char *buf;                      /* COLD_CHUNK bytes */
};

/* Copies @length bytes of @d's file from @offset (0: to its end) over two streams,
 * keeping holes as holes. */
static int copy_range(virConnectPtr src, virConnectPtr dst, struct disk_copy *d,
		      unsigned long long offset, unsigned long long length, struct copy_run *run,
		      char *why, size_t why_size)
{
	virStreamPtr in = virStreamNew(src, 0), out = virStreamNew(dst, 0);
	char *buf = run->buf;
	int ret = -1;

	if (!in || !out)
		goto cleanup;
	if (virStorageVolDownload(d->src_vol, in, offset, length,
				  VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM) < 0 ||
	    virStorageVolUpload(d->dst_vol, out, offset, length,
				VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) < 0) {
		why_fail(why, why_size, "copy %s: %s", d->path, virGetLastErrorMessage());
		goto cleanup;
	}
	for (;;) {
		int got = virStreamRecvFlags(in, buf, COLD_CHUNK, VIR_STREAM_RECV_STOP_AT_HOLE);
		if (got == 0)
			break;
		if (got == -3) {
			long long hole = 0;
			/* A hole moves no data: @total counts allocated bytes only. */
			if (virStreamRecvHole(in, &hole, 0) < 0 || virStreamSendHole(out, hole, 0) < 0)
				goto stream_error;
			continue;
		}
		if (got < 0)
			goto stream_error;
		for (int sent = 0; sent < got;) {
			int n = virStreamSend(out, buf + sent, (size_t)(got - sent));
			if (n < 0)
				goto stream_error;
			sent += n;
		}
		*run->done += (unsigned long long)got;
		if (run->progress)
			run->progress(run->opaque, *run->done, run->total);
	}
	if (virStreamFinish(in) < 0 || virStreamFinish(out) < 0)
		goto stream_error;
	ret = 0;
	goto cleanup;
stream_error:
	why_fail(why, why_size, "copy %s: %s", d->path, virGetLastErrorMessage());
	virStreamAbort(in);
	virStreamAbort(out);
cleanup:
	if (ret < 0 && why && !why[0])
		why_fail(why, why_size, "copy %s: out of memory", d->path);
	if (in)
		virStreamFree(in);
	if (out)
		virStreamFree(out);
	return ret;
}

/* Copies @d's file, COLD_RANGE bytes at a time (its size as the source's pool reports
 * it; when it cannot say, in one go). */
static int stream_copy(virConnectPtr src, virConnectPtr dst, struct disk_copy *d,
		       cold_progress_fn progress, void *opaque, unsigned long long *done,
		       unsigned long long total, char *why, size_t why_size)
{
	struct copy_run run = {progress, opaque, done, total, malloc(COLD_CHUNK)};
	virStorageVolInfo info;
	unsigned long long size = 0;
	int ret = 0;

	if (!run.buf)
		return why_fail(why, why_size, "copy %s: out of memory", d->path);
	if (virStorageVolGetInfoFlags(d->src_vol, &info, VIR_STORAGE_VOL_GET_PHYSICAL) == 0)
		size = info.allocation;   /* with the flag: the file's size */
	virResetLastError();
	if (!size)
		ret = copy_range(src, dst, d, 0, 0, &run, why, why_size);
	for (unsigned long long at = 0; at < size && ret == 0; at += COLD_RANGE)
		ret = copy_range(src, dst, d, at, size - at < COLD_RANGE ? size - at : COLD_RANGE,
				 &run, why, why_size);
	free(run.buf);
	return ret;
}

/* True when a domain defined on @conn has a disk at @path (or when it cannot tell). */
static bool volume_in_use(virConnectPtr conn, const char *path)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);
	bool used = n < 0;

	for (int i = 0; i < n; i++) {
		char *xml = used ? NULL : virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE);
		struct vmres res;
		char why[128];
		if (xml && vmres_from_xml(xml, strlen(xml), &res, why, sizeof(why)) == VMRES_OK) {
			for (size_t k = 0; k < res.n_disks; k++)
				used = used || !strcmp(res.disks[k], path);
			vmres_free(&res);
		}
		free(xml);
		virDomainFree(doms[i]);
	}
	free(doms);
	virResetLastError();
	return used;
}

/* Creates on the target a volume like @d's source (same name, capacity and format)
 * in the pool holding the same directory. */
static int create_target_volume(virConnectPtr dst, struct disk_copy *d, char *why,
				size_t why_size)
{
	char *xml = virStorageVolGetXMLDesc(d->src_vol, 0);
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr existing;
	int ret = -1;

	if (!xml)
		return why_fail(why, why_size, "read volume %s: %s", d->path, virGetLastErrorMessage());
	existing = virStorageVolLookupByPath(dst, d->path);
	if (existing && volume_in_use(dst, d->path)) {
		virStorageVolFree(existing);
		why_fail(why, why_size, "the target already has a volume at %s, used by a domain there",
		     d->path);
		goto cleanup;
	}
	if (existing) {
		/* No domain there uses it: what an earlier copy cut short by a crash left. */
		int gone = virStorageVolDelete(existing, 0);
		virStorageVolFree(existing);
		if (gone < 0) {
			why_fail(why, why_size, "remove the leftover volume %s on the target: %s", d->path,
			     virGetLastErrorMessage());
			goto cleanup;
		}
	}
	virResetLastError();
	/* The target's pool for the same directory, by the rule the pre-check used: pools
	 * of the same directory may have different names on different hosts. */
	pool = stor_pool_holding(dst, d->path);
	if (!pool) {
		why_fail(why, why_size, "no active storage pool on the target holds %s", d->path);
		goto cleanup;
	}
	d->dst_vol = virStorageVolCreateXML(pool, xml, 0);
	if (!d->dst_vol) {
		why_fail(why, why_size, "create %s on the target: %s", d->path, virGetLastErrorMessage());
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (pool)
		virStoragePoolFree(pool);
	free(xml);
	return ret;
}

static void disks_free(struct disk_copy *disks, size_t n, bool delete_targets)
{
	for (size_t i = 0; i < n; i++) {
		if (disks[i].dst_vol && delete_targets)
			virStorageVolDelete(disks[i].dst_vol, 0);
		if (disks[i].dst_vol)
			virStorageVolFree(disks[i].dst_vol);
		if (disks[i].src_vol)
			virStorageVolFree(disks[i].src_vol);
		free(disks[i].path);
	}
	virResetLastError();
}

/* Finds the source volumes of the domain's disks (disks outside any pool cannot be
 * copied and fail the move). Returns the count, or -1. */
static int find_disks(virConnectPtr src, const char *xml, struct disk_copy *disks, char *why,
		      size_t why_size)
{
	struct vmres parsed;
	char parse_why[128];
	int n = 0;

	if (vmres_from_xml(xml, strlen(xml), &parsed, parse_why, sizeof(parse_why)) != VMRES_OK)
		return why_fail(why, why_size, "cannot read the domain's disks: %s", parse_why);
	for (size_t i = 0; i < parsed.n_disks && n < COLD_MAX_DISKS; i++) {
		virStorageVolPtr vol = virStorageVolLookupByPath(src, parsed.disks[i]);
		if (!vol) {
			why_fail(why, why_size, "disk %s is in no storage pool on the source",
			     parsed.disks[i]);
			n = -1;
			break;
		}
		disks[n].src_vol = vol;
		disks[n].path = strdup(parsed.disks[i]);
		virStorageVolInfo info;
		if (virStorageVolGetInfo(vol, &info) == 0)
			disks[n].bytes = info.allocation;
		n++;
	}
	vmres_free(&parsed);
	virResetLastError();
	return n;
}

static int copy_disks(const struct cold_request *req, struct disk_copy *disks, int n,
		      char *why, size_t why_size)
{
	unsigned long long total = 0, done = 0;

	for (int i = 0; i < n; i++)
		total += disks[i].bytes;
	for (int i = 0; i < n; i++)
		if (create_target_volume(req->dst, &disks[i], why, why_size) < 0 ||
		    stream_copy(req->src, req->dst, &disks[i], req->progress, req->opaque, &done,
				total, why, why_size) < 0)
			return -1;
	return 0;
}

/* ---- the move ---- */

int cold_define_owned(virConnectPtr conn, const char *xml, const char *ns, const char *name,
		      bool start, char *why, size_t why_size)
{
	char *owned = domxml_set_owner(xml, ns, name);
	virDomainPtr dom = owned ? virDomainDefineXML(conn, owned) : NULL;
	int ret = -1;

	if (!dom) {
		why_fail(why, why_size, "define: %s", owned ? virGetLastErrorMessage() : "out of memory");
		goto cleanup;
	}
	fault_point("define.defined");
	if (start && cold_start_verified(dom, why, why_size) < 0) {
		/* Nothing half-made: a domain that cannot start is not left defined. */
		virDomainDestroy(dom);
		virDomainUndefine(dom);
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (dom)
		virDomainFree(dom);
	free(owned);
	return ret;
}

int cold_move(const struct cold_request *req, char *why, size_t why_size)
{
	struct disk_copy disks[COLD_MAX_DISKS];
	virDomainPtr dom = virDomainLookupByName(req->src, req->domain);
	char *xml = NULL;
	bool was_running, moved = false;
	int n_disks = 0, ret = -1;

	memset(disks, 0, sizeof(disks));
	if (why && why_size)
		why[0] = '\0';
	if (!dom)
		return why_fail(why, why_size, "%s not found on the source: %s", req->domain,
			    virGetLastErrorMessage());
	was_running = virDomainIsActive(dom) == 1;
	xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_MIGRATABLE);
	if (!xml) {
		why_fail(why, why_size, "read definition: %s", virGetLastErrorMessage());
		goto cleanup;
	}
	if (req->copy_disks && (n_disks = find_disks(req->src, xml, disks, why, why_size)) < 0)
		goto cleanup;
	if (cold_stop(dom, req->stop_timeout_s) < 0) {
		why_fail(why, why_size, "could not stop %s on the source", req->domain);
		goto cleanup;
	}
	fault_point("cold.stopped");
	if (copy_disks(req, disks, n_disks, why, why_size) < 0)
		goto cleanup;
	fault_point("cold.copied");
	if (cold_define_owned(req->dst, xml, req->owner_ns, req->owner_name, req->start, why,
			      why_size) < 0)
		goto cleanup;
	fault_point("cold.target-ready");
	moved = true;
	/* The target is verified: only now does the source let go. Where it cannot (it
	 * stopped answering), the VM has still moved: what is left on the source (its
	 * definition, a local VM's disks) is for the planner to remove, as after a move that
	 * could not delete the source's copies (1); a failure would end the record and forget
	 * them. */
	if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM) < 0 &&
	    virDomainUndefine(dom) < 0) {
		why_fail(why, why_size, "moved, but the source definition could not be removed: %s",
		     virGetLastErrorMessage());
		ret = 1;
		goto cleanup;
	}
	fault_point("cold.source-undefined");
	int kept = 0;
	for (int i = 0; i < n_disks; i++)
		kept += virStorageVolDelete(disks[i].src_vol, 0) < 0;
	ret = 0;
	if (kept) {
		why_fail(why, why_size, "moved, but %d of its disk copies on the source could not "
			 "be deleted: %s", kept, virGetLastErrorMessage());
		ret = 1;
	}
cleanup:
	disks_free(disks, (size_t)n_disks, !moved);
	if (!moved && was_running && virDomainIsActive(dom) == 0)
		virDomainCreate(dom); /* roll back: the VM runs where it ran */
	virResetLastError();
	free(xml);
	virDomainFree(dom);
	return ret;
}
