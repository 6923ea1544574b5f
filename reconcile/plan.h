/* plan: the pure heart of drover. Desired objects + observed inventory in, an ordered
 * list of actions with their reasons out. No libvirt, no clock, no I/O. */
#ifndef DROVER_PLAN_H
#define DROVER_PLAN_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "crd/types.h"
#include "reconcile/inventory.h"

enum plan_kind {
	PLAN_NONE = 0,          /* converged: nothing to do (listed so status can be written) */
	PLAN_DEFINE,            /* define on dst, leave it stopped (running: false) */
	PLAN_DEFINE_START,      /* define on dst and start it */
	PLAN_START,             /* start the definition on dst */
	PLAN_STOP,              /* graceful shutdown on dst, destroy after a timeout */
	PLAN_MIGRATE_LIVE,      /* live, shared storage: src → dst */
	PLAN_MIGRATE_LIVE_COPY, /* live, local disks mirrored to dst's pool */
	PLAN_MIGRATE_COLD,      /* stop (if running), copy local disks, define on dst, start */
	PLAN_UNDEFINE_STALE,    /* remove a stale, inactive definition from dst (a fenced host, or
				 * the source of a move cut short); with a Migration and local
				 * storage, also the copies of the disks the move left on dst:
				 * its source's stale ones, or its target's partial ones */
	PLAN_FINISH_MIGRATION,  /* a Migration's work is already done or impossible: record its end */
	PLAN_BLOCKED,           /* something prevents the desired state; reason says what */
	PLAN_WAIT,              /* would act, but a concurrency limit or a running job holds it */
	PLAN_WATCH_MIGRATION,   /* take over a live migration src → dst an earlier drover left
				 * running (its Migration is still Running): watch it to its end */
	PLAN_TUNE,              /* set spec.tuning on dst: the definition, and live when running */
	PLAN_REDEFINE,          /* spec.domain changed: redefine on dst (same UUID, drover's
				 * metadata, tuning kept); a running guest needs a restart */
	PLAN_DELETE,            /* the object is being deleted (deletionPolicy Delete): stop the
				 * domain on dst (graceful, destroy after a timeout), undefine it;
				 * disks are kept */
	PLAN_DISOWN,            /* the object is being deleted (deletionPolicy Retain): remove
				 * drover's metadata from the domain on dst, leave it as it is */
	PLAN_RESTART,           /* asked for (drover restart): graceful shutdown on dst (destroy
				 * after a timeout), then start again there */
};

/* Why an action is BLOCKED (or why a Migration finished without moving). */
enum plan_problem {
	PLAN_PROBLEM_NONE = 0,
	PLAN_PROBLEM_CONFLICT,        /* the VM is defined on two hosts: reported, left alone */
	PLAN_PROBLEM_PRECHECK,        /* a pre-check failed; reason names the check */
	PLAN_PROBLEM_NO_HOST,         /* no host satisfies the placement rules */
	PLAN_PROBLEM_HOST_UNKNOWN,    /* the VM's host is unreachable and not fenced */
	PLAN_PROBLEM_REJECTED,        /* a Migration that cannot be honoured (pinned VM, ...) */
	PLAN_PROBLEM_EVICTION,        /* a drain cannot move the VM (strategy None, pinned, ...) */
	PLAN_PROBLEM_LOST,            /* local-storage VM on a fenced host: lost until it returns */
};

struct plan_action {
	enum plan_kind kind;
	enum plan_problem problem;
	const struct crd_vm *vm;              /* into the desired set; never NULL */
	const struct crd_migration *migration; /* the Migration driving it, or NULL */
	char *src;                            /* host the VM is on now, or NULL */
	char *dst;                            /* host acted on / moved to, or NULL */
	enum crd_vm_phase phase;              /* the VM phase to report for this VM */
	enum crd_mig_phase migration_phase;   /* for FINISH_MIGRATION: Succeeded/Failed/Cancelled */
	char *reason;                         /* why: "spec.host changed: lab-a → lab-b",
					       * "PreCheckFailed: lab-b has 512Mi free, web-1 needs 1Gi" */
	struct crd_knobs knobs;               /* effective migration knobs (migrations only) */
	enum crd_mig_reason cause;            /* why a move is made: its Migration's status.reason */
	/* When placement chose (or failed to choose) the host: status.placement of the VM. */
	char *placement;                      /* why dst, or why none; NULL when placement did not run */
	struct crd_map rejected;              /* host → why it was not chosen */
	bool restart_required;                /* NONE: converged, but the running guest waits
					       * for a restart to take its new definition */
	bool released;                        /* NONE: the object is being deleted and no domain
					       * of drover's for it is left on any host (every
					       * declared host was seen): its finalizer may go */
	bool adopt;                           /* the VM's domain lacks drover's metadata: the
					       * executor writes it (NONE: even in a pass with
					       * nothing else to do) */
};

struct plan {
	struct plan_action *actions;
	size_t n;
};

struct plan_limits {
	unsigned max_migrations;          /* in the whole cluster at once; default 5 */
	unsigned max_outbound_per_host;   /* default 2 */
	/* Wall clock (seconds since the epoch) the caller read for this pass: balancing compares
	 * it with the times of earlier Balance Migrations. 0 = unknown: no balancing. */
	int64_t now;
};


/* Fills @lim with the defaults (5 and 2). This function can't fail. */
void plan_limits_default(struct plan_limits *lim);

/* Computes the actions that move @inv towards @desired. Deterministic: the same input
 * gives the same output. One action per VirtualMachine at most, plus FINISH_MIGRATION /
 * BLOCKED actions for Migration objects; ordered so that what unblocks others comes
 * first. Returns 0 with @out filled (the caller frees it with plan_free), or -1 when out
 * of memory (@out is then empty). Strings in actions are owned by the plan; vm and
 * migration point into @desired, which must outlive the plan. */
int plan_compute(const struct crd_set *desired, const struct inventory *inv,
		 const struct plan_limits *lim, struct plan *out) DROVER_WUR;

/* For each VM of @set (the set @p was computed from), its own action (the first; a
 * FINISH_MIGRATION is about a Migration, not the VM) or NULL: an array of set->n_vms
 * entries, in the order of set->vms, that the caller frees. Returns NULL when out of
 * memory. */
const struct plan_action **plan_actions_by_vm(const struct plan *p, const struct crd_set *set)
	DROVER_WUR;

/* Frees the actions and zeroes @p; accepts NULL. */
void plan_free(struct plan *p);

/* True when the plan has anything to change (a kind other than NONE, BLOCKED, WAIT).
 * This function can't fail. */
bool plan_has_changes(const struct plan *p);

/* "define+start", "live-migrate", ... This function can't fail. */
const char *plan_kind_str(enum plan_kind k);

#endif
