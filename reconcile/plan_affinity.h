/* plan_affinity: VirtualMachine.spec.affinity against where the other VMs run or will run —
 * which hosts a required term rules out, and how well each host keeps the preferred ones. */
#ifndef DROVER_PLAN_AFFINITY_H
#define DROVER_PLAN_AFFINITY_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "reconcile/plan_ctx.h"

/* Which rule rules a host out (plan_aff_host.rule). */
enum { PLAN_AFF_OK = 0, PLAN_AFF_ANTI, PLAN_AFF_TOGETHER, PLAN_AFF_THEIRS };

/* Builds c->labels, c->anti_terms (and counts c->n_anti_required), c->topos and
 * c->dom_first for c->desired and c->hosts. Returns 0, or -1 when out of memory. */
int plan_aff_index(struct plan_ctx *c) DROVER_WUR;

/* Releases what plan_aff_index built besides c->labels and c->anti_terms; accepts a @c
 * it never ran on. */
void plan_aff_free(struct plan_ctx *c);

/* True when @v has no term and no other VM has a required anti-affinity term: every host is
 * fine and scores 0, no evaluation needed. This function can't fail. */
bool plan_aff_trivial(const struct plan_ctx *c, const struct plan_vm *v);

/* Fills c->scratch (one entry per host of @c) with @v's verdict on every host. Running cost:
 * one scan of the VMs per term. This function can't fail. */
void plan_aff_eval(const struct plan_ctx *c, const struct plan_vm *v);

/* After plan_aff_eval: true when @h keeps every required term of @v (and of the VMs near it),
 * else false with "anti-affinity app=db (required): db-2 runs on lab-b" in @why. */
bool plan_aff_ok(const struct plan_ctx *c, const struct plan_host *h, char *why, size_t size);

/* Records that @vm runs (or will run) on @h, or nowhere (NULL). This function can't fail. */
void plan_aff_locate(struct plan_ctx *c, const struct crd_vm *vm, struct plan_host *h);

#endif
