/* cli: one function per drover subcommand. Each returns the process exit code. */
#ifndef DROVER_CLI_H
#define DROVER_CLI_H

/* Prints drover's version and the libvirt library version it runs against. */
int cli_version(int argc, char **argv);

/* Checks manifests (-f files or directories); exit 0 when all valid, 1 with every error listed. */
int cli_validate(int argc, char **argv);

#endif
