/* observe: build the inventory from libvirt — every host's resources and domains. */
#ifndef DROVER_OBSERVE_H
#define DROVER_OBSERVE_H

#include "crd/compiler.h"

#include <libvirt/libvirt.h>

#include "crd/types.h"
#include "reconcile/inventory.h"
#include "reconcile/lv.h"

/* Reads host @name over @conn into @out (zeroed first; the caller frees it with
 * inv_host_free). Returns 0 with out->reachable true, or -1 when a libvirt call
 * failed: out->reachable is false and out->error says why. */
int obs_host(virConnectPtr conn, const char *name, struct inv_host *out)
	DROVER_WUR;

/* Connects to every Host of @set through @pool (in parallel, bounded in time) and
 * observes each. Unreachable hosts are listed with reachable false and their error.
 * Returns 0 with @out filled (the caller frees it with inv_free), or -1 when out of
 * memory. */
int obs_inventory(struct lv_pool *pool, const struct crd_set *set, struct inventory *out)
	DROVER_WUR;

/* True when a TCP connection to @addr port @port opens within @timeout_s: the host's
 * network stack and a listener answer. Refused, unreachable or silent: false. Can't fail. */
bool obs_tcp_alive(const char *addr, const char *port, double timeout_s);

/* The address and port the failure probe of @h connects to: its migrationAddress (else the
 * URI's host) and the URI's port, else libvirtd's default for the transport (16509 tcp,
 * 16514 tls, 22 ssh). Returns 0, or -1 when the URI names no remote host (local, test). */
int obs_probe_target(const struct crd_host *h, char *addr, size_t addr_size, char *port,
		     size_t port_size) DROVER_WUR;

#endif
