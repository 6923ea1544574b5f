/* plan_check: pre-checks of landing a VM on a host; a failure names its check and says why. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crd/quantity.h"
#include "reconcile/plan_check.h"

/* Writes "<check>: <detail>" into @why and returns false, so checks read `return fail(...)`. */
static bool __attribute__((format(printf, 3, 4)))
fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool is_move(enum plan_op op)
{
	return op == PLAN_OP_LIVE || op == PLAN_OP_COLD;
}

bool plan_op_runs(const struct plan_vm *v, enum plan_op op)
{
	/* A cold move starts the VM on the target when it is to run; a define only then. */
	return op == PLAN_OP_START || op == PLAN_OP_LIVE || v->vm->spec.running;
}

const char *plan_check_host_state(const struct plan_host *h, enum plan_op op)
{
	const struct crd_host_spec *s = &h->spec->spec;

	if (!h->reachable)
		return "unreachable";
	if (h->fenced)
		return "fenced";
	/* Cordon and drain keep new VMs out; a VM already defined there may still start. */
	if (op == PLAN_OP_START)
		return NULL;
	if (s->drain)
		return "draining";
	if (s->unschedulable)
		return "unschedulable";
	return NULL;
}

static bool check_state(const struct plan_vm *v, enum plan_op op, const struct plan_host *dst,
			char *why, size_t size)
{
	const char *state = plan_check_host_state(dst, op);

	if (is_move(op) && v->host == dst)
		return fail(why, size, "target: %s is where %s is now", dst->name, v->vm->meta.name);
	if (!state)
		return true;
	if (!dst->reachable) {
		const char *err = dst->inv && dst->inv->error ? dst->inv->error : "not observed";
		return fail(why, size, "reachable: %s is unreachable (%s)", dst->name, err);
	}
	return fail(why, size, "schedulable: %s is %s", dst->name, state);
}

static bool check_memory(const struct plan_vm *v, enum plan_op op, const struct plan_host *dst,
			 char *why, size_t size)
{
	char have[32], need[32], held[32], placed[32];
	uint64_t reserved = dst->spec->spec.reserved_memory;
	struct plan_str s = {.len = 0};

	/* Overcommitted memory is not all in use: the allocation limit below governs it. */
	if (!plan_op_runs(v, op) || plan_host_available(dst) >= v->memory ||
	    dst->pol->memory_overcommit > 1.0)
		return true;
	crd_quantity_format(plan_host_available(dst), have, sizeof(have));
	crd_quantity_format(v->memory, need, sizeof(need));
	crd_quantity_format(reserved, held, sizeof(held));
	crd_quantity_format(dst->placed, placed, sizeof(placed));
	plan_str_add(&s, "memory: %s has %s free", dst->name, have);
	if (reserved || dst->placed)
		plan_str_add(&s, " after %s reserved", held);
	if (dst->placed)
		plan_str_add(&s, " and %s placed by this plan", placed);
	plan_str_add(&s, ", %s needs %s", v->vm->meta.name, need);
	return fail(why, size, "%s", s.buf);
}

/* A VM starting on its own host whose instance runs already holds its share there. */
static bool counted_there(const struct plan_vm *v, enum plan_op op, const struct plan_host *dst)
{
	return op == PLAN_OP_START && v->host == dst && v->dom && v->dom->active;
}

/* Allocated memory within (total − reservedMemory) × memoryOvercommit. */
static bool check_alloc_memory(const struct plan_vm *v, const struct plan_host *dst, char *why,
			       size_t size)
{
	uint64_t total = dst->inv ? dst->inv->memory_total : 0, held = dst->spec->spec.reserved_memory;
	char have[32], cap_s[32], need[32];

	if (!total)
		return true;    /* not reported: the free-memory check stands alone */
	double cap = (double)(total > held ? total - held : 0) * dst->pol->memory_overcommit;
	if ((double)dst->alloc_mem + (double)v->memory <= cap)
		return true;
	crd_quantity_format(dst->alloc_mem, have, sizeof(have));
	crd_quantity_format((uint64_t)cap, cap_s, sizeof(cap_s));
	crd_quantity_format(v->memory, need, sizeof(need));
	return fail(why, size, "memory: %s has %s of %s allocated (memoryOvercommit %g), %s needs %s",
		    dst->name, have, cap_s, dst->pol->memory_overcommit, v->vm->meta.name, need);
}

/* vCPUs within CPU threads × cpuOvercommit (0 = unlimited). */
static bool check_vcpus(const struct plan_vm *v, const struct plan_host *dst, char *why,
			size_t size)
{
	unsigned threads = dst->inv ? dst->inv->cpu_threads : 0;
	double over = dst->pol->cpu_overcommit;

	if (!threads || over <= 0 || (double)(dst->alloc_vcpus + v->vcpus) <= threads * over)
		return true;
	return fail(why, size, "cpu: %s has %llu of %g vCPUs allocated (%u threads × cpuOvercommit "
		    "%g), %s needs %u", dst->name, (unsigned long long)dst->alloc_vcpus,
		    threads * over, threads, over, v->vm->meta.name, v->vcpus);
}

/* A VM backed by huge pages needs that many free pages of its size on the target. */
static bool check_hugepages(const struct plan_vm *v, const struct plan_host *dst, char *why,
			    size_t size)
{
	char ps[32];
	int k;

	if (!v->hugepage_size)
		return true;
	crd_quantity_format(v->hugepage_size, ps, sizeof(ps));
	if ((k = plan_host_hugepage_index(dst, v->hugepage_size)) < 0)
		return fail(why, size, "hugepages: %s has no %s pages, %s needs them", dst->name, ps,
			    v->vm->meta.name);
	uint64_t need = (v->memory + v->hugepage_size - 1) / v->hugepage_size;
	uint64_t free_pages = dst->inv->hugepages[k].free;
	free_pages = free_pages > dst->hp_placed[k] ? free_pages - dst->hp_placed[k] : 0;
	if (free_pages >= need)
		return true;
	return fail(why, size, "hugepages: %s has %llu free %s pages, %s needs %llu", dst->name,
		    (unsigned long long)free_pages, ps, v->vm->meta.name, (unsigned long long)need);
}

/* The policy's limits: allocated memory, vCPUs, huge pages. */
static bool check_capacity(const struct plan_vm *v, enum plan_op op, const struct plan_host *dst,
			   char *why, size_t size)
{
	if (!plan_op_runs(v, op) || counted_there(v, op, dst))
		return true;
	return check_alloc_memory(v, dst, why, size) && check_vcpus(v, dst, why, size) &&
	       check_hugepages(v, dst, why, size);
}

/* "7.2.0" from libvirt's major * 1000000 + minor * 1000 + micro. */
static void version_format(unsigned long v, char *buf, size_t size)
{
	snprintf(buf, size, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

/* Same hypervisor and arch as the source; for a live move a hypervisor no older than it. */
static bool check_hypervisor(const struct plan_vm *v, enum plan_op op,
			     const struct plan_host *dst, char *why, size_t size)
{
	const struct inv_host *s = v->host ? v->host->inv : NULL, *d = dst->inv;
	const char *src = v->host ? v->host->name : "";
	char sv[40], dv[40];

	if (!is_move(op) || !s)
		return true;
	if (s->hv_type && d->hv_type && strcmp(s->hv_type, d->hv_type))
		return fail(why, size, "hypervisor: %s runs %s, %s runs %s", dst->name, d->hv_type,
			    src, s->hv_type);
	if (op == PLAN_OP_LIVE && d->hv_version < s->hv_version) {
		version_format(d->hv_version, dv, sizeof(dv));
		version_format(s->hv_version, sv, sizeof(sv));
		return fail(why, size, "hypervisor: %s has %s %s, older than %s on %s", dst->name,
			    d->hv_type ? d->hv_type : "", dv, sv, src);
	}
	if (s->arch && d->arch && strcmp(s->arch, d->arch))
		return fail(why, size, "arch: %s is %s, %s is %s", dst->name, d->arch, src, s->arch);
	return true;
}

/* No domain of the VM's name or of its instance's UUID on the target. */
static bool check_identity(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
			   const struct plan_host *dst, char *why, size_t size)
{
	const char *name = v->vm->meta.name;
	const struct inv_domain *d;

	if (op == PLAN_OP_START)
		return true;
	d = plan_host_domain(c, dst, name);
	if (d)
		return fail(why, size, "name: %s already has a domain named %s%s", dst->name, name,
			    d->owner_name ? "" : " not managed by drover");
	if (v->dom && inv_domain_by_uuid(dst->inv, v->dom->uuid))
		return fail(why, size, "uuid: %s already has a domain with UUID %s", dst->name,
			    v->dom->uuid);
	return true;
}

/* Every name in @want (of @n) is in the host's list @have (of @n_have); otherwise
 * "network: lab-b has no KIND NAME". */
static bool has_all(char *const *want, size_t n, char *const *have, size_t n_have,
		    const char *kind, const struct plan_host *dst, char *why, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (want[i] && !inv_strv_has(have, n_have, want[i]))
			return fail(why, size, "network: %s has no %s %s", dst->name, kind, want[i]);
	return true;
}

/* Shared disks must be visible on the target; local ones need an active pool for their
 * directory, and a move must not overwrite a volume of that path already there. */
static bool has_disk(const struct plan_vm *v, enum plan_op op, const struct plan_host *dst,
		     const char *path, bool leftovers, char *why, size_t size)
{
	if (v->vm->spec.storage == CRD_STORAGE_SHARED) {
		if (inv_host_has_volume(dst->inv, path))
			return true;
		return fail(why, size, "storage: %s cannot see %s", dst->name, path);
	}
	const struct inv_pool *pool = inv_pool_holding(dst->inv, path);
	if (!pool)
		return fail(why, size, "storage: %s has no storage pool for %s", dst->name, path);
	if (!pool->active)
		return fail(why, size, "storage: pool %s on %s is not active", pool->name, dst->name);
	if (is_move(op) && !leftovers && inv_host_has_volume(dst->inv, path))
		return fail(why, size, "storage: %s already has %s", dst->name, path);
	return true;
}

/* Bridges and networks of the spec and, for a move, of the running instance too: the live
 * definition is what travels. */
static bool check_networks(const struct plan_vm *v, enum plan_op op, const struct plan_host *dst,
			   char *why, size_t size)
{
	const struct vmres *r = &v->res;
	const struct inv_domain *d = is_move(op) ? v->dom : NULL;
	const struct inv_host *h = dst->inv;

	if (op == PLAN_OP_START)
		return true;
	return has_all(r->bridges, r->n_bridges, h->bridges, h->n_bridges, "bridge", dst, why,
		       size) &&
	       has_all(r->networks, r->n_networks, h->networks, h->n_networks, "network", dst, why,
		       size) &&
	       (!d || has_all(d->bridges, d->n_bridges, h->bridges, h->n_bridges, "bridge", dst,
			      why, size)) &&
	       (!d || has_all(d->networks, d->n_networks, h->networks, h->n_networks, "network",
			      dst, why, size));
}

/* True when a move of @v to @dst was running when drover stopped (its record never ended):
 * volumes of the VM's paths there are that copy's leftovers, which the move may replace
 * (the executor still refuses one that a domain there uses). */
static bool copy_cut_short(const struct plan_ctx *c, const struct plan_vm *v,
			   const struct plan_host *dst)
{
	for (size_t i = 0; i < c->desired->n_migrations; i++) {
		const struct crd_migration *m = &c->desired->migrations[i];
		if (m->status.phase == CRD_MIG_RUNNING && m->status.target_host &&
		    !strcmp(m->status.target_host, dst->name) && m->spec.vm_name &&
		    !strcmp(m->spec.vm_name, v->vm->meta.name) &&
		    !strcmp(m->meta.namespace, v->vm->meta.namespace))
			return true;
	}
	return false;
}

/* Disks of the spec and, for a move, of the running instance. */
static bool check_disks(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
			const struct plan_host *dst, char *why, size_t size)
{
	const struct inv_domain *d = is_move(op) ? v->dom : NULL;
	bool leftovers = is_move(op) && copy_cut_short(c, v, dst);

	if (op == PLAN_OP_START)
		return true;
	for (size_t i = 0; i < v->res.n_disks; i++)
		if (!has_disk(v, op, dst, v->res.disks[i], leftovers, why, size))
			return false;
	for (size_t i = 0; d && i < d->n_disks; i++)
		if (d->disks[i].path &&
		    !has_disk(v, op, dst, d->disks[i].path, leftovers, why, size))
			return false;
	return true;
}

bool plan_check_target(const struct plan_ctx *c, const struct plan_vm *v, enum plan_op op,
		       const struct plan_host *dst, char *why, size_t size)
{
	if (size)
		why[0] = '\0';
	return check_state(v, op, dst, why, size) && check_memory(v, op, dst, why, size) &&
	       check_capacity(v, op, dst, why, size) &&
	       check_hypervisor(v, op, dst, why, size) && check_identity(c, v, op, dst, why, size) &&
	       check_networks(v, op, dst, why, size) && check_disks(c, v, op, dst, why, size);
}
