/* observe: build the inventory from libvirt — every host's resources and domains. */
#include "reconcile/observe.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "reconcile/defdiff.h"
#include "reconcile/domxml.h"
#include "reconcile/obs_capacity.h"
#include "reconcile/tune.h"

#define OBS_CONNECT_TIMEOUT_S 10
/* A host that libvirt cannot reach gets this long to accept a TCP connection. */
#define OBS_PROBE_TIMEOUT_S 1.0

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
	out->arch = domxml_xpath_string(caps, "/capabilities/host/cpu/arch");
	out->cpu_model = domxml_xpath_string(caps, "/capabilities/host/cpu/model");
	obs_capacity(conn, caps, out);
	free(caps);
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

static void read_owner(virDomainPtr dom, struct inv_domain *d)
{
	char *meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, INV_METADATA_URI,
					  VIR_DOMAIN_AFFECT_CURRENT);
	if (!meta) {
		virResetLastError();
		return;
	}
	d->owner_namespace = domxml_xpath_string(meta, "string(/*/@namespace)");
	d->owner_name = domxml_xpath_string(meta, "string(/*/@name)");
	free(meta);
}

/* Restart required: the running guest @live_xml differs from the persistent definition's
 * facts (a redefinition that waits for a restart). Best effort, as read_owned. */
static void read_restart(const char *live_xml, struct inv_domain *d)
{
	struct inv_facts live;
	char why[512];

	if (!d->facts.known || defdiff_from_xml(live_xml, &live) < 0)
		return;
	if (defdiff_differs(&d->facts, &live, why, sizeof(why)))
		d->restart_why = strdup(why);
	inv_facts_free(&live);
}

/* For drover's own domains (others are never tuned or redefined): the tuning and facts of
 * the definition @xml just read and, when it runs, of the running guest (its live XML, one
 * more call). Best effort: what cannot be read stays unknown, and the planner does not
 * compare it. */
static void read_owned(virDomainPtr dom, const char *xml, struct inv_domain *d)
{
	char *live;

	if (!d->owner_name)
		return;
	if (tune_from_xml(xml, &d->tuning_config) < 0 || defdiff_from_xml(xml, &d->facts) < 0)
		return;
	if (!d->active)
		return;
	/* A transient domain has only the live definition: the one just read. */
	live = d->persistent ? virDomainGetXMLDesc(dom, 0) : strdup(xml);
	if (live && tune_from_xml(live, &d->tuning_live) == 0)
		read_restart(live, d);
	virResetLastError();
	free(live);
}

static int read_domain(virDomainPtr dom, struct inv_domain *d)
{
	int state = 0, reason = 0;
	virDomainJobInfo job;
	char *xml;

	d->name = strdup(virDomainGetName(dom));
	if (!d->name || virDomainGetUUIDString(dom, d->uuid) < 0 ||
	    virDomainGetState(dom, &state, &reason, 0) < 0)
		return -1;
	d->state = (enum inv_state)state;
	d->active = virDomainIsActive(dom) == 1;
	d->persistent = virDomainIsPersistent(dom) == 1;
	if (d->active && virDomainGetJobInfo(dom, &job) == 0)
		d->job_active = job.type != VIR_DOMAIN_JOB_NONE;
	virResetLastError();
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
	read_owner(dom, d);
	xml = virDomainGetXMLDesc(dom, d->persistent ? VIR_DOMAIN_XML_INACTIVE : 0);
	int rc = xml ? domxml_read(xml, d) : -1;
	if (rc == 0)
		read_owned(dom, xml, d);
	free(xml);
	return rc;
}

static int read_domains(virConnectPtr conn, struct inv_host *out)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);
	int ret = 0;

	if (n < 0)
		return fail(out, "domains");
	if (n > 0 && !(out->domains = calloc((size_t)n, sizeof(*out->domains))))
		ret = -1;
	for (int i = 0; i < n; i++) {
		/* A domain that vanished between the list and the read is simply skipped. */
		if (ret == 0) {
			struct inv_domain *d = &out->domains[out->n_domains];
			if (read_domain(doms[i], d) == 0)
				out->n_domains++;
			else
				inv_domain_free(d);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	virResetLastError();
	return ret;
}

int obs_host(virConnectPtr conn, const char *name, struct inv_host *out)
{
	memset(out, 0, sizeof(*out));
	out->name = strdup(name);
	out->reachable = true;
	if (!out->name || read_identity(conn, out) < 0 || read_memory(conn, out) < 0 ||
	    read_networking(conn, out) < 0 || read_pools(conn, out) < 0 ||
	    read_domains(conn, out) < 0) {
		if (out->reachable)
			fail(out, "observe");
		return -1;
	}
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

int obs_inventory(struct lv_pool *pool, const struct crd_set *set, struct inventory *out)
{
	memset(out, 0, sizeof(*out));
	if (lv_pool_sync(pool, set) < 0)
		return -1;
	lv_connect_all(pool, OBS_CONNECT_TIMEOUT_S);
	if (set->n_hosts && !(out->hosts = calloc(set->n_hosts, sizeof(*out->hosts))))
		return -1;
	for (size_t i = 0; i < set->n_hosts; i++) {
		const char *name = set->hosts[i].meta.name;
		struct inv_host *h = &out->hosts[out->n_hosts++];
		virConnectPtr conn = lv_connect(pool, name);

		if (conn && obs_host(conn, name, h) == 0)
			continue;
		if (conn) {
			/* The RPC failed: the connection is suspect; try afresh next time. */
			lv_mark_broken(pool, name);
			probe_address(&set->hosts[i], h);
			continue;
		}
		memset(h, 0, sizeof(*h));
		h->name = strdup(name);
		h->error = strdup(lv_host_error(pool, name) ? lv_host_error(pool, name) : "unreachable");
		if (!h->name || !h->error)
			return -1;
		probe_address(&set->hosts[i], h);
	}
	return 0;
}
