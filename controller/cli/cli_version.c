/* cli_version: `drover version`. */
#include <stdio.h>

#include <libvirt/libvirt.h>

#include "controller/cli/cli.h"
#include "controller/cli/version.h"

int cli_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	unsigned long lib = 0;

	if (virGetVersion(&lib, NULL, NULL) < 0)
		lib = 0;
	printf("drover %s (libvirt %lu.%lu.%lu)\n", DROVER_VERSION,
	       lib / 1000000, lib / 1000 % 1000, lib % 1000);
	return 0;
}
