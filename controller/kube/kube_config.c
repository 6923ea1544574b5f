/* kube_config: where the Kubernetes API is and how to authenticate, from a kubeconfig file
 * or from a pod's service account. */
#include "controller/kube/kube_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crd/error.h"
#include "crd/node.h"

char *kube_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	buf = malloc(KUBE_CFG_FILE_MAX + 1);
	if (!buf)
		goto cleanup;
	n = fread(buf, 1, KUBE_CFG_FILE_MAX + 1, f);
	if (ferror(f) || n > KUBE_CFG_FILE_MAX) {
		free(buf);
		buf = NULL;
		errno = ferror(f) ? EIO : EFBIG;
		goto cleanup;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
cleanup:
	fclose(f);
	return buf;
}

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

char *kube_base64_decode(const char *in, size_t *len)
{
	size_t cap = strlen(in) / 4 * 3 + 4, n = 0;
	char *out = malloc(cap);
	unsigned acc = 0;
	int bits = 0;
	bool pad = false;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int v;

		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad = true;
			continue;
		}
		v = b64_value(*p);
		if (v < 0 || pad) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	if (len)
		*len = n;
	return out;
}

void kube_config_free(struct kube_config *c)
{
	if (!c)
		return;
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	if (c->key_data)
		explicit_bzero(c->key_data, strlen(c->key_data));
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->cert_data);
	free(c->key_file);
	free(c->key_data);
	free(c->namespace);
	memset(c, 0, sizeof(*c));
}

static int dup_field(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

int kube_config_copy(struct kube_config *dst, const struct kube_config *src)
{
	memset(dst, 0, sizeof(*dst));
	if (dup_field(&dst->server, src->server) < 0 || dup_field(&dst->ca_file, src->ca_file) < 0 ||
	    dup_field(&dst->ca_data, src->ca_data) < 0 || dup_field(&dst->token, src->token) < 0 ||
	    dup_field(&dst->token_file, src->token_file) < 0 ||
	    dup_field(&dst->cert_file, src->cert_file) < 0 ||
	    dup_field(&dst->cert_data, src->cert_data) < 0 ||
	    dup_field(&dst->key_file, src->key_file) < 0 ||
	    dup_field(&dst->key_data, src->key_data) < 0 ||
	    dup_field(&dst->namespace, src->namespace) < 0) {
		kube_config_free(dst);
		return -1;
	}
	return 0;
}

/* ---- kubeconfig ---- */

struct first_doc {
	struct crd_node *root;
};

static int take_first(void *ctx, struct crd_node *root, int line, int col)
{
	struct first_doc *d = ctx;

	(void)line;
	(void)col;
	if (d->root) {
		crd_node_free(root);
		return 0;
	}
	d->root = root;
	return 0;
}

/* The scalar text of member @key of map @n, or NULL. */
static const char *text_of(const struct crd_node *n, const char *key)
{
	const struct crd_node *v = crd_node_get(n, key);

	return v && v->kind != CRD_NODE_MAP && v->kind != CRD_NODE_SEQ ? v->text : NULL;
}

/* The @inner map of the entry named @name in list @list ("clusters", "cluster"), or NULL. */
static const struct crd_node *named_entry(const struct crd_node *root, const char *list,
					  const char *name, const char *inner)
{
	const struct crd_node *seq = crd_node_get(root, list);

	if (!seq || seq->kind != CRD_NODE_SEQ || !name)
		return NULL;
	for (size_t i = 0; i < seq->n_kids; i++) {
		const char *n = text_of(seq->kids[i], "name");

		if (n && !strcmp(n, name))
			return crd_node_get(seq->kids[i], inner);
	}
	return NULL;
}

/* A file path from the kubeconfig, made absolute against @dir. Returns a string the caller
 * frees, or NULL when out of memory or too long. */
static char *resolve_path(const char *dir, const char *p)
{
	size_t nd, np;
	char *out;

	if (p[0] == '/' || !dir || !*dir)
		return strdup(p);
	nd = strlen(dir);
	np = strlen(p);
	if (nd + np + 2 > 4096)
		return NULL;
	out = malloc(nd + np + 2);
	if (!out)
		return NULL;
	memcpy(out, dir, nd);
	out[nd] = '/';
	memcpy(out + nd + 1, p, np + 1);
	return out;
}

/* Sets *@file or *@data from the "NAME" / "NAME-data" pair of map @m. Returns 0, or -1
 * with @err set. */
static int file_or_data(const struct crd_node *m, const char *name, const char *dir, char **file,
			char **data, char *err, size_t errlen)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "%s-data", name);
	v = text_of(m, key);
	if (v && *v) {
		*data = kube_base64_decode(v, NULL);
		if (!*data) {
			snprintf(err, errlen, "kubeconfig: %s is not base64", key);
			return -1;
		}
		return 0;
	}
	v = text_of(m, name);
	if (v && *v) {
		*file = resolve_path(dir, v);
		if (!*file) {
			snprintf(err, errlen, "kubeconfig: %s: path too long", name);
			return -1;
		}
	}
	return 0;
}

static int fill_from_kubeconfig(const struct crd_node *root, const char *dir, const char *context,
				struct kube_config *out, char *err, size_t errlen)
{
	const char *ctx_name = context ? context : text_of(root, "current-context");
	const struct crd_node *ctx, *cluster, *user;
	const char *v;

	if (!ctx_name || !*ctx_name) {
		snprintf(err, errlen, "kubeconfig: no current-context");
		return -1;
	}
	ctx = named_entry(root, "contexts", ctx_name, "context");
	if (!ctx) {
		snprintf(err, errlen, "kubeconfig: context \"%.64s\" not found", ctx_name);
		return -1;
	}
	cluster = named_entry(root, "clusters", text_of(ctx, "cluster"), "cluster");
	if (!cluster || !text_of(cluster, "server")) {
		snprintf(err, errlen, "kubeconfig: context \"%.64s\": cluster or its server not found", ctx_name);
		return -1;
	}
	v = text_of(cluster, "insecure-skip-tls-verify");
	if (v && !strcmp(v, "true")) {
		snprintf(err, errlen, "kubeconfig: insecure-skip-tls-verify is refused: TLS is always verified");
		return -1;
	}
	out->server = strdup(text_of(cluster, "server"));
	if (!out->server)
		goto oom;
	while (strlen(out->server) > 0 && out->server[strlen(out->server) - 1] == '/')
		out->server[strlen(out->server) - 1] = '\0';
	if (strncmp(out->server, "https://", 8) != 0) {
		snprintf(err, errlen, "kubeconfig: server must be https://");
		return -1;
	}
	if (file_or_data(cluster, "certificate-authority", dir, &out->ca_file, &out->ca_data, err, errlen) < 0)
		return -1;
	v = text_of(ctx, "namespace");
	out->namespace = strdup(v && *v ? v : "default");
	if (!out->namespace)
		goto oom;
	user = named_entry(root, "users", text_of(ctx, "user"), "user");
	if (!user)
		return 0;   /* anonymous: the server answers 401, which the caller reports */
	if (crd_node_get(user, "exec") || crd_node_get(user, "auth-provider")) {
		snprintf(err, errlen, "kubeconfig: exec and auth-provider users are not supported");
		return -1;
	}
	v = text_of(user, "token");
	if (v && *v && !(out->token = strdup(v)))
		goto oom;
	v = text_of(user, "tokenFile");
	if (v && *v && !(out->token_file = resolve_path(dir, v)))
		goto oom;
	if (file_or_data(user, "client-certificate", dir, &out->cert_file, &out->cert_data, err, errlen) < 0 ||
	    file_or_data(user, "client-key", dir, &out->key_file, &out->key_data, err, errlen) < 0)
		return -1;
	if (!(out->cert_file || out->cert_data) != !(out->key_file || out->key_data)) {
		snprintf(err, errlen, "kubeconfig: a client certificate needs its key and the other way round");
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "kubeconfig: out of memory");
	return -1;
}

int kube_config_load_buffer(const char *buf, size_t len, const char *dir, const char *context,
			    struct kube_config *out, char *err, size_t errlen)
{
	struct crd_errors errs = {0};
	struct first_doc doc = {0};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (crd_yaml_parse("kubeconfig", buf, len, take_first, &doc, &errs) < 0 || !doc.root) {
		if (errs.n)
			crd_error_format(&errs.items[0], err, errlen);
		else
			snprintf(err, errlen, "kubeconfig: empty");
		goto cleanup;
	}
	if (doc.root->kind != CRD_NODE_MAP) {
		snprintf(err, errlen, "kubeconfig: not a map");
		goto cleanup;
	}
	rc = fill_from_kubeconfig(doc.root, dir, context, out, err, errlen);
cleanup:
	if (rc < 0)
		kube_config_free(out);
	crd_node_free(doc.root);
	crd_errors_free(&errs);
	return rc;
}

int kube_config_load_file(const char *path, const char *context, struct kube_config *out,
			  char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = kube_read_file(path, &len);
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int rc;

	memset(out, 0, sizeof(*out));
	if (!buf) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		dir[0] = '\0';
	if (slash && slash == path)
		snprintf(dir, sizeof(dir), "/");
	rc = kube_config_load_buffer(buf, len, dir, context, out, err, errlen);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* ---- in a pod ---- */

int kube_config_in_cluster(const char *sa_dir, struct kube_config *out, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[4200];
	size_t n = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!sa_dir)
		sa_dir = KUBE_SA_DIR;
	if (!host || !*host || !port || !*port) {
		snprintf(err, errlen, "not in a pod: KUBERNETES_SERVICE_HOST/PORT are not set");
		return -1;
	}
	n = strlen(host) + strlen(port) + 16;
	if (n > 512 || !(out->server = malloc(n)))
		goto oom;
	/* An IPv6 service address needs brackets in a URL. */
	snprintf(out->server, n, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	if (access(path, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	if (!(out->token_file = strdup(path)))
		goto oom;
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	if (!(out->ca_file = strdup(path)))
		goto oom;
	snprintf(path, sizeof(path), "%s/namespace", sa_dir);
	out->namespace = kube_read_file(path, NULL);
	if (out->namespace)
		out->namespace[strcspn(out->namespace, " \r\n\t")] = '\0';
	if ((!out->namespace || !*out->namespace) && (free(out->namespace), !(out->namespace = strdup("default"))))
		goto oom;
	rc = 0;
	goto cleanup;
oom:
	snprintf(err, errlen, "in-cluster config: out of memory");
cleanup:
	if (rc < 0)
		kube_config_free(out);
	return rc;
}

int kube_config_auto(const char *kubeconfig, struct kube_config *out, char *err, size_t errlen)
{
	const char *env = getenv("KUBECONFIG");

	if (kubeconfig)
		return kube_config_load_file(kubeconfig, NULL, out, err, errlen);
	if (getenv("KUBERNETES_SERVICE_HOST"))
		return kube_config_in_cluster(NULL, out, err, errlen);
	if (env && *env && !strchr(env, ':'))
		return kube_config_load_file(env, NULL, out, err, errlen);
	memset(out, 0, sizeof(*out));
	snprintf(err, errlen, "no Kubernetes configuration: give --kubeconfig, set KUBECONFIG, or run in a pod");
	return -1;
}
