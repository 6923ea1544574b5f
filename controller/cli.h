/* cli: one function per drover subcommand. Each returns the process exit code. */
#ifndef DROVER_CLI_H
#define DROVER_CLI_H

/* Prints drover's version and the libvirt library version it runs against. */
int cli_version(int argc, char **argv);

#endif
