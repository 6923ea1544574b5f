/* execute: carry out one planned action on the hosts, with libvirt. */
#include "reconcile/execute.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "crd/domain.h"
#include "reconcile/clk.h"
#include "reconcile/coldmove.h"
#include "reconcile/domxml.h"
#include "reconcile/fault.h"
#include "reconcile/inflight.h"
#include "reconcile/predict.h"
#include "reconcile/storage.h"
#include "reconcile/tune_apply.h"
#include "reconcile/vmres.h"
#include "reconcile/why.h"

bool exec_is_move(enum plan_kind k)
{
	return k == PLAN_MIGRATE_LIVE || k == PLAN_MIGRATE_LIVE_COPY || k == PLAN_MIGRATE_COLD ||
	       k == PLAN_WATCH_MIGRATION;
}

static const char *vm_name(const struct plan_action *a)
{
	return a->vm->meta.name;
}

/* Marks a domain found without drover's metadata (an adopted one) as drover's, so
 * later runs recognise it. Best effort: a failure only delays the adoption. The persistent
 * definition is what observe reads the owner from (and what outlives the guest), so that is
 * where it is looked for: a running guest's live copy may still carry an owner its
 * definition lost (a `virsh define` without it). */
static void ensure_owner(virDomainPtr dom, const struct crd_vm *vm)
{
	bool persistent = virDomainIsPersistent(dom) == 1;
	char *meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, INV_METADATA_URI,
					  persistent ? VIR_DOMAIN_AFFECT_CONFIG
						     : VIR_DOMAIN_AFFECT_CURRENT);
	char element[600];

	if (meta) {
		free(meta);
		return;
	}
	snprintf(element, sizeof(element), "<vm namespace='%s' name='%s'/>", vm->meta.namespace,
		 vm->meta.name);
	unsigned flags = persistent ? VIR_DOMAIN_AFFECT_CONFIG : 0;
	if (virDomainIsActive(dom) == 1)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, element, INV_METADATA_KEY,
			     INV_METADATA_URI, flags);
	virResetLastError();
}

static int do_define(const struct plan_action *a, virConnectPtr dst, bool start, char *why,
		     size_t why_size)
{
	char *xml = crd_vm_domain_xml(a->vm);
	int ret = xml ? cold_define_owned(dst, xml, a->vm->meta.namespace, vm_name(a), start, why,
					  why_size)
		      : why_fail(why, why_size, "cannot build the domain XML of %s", vm_name(a));
	free(xml);
	return ret;
}

/* Looks the VM's domain up on @conn. Returns it (the caller frees it), or NULL with @why. */
static virDomainPtr lookup(virConnectPtr conn, const struct plan_action *a, const char *host,
			   char *why, size_t why_size)
{
	virDomainPtr dom = conn ? virDomainLookupByName(conn, vm_name(a)) : NULL;
	if (!dom)
		why_fail(why, why_size, "%s not found on %s: %s", vm_name(a), host,
		     conn ? virGetLastErrorMessage() : "not connected");
	else
		ensure_owner(dom, a->vm);
	return dom;
}

static int do_power(const struct exec_ctx *ctx, const struct plan_action *a,
		    virConnectPtr conn, char *why, size_t why_size)
{
	virDomainPtr dom = lookup(conn, a, a->dst, why, why_size);
	int ret = -1;

	if (!dom)
		return -1;
	if (a->kind == PLAN_START)
		ret = cold_start_verified(dom, why, why_size);
	else if ((ret = cold_stop(dom, ctx->stop_timeout_s)) < 0)
		why_fail(why, why_size, "stop on %s: %s", a->dst, virGetLastErrorMessage());
	else if (a->kind == PLAN_RESTART)
		ret = cold_start_verified(dom, why, why_size);
	virDomainFree(dom);
	return ret;
}

/* PLAN_TUNE: spec.tuning set on the VM's domain on dst. */
static int do_tune(const struct plan_action *a, virConnectPtr conn, char *why, size_t why_size)
{
	virDomainPtr dom = lookup(conn, a, a->dst, why, why_size);
	char refused[512];
	int ret = -1;

	if (!dom)
		return -1;
	if (tune_apply(dom, &a->vm->spec.tuning, refused, sizeof(refused)) == 0)
		ret = 0;
	else
		why_fail(why, why_size, "tuning on %s: %s", a->dst, refused);
	virDomainFree(dom);
	return ret;
}

/* PLAN_REDEFINE: the spec's domain XML becomes @a's persistent definition on dst, with the
 * domain's UUID and drover's metadata; the tuning, which the new XML does not carry, is
 * set again. A running guest goes on as it was until it restarts. */
static int do_redefine(const struct plan_action *a, virConnectPtr conn, char *why,
		       size_t why_size)
{
	virDomainPtr dom = lookup(conn, a, a->dst, why, why_size), def = NULL;
	char uuid[VIR_UUID_STRING_BUFLEN], refused[512];
	char *spec = NULL, *with_uuid = NULL, *xml = NULL;
	int ret = -1;

	if (!dom)
		return -1;
	if (virDomainGetUUIDString(dom, uuid) < 0 || !(spec = crd_vm_domain_xml(a->vm)) ||
	    !(with_uuid = domxml_set_uuid(spec, uuid)) ||
	    !(xml = domxml_set_owner(with_uuid, a->vm->meta.namespace, vm_name(a)))) {
		why_fail(why, why_size, "cannot build the domain XML of %s", vm_name(a));
		goto cleanup;
	}
	if (!(def = virDomainDefineXML(conn, xml))) {
		why_fail(why, why_size, "redefine on %s: %s", a->dst, virGetLastErrorMessage());
		goto cleanup;
	}
	ret = 0;
	if (crd_tuning_any(&a->vm->spec.tuning) &&
	    tune_apply(def, &a->vm->spec.tuning, refused, sizeof(refused)) < 0)
		ret = why_fail(why, why_size, "redefined on %s; tuning: %s", a->dst, refused);
cleanup:
	free(spec);
	free(with_uuid);
	free(xml);
	if (def)
		virDomainFree(def);
	virDomainFree(dom);
	return ret;
}

/* Stops @dom when it runs (graceful, destroyed after @timeout_s) and undefines it. Its
 * disks stay: deletion never deletes storage. Returns 0, or -1 with @why. */
static int stop_and_undefine(virDomainPtr dom, double timeout_s, const char *host, char *why,
			     size_t why_size)
{
	if (virDomainIsActive(dom) == 1 && cold_stop(dom, timeout_s) < 0)
		return why_fail(why, why_size, "stop on %s: %s", host, virGetLastErrorMessage());
	if (virDomainUndefine(dom) < 0)
		return why_fail(why, why_size, "undefine on %s: %s", host, virGetLastErrorMessage());
	return 0;
}

/* PLAN_DELETE and PLAN_DISOWN: the object is being deleted. A domain gone already is what
 * was wanted. The lookup is by name and ownership is checked again: only drover's own
 * domain of this VM is stopped or disowned. */
static int do_delete(const struct exec_ctx *ctx, const struct plan_action *a, virConnectPtr conn,
		     char *why, size_t why_size)
{
	virDomainPtr dom = conn ? virDomainLookupByName(conn, vm_name(a)) : NULL;
	char *meta = NULL;
	int ret = -1;

	if (!dom) {
		bool gone = conn && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN;
		virResetLastError();
		return gone ? 0 : why_fail(why, why_size, "%s is not connected", a->dst);
	}
	meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, INV_METADATA_URI,
				    VIR_DOMAIN_AFFECT_CURRENT);
	virResetLastError();
	if (!meta) {
		ret = why_fail(why, why_size, "%s on %s has no drover metadata: left alone", vm_name(a),
			   a->dst);
	} else if (a->kind == PLAN_DELETE) {
		ret = stop_and_undefine(dom, ctx->stop_timeout_s, a->dst, why, why_size);
	} else {
		unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
		if (virDomainIsActive(dom) == 1)
			flags |= VIR_DOMAIN_AFFECT_LIVE;
		ret = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, NULL, NULL,
					   INV_METADATA_URI, flags) == 0 ? 0
			: why_fail(why, why_size, "remove drover's metadata on %s: %s", a->dst,
			       virGetLastErrorMessage());
	}
	free(meta);
	virDomainFree(dom);
	return ret;
}

int exec_prune(const struct exec_ctx *ctx, virConnectPtr conn, const struct plan_orphan *o,
	       char *why, size_t why_size)
{
	virDomainPtr dom = conn ? virDomainLookupByName(conn, o->name) : NULL;
	char *meta = NULL, *ns = NULL, *name = NULL;
	int ret = -1;

	why[0] = '\0';
	if (!dom) {
		bool gone = conn && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN;
		virResetLastError();
		return gone ? 0 : why_fail(why, why_size, "%s is not connected", o->host);
	}
	/* Checked again just before: still drover's, for the same VM, with no job on it. */
	meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, INV_METADATA_URI,
				    VIR_DOMAIN_AFFECT_CURRENT);
	ns = meta ? domxml_xpath_string(meta, "string(/*/@namespace)") : NULL;
	name = meta ? domxml_xpath_string(meta, "string(/*/@name)") : NULL;
	virDomainJobInfo job;
	bool busy = virDomainIsActive(dom) == 1 && virDomainGetJobInfo(dom, &job) == 0 &&
		    job.type != VIR_DOMAIN_JOB_NONE;
	virResetLastError();
	if (!ns || !name || strcmp(ns, o->owner_namespace) || strcmp(name, o->owner_name) || busy)
		ret = why_fail(why, why_size, "%s on %s changed since it was planned: left alone",
			   o->name, o->host);
	else
		ret = stop_and_undefine(dom, ctx->stop_timeout_s, o->host, why, why_size);
	free(meta);
	free(ns);
	free(name);
	virDomainFree(dom);
	return ret;
}

/* Deletes the volumes at @res's disk paths on @conn (Host @host), each only once a probe
 * has shown that @vm_conn (Host @vm_host, where the VM is) has a directory of its own there:
 * with storage declared local but in fact shared, the file would be the VM's own disk.
 * Used after a live move that copied local disks, for the source's stale copies (deleted as
 * a cold move does, so they neither fill the pool nor collide with a move back; only once
 * libvirt has confirmed the target took over), and after a move cut short, for the
 * target's partial copies. Returns 0, or -1 with @why when a copy could not be shown to be
 * the host's own (a host not answering, say): it may still be there. */
static int delete_copies(virConnectPtr conn, const char *host, virConnectPtr vm_conn,
			 const char *vm_host, const struct vmres *res, char *why, size_t why_size)
{
	char probe_why[512];
	int ret = 0;

	if (res->n_disks && (!conn || !vm_conn))
		ret = -1;
	for (size_t i = 0; ret == 0 && i < res->n_disks; i++) {
		enum stor_sharing sh = stor_sharing(conn, vm_conn, host, vm_host, res->disks[i],
						    probe_why, sizeof(probe_why));
		if (sh == STOR_UNKNOWN)
			ret = -1;   /* asked again later: the copy may still be there */
		if (sh != STOR_SEPARATE)
			continue;
		if (stor_delete_volume(conn, res->disks[i]) < 0)
			ret = -1;   /* may still be there: asked again later */
	}
	virResetLastError();
	if (ret < 0)
		why_fail(why, why_size, "%s does not answer for its copies of %s (whether they are "
			 "its own, or that they are gone); left for now", host,
			 res->n_disks ? res->disks[0] : "-");
	return ret;
}

/* Finishing a cut-short move of a local-storage VM (the action carries its Migration): the
 * stale copy's disks are the source's pre-move copies, which the move would have deleted.
 * They are read from the stale definition @dom, or from the spec when it is gone. A stale
 * copy on a fenced host keeps its disks: they may be all that is left of the guest. */
static void stale_disks(const struct plan_action *a, virDomainPtr dom, struct vmres *res)
{
	char why[128];
	char *xml = NULL;
	enum vmres_rc rc;

	if (!a->migration || a->vm->spec.storage != CRD_STORAGE_LOCAL)
		return;
	if (dom)
		rc = (xml = virDomainGetXMLDesc(dom, 0))
			? vmres_from_xml(xml, strlen(xml), res, why, sizeof(why)) : VMRES_INVALID;
	else
		rc = vmres_from_vm(a->vm, res, why, sizeof(why));
	if (rc != VMRES_OK)
		vmres_free(res);
	free(xml);
	virResetLastError();
}

/* The source of a move whose end libvirt could not confirm, still paused by the migration
 * with no job left, while the target runs the guest (the planner saw it so): its QEMU holds
 * a state the target has moved past, so it is stopped. Checked again here, just before:
 * anything else (running, paused for another reason, a job again) is left alone.
 * Returns 0 when it was stopped. */
static int stop_paused_out(const struct plan_action *a, virDomainPtr dom)
{
	int state = 0, reason = 0;
	virDomainJobInfo job;

	if (!a->migration || virDomainGetState(dom, &state, &reason, 0) < 0 ||
	    state != VIR_DOMAIN_PAUSED || reason != VIR_DOMAIN_PAUSED_MIGRATION ||
	    virDomainGetJobInfo(dom, &job) < 0 || job.type != VIR_DOMAIN_JOB_NONE) {
		virResetLastError();
		return -1;
	}
	return virDomainDestroy(dom);
}

/* Whether @a cleans up after a move that was cut short before it landed: the copies it
 * deletes are on the move's target, the VM stayed on its source. */
static bool cleans_target(const struct plan_action *a)
{
	const char *target = a->migration ? a->migration->status.target_host : NULL;
	return target && a->dst && !strcmp(target, a->dst);
}

/* Before deleting what a cut-short move left on its target: the VM is still the source's —
 * defined there, in no job, neither paused nor shut off by a migration that went out.
 * Checked before the target is looked at, so no migration can land there in between (only
 * drover starts one, and not for a VM it is cleaning up after). Returns 0 when so, else -1
 * with @why. */
static int stayed_on_source(const struct plan_action *a, virConnectPtr src, char *why,
			    size_t why_size)
{
	virDomainPtr dom = src ? virDomainLookupByName(src, vm_name(a)) : NULL;
	int state = 0, reason = 0;
	virDomainJobInfo job = {.type = VIR_DOMAIN_JOB_NONE};
	bool known = dom && virDomainGetState(dom, &state, &reason, 0) == 0;
	/* Only an active domain has a job (an outgoing migration among them). */
	if (known && state != VIR_DOMAIN_SHUTOFF)
		known = virDomainGetJobInfo(dom, &job) == 0;
	bool stayed = known && job.type == VIR_DOMAIN_JOB_NONE &&
		      !(state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_MIGRATION) &&
		      !(state == VIR_DOMAIN_SHUTOFF && reason == VIR_DOMAIN_SHUTOFF_MIGRATED);

	if (dom)
		virDomainFree(dom);
	virResetLastError();
	if (stayed)
		return 0;
	return why_fail(why, why_size, "%s is not settled on %s (migrating, or gone); the copies "
			"on %s are left alone", vm_name(a), a->src ? a->src : "its source", a->dst);
}

/* What a move cut short before it landed left on its target — copies of the VM's local
 * disks (a partial mirror, or a cold copy never defined there) — goes, while the VM stays
 * on its source; only when no domain of the VM's name is on the target. */
static int drop_partial_copies(const struct plan_action *a, const struct exec_conns *c,
			       const struct vmres *disks, char *why, size_t why_size)
{
	if (stayed_on_source(a, c->src, why, why_size) < 0)
		return -1;
	virDomainPtr dom = c->dst ? virDomainLookupByName(c->dst, vm_name(a)) : NULL;
	bool none = !dom && c->dst && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN;
	if (dom)
		virDomainFree(dom);
	virResetLastError();
	if (!none)
		return why_fail(why, why_size, "%s has a domain on %s (or %s cannot be asked); the "
				"copies of its disks there are left alone", vm_name(a), a->dst,
				a->dst);
	return delete_copies(c->dst, a->dst, c->src, a->src, disks, why, why_size);
}

static int do_undefine_stale(const struct plan_action *a, const struct exec_conns *c,
			     char *why, size_t why_size)
{
	struct vmres disks = {0};
	int ret = -1;

	fault_point("stale.deleting");
	if (cleans_target(a)) {
		stale_disks(a, NULL, &disks);
		ret = drop_partial_copies(a, c, &disks, why, why_size);
		vmres_free(&disks);
		return ret;
	}
	virConnectPtr conn = c->dst;
	virDomainPtr dom = lookup(conn, a, a->dst, why, why_size);

	/* Gone already (libvirt's own end of a move removed it): what was wanted. */
	if (!dom && conn && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
		virResetLastError();
		why[0] = '\0';
		stale_disks(a, NULL, &disks);
		ret = 0;
		goto done;
	}

	/* Only an inactive copy is ever removed: a running one is never touched. */
	if (dom && (virDomainIsActive(dom) == 0 || stop_paused_out(a, dom) == 0)) {
		stale_disks(a, dom, &disks);
		ret = virDomainUndefine(dom) == 0 ? 0
			: why_fail(why, why_size, "undefine on %s: %s", a->dst, virGetLastErrorMessage());
	} else if (dom) {
		why_fail(why, why_size, "%s on %s is running again; left alone", vm_name(a), a->dst);
	}
done:
	if (ret == 0)
		ret = delete_copies(conn, a->dst, c->src, a->src, &disks, why, why_size);
	vmres_free(&disks);
	if (dom)
		virDomainFree(dom);
	return ret;
}

/* ---- moves ---- */

struct move_ctx {
	const struct exec_ctx *ctx;
	const struct plan_action *a;
	struct exec_move *move;
};

static void report(struct move_ctx *mc)
{
	if (mc->ctx->on_move)
		mc->ctx->on_move(mc->ctx->opaque, mc->a, mc->move);
}

static void on_live_progress(void *opaque, const struct crd_mig_progress *p,
			     enum crd_mig_run_mode mode, const char *note)
{
	struct move_ctx *mc = opaque;
	(void)note;
	mc->move->progress = *p;
	mc->move->mode = mode;
	report(mc);
}

static void on_cold_progress(void *opaque, unsigned long long done, unsigned long long total)
{
	struct move_ctx *mc = opaque;
	mc->move->progress.data_processed_bytes = done;
	mc->move->progress.data_total_bytes = total;
	mc->move->progress.data_remaining_bytes = total > done ? total - done : 0;
	mc->move->progress.percent = mig_percent(done, total);
	report(mc);
}

/* The pre-check the pure planner cannot make: can the target host run the guest's
 * CPU as defined (virConnectCompareHypervisorCPU, as Nova does)? A domain without a
 * <cpu> element uses the hypervisor's default model and passes. A hypervisor that
 * cannot compare (an error, not a verdict) does not block the move.
 * Returns 0 when compatible, -1 with @why otherwise. */
static int check_cpu(virConnectPtr src, virConnectPtr dst, const char *name, const char *target,
		     char *why, size_t why_size)
{
	virDomainPtr dom = virDomainLookupByName(src, name);
	char *xml = dom ? virDomainGetXMLDesc(dom, 0) : NULL;
	char *cpu = xml ? domxml_xpath_element(xml, "/domain/cpu[model]") : NULL;
	char *arch = xml ? domxml_xpath_string(xml, "string(/domain/os/type/@arch)") : NULL;
	char *machine = xml ? domxml_xpath_string(xml, "string(/domain/os/type/@machine)") : NULL;
	char *virt = xml ? domxml_xpath_string(xml, "string(/domain/@type)") : NULL;
	int ret = 0;

	if (cpu && virConnectCompareHypervisorCPU(dst, NULL, arch, machine, virt, cpu, 0) ==
			   VIR_CPU_COMPARE_INCOMPATIBLE)
		ret = why_fail(why, why_size, "PreCheckFailed: cpu: %s cannot run the CPU %s is defined with",
			   target, name);
	virResetLastError();
	free(cpu);
	free(arch);
	free(machine);
	free(virt);
	free(xml);
	if (dom)
		virDomainFree(dom);
	return ret;
}

/* The disk paths of @name as defined on @src (@flags: 0 for the running definition, which
 * a live move carries; VIR_DOMAIN_XML_INACTIVE for the one a cold move defines), into
 * @res. Returns 0, or -1 with @why. */
static int source_disks(virConnectPtr src, const char *name, unsigned flags, struct vmres *res,
			char *why, size_t why_size)
{
	virDomainPtr dom = virDomainLookupByName(src, name);
	char *xml = dom ? virDomainGetXMLDesc(dom, flags) : NULL;
	char parse_why[128];
	int ret = 0;

	if (!xml)
		ret = why_fail(why, why_size, "read the definition of %s: %s", name,
			   virGetLastErrorMessage());
	else if (vmres_from_xml(xml, strlen(xml), res, parse_why, sizeof(parse_why)) != VMRES_OK)
		ret = why_fail(why, why_size, "read the disks of %s: %s", name, parse_why);
	free(xml);
	if (dom)
		virDomainFree(dom);
	virResetLastError();
	return ret;
}

/* The storage pre-checks the planner cannot make, just before a move, with nothing changed
 * yet: disks treated as shared must be proven shared (safety rule 7: the same path on the
 * target may be another file); disks to be copied need room in the target's pool. Sets
 * *@copy_bytes to the bytes a copy moves. Returns 0, or -1 with "PreCheckFailed: ..." in
 * @why. */
static int check_storage(const struct plan_action *a, const struct exec_conns *c, bool copy,
			 unsigned xml_flags, uint64_t *copy_bytes, char *why, size_t why_size)
{
	struct vmres res = {0};
	struct stor_disk *disks = NULL;
	char detail[400];
	int ret = -1;

	*copy_bytes = 0;
	if (source_disks(c->src, vm_name(a), xml_flags, &res, detail, sizeof(detail)) < 0)
		goto cleanup;
	if (!copy) {
		for (size_t i = 0; i < res.n_disks; i++)
			if (stor_prove_shared(c->src, c->dst, a->src, a->dst, res.disks[i], detail,
					      sizeof(detail)) < 0)
				goto cleanup;
		ret = 0;
		goto cleanup;
	}
	/* Declared local, the disks are copied: a directory both hosts in fact share would
	 * be copied onto itself, and the cold copy replaces the target's file first. */
	for (size_t i = 0; i < res.n_disks; i++) {
		enum stor_sharing sh = stor_sharing(c->src, c->dst, a->src, a->dst, res.disks[i],
						    detail, sizeof(detail));
		if (sh == STOR_SHARED)
			snprintf(detail, sizeof(detail), "storage: %s and %s share the directory of %s: "
				 "%s is declared storage: local, so its disk would be copied onto "
				 "itself; declare storage: shared", a->src, a->dst, res.disks[i],
				 vm_name(a));
		if (sh != STOR_SEPARATE)
			goto cleanup;
	}
	if (res.n_disks && !(disks = calloc(res.n_disks, sizeof(*disks)))) {
		snprintf(detail, sizeof(detail), "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < res.n_disks; i++) {
		disks[i] = (struct stor_disk){res.disks[i], stor_allocation(c->src, res.disks[i])};
		*copy_bytes += disks[i].bytes;
	}
	ret = stor_check_room(c->dst, a->dst, disks, res.n_disks, detail, sizeof(detail));
cleanup:
	if (ret < 0)
		why_fail(why, why_size, "PreCheckFailed: %s", detail);
	free(disks);
	vmres_free(&res);
	return ret;
}

/* A live move: one drover starts, or (WATCH_MIGRATION) the one an earlier drover left
 * running, taken over. Returns 0 when the VM runs on the target, 1 when the migration did
 * not converge, -1 when it failed, -2 when its outcome is unknown (the record stays
 * Running), with @why set on failure. */
static int do_live(struct move_ctx *mc, const struct exec_conns *c, char *why, size_t why_size)
{
	const struct plan_action *a = mc->a;
	bool taken_over = a->kind == PLAN_WATCH_MIGRATION;
	/* Taken over: drover copied the disks exactly when they are local. */
	bool copy = a->kind == PLAN_MIGRATE_LIVE_COPY ||
		    (taken_over && a->vm->spec.storage == CRD_STORAGE_LOCAL);
	uint64_t disk_bytes = 0;
	/* Knobs from the VM's policy and its Migration, each valid alone, may still clash. */
	const char *conflict = taken_over ? NULL : crd_knobs_conflict(&a->knobs, copy);
	if (conflict) {
		mc->move->phase = CRD_MIG_FAILED;
		return why_fail(why, why_size, "PreCheckFailed: transport: %s", conflict);
	}
	if (!taken_over && (check_cpu(c->src, c->dst, vm_name(a), a->dst, why, why_size) < 0 ||
			    check_storage(a, c, copy, 0, &disk_bytes, why, why_size) < 0)) {
		mc->move->phase = CRD_MIG_FAILED;
		return -1;
	}
	if (!taken_over)
		fault_point("live.prechecked");
	struct vmres res = {0};
	char res_why[256];
	struct mig_result out;

	if (vmres_from_vm(a->vm, &res, res_why, sizeof(res_why)) != VMRES_OK)
		res.memory = 0;
	for (size_t i = 0; taken_over && copy && i < res.n_disks; i++)
		disk_bytes += stor_allocation(c->src, res.disks[i]);
	/* A prediction before every move drover starts, counting the moves beside it; without
	 * a measure the move goes on unpredicted. */
	struct inflight_move self;
	inflight_enter(&self, a->src, a->dst);
	struct pred_move mv = {.src = c->src, .name = vm_name(a), .dst = a->dst,
			       .memory_bytes = res.memory, .disk_bytes = disk_bytes,
			       .k = &a->knobs, .set = mc->ctx->desired, .self = &self};
	char pred_why[256];
	if (!taken_over &&
	    pred_estimate(&mv, &mc->move->prediction, pred_why, sizeof(pred_why)) == 0)
		report(mc);
	/* A Migration cancelled while no drover ran is aborted as soon as it is taken over. */
	struct mig_cancel cancel = {.parent = mc->ctx->cancel};
	cancel.requested = taken_over && a->migration && a->migration->spec.cancel;
	struct mig_request req = {
		.src = c->src,
		.dst = c->dst,
		.dst_uri = c->dst_host->spec.uri,
		.dst_address = c->dst_host->spec.migration_address,
		.domain = vm_name(a),
		.copy_storage = copy,
		/* Shared storage is declared by the VM and was proven just above (the target
		 * found a probe file made through the source); libvirt can only recognise
		 * NFS-like file systems by their type, so it is told the migration is safe. */
		.shared_unsafe = a->kind == PLAN_MIGRATE_LIVE,
		.memory_bytes = res.memory,
		/* The copied disks' allocation: the deadline grows with what is copied. */
		.disk_bytes = disk_bytes,
		.knobs = a->knobs,
		.hurry = mc->move->prediction.set && !mc->move->prediction.converges,
		.dirty_bps = mc->move->prediction.dirty_rate_bps,
		.progress = on_live_progress,
		.opaque = mc,
		.cancel = &cancel,
	};
	mc->move->mode = CRD_RUN_PRECOPY;
	int rc = taken_over ? mig_watch(&req, clk_seconds_since(mc->move->start_time), &out)
			    : mig_live(&req, &out);
	inflight_leave(&self);
	if (rc == 0)
		fault_point("live.done");
	bool lost = rc < 0 && virConnectIsAlive(c->src) != 1;
	char left_why[256] = "";
	bool left_behind = false;
	if (rc == 0 && req.copy_storage)
		left_behind = delete_copies(c->src, a->src, c->dst, a->dst, &res, left_why,
					    sizeof(left_why)) < 0;
	else if (copy && !lost && out.outcome != MIG_UNSETTLED)
		left_behind = drop_partial_copies(a, c, &res, left_why, sizeof(left_why)) < 0;
	vmres_free(&res);
	mc->move->progress = out.progress;
	mc->move->mode = out.final_mode;
	mc->move->downtime_ms = out.downtime_ms;
	mc->move->statistics = out.statistics;
	snprintf(mc->move->note, sizeof(mc->move->note), "%s", out.reason);
	if (lost || out.outcome == MIG_UNSETTLED) {
		/* The source's libvirtd went away mid-move (QEMU may still finish it), or a job
		 * taken over ended without showing where the VM runs. Nobody knows the outcome
		 * yet, so the record stays Running; the next pass settles it from what the hosts
		 * show (moved, rolled back, or still in flight). */
		why_fail(why, why_size, "live migration %s → %s: outcome unknown%s (%s); the next "
		     "pass settles it", a->src, a->dst, lost ? ", lost the source" : "",
		     out.reason);
		snprintf(mc->move->note, sizeof(mc->move->note), "%s", why);
		mc->move->phase = CRD_MIG_RUNNING;
		virResetLastError();
		return -2;
	}
	if (left_behind) {
		/* Copies it left could not be removed now: on the target after a failure (its
		 * power was cut under it, say), on the source after a success (the target stopped
		 * answering whether the two share the disks). The record stays Running, and the
		 * planner ends it, deleting those copies, once both hosts are seen again. Ended
		 * here, nobody would come back for them. */
		const char *left_on = rc == 0 ? a->src : a->dst;
		why_fail(why, why_size, "live migration %s → %s: %s; its copies on %s go once it "
			 "can be asked (%s)", a->src, a->dst, rc == 0 ? "moved" : out.reason,
			 left_on, left_why);
		snprintf(mc->move->note, sizeof(mc->move->note), "%s", why);
		mc->move->phase = CRD_MIG_RUNNING;
		return -2;
	}
	if (rc < 0) {
		why_fail(why, why_size, "live migration %s → %s: %s", a->src, a->dst, out.reason);
		mc->move->phase = out.outcome == MIG_CANCELLED ? CRD_MIG_CANCELLED : CRD_MIG_FAILED;
	}
	return rc == 0 ? 0 : out.outcome == MIG_TIMED_OUT ? 1 : -1;
}

static int do_cold(struct move_ctx *mc, const struct exec_conns *c, char *why, size_t why_size)
{
	const struct plan_action *a = mc->a;
	bool copy = a->vm->spec.storage == CRD_STORAGE_LOCAL;
	uint64_t disk_bytes = 0;
	/* Before the VM is stopped: shared disks proven, room for copied ones. */
	if (check_storage(a, c, copy, VIR_DOMAIN_XML_INACTIVE, &disk_bytes, why, why_size) < 0)
		return -1;
	struct cold_request req = {
		.src = c->src,
		.dst = c->dst,
		.domain = vm_name(a),
		.owner_ns = a->vm->meta.namespace,
		.owner_name = vm_name(a),
		.copy_disks = copy,
		.start = a->vm->spec.running,
		.stop_timeout_s = mc->ctx->stop_timeout_s,
		.progress = on_cold_progress,
		.opaque = mc,
	};
	mc->move->mode = CRD_RUN_COLD;
	report(mc);
	int rc = cold_move(&req, why, why_size);
	if (rc == 1) {
		/* Moved, but copies stayed on the source: as after a live move, the record stays
		 * Running, and the planner deletes them and then ends it. */
		snprintf(mc->move->note, sizeof(mc->move->note), "%s; they go once it can be asked",
			 why);
		mc->move->phase = CRD_MIG_RUNNING;
		return -2;
	}
	return rc;
}

static int do_move(const struct exec_ctx *ctx, const struct plan_action *a,
		   const struct exec_conns *c, struct exec_move *move, char *why, size_t why_size)
{
	struct move_ctx mc = {.ctx = ctx, .a = a, .move = move};
	int rc;

	memset(move, 0, sizeof(*move));
	move->downtime_ms = -1;
	move->phase = CRD_MIG_RUNNING;
	snprintf(move->source, sizeof(move->source), "%s", a->src);
	snprintf(move->target, sizeof(move->target), "%s", a->dst);
	/* A move taken over started when its record says. */
	const char *began = a->kind == PLAN_WATCH_MIGRATION && a->migration
			    ? a->migration->status.start_time : NULL;
	if (began && *began)
		snprintf(move->start_time, sizeof(move->start_time), "%s", began);
	else
		clk_rfc3339(move->start_time, sizeof(move->start_time));
	report(&mc);
	if (a->kind == PLAN_MIGRATE_COLD) {
		rc = do_cold(&mc, c, why, why_size);
	} else {
		rc = do_live(&mc, c, why, why_size);
		/* Mode Auto: a live migration that could not converge falls back to cold — one
		 * that drover starts; one taken over ends where it stands, its record with it. */
		bool automatic = !a->migration || a->migration->spec.mode == CRD_MODE_AUTO;
		if (rc == 1 && automatic && a->vm->spec.eviction != CRD_EVICT_LIVE_MIGRATE &&
		    a->kind != PLAN_WATCH_MIGRATION) {
			size_t len = strlen(move->note);
			snprintf(move->note + len, sizeof(move->note) - len,
				 "; live did not converge, moved cold");
			move->phase = CRD_MIG_RUNNING;
			rc = do_cold(&mc, c, why, why_size);
		}
	}
	if (rc == -2) /* outcome unknown: the record stays Running, without an end */
		return -1;
	move->phase = rc == 0 ? CRD_MIG_SUCCEEDED
		      : move->phase == CRD_MIG_CANCELLED ? CRD_MIG_CANCELLED : CRD_MIG_FAILED;
	if (rc != 0 && move->phase == CRD_MIG_FAILED)
		snprintf(move->note, sizeof(move->note), "%s", why);
	clk_rfc3339(move->end_time, sizeof(move->end_time));
	report(&mc);
	return rc == 0 ? 0 : -1;
}

int exec_action(const struct exec_ctx *ctx, const struct plan_action *a,
		const struct exec_conns *c, struct exec_move *move, char *why, size_t why_size)
{
	why[0] = '\0';
	switch (a->kind) {
	case PLAN_DEFINE:
	case PLAN_DEFINE_START:
		if (!c->dst)
			return why_fail(why, why_size, "%s is not connected", a->dst);
		return do_define(a, c->dst, a->kind == PLAN_DEFINE_START, why, why_size);
	case PLAN_START:
	case PLAN_STOP:
	case PLAN_RESTART:
		return do_power(ctx, a, c->dst, why, why_size);
	case PLAN_UNDEFINE_STALE:
		return do_undefine_stale(a, c, why, why_size);
	case PLAN_TUNE:
		return do_tune(a, c->dst, why, why_size);
	case PLAN_REDEFINE:
		return do_redefine(a, c->dst, why, why_size);
	case PLAN_DELETE:
	case PLAN_DISOWN:
		return do_delete(ctx, a, c->dst, why, why_size);
	case PLAN_MIGRATE_LIVE:
	case PLAN_MIGRATE_LIVE_COPY:
	case PLAN_MIGRATE_COLD:
	case PLAN_WATCH_MIGRATION:
		if (!c->src || !c->dst || !c->dst_host)
			return why_fail(why, why_size, "%s or %s is not connected", a->src, a->dst);
		return do_move(ctx, a, c, move, why, why_size);
	case PLAN_NONE:
		/* Converged; an adopted domain gets drover's metadata here. */
		if (c->dst) {
			virDomainPtr dom = virDomainLookupByName(c->dst, vm_name(a));
			if (dom) {
				ensure_owner(dom, a->vm);
				virDomainFree(dom);
			}
			virResetLastError();
		}
		return 0;
	case PLAN_FINISH_MIGRATION:
	case PLAN_BLOCKED:
	case PLAN_WAIT:
		return 0;
	}
	return why_fail(why, why_size, "unknown action");
}
