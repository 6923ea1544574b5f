/* inventory: free functions and lookups over the observed state (plain data, no libvirt). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconcile/inventory.h"

/* Frees @n strings of @v and the array itself. This function can't fail. */
static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void inv_tuning_free(struct inv_tuning *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_disks; i++)
		free(t->disks[i].target);
	free(t->disks);
	memset(t, 0, sizeof(*t));
}

void inv_facts_free(struct inv_facts *f)
{
	if (!f)
		return;
	free(f->type);
	free(f->kernel);
	free(f->cmdline);
	strv_free(f->disks, f->n_disks);
	strv_free(f->ifaces, f->n_ifaces);
	memset(f, 0, sizeof(*f));
}

/* Frees what @d's definition said and zeroes those fields. This function can't fail. */
static void definition_free(struct inv_domain *d)
{
	inv_facts_free(&d->facts);
	free(d->restart_why);
	d->restart_why = NULL;
	inv_tuning_free(&d->tuning_config);
	inv_tuning_free(&d->tuning_live);
	free(d->owner_namespace);
	free(d->owner_name);
	d->owner_namespace = d->owner_name = NULL;
	for (size_t i = 0; i < d->n_disks; i++) {
		free(d->disks[i].path);
		free(d->disks[i].target);
	}
	free(d->disks);
	d->disks = NULL;
	d->n_disks = 0;
	strv_free(d->bridges, d->n_bridges);
	strv_free(d->networks, d->n_networks);
	d->bridges = d->networks = NULL;
	d->n_bridges = d->n_networks = 0;
	d->memory = 0;
	d->vcpus = 0;
	d->hugepage_size = 0;
}

void inv_domain_free(struct inv_domain *d)
{
	if (!d)
		return;
	definition_free(d);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

void inv_domain_forget_definition(struct inv_domain *d)
{
	definition_free(d);
	d->definition_unknown = true;
}

/* Copies @n strings of @v into *@out. Returns 0, or -1 when out of memory (*@out then
 * holds what was copied, NULL-padded, for strv_free). */
static int strv_copy(char ***out, char *const *v, size_t n)
{
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	if (n && !*out)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i] && !((*out)[i] = strdup(v[i])))
			return -1;
	return 0;
}

/* A copy of @s (NULL stays NULL); *@oom set when the copy failed. */
static char *dup_or_null(const char *s, bool *oom)
{
	char *copy = s ? strdup(s) : NULL;

	if (s && !copy)
		*oom = true;
	return copy;
}

/* Fills @dst (overwritten) with a deep copy of @src. Returns 0, or -1 when out of memory
 * (then @dst holds what was copied, for inv_tuning_free). */
static int tuning_copy(struct inv_tuning *dst, const struct inv_tuning *src)
{
	*dst = *src;
	dst->disks = src->n_disks ? calloc(src->n_disks, sizeof(*dst->disks)) : NULL;
	dst->n_disks = dst->disks ? src->n_disks : 0;
	if (src->n_disks && !dst->disks)
		return -1;
	for (size_t i = 0; i < src->n_disks; i++) {
		dst->disks[i] = src->disks[i];
		dst->disks[i].target = NULL;
		if (src->disks[i].target && !(dst->disks[i].target = strdup(src->disks[i].target)))
			return -1;
	}
	return 0;
}

/* As tuning_copy, for facts (then @dst holds what was copied, for inv_facts_free). */
static int facts_copy(struct inv_facts *dst, const struct inv_facts *src)
{
	bool oom = false;

	*dst = *src;
	dst->disks = dst->ifaces = NULL;
	dst->n_disks = dst->n_ifaces = 0;
	dst->type = dup_or_null(src->type, &oom);
	dst->kernel = dup_or_null(src->kernel, &oom);
	dst->cmdline = dup_or_null(src->cmdline, &oom);
	if (strv_copy(&dst->disks, src->disks, src->n_disks) < 0 ||
	    strv_copy(&dst->ifaces, src->ifaces, src->n_ifaces) < 0)
		oom = true;
	dst->n_disks = dst->disks ? src->n_disks : 0;
	dst->n_ifaces = dst->ifaces ? src->n_ifaces : 0;
	return oom ? -1 : 0;
}

int inv_domain_copy(struct inv_domain *dst, const struct inv_domain *src)
{
	bool oom = false;

	*dst = *src;
	dst->disks = NULL;
	dst->bridges = dst->networks = NULL;
	dst->n_bridges = dst->n_networks = 0;
	/* Emptied first: a failure below frees only what was copied. */
	memset(&dst->tuning_config, 0, sizeof(dst->tuning_config));
	memset(&dst->tuning_live, 0, sizeof(dst->tuning_live));
	memset(&dst->facts, 0, sizeof(dst->facts));
	dst->restart_why = NULL;
	dst->name = dup_or_null(src->name, &oom);
	dst->owner_namespace = dup_or_null(src->owner_namespace, &oom);
	dst->owner_name = dup_or_null(src->owner_name, &oom);
	if (src->n_disks && !(dst->disks = calloc(src->n_disks, sizeof(*dst->disks))))
		oom = true;
	/* Counts only what was allocated, so the free on failure walks nothing missing. */
	dst->n_disks = dst->disks ? src->n_disks : 0;
	for (size_t i = 0; dst->disks && i < src->n_disks; i++) {
		dst->disks[i].path = dup_or_null(src->disks[i].path, &oom);
		dst->disks[i].target = dup_or_null(src->disks[i].target, &oom);
	}
	if (strv_copy(&dst->bridges, src->bridges, src->n_bridges) < 0 ||
	    strv_copy(&dst->networks, src->networks, src->n_networks) < 0)
		oom = true;
	dst->n_bridges = dst->bridges ? src->n_bridges : 0;
	dst->n_networks = dst->networks ? src->n_networks : 0;
	if (tuning_copy(&dst->tuning_config, &src->tuning_config) < 0 ||
	    tuning_copy(&dst->tuning_live, &src->tuning_live) < 0 ||
	    facts_copy(&dst->facts, &src->facts) < 0)
		oom = true;
	dst->restart_why = dup_or_null(src->restart_why, &oom);
	if (!oom)
		return 0;
	inv_domain_free(dst);
	return -1;
}

void inv_pool_free(struct inv_pool *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->path);
	strv_free(p->volumes, p->n_volumes);
	memset(p, 0, sizeof(*p));
}

void inv_host_free(struct inv_host *h)
{
	if (!h)
		return;
	free(h->name);
	free(h->error);
	free(h->hostname);
	free(h->hv_type);
	free(h->arch);
	free(h->cpu_model);
	strv_free(h->bridges, h->n_bridges);
	strv_free(h->networks, h->n_networks);
	for (size_t i = 0; i < h->n_pools; i++)
		inv_pool_free(&h->pools[i]);
	free(h->pools);
	for (size_t i = 0; i < h->n_domains; i++)
		inv_domain_free(&h->domains[i]);
	free(h->domains);
	memset(h, 0, sizeof(*h));
}

static void job_free(struct inv_job *j)
{
	free(j->vm_namespace);
	free(j->vm_name);
	free(j->what);
	free(j->src);
	free(j->dst);
	memset(j, 0, sizeof(*j));
}

void inv_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->n_hosts; i++)
		inv_host_free(&inv->hosts[i]);
	free(inv->hosts);
	for (size_t i = 0; i < inv->n_jobs; i++)
		job_free(&inv->jobs[i]);
	free(inv->jobs);
	memset(inv, 0, sizeof(*inv));
}

int inv_add_job(struct inventory *inv, const char *ns, const char *name, const char *what,
		const char *src, const char *dst, bool move)
{
	struct inv_job j = {.vm_namespace = strdup(ns), .vm_name = strdup(name),
			    .what = strdup(what), .src = src ? strdup(src) : NULL,
			    .dst = dst ? strdup(dst) : NULL, .move = move};
	struct inv_job *grown = NULL;

	if (j.vm_namespace && j.vm_name && j.what && (!src || j.src) && (!dst || j.dst))
		grown = realloc(inv->jobs, (inv->n_jobs + 1) * sizeof(*grown));
	if (!grown) {
		job_free(&j);
		return -1;
	}
	inv->jobs = grown;
	inv->jobs[inv->n_jobs++] = j;
	return 0;
}

const struct inv_job *inv_job_of(const struct inventory *inv, const char *ns, const char *name)
{
	/* A handful at most (the runner's bound): a scan is enough. */
	for (size_t i = 0; inv && i < inv->n_jobs; i++)
		if (!strcmp(inv->jobs[i].vm_namespace, ns) && !strcmp(inv->jobs[i].vm_name, name))
			return &inv->jobs[i];
	return NULL;
}

const struct inv_host *inv_host_by_name(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; inv && name && i < inv->n_hosts; i++)
		if (inv->hosts[i].name && !strcmp(inv->hosts[i].name, name))
			return &inv->hosts[i];
	return NULL;
}

const struct inv_domain *inv_domain_by_name(const struct inv_host *h, const char *name)
{
	for (size_t i = 0; h && name && i < h->n_domains; i++)
		if (h->domains[i].name && !strcmp(h->domains[i].name, name))
			return &h->domains[i];
	return NULL;
}

const struct inv_domain *inv_domain_by_uuid(const struct inv_host *h, const char *uuid)
{
	/* An empty UUID names nothing: test inventories and network errors leave it blank. */
	if (!uuid || !*uuid)
		return NULL;
	for (size_t i = 0; h && i < h->n_domains; i++)
		if (!strcasecmp(h->domains[i].uuid, uuid))
			return &h->domains[i];
	return NULL;
}

bool inv_domain_owned_by(const struct inv_domain *d, const char *ns, const char *name)
{
	if (!d || !d->owner_name || !name)
		return false;
	/* Metadata written without a namespace means the default one, as in the API. */
	const char *own_ns = d->owner_namespace ? d->owner_namespace : "default";
	return !strcmp(own_ns, ns ? ns : "default") && !strcmp(d->owner_name, name);
}

bool inv_strv_has(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (list[i] && !strcmp(list[i], s))
			return true;
	return false;
}

bool inv_path_in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) != 0)
		return false;
	const char *rest = path + n;
	if (!(n == 1 && dir[0] == '/')) {
		if (*rest != '/')
			return false;
		rest++;
	}
	return *rest && !strchr(rest, '/');
}

const struct inv_pool *inv_pool_holding(const struct inv_host *h, const char *path)
{
	const struct inv_pool *inactive = NULL;

	/* An active pool wins over an inactive one of the same directory: only the active
	 * one can receive a volume, but the inactive one still explains a failure. */
	for (size_t i = 0; h && path && i < h->n_pools; i++) {
		const struct inv_pool *p = &h->pools[i];
		if (!p->path || !inv_path_in_dir(path, p->path))
			continue;
		if (p->active)
			return p;
		if (!inactive)
			inactive = p;
	}
	return inactive;
}

bool inv_host_has_volume(const struct inv_host *h, const char *path)
{
	for (size_t i = 0; h && path && i < h->n_pools; i++)
		if (inv_strv_has(h->pools[i].volumes, h->pools[i].n_volumes, path))
			return true;
	return false;
}
