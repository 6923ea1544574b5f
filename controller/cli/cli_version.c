/* cli_version: `drover version`. */
#include <stdio.h>

#include <libvirt/libvirt.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/cli/version.h"

#define VERSION_USAGE "drover version"

int cli_version(int argc, char **argv)
{
	struct cli_opts o;
	unsigned long lib = 0;

	if (cli_parse("version", VERSION_USAGE, 0, argc, argv, &o) < 0)
		return 1;
	if (o.n_args) {
		fprintf(stderr, "drover version: unexpected argument \"%s\"\nusage: %s\n", o.args[0],
			VERSION_USAGE);
		return 1;
	}

	if (virGetVersion(&lib, NULL, NULL) < 0)
		lib = 0;
	printf("drover %s (libvirt %lu.%lu.%lu)\n", DROVER_VERSION,
	       lib / 1000000, lib / 1000 % 1000, lib % 1000);
	return 0;
}
