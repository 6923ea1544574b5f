/* lab: helpers for integration tests on the hosts that hack/lab starts. */
#ifndef DROVER_TESTS_LAB_H
#define DROVER_TESTS_LAB_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#define LAB_MAX_HOSTS 8

/* The lab's state directory (hack/lab's $DROVER_LAB_DIR). This function can't fail. */
const char *lab_dir(void);

/* @name inside the build tree this test program was built in (BUILD/tests/lab/NAME →
 * BUILD/@name), so `make asan` runs build-asan/drover. Returns 0, or -1 when it does
 * not fit in @size. */
int lab_build_path(const char *name, char *out, size_t size) DROVER_WUR;

/* The drover binary of this build tree (see lab_build_path). This function can't fail:
 * it falls back to build/drover. */
const char *lab_drover(void);

/* Starts (or keeps) an N-host lab with hack/lab, with this build tree's guest unless
 * DROVER_GUEST_ELF names one. Returns 0, or -1 when it failed. */
int lab_up(int n) DROVER_WUR;

/* Stops the lab with hack/lab down. Returns its exit status. */
int lab_down(void);

/* Host i (0 = lab-a): its name, libvirt URI and migration address. Static strings. */
const char *lab_host_name(int i);
const char *lab_host_uri(int i);
const char *lab_host_addr(int i);

/* How many hosts the running lab has (0 when it is down). This function can't fail. */
int lab_host_count(void);

/* "qemu" or "kvm": the domain type hack/lab's probe chose. This function can't fail. */
const char *lab_accel(void);

/* Runs ARGV (argv[0] looked up in PATH) with no shell, waits at most TIMEOUT_S
 * seconds (then kills it), and stores its stdout (NUL-terminated, cut at OUT_SIZE-1)
 * in OUT when OUT is not NULL; its stderr is discarded. Returns the exit status, or -1 when it could not run,
 * was killed, or timed out. */
int lab_run(const char *const argv[], char *out, size_t out_size, int timeout_s);

/* Starts ARGV in the background with its stdout and stderr appended to LOG_PATH.
 * Returns the child's pid, or -1. The caller stops it (kill by pid) and reaps it. */
int lab_spawn(const char *const argv[], const char *log_path);

/* Sends SIGTERM to PID and waits up to TIMEOUT_S seconds for it to exit, then
 * SIGKILL. Returns its exit status when it exited by itself, -1 otherwise. */
int lab_stop(int pid, int timeout_s);

/* Opens host i. Returns a connection the caller closes, or NULL. */
virConnectPtr lab_connect(int i) DROVER_WUR;

/* A test guest: hack/guest's kernel with a disk and a serial log. */
struct lab_guest {
	const char *name;
	unsigned memory_mib;
	const char *disk_path;   /* qcow2 image, or NULL for none */
	const char *serial_path; /* file the serial console is appended to */
	const char *cmdline;     /* guest parameters, e.g. "dirty_mib=8 rate_mibps=4" */
};

/* Domain XML for G. Returns a string the caller frees, or NULL when out of memory. */
char *lab_guest_xml(const struct lab_guest *g) DROVER_WUR;

/* Creates a SIZE_MIB qcow2 volume NAME in pool POOL ("local" or "shared") of host i.
 * Writes its path into PATH. Returns 0, or -1 with a message on stderr. */
int lab_create_volume(int i, const char *pool, const char *name, unsigned size_mib,
		      char *path, size_t path_size) DROVER_WUR;

/* Destroys and undefines domain NAME on every host of the running lab, and deletes volume NAME
 * from the pools of each. Missing objects are fine. This function can't fail. */
void lab_cleanup_guest(const char *name, const char *volume);

/* How host i's libvirtd, asked on the test's own connection (a witness independent of
 * drover), sees NAME: virsh domstate's words ("running", "shut off", ...), or "" when it is
 * not defined there (or the host does not answer). Writes into STATE. */
void lab_dom_state(int i, const char *name, char *state, size_t state_size);

/* Counts the lab hosts on which virsh lists NAME as running / defined at all. */
int lab_count_running(const char *name, int n_hosts);
int lab_count_defined(const char *name, int n_hosts);

/* True when NAME runs on host i and is defined on no other of the first N_HOSTS; says what
 * it saw otherwise. This function can't fail. */
bool lab_runs_only_on(const char *name, int i, int n_hosts);

/* Host i's simulated BMC, as `hack/lab bmc NAME` prints it (ADDR PORT USER PASSWORD_FILE).
 * Returns 0, or -1 when it cannot be read. */
struct lab_bmc { char addr[64], port[16], user[32], password_file[400]; };
int lab_bmc(int i, struct lab_bmc *out) DROVER_WUR;

/* Power-offs sent to host i's chassis so far: "set power 0" lines of its BMC's power log.
 * This function can't fail (no log: 0). */
int lab_bmc_power_offs(int i);

/* True when host i's BMC holds its chassis off: its last power request was an off (a fence
 * agent's), not yet followed by start-host. This function can't fail (no BMC: false). */
bool lab_bmc_holds_off(int i);

/* When host i's BMC sent its chassis its @n-th power-off (1-based; the @n-th "set power 0"
 * of its power log, as lab_bmc_power_offs counts them), in seconds since the epoch; -1 when
 * it sent fewer. This function can't fail. */
double lab_bmc_power_off_time(int i, int n);

/* When libvirt last started guest @name on host i (the last "starting up" line of the
 * host's QEMU log of @name, millisecond resolution), in seconds since the epoch; -1 when
 * never. This function can't fail. */
double lab_domain_last_start(int i, const char *name);

/* Every one of the first N_HOSTS hosts back as the lab started it (link up, BMC running,
 * powered on): a test's teardown, best effort. This function can't fail. */
void lab_restore_hosts(int n_hosts);

/* The value of sample SERIES (e.g. "drover_migrations_total{phase=\"Succeeded\"}") in the
 * /metrics of the drover listening on 127.0.0.1:PORT, or -1 when absent. Can't fail. */
double lab_metric(const char *port, const char *series);

/* True when NAME's persistent definition on host i carries drover's ownership element (in
 * <metadata>, as drover writes it). This function can't fail: no answer is false. */
bool lab_owned_by_drover(int i, const char *name);

/* The reservedMemory, in MiB, that leaves a lab host @schedulable_mib for guests: every
 * host reports this machine's memory, so all but a little must be reserved for a few small
 * guests to be a real share of a host. 0 when the machine has no more than that (or its
 * memory cannot be read). This function can't fail. */
unsigned long long lab_reserved_leaving_mib(unsigned long long schedulable_mib);

/* The serial log of test guest NAME, LAB_DIR/shared/NAME.serial, into BUF. */
void lab_serial_path(const char *name, char *buf, size_t size);

#endif
