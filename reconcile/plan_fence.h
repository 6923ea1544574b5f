/* plan_fence: which failed hosts to fence now. Pure, like the rest of the planner: each Host's
 * reachability history and the clock come in, one verdict per Host comes out. A host is Failed
 * when its libvirt connection and a TCP connect to its migration address have both failed
 * continuously for detectAfterSeconds; when more than half of the Hosts look failed at once,
 * drover is the one cut off (Pacemaker's quorum rule) and nothing is fenced. */
#ifndef DROVER_PLAN_FENCE_H
#define DROVER_PLAN_FENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "crd/types.h"
#include "reconcile/plan.h"

/* PlacementPolicy.spec.hostFailure; until that kind is decoded, the defaults. */
struct plan_failure_policy {
	double detect_after_s;          /* default 30 */
	bool fence;                     /* default true */
};

/* What the loop knows of one declared Host (same clock for every time and for @now). */
struct plan_host_health {
	const char *name;               /* the Host's name; matched against the set */
	bool down;                      /* libvirt and the migration address both fail now */
	double down_since;              /* since when both have failed without a break */
	bool fenced;                    /* its agent confirmed it off (persisted status.fencing) */
	double retry_at;                /* after a failed fence: not before this; 0 = no wait */
};

enum plan_host_verdict {
	PLAN_HOST_UP = 0,               /* reachable (one of the two probes answers) */
	PLAN_HOST_SUSPECT,              /* down for less than detectAfterSeconds */
	PLAN_HOST_FAILED,               /* Failed, and drover will not fence it: no spec.fencing,
					 * fence: false, or spec.fenced already says it is off */
	PLAN_HOST_FENCE,                /* Failed: run its fence agent now */
	PLAN_HOST_BACKOFF,              /* Failed, the last fence failed: retried later */
	PLAN_HOST_QUORUM,               /* Failed, but most hosts look failed: nothing is fenced */
	PLAN_HOST_FENCED,               /* its agent confirmed it off: its VMs may restart */
};

struct plan_host_decision {
	const char *name;               /* the Host's name (borrowed from the set) */
	enum plan_host_verdict verdict;
	char reason[256];
};

/* Fills @p with the defaults (30 s, fence). This function can't fail. */
void plan_failure_policy_default(struct plan_failure_policy *p);

/* Decides for each Host of @desired (in set order, @out holds desired->n_hosts entries) from
 * @health (@n entries, any order; a Host without one counts as up). Writes into @quorum_why
 * the reason nothing is fenced when the quorum guard holds, else "". Returns how many hosts
 * get PLAN_HOST_FENCE. This function can't fail. */
size_t plan_fence_decide(const struct crd_set *desired, const struct plan_host_health *health,
			 size_t n, const struct plan_failure_policy *pol, double now,
			 struct plan_host_decision *out, char *quorum_why, size_t why_size);

/* Folds one pass's probes of a host into @hh: down when libvirt failed and its address did
 * not answer either; down_since is kept while it stays down and restarts after any answer.
 * This function can't fail. */
void plan_health_observe(struct plan_host_health *hh, bool libvirt_ok, bool addr_alive,
			 double now);

/* True when host @name, fenced by its agent, may drop that mark: it is reachable again in
 * @inv, @p (planned from @set and @inv with it still fenced) removes no stale copy there and
 * leaves no VM in conflict over it, and no VM of @set with a domain of drover's there has
 * another elsewhere. Until then it takes nothing new and its inactive copies count as
 * stale. This function can't fail. */
bool plan_fence_release(const struct plan *p, const struct crd_set *set,
			const struct inventory *inv, const char *name);

/* True when @p leaves nothing of host @name's failover to do: no VM that last ran there, is
 * to run, has shared storage and is not pinned there has an action other than PLAN_NONE
 * (a restart to dispatch, or one blocked for want of a host). The failover of a host ends
 * when this holds and no restart from it runs. This function can't fail. */
bool plan_failover_done(const struct plan *p, const char *name);

/* "Up", "Suspect", "Failed", ... This function can't fail. */
const char *plan_host_verdict_str(enum plan_host_verdict v);

#endif
