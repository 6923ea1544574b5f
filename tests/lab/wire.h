/* wire: watches the TCP payload crossing one lab interface (a raw AF_PACKET socket in
 * the host's network namespace) for a byte string, to show what a migration stream
 * carries in the clear. */
#ifndef DROVER_TESTS_LAB_WIRE_H
#define DROVER_TESTS_LAB_WIRE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stdint.h>

#include "tests/lab/lab.h"

struct wire_watch;

/* Starts watching interface @ifname (e.g. "dl-b", a host's end of its veth) for TCP
 * segments from or to a port in [@port_lo, @port_hi], looking for @marker (at most 64
 * bytes) in their payload, also across segment boundaries. Returns 0 with *@out, or -1
 * with a message on stderr (no CAP_NET_RAW, no such interface). */
int wire_watch_start(const char *ifname, uint16_t port_lo, uint16_t port_hi, const char *marker,
		     struct wire_watch **out) DROVER_WUR;

/* Stops @w and frees it; *@bytes is the TCP payload it saw, *@found whether @marker was
 * in it. Returns 0, or -1 when the watch failed while it ran. */
int wire_watch_stop(struct wire_watch *w, uint64_t *bytes, bool *found);

#endif
