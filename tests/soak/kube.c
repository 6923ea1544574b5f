/* kube: the Kubernetes side of `make soak SOAK_MODE=kube` — build/kubeapi-server with the
 * project's CRDs, objects applied with the real kubectl, Migrations listed and withdrawn
 * through the API, and the Lease that says which drover leads. */
#include "tests/soak/soak.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "tests/lab/kubeapi_fixture.h"
#include "tests/lab/kubeapi_http.h"

#define TOKEN "soak-kube-token-5e1a9c"
#define NS_PATH "/apis/drover.io/v1alpha1/namespaces/default"
#define LEASE_PATH "/apis/coordination.k8s.io/v1/namespaces/default/leases/drover"

static struct kf server;
static char kubeconfig[160];
static bool up;

int soak_kube_up(void)
{
	if (kh_start(&server, TOKEN, kubeconfig, sizeof(kubeconfig), NULL) < 0 ||
	    kf_apply_crds(kubeconfig) < 0)
		return -1;
	up = true;
	return 0;
}

const char *soak_kube_config(void)
{
	return kubeconfig;
}

int soak_kube_apply(const char *yaml)
{
	return kf_kubectl_apply(&server, kubeconfig, yaml) == 0 ? 0 : -1;
}

int soak_kube_hosts(int n, const char *reserved)
{
	char yaml[16384];

	return kf_hosts_fenced_yaml(n, reserved, yaml, sizeof(yaml)) < 0 ? -1
									  : soak_kube_apply(yaml);
}

/* The Migrations in the API, or NULL. */
static json_t *list_migrations(void)
{
	json_t *list = NULL;

	if (kh_http("GET", NS_PATH "/migrations", NULL, NULL, &list) != 200) {
		json_decref(list);
		return NULL;
	}
	return list;
}

int soak_kube_withdraw(const char *prefix)
{
	json_t *list = list_migrations(), *m;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(list, "items"), i, m) {
		const char *name = kh_str_at(json_object_get(m, "metadata"), "name", NULL);
		char path[512];
		if (!name || strncmp(name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), NS_PATH "/migrations/%s", name);
		long code = kh_http("DELETE", path, NULL, NULL, NULL);
		n += code == 200 || code == 202;
	}
	json_decref(list);
	return n;
}

int soak_kube_migrations(struct soak_migration *out, int max)
{
	json_t *list = list_migrations(), *m;
	size_t i;
	int n = 0;

	if (!list)
		return -1;
	json_array_foreach(json_object_get(list, "items"), i, m) {
		if (n == max)
			break;
		const char *name = kh_str_at(json_object_get(m, "metadata"), "name", NULL);
		const char *phase = kh_str_at(json_object_get(m, "status"), "phase", NULL);
		const char *reason = kh_str_at(json_object_get(m, "status"), "reason", NULL);
		snprintf(out[n].name, sizeof(out[n].name), "%s", name ? name : "");
		snprintf(out[n].phase, sizeof(out[n].phase), "%s", phase ? phase : "");
		snprintf(out[n].reason, sizeof(out[n].reason), "%s", reason ? reason : "");
		n++;
	}
	json_decref(list);
	return n;
}

void soak_kube_leader(char *id, size_t size)
{
	json_t *lease = NULL;
	const char *holder = NULL;

	if (kh_http("GET", LEASE_PATH, NULL, NULL, &lease) == 200)
		holder = kh_str_at(json_object_get(lease, "spec"), "holderIdentity", NULL);
	snprintf(id, size, "%s", holder ? holder : "");
	json_decref(lease);
}

void soak_kube_down(void)
{
	if (up)
		kh_stop(&server);
	up = false;
}
