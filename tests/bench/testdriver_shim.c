/* testdriver_shim: LD_PRELOAD library that lets libvirt's test driver stand in for real
 * hosts in the benchmarks. Bench scaffolding only; drover is not changed by it.
 *
 * 1. Memory statistics. drover reads a host's memory with virNodeGetMemoryStats; the test
 *    driver answers VIR_ERR_NO_SUPPORT and drover would count the host unreachable. For
 *    test: connections the shim answers instead: total is the node file's <memory>, free is
 *    total minus the maximum memory of every active domain. For test+tcp: connections (the
 *    test driver served by a libvirtd) the same figures come from two bulk calls, made when
 *    the shim opens the connection ahead (below) so that they do not count as drover's:
 *    a real host answers virNodeGetMemoryStats with one cheap call. Other connections get
 *    libvirt's own answer.
 *
 * 2. Opening ahead. A test:/// connection parses its node file inside the process that opens
 *    it, about 0.4 ms per domain: 100k domains are a minute of CPU, work that a real host's
 *    libvirtd did long before drover connects, and more than drover's 10 s connect timeout.
 *    With DROVER_BENCH_PREOPEN=FILE (one URI a line) the shim opens those URIs, in parallel,
 *    before main(), and virConnectOpen of one of them returns a new reference to that open
 *    connection. With DROVER_BENCH_REPORT=FILE it writes "preopen_s=S cpu_s=C rss_kib=K
 *    hosts=N failed=F" there (wall time, CPU time of all threads, RSS): what is the test
 *    driver's, not drover's.
 *
 * Build: cc -shared -fPIC testdriver_shim.c -o testdriver_shim.so $(pkg-config --cflags
 * --libs libvirt) -ldl -lpthread */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define SHIM_MAX_URIS 4096
#define SHIM_MAX_URI_LEN 4096

typedef int (*stats_fn)(virConnectPtr, int, virNodeMemoryStatsPtr, int *, unsigned int);
typedef virConnectPtr (*open_fn)(const char *);

static stats_fn real_stats;
static open_fn real_open;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void find_real(void)
{
	real_stats = (stats_fn)dlsym(RTLD_NEXT, "virNodeGetMemoryStats");
	real_open = (open_fn)dlsym(RTLD_NEXT, "virConnectOpen");
}

/* ---- 1. memory statistics ---- */

/* 1 when @conn is an in-process test-driver connection, 2 when the test driver is served
 * over RPC (test+tcp:), else 0. This function can't fail. */
static int is_test(virConnectPtr conn)
{
	char *uri = virConnectGetURI(conn);
	int kind = !uri ? 0 : !strncmp(uri, "test:", 5) ? 1 : !strncmp(uri, "test+", 5) ? 2 : 0;

	free(uri);
	return kind;
}

/* Total and free memory of a remote test driver: the node's total less the maximum
 * memory of its active domains, from one bulk statistics call. */
static int remote_test_memory(virConnectPtr conn, unsigned long long *total,
			      unsigned long long *free_kib)
{
	virNodeInfo info;
	virDomainStatsRecordPtr *recs = NULL;
	unsigned long long used = 0, max;
	int n;

	if (virNodeGetInfo(conn, &info) < 0)
		return -1;
	n = virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_BALLOON, &recs,
					VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (virTypedParamsGetULLong(recs[i]->params, recs[i]->nparams, "balloon.maximum",
					    &max) == 1)
			used += max;
	virDomainStatsRecordListFree(recs);
	*total = info.memory;
	*free_kib = used > info.memory ? 0 : info.memory - used;
	return 0;
}

static int lookup_preopened(virConnectPtr conn, unsigned long long *total,
			    unsigned long long *free_kib);

/* Fills @total and @free_kib for a test connection. Returns 0, or -1 with libvirt's error. */
static int test_memory(virConnectPtr conn, unsigned long long *total,
		       unsigned long long *free_kib)
{
	virNodeInfo info;
	virDomainPtr *doms = NULL;
	unsigned long long used = 0;
	int n;

	if (virNodeGetInfo(conn, &info) < 0)
		return -1;
	n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		used += virDomainGetMaxMemory(doms[i]);
		virDomainFree(doms[i]);
	}
	free(doms);
	*total = info.memory;
	*free_kib = used > info.memory ? 0 : info.memory - used;
	return 0;
}

int virNodeGetMemoryStats(virConnectPtr conn, int cellNum, virNodeMemoryStatsPtr params,
			  int *nparams, unsigned int flags)
{
	unsigned long long total, free_kib;
	int kind;

	pthread_once(&real_once, find_real);
	if (!(kind = is_test(conn)))
		return real_stats ? real_stats(conn, cellNum, params, nparams, flags) : -1;
	if (!nparams)
		return -1;
	if (!params || *nparams == 0) {
		*nparams = 2;
		return 0;
	}
	if (*nparams < 2 ||
	    (kind == 1 ? test_memory(conn, &total, &free_kib)
		       : lookup_preopened(conn, &total, &free_kib) == 0
				 ? 0 : remote_test_memory(conn, &total, &free_kib)) < 0)
		return -1;
	memset(params, 0, sizeof(*params) * 2);
	snprintf(params[0].field, sizeof(params[0].field), "%s", VIR_NODE_MEMORY_STATS_TOTAL);
	params[0].value = total;
	snprintf(params[1].field, sizeof(params[1].field), "%s", VIR_NODE_MEMORY_STATS_FREE);
	params[1].value = free_kib;
	*nparams = 2;
	return 0;
}

/* ---- 2. opening ahead ---- */

struct pre_conn {
	char *uri;
	virConnectPtr conn;     /* set before main(), read-only afterwards */
	int has_memory;         /* test+tcp: the memory figures below were read at open */
	unsigned long long total, free_kib;
	pthread_t thread;
	int started;
};

static struct pre_conn pre[SHIM_MAX_URIS];
static int n_pre;

static void silent(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

static void *pre_open(void *arg)
{
	struct pre_conn *p = arg;
	p->conn = real_open ? real_open(p->uri) : NULL;
	if (p->conn && is_test(p->conn) == 2)
		p->has_memory = remote_test_memory(p->conn, &p->total, &p->free_kib) == 0;
	return NULL;
}

/* The memory read when @conn was opened ahead. Returns 0, or -1 when it was not. */
static int lookup_preopened(virConnectPtr conn, unsigned long long *total,
			    unsigned long long *free_kib)
{
	for (int i = 0; i < n_pre; i++) {
		if (pre[i].conn != conn || !pre[i].has_memory)
			continue;
		*total = pre[i].total;
		*free_kib = pre[i].free_kib;
		return 0;
	}
	return -1;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the whole process so far, in seconds. This function can't fail. */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/* Reads the URIs of @path, one a line, at most SHIM_MAX_URIS. Returns how many. */
static int read_uris(const char *path)
{
	static char line[SHIM_MAX_URI_LEN];
	FILE *f = fopen(path, "r");
	int n = 0;

	while (f && n < SHIM_MAX_URIS && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (*line && (pre[n].uri = strdup(line)))
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

__attribute__((constructor)) static void preopen_all(void)
{
	const char *list = getenv("DROVER_BENCH_PREOPEN"), *report = getenv("DROVER_BENCH_REPORT");
	int failed = 0;

	if (!list)
		return;
	pthread_once(&real_once, find_real);
	virSetErrorFunc(NULL, silent);
	if (virInitialize() < 0)
		return;
	double start = mono();
	n_pre = read_uris(list);
	for (int i = 0; i < n_pre; i++) {
		pre[i].started = pthread_create(&pre[i].thread, NULL, pre_open, &pre[i]) == 0;
		if (!pre[i].started)
			pre_open(&pre[i]);      /* no thread to be had: open it here, in turn */
	}
	for (int i = 0; i < n_pre; i++) {
		if (pre[i].started)
			pthread_join(pre[i].thread, NULL);
		failed += !pre[i].conn;
	}
	double took = mono() - start;
	/* Parsing the node files in threads leaves free pages in their arenas: handed back,
	 * so the hosts' baseline holds the hosts and not their parse (drover trims its own
	 * before each wait). */
	malloc_trim(0);
	FILE *f = report ? fopen(report, "w") : NULL;
	if (f) {
		fprintf(f, "preopen_s=%.3f cpu_s=%.3f rss_kib=%ld hosts=%d failed=%d\n", took,
			cpu_s(), rss_kib(), n_pre, failed);
		fclose(f);
	}
}

virConnectPtr virConnectOpen(const char *name)
{
	pthread_once(&real_once, find_real);
	for (int i = 0; name && i < n_pre; i++)
		if (pre[i].conn && !strcmp(pre[i].uri, name) && virConnectRef(pre[i].conn) == 0)
			return pre[i].conn;
	return real_open ? real_open(name) : NULL;
}
