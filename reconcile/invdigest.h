/* invdigest: what a pass observed, as one number, so that a controller can tell that a
 * pass sees what the last full one saw without planning again (see rec_quiet_pass).
 * Everything of the inventory counts but the figures a host's load moves from one read to
 * the next (memory_free, cpu_load), which only fill the Host's status and place new work:
 * a field added to inv_host or inv_domain goes in here too (inv_domain through invpack). */
#ifndef DROVER_INVDIGEST_H
#define DROVER_INVDIGEST_H

#include <stdint.h>

#include "crd/compiler.h"
#include "reconcile/inventory.h"

/* The digest of @inv: hosts in their order, each host's domains in any order (libvirt
 * lists them as it likes). Jobs count as well. Returns 0 when out of memory; 0 matches
 * nothing. */
uint64_t inv_digest(const struct inventory *inv) DROVER_WUR;

#endif
