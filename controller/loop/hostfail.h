/* hostfail: the loop's memory of failing hosts and the fence jobs it runs. Each pass folds
 * observe's probes into each Host's health (since when it is down), lets plan_fence_decide
 * say which hosts to fence, runs their fence agents in threads of their own (a fence never
 * holds up a pass), and writes the Failed and Fenced conditions and status.fencing. A host
 * counts as fenced for the planner (inv_host.fenced) only once its agent confirmed it off;
 * status.fencing keeps that across a restart of drover. */
#ifndef DROVER_HOSTFAIL_H
#define DROVER_HOSTFAIL_H

#include "crd/compiler.h"

#include <pthread.h>
#include <stdbool.h>

#include "crd/types.h"
#include "reconcile/inventory.h"
#include "reconcile/plan.h"
#include "reconcile/plan_fence.h"

/* A failed fence is retried after this long, doubling up to the maximum. */
#define HOSTFAIL_BACKOFF_MIN_S 5.0
#define HOSTFAIL_BACKOFF_MAX_S 300.0

struct hostfail_entry;

struct hostfail {
	struct plan_failure_policy pol;
	const char *agent_dir;          /* NULL: FENCE_AGENT_DIR */
	pthread_mutex_t *lock;          /* the reconciler's: guards the entries */
	void (*wake)(void *opaque, const char *host);   /* a fence ended: pass again */
	void *wake_opaque;
	/* Kubernetes mode: reads key @key of Secret @ns/@name. Returns a string the caller
	 * wipes and frees, or NULL with @why set. Called from a fence thread, without the lock.
	 * NULL: passwordSecretRef cannot be read (directory mode). */
	char *(*secret)(void *opaque, const char *ns, const char *name, const char *key, char *why,
			size_t why_size);
	void *secret_opaque;
	/* A host's failover ended: @seconds from its first failed probe to the last of its VMs
	 * running elsewhere. Called with the lock held; may be NULL. */
	void (*failover_done)(void *opaque, const char *host, double seconds);
	void *failover_opaque;
	struct hostfail_entry **items;
	size_t n;
};

/* Sets @hf up with @pol under @lock. This function can't fail. */
void hostfail_init(struct hostfail *hf, const struct plan_failure_policy *pol,
		   pthread_mutex_t *lock);

/* Before planning, with the lock held: folds @inv's probes into each Host of @set, marks
 * agent-fenced hosts in @inv (inv_host.fenced) and applies fence results that ended since
 * the last pass to @set's Host status. Returns 0, or -1 when out of memory. */
int hostfail_observe(struct hostfail *hf, struct crd_set *set, struct inventory *inv,
		     double now) DROVER_WUR;

/* After planning, with the lock held: decides which hosts to fence, starts their fence
 * jobs (unless @stopping), drops the fenced mark of hosts back with no stale copy left, and
 * writes every Host's Failed and Fenced conditions. Calls @sink for each Host. Returns the
 * number of fences started. This function can't fail (a job that cannot start is a failed
 * fence, retried with backoff). */
int hostfail_act(struct hostfail *hf, struct crd_set *set, const struct inventory *inv,
		 const struct plan *plan, double now, bool stopping,
		 void (*sink)(void *opaque, struct crd_host *h), void *opaque);

/* A restart of a VM from failed host @host (a Failover) begins, or ends (@ok: it runs
 * elsewhere) at @now: the failover's end is the last of these to succeed. Called with the
 * lock held. These functions can't fail (an unknown host is ignored). */
void hostfail_failover_started(struct hostfail *hf, const char *host);
void hostfail_failover_ended(struct hostfail *hf, const char *host, bool ok, double now);

/* Seconds until a down host reaches detectAfterSeconds or a failed fence may be retried,
 * or -1 when nothing waits (a moment already past is not waited for: the pass after it
 * acted): the loop passes then. Called with the lock held. Can't fail. */
double hostfail_due_in(const struct hostfail *hf, double now);

/* True when a fence job is running. Called with the lock held. Can't fail. */
bool hostfail_busy(const struct hostfail *hf);

/* Waits for the fence jobs (called without the lock) and frees everything; accepts NULL. */
void hostfail_free(struct hostfail *hf);

#endif
