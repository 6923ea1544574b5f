/* observe: build the inventory from libvirt — every host's resources and domains. */
#include "reconcile/observe.h"
#include "reconcile/observe_priv.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvirt/virterror.h>
#include <libxml/parser.h>

#include "reconcile/clk.h"
#include "reconcile/defdiff.h"
#include "reconcile/domxml.h"
#include "reconcile/invindex.h"
#include "reconcile/obs_capacity.h"
#include "reconcile/tune.h"
#include "reconcile/vmres.h"

#define OBS_CONNECT_TIMEOUT_S 10
/* A host that libvirt cannot reach gets this long to accept a TCP connection. */
#define OBS_PROBE_TIMEOUT_S 1.0
/* Hosts observed at once: each waits on its own daemon, so more threads than CPUs pay
 * off; bounded so a thousand hosts do not make a thousand threads. */
#define OBS_THREADS 16
/* Calls in flight per host while its domains are read (libvirtd serves 5 at once per
 * client by default), for hosts with at least OBS_SLICE_MIN domains. */
#define OBS_SLICES 4
#define OBS_SLICE_MIN 64

/* Records the failure of a libvirt call on @out and returns -1. */
static int fail(struct inv_host *out, const char *what)
{
	const char *why = virGetLastErrorMessage();
	size_t len = strlen(what) + strlen(why) + 3;

	free(out->error);
	out->error = malloc(len);
	if (out->error)
		snprintf(out->error, len, "%s: %s", what, why);
	out->reachable = false;
	return -1;
}

/* Appends a copy of @s to the string list. Returns 0, or -1 when out of memory. */
static int strv_push(char ***list, size_t *n, const char *s)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(*grown));
	char *copy = strdup(s);

	if (grown)
		*list = grown;
	if (!grown || !copy) {
		free(copy);
		return -1;
	}
	(*list)[(*n)++] = copy;
	return 0;
}

static int read_identity(virConnectPtr conn, struct inv_host *out)
{
	const char *type = virConnectGetType(conn);
	char *caps;

	if (!type || virConnectGetVersion(conn, &out->hv_version) < 0 ||
	    virConnectGetLibVersion(conn, &out->lib_version) < 0)
		return fail(out, "version");
	out->hv_type = strdup(type);
	out->hostname = virConnectGetHostname(conn);
	if (!(caps = virConnectGetCapabilities(conn)))
		return fail(out, "capabilities");
	/* Parsed once for every question asked of it: a QEMU host's capabilities run to tens
	 * of kilobytes, and parsing them per question was 8 % of an idle pass at 200 hosts. */
	xmlDocPtr doc = domxml_parse(caps);
	free(caps);
	out->arch = domxml_doc_xpath_string(doc, "/capabilities/host/cpu/arch");
	out->cpu_model = domxml_doc_xpath_string(doc, "/capabilities/host/cpu/model");
	obs_capacity(conn, doc, out);
	xmlFreeDoc(doc);
	return 0;
}

/* Memory from the node's statistics (/proc/meminfo on Linux): the NUMA-cell figures
 * of virNodeGetFreeMemory can cover only part of the machine. Free counts buffers
 * and page cache, which the kernel gives back to guests on demand. */
static int read_memory(virConnectPtr conn, struct inv_host *out)
{
	int n = 0;
	virNodeMemoryStatsPtr stats = NULL;

	if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) < 0 ||
	    n <= 0 || !(stats = calloc((size_t)n, sizeof(*stats))) ||
	    virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats, &n, 0) < 0) {
		free(stats);
		return fail(out, "memory statistics");
	}
	for (int i = 0; i < n; i++) {
		uint64_t bytes = stats[i].value * 1024ULL;
		if (!strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_TOTAL))
			out->memory_total = bytes;
		else if (!strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_FREE) ||
			 !strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) ||
			 !strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_CACHED))
			out->memory_free += bytes;
	}
	free(stats);
	return 0;
}

/* Bridges the host has (interfaces of type bridge) and its active networks. */
static int read_networking(virConnectPtr conn, struct inv_host *out)
{
	virInterfacePtr *ifaces = NULL;
	virNetworkPtr *nets = NULL;
	int n_ifaces = virConnectListAllInterfaces(conn, &ifaces, 0);
	int n_nets = virConnectListAllNetworks(conn, &nets, VIR_CONNECT_LIST_NETWORKS_ACTIVE);
	int ret = 0;

	for (int i = 0; i < n_ifaces; i++) {
		char *xml = virInterfaceGetXMLDesc(ifaces[i], 0);
		char *type = xml ? domxml_xpath_string(xml, "string(/interface/@type)") : NULL;
		if (type && !strcmp(type, "bridge") &&
		    strv_push(&out->bridges, &out->n_bridges, virInterfaceGetName(ifaces[i])) < 0)
			ret = -1;
		free(type);
		free(xml);
		virInterfaceFree(ifaces[i]);
	}
	for (int i = 0; i < n_nets; i++) {
		if (strv_push(&out->networks, &out->n_networks, virNetworkGetName(nets[i])) < 0)
			ret = -1;
		virNetworkFree(nets[i]);
	}
	free(ifaces);
	free(nets);
	return ret;
}

static int read_pool(virStoragePoolPtr p, struct inv_pool *pool)
{
	virStorageVolPtr *vols = NULL;
	char *xml;
	int n;

	pool->name = strdup(virStoragePoolGetName(p));
	pool->active = virStoragePoolIsActive(p) == 1;
	if ((xml = virStoragePoolGetXMLDesc(p, 0))) {
		pool->path = domxml_xpath_string(xml, "/pool/target/path");
		free(xml);
	}
	if (!pool->active)
		return 0;
	/* Refresh: volumes copied in by a migration or made by hand are seen at once. */
	virStoragePoolRefresh(p, 0);
	n = virStoragePoolListAllVolumes(p, &vols, 0);
	for (int i = 0; i < n; i++) {
		char *path = virStorageVolGetPath(vols[i]);
		if (path && strv_push(&pool->volumes, &pool->n_volumes, path) < 0)
			n = -1;
		free(path);
		virStorageVolFree(vols[i]);
	}
	free(vols);
	return n < 0 ? -1 : 0;
}

static int read_pools(virConnectPtr conn, struct inv_host *out)
{
	virStoragePoolPtr *pools = NULL;
	int n = virConnectListAllStoragePools(conn, &pools, 0);
	int ret = 0;

	if (n < 0)
		return fail(out, "storage pools");
	if (n > 0 && !(out->pools = calloc((size_t)n, sizeof(*out->pools))))
		ret = -1;
	for (int i = 0; i < n; i++) {
		if (ret == 0 && read_pool(pools[i], &out->pools[out->n_pools++]) < 0)
			ret = -1;
		virStoragePoolFree(pools[i]);
	}
	free(pools);
	return ret;
}

/* ---- domains: one bulk call for all states, a definition read only when needed ---- */

/* The domains of one host being read, and what the pass knows of them. */
struct dom_read {
	virConnectPtr conn;
	struct invc *cache;          /* NULL: read every definition */
	struct invc_pass pass;
	char (*transient)[VIR_UUID_STRING_BUFLEN];   /* the host's transient domains */
	size_t n_transient;
};

/* Lists the UUIDs of the host's transient domains (few: incoming migrations, guests
 * started without a definition), so persistence needs no call per domain. */
static int read_transient(struct dom_read *r)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(r->conn, &doms, VIR_CONNECT_LIST_DOMAINS_TRANSIENT);

	if (n < 0)
		return -1;
	if (n > 0 && !(r->transient = calloc((size_t)n, sizeof(*r->transient))))
		n = -1;
	for (int i = 0; doms && i < (n < 0 ? 0 : n); i++)
		if (virDomainGetUUIDString(doms[i], r->transient[r->n_transient]) == 0)
			r->n_transient++;
	for (int i = 0; doms && doms[i]; i++)
		virDomainFree(doms[i]);
	free(doms);
	return n < 0 ? -1 : 0;
}

static bool is_transient(const struct dom_read *r, const char *uuid)
{
	for (size_t i = 0; i < r->n_transient; i++)
		if (!strcmp(r->transient[i], uuid))
			return true;
	return false;
}

/* Restart required: the running guest @live (its parsed XML) differs from the persistent
 * definition's facts (a redefinition that waits for a restart). Best effort, as read_owned. */
static void read_restart(xmlDoc *live_doc, struct inv_domain *d)
{
	struct inv_facts live;
	char why[512];

	if (!d->facts.known || defdiff_from_doc(live_doc, &live) < 0)
		return;
	if (defdiff_differs(&d->facts, &live, why, sizeof(why)))
		d->restart_why = strdup(why);
	inv_facts_free(&live);
}

/* The running guest's side of read_owned: its tuning, and whether it waits for a restart,
 * from its live XML (@live_doc when the caller has it parsed, else one call and one parse).
 * Also on a pass that took the definition from the cache, for a domain whose running side
 * may have changed since (live_may_have_changed). Best effort, as read_owned. */
static void read_owned_live(virDomainPtr dom, xmlDoc *live_doc, struct inv_domain *d)
{
	char why[128];
	char *live = NULL;
	xmlDoc *parsed = NULL;

	inv_tuning_free(&d->tuning_live);
	free(d->restart_why);
	d->restart_why = NULL;
	if (!d->owner_name || !d->active || !d->facts.known)
		return;
	if (!live_doc && (live = virDomainGetXMLDesc(dom, 0)))
		live_doc = parsed = vmres_parse(live, strlen(live), why, sizeof(why));
	if (live_doc && tune_from_doc(live_doc, &d->tuning_live) == 0)
		read_restart(live_doc, d);
	virResetLastError();
	xmlFreeDoc(parsed);
	free(live);
}

/* For drover's own domains (others are never tuned or redefined): the tuning and facts of
 * the definition @doc just read and, when it runs, of the running guest (its live XML, one
 * more call). Best effort: what cannot be read stays unknown, and the planner does not
 * compare it. */
static void read_owned(virDomainPtr dom, xmlDoc *doc, struct inv_domain *d)
{
	if (!d->owner_name)
		return;
	if (tune_from_doc(doc, &d->tuning_config) < 0 || defdiff_from_doc(doc, &d->facts) < 0)
		return;
	read_owned_live(dom, d->persistent ? NULL : doc, d);
}

/* Fetches and parses @d's definition: the persistent one when there is one (what drover
 * defined), else the live one. Its owner comes from the same XML, parsed once for every
 * reader. When the definition cannot be read or parsed (the domain redefined or undefined
 * since the list, a daemon busy, an XML this side refuses), @d keeps its name, UUID and
 * state and is marked definition_unknown: its owner and resources are unknown this pass.
 * This function can't fail: a domain that exists is never left out of the inventory, where
 * its VM would look undefined and might be defined a second time (safety rule 1). */
static void read_definition(virDomainPtr dom, struct inv_domain *d)
{
	char why[128];
	char *xml = virDomainGetXMLDesc(dom, d->persistent ? VIR_DOMAIN_XML_INACTIVE : 0);
	xmlDoc *doc = xml ? vmres_parse(xml, strlen(xml), why, sizeof(why)) : NULL;

	if (doc && domxml_read_doc(doc, d) == 0)
		read_owned(dom, doc, d);
	else
		inv_domain_forget_definition(d);
	xmlFreeDoc(doc);
	free(xml);
	virResetLastError();
}

/* What the cache said of a domain whose definition it gave (reuse_definition): the state
 * there, before this pass's replaced it. */
struct cached {
	bool hit;               /* the definition came from the cache */
	bool active, job_active;
};

/* Takes the definition of @d from the cache when the pass allows it and the cached entry
 * is the same domain as it stands (same name, same persistence), saying so in @was.
 * Returns 0 (@d unchanged when the definition must be read), or -1 when out of memory. */
static int reuse_definition(struct dom_read *r, struct inv_domain *d, struct cached *was)
{
	struct inv_domain copy;
	int rc = r->cache ? invc_cached(r->cache, &r->pass, d->uuid, &copy) : 0;

	*was = (struct cached){0};
	if (rc <= 0)
		return rc;
	if (copy.persistent != d->persistent || !copy.name || strcmp(copy.name, d->name)) {
		inv_domain_free(&copy);
		return 0;
	}
	*was = (struct cached){.hit = true, .active = copy.active, .job_active = copy.job_active};
	/* The state is this pass's; the definition, owner and last job are the cache's. */
	free(copy.name);
	copy.name = d->name;
	memcpy(copy.uuid, d->uuid, sizeof(copy.uuid));
	copy.state = d->state;
	copy.active = d->active;
	copy.persistent = d->persistent;
	*d = copy;
	return 0;
}

/* Whether the running side of @d (its live tuning, a restart it waits for) must be read
 * again although its definition came from the cache: an event marked it (a start, a stop,
 * a live tuning or a device plugged in by someone else), or it started or stopped since.
 * drover's own changes make the next pass a full read (lv_host_changed). This function
 * can't fail. */
static bool live_may_have_changed(const struct dom_read *r, const struct inv_domain *d,
				  const struct cached *was)
{
	return invc_pass_mark(&r->pass, d->uuid) != INVC_NONE || was->active != d->active;
}

/* Whether @d's job is asked for while its host is read: only an active domain has one,
 * and here only one that is not plainly running (a pause by a save, a dump, a migration),
 * or, between full reads, one an event marked or that had a job at the last look. A
 * running domain's job matters when a move may involve it; obs_inventory asks for those
 * once every host is read (check_moves). This function can't fail. */
static bool want_job(const struct dom_read *r, const struct inv_domain *d,
		     const struct cached *was)
{
	enum invc_mark mark = r->pass.full ? INVC_NONE : invc_pass_mark(&r->pass, d->uuid);

	return d->active && (d->state != INV_RUNNING || mark >= INVC_JOB ||
			     (was->hit && was->job_active));
}

/* Asks libvirt for @d's job. This function can't fail: no answer counts as no job. */
static void read_job(virDomainPtr dom, struct inv_domain *d)
{
	virDomainJobInfo job;

	d->job_active = virDomainGetJobInfo(dom, &job) == 0 && job.type != VIR_DOMAIN_JOB_NONE;
	d->job_known = true;
	virResetLastError();
}

/* The flags that follow from the state, the persistence and the job. Can't fail. */
static void derive_flags(struct inv_domain *d, int state, int reason)
{
	/* The target of an incoming migration: transient and paused until it finishes, or
	 * running already in post-copy (persistent only once the source lets go). */
	d->migrating_in = !d->persistent &&
			  ((state == VIR_DOMAIN_PAUSED &&
			    (reason == VIR_DOMAIN_PAUSED_MIGRATION ||
			     reason == VIR_DOMAIN_PAUSED_STARTING_UP ||
			     reason == VIR_DOMAIN_PAUSED_POSTCOPY)) ||
			   (state == VIR_DOMAIN_RUNNING && reason == VIR_DOMAIN_RUNNING_POSTCOPY));
	d->paused_out = d->persistent && !d->job_active && state == VIR_DOMAIN_PAUSED &&
			reason == VIR_DOMAIN_PAUSED_MIGRATION;
}

/* @dom's UUID in its canonical string form, formatted here: libvirt's own formatting (one
 * printf conversion per byte) was 4 % of drover plan's CPU over 10,000 domains. Returns 0,
 * or -1 when libvirt does not say. */
static int uuid_string(virDomainPtr dom, char out[VIR_UUID_STRING_BUFLEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[VIR_UUID_BUFLEN];
	size_t k = 0;

	if (virDomainGetUUID(dom, raw) < 0)
		return -1;
	for (int i = 0; i < VIR_UUID_BUFLEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[raw[i] >> 4];
		out[k++] = hex[raw[i] & 15];
	}
	out[k] = '\0';
	return 0;
}

/* Reads @rec's domain into @d. Returns 0, or -1 when out of memory (the host's read then
 * fails as a whole: no domain is ever left out of a host read as reachable). */
static int read_domain(struct dom_read *r, virDomainStatsRecordPtr rec, struct inv_domain *d)
{
	int state = VIR_DOMAIN_NOSTATE, reason = 0;
	struct cached was;

	d->name = strdup(virDomainGetName(rec->dom));
	if (!d->name || uuid_string(rec->dom, d->uuid) < 0)
		return -1;
	if (virTypedParamsGetInt(rec->params, rec->nparams, "state.state", &state) < 0 ||
	    virTypedParamsGetInt(rec->params, rec->nparams, "state.reason", &reason) < 0)
		virResetLastError();
	d->state = (enum inv_state)state;
	/* The domain's id travels with it: -1 is an inactive domain. */
	d->active = virDomainGetID(rec->dom) != (unsigned int)-1;
	d->persistent = !is_transient(r, d->uuid);
	if (reuse_definition(r, d, &was) < 0)
		return -1;
	if (!was.hit)
		read_definition(rec->dom, d);
	else if (live_may_have_changed(r, d, &was))
		read_owned_live(rec->dom, NULL, d);
	d->job_active = false;
	d->job_known = false;
	if (want_job(r, d, &was))
		read_job(rec->dom, d);
	derive_flags(d, state, reason);
	return 0;
}

/* One share of a host's domains, read by its own thread: a few calls in flight per
 * connection keep the daemon busy while this side parses what came back. */
struct slice {
	struct dom_read *r;
	virDomainStatsRecordPtr *recs;
	struct inv_domain *doms;     /* one slot per record */
	bool *ok;
	int start, step, n;
	pthread_t thread;
};

static void *read_slice(void *arg)
{
	struct slice *s = arg;

	for (int i = s->start; i < s->n; i += s->step) {
		s->ok[i] = read_domain(s->r, s->recs[i], &s->doms[i]) == 0;
		if (!s->ok[i])
			inv_domain_free(&s->doms[i]);
	}
	virResetLastError();
	return NULL;
}

/* Reads the @n records in OBS_SLICES shares at once (one when they are few), each share
 * in its own thread (in this one when no thread can be had). This function can't fail. */
static void read_slices(struct dom_read *r, virDomainStatsRecordPtr *recs, int n,
			struct inv_domain *doms, bool *ok)
{
	struct slice s[OBS_SLICES];
	int k = n >= OBS_SLICE_MIN ? OBS_SLICES : 1;

	for (int i = 0; i < k; i++) {
		s[i] = (struct slice){.r = r, .recs = recs, .doms = doms, .ok = ok, .start = i,
				      .step = k, .n = n};
		if (i == 0 || pthread_create(&s[i].thread, NULL, read_slice, &s[i]) != 0) {
			read_slice(&s[i]);
			s[i].n = -1;    /* done here: nothing to join */
		}
	}
	for (int i = 1; i < k; i++)
		if (s[i].n >= 0)
			pthread_join(s[i].thread, NULL);
}

/* Reads every domain of the host: its state from one virConnectGetAllDomainStats call,
 * its definition from the cache or one virDomainGetXMLDesc. */
static int read_domain_list(struct dom_read *r, struct inv_host *out)
{
	virDomainStatsRecordPtr *recs = NULL;
	int n = virConnectGetAllDomainStats(r->conn, VIR_DOMAIN_STATS_STATE, &recs, 0);
	bool *ok = NULL;
	int ret = 0;

	if (n < 0 || read_transient(r) < 0) {
		virDomainStatsRecordListFree(recs);
		return fail(out, "domains");
	}
	if (n > 0 && (!(out->domains = calloc((size_t)n, sizeof(*out->domains))) ||
		      !(ok = calloc((size_t)n, sizeof(*ok)))))
		ret = -1;
	if (ret == 0 && n > 0)
		read_slices(r, recs, n, out->domains, ok);
	/* Every listed domain is read, or the host's read fails (out of memory): a domain left
	 * out would look undefined to the planner. */
	for (int i = 0; out->domains && ok && i < n; i++)
		if (ok[i])
			out->domains[out->n_domains++] = out->domains[i];
		else
			ret = -1;
	free(ok);
	virDomainStatsRecordListFree(recs);
	virResetLastError();
	return ret;
}

/* Reads the domains of @out's host over @conn, through @cache (NULL: no cache) whose
 * marks are guarded by @lock. */
static int read_domains(virConnectPtr conn, struct invc *cache, pthread_mutex_t *lock,
			struct inv_host *out)
{
	struct dom_read r = {.conn = conn, .cache = cache, .pass = {.full = true}};
	int ret;

	if (cache) {
		pthread_mutex_lock(lock);
		invc_begin(cache, clk_mono(), &r.pass);
		pthread_mutex_unlock(lock);
	}
	ret = read_domain_list(&r, out);
	if (cache) {
		bool ok = ret == 0 && out->reachable && invc_store(cache, out) == 0;
		pthread_mutex_lock(lock);
		invc_finish(cache, &r.pass, ok, clk_mono());
		pthread_mutex_unlock(lock);
	}
	free(r.transient);
	return ret;
}

/* The host's parts, each its own call: what the host offers, then its domains. A part
 * that fails makes the host unreachable for this pass. */
static int read_host(virConnectPtr conn, struct invc *cache, pthread_mutex_t *lock,
		     struct inv_host *out)
{
	if (read_identity(conn, out) < 0 || read_memory(conn, out) < 0 ||
	    read_networking(conn, out) < 0 || read_pools(conn, out) < 0)
		return -1;
	return read_domains(conn, cache, lock, out);
}

/* Observes host @name into @out (zeroed first). */
static int observe_host(virConnectPtr conn, const char *name, struct invc *cache,
			pthread_mutex_t *lock, struct inv_host *out)
{
	memset(out, 0, sizeof(*out));
	out->name = strdup(name);
	out->reachable = true;
	if (!out->name || read_host(conn, cache, lock, out) < 0) {
		if (out->reachable)
			fail(out, "observe");
		return -1;
	}
	return 0;
}

int obs_host(virConnectPtr conn, const char *name, struct inv_host *out)
{
	return observe_host(conn, name, NULL, NULL, out);
}

int obs_domains(virConnectPtr conn, struct inv_host *out)
{
	out->reachable = true;
	xmlInitParser();
	return read_domains(conn, NULL, NULL, out);
}

/* ---- every host, in parallel ---- */

/* The hosts of one obs_inventory call, handed out to the workers one at a time. */
struct obs_job {
	pthread_mutex_t *lock;       /* the pool's: guards the caches' marks */
	pthread_mutex_t next_lock;
	size_t next, n;
	virConnectPtr *conns;        /* NULL: not connected */
	struct invc **caches;
	const char **names;
	struct inv_host *hosts;
	int *rc;
};

static void *obs_worker(void *arg)
{
	struct obs_job *j = arg;

	for (;;) {
		pthread_mutex_lock(&j->next_lock);
		size_t i = j->next < j->n ? j->next++ : j->n;
		pthread_mutex_unlock(&j->next_lock);
		if (i == j->n)
			return NULL;
		if (j->conns[i])
			j->rc[i] = observe_host(j->conns[i], j->names[i], j->caches[i], j->lock,
						&j->hosts[i]);
	}
}

/* Runs obs_worker on OBS_THREADS threads at most (fewer for fewer hosts; the calling
 * thread alone when none can be started). This function can't fail. */
static void run_workers(struct obs_job *j)
{
	pthread_t threads[OBS_THREADS];
	size_t want = j->n < OBS_THREADS ? j->n : OBS_THREADS, started = 0;

	while (started < want && pthread_create(&threads[started], NULL, obs_worker, j) == 0)
		started++;
	if (!started)
		obs_worker(j);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* True when a Migration of a VM named @name has not ended (a user's not yet started, or
 * one under way, perhaps left running by an earlier drover). Any namespace: asking one job
 * too many costs a call. This function can't fail. */
static bool move_unended(const struct crd_set *set, const char *name)
{
	for (size_t i = 0; i < set->n_migrations; i++) {
		const struct crd_migration *m = &set->migrations[i];
		if (m->spec.vm_name && !strcmp(m->spec.vm_name, name) &&
		    !crd_mig_phase_ended(m->status.phase))
			return true;
	}
	return false;
}

/* Asks for the job of every running domain a move may involve whose job was not asked for
 * while its host was read: a name found on more than one host (a move in flight, anyone's:
 * the planner waits for it, or takes over drover's own), or a VM whose Migration has not
 * ended. A plainly running domain elsewhere is read without its job: one call per domain
 * saved on every full read, and libvirt itself refuses a second job on a domain when drover
 * acts on it. Returns 0, or -1 when out of memory. */
static int check_moves(struct obs_job *j, const struct crd_set *set, struct inventory *inv)
{
	struct inv_index x;
	size_t n;

	if (inv_index_inventory(&x, inv) < 0) {
		inv_index_free(&x);
		return -1;
	}
	for (size_t i = 0; i < inv->n_hosts; i++) {
		struct inv_host *h = &inv->hosts[i];
		for (size_t k = 0; j->conns[i] && j->rc[i] == 0 && k < h->n_domains; k++) {
			struct inv_domain *d = &h->domains[k];
			if (!d->active || d->job_known || !d->name ||
			    (!(inv_index_find(&x, d->name, &n) && n > 1) && !move_unended(set, d->name)))
				continue;
			virDomainPtr dom = virDomainLookupByUUIDString(j->conns[i], d->uuid);
			if (dom) {
				read_job(dom, d);
				virDomainFree(dom);
			}
			virResetLastError();
		}
	}
	inv_index_free(&x);
	return 0;
}

bool obs_tcp_alive(const char *addr, const char *port, double timeout_s)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	bool alive = false;
	int fd = -1;

	if (getaddrinfo(addr, port, &hints, &ai) != 0 || !ai)
		goto cleanup;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto cleanup;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		alive = true;
	} else if (errno == EINPROGRESS) {
		struct pollfd p = {fd, POLLOUT, 0};
		int err = 0;
		socklen_t len = sizeof(err);
		alive = poll(&p, 1, (int)(timeout_s * 1000)) == 1 &&
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return alive;
}

int obs_probe_target(const struct crd_host *h, char *addr, size_t addr_size, char *port,
		     size_t port_size)
{
	static const struct { const char *scheme, *port; } transports[] = {
		{"qemu+tcp://", "16509"}, {"qemu+tls://", "16514"}, {"qemu+ssh://", "22"},
		{"qemu+libssh://", "22"}, {"test+tcp://", "16509"}};
	const char *uri = h->spec.uri, *rest = NULL, *dflt = NULL;

	for (size_t i = 0; !rest && i < sizeof(transports) / sizeof(transports[0]); i++)
		if (!strncmp(uri, transports[i].scheme, strlen(transports[i].scheme))) {
			rest = uri + strlen(transports[i].scheme);
			dflt = transports[i].port;
		}
	if (!rest)
		return -1;
	const char *at = strchr(rest, '@'), *end = rest + strcspn(rest, "/?");
	if (at && at < end)
		rest = at + 1;
	/* host[:port], or [v6]:port */
	const char *host = rest, *host_end = end, *colon = NULL;
	if (*rest == '[') {
		host = rest + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return -1;
		colon = host_end + 1 < end && host_end[1] == ':' ? host_end + 1 : NULL;
	} else if ((colon = memchr(rest, ':', (size_t)(end - rest)))) {
		host_end = colon;
	}
	if (colon && (size_t)(end - colon - 1) < port_size && end > colon + 1)
		snprintf(port, port_size, "%.*s", (int)(end - colon - 1), colon + 1);
	else
		snprintf(port, port_size, "%s", dflt);
	if (h->spec.migration_address)
		snprintf(addr, addr_size, "%s", h->spec.migration_address);
	else if ((size_t)(host_end - host) < addr_size && host_end > host)
		snprintf(addr, addr_size, "%.*s", (int)(host_end - host), host);
	else
		return -1;
	return 0;
}

/* Probes host @h that libvirt could not reach (see obs_tcp_alive). */
static void probe_address(const struct crd_host *spec, struct inv_host *h)
{
	char addr[256], port[16];
	h->addr_alive = obs_probe_target(spec, addr, sizeof(addr), port, sizeof(port)) == 0 &&
			obs_tcp_alive(addr, port, OBS_PROBE_TIMEOUT_S);
}

/* Fills unconnected host @h with its error. Returns 0, or -1 when out of memory. */
static int unreachable(struct lv_pool *pool, const char *name, struct inv_host *h)
{
	const char *why = lv_host_error(pool, name);

	inv_host_free(h);
	h->name = strdup(name);
	h->error = strdup(why ? why : "unreachable");
	return h->name && h->error ? 0 : -1;
}

int obs_inventory(struct lv_pool *pool, const struct crd_set *set, struct inventory *out)
{
	size_t n = set->n_hosts;
	struct obs_job j = {.lock = &pool->lock, .n = n};
	int ret = -1;

	memset(out, 0, sizeof(*out));
	xmlInitParser();    /* before threads parse: libxml2 asks for it once, up front */
	if (lv_pool_sync(pool, set) < 0)
		return -1;
	lv_connect_all(pool, OBS_CONNECT_TIMEOUT_S);
	if (!n)
		return 0;
	pthread_mutex_init(&j.next_lock, NULL);
	j.conns = calloc(n, sizeof(*j.conns));
	j.caches = calloc(n, sizeof(*j.caches));
	j.names = calloc(n, sizeof(*j.names));
	j.rc = calloc(n, sizeof(*j.rc));
	out->hosts = calloc(n, sizeof(*out->hosts));
	if (!j.conns || !j.caches || !j.names || !j.rc || !out->hosts)
		goto cleanup;
	out->n_hosts = n;
	j.hosts = out->hosts;
	/* Connections are taken here, in one thread: the pool is not shared by the workers. */
	for (size_t i = 0; i < n; i++) {
		j.names[i] = set->hosts[i].meta.name;
		j.conns[i] = lv_connect(pool, j.names[i]);
		j.caches[i] = lv_host_cache(pool, j.names[i]);
		j.rc[i] = -1;
	}
	run_workers(&j);
	ret = check_moves(&j, set, out);
	for (size_t i = 0; i < n; i++) {
		if (j.rc[i] == 0)
			continue;
		if (j.conns[i])
			/* The RPC failed: the connection is suspect; try afresh next time. */
			lv_mark_broken(pool, j.names[i]);
		else if (unreachable(pool, j.names[i], &out->hosts[i]) < 0)
			ret = -1;
		probe_address(&set->hosts[i], &out->hosts[i]);
	}
cleanup:
	pthread_mutex_destroy(&j.next_lock);
	free(j.conns);
	free(j.caches);
	free(j.names);
	free(j.rc);
	return ret;
}
