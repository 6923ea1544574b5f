/* plan_fixtures: builders for the planner tests (header-only, static functions): desired
 * objects from small YAML snippets, an inventory built as structs, and lookups in the plan.
 *
 * Every host gets the same healthy defaults — reachable, QEMU 7.2.0 on x86_64, 16Gi of
 * which 8Gi free, 1Gi reserved, bridge br0, network default, an active pool "shared" at
 * /shared and "images" at /var/lib/libvirt/images — so a test states only what differs. */
#ifndef DROVER_TEST_PLAN_FIXTURES_H
#define DROVER_TEST_PLAN_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crd/load.h"
#include "reconcile/inventory.h"
#include "reconcile/plan.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define SHARED_DIR "/shared"
#define LOCAL_DIR "/var/lib/libvirt/images"

struct fx {
	struct crd_set set;
	struct inventory inv;
	struct plan plan;
	struct plan_limits lim;
};

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	plan_limits_default(&f->lim);
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	plan_free(&f->plan);
	inv_free(&f->inv);
	crd_set_free(&f->set);
	free(f);
	return 0;
}

/* Loads one YAML document (printf-formatted) into the desired set; fails the test on errors. */
static inline void __attribute__((format(printf, 2, 3))) fx_yaml(struct fx *f, const char *fmt, ...)
{
	char buf[4096];
	struct crd_errors errs = {0};
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	int rc = crd_load_buffer("test.yaml", buf, (size_t)n, &f->set, &errs);
	if (rc != 0) {
		crd_errors_print(&errs, stderr);
		fprintf(stderr, "%s\n", buf);
	}
	crd_errors_free(&errs);
	assert_int_equal(rc, 0);
}

static inline void *fx_grow(void *arr, size_t n, size_t size)
{
	char *p = realloc(arr, (n + 1) * size);
	assert_non_null(p);
	memset(p + n * size, 0, size);
	return p;
}

static inline char *fx_strdup(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static inline void fx_strv_add(char ***v, size_t *n, const char *s)
{
	*v = fx_grow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = fx_strdup(s);
}

static inline struct inv_host *fx_inv(struct fx *f, const char *name)
{
	struct inv_host *h = (struct inv_host *)inv_host_by_name(&f->inv, name);
	assert_non_null(h);
	return h;
}

static inline struct inv_pool *fx_pool(struct inv_host *h, const char *name)
{
	for (size_t i = 0; i < h->n_pools; i++)
		if (!strcmp(h->pools[i].name, name))
			return &h->pools[i];
	fail_msg("no pool %s", name);
	return NULL;
}

static inline void fx_add_pool(struct inv_host *h, const char *name, const char *path)
{
	h->pools = fx_grow(h->pools, h->n_pools, sizeof(*h->pools));
	struct inv_pool *p = &h->pools[h->n_pools++];
	p->name = fx_strdup(name);
	p->path = fx_strdup(path);
	p->active = true;
}

/* Declares Host @name with @spec_extra appended to its spec (", drain: true") and reports
 * it healthy in the inventory. Returns its inventory entry (valid until the next host). */
static inline struct inv_host *fx_host(struct fx *f, const char *name, const char *spec_extra)
{
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: %s}\n"
		"spec: {uri: 'test:///default', reservedMemory: 1Gi%s}\n", name, spec_extra);
	f->inv.hosts = fx_grow(f->inv.hosts, f->inv.n_hosts, sizeof(*f->inv.hosts));
	struct inv_host *h = &f->inv.hosts[f->inv.n_hosts++];
	h->name = fx_strdup(name);
	h->reachable = true;
	h->hv_type = fx_strdup("QEMU");
	h->hv_version = 7002000;
	h->lib_version = 9000000;
	h->arch = fx_strdup("x86_64");
	h->memory_total = 16 * GiB;
	h->memory_free = 8 * GiB;
	fx_strv_add(&h->bridges, &h->n_bridges, "br0");
	fx_strv_add(&h->networks, &h->n_networks, "default");
	fx_add_pool(h, "shared", SHARED_DIR);
	fx_add_pool(h, "images", LOCAL_DIR);
	return h;
}

/* Makes host @name unreachable, as observe reports a host it cannot connect to. */
static inline void fx_unreachable(struct fx *f, const char *name)
{
	struct inv_host *h = fx_inv(f, name);
	for (size_t i = 0; i < h->n_domains; i++)
		inv_domain_free(&h->domains[i]);
	h->n_domains = 0;
	h->reachable = false;
	h->error = fx_strdup("connection refused");
}

static inline struct crd_vm *fx_vm_get(struct fx *f, const char *name)
{
	struct crd_vm *vm = (struct crd_vm *)crd_set_vm(&f->set, "default", name);
	assert_non_null(vm);
	return vm;
}

/* Declares VirtualMachine @name of @mem with @spec_extra in its spec ("host: lab-a,
 * storage: local"). Its disk is SHARED_DIR/NAME.qcow2 (every declared host sees it) or,
 * with storage: local, LOCAL_DIR/NAME.qcow2; it uses bridge br0. */
static inline struct crd_vm *fx_vm(struct fx *f, const char *name, const char *mem,
			    const char *spec_extra)
{
	bool local = strstr(spec_extra, "storage: local") != NULL;
	char disk[256];

	snprintf(disk, sizeof(disk), "%s/%s.qcow2", local ? LOCAL_DIR : SHARED_DIR, name);
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: %s}\n"
		"spec: {domain: {memory: %s, disks: [{path: %s}], interfaces: [{bridge: br0}]}%s%s}\n",
		name, mem, disk, *spec_extra ? ", " : "", spec_extra);
	for (size_t i = 0; !local && i < f->inv.n_hosts; i++) {
		struct inv_pool *p = fx_pool(&f->inv.hosts[i], "shared");
		fx_strv_add(&p->volumes, &p->n_volumes, disk);
	}
	return fx_vm_get(f, name);
}

/* Sets the VM's status.host: where the previous run saw it. */
static inline void fx_last_host(struct fx *f, const char *vm, const char *host)
{
	struct crd_vm *v = fx_vm_get(f, vm);
	free(v->status.host);
	v->status.host = fx_strdup(host);
}

/* Reports a domain @name on @host in @state, owned by default/@owner (NULL: no drover
 * metadata). Memory, disks and bridges come from VM @name when it is declared. */
static inline struct inv_domain *fx_domain(struct fx *f, const char *host, const char *name,
				    const char *owner, enum inv_state state)
{
	struct inv_host *h = fx_inv(f, host);
	const struct crd_vm *vm = crd_set_vm(&f->set, "default", name);

	h->domains = fx_grow(h->domains, h->n_domains, sizeof(*h->domains));
	struct inv_domain *d = &h->domains[h->n_domains++];
	d->name = fx_strdup(name);
	snprintf(d->uuid, sizeof(d->uuid), "uuid-%s", name);
	d->state = state;
	d->active = state == INV_RUNNING || state == INV_PAUSED;
	d->persistent = true;
	if (owner) {
		d->owner_namespace = fx_strdup("default");
		d->owner_name = fx_strdup(owner);
	}
	d->vcpus = 1;
	for (size_t i = 0; vm && i < vm->spec.domain.n_disks; i++) {
		const char *path = vm->spec.domain.disks[i].path;
		d->disks = fx_grow(d->disks, d->n_disks, sizeof(*d->disks));
		d->disks[d->n_disks].path = fx_strdup(path);
		d->disks[d->n_disks++].target = fx_strdup("vda");
		if (vm->spec.storage == CRD_STORAGE_LOCAL) {
			struct inv_pool *p = fx_pool(h, "images");
			fx_strv_add(&p->volumes, &p->n_volumes, path);
		}
	}
	if (vm) {
		d->memory = vm->spec.domain.memory;
		fx_strv_add(&d->bridges, &d->n_bridges, "br0");
	}
	return d;
}

/* A domain of VM @vm, defined by drover. */
static inline struct inv_domain *fx_dom(struct fx *f, const char *host, const char *vm,
				 enum inv_state state)
{
	return fx_domain(f, host, vm, vm, state);
}

/* Declares Migration @name of @vm to @target (NULL: drover chooses), with @spec_extra added
 * to its spec ("mode: Cold") and @status as its status ("phase: Running, sourceHost: a"). */
static inline void fx_mig(struct fx *f, const char *name, const char *vm, const char *target,
		   const char *spec_extra, const char *status)
{
	char tgt[128] = "";

	if (target)
		snprintf(tgt, sizeof(tgt), ", targetHost: %s", target);
	fx_yaml(f, "apiVersion: drover.io/v1alpha1\nkind: Migration\nmetadata: {name: %s}\n"
		"spec: {vmName: %s%s%s%s}\n%s%s%s\n", name, vm, tgt, *spec_extra ? ", " : "",
		spec_extra, *status ? "status: {" : "", status, *status ? "}" : "");
}

/* Computes the plan (replacing any earlier one); fails the test when it fails. */
static inline const struct plan *fx_plan(struct fx *f)
{
	plan_free(&f->plan);
	assert_int_equal(plan_compute(&f->set, &f->inv, &f->lim, &f->plan), 0);
	return &f->plan;
}

/* The one action of VM @vm that is not about a Migration object or a stale copy. */
static inline const struct plan_action *fx_act(struct fx *f, const char *vm)
{
	const struct plan_action *found = NULL;

	for (size_t i = 0; i < f->plan.n; i++) {
		const struct plan_action *a = &f->plan.actions[i];
		if (strcmp(a->vm->meta.name, vm) || a->kind == PLAN_FINISH_MIGRATION ||
		    a->kind == PLAN_UNDEFINE_STALE)
			continue;
		if (found)
			fail_msg("two actions for %s: %s and %s", vm, plan_kind_str(found->kind),
				 plan_kind_str(a->kind));
		found = a;
	}
	if (!found)
		fail_msg("no action for %s", vm);
	return found;
}

/* The FINISH_MIGRATION action of Migration @mig, or NULL. */
static inline const struct plan_action *fx_finish(struct fx *f, const char *mig)
{
	for (size_t i = 0; i < f->plan.n; i++) {
		const struct plan_action *a = &f->plan.actions[i];
		if (a->kind == PLAN_FINISH_MIGRATION && !strcmp(a->migration->meta.name, mig))
			return a;
	}
	return NULL;
}

/* Index of the action of @vm of @kind in the plan, or -1. */
static inline int fx_index(struct fx *f, const char *vm, enum plan_kind kind)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (!strcmp(f->plan.actions[i].vm->meta.name, vm) && f->plan.actions[i].kind == kind)
			return (int)i;
	return -1;
}

/* Checks kind, destination (NULL: none) and phase of @a in one line. */
static inline void fx_expect(const struct plan_action *a, enum plan_kind kind, const char *dst,
		      enum crd_vm_phase phase)
{
	if (a->kind != kind)
		fail_msg("%s: expected %s, got %s (%s)", a->vm->meta.name, plan_kind_str(kind),
			 plan_kind_str(a->kind), a->reason);
	if (dst)
		assert_string_equal(a->dst ? a->dst : "(null)", dst);
	else
		assert_null(a->dst);
	assert_int_equal(a->phase, phase);
}

/* Fails unless @reason contains @part. */
static inline void fx_reason_has(const struct plan_action *a, const char *part)
{
	if (!a->reason || !strstr(a->reason, part))
		fail_msg("reason \"%s\" lacks \"%s\"", a->reason ? a->reason : "(null)", part);
}

#endif
