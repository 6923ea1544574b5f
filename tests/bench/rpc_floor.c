/* rpc_floor: the least a client must do to see every domain of N hosts over libvirt's RPC —
 * the floor drover's plan is measured against (BENCH.md, "Observe over RPC").
 *
 * Usage: rpc_floor URIS_FILE
 * Opens every URI of URIS_FILE (one a line) in parallel, then, hosts in parallel (a thread
 * per host), lists each host's domains (virConnectListAllDomains) and fetches every domain's
 * XML (virDomainGetXMLDesc): one round trip per domain, nothing parsed. Prints
 * "opens_s=S floor_s=S hosts=N domains=D failed=F": the opens (the daemon parsing its node
 * files: not drover's, the shim does them ahead for drover too) and the list + XML phase.
 * Bench scaffolding.
 *
 * Build: cc -O2 rpc_floor.c -o rpc_floor $(pkg-config --cflags --libs libvirt) -lpthread */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define FLOOR_MAX_HOSTS 1024
#define FLOOR_MAX_URI 4096

struct host {
	char *uri;
	virConnectPtr conn;
	long domains;
	int failed;
	pthread_t thread;
	int started;
};

static struct host hosts[FLOOR_MAX_HOSTS];
static int n_hosts;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void silent(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

static void *open_one(void *arg)
{
	struct host *h = arg;

	h->conn = virConnectOpen(h->uri);
	h->failed = !h->conn;
	return NULL;
}

static void *read_one(void *arg)
{
	struct host *h = arg;
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(h->conn, &doms, 0);

	if (n < 0) {
		h->failed = 1;
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		char *xml = virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE);
		if (xml)
			h->domains++;
		free(xml);
		virDomainFree(doms[i]);
	}
	free(doms);
	return NULL;
}

/* Runs @fn on every host, a thread each (in turn when no thread can be had). */
static void each_host(void *(*fn)(void *))
{
	for (int i = 0; i < n_hosts; i++) {
		hosts[i].started = (hosts[i].conn || fn == open_one) &&
				   pthread_create(&hosts[i].thread, NULL, fn, &hosts[i]) == 0;
		if (!hosts[i].started && (hosts[i].conn || fn == open_one))
			fn(&hosts[i]);
	}
	for (int i = 0; i < n_hosts; i++)
		if (hosts[i].started)
			pthread_join(hosts[i].thread, NULL);
}

static int read_uris(const char *path)
{
	static char line[FLOOR_MAX_URI];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (n_hosts < FLOOR_MAX_HOSTS && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (*line && (hosts[n_hosts].uri = strdup(line)))
			n_hosts++;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	long domains = 0;
	int failed = 0;

	if (argc != 2 || read_uris(argv[1]) < 0) {
		fprintf(stderr, "usage: rpc_floor URIS_FILE\n");
		return 2;
	}
	virSetErrorFunc(NULL, silent);
	if (virInitialize() < 0)
		return 1;
	double t0 = mono();
	each_host(open_one);
	double t1 = mono();
	each_host(read_one);
	double t2 = mono();
	for (int i = 0; i < n_hosts; i++) {
		domains += hosts[i].domains;
		failed += hosts[i].failed;
		if (hosts[i].conn)
			virConnectClose(hosts[i].conn);
		free(hosts[i].uri);
	}
	printf("opens_s=%.3f floor_s=%.3f hosts=%d domains=%ld failed=%d\n", t1 - t0, t2 - t1,
	       n_hosts, domains, failed);
	return failed ? 1 : 0;
}
