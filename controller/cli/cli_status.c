/* cli_status: `drover status` — what the state dir records about hosts, VMs and migrations. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/dir/lastvalid.h"
#include "controller/dir/statedir.h"
#include "controller/cli/status_print.h"

#define STATUS_USAGE "drover status [-o table|wide|json|yaml] [--state-dir DIR | --kubeconfig FILE]"

int cli_status(int argc, char **argv)
{
	struct cli_opts o;
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	struct lastvalid_note note = {0};
	int rc = 1, invalid = 0;

	if (cli_parse("status", STATUS_USAGE, CLI_OPT_STATE_DIR | CLI_OPT_OUTPUT | CLI_OPT_KUBECONFIG,
		      argc, argv, &o) < 0)
		goto cleanup;
	if (o.kubeconfig) {
		fprintf(stderr, "drover status --kubeconfig: not implemented yet; use kubectl get "
				"vm,host,migration\n");
		goto cleanup;
	}
	if (o.n_args) {
		fprintf(stderr, "drover status: unexpected argument \"%s\"\nusage: %s\n", o.args[0],
			STATUS_USAGE);
		goto cleanup;
	}
	/* A missing dir reads as empty; one that cannot be listed is an error naming it. */
	if (state_read_all(o.state_dir, &set, &errs) < 0) {
		crd_errors_print(&errs, stderr);
		if (errs.n_errors == 0)
			fprintf(stderr, "drover status: cannot read %s: out of memory\n", o.state_dir);
		goto cleanup;
	}
	crd_errors_print(&errs, stderr);    /* skipped records, as notes */
	/* run --dir records there that the manifests are invalid (and what it acts on). */
	if ((invalid = lastvalid_note_read(o.state_dir, &note)) < 0)
		fprintf(stderr, "drover status: note: %s/manifests.json is not readable: whether the "
				"manifests are valid is unknown\n", o.state_dir);
	bool table = !strcmp(o.output, "table") || !strcmp(o.output, "wide");
	if (set.n_hosts + set.n_vms + set.n_migrations == 0 && invalid <= 0) {
		/* A table says so to the reader; json and yaml still print an (empty) List for scripts. */
		fprintf(table ? stdout : stderr,
			"no status recorded in %s (run drover apply or drover run first)\n", o.state_dir);
		if (table) {
			rc = 0;
			goto cleanup;
		}
	}
	if (status_print(stdout, &set, invalid > 0 ? &note : NULL, o.output, time(NULL)) < 0) {
		fprintf(stderr, "drover status: printing failed (out of memory or a write error)\n");
		goto cleanup;
	}
	rc = 0;
cleanup:
	crd_errors_free(&errs);
	lastvalid_note_free(&note);
	crd_set_free(&set);
	return rc;
}
