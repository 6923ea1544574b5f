/* drover_fixture: lab tests drive the real drover binary — manifests written to a
 * temporary directory, drover run on them, its status records read back. */
#ifndef DROVER_TESTS_FIXTURE_H
#define DROVER_TESTS_FIXTURE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "tests/lab/lab.h"

/* A test's working directory: manifests in DIR/m, status in DIR/state. */
struct fx {
	char dir[256];
	char manifests[300];
	char state[300];
};

/* Makes a fresh working directory under /tmp. Returns 0, or -1. */
int fx_init(struct fx *fx) DROVER_WUR;

/* Removes the working directory and everything in it. This function can't fail. */
void fx_cleanup(struct fx *fx);

/* Writes @text to manifests/@file (replacing it). Returns 0, or -1. */
int fx_write(struct fx *fx, const char *file, const char *text) DROVER_WUR;

/* Writes manifests/hosts.yaml: the first @n lab hosts, each with @reserved (e.g.
 * "64Mi", NULL for none) reserved memory. Returns 0, or -1. */
int fx_write_hosts(struct fx *fx, int n, const char *reserved) DROVER_WUR;

/* fx_write_hosts, with @extra (e.g. ", fenced: true") added to host @i_extra's spec. */
int fx_write_hosts_with(struct fx *fx, int n, const char *reserved, int i_extra,
			const char *extra) DROVER_WUR;

/* fx_write_hosts, host @left_out no longer declared. */
int fx_write_hosts_but(struct fx *fx, int n, const char *reserved, int left_out) DROVER_WUR;

/* Writes manifests/hosts.yaml: the first @n lab hosts, with reservedMemory @reserved (e.g.
 * "0", "1024Mi"), each fenced through its BMC with the real fence_ipmilan (hack/lab bmc
 * NAME). Returns 0, or -1. */
int fx_write_hosts_fenced(struct fx *fx, int n, const char *reserved) DROVER_WUR;

/* Appends to @buf at *@len lab host @i's Host fenced through its BMC @bmc (fence_ipmilan),
 * with reservedMemory @reserved and @password, the YAML mapping that gives the BMC's
 * password (e.g. "passwordFile: PATH"). Returns 0, or -1 when it does not fit. */
int fx_host_fenced_yaml(int i, const struct lab_bmc *bmc, const char *reserved,
			const char *password, char *buf, size_t size, size_t *len) DROVER_WUR;

/* A VirtualMachine of the test guest: the parts that vary from test to test (its domain
 * type is always lab_accel()). Members left NULL (false) are left out of the manifest,
 * so drover's defaults apply. */
struct fx_vm {
	const char *name;
	const char *host;         /* spec.host */
	const char *running;      /* spec.running: "true" or "false" */
	const char *storage;      /* spec.storage: "shared" or "local" */
	const char *spec_extra;   /* more spec lines, each "  key: value\n" */
	const char *memory;       /* spec.domain.memory, e.g. "64Mi"; required */
	const char *kernel;       /* NULL: the test guest, LAB_DIR/shared/guest.elf */
	const char *cmdline;      /* guest parameters, e.g. "dirty_mib=8 rate_mibps=4" */
	const char *disk;         /* path of the one disk */
	const char *format;       /* its format, e.g. "qcow2" */
	bool serial;              /* serial log at lab_serial_path(name) */
	const char *domain_extra; /* more spec.domain lines, each "    key: value\n" */
	const char *labels;       /* metadata.labels as a flow map body, e.g. "app: db" */
};

/* The manifest of @vm, one YAML document, into @buf. Returns its length, or -1 when it
 * does not fit in @size. */
int fx_vm_yaml(const struct fx_vm *vm, char *buf, size_t size) DROVER_WUR;

/* Writes @vm's manifest to manifests/NAME.yaml (replacing it). Returns 0, or -1. */
int fx_write_vm(struct fx *fx, const struct fx_vm *vm) DROVER_WUR;

/* Runs `build/drover VERB -f manifests --state-dir state --stop-timeout 2 EXTRA...`
 * and returns its exit status (-1 when it could not run); its stdout goes into @out
 * (may be NULL) and is echoed for the test log. */
int fx_drover(struct fx *fx, const char *verb, char *out, size_t out_size);

/* Runs `build/drover plan` on @f, with @flag (e.g. "--estimate") unless NULL, with stdout
 * and stderr (where the unreachable-host warnings go) into @out, echoed for the test log.
 * Returns its exit status, or -1. */
int fx_drover_plan_all(struct fx *f, const char *flag, char *out, size_t size);

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
