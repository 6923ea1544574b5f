/* kubeapi_fixture: starts build/kubeapi-server for a test with a generated CA, server
 * certificate and bearer token, in a private temporary directory. */
#ifndef DROVER_TESTS_KUBEAPI_FIXTURE_H
#define DROVER_TESTS_KUBEAPI_FIXTURE_H

#include "crd/compiler.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>


struct kf {
	char dir[64];             /* /tmp/kubeapi-fixture-XXXXXX */
	char server_bin[PATH_MAX + 32];
	char ca[128];             /* the CA certificate (PEM file) */
	char token_file[128];
	char log[128];            /* the server's request log */
	char base[64];            /* https://127.0.0.1:PORT */
	int port;
	pid_t server;
};

/* Makes the directory and certificates and starts the server (token @token, history of
 * @history events, bookmarks after 1 s idle), found next to this program
 * (BUILD/tests/lab/NAME → BUILD/kubeapi-server). Returns 0, or -1 with a message on stderr. */
int kf_start(struct kf *f, const char *token, int history) DROVER_WUR;

/* Like kf_start, with idle watches sent a BOOKMARK after @bookmark_s seconds instead of 1.
 * A bookmark moves a watcher's resourceVersion to the newest, so a test that needs a
 * watcher left behind (to see 410 Gone after compaction) wants them rare. */
int kf_start_bookmarks(struct kf *f, const char *token, int history, int bookmark_s) DROVER_WUR;

/* Writes a kubeconfig for the running server (its CA, bearer @token, namespace default)
 * to DIR/kubeconfig and its path into @path. Returns 0, or -1. */
int kf_write_kubeconfig(const struct kf *f, const char *token, char *path, size_t len) DROVER_WUR;

/* Installs the project's CRDs as a user does, `kubectl apply -k manifests/crds/` with
 * the real kubectl and @kubeconfig, and prints kubectl's output. Returns 0, or -1. */
int kf_apply_crds(const char *kubeconfig) DROVER_WUR;

/* Runs the real kubectl with @kubeconfig and @args (NULL-terminated), its stdout and stderr
 * into @out, killed after @timeout_s; echoes the command line and the output for the test
 * log. Returns kubectl's exit code, or -1 when it could not run or was killed. */
int kf_kubectl(const char *kubeconfig, const char *const args[], char *out, size_t len,
	       int timeout_s);

/* Applies @yaml as an operator does: written to DIR/apply.yaml, then `kubectl apply -f` with
 * @kubeconfig. Returns kubectl's exit code, or -1. */
int kf_kubectl_apply(const struct kf *f, const char *kubeconfig, const char *yaml);

/* Waits at most @max_s until virsh sees domain @name running on lab host @i and defined on
 * no other of the first @n_hosts. Returns true when it does. This function can't fail. */
bool kf_wait_running_on(const char *name, int i, int n_hosts, int max_s);

/* Prints the last @kib KiB of drover's log at @path (nothing when @path is "" or
 * unreadable), for a test's teardown. This function can't fail. */
void kf_print_log_tail(const char *path, size_t kib);

/* Counts the fields the server pruned as unknown by their type's schema so far (what a real
 * API server drops silently) and copies those log lines into @out. Returns the count, or -1
 * when the log cannot be read. */
int kf_pruned(const struct kf *f, char *out, size_t len);

/* Stops the server (SIGTERM, then SIGKILL after 5 s; an unclean exit is reported on stderr)
 * and removes the directory; accepts a fixture that did not start. */
void kf_stop(struct kf *f);

/* Seconds on the monotonic clock. This function can't fail. */
double kf_now_s(void);

/* "DIR/NAME" into @out. */
void kf_path(const struct kf *f, const char *name, char *out, size_t len);

/* Writes @text to @path. Returns 0 or -1. */
int kf_write_file(const char *path, const char *text) DROVER_WUR;

/* Runs @argv (absolute path) with stdout and stderr into @out, killed after @timeout_s.
 * Returns the exit code, or -1 when it could not run or was killed. */
int kf_run(char *const argv[], char *out, size_t len, int timeout_s);

/* Base64 of @len bytes of @in into @out (NUL-terminated). Returns 0, or -1 when it does
 * not fit. */
int kf_base64(const unsigned char *in, size_t len, char *out, size_t outlen) DROVER_WUR;

/* YAML for the first @n lab hosts as Kubernetes sees them: for each, a Secret bmc-HOST with
 * its BMC password and a Host fenced through that BMC (fence_ipmilan, passwordSecretRef),
 * keeping @reserved memory back. Returns its length, or -1 when it does not fit or a BMC
 * cannot be read. */
int kf_hosts_fenced_yaml(int n, const char *reserved, char *buf, size_t size) DROVER_WUR;

/* The JSON of a namespaced CustomResourceDefinition of group drover.io, version v1alpha1,
 * with the status subresource. Returns a string the caller frees, or NULL. */
char *kf_crd_json(const char *plural, const char *singular, const char *kind) DROVER_WUR;

#endif
