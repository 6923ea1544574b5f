/* coldmove: move a VM that is (or is made) shut off — its local disks copied host to
 * host with libvirt storage streams, its definition moved — and the domain power
 * operations that need waiting (graceful stop). */
#ifndef DROVER_COLDMOVE_H
#define DROVER_COLDMOVE_H

#include "crd/compiler.h"

#include <stdbool.h>

#include <libvirt/libvirt.h>

/* Called while disks are copied: bytes done of bytes total. */
typedef void (*cold_progress_fn)(void *opaque, unsigned long long done,
				 unsigned long long total);

struct cold_request {
	virConnectPtr src, dst;
	const char *domain;
	const char *owner_ns, *owner_name;  /* drover's ownership metadata for the target */
	bool copy_disks;                    /* local storage: copy every disk volume */
	bool start;                         /* start on the target afterwards */
	double stop_timeout_s;              /* graceful shutdown wait before destroy */
	cold_progress_fn progress;
	void *opaque;
};

/* Stops @dom: an ACPI shutdown request, then a forced stop (destroy) once
 * @timeout_s passed. Returns 0 when the domain is shut off, -1 otherwise. */
int cold_stop(virDomainPtr dom, double timeout_s) DROVER_WUR;

/* Starts @dom and checks it is still running a moment later. Returns 0, or -1 with
 * @why (may be NULL) set. */
int cold_start_verified(virDomainPtr dom, char *why, size_t why_size)
	DROVER_WUR;

/* Defines domain @xml on @conn with drover's ownership metadata for @ns/@name, and
 * starts and verifies it when @start. A domain that cannot start is undefined again.
 * Returns 0, or -1 with @why set. */
int cold_define_owned(virConnectPtr conn, const char *xml, const char *ns, const char *name,
		      bool start, char *why, size_t why_size) DROVER_WUR;

/* Moves the VM: stop it on the source, copy disks, define on the target, start it
 * there if asked, verify, and only then undefine the source and delete its disk
 * copies. On any failure before the source is touched beyond the stop, everything
 * made on the target is removed and the VM is started again on the source if it was
 * running. Returns 0; 1 when moved but the source's definition or some of its disk
 * copies could not be removed (@why says so); or -1 with @why set (always
 * NUL-terminated). */
int cold_move(const struct cold_request *req, char *why, size_t why_size)
	DROVER_WUR;

#endif
