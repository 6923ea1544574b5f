/* reconciler: observe, plan, write status, execute — one pass, and the loop that
 * converges. Shared by every source of objects (a directory, the Kubernetes API);
 * the source supplies where status goes. */
#ifndef DROVER_RECONCILER_H
#define DROVER_RECONCILER_H

#include "crd/compiler.h"

#include <pthread.h>
#include <stdbool.h>

#include "controller/loop/hostfail.h"
#include "controller/loop/retry.h"
#include "crd/types.h"
#include "reconcile/execute.h"
#include "reconcile/inventory.h"
#include "reconcile/lv.h"
#include "reconcile/plan.h"

/* At most this many actions run at once (the planner's migration limits are lower; this
 * bounds defines, starts and stops). */
#define REC_MAX_PARALLEL 32

struct rec_job;
struct rec_snapshot;

/* Where status goes. Each callback may be NULL; they are called with the
 * reconciler's lock held, from any thread. */
struct rec_sink {
	/* The sinks of objects may note in them which write of their record they are. */
	void (*vm)(void *opaque, struct crd_vm *vm);
	/* A domain of drover's that no VM declares (directory mode): still there, or @gone
	 * (pruned). */
	void (*orphan)(void *opaque, const struct plan_orphan *o, bool gone);
	/* A restart of @vm asked for is about to begin: its request is done with. */
	void (*restart_taken)(void *opaque, const struct crd_vm *vm);
	void (*host)(void *opaque, struct crd_host *h);
	void (*migration)(void *opaque, struct crd_migration *m);
	/* The objects of @set, a pass's own, are about to be freed: their statuses may be
	 * kept (directory mode keeps them between passes). NULL: nothing to do. */
	void (*release)(void *opaque, struct crd_set *set);
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
	/* The orphans a round found, every round that looks for them (none included). */
	void (*orphans)(void *opaque, const struct plan_orphans *o);
	void (*orphan_done)(void *opaque, const struct plan_orphan *o, int rc, const char *why);
	/* A converge that planned more than once ends with VMs blocked: the last round's plan
	 * (its blocked VMs may not be the first plan's), so whoever reads "N blocked" learns
	 * which and why. */
	void (*still_blocked)(void *opaque, const struct plan *p);
	/* Failed host @host's VMs all run elsewhere, @seconds after its first failed probe. */
	void (*failover)(void *opaque, const char *host, double seconds);
	void *opaque;
};

/* What a converge does with drover's domains that no VM declares. */
enum rec_orphans {
	REC_ORPHANS_IGNORE = 0,   /* Kubernetes mode: deletion goes through finalizers */
	REC_ORPHANS_REPORT,       /* directory mode: reported Orphaned, left running */
	REC_ORPHANS_PRUNE,        /* --prune: stopped and undefined (disks kept) */
};

#define REC_RESYNC_DEFAULT_S 30

struct rec_options {
	struct plan_limits limits;
	double stop_timeout_s;    /* graceful shutdown wait before a forced stop */
	int max_rounds;           /* passes of one converge that act */
	bool wait_in_flight;      /* passes that only wait (a job in flight, a limit) do not
				   * count against max_rounds: timeout_s bounds them (apply) */
	double timeout_s;         /* one converge in all */
	unsigned keep_migrations; /* finished Migration records kept per VM (records.h) */
	enum rec_orphans orphans; /* REC_ORPHANS_IGNORE unless set */
	/* PlacementPolicy hostFailure; the defaults (30 s, fence) until that kind is read. */
	struct plan_failure_policy failure;
	/* `run`: a pass at least this often when nothing was noticed (libvirt's events or a
	 * watch can be missed); REC_RESYNC_DEFAULT_S unless --resync says otherwise. */
	double resync_s;
};

/* VMs whose action failed (keys "ns/name", with the reason): in one converge they are not
 * tried again. */
struct rec_failed {
	char **keys, **why;
	size_t n;
};

/* The reconciler. Passes observe, plan, write status and dispatch actions to jobs, which
 * run in threads of their own: a pass never waits for a job, and the next pass plans around
 * the jobs under way (their VMs wait, moves count against the limits). A job that ends
 * wakes the caller (rec_set_wake) so that a pass follows. */
struct rec {
	struct lv_pool pool;
	struct rec_options opt;
	struct rec_sink sink;
	struct rec_view view;
	pthread_mutex_t lock;     /* guards the status of every snapshot, the jobs, the counts */
	pthread_cond_t job_ended; /* broadcast when a job ends */
	struct rec_job *running[REC_MAX_PARALLEL]; /* jobs under way */
	size_t n_running;
	bool stopping;            /* rec_handover: dispatch nothing more */
	int ended_ok, ended_failed; /* jobs ended since the last pass took the counts */
	unsigned long ended;      /* jobs ended in all: a waiter sees whether one did */
	/* Jobs ended since the last round planned: a controller's next pass may plan on a set
	 * loaded before they ended (a record still Running), so they count as under way once
	 * more rather than be settled from a stale copy. */
	struct inventory just_ended;
	struct rec_failed failed; /* failures since the last rec_converge began */
	struct retry_table retries; /* per VM: a failed action waits before it is tried again */
	struct hostfail hostfail; /* failing hosts and their fence jobs */
};

/* Aborts the running move of Migration @ns/@name, if one is under way (a deleted or
 * cancelled Migration); thread-safe. The move ends Cancelled with the VM on its source (or
 * is refused once in post-copy). Returns 1 when a running move was told to stop, 0 when
 * none was running. */
int rec_cancel_migration(struct rec *r, const char *ns, const char *name);

/* Aborts every running move of a user's Migration that @desired no longer wants: the
 * Migration is gone from it or says spec.cancel (directory mode). A move of an undeclared
 * record (a move taken over) is not the manifests' to withdraw. Thread-safe. Returns the
 * number of moves told to stop. */
int rec_cancel_withdrawn(struct rec *r, const struct crd_set *desired);

/* Default options: limits 5/2, stop timeout 60 s, 20 rounds, 1 hour. Can't fail. */
void rec_options_default(struct rec_options *opt);

/* Initialises @r; starts libvirt's event loop. Returns 0, or -1 with a message. */
int rec_init(struct rec *r, const struct rec_options *opt, const struct rec_sink *sink,
	     const struct rec_view *view) DROVER_WUR;

/* Calls @fn when a host reports a domain lifecycle event or a lost connection (from
 * libvirt's event thread, with the host's name) and when a job ends (from the job's
 * thread, with NULL), so a controller can reconcile at once. This function can't fail. */
void rec_set_wake(struct rec *r, lv_wake_fn fn, void *opaque);

/* Kubernetes mode: how fence jobs read Host.spec.fencing.passwordSecretRef (see struct
 * hostfail). Set before the first pass. This function can't fail. */
void rec_set_secret_reader(struct rec *r,
			   char *(*fn)(void *opaque, const char *ns, const char *name,
				       const char *key, char *why, size_t why_size),
			   void *opaque);

/* Seconds until the next pass without any event: when the earliest backed-off action may
 * be tried again, a down host is due to count as Failed or to have its fence retried, or a
 * host that is not connected may be tried again; @resync_s when none is sooner. Called
 * from the thread that runs the passes. */
double rec_next_pass_in(struct rec *r, double resync_s);

/* Stops dispatching for good (lost leadership, a signal): jobs under way run on.
 * Thread-safe; can't fail. */
void rec_stop(struct rec *r);

/* Stops dispatching for good; jobs under way are left alone (a live migration runs on in
 * the source's libvirtd, and the next drover takes it over; a cold move is finished or
 * rolled back by the next drover's crash rules). Returns the number of jobs still running:
 * when it is not 0, the lock stays held — no job writes status any more — and the caller
 * must exit the process without rec_free (_exit). Thread-safe. */
size_t rec_handover(struct rec *r);

/* Waits for every job, then releases connections; accepts NULL. */
void rec_free(struct rec *r);

/* Observes every host of @set and plans. Returns 0 with @inv and @plan filled (the
 * caller frees both), or -1 when out of memory. */
int rec_observe_and_plan(struct rec *r, const struct crd_set *set, struct inventory *inv,
			 struct plan *plan) DROVER_WUR;

/* The orphans of @set in @inv as r->opt.orphans says (none when IGNORE). Returns 0 with
 * @out filled (the caller frees it), or -1 when out of memory. */
int rec_orphans(const struct rec *r, const struct crd_set *set, const struct inventory *inv,
		struct plan_orphans *out) DROVER_WUR;

/* The outcome of a pass or a converge. */
struct rec_result {
	bool converged;           /* nothing left to do, nothing blocked, no job under way */
	bool again;               /* a pass right now would find more to do */
	int actions_done;         /* jobs ended well (rec_pass: since the last pass) */
	int actions_failed;
	int blocked;              /* BLOCKED actions in the last plan */
	int running;              /* jobs under way after the pass */
	int orphans;              /* domains of drover's no VM declares, seen by the pass */
	/* rec_pass_keep: nonzero when the pass planned nothing new, with every host answering
	 * and nothing under way: the digest of what it observed, for rec_quiet_pass. */
	uint64_t quiet_key;
};

/* Called by rec_pass with the pass's set and the plan made from it (empty when planning
 * failed), under the lock (jobs may write its status). */
typedef void (*rec_after_fn)(void *opaque, const struct crd_set *set, const struct plan *plan);

/* One pass for a controller: observe, plan, write status, dispatch; it does not wait for
 * any job. Takes @set over (it is zeroed: jobs keep it while they run) and calls @after
 * (may be NULL) with it before letting go. Returns 0 with @res filled, or -1 when out of
 * memory. */
int rec_pass(struct rec *r, struct crd_set *set, struct rec_result *res, rec_after_fn after,
	     void *opaque) DROVER_WUR;

/* rec_pass, which hands @set back (*@kept true) when passes may follow that only observe
 * (res->quiet_key nonzero, see rec_quiet_pass), for the caller to keep its Hosts; else
 * @set is taken over, as by rec_pass. */
int rec_pass_keep(struct rec *r, struct crd_set *set, bool *kept, struct rec_result *res,
		  rec_after_fn after, void *opaque) DROVER_WUR;

/* A quiet pass, after a pass that left quiet key @key and while the set it loaded is
 * unchanged (the caller knows its files): observes the Hosts of @hosts (a set of Hosts
 * only, that pass's) and, when it sees what that pass saw (inv_digest equal, host load
 * aside), writes their status and returns 1: planning again would find what that pass
 * found, nothing to do. Returns 0 when it sees anything else, or a job or fence runs (a
 * full pass is due), -1 when out of memory. */
int rec_quiet_pass(struct rec *r, struct crd_set *hosts, uint64_t key) DROVER_WUR;

/* Lets go of a set rec_pass_keep handed back: the sink keeps what it wants of it (the
 * statuses, for the next load to take), then it is freed. Can't fail. */
void rec_release_set(struct rec *r, struct crd_set *set);

/* Passes until nothing is left to change and no job runs, an action failed and nothing
 * else can proceed, or the round/time limits end it; then waits for the jobs under way.
 * A failed action is not retried within one converge. @set must outlive the call (it
 * does: every job has ended when it returns). Returns 0 with @res filled, or -1 when out
 * of memory. */
int rec_converge(struct rec *r, struct crd_set *set, struct rec_result *res) DROVER_WUR;

#endif
