/* cli_opts: the options every subcommand shares, parsed one way. */
#include "controller/cli/cli_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/serve/httpd.h"
#include "controller/dir/statedir.h"

/* A number for option @name in [@min, @max]. Returns 0, or -1 after saying why. */
static int parse_number(const char *cmd, const char *name, const char *text, double min,
			double max, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "drover %s: %s: expected a number from %g to %g, got \"%s\"\n", cmd,
			name, min, max, text);
		return -1;
	}
	*out = v;
	return 0;
}

/* Handles one limit option. Returns 1 when @opt was one, 0 when not, -1 on error. */
static int parse_limit(const char *cmd, const char *opt, const char *val, struct cli_opts *o)
{
	double v;

	if (!strcmp(opt, "--max-migrations") || !strcmp(opt, "--max-outbound")) {
		if (parse_number(cmd, opt, val, 1, 1000, &v) < 0)
			return -1;
		if (opt[6] == 'm')
			o->rec.limits.max_migrations = (unsigned)v;
		else
			o->rec.limits.max_outbound_per_host = (unsigned)v;
		return 1;
	}
	if (!strcmp(opt, "--stop-timeout"))
		return parse_number(cmd, opt, val, 0, 86400, &o->rec.stop_timeout_s) < 0 ? -1 : 1;
	if (!strcmp(opt, "--timeout"))
		return parse_number(cmd, opt, val, 1, 7 * 86400, &o->rec.timeout_s) < 0 ? -1 : 1;
	/* PlacementPolicy hostFailure.detectAfterSeconds, until that kind is decoded. */
	if (!strcmp(opt, "--detect-after"))
		return parse_number(cmd, opt, val, 1, 3600, &o->rec.failure.detect_after_s) < 0 ? -1 : 1;
	if (!strcmp(opt, "--keep-migrations")) {
		if (parse_number(cmd, opt, val, 0, 1000, &v) < 0)
			return -1;
		o->rec.keep_migrations = (unsigned)v;
		return 1;
	}
	return 0;
}

/* Handles one option of `drover migrate`. Returns 1 when @opt was one, 0 when not, -1 on
 * error. */
static int parse_migrate(const char *cmd, const char *opt, const char *val, struct cli_opts *o)
{
	struct cli_migrate *m = &o->migrate;

	if (!strcmp(opt, "--to"))
		m->to = val;
	else if (!strcmp(opt, "--mode"))
		m->mode = val;
	else if (!strcmp(opt, "--name"))
		m->name = val;
	else if (!strcmp(opt, "--transport"))
		m->transport = val;
	else if (!strcmp(opt, "--encryption"))
		m->encryption = val;
	else if (!strcmp(opt, "--bandwidth"))
		return parse_number(cmd, opt, val, 0, 1e6, &m->bandwidth_mibps) < 0 ? -1 : 1;
	else if (!strcmp(opt, "--max-downtime"))
		return parse_number(cmd, opt, val, 1, 1e6, &m->max_downtime_ms) < 0 ? -1 : 1;
	else if (!strcmp(opt, "--timeout"))
		return parse_number(cmd, opt, val, 0, 7 * 86400, &m->timeout_s) < 0 ? -1 : 1;
	else
		return 0;
	return 1;
}

/* Every option that takes a value, and the bit that allows it. */
static const struct {
	const char *name;
	unsigned bit;
} value_opts[] = {
	{"-f", CLI_OPT_FILES},              {"--filename", CLI_OPT_FILES},
	{"--state-dir", CLI_OPT_STATE_DIR}, {"-o", CLI_OPT_OUTPUT},
	{"--output", CLI_OPT_OUTPUT},       {"--dir", CLI_OPT_DIR},
	{"--kubeconfig", CLI_OPT_KUBECONFIG}, {"--metrics-addr", CLI_OPT_METRICS},
	{"--log-format", CLI_OPT_LOG_FORMAT}, {"--namespace", CLI_OPT_NAMESPACE},
	{"-n", CLI_OPT_NAMESPACE},          {"--max-migrations", CLI_OPT_LIMITS},
	{"--max-outbound", CLI_OPT_LIMITS}, {"--stop-timeout", CLI_OPT_LIMITS},
	{"--keep-migrations", CLI_OPT_LIMITS},
	{"--timeout", CLI_OPT_LIMITS | CLI_OPT_MIGRATE}, {"--to", CLI_OPT_MIGRATE},
	{"--mode", CLI_OPT_MIGRATE},        {"--name", CLI_OPT_MIGRATE},
	{"--bandwidth", CLI_OPT_MIGRATE},   {"--max-downtime", CLI_OPT_MIGRATE},
	{"--transport", CLI_OPT_MIGRATE},   {"--encryption", CLI_OPT_MIGRATE},
	{"--detect-after", CLI_OPT_LIMITS}, {"--resync", CLI_OPT_RESYNC},
};

/* True when @name is an option with a value that @allowed accepts. */
static bool takes_value(unsigned allowed, const char *name)
{
	for (size_t i = 0; i < sizeof(value_opts) / sizeof(value_opts[0]); i++)
		if (!strcmp(value_opts[i].name, name))
			return (allowed & value_opts[i].bit) != 0;
	return false;
}

/* Options that take no value. Returns true when @arg was one (and sets it). */
static bool parse_flag(unsigned allowed, const char *arg, struct cli_opts *o)
{
	if ((allowed & CLI_OPT_ESTIMATE) && !strcmp(arg, "--estimate"))
		return o->estimate = true;
	if ((allowed & CLI_OPT_PRUNE) && !strcmp(arg, "--prune")) {
		o->rec.orphans = REC_ORPHANS_PRUNE;
		return true;
	}
	if (!(allowed & CLI_OPT_MIGRATE))
		return false;
	if (!strcmp(arg, "--allow-post-copy"))
		return o->migrate.allow_post_copy = true;
	if (!strcmp(arg, "--no-wait"))
		return o->migrate.no_wait = true;
	return false;
}

/* Prints "drover CMD: <problem>" and the usage. Returns -1. */
__attribute__((format(printf, 3, 4)))
static int usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "drover %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return -1;
}

/* Splits "--name=value" and "--name value" forms: @name gets the option's name. Returns
 * its value, or NULL when it has none (the value of the last argument, or an unknown
 * option: nothing is taken from argv then). */
static const char *option_value(unsigned allowed, int argc, char **argv, int *i, char *name,
				size_t size)
{
	const char *eq = strchr(argv[*i], '=');
	if (eq && argv[*i][1] == '-') {
		snprintf(name, size, "%.*s", (int)(eq - argv[*i]), argv[*i]);
		return eq + 1;
	}
	snprintf(name, size, "%s", argv[*i]);
	if (!takes_value(allowed, name))
		return NULL;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

/* Answers --help (or -h) before anything else is looked at. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int cli_parse(const char *cmd, const char *usage, unsigned allowed, int argc, char **argv,
	      struct cli_opts *o)
{
	bool files_open = false;

	memset(o, 0, sizeof(*o));
	rec_options_default(&o->rec);
	o->state_dir = STATE_DEFAULT_DIR;
	o->output = "table";
	o->metrics_addr = HTTPD_DEFAULT_ADDR;
	o->migrate.bandwidth_mibps = o->migrate.max_downtime_ms = -1;
	if (wants_help(argc, argv)) {
		printf("usage: %s\n", usage);
		exit(0);
	}
	/* Directory mode reports drover's domains no manifest declares; --prune removes them. */
	if (allowed & CLI_OPT_PRUNE)
		o->rec.orphans = REC_ORPHANS_REPORT;
	for (int i = 1; i < argc; i++) {
		char name[64];
		const char *arg = argv[i];
		if (arg[0] != '-' || !arg[1]) {
			if (files_open && o->n_paths < CLI_MAX_PATHS)
				o->paths[o->n_paths++] = arg;   /* -f a b c */
			else if (!files_open && o->n_args < sizeof(o->args) / sizeof(o->args[0]))
				o->args[o->n_args++] = arg;
			else
				return usage_error(cmd, usage, "too many arguments at \"%s\"", arg);
			continue;
		}
		files_open = false;
		if (parse_flag(allowed, arg, o))
			continue;
		const char *val;
		if ((allowed & CLI_OPT_FILES) && !strncmp(arg, "-f", 2) && arg[2]) {
			snprintf(name, sizeof(name), "-f");
			val = arg + 2;  /* -fPATH */
		} else {
			val = option_value(allowed, argc, argv, &i, name, sizeof(name));
		}
		if (!takes_value(allowed, name))
			return usage_error(cmd, usage, "unknown option \"%s\"", name);
		if (!val)
			return usage_error(cmd, usage, "%s needs a value", name);
		if ((allowed & CLI_OPT_FILES) && (!strcmp(name, "-f") || !strcmp(name, "--filename"))) {
			if (o->n_paths == CLI_MAX_PATHS)
				return usage_error(cmd, usage, "at most %d paths", CLI_MAX_PATHS);
			o->paths[o->n_paths++] = val;
			files_open = true;
		} else if ((allowed & CLI_OPT_STATE_DIR) && !strcmp(name, "--state-dir")) {
			o->state_dir = val;
		} else if ((allowed & CLI_OPT_OUTPUT) && (!strcmp(name, "-o") || !strcmp(name, "--output"))) {
			if (strcmp(val, "table") && strcmp(val, "wide") && strcmp(val, "json") &&
			    strcmp(val, "yaml"))
				return usage_error(cmd, usage,
						   "-o: expected table, wide, json or yaml, got \"%s\"", val);
			o->output = val;
		} else if ((allowed & CLI_OPT_DIR) && !strcmp(name, "--dir")) {
			o->dir = val;
		} else if ((allowed & CLI_OPT_KUBECONFIG) && !strcmp(name, "--kubeconfig")) {
			o->kubeconfig = val;
		} else if ((allowed & CLI_OPT_METRICS) && !strcmp(name, "--metrics-addr")) {
			o->metrics_addr = *val && strcmp(val, "off") ? val : NULL;
		} else if ((allowed & CLI_OPT_LOG_FORMAT) && !strcmp(name, "--log-format")) {
			if (log_parse_format(val, &o->log_format) < 0)
				return usage_error(cmd, usage,
						   "--log-format: expected logfmt or json, got \"%s\"", val);
		} else if ((allowed & CLI_OPT_NAMESPACE) &&
			   (!strcmp(name, "--namespace") || !strcmp(name, "-n"))) {
			o->namespace = val;
		} else if ((allowed & CLI_OPT_RESYNC) && !strcmp(name, "--resync")) {
			if (parse_number(cmd, name, val, 1, 3600, &o->rec.resync_s) < 0)
				return -1;
		} else {
			int rc = (allowed & CLI_OPT_LIMITS) ? parse_limit(cmd, name, val, o) : 0;
			if (rc == 0 && (allowed & CLI_OPT_MIGRATE))
				rc = parse_migrate(cmd, name, val, o);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return usage_error(cmd, usage, "unknown option \"%s\"", name);
		}
	}
	if ((allowed & CLI_OPT_FILES) && !(allowed & CLI_OPT_DIR) && o->n_paths == 0)
		return usage_error(cmd, usage, "-f PATH is required");
	return 0;
}

bool cli_opt_given(int argc, char **argv, const char *name)
{
	size_t len = strlen(name);

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], name, len) && (!argv[i][len] || argv[i][len] == '='))
			return true;
	return false;
}

int cli_wants_api(const char *cmd, int argc, char **argv, const char *local_flag)
{
	bool kubeconfig = cli_opt_given(argc, argv, "--kubeconfig");
	bool local = cli_opt_given(argc, argv, local_flag);
	const char *in_cluster = getenv("KUBERNETES_SERVICE_HOST");

	if (kubeconfig && local) {
		fprintf(stderr, "drover %s: %s and --kubeconfig exclude each other\n", cmd, local_flag);
		return -1;
	}
	return kubeconfig || (!local && in_cluster && *in_cluster);
}
