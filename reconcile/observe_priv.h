/* observe_priv: observe's otherwise-static parts, for the unit tests only. */
#ifndef DROVER_OBSERVE_PRIV_H
#define DROVER_OBSERVE_PRIV_H

#include "reconcile/observe.h"

/* Reads only the domains of the host behind @conn into @out (whose other fields are left as
 * they are), without a cache: what obs_host does for domains. Returns 0, or -1 when a
 * libvirt call failed or memory ran out (out->error may say why). */
int obs_domains(virConnectPtr conn, struct inv_host *out) DROVER_WUR;

#endif
