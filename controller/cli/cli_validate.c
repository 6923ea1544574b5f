/* cli_validate: `drover validate -f PATH...` — check manifests, list every error. */
#include <stdio.h>
#include <string.h>

#include "controller/cli/cli.h"
#include "crd/load.h"

#define VALIDATE_USAGE "drover validate -f PATH..."

/* Prints "drover validate: @before@arg@after" and the usage. Returns 1, the exit code. */
static int usage_error(const char *before, const char *arg, const char *after)
{
	fprintf(stderr, "drover validate: %s%s%s\nusage: %s\n", before, arg, after, VALIDATE_USAGE);
	return 1;
}

/* Not cli_parse: validate also takes bare paths (drover validate a.yaml b/). */
int cli_validate(int argc, char **argv)
{
	const char *paths[256];
	size_t n = 0;
	struct crd_set set = {0};
	struct crd_errors errs = {0};
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *p = NULL, *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf("usage: %s\n", VALIDATE_USAGE);
			return 0;
		}
		if (!strcmp(a, "-f") || !strcmp(a, "--filename")) {
			if (i + 1 == argc)
				return usage_error("", a, " needs a value");
			p = argv[++i];
		} else if (!strncmp(a, "-f", 2) && a[2]) {
			p = a + 2;
		} else if (!strncmp(a, "--filename=", 11)) {
			p = a + 11;
		} else if (a[0] != '-' || !a[1]) {
			p = a;    /* -f a b c: the paths after one -f */
		} else {
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(a, "="), a);
			return usage_error("unknown option \"", name, "\"");
		}
		if (n == sizeof(paths) / sizeof(paths[0])) {
			fprintf(stderr, "drover validate: at most 256 paths\n");
			return 1;
		}
		paths[n++] = p;
	}
	if (n == 0) {
		fprintf(stderr, "drover validate: -f PATH is required\nusage: %s\n", VALIDATE_USAGE);
		return 1;
	}
	rc = crd_load_paths(paths, n, &set, &errs) == 0 ? 0 : 1;
	crd_errors_print(&errs, stderr);
	if (rc == 0)
		printf("valid: %zu hosts, %zu virtual machines, %zu migrations, %zu placement "
		       "policies\n", set.n_hosts, set.n_vms, set.n_migrations, set.n_policies);
	else
		fprintf(stderr, "%zu error%s\n", errs.n_errors, errs.n_errors == 1 ? "" : "s");
	crd_set_free(&set);
	crd_errors_free(&errs);
	return rc;
}
