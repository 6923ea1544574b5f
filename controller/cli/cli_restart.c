/* cli_restart: `drover restart VM` — ask for a restart in place (graceful shutdown, start
 * on the same host) so a redefinition that waits for one (RestartRequired) takes effect.
 * Directory mode: a request in the state dir, which `drover run --dir` and `drover apply`
 * carry out; the request is removed as the restart begins (at most one restart per
 * request, also across a crash). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/dir/overrides.h"
#include "crd/validate.h"

#define RESTART_USAGE "drover restart VM [--namespace NS] [--state-dir DIR]"

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
	if (api) {
		fprintf(stderr, "drover restart: Kubernetes mode is not supported yet; use "
			"--state-dir for directory mode\n");
		return 1;
	}
	if (!crd_valid_dns_label(name) || !crd_valid_dns_label(ns)) {
		fprintf(stderr, "drover restart: VM \"%s\" in namespace \"%s\": not a valid name\n",
			name, ns);
		return 1;
	}
	if (ovr_request_restart(o.state_dir, ns, name) < 0) {
		fprintf(stderr, "drover restart: %s/%s: cannot write the request under %s: %s\n", ns,
			name, o.state_dir, strerror(errno));
		return 1;
	}
	printf("virtualmachine/%s restart requested: drover run carries it out, or the next "
	       "drover apply\n", name);
	return 0;
}
