/* plan_vm: the planner's first pass over one VM — which domain is its instance (identity,
 * adoption, conflicts, stale copies), unreachable and fenced hosts, jobs in flight, its
 * Migration objects — ending in an action now or a move / landing queued for later. */
#ifndef DROVER_PLAN_VM_H
#define DROVER_PLAN_VM_H

#include "reconcile/plan_ctx.h"

/* Plans @vm: emits its actions on @c or queues one intent on c->moves / c->lands. Out of
 * memory sets c->oom (sticky); otherwise this function can't fail. */
void plan_vm_classify(struct plan_ctx *c, const struct crd_vm *vm);

/* Plans @v staying where its instance is: emits STOP or NONE, or queues a START landing
 * (which takes @v's resources). @v must have an instance. Out of memory sets c->oom. */
void plan_vm_at_host(struct plan_ctx *c, struct plan_vm *v);

#endif
