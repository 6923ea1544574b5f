/* tune_apply: set spec.tuning on a domain with libvirt, live and in its definition. */
#ifndef DROVER_TUNE_APPLY_H
#define DROVER_TUNE_APPLY_H

#include "crd/compiler.h"

#include <stddef.h>

#include <libvirt/libvirt.h>

#include "crd/types.h"

/* Sets every field @t writes on @dom: in its persistent definition, and live when it runs
 * (memory limits with virDomainSetMemoryParameters, the blkio weight with
 * virDomainSetBlkioParameters, each disk's limits with virDomainSetBlockIoTune). Goes on
 * past a part libvirt refuses, so the others still apply. Returns 0, or -1 with what
 * libvirt refused in @why (always NUL-terminated). */
int tune_apply(virDomainPtr dom, const struct crd_tuning *t, char *why, size_t size)
	DROVER_WUR;

#endif
