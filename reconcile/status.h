/* status: what to write back — VM, Host and Migration status derived from the plan
 * and the inventory. Pure: the time comes in as a value. */
#ifndef DROVER_STATUS_H
#define DROVER_STATUS_H

#include "crd/compiler.h"

#include "crd/types.h"
#include "reconcile/execute.h"
#include "reconcile/inventory.h"
#include "reconcile/invindex.h"
#include "reconcile/plan.h"
#include "reconcile/plan_fence.h"


/* Sets condition @type in @c (adding it when missing). lastTransitionTime becomes @now
 * only when the status changes, per the Kubernetes API conventions.
 * Returns 0, or -1 when out of memory. */
int status_set_condition(struct crd_conditions *c, const char *type, enum crd_cond_status st,
			 const char *reason, const char *message, int64_t generation,
			 const char *now) DROVER_WUR;

/* True when condition @type of @c is True. This function can't fail. */
bool status_condition_true(const struct crd_conditions *c, const char *type);

/* The condition reason for a plan problem ("PreCheckFailed", "Conflict", ...).
 * This function can't fail. */
const char *status_problem_reason(enum plan_problem p);

/* Updates @vm->status from @a (the plan's action for it; NULL when none) and @inv, whose
 * domains @doms indexes (inv_index_inventory: built once for all the VMs of a pass).
 * Returns 0, or -1 when out of memory. */
int status_vm_update(struct crd_vm *vm, const struct plan_action *a, const struct inventory *inv,
		     const struct inv_index *doms, const char *now) DROVER_WUR;

/* Updates @h->status from its observed host @ih (NULL when not observed).
 * Returns 0, or -1 when out of memory. */
int status_host_update(struct crd_host *h, const struct inv_host *ih, const char *now) DROVER_WUR;

/* Host conditions Failed and Fenced from the host-failure verdict @d (plan_fence_decide).
 * @fence_failed: the last fence of this host failed, with @fence_why (the agent's message,
 * never the password) — Fenced=False with reason FenceFailed, the Warning the event repeats.
 * Returns 0, or -1 when out of memory. */
int status_host_failure(struct crd_host *h, const struct plan_host_decision *d, bool fence_failed,
			const char *fence_why, const char *now) DROVER_WUR;

/* Records a fence drover ran on @h: status.fencing {lastAction: @action, result: Succeeded or
 * Failed, time: @now}. This record is what keeps a host fenced across a restart of drover.
 * Returns 0, or -1 when out of memory. */
int status_host_fence_ran(struct crd_host *h, const char *action, bool succeeded,
			  const char *now) DROVER_WUR;

/* True when @h's status.fencing says its agent confirmed it off (lastAction off, result
 * Succeeded): the loop's inv_host.fenced. This function can't fail. */
bool status_host_fenced_by_agent(const struct crd_host *h);

/* Sets @st->phase to @phase and, when it differs from the last entry of
 * status.phaseTransitionTimestamps (or there is none), appends {@phase, @now} (@now is
 * RFC 3339, not NULL). Writing the same phase again adds nothing; past
 * CRD_MIG_TRANSITIONS_MAX entries the oldest is dropped. PHASE_NONE is never recorded.
 * Returns 0, or -1 when out of memory (the phase is set, the entry is not). */
int status_migration_set_phase(struct crd_migration_status *st, enum crd_mig_phase phase,
			       const char *now) DROVER_WUR;

/* Copies a move's record @mv into Migration status @st (source, target, phase and its
 * transition time, mode, times, progress, downtime, failure reason, and a condition per phase).
 * Returns 0, or -1 when out of memory. */
int status_migration_update(struct crd_migration_status *st, const struct exec_move *mv,
			    int64_t generation, const char *now) DROVER_WUR;

/* Move @a (its record @m: a user's Migration, or drover's own) went on as @mv says: its
 * status follows (status_migration_update), and status.reason says why it exists — the
 * move's cause for drover's own records, Requested for a user's. Returns 0, or -1 when out
 * of memory. */
int status_migration_move(struct crd_migration *m, const struct plan_action *a,
			  const struct exec_move *mv, const char *now) DROVER_WUR;

/* A Migration the planner closed without a move (@a is its FINISH_MIGRATION): its end,
 * with the phase the plan gives, written into @m's status.
 * Returns 0, or -1 when out of memory. */
int status_migration_finish(struct crd_migration *m, const struct plan_action *a,
			    const char *now) DROVER_WUR;

/* A user's Migration the plan is about to carry out, or waits to (@a, a limit), is Pending
 * until its move starts. Returns 1 when @m's status changed, 0 when it did not (already
 * past Pending, or @a is BLOCKED), -1 when out of memory. */
int status_migration_pending(struct crd_migration *m, const struct plan_action *a,
			     const char *now) DROVER_WUR;

/* A move of @vm recorded as Migration @m went on (@mv): the VM's status.migration
 * and its phase follow. Returns 0, or -1 when out of memory. */
int status_vm_move(struct crd_vm *vm, const struct crd_migration *m,
		   const struct exec_move *mv) DROVER_WUR;

/* @vm is about to be defined on @host (a define+start): status.host says so before anything
 * is defined there, so that a pass that cannot see @host afterwards — it stopped answering
 * as the VM started, or drover died before any pass saw the VM there — counts the VM as
 * possibly running there, not as undefined (safety rule 1). Returns 0, or -1 when out of
 * memory. */
int status_vm_landing(struct crd_vm *vm, const char *host) DROVER_WUR;

/* @vm's action of kind @kind failed with @why: Placed=False, reason ActionFailed (a
 * tuning: Tuned=False, reason TuningFailed). Returns 0, or -1 when out of memory. */
int status_vm_action_failed(struct crd_vm *vm, enum plan_kind kind, const char *why,
			    const char *now) DROVER_WUR;

/* @vm waits out the backoff of an earlier failure @why of an action of kind @kind for
 * @left_s more seconds: Placed=False, reason BackingOff (a tuning: Tuned=False, reason
 * TuningFailed, as it waits on its own). Returns 0, or -1 when out of memory. */
int status_vm_backing_off(struct crd_vm *vm, enum plan_kind kind, const char *why,
			  double left_s, const char *now) DROVER_WUR;

#endif
