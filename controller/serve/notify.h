/* notify: systemd's readiness protocol (sd_notify) without libsystemd: one datagram to the
 * socket named by NOTIFY_SOCKET, so drover.service can be Type=notify. */
#ifndef DROVER_NOTIFY_H
#define DROVER_NOTIFY_H

#include "crd/compiler.h"

/* Sends @state ("READY=1", "STOPPING=1", ...) to $NOTIFY_SOCKET. Returns 1 when sent, 0 when
 * NOTIFY_SOCKET is unset or empty (not under systemd: nothing to do), -1 with errno set when
 * it names no usable socket or the send failed. */
int notify_send(const char *state) DROVER_WUR;

#endif
