/* reconciler: observe, plan, write status, execute — one pass, and the loop that
 * converges. Shared by every source of objects (a directory, the Kubernetes API);
 * the source supplies where status goes. */
#ifndef DROVER_RECONCILER_H
#define DROVER_RECONCILER_H

#include <pthread.h>
#include <stdbool.h>

#include "controller/loop/retry.h"
#include "crd/types.h"
#include "reconcile/execute.h"
#include "reconcile/inventory.h"
#include "reconcile/lv.h"
#include "reconcile/plan.h"

#define REC_WUR __attribute__((warn_unused_result))
/* At most this many actions run at once in one pass (the planner's migration limits
 * are lower; this bounds defines, starts and stops). */
#define REC_MAX_PARALLEL 32

struct rec_job;

/* Where status goes. Each callback may be NULL; they are called with the
 * reconciler's lock held, from any thread. */
struct rec_sink {
	void (*vm)(void *opaque, const struct crd_vm *vm);
	void (*host)(void *opaque, const struct crd_host *h);
	void (*migration)(void *opaque, const struct crd_migration *m);
	void *opaque;
};

/* action_done's @rc: 0 done, REC_CANCELLED a move aborted on request (the VM stays on its
 * source; not a failure), < 0 failed with @why. */
#define REC_CANCELLED 1

/* What a person watching sees. Each callback may be NULL; called with the lock held. */
struct rec_view {
	void (*plan)(void *opaque, const struct plan *p);
	void (*action_done)(void *opaque, const struct plan_action *a, int rc, const char *why);
	void (*move)(void *opaque, const struct plan_action *a, const struct exec_move *m);
	void *opaque;
};

struct rec_options {
	struct plan_limits limits;
	double stop_timeout_s;    /* graceful shutdown wait before a forced stop */
	int max_rounds;           /* passes of one converge that act */
	bool wait_in_flight;      /* passes that only wait (a job in flight, a limit) do not
				   * count against max_rounds: timeout_s bounds them (apply) */
	double timeout_s;         /* one converge in all */
};

/* A move drover decided on itself (spec.host changed, drain): recorded as a
 * Migration of its own so it shows in status like a user's. */
struct rec_record {
	struct crd_migration m;
};

struct rec {
	struct lv_pool pool;
	struct rec_options opt;
	struct rec_sink sink;
	struct rec_view view;
	pthread_mutex_t lock;     /* guards the set's status and the records while actions run */
	struct rec_record *records;
	size_t n_records;
	struct mig_cancel cancel; /* set to abort running migrations (shutdown) */
	struct rec_job *running[REC_MAX_PARALLEL]; /* actions under way, for rec_cancel_migration */
	size_t n_running;
	struct retry_table retries; /* per VM: a failed action waits before it is tried again */
};

/* Aborts the running move of Migration @ns/@name, if one is under way (a deleted or
 * cancelled Migration); thread-safe, callable while rec_converge runs. The move ends
 * Cancelled with the VM on its source (or is refused once in post-copy).
 * Returns 1 when a running move was told to stop, 0 when none was running. */
int rec_cancel_migration(struct rec *r, const char *ns, const char *name);

/* Aborts every running move of a user's Migration that @desired no longer wants: the
 * Migration is gone from it or says spec.cancel (directory mode, where the manifests are
 * read again while a pass runs). A move of an undeclared record (a move taken over) is not
 * the manifests' to withdraw. Thread-safe, callable while rec_converge runs. Returns the
 * number of moves told to stop. */
int rec_cancel_withdrawn(struct rec *r, const struct crd_set *desired);

/* Default options: limits 5/2, stop timeout 60 s, 20 rounds, 1 hour. Can't fail. */
void rec_options_default(struct rec_options *opt);

/* Initialises @r; starts libvirt's event loop. Returns 0, or -1 with a message. */
int rec_init(struct rec *r, const struct rec_options *opt, const struct rec_sink *sink,
	     const struct rec_view *view) REC_WUR;

/* Calls @fn (from libvirt's event thread) when a host reports a domain lifecycle
 * event or a lost connection, so a controller can reconcile at once.
 * This function can't fail. */
void rec_set_wake(struct rec *r, lv_wake_fn fn, void *opaque);

/* Seconds until the earliest backed-off action may be tried again, or -1 when none
 * waits. Thread-safe. */
double rec_retry_due_in(struct rec *r);

/* Releases connections and records; accepts NULL. */
void rec_free(struct rec *r);

/* Observes every host of @set and plans. Returns 0 with @inv and @plan filled (the
 * caller frees both), or -1 when out of memory. */
int rec_observe_and_plan(struct rec *r, const struct crd_set *set, struct inventory *inv,
			 struct plan *plan) REC_WUR;

/* Writes the status of every object of @set from @inv and @plan through the sink.
 * This function can't fail (a status that cannot be built is skipped). */
void rec_write_status(struct rec *r, struct crd_set *set, const struct inventory *inv,
		      const struct plan *plan);

/* The outcome of rec_converge. */
struct rec_result {
	bool converged;           /* nothing left to do, nothing blocked */
	int actions_done;
	int actions_failed;
	int blocked;              /* BLOCKED actions in the last plan */
};

/* Passes (observe, plan, status, execute) until nothing is left to change, an
 * action failed and nothing else can proceed, or the round/time limits end it.
 * A failed action is not retried within one converge. Returns 0 with @res filled,
 * or -1 when out of memory. */
int rec_converge(struct rec *r, struct crd_set *set, struct rec_result *res) REC_WUR;

#endif
