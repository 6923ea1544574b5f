/* kubeapi_fixture: starts build/kubeapi-server for a test with a generated CA, server
 * certificate and bearer token, in a private temporary directory. */
#include "tests/lab/kubeapi_fixture.h"
#include "controller/kube/kube_config.h"
#include "tests/lab/drover_fixture.h"
#include "tests/lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OPENSSL "/usr/bin/openssl"
#define FIXTURE_PREFIX "/tmp/kubeapi-fixture-"

extern char **environ;

double kf_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kf_path(const struct kf *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

int kf_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	int rc;

	if (!fp)
		return -1;
	rc = fputs(text, fp) < 0 ? -1 : 0;
	return fclose(fp) == 0 ? rc : -1;
}

int kf_run(char *const argv[], char *out, size_t len, int timeout_s)
{
	int fds[2], status = 0;
	size_t used = 0;
	double deadline = kf_now_s() + timeout_s;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(fds[1]);
	while (kf_now_s() < deadline) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		char scratch[4096];
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fds[0], used + 1 < len ? out + used : scratch,
			 used + 1 < len ? len - used - 1 : sizeof(scratch));
		if (n <= 0)
			break;
		if (used + 1 < len)
			used += (size_t)n;
	}
	close(fds[0]);
	if (len)
		out[used < len ? used : len - 1] = '\0';
	if (kf_now_s() >= deadline)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int kf_base64(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	if ((len + 2) / 3 * 4 + 1 > outlen)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

static int make_certs(struct kf *f)
{
	char ca_key[128], srv_key[128], csr[128], crt[128], ext[128], out[4096];
	char *ca[] = { OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
		       "-nodes", "-keyout", ca_key, "-out", f->ca, "-days", "1", "-subj", "/CN=kubeapi-fixture-ca", NULL };
	char *req[] = { OPENSSL, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
			"-keyout", srv_key, "-out", csr, "-subj", "/CN=127.0.0.1", NULL };
	char *sign[] = { OPENSSL, "x509", "-req", "-in", csr, "-CA", f->ca, "-CAkey", ca_key, "-CAcreateserial",
			 "-out", crt, "-days", "1", "-extfile", ext, NULL };

	kf_path(f, "ca.key", ca_key, sizeof(ca_key));
	kf_path(f, "server.key", srv_key, sizeof(srv_key));
	kf_path(f, "server.csr", csr, sizeof(csr));
	kf_path(f, "server.crt", crt, sizeof(crt));
	kf_path(f, "ext.cnf", ext, sizeof(ext));
	if (kf_write_file(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n") < 0)
		return -1;
	if (kf_run(ca, out, sizeof(out), 30) != 0 || kf_run(req, out, sizeof(out), 30) != 0 ||
	    kf_run(sign, out, sizeof(out), 30) != 0) {
		fprintf(stderr, "openssl failed: %s\n", out);
		return -1;
	}
	return 0;
}

/* BUILD/tests/lab/NAME → BUILD/kubeapi-server. */
static int find_server(struct kf *f)
{
	if (lab_build_path("kubeapi-server", f->server_bin, sizeof(f->server_bin)) < 0)
		return -1;
	if (access(f->server_bin, X_OK) < 0) {
		fprintf(stderr, "%s is missing: make %s first\n", f->server_bin, f->server_bin);
		return -1;
	}
	return 0;
}

static int start_server(struct kf *f, const char *token, int history, int bookmark_s)
{
	char crt[128], key[128], out[128], line[256] = "", hist[16], tok[256], bookmark[16];
	char *argv[] = { f->server_bin, "--listen", "127.0.0.1:0", "--tls-cert", crt, "--tls-key", key,
			 "--token-file", f->token_file, "--history", hist, "--bookmark-interval",
			 bookmark, NULL };

	snprintf(bookmark, sizeof(bookmark), "%d", bookmark_s);
	kf_path(f, "server.crt", crt, sizeof(crt));
	kf_path(f, "server.key", key, sizeof(key));
	kf_path(f, "token", f->token_file, sizeof(f->token_file));
	kf_path(f, "server.out", out, sizeof(out));
	kf_path(f, "server.log", f->log, sizeof(f->log));
	snprintf(hist, sizeof(hist), "%d", history);
	snprintf(tok, sizeof(tok), "%s\n", token);
	if (kf_write_file(f->token_file, tok) < 0)
		return -1;
	f->server = fork();
	if (f->server < 0)
		return -1;
	if (f->server == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int l = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || l < 0)
			_exit(127);
		dup2(o, 1);
		dup2(l, 2);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	for (int i = 0; i < 100 && !strstr(line, "listening on "); i++) {
		FILE *fp = fopen(out, "r");

		usleep(50 * 1000);
		if (fp && !fgets(line, sizeof(line), fp))
			line[0] = '\0';
		if (fp)
			fclose(fp);
	}
	if (!strstr(line, "listening on https://"))
		return -1;
	line[strcspn(line, "\n")] = '\0';
	snprintf(f->base, sizeof(f->base), "%s", strstr(line, "https://"));
	f->port = atoi(strrchr(f->base, ':') + 1);
	return 0;
}

int kf_start(struct kf *f, const char *token, int history)
{
	return kf_start_bookmarks(f, token, history, 1);
}

int kf_start_bookmarks(struct kf *f, const char *token, int history, int bookmark_s)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), FIXTURE_PREFIX "XXXXXX");
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		return -1;
	}
	kf_path(f, "ca.crt", f->ca, sizeof(f->ca));
	if (find_server(f) < 0 || make_certs(f) < 0)
		return -1;
	if (start_server(f, token, history, bookmark_s) < 0) {
		fprintf(stderr, "kubeapi-server did not start; its log is in %s/server.log\n", f->dir);
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void kf_stop(struct kf *f)
{
	int status = 0;

	if (f->server > 0) {
		kill(f->server, SIGTERM);
		for (int i = 0; i < 50 && waitpid(f->server, &status, WNOHANG) == 0; i++)
			usleep(100 * 1000);
		if (waitpid(f->server, &status, WNOHANG) == 0) {
			fprintf(stderr, "kubeapi-server ignored SIGTERM for 5 s: killed\n");
			kill(f->server, SIGKILL);
			waitpid(f->server, &status, 0);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "kubeapi-server did not exit cleanly (status %d)\n", status);
		}
		f->server = 0;
	}
	if (getenv("KF_KEEP"))
		fprintf(stderr, "kubeapi fixture kept in %s\n", f->dir);
	else if (f->dir[0] && strncmp(f->dir, FIXTURE_PREFIX, strlen(FIXTURE_PREFIX)) == 0)
		nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	f->dir[0] = '\0';
}

int kf_pruned(const struct kf *f, char *out, size_t len)
{
	FILE *fp = fopen(f->log, "r");
	char line[1024];
	size_t used = 0;
	int n = 0;

	if (len)
		out[0] = '\0';
	if (!fp)
		return -1;
	for (int i = 0; i < 10000000 && fgets(line, sizeof(line), fp); i++) {
		if (!strstr(line, "pruned unknown field"))
			continue;
		n++;
		if (used + strlen(line) < len) {
			memcpy(out + used, line, strlen(line) + 1);
			used += strlen(line);
		}
	}
	fclose(fp);
	return n;
}

char *kf_crd_json(const char *plural, const char *singular, const char *kind)
{
	char *text = malloc(2048);
	int n;

	if (!text)
		return NULL;
	n = snprintf(text, 2048,
		     "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
		     "\"metadata\":{\"name\":\"%s.drover.io\"},\"spec\":{\"group\":\"drover.io\",\"scope\":\"Namespaced\","
		     "\"names\":{\"plural\":\"%s\",\"singular\":\"%s\",\"kind\":\"%s\"},"
		     "\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,\"subresources\":{\"status\":{}},"
		     "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}]}}",
		     plural, plural, singular, kind);
	if (n < 0 || n >= 2048) {
		free(text);
		return NULL;
	}
	return text;
}

int kf_write_kubeconfig(const struct kf *f, const char *token, char *path, size_t len)
{
	char text[2048];

	kf_path(f, "kubeconfig", path, len);
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\n"
		 "clusters:\n- name: lab\n  cluster: {server: \"%s\", certificate-authority: \"%s\"}\n"
		 "users:\n- name: lab\n  user: {token: %s}\n"
		 "contexts:\n- name: lab\n  context: {cluster: lab, user: lab, namespace: default}\n"
		 "current-context: lab\n",
		 f->base, f->ca, token);
	return kf_write_file(path, text);
}

int kf_apply_crds(const char *kubeconfig)
{
	char out[8192];
	char *argv[] = {"/usr/bin/kubectl", "--kubeconfig", (char *)kubeconfig, "apply", "-k",
			"manifests/crds/", NULL};
	int rc = kf_run(argv, out, sizeof(out), 60);

	printf("  $ kubectl apply -k manifests/crds/ (exit %d)\n%s", rc, out);
	return rc == 0 ? 0 : -1;
}

int kf_kubectl(const char *kubeconfig, const char *const args[], char *out, size_t len,
	       int timeout_s)
{
	char *argv[24] = {"/usr/bin/kubectl", "--kubeconfig", (char *)kubeconfig};
	char line[512] = "";
	size_t n = 3, used = 0;
	int rc;

	for (; args[n - 3] && n + 1 < sizeof(argv) / sizeof(argv[0]); n++) {
		argv[n] = (char *)args[n - 3];
		if (used < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used, " %s", argv[n]);
	}
	argv[n] = NULL;
	rc = kf_run(argv, out, len, timeout_s);
	printf("  $ kubectl%s (exit %d)\n%s", line, rc, out);
	return rc;
}

int kf_kubectl_apply(const struct kf *f, const char *kubeconfig, const char *yaml)
{
	char path[200], out[4096];
	const char *args[] = {"apply", "-f", path, NULL};

	kf_path(f, "apply.yaml", path, sizeof(path));
	if (kf_write_file(path, yaml) < 0)
		return -1;
	return kf_kubectl(kubeconfig, args, out, sizeof(out), 60);
}

bool kf_wait_running_on(const char *name, int i, int n_hosts, int max_s)
{
	double deadline = kf_now_s() + max_s;
	char st[64];

	for (int tenth = 0; tenth < max_s * 10 && kf_now_s() < deadline; tenth++) {
		lab_dom_state(i, name, st, sizeof(st));
		if (!strcmp(st, "running") && lab_count_defined(name, n_hosts) == 1 &&
		    lab_count_running(name, n_hosts) == 1)
			return true;
		usleep(100000);
	}
	return false;
}

void kf_print_log_tail(const char *path, size_t kib)
{
	char *text = path[0] ? kube_read_file(path, NULL) : NULL;
	size_t len = text ? strlen(text) : 0;

	if (text)
		printf("---- drover log (last %zu KiB) ----\n%s", kib,
		       len > kib * 1024 ? text + len - kib * 1024 : text);
	free(text);
}

/* Appends lab host @i's Secret and Host to @buf at *@len. Returns 0, or -1. */
static int host_fenced_yaml(int i, const char *reserved, char *buf, size_t size, size_t *len)
{
	char b64[256], password[128];
	struct lab_bmc bmc;
	char *pw = NULL;

	if (lab_bmc(i, &bmc) != 0 || !(pw = kube_read_file(bmc.password_file, NULL)))
		return -1;
	int rc = kf_base64((const unsigned char *)pw, strlen(pw), b64, sizeof(b64));
	free(pw);
	int n = rc < 0 ? -1 : snprintf(buf + *len, size - *len,
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: bmc-%s}\ntype: Opaque\n"
		"data: {password: \"%s\"}\n", lab_host_name(i), b64);
	if (n < 0 || (size_t)n >= size - *len)
		return -1;
	*len += (size_t)n;
	snprintf(password, sizeof(password), "passwordSecretRef: {name: bmc-%s, key: password}",
		 lab_host_name(i));
	return fx_host_fenced_yaml(i, &bmc, reserved, password, buf, size, len);
}

int kf_hosts_fenced_yaml(int n, const char *reserved, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		if (host_fenced_yaml(i, reserved, buf, size, &len) < 0)
			return -1;
	return (int)len;
}
