/* drover: the command-line entry point; dispatches to one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "controller/cli/cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{"validate", cli_validate, "drover validate -f PATH...   check manifests; exit 1 on any error"},
	{"plan", cli_plan, "drover plan -f PATH... [--estimate]  show what apply would do; exit 0 none, 2 pending, 1 error"},
	{"apply", cli_apply, "drover apply -f PATH...      converge once; exit 0 converged, 1 failed"},
	{"status", cli_status, "drover status [-o table|wide|json|yaml] [--state-dir DIR]"},
	{"run", cli_run, "drover run --dir PATH [--state-dir DIR] [--log-format logfmt|json]   controller over a watched directory"},
	{"run", cli_run, "drover run --kubeconfig FILE [--log-format logfmt|json]   controller over the Kubernetes API (in a pod: no flag)"},
	{"drain", cli_drain, "drover drain HOST [--namespace NS] [--state-dir DIR | --kubeconfig FILE]   evacuate a host"},
	{"undrain", cli_undrain, "drover undrain HOST [--namespace NS] [--state-dir DIR | --kubeconfig FILE]"},
	{"fence", cli_fence, "drover fence HOST [--namespace NS] [--state-dir DIR]   power a host off through its fence agent"},
	{"migrate", cli_migrate, "drover migrate VM [--to HOST] [--mode Live|Cold|Auto] [--namespace NS] [--state-dir DIR | --kubeconfig FILE]   move a VM and follow it"},
	{"restart", cli_restart, "drover restart VM [--namespace NS] [--state-dir DIR | --kubeconfig FILE]   restart in place (applies RestartRequired changes)"},
	{"version", cli_version, "drover version"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "drover: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 1;
}
