/* cli_restart: `drover restart VM` — ask for a restart in place (graceful shutdown, start
 * on the same host) so a redefinition that waits for one (RestartRequired) takes effect.
 * Directory mode: a request in the state dir, which `drover run --dir` and `drover apply`
 * carry out; the request is removed as the restart begins (at most one restart per
 * request, also across a crash). Kubernetes mode: the annotation drover.io/restart on the
 * VirtualMachine, set to the time of the request (so a new request is a new value), which
 * the controller removes as the restart begins. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/dir/overrides.h"
#include "controller/kube/kube_http.h"
#include "controller/kube/kube_status.h"
#include "crd/validate.h"
#include "reconcile/clk.h"

#define RESTART_USAGE "drover restart VM [--namespace NS] [--state-dir DIR | --kubeconfig FILE]"

/* API mode: sets the restart annotation of VM @ns/@name to now. Returns the exit code. */
static int restart_api(const char *kubeconfig, const char *ns, const char *name)
{
	char now[40];

	clk_rfc3339_micro(now, sizeof(now));
	json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
				  KUBE_ANNOTATION_RESTART, now);
	int rc = cli_merge_patch("restart", kubeconfig, &kube_res_vm, ns, name, patch);

	if (rc == 0)
		printf("virtualmachine/%s restart requested: the drover controller carries it out\n",
		       name);
	json_decref(patch);
	return rc;
}

int cli_restart(int argc, char **argv)
{
	struct cli_opts o;
	int api = cli_wants_api("restart", argc, argv, "--state-dir");

	if (cli_parse("restart", RESTART_USAGE, CLI_OPT_STATE_DIR | CLI_OPT_KUBECONFIG |
		      CLI_OPT_NAMESPACE, argc, argv, &o) < 0 || api < 0)
		return 1;
	if (o.n_args != 1) {
		fprintf(stderr, "drover restart: expected one VM, got %zu arguments\nusage: %s\n",
			o.n_args, RESTART_USAGE);
		return 1;
	}
	const char *ns = o.namespace ? o.namespace : "default", *name = o.args[0];
	if (!crd_valid_dns_label(name) || !crd_valid_dns_label(ns)) {
		fprintf(stderr, "drover restart: VM \"%s\" in namespace \"%s\": not a valid name\n",
			name, ns);
		return 1;
	}
	if (api)
		return restart_api(o.kubeconfig, ns, name);
	if (ovr_request_restart(o.state_dir, ns, name) < 0) {
		fprintf(stderr, "drover restart: %s/%s: cannot write the request under %s: %s\n", ns,
			name, o.state_dir, strerror(errno));
		return 1;
	}
	printf("virtualmachine/%s restart requested: drover run carries it out, or the next "
	       "drover apply\n", name);
	return 0;
}
