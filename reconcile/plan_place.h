/* plan_place: choosing a host for a VM — schedulable, matching its hostSelector, passing the
 * pre-checks, with the most free memory after what this plan already placed; ties by name. */
#ifndef DROVER_PLAN_PLACE_H
#define DROVER_PLAN_PLACE_H

#include <stddef.h>

#include "reconcile/plan_check.h"
#include "reconcile/plan_ctx.h"

/* Chooses the host for @v to land on by @op, never @exclude (the source of a move).
 * Returns the host (into @c), or NULL with "no schedulable host: lab-b: PreCheckFailed: ...,
 * lab-c: unschedulable" in @why (always terminated). This function can't fail. */
struct plan_host *plan_place(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
			     const struct plan_host *exclude, char *why, size_t size);

#endif
