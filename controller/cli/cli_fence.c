/* cli_fence: `drover fence HOST` — an operator's fence by hand (like `pcs stonith fence`):
 * runs the Host's own fence agent (Host.spec.fencing, as drover last recorded the Host in
 * the state dir) with action=off, then action=status must report it off. Only then is the
 * Host recorded fenced (status.fencing, condition Fenced), exactly as an automatic fence
 * is, so `drover run` or the next `drover apply` restarts its shared-storage VMs elsewhere
 * (safety rule 5). A fence that fails is recorded as failed: nothing is restarted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/dir/overrides.h"
#include "controller/dir/statedir.h"
#include "crd/validate.h"
#include "reconcile/clk.h"
#include "reconcile/fence.h"
#include "reconcile/status.h"

#define FENCE_USAGE "drover fence HOST [--namespace NS] [--state-dir DIR]"

/* Records the outcome in the state dir: the fence record (which a controller writing the
 * Host's status at the same moment cannot lose) and the Host's own status record (what
 * `drover status` shows). Returns 0, or -1 after saying what could not be written. */
static int record(const char *state_dir, struct crd_host *h, bool ok, const char *why)
{
	char now[32], msg[sizeof(((struct fence_result *)0)->reason) + 128];

	clk_rfc3339(now, sizeof(now));
	snprintf(msg, sizeof(msg), "drover fence: %s%s", ok ? h->spec.fencing.agent : "",
		 ok ? " confirmed it off" : why);
	if (status_host_fence_ran(h, "off", ok, now) < 0 ||
	    status_set_condition(&h->status.conditions, "Fenced", ok ? CRD_COND_TRUE : CRD_COND_FALSE,
				 ok ? "FenceAgent" : "FenceFailed", msg, h->meta.generation, now) < 0) {
		fprintf(stderr, "drover fence: host %s: out of memory: nothing recorded\n",
			h->meta.name);
		return -1;
	}
	if (ovr_record_fence(state_dir, h->meta.namespace, h->meta.name, &h->status.fencing) < 0 ||
	    state_write_host(state_dir, h) < 0) {
		fprintf(stderr, "drover fence: host %s: cannot record the fence under %s: %s\n",
			h->meta.name, state_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Runs @h's fence agent (off, then status). Returns 0 when it confirmed the host off, -1
 * after printing why not; @why gets the reason for the record, "" when nothing ran. */
static int power_off(struct crd_host *h, char *why, size_t why_size)
{
	const struct crd_fencing *f = &h->spec.fencing;
	struct fence_request req = {.agent = f->agent, .options = &f->options,
				    .timeout_s = f->timeout_s};
	struct fence_result res;
	char pwhy[256] = "", path[4096];
	char *password = NULL;
	int rc = -1;

	why[0] = '\0';
	/* Checked first so that a refusal says nothing ran (fence_off checks it again). */
	if (fence_check(&req, path, sizeof(path), &res) < 0) {
		fprintf(stderr, "drover fence: host %s: %s: nothing run\n", h->meta.name, res.reason);
		goto cleanup;
	}
	if (f->password_file && !(password = fence_read_password(f->password_file, pwhy,
								   sizeof(pwhy)))) {
		fprintf(stderr, "drover fence: host %s: %s: nothing run\n", h->meta.name, pwhy);
		goto cleanup;
	}
	if (!f->password_file && f->password_secret.name) {
		fprintf(stderr, "drover fence: host %s: its password is in Secret %s, which directory "
			"mode cannot read (passwordFile): nothing run\n", h->meta.name,
			f->password_secret.name);
		goto cleanup;
	}
	req.password = password;
	printf("host/%s: powering off with %s ...\n", h->meta.name, f->agent);
	fflush(stdout);
	rc = fence_off(&req, &res);
	if (rc < 0) {
		fprintf(stderr, "drover fence: host %s: %s\n", h->meta.name, res.reason);
		if (res.outcome != FENCE_REFUSED)
			snprintf(why, why_size, "%s", res.reason);
	}
cleanup:
	fence_wipe(password);
	return rc;
}

int cli_fence(int argc, char **argv)
{
	struct cli_opts o;
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	char why[sizeof(((struct fence_result *)0)->reason)];
	int rc = 1, api = cli_wants_api("fence", argc, argv, "--state-dir");

	if (cli_parse("fence", FENCE_USAGE, CLI_OPT_STATE_DIR | CLI_OPT_KUBECONFIG |
		      CLI_OPT_NAMESPACE, argc, argv, &o) < 0 || api < 0)
		return 1;
	if (o.n_args != 1) {
		fprintf(stderr, "drover fence: expected one HOST, got %zu arguments\nusage: %s\n",
			o.n_args, FENCE_USAGE);
		return 1;
	}
	if (api) {
		fprintf(stderr, "drover fence: Kubernetes mode is not supported yet; use --state-dir "
			"for directory mode\n");
		return 1;
	}
	const char *ns = o.namespace ? o.namespace : "default", *name = o.args[0];
	if (!crd_valid_dns_label(name) || !crd_valid_dns_label(ns)) {
		fprintf(stderr, "drover fence: host \"%s\" in namespace \"%s\": not a valid name "
			"(lower-case letters, digits and '-', at most 63)\n", name, ns);
		return 1;
	}
	/* The Host as drover last acted on it: its status record holds its spec too. */
	if (state_read_all(o.state_dir, &set, &errs) < 0) {
		crd_errors_print(&errs, stderr);
		goto cleanup;
	}
	struct crd_host *h = (struct crd_host *)crd_set_host(&set, ns, name);
	if (!h) {
		crd_errors_print(&errs, stderr);   /* a record that does not decode says why */
		fprintf(stderr, "drover fence: host %s/%s has no record in %s: drover has not seen it "
			"(run drover apply or drover run first)\n", ns, name, o.state_dir);
		goto cleanup;
	}
	if (!h->spec.fencing.agent) {
		fprintf(stderr, "drover fence: host %s has no spec.fencing: drover cannot power it "
			"off. Power it off yourself, then set spec.fenced: true in its manifest\n",
			name);
		goto cleanup;
	}
	int off = power_off(h, why, sizeof(why));
	/* A refusal ran nothing: there is nothing to record. */
	if ((off == 0 || why[0]) && record(o.state_dir, h, off == 0, why) < 0)
		goto cleanup;
	if (off < 0)
		goto cleanup;
	printf("host/%s fenced: %s confirmed it off; its shared-storage VMs restart elsewhere\n",
	       name, h->spec.fencing.agent);
	rc = 0;
cleanup:
	crd_errors_free(&errs);
	crd_set_free(&set);
	return rc;
}
