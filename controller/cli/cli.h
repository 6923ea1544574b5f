/* cli: one function per drover subcommand. Each returns the process exit code. */
#ifndef DROVER_CLI_H
#define DROVER_CLI_H

#include <jansson.h>

/* Prints drover's version and the libvirt library version it runs against. */
int cli_version(int argc, char **argv);

/* Checks manifests (-f files or directories); exit 0 when all valid, 1 with every error listed. */
int cli_validate(int argc, char **argv);

/* Shows what apply would do without changing anything; exit 0 nothing to do, 2 changes
 * pending, 1 error. */
int cli_plan(int argc, char **argv);

/* Converges once: exit 0 when converged, 1 when something failed or is blocked. */
int cli_apply(int argc, char **argv);

/* Prints the status recorded in the state dir (table, wide, json or yaml); exit 0, or 1 on error. */
int cli_status(int argc, char **argv);

/* The controller: over a directory of manifests, or over the Kubernetes API (cli_run_kube)
 * when cli_wants_api says so; runs until SIGTERM/SIGINT. */
int cli_run(int argc, char **argv);
int cli_run_kube(int argc, char **argv);

/* Sets (drain) or clears (undrain) a Host's spec.drain: through the Kubernetes API, or in
 * directory mode as an override record in the state dir. Exit 0, or 1 with the problem. */
int cli_drain(int argc, char **argv);
int cli_undrain(int argc, char **argv);

/* API mode of drain, undrain and restart: merge-patches @patch (NULL: out of memory) into
 * object @ns/@name of @res with the kubeconfig @kubeconfig (NULL: in-cluster or
 * $KUBECONFIG). Returns 0, or 1 after printing the problem ("drover CMD: ..."). */
struct kube_resource;
int cli_merge_patch(const char *cmd, const char *kubeconfig, const struct kube_resource *res,
		    const char *ns, const char *name, const json_t *patch);

/* Creates a Migration (through the API, or as a request in the state dir) and follows it
 * with a progress bar until it ends. Exit 0 when it succeeded, 1 otherwise. */
int cli_migrate(int argc, char **argv);

/* drover fence HOST: powers a Host off by hand through its fence agent and records it
 * fenced once the agent confirmed it off (directory mode). Exit 0 when fenced, 1 otherwise. */
int cli_fence(int argc, char **argv);

/* drover restart VM: ask for a restart in place. Returns the exit code. */
int cli_restart(int argc, char **argv);

#endif
