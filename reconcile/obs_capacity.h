/* obs_capacity: what placement counts on a host beyond memory — CPU threads, CPU load over
 * the interval since the previous observation of the same host, and huge pages. */
#ifndef DROVER_OBS_CAPACITY_H
#define DROVER_OBS_CAPACITY_H

#include <libvirt/libvirt.h>
#include <libxml/tree.h>

#include "reconcile/inventory.h"

/* Fills out->cpu_threads, out->cpu_load (from the second observation of out->name on) and
 * out->hugepages over @conn, whose capabilities XML is @caps, parsed (domxml_parse; NULL:
 * no huge pages read). What cannot be read stays unreported (0); the observation never
 * fails for it. Safe to call from several threads. */
void obs_capacity(virConnectPtr conn, xmlDocPtr caps, struct inv_host *out);

#endif
