/* drover_fixture: lab tests drive the real drover binary — manifests written to a
 * temporary directory, drover run on them, its status records read back. */
#ifndef DROVER_TESTS_FIXTURE_H
#define DROVER_TESTS_FIXTURE_H

#include <stddef.h>

#include "tests/lab/lab.h"

/* A test's working directory: manifests in DIR/m, status in DIR/state. */
struct fx {
	char dir[256];
	char manifests[300];
	char state[300];
};

/* Makes a fresh working directory under /tmp. Returns 0, or -1. */
int fx_init(struct fx *fx) LAB_ATTR_WUR;

/* Removes the working directory and everything in it. This function can't fail. */
void fx_cleanup(struct fx *fx);

/* Writes @text to manifests/@file (replacing it). Returns 0, or -1. */
int fx_write(struct fx *fx, const char *file, const char *text) LAB_ATTR_WUR;

/* Writes manifests/hosts.yaml: the first @n lab hosts, each with @reserved (e.g.
 * "64Mi", NULL for none) reserved memory. Returns 0, or -1. */
int fx_write_hosts(struct fx *fx, int n, const char *reserved) LAB_ATTR_WUR;

/* Runs `build/drover VERB -f manifests --state-dir state --stop-timeout 2 EXTRA...`
 * and returns its exit status (-1 when it could not run); its stdout goes into @out
 * (may be NULL) and is echoed for the test log. */
int fx_drover(struct fx *fx, const char *verb, char *out, size_t out_size);

/* Reads field @path (dot-separated, e.g. "status.phase", "status.host") of the
 * status record of @kind ("virtualmachines", "migrations") @name into @buf;
 * "" when absent. Returns 0 when the record exists, -1 otherwise. */
int fx_status(struct fx *fx, const char *kind, const char *name, const char *path, char *buf,
	      size_t size);

/* "REASON: MESSAGE" of condition @type in the status of @kind ("virtualmachines",
 * "hosts", "migrations") @name into @buf ("" when none). */
void fx_condition(struct fx *fx, const char *kind, const char *name, const char *type,
		  char *buf, size_t size);

/* The name of the newest Migration record of VM @name into @buf ("" when none). */
void fx_latest_migration(struct fx *fx, const char *vm, char *buf, size_t size);

/* SHA-256 of host i's file at @path inside its private /var/lib/libvirt (e.g.
 * "images/x.raw") as hex into @hex (65 bytes), or "" when the file is missing. */
void fx_host_file_sha(int i, const char *path, char *hex, size_t size);

#endif
