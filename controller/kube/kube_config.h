/* kube_config: where the Kubernetes API is and how to authenticate, from a kubeconfig file
 * or from a pod's service account. */
#ifndef DROVER_KUBE_CONFIG_H
#define DROVER_KUBE_CONFIG_H

#include "crd/compiler.h"

#include <stddef.h>


#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_CFG_FILE_MAX (1u << 20)   /* a kubeconfig, a certificate or a token file */

/* Every string is owned by the config; NULL when not given. PEM "data" fields hold the
 * decoded bytes, NUL-terminated. TLS is always verified: a kubeconfig asking for
 * insecure-skip-tls-verify is refused. */
struct kube_config {
	char *server;             /* "https://host:port", no trailing slash */
	char *ca_file, *ca_data;
	char *token;              /* a fixed bearer token */
	char *token_file;         /* a token read again whenever the file changes (in a pod) */
	char *cert_file, *cert_data;   /* client certificate */
	char *key_file, *key_data;     /* its private key */
	char *namespace;          /* the context's namespace, or the pod's; "default" otherwise */
};

/* Reads @path: its current-context (or @context when not NULL), that context's cluster and
 * user. Relative file paths are taken from the kubeconfig's directory. Returns 0 with @out
 * filled (free with kube_config_free), or -1 with a message in @err (never the token). */
int kube_config_load_file(const char *path, const char *context, struct kube_config *out,
			  char *err, size_t errlen) DROVER_WUR;

/* Like kube_config_load_file for an in-memory kubeconfig; relative paths are taken from
 * @dir (NULL: the working directory). */
int kube_config_load_buffer(const char *buf, size_t len, const char *dir, const char *context,
			    struct kube_config *out, char *err, size_t errlen) DROVER_WUR;

/* The in-cluster configuration: KUBERNETES_SERVICE_HOST and _PORT, and the token, CA and
 * namespace files under @sa_dir (NULL: KUBE_SA_DIR). The token stays a file, read again when
 * it changes. Returns 0 with @out filled, or -1 with a message in @err. */
int kube_config_in_cluster(const char *sa_dir, struct kube_config *out, char *err,
			   size_t errlen) DROVER_WUR;

/* @kubeconfig when given, else the in-cluster configuration when KUBERNETES_SERVICE_HOST is
 * set, else $KUBECONFIG. Returns 0 or -1 as above. */
int kube_config_auto(const char *kubeconfig, struct kube_config *out, char *err,
		     size_t errlen) DROVER_WUR;

/* Copies @src into @dst. Returns 0, or -1 when out of memory (then @dst is zeroed). */
int kube_config_copy(struct kube_config *dst, const struct kube_config *src) DROVER_WUR;

/* Frees the strings (the token is wiped first) and zeroes @c; accepts NULL. */
void kube_config_free(struct kube_config *c);

/* Reads a whole file of at most KUBE_CFG_FILE_MAX bytes. Returns a NUL-terminated buffer the
 * caller frees (with its length in @len when not NULL), or NULL with errno set. */
char *kube_read_file(const char *path, size_t *len) DROVER_WUR;

/* Decodes base64 @in (whitespace ignored). Returns a NUL-terminated buffer the caller frees
 * (length in @len), or NULL when @in is not base64 or out of memory. */
char *kube_base64_decode(const char *in, size_t *len) DROVER_WUR;

#endif
