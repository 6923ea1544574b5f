/* soak: `drover run --dir` on a lab of 3 hosts with 5 self-verifying guests (3 on shared
 * storage, 2 on local disks), under a seeded random schedule of operations (pin changes,
 * Migrations, cancels, drain and undrain, balancing on and off) and faults (drover killed
 * with SIGKILL, at one of its crash points, or stopped with SIGTERM; a host's libvirtd
 * killed, its link cut, its power cut — drover fences it through its BMC). A monitor checks
 * the invariants all the time (monitor.c); when the faults stop, every guest must run where
 * it should within a bound, every Migration must have ended, no libvirt job be left, every
 * local disk exist once, and `drover plan` find nothing to do. Writes BUILD/soak/report.md;
 * exits 1 on any violation, 2 when the lab could not be set up.
 *
 * SOAK_MODE=kube runs the same schedule against the kubeapi server (kube.c): objects applied
 * with kubectl, two `drover run --kubeconfig` sharing a Lease, and every drover fault hitting
 * the leader, so that each is a leader change; at the end the leader's last pass must be
 * converged (the API has no `drover plan`).
 *
 * Environment: SOAK_SEED (default: from the clock; printed), SOAK_SECONDS (default 1200),
 * SOAK_SETTLE_SECONDS (the bound after the faults stop, default 300), SOAK_MODE (dir or
 * kube). */
#include "tests/soak/soak.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "reconcile/clk.h"
#include "tests/lab/drover_fixture.h"

#define DETECT_S "10"
#define LEASE_S "10"              /* Kubernetes mode: a killed leader is replaced after it */
#define BRING_UP_S 300            /* every guest running at first */
#define STOP_S 30                 /* drover's exit after SIGTERM (it waits 2 s for actions) */
#define MIGRATION_MAX_S 600.0     /* a Migration or libvirt job older than this is stuck */
#define RSS_MAX_KIB (256L * 1024) /* drover's RSS bound */
#define STABLE_PASSES 3           /* converged this many looks in a row (1 s apart) */
#define LATE_FENCE_S 90.0         /* a fence begun during a fault ends within its agent's
				   * timeout (60 s) after the faults stop */
#define LEADER_QUIET_S 60         /* Kubernetes mode: the bound for a converged last pass */
/* What each host offers the guests (reservedMemory keeps the rest), with memory overcommitted
 * twice (the hosts share one machine, so the free-memory check steps back): 256 MiB of
 * allocations per host. The five 32 MiB guests always fit on one host, and 3 on one host
 * against 1 on another (37.5 % against 12.5 %) is a spread balancing acts on. */
#define SCHEDULABLE_MIB 128ULL

struct soak_vm {
	const char *name;
	const char *storage;
	int home;            /* where it starts, and where its local disk is made */
	int pin;             /* spec.host; -1 unpinned */
	char disk[512];
	char file[64];
};

static struct soak_vm vms[SOAK_VMS] = {
	{"sk-1", "shared", 0, 0, "", ""}, {"sk-2", "shared", 1, 1, "", ""},
	{"sk-3", "shared", 2, 2, "", ""}, {"sk-4", "local", 0, 0, "", ""},
	{"sk-5", "local", 1, 1, "", ""},
};

static struct fx fx;
static struct soak_totals tot;
static char out_dir[4096];
static bool kube;                 /* SOAK_MODE=kube: the API server, two drovers */

/* One drover run: the only one (directory mode), or a leader or standby (Kubernetes). */
struct replica {
	int pid;                  /* -1: not running */
	const char *armed_point;  /* its DROVER_FAULT, or NULL */
	char id[16];              /* its --id (Kubernetes) */
	char log[4200];
	int stepped_down;         /* times its log said it lost its leadership */
};

static struct replica reps[SOAK_REPLICAS];
static int n_replicas;

/* ---- drover ---- */

static int start_drover(int slot, const char *point)
{
	struct replica *r = &reps[slot];
	char fault[96];

	snprintf(fault, sizeof(fault), "DROVER_FAULT=%s", point ? point : "");
	const char *dir_argv[] = {"env", fault, lab_drover(), "run", "--dir", fx.manifests,
				  "--state-dir", fx.state, "--stop-timeout", "2", "--metrics-addr",
				  "off", "--detect-after", DETECT_S, NULL};
	const char *kube_argv[] = {"env", fault, lab_drover(), "run", "--kubeconfig",
				   soak_kube_config(), "--id", r->id, "--lease-duration", LEASE_S,
				   "--stop-timeout", "2", "--metrics-addr", "off", "--detect-after",
				   DETECT_S, NULL};
	r->pid = lab_spawn(kube ? kube_argv : dir_argv, r->log);
	r->armed_point = point;
	monitor_set_drover(slot, r->pid > 0 ? r->pid : 0);
	if (r->pid <= 0)
		return -1;
	tot.drover_starts++;
	journal_event("drover %s started (pid %d%s%s)", r->id, r->pid,
		      point ? ", DROVER_FAULT=" : "", point ? point : "");
	return 0;
}

/* Counts the lines of the file at @path that hold @what, and copies the last of them into
 * @last ("" when none; NULL: not wanted). Returns 0 when the file is unreadable. */
static int lines_with(const char *path, const char *what, char *last, size_t size)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (last)
		last[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, what)) {
			n++;
			if (last)
				snprintf(last, size, "%.*s", (int)strcspn(line, "\n"), line);
		}
	if (f)
		fclose(f);
	return n;
}

/* True when the drover in @slot ended as a leader that could not renew its Lease in time
 * does: it says so and exits 1, for its Deployment to start it again (under load on two
 * CPUs a renewal can be late). */
static bool stepped_down(struct replica *r, int status)
{
	int said = lines_with(r->log, "leadership lost", NULL, 0);
	bool now = said > r->stepped_down;

	r->stepped_down = said;
	return kube && now && WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

static void forget_drover(int slot)
{
	reps[slot].pid = -1;
	/* What it said before it ended is not the next one's. */
	reps[slot].stepped_down = lines_with(reps[slot].log, "leadership lost", NULL, 0);
	monitor_set_drover(slot, 0);
}

/* Notices a drover that ended by itself: at its armed crash point (expected), or any other
 * way (a violation). Either way a new one is started. */
static void supervise(void)
{
	int status;

	for (int slot = 0; slot < n_replicas; slot++) {
		struct replica *r = &reps[slot];
		if (r->pid <= 0 || waitpid(r->pid, &status, WNOHANG) != r->pid)
			continue;
		if (r->armed_point && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			tot.points_fired++;
			journal_event("drover %s reached its crash point %s", r->id, r->armed_point);
		} else if (stepped_down(r, status)) {
			journal_event("drover %s lost its leadership and exited", r->id);
		} else {
			journal_violation("drover %s (pid %d) ended by itself: %s %d", r->id, r->pid,
					  WIFSIGNALED(status) ? "signal" : "exit status",
					  WIFSIGNALED(status) ? WTERMSIG(status)
							      : WEXITSTATUS(status));
		}
		forget_drover(slot);
		(void)start_drover(slot, NULL);
	}
}

static void kill_drover(int slot)
{
	int status;

	if (reps[slot].pid <= 0)
		return;
	kill(reps[slot].pid, SIGKILL);
	waitpid(reps[slot].pid, &status, 0);
	forget_drover(slot);
}

/* SIGTERM: drover must exit, status 0, within STOP_S (it hands its moves over). */
static void stop_drover(int slot)
{
	struct replica *r = &reps[slot];

	if (r->pid <= 0)
		return;
	int rc = lab_stop(r->pid, STOP_S);
	if (rc != 0 && r->armed_point && rc == -1)
		journal_event("drover %s ended at its crash point %s while stopping", r->id,
			      r->armed_point);
	else if (rc != 0)
		journal_violation("drover %s did not exit cleanly within %d s of SIGTERM (%d)", r->id,
				  STOP_S, rc);
	forget_drover(slot);
}

/* The drover a drover fault hits: the only one, or the one holding the Lease (a fault of the
 * leader is a leader change); the first while none holds it. */
static int acting_slot(void)
{
	char holder[64];

	if (!kube)
		return 0;
	soak_kube_leader(holder, sizeof(holder));
	for (int slot = 0; slot < n_replicas; slot++)
		if (!strcmp(holder, reps[slot].id))
			return slot;
	return 0;
}

/* Sleeps until @t seconds into the journal, keeping drover running. */
static void wait_until(double t)
{
	while (journal_now() < t) {
		supervise();
		double left = t - journal_now();
		clk_sleep(left < 0.5 ? (left > 0 ? left : 0) : 0.5);
	}
	supervise();
}

/* `drover ARGS...` against the soak's state dir or API server; says what it answered.
 * Returns its exit status. */
static int drover_cli(const char *what, const char *const *args)
{
	const char *argv[16] = {lab_drover()};
	char out[4096];
	size_t n = 1;

	for (; *args && n < 12; args++)
		argv[n++] = *args;
	argv[n++] = kube ? "--kubeconfig" : "--state-dir";
	argv[n++] = kube ? soak_kube_config() : fx.state;
	argv[n] = NULL;
	int rc = lab_run(argv, out, sizeof(out), 60);
	out[strcspn(out, "\n")] = '\0';
	journal_event("%s: exit %d %s", what, rc, out);
	return rc;
}

static int hack_lab(const char *verb, int host)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(host), NULL};
	int rc = lab_run(argv, NULL, 0, 200);

	if (rc != 0)
		journal_event("hack/lab %s %s: exit %d", verb, lab_host_name(host), rc);
	return rc;
}

/* ---- manifests ---- */

/* Declares the object of @yaml: manifests/@file, or applied to the API server. */
static int put_object(const char *file, const char *yaml)
{
	return kube ? soak_kube_apply(yaml) : fx_write(&fx, file, yaml);
}

static int write_vm(const struct soak_vm *v)
{
	struct fx_vm vm = {.name = v->name, .host = v->pin >= 0 ? lab_host_name(v->pin) : NULL,
			   .storage = v->storage, .memory = "32Mi",
			   .cmdline = "dirty_mib=1 rate_mibps=1", .disk = v->disk, .serial = true};
	char yaml[4096], file[96];

	snprintf(file, sizeof(file), "%s.yaml", v->name);
	return fx_vm_yaml(&vm, yaml, sizeof(yaml)) < 0 ? -1 : put_object(file, yaml);
}

/* The namespace's PlacementPolicy, balancing by memory or not. */
static int write_policy(bool balance)
{
	char text[512];

	snprintf(text, sizeof(text), "apiVersion: drover.io/v1alpha1\nkind: PlacementPolicy\n"
		 "metadata: {name: default}\nspec:\n  memoryOvercommit: 2\n%s",
		 balance ? "  balance: {resource: memory, maxSpreadPercent: 20, "
			   "maxMovesPerHour: 30}\n" : "");
	return put_object("policy.yaml", text);
}

/* Every host fenced through its BMC, offering SCHEDULABLE_MIB. */
static int write_hosts(void)
{
	unsigned long long mib = lab_reserved_leaving_mib(SCHEDULABLE_MIB);
	char reserved[32];

	snprintf(reserved, sizeof(reserved), "%lluMi", mib);
	if (!mib)
		return -1;
	return kube ? soak_kube_hosts(SOAK_HOSTS, reserved)
		    : fx_write_hosts_fenced(&fx, SOAK_HOSTS, reserved);
}

/* ---- the steps ---- */

/* Withdraws every Migration the soak requested for @vm that drover has not forgotten yet:
 * a running one is cancelled. Returns how many. */
static int withdraw_requests(const char *vm)
{
	char dir[600], prefix[64], path[1000];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%s-m", vm);
	if (kube)
		return soak_kube_withdraw(prefix);
	snprintf(dir, sizeof(dir), "%s/overrides/migrations/default", fx.state);
	if (!(d = opendir(dir)))
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n += unlink(path) == 0;
		}
	closedir(d);
	return n;
}

/* Step @index's drover fault: the acting drover killed (stopped with SIGTERM when @term) and
 * started again, to crash at @point when not NULL. */
static void fault_drover(size_t index, bool term, const char *point)
{
	int slot = acting_slot();

	journal_event("step %zu: fault: drover %s %s%s%s", index, reps[slot].id,
		      term ? "stopped (SIGTERM) and started again" : "killed (SIGKILL)",
		      point ? ", started again to crash at " : "", point ? point : "");
	if (term)
		stop_drover(slot);
	else
		kill_drover(slot);
	(void)start_drover(slot, point);
}

static void run_step(const struct soak_step *st, size_t index)
{
	struct soak_vm *v = &vms[st->vm >= 0 ? st->vm : 0];
	const char *host = st->host >= 0 ? lab_host_name(st->host) : NULL;
	char name[64], what[160];

	tot.kinds[st->kind]++;
	switch (st->kind) {
	case SOAK_OP_PIN:
		v->pin = st->host;
		journal_event("step %zu: pin %s to %s", index, v->name, host ? host : "(none)");
		if (write_vm(v) < 0)
			journal_event("cannot write %s's manifest", v->name);
		break;
	case SOAK_OP_MIGRATE: {
		snprintf(name, sizeof(name), "%s-m%zu", v->name, index);
		snprintf(what, sizeof(what), "step %zu: migrate %s to %s", index, v->name,
			 host ? host : "(any)");
		const char *with_to[] = {"migrate", v->name, "--to", host ? host : "", "--no-wait",
					 "--name", name, NULL};
		const char *any[] = {"migrate", v->name, "--no-wait", "--name", name, NULL};
		(void)drover_cli(what, host ? with_to : any);
		break;
	}
	case SOAK_OP_CANCEL:
		journal_event("step %zu: cancel %s's requested Migrations: %d withdrawn", index,
			      v->name, withdraw_requests(v->name));
		break;
	case SOAK_OP_DRAIN:
	case SOAK_OP_UNDRAIN: {
		const char *verb = st->kind == SOAK_OP_DRAIN ? "drain" : "undrain";
		const char *args[] = {verb, host, NULL};
		snprintf(what, sizeof(what), "step %zu: %s %s", index, verb, host);
		(void)drover_cli(what, args);
		break;
	}
	case SOAK_OP_BALANCE_ON:
	case SOAK_OP_BALANCE_OFF: {
		bool on = st->kind == SOAK_OP_BALANCE_ON;
		journal_event("step %zu: balancing %s", index, on ? "on" : "off");
		if (write_policy(on) < 0)
			journal_event("cannot write the PlacementPolicy");
		break;
	}
	case SOAK_F_KILL9:
		fault_drover(index, false, NULL);
		break;
	case SOAK_F_POINT:
		fault_drover(index, false, soak_fault_points[st->point]);
		break;
	case SOAK_F_SIGTERM:
		fault_drover(index, true, NULL);
		break;
	case SOAK_F_LIBVIRTD:
		journal_event("step %zu: fault: %s's libvirtd killed", index, host);
		(void)hack_lab("kill-libvirtd", st->host);
		break;
	case SOAK_F_LINK:
		journal_event("step %zu: fault: %s's link down", index, host);
		(void)hack_lab("link-down", st->host);
		break;
	case SOAK_F_POWER:
		journal_event("step %zu: fault: %s's power cut", index, host);
		(void)hack_lab("stop-host", st->host);
		break;
	case SOAK_END_HOST:
		journal_event("step %zu: %s's fault ends: link up, host on", index, host);
		(void)hack_lab("link-up", st->host);
		(void)hack_lab("start-host", st->host);
		break;
	case SOAK_KINDS:
		break;
	}
}

/* ---- the end ---- */

static double faults_stopped_wall;   /* clk_wall() when the faults stopped */

/* Every host up and undrained, balancing off, every drover running without a crash point. With
 * balancing on, a guest held back after a balancing move (PLAN_BALANCE_HOLD_S) could be
 * due to move right after the lab settled: `drover plan` would have two right answers. */
static void stop_faults(void)
{
	faults_stopped_wall = clk_wall();
	journal_event("the faults stop: every host up and undrained, balancing off, drover "
		      "without a crash point");
	if (write_policy(false) < 0)
		journal_event("cannot write the PlacementPolicy");
	for (int h = 0; h < SOAK_HOSTS; h++) {
		const char *args[] = {"undrain", lab_host_name(h), NULL};
		(void)hack_lab("link-up", h);
		(void)hack_lab("start-host", h);
		(void)drover_cli("undrain", args);
	}
	for (int slot = 0; slot < n_replicas; slot++)
		if (reps[slot].armed_point) {
			kill_drover(slot);
			(void)start_drover(slot, NULL);
		}
}

/* What is not converged yet, into @why ("" when everything is). */
static void unconverged(char *why, size_t size)
{
	struct monitor_view mv;
	size_t len = 0;

	monitor_view(&mv);
	why[0] = '\0';
	for (int h = 0; h < SOAK_HOSTS && len < size; h++)
		if (!mv.host_ok[h])
			len += (size_t)snprintf(why + len, size - len, "%s's libvirtd does not answer; ",
						lab_host_name(h));
	for (int i = 0; i < SOAK_VMS && len < size; i++) {
		const struct soak_vm *v = &vms[i];
		int defined = 0;
		for (int h = 0; h < SOAK_HOSTS; h++)
			defined += mv.defined[i][h];
		if (mv.running_on[i] < 0)
			len += (size_t)snprintf(why + len, size - len, "%s runs nowhere; ", v->name);
		else if (v->pin >= 0 && mv.running_on[i] != v->pin)
			len += (size_t)snprintf(why + len, size - len, "%s runs on %s, pinned to %s; ",
						v->name, lab_host_name(mv.running_on[i]),
						lab_host_name(v->pin));
		if (defined != 1 && len < size)
			len += (size_t)snprintf(why + len, size - len, "%s is defined on %d hosts; ",
						v->name, defined);
		if (mv.job[i] && len < size)
			len += (size_t)snprintf(why + len, size - len, "%s has a libvirt job; ", v->name);
	}
	if (mv.unended && len < size)
		snprintf(why + len, size - len, "%d Migrations not ended; ", mv.unended);
}

/* A fence drover began during a fault may power its host off only as the fault ends (its
 * agent reached the BMC after the link or the power came back, or the quorum guard held it
 * until another host returned): the host then stays off, as after any fence, until someone
 * powers it on. The soak does, as an operator would. A power-off later than a fence's
 * timeout after the faults stopped was not begun by a fault: a violation (once per host,
 * @told), and the host stays off. */
static void power_on_late_fenced(bool told[SOAK_HOSTS])
{
	for (int h = 0; h < SOAK_HOSTS; h++) {
		if (!lab_bmc_holds_off(h))
			continue;
		double after = lab_bmc_power_off_time(h, lab_bmc_power_offs(h)) - faults_stopped_wall;
		if (after > LATE_FENCE_S) {
			if (!told[h])
				journal_violation("%s was fenced %.0f s after the faults stopped",
						  lab_host_name(h), after);
			told[h] = true;
			continue;
		}
		journal_event("%s was fenced as its fault ended (powered off %.1f s after the faults "
			      "stopped): powered on again", lab_host_name(h), after);
		(void)hack_lab("start-host", h);
	}
}

/* Waits up to @bound_s for the lab to converge (and stay so for STABLE_PASSES looks). */
static void settle(double bound_s)
{
	char why[2048] = "";
	double end = journal_now() + bound_s, start = journal_now();
	bool told[SOAK_HOSTS] = {false};
	int stable = 0;

	while (stable < STABLE_PASSES && journal_now() < end) {
		wait_until(journal_now() + 1.0);
		power_on_late_fenced(told);
		unconverged(why, sizeof(why));
		stable = why[0] ? 0 : stable + 1;
	}
	if (stable < STABLE_PASSES)
		journal_violation("not converged %.0f s after the faults stopped: %s", bound_s, why);
	else
		journal_event("converged %.1f s after the faults stopped", journal_now() - start);
}

/* Each local VM's disk exists on exactly one host: the one it runs on. A violation names
 * every host that has it. */
static void check_local_disks(void)
{
	struct monitor_view mv;
	char path[1200], where[256];
	struct stat st;

	monitor_view(&mv);
	for (int i = 0; i < SOAK_VMS; i++) {
		int copies = 0, at = -1;
		size_t len = 0;
		if (strcmp(vms[i].storage, "local"))
			continue;
		where[0] = '\0';
		for (int h = 0; h < SOAK_HOSTS; h++) {
			snprintf(path, sizeof(path), "%s/hosts/%s/lib/images/%s", lab_dir(),
				 lab_host_name(h), vms[i].file);
			if (stat(path, &st) != 0)
				continue;
			copies++;
			at = h;
			int n = snprintf(where + len, sizeof(where) - len, "%s%s", len ? ", " : "",
					 lab_host_name(h));
			if (n > 0 && (size_t)n < sizeof(where) - len)
				len += (size_t)n;
		}
		if (copies != 1 || at != mv.running_on[i])
			journal_violation("%s's local disk exists on %d hosts (%s), it runs on %s",
					  vms[i].name, copies, copies ? where : "none",
					  mv.running_on[i] >= 0 ? lab_host_name(mv.running_on[i]) : "-");
	}
}

/* A pass logged as converged with nothing blocked and nothing to do. */
static bool pass_converged(const char *line)
{
	return strstr(line, " converged=true") && strstr(line, " blocked=0") &&
	       strstr(line, " done=0");
}

/* Kubernetes mode, drovers still running: within LEADER_QUIET_S, the leader's last pass
 * found everything converged, nothing blocked and nothing to do (the API has no `drover
 * plan`). */
static void check_leader_converged(void)
{
	char line[2048] = "";
	const struct replica *r = &reps[0];
	double end = journal_now() + LEADER_QUIET_S;

	while (journal_now() < end) {
		r = &reps[acting_slot()];
		(void)lines_with(r->log, "msg=\"reconciled\"", line, sizeof(line));
		if (pass_converged(line))
			break;
		wait_until(journal_now() + 1.0);
	}
	if (!pass_converged(line))
		journal_violation("drover %s's last pass after the soak is not converged: %s", r->id,
				  line[0] ? line : "(none logged)");
	else
		journal_event("drover %s's last pass: converged, nothing to do", r->id);
}

/* With drover stopped, `drover plan` finds nothing to do. */
static void check_plan(void)
{
	char out[16384];
	const char *argv[] = {lab_drover(), "plan", "-f", fx.manifests, "--state-dir", fx.state,
			      NULL};
	int rc = lab_run(argv, out, sizeof(out), 120);

	if (rc != 0)
		journal_violation("drover plan after the soak: exit %d (0: nothing to do): %.400s", rc,
				  out);
	else
		journal_event("drover plan: nothing to do");
}

/* ---- setup ---- */

/* monitor_cfg.migrations of the state dir: its Migration records. */
static int dir_migrations(struct soak_migration *out, int max)
{
	char dir[600], path[1000];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/migrations/default", fx.state);
	if (!(d = opendir(dir)))
		return 0;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		json_t *rec = json_load_file(path, 0, NULL), *st = json_object_get(rec, "status");
		const char *phase = json_string_value(json_object_get(st, "phase"));
		const char *reason = json_string_value(json_object_get(st, "reason"));
		if (rec) {
			snprintf(out[n].name, sizeof(out[n].name), "%.*s", (int)(len - 5), e->d_name);
			snprintf(out[n].phase, sizeof(out[n].phase), "%s", phase ? phase : "");
			snprintf(out[n].reason, sizeof(out[n].reason), "%s", reason ? reason : "");
			n++;
		}
		json_decref(rec);
	}
	closedir(d);
	return n;
}

static int bring_up(void)
{
	struct monitor_cfg mc = {.migrations = kube ? soak_kube_migrations : dir_migrations,
				 .rss_max_kib = RSS_MAX_KIB, .migration_max_s = MIGRATION_MAX_S};
	char serial[512], why[2048] = "x";

	if (write_hosts() < 0 || write_policy(false) < 0)
		return -1;
	for (int i = 0; i < SOAK_VMS; i++) {
		struct soak_vm *v = &vms[i];
		snprintf(v->file, sizeof(v->file), "%s.qcow2", v->name);
		lab_cleanup_guest(v->name, v->file);
		lab_serial_path(v->name, serial, sizeof(serial));
		if ((truncate(serial, 0) < 0 && errno != ENOENT) ||
		    lab_create_volume(v->home, v->storage, v->file, 32, v->disk, sizeof(v->disk)) < 0 ||
		    write_vm(v) < 0)
			return -1;
		mc.vms[i] = v->name;
	}
	if (monitor_start(&mc) < 0)
		return -1;
	for (int slot = 0; slot < n_replicas; slot++)
		if (start_drover(slot, NULL) < 0)
			return -1;
	for (double end = journal_now() + BRING_UP_S; why[0] && journal_now() < end;) {
		wait_until(journal_now() + 1.0);
		unconverged(why, sizeof(why));
	}
	if (why[0])
		journal_event("the guests did not come up: %s", why);
	return why[0] ? -1 : 0;
}

/* After a violation, drover's manifests and state dir (its Migration records above all) are
 * what explains it: copied to OUT/workdir before the working directory goes. */
static void keep_workdir(void)
{
	char dest[4200];

	if (!journal_violations() || !fx.dir[0])
		return;
	snprintf(dest, sizeof(dest), "%s/workdir", out_dir);
	const char *rm[] = {"rm", "-rf", "--", dest, NULL};
	const char *cp[] = {"cp", "-a", "--", fx.dir, dest, NULL};
	if (lab_run(rm, NULL, 0, 60) == 0 && lab_run(cp, NULL, 0, 120) == 0)
		journal_event("drover's manifests and state dir kept in %s", dest);
}

static void cleanup(void)
{
	for (int slot = 0; slot < n_replicas; slot++)
		kill_drover(slot);
	monitor_stop();
	for (int h = 0; h < SOAK_HOSTS; h++) {
		(void)hack_lab("link-up", h);
		(void)hack_lab("start-host", h);
	}
	for (int i = 0; i < SOAK_VMS; i++)
		lab_cleanup_guest(vms[i].name, vms[i].file);
	soak_kube_down();
	keep_workdir();
	fx_cleanup(&fx);
}

/* SOAK_MODE: "dir" (the default) or "kube". Sets up the drovers' slots and their logs.
 * Returns 0, or -1 for another mode or a log that cannot be emptied. */
static int choose_mode(void)
{
	const char *mode = getenv("SOAK_MODE");

	if (mode && *mode && strcmp(mode, "dir") && strcmp(mode, "kube")) {
		fprintf(stderr, "soak: SOAK_MODE=%s: dir or kube\n", mode);
		return -1;
	}
	kube = mode && !strcmp(mode, "kube");
	tot.mode = kube ? "kube" : "dir";
	n_replicas = kube ? SOAK_REPLICAS : 1;
	for (int slot = 0; slot < n_replicas; slot++) {
		struct replica *r = &reps[slot];
		r->pid = -1;
		snprintf(r->id, sizeof(r->id), "soak-%c", 'a' + slot);
		snprintf(r->log, sizeof(r->log), "%s/drover%s%s.log", out_dir, kube ? "-" : "",
			 kube ? r->id + 5 : "");
		if (truncate(r->log, 0) < 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

static double env_number(const char *name, double fallback)
{
	const char *v = getenv(name);
	char *end;
	double d = v && *v ? strtod(v, &end) : fallback;

	return v && *v && (*end || d < 0) ? fallback : d;
}

int main(void)
{
	char path[4400];
	struct soak_schedule sched = {0};
	const char *seed_env = getenv("SOAK_SEED");
	int rc = 2;

	/* A libvirtd killed under the monitor's connection: libvirt's client writes to the dead
	 * socket, and SIGPIPE would end the soak (it did, seed 11). */
	signal(SIGPIPE, SIG_IGN);
	tot.seed = seed_env && *seed_env ? strtoul(seed_env, NULL, 10)
					 : (unsigned long)time(NULL) ^ (unsigned long)getpid();
	tot.seconds = env_number("SOAK_SECONDS", 1200);
	double settle_s = env_number("SOAK_SETTLE_SECONDS", 300);
	if (lab_build_path("soak", out_dir, sizeof(out_dir)) < 0 ||
	    (mkdir(out_dir, 0755) < 0 && errno != EEXIST) || choose_mode() < 0)
		return 2;
	printf("soak: SOAK_MODE=%s SOAK_SEED=%lu SOAK_SECONDS=%.0f (the same seed gives the same "
	       "schedule)\n", tot.mode, tot.seed, tot.seconds);
	snprintf(path, sizeof(path), "%s/events.log", out_dir);
	if (soak_schedule_make(tot.seed, tot.seconds, &sched) < 0 || journal_open(path) < 0)
		return 2;
	journal_event("seed %lu: %zu steps over %.0f s", tot.seed, sched.n, tot.seconds);
	if (lab_up(SOAK_HOSTS) < 0 || fx_init(&fx) < 0 || (kube && soak_kube_up() < 0) ||
	    bring_up() < 0) {
		fprintf(stderr, "soak: the lab could not be set up\n");
		goto cleanup;
	}
	double t0 = journal_now();
	for (size_t i = 0; i < sched.n; i++) {
		wait_until(t0 + sched.steps[i].at);
		run_step(&sched.steps[i], i);
	}
	wait_until(t0 + tot.seconds);
	stop_faults();
	settle(settle_s);
	check_local_disks();
	if (kube)
		check_leader_converged();
	for (int slot = 0; slot < n_replicas; slot++)
		stop_drover(slot);
	if (!kube)
		check_plan();
	rc = 0;
cleanup:;
	struct monitor_view mv;
	cleanup();
	monitor_view(&mv);
	tot.moves = mv.moves;
	memcpy(tot.succeeded, mv.succeeded, sizeof(tot.succeeded));
	tot.rss_max_kib = mv.rss_max_kib;
	tot.samples = mv.samples;
	snprintf(path, sizeof(path), "%s/report.md", out_dir);
	if (journal_report(path, &tot) < 0)
		fprintf(stderr, "soak: cannot write %s\n", path);
	if (rc == 0 && journal_violations())
		rc = 1;
	printf("soak: seed %lu, %d violations; report in %s\n", tot.seed, journal_violations(), path);
	journal_close();
	free(sched.steps);
	return rc;
}
