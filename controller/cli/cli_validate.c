/* cli_validate: `drover validate -f PATH...` — check manifests, list every error. */
#include <stdio.h>
#include <string.h>

#include "controller/cli/cli.h"
#include "crd/load.h"

int cli_validate(int argc, char **argv)
{
	const char *paths[256];
	size_t n = 0;
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *p = NULL;
		if (!strcmp(argv[i], "-f") && i + 1 < argc)
			p = argv[++i];
		else if (!strncmp(argv[i], "-f", 2) && argv[i][2])
			p = argv[i] + 2;
		else if (!strncmp(argv[i], "--filename=", 11))
			p = argv[i] + 11;
		else if (argv[i][0] != '-')
			p = argv[i];    /* -f a b c: the paths after one -f */
		if (!p) {
			fprintf(stderr, "usage: drover validate -f PATH...\n");
			return 1;
		}
		if (n == sizeof(paths) / sizeof(paths[0])) {
			fprintf(stderr, "drover validate: at most 256 paths\n");
			return 1;
		}
		paths[n++] = p;
	}
	if (n == 0) {
		fprintf(stderr, "usage: drover validate -f PATH...\n");
		return 1;
	}
	rc = crd_load_paths(paths, n, &set, &errs) == 0 ? 0 : 1;
	crd_errors_print(&errs, stderr);
	if (rc == 0)
		printf("valid: %zu hosts, %zu virtual machines, %zu migrations\n", set.n_hosts,
		       set.n_vms, set.n_migrations);
	else
		fprintf(stderr, "%zu error%s\n", errs.n_errors, errs.n_errors == 1 ? "" : "s");
	crd_set_free(&set);
	crd_errors_free(&errs);
	return rc;
}
