/* plan_placement: the pure planner over 10k VMs on 200 hosts, with and without placement
 * rules. 9k VMs run already, unevenly spread; 1k are new. "rules" gives every VM a group
 * label (20 VMs a group), a required anti-affinity over hosts and a preferred one over racks
 * (10 hosts a rack), and turns balancing on; "plain" is the same set without them. Prints
 * the median wall time of each and their ratio, and the spread of memory use that balancing
 * reaches against a lower bound: the spread after a best-fit-decreasing packing of the same
 * VMs (what an optimiser with no move limit could do in one go).
 *
 * Times are CPU time of the process, median of 5. --no-converge leaves out the pass-after-
 * pass run (minutes).
 *
 * Build and run (not part of make: a benchmark, nothing is asserted):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. -I/usr/include/libxml2 tests/bench/plan_placement.c \
 *      build/libdrover.a -o build/bench/plan_placement -lvirt -lxml2 -lyaml -ljansson \
 *      -lcurl -lmicrohttpd -lpthread && build/bench/plan_placement */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crd/load.h"
#include "reconcile/inventory.h"
#include "reconcile/plan.h"

#define N_HOSTS 200
#define N_VMS 10000
#define N_PLACED 9000
#define GROUP 20
#define RACK 10
#define REPEAT 5
#define MiB (1ull << 20)
#define GiB (1ull << 30)

static uint64_t vm_mem(int i)
{
	return (uint64_t)(256 + 256 * (i % 8)) * MiB;     /* 256Mi .. 2Gi */
}

/* Appends to a growing text. */
struct text { char *s; size_t n, cap; };
static void __attribute__((format(printf, 2, 3))) add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (t->n + (size_t)n + 1 > t->cap) {
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			abort();
	}
	memcpy(t->s + t->n, buf, (size_t)n + 1);
	t->n += (size_t)n;
}

static void build_set(bool rules, struct crd_set *set)
{
	struct text t = {0};
	struct crd_errors errs = {0};

	if (rules)
		add(&t, "apiVersion: drover.io/v1alpha1\nkind: PlacementPolicy\nmetadata: {name: default}\n"
		    "spec: {memoryOvercommit: 1.0, balance: {resource: memory, maxSpreadPercent: 10, "
		    "maxMovesPerHour: 12}}\n");
	for (int h = 0; h < N_HOSTS; h++)
		add(&t, "---\napiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: h%03d, "
		    "labels: {rack: r%02d}}\nspec: {uri: 'test:///default', reservedMemory: 1Gi}\n",
		    h, h / RACK);
	for (int i = 0; i < N_VMS; i++) {
		add(&t, "---\napiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: "
		    "{name: vm%05d, labels: {app: g%03d}}\nspec: {domain: {memory: %lluMi, vcpus: 1}",
		    i, i / GROUP, (unsigned long long)(vm_mem(i) / MiB));
		if (rules)
			add(&t, ", affinity: {antiAffinity: [{labelSelector: {app: g%03d}, required: "
			    "true}, {labelSelector: {app: g%03d}, topologyKey: rack}]}", i / GROUP,
			    i / GROUP);
		add(&t, "}\n");
	}
	if (crd_load_buffer("bench.yaml", t.s, t.n, set, &errs) != 0) {
		crd_errors_print(&errs, stderr);
		exit(1);
	}
	crd_errors_free(&errs);
	free(t.s);
}

/* Where placed VM @i runs: a third of them crowd the first 40 hosts (uneven: work for
 * balancing); the others spread. */
static int home(int i)
{
	int g = i / GROUP, k = i % GROUP;
	if (i % 3 == 0)
		return (g * 7 + k) % 40;
	return (g * 7 + k * 13) % N_HOSTS;
}

static void build_inv(struct inventory *inv)
{
	inv->hosts = calloc(N_HOSTS, sizeof(*inv->hosts));
	inv->n_hosts = N_HOSTS;
	for (int h = 0; h < N_HOSTS; h++) {
		struct inv_host *x = &inv->hosts[h];
		char name[16];
		snprintf(name, sizeof(name), "h%03d", h);
		x->name = strdup(name);
		x->reachable = true;
		x->hv_type = strdup("QEMU");
		x->hv_version = 7002000;
		x->arch = strdup("x86_64");
		x->memory_total = 256 * GiB;
		x->cpu_threads = 64;
		x->domains = calloc(N_PLACED / N_HOSTS * 4 + 1, sizeof(*x->domains));
	}
	for (int i = 0; i < N_PLACED; i++) {
		struct inv_host *x = &inv->hosts[home(i)];
		struct inv_domain *d = &x->domains[x->n_domains++];
		char name[16];
		snprintf(name, sizeof(name), "vm%05d", i);
		d->name = strdup(name);
		snprintf(d->uuid, sizeof(d->uuid), "uuid-%05d", i);
		d->state = INV_RUNNING;
		d->active = d->persistent = true;
		d->owner_namespace = strdup("default");
		d->owner_name = strdup(name);
		d->memory = vm_mem(i);
		d->vcpus = 1;
	}
	for (int h = 0; h < N_HOSTS; h++) {
		uint64_t used = 0;
		for (size_t k = 0; k < inv->hosts[h].n_domains; k++)
			used += inv->hosts[h].domains[k].memory;
		inv->hosts[h].memory_free = inv->hosts[h].memory_total - used;
	}
}

/* Migration records to add to the set after a pass (the plan points into the set). */
static struct text pending;

static void pending_add(const char *yaml)
{
	add(&pending, "---\n%s", yaml);
}

static int pending_flush(struct crd_set *set, struct crd_errors *errs)
{
	int rc = pending.n ? crd_load_buffer("moves.yaml", pending.s, pending.n, set, errs) : 0;
	pending.n = 0;
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	/* CPU time of this process: the machine is shared, and both plans run alike. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Memory use spread (max − min, in points) of @load bytes per host. */
static double spread(const double *load)
{
	double lo = 1e300, hi = -1e300, cap = 255.0 * (double)GiB;
	for (int h = 0; h < N_HOSTS; h++) {
		double u = 100.0 * load[h] / cap;
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
	}
	return hi - lo;
}

/* Use per host after @p: the observed guests, moved and landed ones at their target. */
static void load_after(const struct inventory *inv, const struct plan *p, double *load)
{
	for (int h = 0; h < N_HOSTS; h++) {
		load[h] = 0;
		for (size_t k = 0; k < inv->hosts[h].n_domains; k++)
			load[h] += (double)inv->hosts[h].domains[k].memory;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_action *a = &p->actions[i];
		bool lands = a->kind == PLAN_DEFINE_START || a->kind == PLAN_MIGRATE_LIVE;
		if (!lands || !a->dst)
			continue;
		double m = (double)a->vm->spec.domain.memory;
		load[atoi(a->dst + 1)] += m;
		if (a->kind == PLAN_MIGRATE_LIVE && a->src)
			load[atoi(a->src + 1)] -= m;
	}
}

/* Best-fit decreasing of every VM onto equal hosts (no rules): the spread a packing with
 * no move limit could reach. */
static double bfd_spread(void)
{
	double load[N_HOSTS] = {0}, *mem = malloc(N_VMS * sizeof(*mem));
	for (int i = 0; i < N_VMS; i++)
		mem[i] = (double)vm_mem(i);
	qsort(mem, N_VMS, sizeof(*mem), dbl_cmp);
	for (int i = N_VMS - 1; i >= 0; i--) {
		int best = 0;
		for (int h = 1; h < N_HOSTS; h++)
			if (load[h] < load[best])
				best = h;
		load[best] += mem[i];
	}
	free(mem);
	return spread(load);
}

static double run(bool rules, const struct inventory *inv, size_t *moves, double *spr)
{
	struct crd_set set = {0};
	struct plan_limits lim;
	double t[REPEAT];

	build_set(rules, &set);
	plan_limits_default(&lim);
	lim.now = 1800000000;
	for (int r = 0; r < REPEAT; r++) {
		struct plan p;
		double t0 = now_s();
		if (plan_compute(&set, inv, &lim, &p) < 0)
			abort();
		t[r] = now_s() - t0;
		double load[N_HOSTS];
		*moves = 0;
		for (size_t i = 0; i < p.n; i++)
			*moves += p.actions[i].cause == CRD_MIG_BALANCE;
		load_after(inv, &p, load);
		*spr = spread(load);
		plan_free(&p);
	}
	crd_set_free(&set);
	qsort(t, REPEAT, sizeof(t[0]), dbl_cmp);
	return t[REPEAT / 2];
}

/* Adds a running domain of @vm to host @h. */
static void inv_add(struct inventory *inv, int h, const struct crd_vm *vm)
{
	struct inv_host *x = &inv->hosts[h];
	x->domains = realloc(x->domains, (x->n_domains + 1) * sizeof(*x->domains));
	if (!x->domains)
		abort();
	struct inv_domain *d = &x->domains[x->n_domains++];
	memset(d, 0, sizeof(*d));
	d->name = strdup(vm->meta.name);
	snprintf(d->uuid, sizeof(d->uuid), "uuid-%s", vm->meta.name + 2);
	d->state = INV_RUNNING;
	d->active = d->persistent = true;
	d->owner_namespace = strdup("default");
	d->owner_name = strdup(vm->meta.name);
	d->memory = vm->spec.domain.memory;
	d->vcpus = 1;
	x->memory_free -= d->memory;
}

/* Removes the domain named @name from host @h. */
static void inv_del(struct inventory *inv, int h, const char *name)
{
	struct inv_host *x = &inv->hosts[h];
	for (size_t k = 0; k < x->n_domains; k++)
		if (!strcmp(x->domains[k].name, name)) {
			x->memory_free += x->domains[k].memory;
			inv_domain_free(&x->domains[k]);
			x->domains[k] = x->domains[--x->n_domains];
			return;
		}
}

/* The least GiB any sequence of moves must carry to bring every host within @band points of
 * each other from @load: over every placement of the band [L, L + band], the larger of the
 * memory above it and the room below it that must be filled. A lower bound: it ignores that
 * VMs come in pieces and every rule. */
static double moves_bound_gib(const double *load, double band)
{
	double cap = 255.0 * (double)GiB, best = 1e300;
	for (double lo = 0; lo <= 100; lo += 0.05) {
		double over = 0, under = 0;
		for (int h = 0; h < N_HOSTS; h++) {
			double u = 100.0 * load[h] / cap;
			over += u > lo + band ? (u - lo - band) / 100.0 * cap : 0;
			under += u < lo ? (lo - u) / 100.0 * cap : 0;
		}
		double need = over > under ? over : under;
		best = need < best ? need : best;
	}
	return best / (double)GiB;
}

/* Runs the rules set pass after pass, carrying out each plan on the inventory and recording
 * every Balance move as its Migration (so the hold time applies), 2 minutes apart, until a
 * pass proposes no Balance move. Returns the passes; fills moves, GiB moved and the spread. */
static int converge(struct inventory *inv, size_t *moves, double *gib, double *spr,
		    double *bound)
{
	struct crd_set set = {0};
	struct plan_limits lim;
	struct crd_errors errs = {0};
	int pass;

	build_set(true, &set);
	/* Only the hourly limit is lifted: how good the moves are, not how fast they may go. */
	set.policies[0].spec.balance.max_moves_per_hour = 3600;
	plan_limits_default(&lim);
	lim.now = 1800000000;
	*moves = 0;
	*gib = 0;
	for (pass = 0; pass < 2000; pass++, lim.now += 120) {
		struct plan p;
		size_t n_bal = 0;
		char yaml[1024], when[32];
		time_t t = (time_t)lim.now;
		struct tm tm;
		if (plan_compute(&set, inv, &lim, &p) < 0)
			abort();
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		for (size_t i = 0; i < p.n; i++) {
			const struct plan_action *a = &p.actions[i];
			if (a->kind == PLAN_DEFINE_START)
				inv_add(inv, atoi(a->dst + 1), a->vm);
			if (a->kind != PLAN_MIGRATE_LIVE)
				continue;
			inv_del(inv, atoi(a->src + 1), a->vm->meta.name);
			inv_add(inv, atoi(a->dst + 1), a->vm);
			if (a->cause != CRD_MIG_BALANCE)
				continue;
			n_bal++;
			*gib += (double)a->vm->spec.domain.memory / (double)GiB;
			snprintf(yaml, sizeof(yaml), "apiVersion: drover.io/v1alpha1\nkind: Migration\n"
				 "metadata: {name: bal-%d-%zu}\nspec: {vmName: %s}\nstatus: {phase: "
				 "Succeeded, reason: Balance, startTime: '%s'}\n", pass, i,
				 a->vm->meta.name, when);
			pending_add(yaml);
		}
		plan_free(&p);
		if (pending_flush(&set, &errs) < 0)
			abort();
		*moves += n_bal;
		if (pass == 0) {
			/* From where the first pass's landings put the new VMs (its moves included:
			 * a bound of the whole way). */
			double load0[N_HOSTS];
			struct plan none0 = {0};
			load_after(inv, &none0, load0);
			*bound = moves_bound_gib(load0, 10.0) + *gib;
		}
		if (!n_bal && pass > 0)
			break;
	}
	double load[N_HOSTS];
	struct plan none = {0};
	load_after(inv, &none, load);
	*spr = spread(load);
	crd_errors_free(&errs);
	crd_set_free(&set);
	return pass;
}

int main(int argc, char **argv)
{
	struct inventory inv = {0};
	size_t moves_plain, moves_rules;
	double spr_plain, spr_rules, before[N_HOSTS];
	struct plan none = {0};

	build_inv(&inv);
	load_after(&inv, &none, before);
	double plain = run(false, &inv, &moves_plain, &spr_plain);
	double rules = run(true, &inv, &moves_rules, &spr_rules);
	printf("| plan of %d VMs (%d new) on %d hosts | median of %d |\n", N_VMS, N_VMS - N_PLACED,
	       N_HOSTS, REPEAT);
	printf("| plain (no policy, no terms), CPU | %.3f s |\n", plain);
	printf("| rules (2 affinity terms per VM, balance on), CPU | %.3f s |\n", rules);
	printf("| ratio rules / plain | %.2f |\n", rules / plain);
	printf("| memory spread: observed %.1f points, after plain %.1f, after rules %.1f "
	       "(%zu Balance moves); best-fit-decreasing bound %.1f |\n", spread(before), spr_plain,
	       spr_rules, moves_rules, bfd_spread());
	size_t moves;
	double gib, spr, bound = 0;
	if (argc > 1 && !strcmp(argv[1], "--no-converge")) {
		inv_free(&inv);
		return 0;
	}
	int passes = converge(&inv, &moves, &gib, &spr, &bound);
	printf("| balancing pass after pass (hourly limit lifted, 5 moves a pass): %d passes, %zu "
	       "moves, %.0f GiB moved (lower bound %.0f GiB); spread %.1f points "
	       "(maxSpreadPercent 10) |\n", passes, moves, gib, bound, spr);
	inv_free(&inv);
	return 0;
}
