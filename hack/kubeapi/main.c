/* kubeapi-server: a small, strict stand-in for kube-apiserver that tests run drover and kubectl
 * against. See hack/kubeapi/README.md for what it implements. */
#include "http.h"
#include "registry.h"
#include "store.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest certificate, key or token file read. */
#define FILE_MAX (1024 * 1024)

struct options {
	char addr[64];
	uint16_t port;
	const char *cert_file, *key_file, *token_file, *token;
	uint64_t history, max_objects, max_watchers, bookmark_interval;
};

static void usage(void)
{
	fprintf(stderr, "usage: kubeapi-server --listen ADDR:PORT --tls-cert FILE --tls-key FILE\n"
			"                      (--token-file FILE | --token TOKEN) [--history N]\n"
			"                      [--max-objects N] [--max-watchers N] [--bookmark-interval SECONDS]\n"
			"SIGUSR1 or POST /_test/compact compacts the watch history; POST /_test/cut-watches\n"
			"ends every open watch stream. PORT 0 picks a free port; the line\n"
			"\"listening on https://ADDR:PORT\" on stdout tells which.\n");
}

/* Reads a whole file (at most FILE_MAX bytes), trailing newlines cut when @trim. NULL on error. */
static char *read_file(const char *path, bool trim)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		goto fail;
	buf = malloc(FILE_MAX + 1);
	if (!buf)
		goto fail;
	n = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX)
		goto fail;
	fclose(f);
	buf[n] = '\0';
	while (trim && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
fail:
	kas_log("cannot read %s: %s", path, errno ? strerror(errno) : "too large");
	if (f)
		fclose(f);
	free(buf);
	return NULL;
}

static int parse_listen(const char *s, struct options *o)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(o->addr) || kas_parse_u64(colon + 1, &port) < 0 || port > 65535)
		return -1;
	memcpy(o->addr, s, (size_t)(colon - s));
	o->addr[colon - s] = '\0';
	o->port = (uint16_t)port;
	return 0;
}

static int parse_number(const char *flag, const char *value, uint64_t max, uint64_t *out)
{
	if (kas_parse_u64(value, out) < 0 || *out == 0 || *out > max) {
		kas_log("%s wants a number from 1 to %" PRIu64, flag, max);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i += 2) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (!v)
			return -1;
		if (!strcmp(f, "--listen"))
			rc = parse_listen(v, o);
		else if (!strcmp(f, "--tls-cert"))
			o->cert_file = v;
		else if (!strcmp(f, "--tls-key"))
			o->key_file = v;
		else if (!strcmp(f, "--token-file"))
			o->token_file = v;
		else if (!strcmp(f, "--token"))
			o->token = v;
		else if (!strcmp(f, "--history"))
			rc = parse_number(f, v, 1000000, &o->history);
		else if (!strcmp(f, "--max-objects"))
			rc = parse_number(f, v, 1000000, &o->max_objects);
		else if (!strcmp(f, "--max-watchers"))
			rc = parse_number(f, v, 200, &o->max_watchers);
		else if (!strcmp(f, "--bookmark-interval"))
			rc = parse_number(f, v, 3600, &o->bookmark_interval);
		else
			rc = -1;
		if (rc < 0)
			return -1;
	}
	return (o->addr[0] && o->cert_file && o->key_file && (o->token_file || o->token)) ? 0 : -1;
}

/* Stores a namespace that exists from the start, like "default". Returns 0 or -1. */
static int precreate_namespace(const char *name)
{
	char uid[37], now[32];
	json_t *ns;

	if (kas_uuid(uid) < 0)
		return -1;
	ns = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
		       "metadata", "name", name, "uid", uid, "creationTimestamp",
		       kas_time_format(time(NULL), now, sizeof(now)), "status", "phase", "Active");
	if (!ns || kas_obj_set_rv(ns, kas_store_next_rv()) < 0) {
		json_decref(ns);
		return -1;
	}
	return kas_store_put("/namespaces", "", name, ns, "ADDED");
}

static int setup_store(const struct options *o)
{
	int rc = -1;

	if (kas_store_init(o->history, o->max_objects, o->max_watchers) < 0)
		return -1;
	kas_store_lock();
	if (kas_registry_init() == 0 && precreate_namespace("default") == 0 && precreate_namespace("kube-system") == 0)
		rc = 0;
	kas_store_unlock();
	return rc;
}

/* Waits for signals: SIGUSR1 compacts, SIGTERM/SIGINT end. A server's life, bounded by them. */
static void serve_signals(sigset_t *set)
{
	for (;;) {
		int sig = 0;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig != SIGUSR1)
			return;
		kas_store_lock();
		kas_store_compact();
		kas_store_unlock();
		kas_log("SIGUSR1: history compacted");
	}
}

int main(int argc, char **argv)
{
	struct options o = { .history = 1000, .max_objects = 10000, .max_watchers = 64, .bookmark_interval = 5 };
	char *cert = NULL, *key = NULL, *token = NULL;
	struct MHD_Daemon *d = NULL;
	sigset_t set;
	int rc = 1;

	if (parse_args(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	/* Blocked before any thread starts, so only sigwait below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	kas_watch_bookmark_interval = (int)o.bookmark_interval;
	cert = read_file(o.cert_file, false);
	key = read_file(o.key_file, false);
	token = o.token ? strdup(o.token) : read_file(o.token_file, true);
	if (!cert || !key || !token || !*token || setup_store(&o) < 0)
		goto cleanup;
	d = kas_http_start(o.addr, o.port, cert, key, token);
	if (!d)
		goto cleanup;
	printf("listening on https://%s:%u\n", o.addr, kas_http_port(d));
	fflush(stdout);
	serve_signals(&set);
	kas_log("shutting down");
	rc = 0;
cleanup:
	kas_store_lock();
	kas_store_stop();
	kas_store_unlock();
	kas_http_stop(d);
	kas_store_lock();
	kas_registry_free();
	kas_store_unlock();
	kas_store_free();
	free(cert);
	free(key);
	free(token);
	return rc;
}
