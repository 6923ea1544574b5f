/* plan_check: the pre-checks of landing a VM on a host (Nova's and what operators hit),
 * each failure named by its check: "memory: lab-b has 512Mi free after 1Gi reserved, ...". */
#ifndef DROVER_PLAN_CHECK_H
#define DROVER_PLAN_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "reconcile/plan_ctx.h"

/* How the VM gets to the host. */
enum plan_op {
	PLAN_OP_DEFINE,     /* a new definition (started when spec.running) */
	PLAN_OP_START,      /* its own definition, already on the host */
	PLAN_OP_LIVE,       /* live migration from v->host */
	PLAN_OP_COLD,       /* cold migration from v->host */
};

/* Why @h takes nothing new: "unreachable", "fenced", "draining", "unschedulable"; NULL when
 * it may. A START on a VM's own host only minds "unreachable" and "fenced". Can't fail. */
const char *plan_check_host_state(const struct plan_host *h, enum plan_op op);

/* Runs every pre-check of landing @v on @dst (a host of @c) by @op, the host's state first.
 * Returns true when all pass; otherwise false with "<check>: <detail>" in @why (always
 * terminated). This function can't fail. */
bool plan_check_target(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
		       const struct plan_host *dst, char *why, size_t size);

/* True when @op will run the VM on the target, so its memory must fit. Can't fail. */
bool plan_op_runs(const struct plan_vm *v, enum plan_op op);

#endif
