/* cli_drain: `drover drain HOST` and `drover undrain HOST` — set a Host's spec.drain through
 * the Kubernetes API (merge patch), or in directory mode through an override record in the
 * state dir (drover never writes into the manifests). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/kube_http.h"
#include "controller/dir/overrides.h"
#include "crd/validate.h"

#define DRAIN_OPTS "[--namespace NS] [--state-dir DIR | --kubeconfig FILE]"
#define DRAIN_USAGE "drover drain HOST " DRAIN_OPTS
#define UNDRAIN_USAGE "drover undrain HOST " DRAIN_OPTS
#define MERGE_PATCH "application/merge-patch+json"

int cli_merge_patch(const char *cmd, const char *kubeconfig, const struct kube_resource *res,
		    const char *ns, const char *name, const json_t *patch)
{
	struct kube_config cfg = {0};
	struct kube_client *c = NULL;
	struct kube_response r = {0};
	char err[512], path[KUBE_PATH_MAX];
	const char *what = res == &kube_res_host ? "host" : "virtualmachine";
	int rc = 1;

	if (kube_config_auto(kubeconfig, &cfg, err, sizeof(err)) < 0 ||
	    kube_client_new(&cfg, NULL, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "drover %s: %s\n", cmd, err);
		goto cleanup;
	}
	if (!patch || kube_path(path, sizeof(path), res, ns, name, NULL) < 0) {
		fprintf(stderr, "drover %s: %s %s: out of memory or name too long\n", cmd, what, name);
		goto cleanup;
	}
	if (kube_request(c, "PATCH", path, patch, MERGE_PATCH, &r) < 0) {
		fprintf(stderr, "drover %s: %s %s: %s\n", cmd, what, name, r.message);
		goto cleanup;
	}
	if (r.code == 404) {
		fprintf(stderr, "drover %s: %s \"%s\" not found in namespace \"%s\" (%s)\n", cmd,
			what, name, ns, r.message[0] ? r.message : "HTTP 404");
		goto cleanup;
	}
	if (r.code != 200) {
		fprintf(stderr, "drover %s: %s %s: HTTP %ld %s%s%s\n", cmd, what, name, r.code,
			r.reason, r.message[0] ? ": " : "", r.message);
		goto cleanup;
	}
	rc = 0;
cleanup:
	kube_response_free(&r);
	kube_client_free(c);
	kube_config_free(&cfg);
	return rc;
}

/* API mode: merge-patches {"spec": {"drain": @drain}} into Host @ns/@name. Returns the
 * exit code after printing the outcome. */
static int drain_api(const char *cmd, const char *kubeconfig, const char *ns, const char *name,
		     bool drain)
{
	json_t *patch = json_pack("{s:{s:b}}", "spec", "drain", drain);
	int rc = cli_merge_patch(cmd, kubeconfig, &kube_res_host, ns, name, patch);

	if (rc == 0)
		printf("host/%s %s\n", name, drain ? "drained" : "undrained");
	json_decref(patch);
	return rc;
}

/* Directory mode: writes or removes the override record of Host @ns/@name. Returns the
 * exit code after printing the outcome. */
static int drain_dir(const char *cmd, const char *state_dir, const char *ns, const char *name,
		     bool drain)
{
	char path[OVR_PATH_MAX], record[OVR_PATH_MAX];
	struct stat st;
	int rc = drain ? ovr_drain(state_dir, ns, name) : ovr_undrain(state_dir, ns, name);

	if (rc < 0) {
		int saved = errno;
		if (ovr_host_path(state_dir, ns, name, path, sizeof(path)) < 0)
			snprintf(path, sizeof(path), "%s", state_dir);
		fprintf(stderr, "drover %s: host %s: cannot %s %s: %s\n", cmd, name,
			drain ? "write" : "remove", path, strerror(saved));
		return 1;
	}
	/* The state dir knows the Hosts drover has seen: a name it never saw may be a typo. */
	if (drain && snprintf(record, sizeof(record), "%s/hosts/%s/%s.json", state_dir, ns, name) <
			     (int)sizeof(record) && stat(record, &st) < 0)
		fprintf(stderr, "drover %s: note: host %s/%s has no status in %s yet: the drain "
			"applies once a manifest declares it\n", cmd, ns, name, state_dir);
	printf("host/%s %s%s\n", name, rc == 0 ? "already " : "", drain ? "drained" : "undrained");
	return 0;
}

static int run(const char *cmd, const char *usage, bool drain, int argc, char **argv)
{
	struct cli_opts o;
	int api = cli_wants_api(cmd, argc, argv, "--state-dir");

	if (cli_parse(cmd, usage, CLI_OPT_STATE_DIR | CLI_OPT_KUBECONFIG | CLI_OPT_NAMESPACE, argc,
		      argv, &o) < 0)
		return 1;
	if (o.n_args != 1) {
		fprintf(stderr, "drover %s: expected one HOST, got %zu arguments\nusage: %s\n", cmd,
			o.n_args, usage);
		return 1;
	}
	if (api < 0)
		return 1;
	const char *ns = o.namespace ? o.namespace : "default", *name = o.args[0];
	if (!crd_valid_dns_label(name) || !crd_valid_dns_label(ns)) {
		fprintf(stderr, "drover %s: host \"%s\" in namespace \"%s\": not a valid name "
			"(lower-case letters, digits and '-', at most 63)\n", cmd, name, ns);
		return 1;
	}
	if (api)
		return drain_api(cmd, o.kubeconfig, ns, name, drain);
	return drain_dir(cmd, o.state_dir, ns, name, drain);
}

int cli_drain(int argc, char **argv)
{
	return run("drain", DRAIN_USAGE, true, argc, argv);
}

int cli_undrain(int argc, char **argv)
{
	return run("undrain", UNDRAIN_USAGE, false, argc, argv);
}
