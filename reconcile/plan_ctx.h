/* plan_ctx: the planner's working state, shared by the plan*.c modules and nothing else:
 * hosts joined with what libvirt reported, memory this plan places, migration counters,
 * the VMs as the planner sees them and the growing list of actions. */
#ifndef DROVER_PLAN_CTX_H
#define DROVER_PLAN_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crd/types.h"
#include "reconcile/inventory.h"
#include "reconcile/invindex.h"
#include "reconcile/plan.h"
#include "reconcile/vmres.h"

#define PLAN_REASON_MAX 1024

/* A bounded text builder: text past the cap is cut and marked with "...". */
struct plan_str {
	char buf[PLAN_REASON_MAX];
	size_t len;
};

/* Appends formatted text to @s. This function can't fail (it truncates). */
void plan_str_add(struct plan_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One declared Host joined with what libvirt reported about it. */
struct plan_host {
	const char *name;
	const struct crd_host *spec;    /* the Host object; never NULL */
	const struct inv_host *inv;     /* NULL when observe did not report it */
	bool reachable;                 /* observed and reachable */
	bool fenced;                    /* spec.fenced, or its fence agent confirmed it off */
	uint64_t placed;                /* memory this plan lands here (moves, defines, starts) */
	unsigned outbound;              /* migrations leaving it: in flight + planned */
};

/* One VirtualMachine as the planner sees it. */
struct plan_vm {
	const struct crd_vm *vm;
	struct vmres res;               /* what the spec asks; owned */
	uint64_t memory;                /* the larger of the spec's and the instance's */
	struct plan_host *host;         /* the host of its instance, or NULL */
	const struct inv_domain *dom;   /* its instance, or NULL */
	bool adopting;                  /* @dom has no drover metadata yet */
};

/* Why a VM has to land somewhere or move: the planner's queued work, resolved in the order
 * rule 11 gives (moves biggest first, then defines and starts). */
enum plan_intent_kind { PLAN_INTENT_MOVE, PLAN_INTENT_LAND };
enum plan_cause { PLAN_CAUSE_SPEC, PLAN_CAUSE_PIN, PLAN_CAUSE_MIGRATION, PLAN_CAUSE_DRAIN,
		  PLAN_CAUSE_FAILOVER };

struct plan_intent {
	struct plan_vm v;               /* owns v.res */
	enum plan_intent_kind kind;
	enum plan_cause cause;
	const struct crd_migration *mig;    /* the Migration driving a move, or NULL */
	struct plan_host *dst;          /* the target, or NULL: placement chooses */
	bool live, cold;                /* move kinds allowed; live is tried first */
	char why[256];                  /* start of the reason: "spec.host changed: a → b" */
};

struct plan_intents {
	struct plan_intent *items;
	size_t n, cap;
};

/* An action with what the final ordering needs. */
struct plan_item {
	struct plan_action a;
	uint64_t memory;                /* the VM's memory: migrations go biggest first */
	size_t seq;                     /* emission order: the last tie-break */
};

struct plan_ctx {
	const struct crd_set *desired;
	const struct inventory *inv;
	struct plan_limits lim;
	struct plan_host *hosts;        /* sorted by name */
	size_t n_hosts;
	/* Every named domain of every declared host, numbered by its place in @hosts: finding
	 * a VM's copies is a binary search, in host order, not a scan of every host. */
	struct inv_index doms;
	unsigned migrations;            /* in the cluster: in flight + planned */
	struct plan_item *items;
	size_t n, cap;
	struct plan_intents moves, lands;
	bool oom;                       /* sticky: set by any failed allocation */
};

/* Fills @c for @desired and @inv. Returns 0, or -1 when out of memory (then @c must still
 * be released with plan_ctx_free). */
int plan_ctx_init(struct plan_ctx *c, const struct crd_set *desired, const struct inventory *inv,
		  const struct plan_limits *lim) PLAN_WUR;
/* Releases everything @c owns (the actions too) and zeroes it; accepts NULL. */
void plan_ctx_free(struct plan_ctx *c);

/* The host named @name, or NULL when no Host of that name is declared. */
struct plan_host *plan_ctx_host(const struct plan_ctx *c, const char *name);

/* The domain named @name on @h (the first in inventory order), or NULL. Can't fail. */
const struct inv_domain *plan_host_domain(const struct plan_ctx *c, const struct plan_host *h,
					  const char *name);

/* Memory @h can still take: free − reservedMemory − placed by this plan, never below 0. */
uint64_t plan_host_available(const struct plan_host *h);

/* What to write about one action; strings are copied. */
struct plan_emit {
	enum plan_kind kind;
	enum plan_problem problem;
	const struct plan_vm *v;
	const struct crd_migration *mig;
	const struct plan_host *src, *dst;
	enum crd_vm_phase phase;
	enum crd_mig_phase mig_phase;
};

/* Appends an action described by @e with the formatted reason. On out of memory sets
 * c->oom and returns NULL; otherwise returns the action, valid until the next emit. */
struct plan_action *plan_emit(struct plan_ctx *c, const struct plan_emit *e, const char *fmt,
			      ...) __attribute__((format(printf, 3, 4)));

/* Queues @it (its v.res moves into the queue) on c->moves or c->lands by it->kind.
 * On out of memory sets c->oom and frees it->v.res. This function can't fail otherwise. */
void plan_queue(struct plan_ctx *c, struct plan_intent *it);

/* The phase @v shows now: Running when its instance is active, Stopped when it is defined
 * and inactive, Pending when it is not defined anywhere. This function can't fail. */
enum crd_vm_phase plan_vm_phase_now(const struct plan_vm *v);

/* "adopting existing domain; " when @v adopts a domain, else "". This function can't fail. */
const char *plan_vm_adopt_note(const struct plan_vm *v);

#endif
