/* invdigest: an inventory as one number (see invdigest.h). */
#include "reconcile/invdigest.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crd/encode.h"
#include "reconcile/invpack.h"

struct dig {
	uint64_t h;
	bool failed;
};

static void num(struct dig *d, uint64_t v)
{
	d->h = crd_fnv1a(d->h, &v, sizeof(v));
}

/* A string, NULL told apart from "" (its terminator is hashed with it). */
static void str(struct dig *d, const char *s)
{
	num(d, s != NULL);
	if (s)
		d->h = crd_fnv1a(d->h, s, strlen(s) + 1);
}

static void strs(struct dig *d, char *const *v, size_t n)
{
	num(d, n);
	for (size_t i = 0; i < n; i++)
		str(d, v[i]);
}

/* The domains of a host, summed: the same set in another order gives the same number. */
static void domains(struct dig *d, const struct inv_domain *doms, size_t n)
{
	unsigned char small[512];
	uint64_t sum = 0;

	for (size_t i = 0; i < n && !d->failed; i++) {
		size_t size = invpack_size(&doms[i]);
		unsigned char *buf = size <= sizeof(small) ? small : malloc(size);
		if (!buf) {
			d->failed = true;
			break;
		}
		size_t len = invpack_write(&doms[i], buf);
		uint64_t one = crd_fnv1a(CRD_FNV1A_INIT, buf, len);
		sum += one * 0x9e3779b97f4a7c15ull + (one >> 29);
		if (buf != small)
			free(buf);
	}
	num(d, n);
	num(d, sum);
}

static void host(struct dig *d, const struct inv_host *h)
{
	str(d, h->name);
	num(d, (uint64_t)h->reachable << 2 | (uint64_t)h->fenced << 1 | h->addr_alive);
	str(d, h->error);
	str(d, h->hostname);
	str(d, h->hv_type);
	num(d, h->hv_version);
	num(d, h->lib_version);
	str(d, h->arch);
	str(d, h->cpu_model);
	num(d, h->memory_total);
	num(d, h->cpu_threads);
	num(d, h->n_hugepages);
	for (size_t i = 0; i < h->n_hugepages; i++) {
		num(d, h->hugepages[i].page_size);
		num(d, h->hugepages[i].total);
		num(d, h->hugepages[i].free);
	}
	strs(d, h->bridges, h->n_bridges);
	strs(d, h->networks, h->n_networks);
	num(d, h->n_pools);
	for (size_t i = 0; i < h->n_pools; i++) {
		str(d, h->pools[i].name);
		str(d, h->pools[i].path);
		num(d, h->pools[i].active);
		strs(d, h->pools[i].volumes, h->pools[i].n_volumes);
	}
	domains(d, h->domains, h->n_domains);
}

uint64_t inv_digest(const struct inventory *inv)
{
	struct dig d = {.h = CRD_FNV1A_INIT};

	num(&d, inv->n_hosts);
	for (size_t i = 0; i < inv->n_hosts && !d.failed; i++)
		host(&d, &inv->hosts[i]);
	num(&d, inv->n_jobs);
	for (size_t i = 0; i < inv->n_jobs; i++) {
		const struct inv_job *j = &inv->jobs[i];
		str(&d, j->vm_namespace);
		str(&d, j->vm_name);
		str(&d, j->what);
		str(&d, j->src);
		str(&d, j->dst);
		num(&d, j->move);
	}
	if (d.failed)
		return 0;
	return d.h ? d.h : 1;
}
