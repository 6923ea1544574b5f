/* plan_place: choosing a host for a VM — schedulable, matching its hostSelector, passing the
 * pre-checks and the capacity limits, keeping every required (anti-)affinity term; among
 * those the best by preferred terms, then the most free memory after what this plan already
 * placed; ties by name. */
#ifndef DROVER_PLAN_PLACE_H
#define DROVER_PLAN_PLACE_H

#include <stddef.h>

#include "reconcile/plan_check.h"
#include "reconcile/plan_ctx.h"

/* Why placement chose its host and why it turned down each other one (status.placement). */
struct plan_choice {
	char reason[256];               /* "most free memory of 3 feasible hosts" */
	struct crd_map rejected;        /* host → why not; owned (crd_map_free) */
	bool oom;                       /* a rejection could not be recorded */
};

/* Chooses the host for @v to land on by @op, never @exclude (the source of a move).
 * Returns the host (into @c), or NULL with "no schedulable host: lab-b: PreCheckFailed: ...,
 * lab-c: unschedulable" in @why (always terminated). Fills @ch (the caller releases
 * ch->rejected). This function can't fail (out of memory sets ch->oom). */
struct plan_host *plan_place(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
			     const struct plan_host *exclude, struct plan_choice *ch, char *why,
			     size_t size);

/* The rules a host must pass for @v beyond plan_check_target: its state, hostSelector and
 * required (anti-)affinity (after plan_aff_eval for @v). Returns true, or false with the
 * reason in @why. This function can't fail. */
bool plan_place_fits(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
		     const struct plan_host *h, char *why, size_t size);

/* Moves @ch into action @a (placement reason and rejections). Returns -1 when out of memory
 * (ch is released either way). */
int plan_choice_give(struct plan_choice *ch, struct plan_action *a, const char *reason);

#endif
