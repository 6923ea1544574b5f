/* hostfail: failing hosts across passes, and their fence jobs. */
#include "controller/loop/hostfail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/serve/log.h"
#include "reconcile/clk.h"
#include "reconcile/fence.h"
#include "reconcile/status.h"

/* One Host's memory. The job fields are written by the fence thread under the lock. */
struct hostfail_entry {
	char *name;
	struct plan_host_health health;   /* health.name points at @name */
	double backoff_s;                 /* the next wait after a failed fence */
	bool fence_failed;                /* the last fence failed (until one succeeds) */
	char why[sizeof(((struct fence_result *)0)->reason)];
	/* The failover: restarts from this host running, when the last one succeeded (clk_mono,
	 * 0 none yet), and whether drover_failover_seconds has it already. */
	int failover_running;
	double failover_end;
	bool failover_told;
	/* The fence job */
	struct hostfail *hf;
	pthread_t thread;
	bool running, joinable;
	bool ended, ended_ok;             /* a result the next pass writes into status */
	struct fence_request req;
	struct crd_map options;           /* the job's own copies */
	char *agent, *password;
	char *password_file;              /* where the thread reads the password, if anywhere */
	char *secret_ns, *secret_name, *secret_key;
};

void hostfail_init(struct hostfail *hf, const struct plan_failure_policy *pol,
		   pthread_mutex_t *lock)
{
	memset(hf, 0, sizeof(*hf));
	hf->pol = *pol;
	hf->lock = lock;
}

static struct hostfail_entry *entry_of(struct hostfail *hf, const char *name, bool create)
{
	for (size_t i = 0; i < hf->n; i++)
		if (!strcmp(hf->items[i]->name, name))
			return hf->items[i];
	if (!create)
		return NULL;
	struct hostfail_entry **grown = realloc(hf->items, (hf->n + 1) * sizeof(*grown));
	struct hostfail_entry *e = calloc(1, sizeof(*e));
	if (grown)
		hf->items = grown;
	if (!grown || !e || !(e->name = strdup(name))) {
		free(e);
		return NULL;
	}
	e->hf = hf;
	e->health.name = e->name;
	e->backoff_s = HOSTFAIL_BACKOFF_MIN_S;
	hf->items[hf->n++] = e;
	return e;
}

/* The loop's own inventory entry for @name, before the planner reads it. */
static struct inv_host *inv_host_mut(struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_hosts; i++)
		if (inv->hosts[i].name && !strcmp(inv->hosts[i].name, name))
			return &inv->hosts[i];
	return NULL;
}

static void job_release(struct hostfail_entry *e)
{
	crd_map_free(&e->options);
	free(e->agent);
	free(e->password_file);
	free(e->secret_ns);
	free(e->secret_name);
	free(e->secret_key);
	fence_wipe(e->password);
	e->agent = e->password_file = e->password = NULL;
	e->secret_ns = e->secret_name = e->secret_key = NULL;
}

int hostfail_observe(struct hostfail *hf, struct crd_set *set, struct inventory *inv,
		     double now)
{
	char stamp[32];

	clk_rfc3339(stamp, sizeof(stamp));
	for (size_t i = 0; i < set->n_hosts; i++) {
		struct crd_host *h = &set->hosts[i];
		struct inv_host *ih = inv_host_mut(inv, h->meta.name);
		struct hostfail_entry *e = entry_of(hf, h->meta.name, true);
		if (!e)
			return -1;
		if (e->ended) {
			/* The record that keeps the host fenced across a restart of drover. */
			if (status_host_fence_ran(h, "off", e->ended_ok, stamp) < 0)
				return -1;
			e->ended = false;
		}
		plan_health_observe(&e->health, ih && ih->reachable, ih && ih->addr_alive, now);
		e->health.fenced = status_host_fenced_by_agent(h);
		if (ih)
			ih->fenced = e->health.fenced;
	}
	return 0;
}

/* A failed fence: the next try waits, each wait twice the last, up to the maximum. */
static void back_off(struct hostfail_entry *e, double now)
{
	e->health.retry_at = now + e->backoff_s;
	e->backoff_s = e->backoff_s * 2 > HOSTFAIL_BACKOFF_MAX_S ? HOSTFAIL_BACKOFF_MAX_S
								 : e->backoff_s * 2;
}

/* Reads the job's password, outside the lock (a file, or a Secret through the API).
 * Returns 0 (e->password NULL when the Host names none), or -1 with @res set. */
static int read_password(struct hostfail_entry *e, struct fence_result *res)
{
	char why[256] = "";

	if (e->password_file)
		e->password = fence_read_password(e->password_file, why, sizeof(why));
	else if (e->secret_name && e->hf->secret)
		e->password = e->hf->secret(e->hf->secret_opaque, e->secret_ns, e->secret_name,
					    e->secret_key, why, sizeof(why));
	else if (e->secret_name)
		snprintf(why, sizeof(why), "passwordSecretRef is read in Kubernetes mode only");
	else
		return 0;
	if (e->password)
		return 0;
	res->outcome = FENCE_REFUSED;
	res->exit_status = -1;
	snprintf(res->reason, sizeof(res->reason), "no password, nothing run: %s", why);
	return -1;
}

static void *fence_thread(void *arg)
{
	struct hostfail_entry *e = arg;
	struct fence_result res;
	int rc = -1;

	if (read_password(e, &res) == 0) {
		e->req.password = e->password;
		rc = fence_off(&e->req, &res);
	}

	pthread_mutex_lock(e->hf->lock);
	e->running = false;
	e->ended = true;
	e->ended_ok = rc == 0;
	e->fence_failed = rc != 0;
	snprintf(e->why, sizeof(e->why), "%s", res.reason);
	if (rc != 0)
		back_off(e, clk_mono());
	else
		e->backoff_s = HOSTFAIL_BACKOFF_MIN_S;
	job_release(e);
	pthread_mutex_unlock(e->hf->lock);
	/* The reason holds the agent's output, never its input: no password. */
	log_kv(rc == 0 ? "info" : "warn", rc == 0 ? "host fenced" : "fence failed", "host",
	       e->name, "result", e->why, NULL);
	if (e->hf->wake)
		e->hf->wake(e->hf->wake_opaque, e->name);
	return NULL;
}

/* Copies what the job needs from @h (the set goes away with the pass); the thread reads
 * the password. Returns 0, or -1 with @e->why set. */
static int job_prepare(struct hostfail *hf, struct hostfail_entry *e, const struct crd_host *h)
{
	const struct crd_fencing *f = &h->spec.fencing;

	job_release(e);
	if ((f->password_file && !(e->password_file = strdup(f->password_file))) ||
	    (f->password_secret.name && !f->password_file &&
	     (!(e->secret_ns = strdup(h->meta.namespace)) ||
	      !(e->secret_name = strdup(f->password_secret.name)) ||
	      !(e->secret_key = strdup(f->password_secret.key ? f->password_secret.key : "")))) ||
	    !(e->agent = strdup(f->agent)) ||
	    (f->options.n && !(e->options.items = calloc(f->options.n, sizeof(struct crd_kv))))) {
		snprintf(e->why, sizeof(e->why), "out of memory");
		return -1;
	}
	for (size_t i = 0; i < f->options.n; i++, e->options.n++)
		if (!(e->options.items[i].key = strdup(f->options.items[i].key)) ||
		    !(e->options.items[i].value = strdup(f->options.items[i].value))) {
			e->options.n++;
			snprintf(e->why, sizeof(e->why), "out of memory");
			return -1;
		}
	e->req = (struct fence_request){.agent_dir = hf->agent_dir, .agent = e->agent,
					.options = &e->options, .timeout_s = f->timeout_s};
	return 0;
}

/* Starts @e's fence job for @h. A job that cannot start counts as a failed fence. */
static bool job_start(struct hostfail *hf, struct hostfail_entry *e, const struct crd_host *h,
		      double now)
{
	if (e->joinable) {
		/* It ended (running is false): only its wake call, which takes no lock, is left. */
		pthread_join(e->thread, NULL);
		e->joinable = false;
	}
	if (job_prepare(hf, e, h) == 0 && pthread_create(&e->thread, NULL, fence_thread, e) == 0) {
		e->running = e->joinable = true;
		return true;
	}
	job_release(e);
	e->fence_failed = true;
	back_off(e, now);
	return false;
}

/* The PlacementPolicy's hostFailure, when the Hosts' namespace has one, overrides the
 * command line's (--detect-after): the policy is the declared truth. This function can't
 * fail. */
static void policy_from_set(struct hostfail *hf, const struct crd_set *set)
{
	const struct crd_policy *p = set->n_hosts ? crd_set_policy(set, set->hosts[0].meta.namespace)
				     : NULL;

	if (!p || !p->spec.has_host_failure)
		return;
	hf->pol.detect_after_s = p->spec.host_failure.detect_after_s;
	hf->pol.fence = p->spec.host_failure.fence;
}

/* Tells, once per failure, that @e's failover ended: a restart from it succeeded, none runs,
 * and @plan has none left to do. Detection started when both probes first failed. */
static void failover_tell(struct hostfail *hf, struct hostfail_entry *e, const struct plan *plan)
{
	if (e->failover_told || e->failover_end <= 0 || e->failover_running > 0 ||
	    !plan_failover_done(plan, e->name))
		return;
	double seconds = e->failover_end - e->health.down_since;
	char secs[32];
	e->failover_told = true;
	snprintf(secs, sizeof(secs), "%.1f", seconds);
	log_kv("info", "failover ended", "host", e->name, "seconds", secs, NULL);
	if (hf->failover_done)
		hf->failover_done(hf->failover_opaque, e->name, seconds);
}

void hostfail_failover_started(struct hostfail *hf, const char *host)
{
	struct hostfail_entry *e = entry_of(hf, host, false);
	if (e)
		e->failover_running++;
}

void hostfail_failover_ended(struct hostfail *hf, const char *host, bool ok, double now)
{
	struct hostfail_entry *e = entry_of(hf, host, false);
	if (!e)
		return;
	if (e->failover_running > 0)
		e->failover_running--;
	if (ok && now > e->failover_end)
		e->failover_end = now;
}

int hostfail_act(struct hostfail *hf, struct crd_set *set, const struct inventory *inv,
		 const struct plan *plan, double now, bool stopping,
		 void (*sink)(void *opaque, struct crd_host *h), void *opaque)
{
	struct plan_host_health *health = calloc(hf->n ? hf->n : 1, sizeof(*health));
	struct plan_host_decision *out = calloc(set->n_hosts ? set->n_hosts : 1, sizeof(*out));
	char quorum[256], stamp[32];
	int started = 0;

	if (!health || !out)
		goto cleanup;
	clk_rfc3339(stamp, sizeof(stamp));
	for (size_t i = 0; i < hf->n; i++)
		health[i] = hf->items[i]->health;
	policy_from_set(hf, set);
	(void)plan_fence_decide(set, health, hf->n, &hf->pol, now, out, quorum, sizeof(quorum));
	if (quorum[0])
		log_kv("warn", "no fencing", "reason", quorum, NULL);
	for (size_t i = 0; i < set->n_hosts; i++) {
		struct crd_host *h = &set->hosts[i];
		struct hostfail_entry *e = entry_of(hf, h->meta.name, false);
		if (!e)
			continue;
		if (out[i].verdict == PLAN_HOST_UP && !e->running) {
			/* Answering again: an earlier failed fence is history, not a warning. */
			e->failover_end = 0;
			e->failover_told = false;
			e->fence_failed = false;
			e->why[0] = '\0';
			e->health.retry_at = 0;
			e->backoff_s = HOSTFAIL_BACKOFF_MIN_S;
		}
		if (out[i].verdict == PLAN_HOST_FENCE && e->running) {
			snprintf(out[i].reason, sizeof(out[i].reason), "fencing it with %s",
				 h->spec.fencing.agent);
		} else if (out[i].verdict == PLAN_HOST_FENCE && !stopping) {
			started += job_start(hf, e, h, now);
		} else if (out[i].verdict == PLAN_HOST_FENCED &&
			   plan_fence_release(plan, set, inv, h->meta.name)) {
			/* Back, with no stale copy left: an ordinary host again. */
			free(h->status.fencing.result);
			h->status.fencing.result = strdup("Released");
			out[i].verdict = PLAN_HOST_UP;
			e->health.fenced = false;
		}
		failover_tell(hf, e, plan);
		if (status_host_failure(h, &out[i], e->fence_failed, e->why, stamp) == 0 && sink)
			sink(opaque, h);
	}
cleanup:
	free(health);
	free(out);
	return started;
}

double hostfail_due_in(const struct hostfail *hf, double now)
{
	double due = -1;
	for (size_t i = 0; i < hf->n; i++) {
		const struct plan_host_health *h = &hf->items[i]->health;
		if (!h->down || h->fenced || hf->items[i]->running)
			continue;
		double t = h->down_since + hf->pol.detect_after_s - now;
		if (h->retry_at > now && h->retry_at - now > t)
			t = h->retry_at - now;
		/* Past both: the pass that saw it acted (a fence began, or none is wanted: no
		 * agent, the quorum guard). Due "now" forever, it made the loop spin. */
		if (t <= 0)
			continue;
		if (due < 0 || t < due)
			due = t;
	}
	return due;
}

bool hostfail_busy(const struct hostfail *hf)
{
	for (size_t i = 0; i < hf->n; i++)
		if (hf->items[i]->running)
			return true;
	return false;
}

void hostfail_free(struct hostfail *hf)
{
	if (!hf)
		return;
	for (size_t i = 0; i < hf->n; i++) {
		struct hostfail_entry *e = hf->items[i];
		if (e->joinable)
			pthread_join(e->thread, NULL);
		job_release(e);
		free(e->name);
		free(e);
	}
	free(hf->items);
	memset(hf, 0, sizeof(*hf));
}
