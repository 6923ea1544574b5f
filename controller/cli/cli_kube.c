/* cli_kube: `drover run --kubeconfig FILE` (or `drover run` in a pod) — the controller over
 * the Kubernetes API, until SIGTERM/SIGINT or until leadership is lost (then exit 1: the
 * next leader observes libvirt and finishes what was under way, per safety rule 4). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/serve/httpd.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/kube_controller.h"
#include "controller/serve/log.h"

#define KUBE_USAGE                                                                             \
	"drover run [--kubeconfig FILE] [--namespace NS] [--lease-namespace NS] [--id ID] "      \
	"[--lease-duration SECONDS] [--max-migrations N] [--max-outbound N] "                   \
	"[--stop-timeout SECONDS] [--keep-migrations N] [--resync SECONDS] "                  \
	"[--metrics-addr ADDR|off] "                                                          \
	"[--log-format logfmt|json]"
/* On SIGTERM the worker finishes its pass (it never waits for a job) and ends; if it does
 * not by then, the process exits anyway (a restart at any moment is safe). Moves under
 * way are never aborted by a stop: the next leader takes them over. */
#define KUBE_STOP_WAIT_S 20
/* Once leadership is lost another replica may lead within lease - renew deadline seconds. */
#define KUBE_LOST_WAIT_S 3

/* The options only this mode has; the shared ones go through cli_parse. */
struct kube_cli {
	const char *namespace, *lease_namespace, *identity;
	double lease_duration_s;
	char sa_namespace[64];
};

/* SIGTERM and SIGINT are blocked in every thread (before any starts) and taken by the main
 * thread with sigtimedwait: no handler, no pipe. */
static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -1;
}

/* The client's lines become drover's log lines (they never hold the token). */
static void client_log(void *opaque, enum kube_log_level level, const char *line)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	(void)opaque;
	log_kv(names[level <= KUBE_LOG_ERROR ? level : KUBE_LOG_ERROR], line, "component", "kube", NULL);
}

/* Takes this mode's options out of @argv (compacting it). Returns 0, or -1 after saying
 * what is wrong. */
static int take_kube_options(int *argc, char **argv, struct kube_cli *k)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		static const char *const names[] = {"--namespace", "--lease-namespace", "--id",
						    "--lease-duration"};
		const char **slots[] = {&k->namespace, &k->lease_namespace, &k->identity, NULL};
		const char *val = NULL;
		size_t which = 4;

		for (size_t n = 0; n < 4 && which == 4; n++) {
			size_t len = strlen(names[n]);
			if (!strcmp(argv[i], names[n])) {
				which = n;
				val = i + 1 < *argc ? argv[++i] : NULL;
			} else if (!strncmp(argv[i], names[n], len) && argv[i][len] == '=') {
				which = n;
				val = argv[i] + len + 1;
			}
		}
		if (!strcmp(argv[i], "--dir") || !strncmp(argv[i], "--dir=", 6)) {
			fprintf(stderr, "drover run: --dir and --kubeconfig exclude each other\n");
			return -1;
		}
		if (which == 4) {
			argv[out++] = argv[i];
			continue;
		}
		if (!val || !*val) {
			fprintf(stderr, "drover run: %s needs a value\nusage: %s\n", names[which], KUBE_USAGE);
			return -1;
		}
		if (slots[which]) {
			*slots[which] = val;
			continue;
		}
		char *end = NULL;
		k->lease_duration_s = strtod(val, &end);
		if (*end || k->lease_duration_s < 3 || k->lease_duration_s > 600) {
			fprintf(stderr, "drover run: --lease-duration: expected 3 to 600 seconds, got \"%s\"\n",
				val);
			return -1;
		}
	}
	*argc = out;
	return 0;
}

/* The Lease's namespace: --lease-namespace, else the pod's, else "default". */
static const char *lease_namespace(struct kube_cli *k)
{
	char path[256];
	char *text;

	if (k->lease_namespace)
		return k->lease_namespace;
	snprintf(path, sizeof(path), "%s/namespace", KUBE_SA_DIR);
	text = kube_read_file(path, NULL);
	if (text) {
		text[strcspn(text, " \r\n\t")] = '\0';
		snprintf(k->sa_namespace, sizeof(k->sa_namespace), "%s", text);
		free(text);
	}
	return k->sa_namespace[0] ? k->sa_namespace : "default";
}

static struct kube_client *connect_api(const char *kubeconfig)
{
	struct kube_config cfg = {0};
	struct kube_client_options co;
	struct kube_client *c = NULL;
	char err[512];

	if (kube_config_auto(kubeconfig, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "drover run: %s\n", err);
		return NULL;
	}
	kube_client_options_default(&co);
	co.log = client_log;
	if (kube_client_new(&cfg, &co, &c, err, sizeof(err)) < 0)
		fprintf(stderr, "drover run: %s\n", err);
	if (c)
		log_kv("info", "connecting", "server", cfg.server ? cfg.server : "", NULL);
	kube_config_free(&cfg);
	return c;
}

/* Returns on SIGTERM/SIGINT, or within a tick once leadership is lost. */
static void wait_for_stop(struct kube_controller *k, const sigset_t *signals)
{
	const struct timespec tick = {.tv_sec = 0, .tv_nsec = 200 * 1000 * 1000};

	while (!kube_controller_lost(k))
		if (sigtimedwait(signals, NULL, &tick) > 0)
			return;
}

/* Starts the controller and runs until asked to stop. Returns the exit code. */
static int run(struct kube_client *c, struct kube_controller_options *ko, struct httpd *http,
	       const sigset_t *signals)
{
	char err[512], lease[300];
	struct kube_controller *k = kube_controller_start(c, ko, err, sizeof(err));

	if (!k) {
		log_kv("error", err, NULL);
		return 1;
	}
	snprintf(lease, sizeof(lease), "%s/drover", ko->lease_namespace);
	log_kv("info", "synced: waiting for leadership", "namespace", ko->namespace ? ko->namespace : "*",
	       "lease", lease, "identity", ko->identity ? ko->identity : "hostname_pid", NULL);
	httpd_set_ready(http, true);
	wait_for_stop(k, signals);
	bool lost = kube_controller_lost(k);
	log_kv("info", "stopping", NULL);
	if (!kube_controller_stop(k, lost ? KUBE_LOST_WAIT_S : KUBE_STOP_WAIT_S)) {
		log_kv("error", "the worker did not stop in time: exiting now", NULL);
		_exit(1);
	}
	size_t left = kube_controller_handover(k);
	if (left) {
		/* Not aborted: the source's libvirtd carries each move on, and the next leader
		 * takes it over and writes its end. */
		log_kv("info", "stopped: actions under way are left to the next leader", "running",
		       LOG_INT(left), NULL);
		fflush(stdout);
		_exit(lost ? 1 : 0);
	}
	kube_client_stop(c);
	kube_controller_free(k);
	return lost ? 1 : 0;
}

int cli_run_kube(int argc, char **argv)
{
	struct kube_cli kc = {0};
	struct kube_controller_options ko;
	struct cli_opts o;
	struct kube_client *c = NULL;
	struct metrics *metrics = NULL;
	struct httpd *http = NULL;
	sigset_t signals;
	char err[256];
	int rc = 1;

	if (take_kube_options(&argc, argv, &kc) < 0 ||
	    cli_parse("run", KUBE_USAGE, CLI_OPT_KUBECONFIG | CLI_OPT_LIMITS | CLI_OPT_RESYNC |
					 CLI_OPT_METRICS | CLI_OPT_LOG_FORMAT, argc, argv, &o) < 0)
		return 1;
	log_set_format(o.log_format);
	kube_controller_options_default(&ko);
	ko.rec.limits = o.rec.limits;
	ko.rec.stop_timeout_s = o.rec.stop_timeout_s;
	ko.rec.keep_migrations = o.rec.keep_migrations;
	ko.rec.resync_s = o.rec.resync_s;
	ko.namespace = kc.namespace;
	ko.lease_namespace = lease_namespace(&kc);
	ko.identity = kc.identity;
	if (kc.lease_duration_s > 0) {
		ko.lease_duration_s = kc.lease_duration_s;
		ko.renew_deadline_s = kc.lease_duration_s * 2 / 3;
		ko.retry_period_s = kc.lease_duration_s * 2 / 15;
	}
	if (block_signals(&signals) < 0 || !(metrics = metrics_new()))
		goto cleanup;
	ko.metrics = metrics;
	if (o.metrics_addr && !(http = httpd_start(o.metrics_addr, metrics, err, sizeof(err)))) {
		fprintf(stderr, "drover run: --metrics-addr %s\n", err);
		goto cleanup;
	}
	c = connect_api(o.kubeconfig);
	if (c)
		rc = run(c, &ko, http, &signals);
cleanup:
	kube_client_free(c);
	httpd_stop(http);
	metrics_free(metrics);
	return rc;
}
