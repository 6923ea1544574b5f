/* cli_opts: the options every subcommand shares, parsed one way. */
#ifndef DROVER_CLI_OPTS_H
#define DROVER_CLI_OPTS_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "controller/serve/log.h"
#include "controller/loop/reconciler.h"

#define CLI_MAX_PATHS 256

/* Which options a subcommand accepts (bits). */
enum cli_opt_bit {
	CLI_OPT_FILES = 1u << 0,      /* -f PATH... */
	CLI_OPT_STATE_DIR = 1u << 1,  /* --state-dir DIR */
	CLI_OPT_LIMITS = 1u << 2,     /* --max-migrations N --max-outbound N --stop-timeout S --timeout S
				       * --keep-migrations N */
	CLI_OPT_OUTPUT = 1u << 3,     /* -o table|wide|json|yaml */
	CLI_OPT_DIR = 1u << 4,        /* --dir PATH */
	CLI_OPT_KUBECONFIG = 1u << 5, /* --kubeconfig FILE */
	CLI_OPT_METRICS = 1u << 6,    /* --metrics-addr ADDR */
	CLI_OPT_LOG_FORMAT = 1u << 7, /* --log-format logfmt|json */
	CLI_OPT_NAMESPACE = 1u << 8,  /* --namespace NS (-n NS) */
	CLI_OPT_MIGRATE = 1u << 9,    /* --to --mode --name --bandwidth --max-downtime --timeout
				       * --transport --encryption and the flags --allow-post-copy
				       * --no-wait */
	CLI_OPT_ESTIMATE = 1u << 10,  /* the flag --estimate */
	CLI_OPT_PRUNE = 1u << 11,     /* --prune (and directory mode: orphans are reported) */
	CLI_OPT_RESYNC = 1u << 12,    /* --resync SECONDS (run) */
};

/* What `drover migrate` asks for beyond the shared options. */
struct cli_migrate {
	const char *to, *mode, *name;  /* NULL unless given */
	const char *transport, *encryption; /* NULL unless given; checked by the decoder */
	double bandwidth_mibps;        /* -1 unless given */
	double max_downtime_ms;        /* -1 unless given */
	double timeout_s;              /* how long to follow; 0: until the Migration ends */
	bool allow_post_copy, no_wait;
};

struct cli_opts {
	const char *paths[CLI_MAX_PATHS];
	size_t n_paths;
	const char *state_dir;        /* STATE_DEFAULT_DIR unless given */
	const char *output;           /* "table" unless given */
	const char *dir;
	const char *kubeconfig;
	const char *metrics_addr;     /* HTTPD_DEFAULT_ADDR unless given; NULL for "" or "off" */
	enum log_format log_format;   /* LOG_FORMAT_LOGFMT unless given */
	const char *namespace;        /* NULL unless given */
	const char *args[8];          /* positional arguments (when no -f is open) */
	size_t n_args;
	struct rec_options rec;
	struct cli_migrate migrate;
	bool estimate;
};

/* Parses argv[1..argc) of subcommand @cmd, accepting the options in @allowed.
 * Returns 0, or -1 after printing the problem (an unknown option by its name) and @usage on
 * stderr. With --help or -h anywhere it prints @usage on stdout and exits 0: every command
 * calls it first, before it holds anything. */
int cli_parse(const char *cmd, const char *usage, unsigned allowed, int argc, char **argv,
	      struct cli_opts *o) DROVER_WUR;

/* True when option @name appears in @argv as "--name VALUE" or "--name=VALUE" (to tell a
 * default from a choice). This function can't fail. */
bool cli_opt_given(int argc, char **argv, const char *name);

/* The one rule for "the Kubernetes API or a directory?": the API when --kubeconfig is
 * given, or inside a pod (KUBERNETES_SERVICE_HOST set) unless @local_flag (--state-dir,
 * --dir) is given; the directory otherwise. Returns 1 for the API, 0 for the directory,
 * or -1 after saying on stderr that --kubeconfig and @local_flag exclude each other. */
int cli_wants_api(const char *cmd, int argc, char **argv, const char *local_flag)
	DROVER_WUR;

#endif
