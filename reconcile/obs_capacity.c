/* obs_capacity: CPU threads (virNodeGetInfo), load (deltas of virNodeGetCPUStats between two
 * observations) and huge pages (sizes and totals from the capabilities, free counts from
 * virNodeGetFreePages). */
#include "reconcile/obs_capacity.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "reconcile/domxml.h"

/* The previous CPU sample of each host. Bounded: a host past the cap gets no load figure. */
#define SAMPLES_MAX 4096
#define NAME_MAX_LEN 64

struct sample {
	char name[NAME_MAX_LEN];
	unsigned long long busy, total;     /* nanoseconds over all CPUs */
};

static struct sample samples[SAMPLES_MAX];
static size_t n_samples;
static pthread_mutex_t samples_lock = PTHREAD_MUTEX_INITIALIZER;

/* Busy (kernel + user) and total (+ idle + iowait) CPU time of the host. Returns 0 or -1. */
static int cpu_times(virConnectPtr conn, unsigned long long *busy, unsigned long long *total)
{
	int n = 0;
	virNodeCPUStatsPtr st = NULL;

	if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) < 0 || n <= 0 ||
	    !(st = calloc((size_t)n, sizeof(*st))) ||
	    virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, st, &n, 0) < 0) {
		free(st);
		return -1;
	}
	*busy = *total = 0;
	for (int i = 0; i < n; i++) {
		bool is_busy = !strcmp(st[i].field, VIR_NODE_CPU_STATS_KERNEL) ||
			       !strcmp(st[i].field, VIR_NODE_CPU_STATS_USER);
		bool is_idle = !strcmp(st[i].field, VIR_NODE_CPU_STATS_IDLE) ||
			       !strcmp(st[i].field, VIR_NODE_CPU_STATS_IOWAIT);
		if (is_busy)
			*busy += st[i].value;
		if (is_busy || is_idle)
			*total += st[i].value;
	}
	free(st);
	return *total ? 0 : -1;
}

/* Swaps the host's stored sample for the new one; the load is the busy share in between. */
static void load_from_sample(const char *name, unsigned long long busy, unsigned long long total,
			     struct inv_host *out)
{
	struct sample *s = NULL;

	if (!name || strlen(name) >= NAME_MAX_LEN)
		return;
	pthread_mutex_lock(&samples_lock);
	for (size_t i = 0; i < n_samples && !s; i++)
		if (!strcmp(samples[i].name, name))
			s = &samples[i];
	if (s && total > s->total && busy >= s->busy) {
		out->cpu_load = (double)(busy - s->busy) / (double)(total - s->total);
		out->cpu_load = out->cpu_load > 1.0 ? 1.0 : out->cpu_load;
		out->has_cpu_load = true;
	}
	if (!s && n_samples < SAMPLES_MAX) {
		s = &samples[n_samples++];
		snprintf(s->name, sizeof(s->name), "%s", name);
	}
	if (s) {
		s->busy = busy;
		s->total = total;
	}
	pthread_mutex_unlock(&samples_lock);
}

/* An unsigned number from XPath @expr over @caps, or 0. */
static unsigned long long caps_number(xmlDocPtr caps, const char *expr)
{
	char *s = domxml_doc_xpath_string(caps, expr);
	unsigned long long v = s ? strtoull(s, NULL, 10) : 0;

	free(s);
	return v;
}

/* Every huge page size the host lists (not the base page): totals from the NUMA cells of
 * the capabilities, free counts from libvirt. */
static void read_hugepages(virConnectPtr conn, xmlDocPtr caps, struct inv_host *out)
{
	char expr[160];
	int cells = (int)caps_number(caps, "string(count(/capabilities/host/topology/cells/cell))");

	out->n_hugepages = 0;

	for (int k = 1; k <= 4 && out->n_hugepages < INV_HUGEPAGE_SIZES_MAX; k++) {
		snprintf(expr, sizeof(expr), "string(/capabilities/host/cpu/pages[%d]/@size)", k);
		unsigned int kib = (unsigned int)caps_number(caps, expr);
		if (!kib)
			break;
		/* Base pages (4 KiB, or 8 and 64 KiB elsewhere) are not what <hugepages/> asks. */
		if (kib < 1024)
			continue;
		struct inv_hugepages *hp = &out->hugepages[out->n_hugepages];
		snprintf(expr, sizeof(expr), "string(sum(/capabilities/host/topology/cells/cell/"
			 "pages[@size='%u']))", kib);
		hp->page_size = (uint64_t)kib * 1024;
		hp->total = caps_number(caps, expr);
		unsigned long long counts[64] = {0};
		int n = cells > 0 && cells <= 64 ? cells : 1;
		if (virNodeGetFreePages(conn, 1, &kib, 0, (unsigned int)n, counts, 0) >= 0)
			for (int c = 0; c < n; c++)
				hp->free += counts[c];
		out->n_hugepages++;
	}
}

void obs_capacity(virConnectPtr conn, xmlDocPtr caps, struct inv_host *out)
{
	virNodeInfo info;
	unsigned long long busy, total;

	if (virNodeGetInfo(conn, &info) == 0)
		out->cpu_threads = info.cpus;
	if (cpu_times(conn, &busy, &total) == 0)
		load_from_sample(out->name, busy, total, out);
	if (caps)
		read_hugepages(conn, caps, out);
	virResetLastError();   /* a host without these figures is still observed */
}
