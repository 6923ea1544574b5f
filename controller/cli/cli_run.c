/* cli_run: `drover run --dir PATH` — the controller over a directory of manifests.
 * It reconciles when a manifest changes (inotify), when libvirt reports a domain
 * lifecycle event or a lost connection, when an action ends, and periodically, until
 * SIGTERM/SIGINT; then it exits at once, leaving the actions under way to the next drover. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/dir/dirwatch.h"
#include "controller/dir/lastvalid.h"
#include "controller/serve/httpd.h"
#include "controller/kube/kube_controller.h"
#include "controller/serve/log.h"
#include "controller/serve/metrics.h"
#include "controller/serve/notify.h"
#include "controller/dir/overrides.h"
#include "controller/dir/quiet.h"
#include "controller/loop/reconciler.h"
#include "controller/dir/statedir.h"
#include "controller/cli/view.h"
#include "reconcile/clk.h"
#include "reconcile/status.h"

#define RUN_USAGE                                                                        \
	"drover run --dir PATH [--state-dir DIR] [--max-migrations N] [--max-outbound N] " \
	"[--stop-timeout SECONDS] [--keep-migrations N] [--detect-after SECONDS] "            \
	"[--resync SECONDS] [--metrics-addr ADDR|off] [--log-format logfmt|json] [--prune]\n" \
	"       drover run --kubeconfig FILE [options]   (the API's options: drover run "    \
	"--kubeconfig FILE --help)"
/* Editors write a file in several steps; wait for the burst to end. */
#define RUN_DEBOUNCE_S 0.1
/* A pass is followed by the next one no sooner than this: a storm of libvirt events (a
 * flapping connection) cannot spin the controller. */
#define RUN_MIN_GAP_S 1.0

/* Written by the signal handler and libvirt's event thread; read by the loop. */
static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t stopping;

static void poke(void)
{
	char byte = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], &byte, 1) < 0) {
		/* The pipe is full: a wake-up is already pending, which is all we need. */
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	poke();
}

/* A libvirt event on a host, or (@host NULL) an action's end: a pass follows. */
static void on_libvirt_event(void *opaque, const char *host)
{
	(void)opaque;
	(void)host;
	poke();
}

/* What /metrics shows, fed through wrappers of the status sink and the progress view
 * (the reconciler stays unaware of it). Set before the reconciler starts. */
static struct metrics *run_metrics;
static void (*run_sink_host)(void *opaque, struct crd_host *h);

static void on_host_status(void *opaque, struct crd_host *h)
{
	if (run_sink_host)
		run_sink_host(opaque, h);
	metrics_set_host(run_metrics, h->meta.name,
			 status_condition_true(&h->status.conditions, "Reachable"));
	metrics_set_host_failure(run_metrics, h->meta.name,
				 status_condition_true(&h->status.conditions, "Failed"),
				 h->status.fencing.time, h->status.fencing.result);
}

/* A controller draws no progress bars: a move's progress is in its status and in
 * /metrics, its end in the log. */
static void on_move_update(void *opaque, const struct plan_action *a, const struct exec_move *m)
{
	(void)opaque;
	metrics_on_move(run_metrics, a->vm->meta.namespace, a->vm->meta.name, m);
}

static void on_failover(void *opaque, const char *host, double seconds)
{
	(void)opaque;
	(void)host;
	metrics_on_failover(run_metrics, seconds);
}

/* Orphans are in their records (phase Orphaned) and counted in /metrics. */
static void on_orphans(void *opaque, const struct plan_orphans *o)
{
	(void)opaque;
	metrics_set_orphans(run_metrics, o->n);
}

static void drain_pipe(void)
{
	char buf[256];
	while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* Loads what the directory asks for (manifests, requests and overrides of the state dir,
 * recorded status). Returns 0, or -1 after logging why (then nothing may change), with the
 * errors moved into @keep when not NULL. */
static int load_from(const char *dir, const struct cli_opts *o, enum ovr_load what,
		     struct crd_set *set, struct crd_errors *keep)
{
	const char *paths[] = {dir};
	struct crd_errors errs = {0};
	int rc = ovr_load_desired(paths, 1, o->state_dir, what, set, &errs);

	if (rc < 0) {
		char first[1024] = "";
		for (size_t i = 0; !first[0] && i < errs.n; i++)
			if (errs.items[i].severity == CRD_SEV_ERROR)
				(void)crd_error_format(&errs.items[i], first, sizeof(first));
		crd_errors_print(&errs, stderr);
		log_kv("error", "manifests invalid", "dir", dir, "errors", LOG_INT(errs.n_errors),
		       "first", first, NULL);
	}
	/* Notes: overrides or requests that do not apply, status records not readable. */
	for (size_t i = 0; rc == 0 && i < errs.n; i++)
		log_kv("warn", errs.items[i].message, "file", errs.items[i].file, "object",
		       errs.items[i].object ? errs.items[i].object : "-", NULL);
	if (rc < 0 && keep)
		crd_errors_move(keep, &errs);
	crd_errors_free(&errs);
	return rc;
}

/* The manifests changed since the last valid set was saved (the first pass: unknown). */
static bool manifests_changed = true;
/* When the manifests became invalid (RFC 3339), "" while they are valid. */
static char invalid_since[32];

/* Records in the state dir for `drover status` that the manifests are invalid (@errs),
 * acting on @last (NULL: on nothing). Logs when that fails: status then misses it. */
static void note_invalid(const struct cli_opts *o, const char *last, const struct crd_errors *errs)
{
	if (lastvalid_note_invalid(o->state_dir, invalid_since, last, errs) < 0)
		log_kv("warn", "invalid manifests not recorded for drover status", "error",
		       strerror(errno), NULL);
}


/* Loads the manifests; while they are invalid, the last valid set saved in the state dir
 * instead, so that failover and everything else goes on (and says so every pass). Returns 0,
 * or -1 when neither loads (nothing may change). */
static int load_desired(const struct cli_opts *o, enum ovr_load what, struct crd_set *set)
{
	char last[4096];
	struct crd_errors errs = {0};
	int rc = -1;

	if (load_from(o->dir, o, what, set, &errs) == 0) {
		if (invalid_since[0])
			log_kv("info", "manifests valid again", "invalid_since", invalid_since, NULL);
		/* Also a record an earlier run left: it is about manifests no longer there. */
		if ((invalid_since[0] || manifests_changed) && lastvalid_note_valid(o->state_dir) < 0)
			log_kv("warn", "stale invalid-manifests record not removed", "error",
			       strerror(errno), NULL);
		invalid_since[0] = '\0';
		metrics_set_manifests_valid(run_metrics, true);
		if (manifests_changed && what == OVR_UNFINISHED) {
			if (lastvalid_save(o->dir, o->state_dir) == 0)
				manifests_changed = false;
			else
				log_kv("warn", "last valid manifests not saved", "error",
				       strerror(errno), NULL);
		}
		return 0;
	}
	crd_set_free(set);
	metrics_set_manifests_valid(run_metrics, false);
	if (!invalid_since[0])
		clk_rfc3339(invalid_since, sizeof(invalid_since));
	if (lastvalid_find(o->state_dir, last, sizeof(last)) < 0 ||
	    load_from(last, o, what, set, NULL) < 0) {
		crd_set_free(set);
		note_invalid(o, NULL, &errs);
		log_kv("error", "manifests invalid and no valid set saved: nothing changed", "since",
		       invalid_since, NULL);
		goto cleanup;
	}
	note_invalid(o, last, &errs);
	log_kv("error", "manifests invalid: acting on the last valid set", "since", invalid_since,
	       "last_valid", last, NULL);
	rc = 0;
cleanup:
	crd_errors_free(&errs);
	return rc;
}

/* What a pass leaves to do with its set, called by rec_pass under its lock. */
struct pass_end {
	const struct cli_opts *o;
	size_t vms;
	bool removed;     /* a record or an override was removed: the set is not as loaded */
};

static void after_pass(void *opaque, const struct crd_set *set, const struct plan *plan)
{
	struct pass_end *e = opaque;

	(void)plan;

	e->removed = ovr_forget_finished(e->o->state_dir, set) != 0;
	/* The Hosts' status holds them now. */
	e->removed |= ovr_forget_fences(e->o->state_dir, set) != 0;
	e->removed |= state_prune_migrations(e->o->state_dir, set, e->o->rec.keep_migrations) != 0;
	metrics_set_vm_phases(run_metrics, set->vms, set->n_vms);
	e->vms = set->n_vms;
}

/* The log line of a pass begun at @started (monotonic) over @vms VMs; a quiet one says so. */
static void log_reconciled(size_t vms, const struct rec_result *res, double started, bool quiet)
{
	char took[32];

	snprintf(took, sizeof(took), "%.3f", clk_mono() - started);
	/* Without @quiet the list ends before its "quiet" pair. */
	log_kv("info", "reconciled", "vms", LOG_INT(vms), "done", LOG_INT(res->actions_done),
	       "failed", LOG_INT(res->actions_failed), "blocked", LOG_INT(res->blocked),
	       "running", LOG_INT(res->running), "converged", res->converged ? "true" : "false",
	       "seconds", took, quiet ? "quiet" : NULL, "true", NULL);
}

/* One pass: load, observe, plan, dispatch — it never waits for an action, so a new VM, a
 * stop or a cancel is acted on while moves run — or, when allowed, a quiet pass. While the
 * manifests are invalid the errors are printed every pass and the pass acts on the last
 * valid set (a typo must not stop failover); without one, the pass is skipped. Returns true
 * when a pass right now would find more to do. */
static bool reconcile_once(struct rec *r, const struct cli_opts *o, const char *odir,
			   struct state_sink *ds, struct quiet *q, bool files_changed)
{
	struct crd_set set = {0};
	struct rec_result res;
	struct pass_end e = {.o = o};
	double started = clk_mono();
	bool failed = true, again = false, kept = false;

	if (quiet_allowed(q, o->dir, odir, files_changed) &&
	    rec_quiet_pass(r, &q->hosts, q->key) > 0) {
		struct rec_result quiet = {.converged = true};
		log_reconciled(q->vms, &quiet, started, true);
		metrics_on_reconcile(run_metrics, clk_mono() - started, false);
		return false;
	}
	quiet_begin(q, r, o->dir, odir, ds);
	if (load_desired(o, OVR_UNFINISHED, &set) < 0)
		goto cleanup;
	if (rec_pass_keep(r, &set, &kept, &res, after_pass, &e) < 0) {
		log_kv("error", "reconcile failed: out of memory", NULL);
		goto cleanup;
	}
	quiet_end(q, r, &set, kept, !e.removed && !invalid_since[0], &res, e.vms, ds);
	log_reconciled(e.vms, &res, started, false);
	failed = res.actions_failed > 0;
	again = res.again;
cleanup:
	metrics_on_reconcile(run_metrics, clk_mono() - started, failed);
	crd_set_free(&set);
	return again;
}

/* The manifests changed: abort the moves of Migrations they withdrew, at once. */
static void cancel_withdrawn(struct rec *r, const struct cli_opts *o)
{
	struct crd_set set = {0};

	/* Only what is declared: a recorded, unended move is not a declaration to keep. */
	if (load_desired(o, OVR_DECLARED, &set) == 0) {
		int n = rec_cancel_withdrawn(r, &set);
		if (n > 0)
			log_kv("info", "cancelling withdrawn migrations", "count", LOG_INT(n), NULL);
	}
	crd_set_free(&set);
}

/* What ended a wait. */
enum woke { WOKE_TIMEOUT = 0, WOKE_EVENT, WOKE_MANIFESTS };

/* Waits for a change (to the manifests or to the overrides in the state dir: `drover
 * drain` and `drover migrate` write there), a libvirt event or an action's end (the wake
 * pipe), a signal or @max_s. */
static enum woke wait_for_work(struct dirwatch *w, const char *dir, struct dirwatch *ow,
			       const char *odir, bool events, double max_s)
{
	/* poll() skips a negative descriptor: without @events only files end the wait. */
	struct pollfd fds[3] = {{.fd = w->fd, .events = POLLIN},
				{.fd = events ? wake_pipe[0] : -1, .events = POLLIN},
				{.fd = ow->fd, .events = POLLIN}};
	double until = clk_mono() + max_s;

	while (!stopping) {
		int left_ms = (int)((until - clk_mono()) * 1000);
		if (left_ms <= 0)
			return WOKE_TIMEOUT;
		if (poll(fds, 3, left_ms) <= 0)
			continue;
		bool files = fds[0].revents && dirwatch_drain(w, dir);
		if (fds[2].revents && dirwatch_drain(ow, odir))
			files = true;
		if (fds[1].revents)
			drain_pipe();
		if (!files && !fds[1].revents)
			continue;
		if (files) {
			clk_sleep(RUN_DEBOUNCE_S);
			(void)dirwatch_drain(w, dir);
			if (ow->fd >= 0)
				(void)dirwatch_drain(ow, odir);
		}
		return files ? WOKE_MANIFESTS : WOKE_EVENT;
	}
	return WOKE_EVENT;
}

static int setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Tells systemd @state when it asked to be told (NOTIFY_SOCKET). Returns true once sent or
 * when there is no one to tell, false after logging why it could not be sent. */
static bool tell_systemd(const char *state)
{
	int rc = notify_send(state);
	if (rc < 0)
		log_kv("warn", "cannot notify systemd", "state", state, "error", strerror(errno), NULL);
	return rc >= 0;
}

int cli_run(int argc, char **argv)
{
	struct cli_opts o;
	struct dirwatch w = {.fd = -1}, ow = {.fd = -1};
	char odir[OVR_PATH_MAX] = "";
	struct state_sink ds = {0};
	struct rec r;
	struct httpd *http = NULL;
	char err[512];
	int rc = 1, lock, api = cli_wants_api("run", argc, argv, "--dir");

	if (api)
		return api < 0 ? 1 : cli_run_kube(argc, argv);
	unsigned allowed = CLI_OPT_DIR | CLI_OPT_STATE_DIR | CLI_OPT_LIMITS | CLI_OPT_RESYNC |
			   CLI_OPT_KUBECONFIG | CLI_OPT_METRICS | CLI_OPT_LOG_FORMAT | CLI_OPT_PRUNE;
	if (cli_parse("run", RUN_USAGE, allowed, argc, argv, &o) < 0)
		return 1;
	log_set_format(o.log_format);
	if (!o.dir) {
		fprintf(stderr, "drover run: --dir PATH is required\nusage: %s\n", RUN_USAGE);
		return 1;
	}
	if ((lock = state_lock(o.state_dir, err, sizeof(err))) < 0) {
		fprintf(stderr, "drover run: %s\n", err);
		return 1;
	}
	if (dirwatch_open(&w, o.dir) < 0) {
		fprintf(stderr, "drover run: cannot watch %s: %s\n", o.dir, strerror(errno));
		state_unlock(lock);
		return 1;
	}
	if (setup_signals() < 0) {
		dirwatch_close(&w);
		state_unlock(lock);
		return 1;
	}
	run_metrics = metrics_new();
	if (!run_metrics)
		goto cleanup;
	if (o.metrics_addr &&
	    !(http = httpd_start(o.metrics_addr, run_metrics, err, sizeof(err)))) {
		fprintf(stderr, "drover run: --metrics-addr %s\n", err);
		goto cleanup;
	}
	ds.dir = o.state_dir;
	struct rec_sink sink = state_sink(&ds);
	run_sink_host = sink.host;
	sink.host = on_host_status;
	struct rec_view view = {.action_done = view_log_action_done, .move = on_move_update,
				.orphans = on_orphans, .orphan_done = view_log_orphan_done,
				.failover = on_failover};
	if (rec_init(&r, &o.rec, &sink, &view) < 0)
		goto cleanup;
	rec_set_wake(&r, on_libvirt_event, NULL);
	if (ovr_watch_dir(o.state_dir, odir, sizeof(odir)) < 0 || dirwatch_open(&ow, odir) < 0)
		log_kv("warn", "overrides not watched: drain and undrain are seen at the next resync",
		       "dir", odir, "error", strerror(errno), NULL);
	log_kv("info", "watching", "dir", o.dir, "state_dir", o.state_dir, "metrics",
	       http ? o.metrics_addr : "off", "port", LOG_INT(httpd_port(http)), NULL);
	bool told_ready = false;
	struct quiet quiet = {0};
	bool files_changed = true;
	while (!stopping) {
		double started = clk_mono();
		bool more = reconcile_once(&r, &o, odir, &ds, &quiet, files_changed);
		files_changed = false;
		httpd_set_ready(http, true);
		if (!told_ready) /* systemd (Type=notify): started when /readyz turns to 200 */
			told_ready = tell_systemd("READY=1");
		if (more || stopping)
			continue;
		/* A pass frees what it built (the set, the inventory, the plan) across every
		 * observer thread's arena; before a wait, the free pages go back (about 20 ms at
		 * 10k VMs), or an idle controller keeps its busiest pass's size. */
		malloc_trim(0);
		/* Until a change, a libvirt event, an action's end or the resync; sooner when a
		 * backed-off action, a down host's detection or fence, or a reconnect is due. */
		enum woke why = wait_for_work(&w, o.dir, &ow, odir, true,
					      rec_next_pass_in(&r, o.rec.resync_s));
		/* Passes that events wake keep RUN_MIN_GAP_S apart (a move's start alone sends a
		 * burst); a change to the manifests or the overrides ends that gap: what the user
		 * just asked for is not held up by what libvirt just said. */
		double since = clk_mono() - started;
		if (!stopping && why != WOKE_MANIFESTS && since < RUN_MIN_GAP_S &&
		    wait_for_work(&w, o.dir, &ow, odir, false, RUN_MIN_GAP_S - since) ==
			    WOKE_MANIFESTS)
			why = WOKE_MANIFESTS;
		/* The saved valid set follows the manifests: on a change, and at each resync in
		 * case a change went unnoticed. */
		if (why == WOKE_MANIFESTS || why == WOKE_TIMEOUT)
			manifests_changed = true;
		if (why == WOKE_MANIFESTS)
			cancel_withdrawn(&r, &o);
		files_changed = why == WOKE_MANIFESTS;
	}
	log_kv("info", "stopping", NULL);
	(void)tell_systemd("STOPPING=1");
	size_t left = rec_handover(&r);
	if (left) {
		/* Not aborted: a live move runs on in the source's libvirtd and the next drover
		 * takes it over; a cold move is finished or rolled back by its crash rules. */
		log_kv("info", "stopped: actions under way are left to the next drover", "running",
		       LOG_INT(left), NULL);
		fflush(stdout);
		_exit(0);
	}
	rc = 0;
	quiet_free(&quiet);
	rec_free(&r);
cleanup:
	httpd_stop(http);
	metrics_free(run_metrics);
	run_metrics = NULL;
	dirwatch_close(&w);
	dirwatch_close(&ow);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	state_unlock(lock);
	return rc;
}
