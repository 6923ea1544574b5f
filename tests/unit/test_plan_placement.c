/* Placement that decides: required and preferred (anti-)affinity over hosts and racks,
 * overcommit limits, huge pages, drain and failover held by anti-affinity, and balancing
 * (its choices, its hysteresis and its hourly limit). Pure planner; no hosts. */
#include "tests/unit/plan_fixtures.h"

#include <time.h>

#include "crd/types.h"

#define NOW 1800000000                  /* 2027-01-15T08:00:00Z */
#define ANTI_DB "affinity: {antiAffinity: [{labelSelector: {app: db}, required: true}]}"

/* Appends label @key=@value to @m. */
static void add_label(struct crd_map *m, const char *key, const char *value)
{
	m->items = fx_grow(m->items, m->n, sizeof(*m->items));
	m->items[m->n].key = fx_strdup(key);
	m->items[m->n++].value = fx_strdup(value);
}

static void label_host(struct fx *f, const char *host, const char *key, const char *value)
{
	add_label(&((struct crd_host *)crd_set_host(&f->set, NULL, host))->meta.labels, key, value);
}

/* VM @name of @mem labelled app=@app, with @extra in its spec. */
static struct crd_vm *app_vm(struct fx *f, const char *name, const char *app, const char *mem,
			     const char *extra)
{
	struct crd_vm *vm = fx_vm(f, name, mem, extra);
	add_label(&vm->meta.labels, "app", app);
	return vm;
}

/* A running instance of @vm on @host. */
static void runs_on(struct fx *f, const char *vm, const char *host)
{
	fx_dom(f, host, vm, INV_RUNNING);
}

static void policy(struct fx *f, const char *spec)
{
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: PlacementPolicy\n"
		"metadata: {name: default}\nspec: %s\n", spec);
}

static const char *rejected(const struct plan_action *a, const char *host)
{
	return crd_map_get(&a->rejected, host);
}

/* A fresh fixture for the next case of a table. */
static struct fx *fresh(void **state)
{
	fx_teardown(state);
	fx_setup(state);
	return *state;
}

static void three_hosts(struct fx *f)
{
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
}

/* ---- API ---- */

static void test_policy_defaults_when_fields_are_left_out(void **state)
{
	struct fx *f = *state;
	policy(f, "{balance: {}}");
	const struct crd_policy *p = crd_set_policy(&f->set, NULL);
	assert_non_null(p);
	assert_true(p->spec.cpu_overcommit == 0.0);
	assert_true(p->spec.memory_overcommit == 1.0);
	assert_true(p->spec.has_balance);
	assert_int_equal(p->spec.balance.resource, CRD_BALANCE_MEMORY);
	assert_int_equal(p->spec.balance.max_spread_percent, 20);
	assert_int_equal(p->spec.balance.max_moves_per_hour, 12);
	assert_false(p->spec.has_host_failure);
	assert_int_equal(p->spec.host_failure.detect_after_s, 30);
	assert_false(p->spec.host_failure.fence);
}

static void test_affinity_term_defaults_to_host_topology_and_preferred(void **state)
{
	struct fx *f = *state;
	fx_vm(f, "db-1", "1Gi", "affinity: {antiAffinity: [{labelSelector: {app: db}}]}");
	const struct crd_vm *vm = fx_vm_get(f, "db-1");
	assert_int_equal(vm->spec.affinity.n_anti, 1);
	assert_string_equal(vm->spec.affinity.anti[0].topology_key, "host");
	assert_false(vm->spec.affinity.anti[0].required);
}

/* Required terms alone: db-1 runs on @at; db-2 (labelled @app, with @terms) lands on @want,
 * not on lab-b — the host with the most free memory — for the reason @why. Hosts lab-a and
 * lab-b are in rack r1, lab-c in rack r2. */
static void test_plan_places_vm_by_required_terms(void **state)
{
	static const struct {
		const char *name, *at, *app, *terms, *want, *why;
	} cases[] = {
		{"away from required anti-affinity", "lab-b", "db",
		 "{antiAffinity: [{labelSelector: {app: db}, required: true}]}", "lab-a",
		 "anti-affinity app=db (required): db-1 runs on lab-b"},
		{"keeps the other VM's required anti-affinity", "lab-b", "db", NULL, "lab-a",
		 "anti-affinity of db-1 (app=db, required): it runs on lab-b"},
		{"rack topology", "lab-a", "db",
		 "{antiAffinity: [{labelSelector: {app: db}, topologyKey: rack, required: true}]}",
		 "lab-c", "anti-affinity app=db (required): db-1 runs in rack r1"},
		{"required affinity keeps together", "lab-c", "web",
		 "{affinity: [{labelSelector: {app: db}, required: true}]}", "lab-c",
		 "affinity app=db (required): no such VM runs on lab-b"},
		{"required affinity by rack", "lab-a", "web",
		 "{affinity: [{labelSelector: {app: db}, topologyKey: rack, required: true}]}",
		 "lab-b", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		char extra[256] = "";
		three_hosts(f);
		label_host(f, "lab-a", "rack", "r1");
		label_host(f, "lab-b", "rack", "r1");
		label_host(f, "lab-c", "rack", "r2");
		fx_inv(f, "lab-b")->memory_free = 12 * GiB;
		/* db-1 holds the anti-affinity itself in the "other VM's" case. */
		app_vm(f, "db-1", "db", "1Gi", cases[i].terms ? "" : ANTI_DB);
		runs_on(f, "db-1", cases[i].at);
		if (cases[i].terms)
			snprintf(extra, sizeof(extra), "affinity: %s", cases[i].terms);
		app_vm(f, "db-2", cases[i].app, "1Gi", extra);
		fx_plan(f);
		const struct plan_action *a = fx_act(f, "db-2");
		if (a->kind != PLAN_DEFINE_START || !a->dst || strcmp(a->dst, cases[i].want))
			fail_msg("%s: %s", cases[i].name, a->reason);
		const char *no = rejected(a, "lab-b");
		if (cases[i].why && (!no || !strstr(no, cases[i].why)))
			fail_msg("%s: lab-b rejected for \"%s\"", cases[i].name, no ? no : "");
		assert_non_null(a->placement);
	}
}

/* Racks are numbered once per plan from the Host labels: lab-a and lab-b are in rack r1,
 * lab-c in r2, lab-d has no rack label and so is in no rack (nothing shares it, as a node
 * without the topology label in Kubernetes). db-1 runs on @at; db-2 (with @terms, or none
 * when db-1 holds the term) lands on @want (NULL: nowhere), lab-b rejected for @why. */
static void test_plan_compares_racks_by_host_label(void **state)
{
	static const struct {
		const char *name, *at, *terms, *want, *why;
	} cases[] = {
		{"anti by rack closes r1", "lab-a",
		 "{antiAffinity: [{labelSelector: {app: db}, topologyKey: rack, required: true}]}",
		 "lab-d", "anti-affinity app=db (required): db-1 runs in rack r1"},
		{"a host without the label is in no rack", "lab-d",
		 "{antiAffinity: [{labelSelector: {app: db}, topologyKey: rack, required: true}]}",
		 "lab-b", NULL},
		{"the other VM's term by rack", "lab-b", NULL, "lab-d",
		 "anti-affinity of db-1 (app=db, required): it runs in rack r1"},
		{"preferred anti by rack", "lab-a",
		 "{antiAffinity: [{labelSelector: {app: db}, topologyKey: rack}]}", "lab-d", NULL},
		{"required affinity by rack", "lab-c",
		 "{affinity: [{labelSelector: {app: db}, topologyKey: rack, required: true}]}",
		 "lab-c", "affinity app=db (required): no such VM runs in rack r1"},
		{"required affinity with the other in no rack", "lab-d",
		 "{affinity: [{labelSelector: {app: db}, topologyKey: rack, required: true}]}",
		 NULL, "affinity app=db (required): no such VM runs in rack r1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		char extra[256] = "";
		three_hosts(f);
		fx_host(f, "lab-d", "");
		label_host(f, "lab-a", "rack", "r1");
		label_host(f, "lab-b", "rack", "r1");
		label_host(f, "lab-c", "rack", "r2");
		/* Most free first: lab-b, lab-d, lab-c, lab-a. */
		fx_inv(f, "lab-b")->memory_free = 12 * GiB;
		fx_inv(f, "lab-d")->memory_free = 11 * GiB;
		fx_inv(f, "lab-c")->memory_free = 10 * GiB;
		app_vm(f, "db-1", "db", "1Gi", cases[i].terms ? "" :
		       "affinity: {antiAffinity: [{labelSelector: {app: db}, topologyKey: rack, "
		       "required: true}]}");
		runs_on(f, "db-1", cases[i].at);
		if (cases[i].terms)
			snprintf(extra, sizeof(extra), "affinity: %s", cases[i].terms);
		app_vm(f, "db-2", "db", "1Gi", extra);
		fx_plan(f);
		const struct plan_action *a = fx_act(f, "db-2");
		if (cases[i].want && (a->kind != PLAN_DEFINE_START || !a->dst ||
				      strcmp(a->dst, cases[i].want)))
			fail_msg("%s: %s", cases[i].name, a->reason);
		if (!cases[i].want && a->kind != PLAN_BLOCKED)
			fail_msg("%s: placed (%s)", cases[i].name, a->reason);
		const char *no = rejected(a, "lab-b");
		if (cases[i].why && (!no || !strstr(no, cases[i].why)))
			fail_msg("%s: lab-b rejected for \"%s\"", cases[i].name, no ? no : "");
		if (!cases[i].why && no)
			fail_msg("%s: lab-b rejected for \"%s\"", cases[i].name, no);
	}
}

static void test_plan_places_three_anti_affine_vms_on_three_hosts(void **state)
{
	struct fx *f = *state;
	three_hosts(f);
	app_vm(f, "db-1", "db", "1Gi", ANTI_DB);
	app_vm(f, "db-2", "db", "1Gi", ANTI_DB);
	app_vm(f, "db-3", "db", "1Gi", ANTI_DB);
	fx_plan(f);
	const char *h1 = fx_act(f, "db-1")->dst, *h2 = fx_act(f, "db-2")->dst,
		   *h3 = fx_act(f, "db-3")->dst;
	assert_non_null(h1);
	assert_non_null(h2);
	assert_non_null(h3);
	assert_string_not_equal(h1, h2);
	assert_string_not_equal(h1, h3);
	assert_string_not_equal(h2, h3);
}

static void test_plan_blocks_vm_when_required_anti_affinity_leaves_no_host(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
	app_vm(f, "db-1", "db", "1Gi", "");
	app_vm(f, "db-2", "db", "1Gi", "");
	runs_on(f, "db-1", "lab-a");
	runs_on(f, "db-2", "lab-b");
	app_vm(f, "db-3", "db", "1Gi", ANTI_DB);
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "db-3");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_PENDING);
	assert_int_equal(a->problem, PLAN_PROBLEM_NO_HOST);
	fx_reason_has(a, "lab-a: anti-affinity app=db (required): db-1 runs on lab-a");
	fx_reason_has(a, "lab-b: anti-affinity app=db (required): db-2 runs on lab-b");
	assert_string_equal(a->placement, "no feasible host");
	assert_int_equal(a->rejected.n, 2);
}

static void test_plan_lands_first_of_a_group_with_required_affinity_anywhere(void **state)
{
	struct fx *f = *state;
	three_hosts(f);
	app_vm(f, "web-1", "web", "1Gi", "affinity: {affinity: [{labelSelector: {app: db}, "
	       "required: true}]}");
	fx_plan(f);
	fx_expect(fx_act(f, "web-1"), PLAN_DEFINE_START, "lab-a", CRD_VM_PENDING);
}

/* Preferred terms: the host that keeps them wins over more free memory; when none does, the
 * VM still lands. */
static void test_plan_prefers_hosts_that_keep_preferred_terms(void **state)
{
	static const struct {
		const char *terms;
		const char *unschedulable;      /* hosts cordoned for the case */
		const char *want;
	} cases[] = {
		{"antiAffinity: [{labelSelector: {app: db}}]", "", "lab-a"},
		{"antiAffinity: [{labelSelector: {app: db}}]", "lab-a lab-c", "lab-b"},
		{"affinity: [{labelSelector: {app: cache}}]", "", "lab-c"},
		{"", "", "lab-b"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		char extra[256];
		fx_host(f, "lab-a", strstr(cases[i].unschedulable, "lab-a") ? ", unschedulable: true" : "");
		fx_host(f, "lab-b", "");
		fx_host(f, "lab-c", strstr(cases[i].unschedulable, "lab-c") ? ", unschedulable: true" : "");
		fx_inv(f, "lab-b")->memory_free = 12 * GiB;
		fx_inv(f, "lab-a")->memory_free = 10 * GiB;
		app_vm(f, "db-1", "db", "1Gi", "");
		runs_on(f, "db-1", "lab-b");
		app_vm(f, "cache-1", "cache", "1Gi", "");
		runs_on(f, "cache-1", "lab-c");
		extra[0] = '\0';
		if (*cases[i].terms)
			snprintf(extra, sizeof(extra), "affinity: {%s}", cases[i].terms);
		app_vm(f, "db-2", "x", "1Gi", extra);
		fx_plan(f);
		const struct plan_action *a = fx_act(f, "db-2");
		if (!a->dst || strcmp(a->dst, cases[i].want))
			fail_msg("case %zu: placed on %s, want %s (%s)", i, a->dst ? a->dst : "-",
				 cases[i].want, a->reason);
	}
}

/* ---- capacity ---- */

static void test_plan_counts_vcpus_against_cpu_overcommit(void **state)
{
	static const struct {
		const char *policy;
		bool placed;
	} cases[] = {
		{"{cpuOvercommit: 1}", false},
		{"{cpuOvercommit: 2}", true},
		{"{cpuOvercommit: 0}", true},   /* unlimited */
		{NULL, true},                   /* no policy: unlimited */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		if (cases[i].policy)
			policy(f, cases[i].policy);
		fx_host(f, "lab-a", "")->cpu_threads = 4;
		fx_vm(f, "big-1", "1Gi", "");
		fx_dom(f, "lab-a", "big-1", INV_RUNNING)->vcpus = 3;
		fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: "
			"cpu-2}\nspec: {domain: {memory: 1Gi, vcpus: 2}}\n");
		fx_plan(f);
		const struct plan_action *a = fx_act(f, "cpu-2");
		if ((a->kind == PLAN_DEFINE_START) != cases[i].placed)
			fail_msg("case %zu: %s", i, a->reason);
		if (!cases[i].placed)
			fx_reason_has(a, "cpu: lab-a has 3 of 4 vCPUs allocated (4 threads × "
				      "cpuOvercommit 1), cpu-2 needs 2");
	}
}

static void test_plan_counts_memory_against_memory_overcommit(void **state)
{
	static const struct {
		const char *policy;
		uint64_t free_mem;
		bool placed;
		const char *why;
	} cases[] = {
		/* 16Gi − 1Gi reserved = 15Gi; 14Gi allocated; 2Gi more does not fit. */
		{NULL, 8 * GiB, false, "memory: lab-a has 14Gi of 15Gi allocated (memoryOvercommit 1)"},
		{"{memoryOvercommit: 1.5}", 8 * GiB, true, NULL},
		/* Overcommitted: what is free no longer decides. */
		{"{memoryOvercommit: 1.5}", 1 * GiB, true, NULL},
		{"{memoryOvercommit: 1.0}", 8 * GiB, false, "memoryOvercommit 1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		if (cases[i].policy)
			policy(f, cases[i].policy);
		fx_host(f, "lab-a", "")->memory_free = cases[i].free_mem;
		fx_vm(f, "big-1", "14Gi", "");
		runs_on(f, "big-1", "lab-a");
		fx_vm(f, "web-1", "2Gi", "");
		fx_plan(f);
		const struct plan_action *a = fx_act(f, "web-1");
		if ((a->kind == PLAN_DEFINE_START) != cases[i].placed)
			fail_msg("case %zu: %s", i, a->reason);
		if (cases[i].why)
			fx_reason_has(a, cases[i].why);
	}
}

static void hugepages(struct inv_host *h, uint64_t free_pages)
{
	h->hugepages[0] = (struct inv_hugepages){.page_size = 2 * MiB, .total = 1024,
						 .free = free_pages};
	h->n_hugepages = 1;
}

static void test_plan_needs_free_hugepages_of_the_vms_size(void **state)
{
	struct fx *f = *state;
	three_hosts(f);
	fx_inv(f, "lab-a")->memory_free = 12 * GiB;
	hugepages(fx_inv(f, "lab-a"), 100);         /* 200Mi: too few */
	hugepages(fx_inv(f, "lab-b"), 600);         /* 1.2Gi */
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: hp-1}\n"
		"spec: {domain: {memory: 1Gi, hugepages: true}}\n");
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: hp-2}\n"
		"spec: {domain: {memory: 1Gi, hugepages: true}}\n");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "hp-1"), *b = fx_act(f, "hp-2");
	fx_expect(a, PLAN_DEFINE_START, "lab-b", CRD_VM_PENDING);
	assert_non_null(strstr(rejected(a, "lab-a"), "hugepages: lab-a has 100 free 2Mi pages, "
				"hp-1 needs 512"));
	assert_non_null(strstr(rejected(a, "lab-c"), "hugepages: lab-c has no 2Mi pages"));
	/* lab-b's pages went to hp-1 in this plan. */
	fx_expect(b, PLAN_BLOCKED, NULL, CRD_VM_PENDING);
	fx_reason_has(b, "lab-b: PreCheckFailed: hugepages: lab-b has 88 free 2Mi pages");
}

/* ---- drain and failover ---- */

/* Replicas db-1 and db-2, each keeping away from the other; db-1 runs on @at1 (NULL: not
 * observed), db-2 on @at2. */
static void replicas(struct fx *f, const char *at1, const char *at2)
{
	app_vm(f, "db-1", "db", "1Gi", ANTI_DB);
	app_vm(f, "db-2", "db", "1Gi", ANTI_DB);
	if (at1)
		runs_on(f, "db-1", at1);
	runs_on(f, "db-2", at2);
}

static void test_plan_blocks_drain_that_would_break_anti_affinity(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", drain: true");
	fx_host(f, "lab-b", "");
	replicas(f, "lab-a", "lab-b");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "db-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_RUNNING);
	assert_int_equal(a->problem, PLAN_PROBLEM_EVICTION);
	fx_reason_has(a, "host lab-a draining: cannot live-migrate db-1");
	fx_reason_has(a, "lab-b: anti-affinity app=db (required): db-2 runs on lab-b");
}

static void test_plan_drain_moves_vm_where_anti_affinity_holds(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", drain: true");
	fx_host(f, "lab-b", "");
	fx_host(f, "lab-c", "");
	fx_inv(f, "lab-b")->memory_free = 12 * GiB;
	replicas(f, "lab-a", "lab-b");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "db-1");
	fx_expect(a, PLAN_MIGRATE_LIVE, "lab-c", CRD_VM_MIGRATING);
	assert_int_equal(a->cause, CRD_MIG_DRAIN);
}

static void test_plan_blocks_failover_that_would_break_anti_affinity(void **state)
{
	struct fx *f = *state;
	fx_host(f, "lab-a", ", fenced: true");
	fx_host(f, "lab-b", "");
	fx_unreachable(f, "lab-a");
	replicas(f, NULL, "lab-b");
	fx_last_host(f, "db-1", "lab-a");
	fx_plan(f);
	const struct plan_action *a = fx_act(f, "db-1");
	fx_expect(a, PLAN_BLOCKED, NULL, CRD_VM_PENDING);
	fx_reason_has(a, "lab-b: anti-affinity app=db (required): db-2 runs on lab-b");
}

/* ---- balance ---- */

#define BALANCE "{balance: {resource: memory, maxSpreadPercent: 20, maxMovesPerHour: 4}}"

/* @n VMs bal-1.. of @mem running on lab-a, with @extra in their spec. */
static void crowd(struct fx *f, int n, const char *mem, const char *extra)
{
	for (int i = 1; i <= n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "bal-%d", i);
		fx_vm(f, name, mem, extra);
		runs_on(f, name, "lab-a");
	}
}

/* The BALANCE policy over lab-a and lab-b. */
static void balanced_pair(struct fx *f)
{
	policy(f, BALANCE);
	fx_host(f, "lab-a", "");
	fx_host(f, "lab-b", "");
}

static size_t balance_moves(struct fx *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->plan.n; i++)
		if (f->plan.actions[i].cause == CRD_MIG_BALANCE) {
			assert_int_equal(f->plan.actions[i].kind, PLAN_MIGRATE_LIVE);
			n++;
		}
	return n;
}

static void test_plan_balances_crowded_host_by_live_moves(void **state)
{
	struct fx *f = *state;
	policy(f, BALANCE);
	three_hosts(f);
	crowd(f, 4, "2Gi", "");     /* lab-a 8Gi of 15Gi: 53%; the others 0% */
	f->lim.now = NOW;
	fx_plan(f);
	/* 53/0/0 → 40/13/0 → 27/13/13: within 20 points after two moves. */
	assert_int_equal(balance_moves(f), 2);
	const struct plan_action *a = fx_act(f, "bal-1");
	fx_expect(a, PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
	fx_reason_has(a, "balance: memory spread 53% > 20%: lab-a 53% → lab-b 0%");
	fx_expect(fx_act(f, "bal-2"), PLAN_MIGRATE_LIVE, "lab-c", CRD_VM_MIGRATING);
	fx_expect(fx_act(f, "bal-3"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* No move without a clock, when even, when a move would only swap the roles, or when
 * something else moves. */
static void test_plan_does_not_balance_without_cause(void **state)
{
	static const struct {
		int64_t now;
		int n;
		const char *mem;
		bool drain_c;
	} cases[] = {
		{0, 4, "2Gi", false},           /* no time: no history to check */
		{NOW, 1, "2Gi", false},         /* 13% spread */
		{NOW, 1, "6Gi", false},         /* 40/0 would become 0/40: no gain (ping-pong) */
		{NOW, 4, "2Gi", true},          /* a drain moves: wait for a settled cluster */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		balanced_pair(f);
		if (cases[i].drain_c) {
			fx_host(f, "lab-c", ", drain: true");
			fx_vm(f, "other", "1Gi", "");
			runs_on(f, "other", "lab-c");
		}
		crowd(f, cases[i].n, cases[i].mem, "");
		f->lim.now = cases[i].now;
		fx_plan(f);
		if (balance_moves(f))
			fail_msg("case %zu: balance moved", i);
	}
}

static void test_plan_balances_only_unpinned_shared_livemigrate_vms(void **state)
{
	static const char *const extras[] = {
		"host: lab-a", "evictionStrategy: LiveMigrateIfPossible", "evictionStrategy: None",
		"storage: local",
	};
	for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		struct fx *f = fresh(state);
		balanced_pair(f);
		crowd(f, 4, "2Gi", extras[i]);
		f->lim.now = NOW;
		fx_plan(f);
		if (balance_moves(f))
			fail_msg("case %zu (%s): balance moved", i, extras[i]);
	}
}

static void test_plan_balance_moves_what_cuts_spread_most_per_gib(void **state)
{
	struct fx *f = *state;
	balanced_pair(f);
	fx_vm(f, "big-1", "6Gi", "");
	fx_vm(f, "small-1", "1Gi", "");
	runs_on(f, "big-1", "lab-a");
	runs_on(f, "small-1", "lab-a");
	f->lim.now = NOW;
	fx_plan(f);
	/* 47/0: either move leaves 33 points; the small one moves 1Gi for it. */
	fx_expect(fx_act(f, "small-1"), PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
	fx_expect(fx_act(f, "big-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
}

/* The best move per GiB may go to a host that is not the least used: bal-2 cannot join
 * db-1 on lab-b, but lab-c is four times larger, so bal-2 gives there more per GiB than
 * bal-1 (or bal-3) gives to lab-b. Balancing skips a VM only when even the least used
 * host, were it the largest, could not make it the best move: bal-2 must not be skipped
 * on lab-b's figures. */
static void test_plan_balance_weighs_each_target_by_its_capacity(void **state)
{
	struct fx *f = *state;
	policy(f, BALANCE);
	three_hosts(f);
	struct inv_host *c = fx_inv(f, "lab-c");
	c->memory_total = 64 * GiB;
	c->memory_free = 60 * GiB;
	fx_vm(f, "bal-1", "2Gi", "");
	fx_vm(f, "bal-2", "3Gi", ANTI_DB);
	fx_vm(f, "bal-3", "3Gi", "");
	app_vm(f, "db-1", "db", "64Mi", "");
	fx_vm(f, "c-1", "2Gi", "");
	runs_on(f, "bal-1", "lab-a");
	runs_on(f, "bal-2", "lab-a");
	runs_on(f, "bal-3", "lab-a");
	runs_on(f, "db-1", "lab-b");
	runs_on(f, "c-1", "lab-c");
	f->lim.now = NOW;
	fx_plan(f);
	/* lab-a 53%, lab-b 0.4%, lab-c 3.2%: bal-2 to lab-c scores ~560 a GiB, bal-1 to lab-b
	 * ~527; the first move is bal-2's. */
	const struct plan_action *a = fx_act(f, "bal-2");
	fx_expect(a, PLAN_MIGRATE_LIVE, "lab-c", CRD_VM_MIGRATING);
	fx_reason_has(a, "lab-a 53% → lab-c 3%");
}

static void test_plan_balance_never_breaks_required_anti_affinity(void **state)
{
	struct fx *f = *state;
	balanced_pair(f);
	crowd(f, 4, "2Gi", ANTI_DB);
	app_vm(f, "db-1", "db", "1Gi", "");
	runs_on(f, "db-1", "lab-b");
	f->lim.now = NOW;
	fx_plan(f);
	assert_int_equal(balance_moves(f), 0);
}

/* By measured CPU load: each VM's share is the host's load over its vCPUs. Without a load
 * figure (observe needs two passes) nothing moves. */
static void test_plan_balances_by_cpu_load(void **state)
{
	static const struct {
		bool measured;
		size_t want;
	} cases[] = {{true, 1}, {false, 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		policy(f, "{balance: {resource: cpu, maxSpreadPercent: 20}}");
		struct inv_host *a = fx_host(f, "lab-a", "");
		a->cpu_threads = 4;
		a->has_cpu_load = cases[i].measured;
		a->cpu_load = 0.8;
		struct inv_host *b = fx_host(f, "lab-b", "");
		b->cpu_threads = 4;
		b->has_cpu_load = cases[i].measured;
		b->cpu_load = 0.1;
		crowd(f, 4, "1Gi", "");
		f->lim.now = NOW;
		fx_plan(f);
		/* 80/10: one VM's 20 points make it 60/30; a second would overshoot (40/50). */
		if (balance_moves(f) != cases[i].want)
			fail_msg("case %zu: %zu moves", i, balance_moves(f));
	}
}

/* A Balance Migration of @vm started @ago seconds before NOW. */
static void balance_record(struct fx *f, const char *name, const char *vm, int ago)
{
	char status[256];
	time_t t = (time_t)(NOW - ago);
	struct tm tm;
	char when[32];
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(status, sizeof(status), "phase: Succeeded, reason: Balance, sourceHost: lab-b, "
		 "targetHost: lab-a, startTime: '%s'", when);
	fx_mig(f, name, vm, NULL, "", status);
}

static void test_plan_leaves_vm_moved_by_balance_alone_for_a_while(void **state)
{
	struct fx *f = *state;
	balanced_pair(f);
	crowd(f, 4, "2Gi", "");
	balance_record(f, "bal-move-1", "bal-1", 600);     /* bal-1 came here 10 min ago */
	f->lim.now = NOW;
	fx_plan(f);
	fx_expect(fx_act(f, "bal-1"), PLAN_NONE, "lab-a", CRD_VM_RUNNING);
	fx_expect(fx_act(f, "bal-2"), PLAN_MIGRATE_LIVE, "lab-b", CRD_VM_MIGRATING);
}

static void test_plan_balance_stays_within_moves_per_hour(void **state)
{
	static const struct {
		int recent;     /* Balance moves in the last hour */
		int old;        /* and before it */
		size_t want;
	} cases[] = {
		{0, 0, 2}, {3, 0, 1}, {4, 0, 0}, {0, 6, 2},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fresh(state);
		policy(f, BALANCE);
		three_hosts(f);
		crowd(f, 4, "2Gi", "");
		fx_vm(f, "elsewhere", "64Mi", "");
		runs_on(f, "elsewhere", "lab-c");
		for (int k = 0; k < cases[i].recent + cases[i].old; k++) {
			char name[32];
			snprintf(name, sizeof(name), "old-%d", k);
			balance_record(f, name, "elsewhere", k < cases[i].recent ? 300 : 7200);
		}
		f->lim.now = NOW;
		fx_plan(f);
		if (balance_moves(f) != cases[i].want)
			fail_msg("case %zu: %zu moves, want %zu", i, balance_moves(f), cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(test_policy_defaults_when_fields_are_left_out),
		T(test_affinity_term_defaults_to_host_topology_and_preferred),
		T(test_plan_places_vm_by_required_terms),
		T(test_plan_compares_racks_by_host_label),
		T(test_plan_places_three_anti_affine_vms_on_three_hosts),
		T(test_plan_blocks_vm_when_required_anti_affinity_leaves_no_host),
		T(test_plan_lands_first_of_a_group_with_required_affinity_anywhere),
		T(test_plan_prefers_hosts_that_keep_preferred_terms),
		T(test_plan_counts_vcpus_against_cpu_overcommit),
		T(test_plan_counts_memory_against_memory_overcommit),
		T(test_plan_needs_free_hugepages_of_the_vms_size),
		T(test_plan_blocks_drain_that_would_break_anti_affinity),
		T(test_plan_drain_moves_vm_where_anti_affinity_holds),
		T(test_plan_blocks_failover_that_would_break_anti_affinity),
		T(test_plan_balances_crowded_host_by_live_moves),
		T(test_plan_does_not_balance_without_cause),
		T(test_plan_balances_only_unpinned_shared_livemigrate_vms),
		T(test_plan_balance_moves_what_cuts_spread_most_per_gib),
		T(test_plan_balances_by_cpu_load),
		T(test_plan_balance_weighs_each_target_by_its_capacity),
		T(test_plan_balance_never_breaks_required_anti_affinity),
		T(test_plan_leaves_vm_moved_by_balance_alone_for_a_while),
		T(test_plan_balance_stays_within_moves_per_hour),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
