/* plan_ctx: the planner's working state, shared by the plan*.c modules and nothing else:
 * hosts joined with what libvirt reported, memory this plan places, migration counters,
 * the VMs as the planner sees them and the growing list of actions. */
#ifndef DROVER_PLAN_CTX_H
#define DROVER_PLAN_CTX_H

#include "crd/compiler.h"

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
	const struct crd_policy_spec *pol;  /* of its namespace (defaults when it has none) */
	/* Allocated to running guests: observed, plus what this plan lands, minus what it moves
	 * away. What the overcommit limits and balancing count. */
	uint64_t alloc_mem;
	uint64_t alloc_vcpus;
	uint64_t hp_placed[INV_HUGEPAGE_SIZES_MAX];  /* huge pages this plan lands, by inv size */
};

/* One VirtualMachine as the planner sees it. */
struct plan_vm {
	const struct crd_vm *vm;
	struct vmres res;               /* what the spec asks; owned */
	uint64_t memory;                /* the larger of the spec's and the instance's */
	unsigned vcpus;                 /* likewise */
	uint64_t hugepage_size;         /* of the spec, else of the instance; 0 = none */
	struct plan_host *host;         /* the host of its instance, or NULL */
	const struct inv_domain *dom;   /* its instance, or NULL */
	bool adopting;                  /* @dom has no drover metadata yet */
};

/* Why a VM has to land somewhere or move: the planner's queued work, resolved in the order
 * rule 11 gives (moves biggest first, then defines and starts). */
enum plan_intent_kind { PLAN_INTENT_MOVE, PLAN_INTENT_LAND };
enum plan_cause { PLAN_CAUSE_SPEC, PLAN_CAUSE_PIN, PLAN_CAUSE_MIGRATION, PLAN_CAUSE_DRAIN,
		  PLAN_CAUSE_BALANCE, PLAN_CAUSE_FAILOVER };

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
	unsigned vcpus;                 /* the VM's vCPUs and huge pages: what balancing moves */
	uint64_t hugepage_size;
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
	/* Where each VM of @desired (by its index there) runs or will run once this plan is
	 * done, or NULL: what (anti-)affinity compares with. */
	struct plan_host **loc;
	struct crd_policy_spec default_pol;
	size_t n_anti_required;         /* VMs with a required anti-affinity term */
	/* Per-host scratch for one placement (plan_affinity.c); sized n_hosts, and the hosts
	 * the term being evaluated marked. */
	struct plan_aff_host *scratch;
	struct plan_aff_marks *marks;
	/* Every VM label, and every required anti-affinity term by the first pair of its
	 * selector, sorted: a term finds its VMs, and a VM the terms against it, by search
	 * instead of a scan of every VM (plan_affinity.c). */
	struct plan_aff_ref *labels, *anti_terms;
	size_t n_labels, n_anti_terms;
	/* Every topology label key the terms name, with each host's domain under it as a
	 * number: a term compares hosts by number, not by looking their labels up per host.
	 * @dom_first: per domain number, a VM the term being evaluated selects there. */
	struct plan_aff_topo *topos;
	size_t n_topos;
	const struct crd_vm **dom_first;
	bool oom;                       /* sticky: set by any failed allocation */
};

/* The hosts a term marked (plan_affinity.c), n_hosts at most, and the distinct domain
 * numbers of the term's topology label among them (@dom, in the same allocation). */
struct plan_aff_marks {
	size_t n, n_dom;
	size_t *dom;
	size_t hosts[];
};

/* The topology domains of Host label @key: @dom[h] is the number of host h's domain (the
 * index of the first host with the same value of @key), or -1 when h has no such label. */
struct plan_aff_topo {
	const char *key;
	int *dom;
};

/* A label of VM @vm (its index in the set), or the first selector pair of its @term. */
struct plan_aff_ref {
	const char *key, *value;        /* NULL for a term with an empty selector */
	size_t vm;
	const struct crd_affinity_term *term;
};

/* One host's (anti-)affinity verdict for the VM being placed (plan_affinity.c). */
struct plan_aff_host {
	const struct crd_vm *other;     /* the VM that breaks a required term here, or NULL */
	const struct crd_affinity_term *term;   /* that term (of the placed VM or of @other) */
	int rule;                       /* PLAN_AFF_*: which rule fails */
	int score;                      /* preferred terms kept − broken */
	const struct crd_vm *first;     /* scratch: a VM the term being evaluated selects here */
};

/* Fills @c for @desired and @inv. Returns 0, or -1 when out of memory (then @c must still
 * be released with plan_ctx_free). */
int plan_ctx_init(struct plan_ctx *c, const struct crd_set *desired, const struct inventory *inv,
		  const struct plan_limits *lim) DROVER_WUR;
/* Releases everything @c owns (the actions too) and zeroes it; accepts NULL. */
void plan_ctx_free(struct plan_ctx *c);

/* The VM's slot in c->loc. This function can't fail. */
size_t plan_ctx_vm_index(const struct plan_ctx *c, const struct crd_vm *vm);

/* Books @v's memory, vCPUs and huge pages on @dst (running there from now on) and, when
 * @src, releases them there. This function can't fail. */
void plan_host_move_alloc(struct plan_ctx *c, const struct plan_vm *v, struct plan_host *src,
			  struct plan_host *dst);

/* The index in h->inv->hugepages of pages of @size bytes, or -1. Can't fail. */
int plan_host_hugepage_index(const struct plan_host *h, uint64_t size);

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
