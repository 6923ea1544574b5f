/* kube_lease: leader election with a coordination.k8s.io/v1 Lease, so that one drover
 * replica of several acts. Updates carry the resourceVersion: when two candidates race,
 * the API server's 409 picks one. */
#ifndef DROVER_KUBE_LEASE_H
#define DROVER_KUBE_LEASE_H

#include "crd/compiler.h"

#include <stdbool.h>

#include "controller/kube/kube_http.h"

#define KUBE_LEASE_IDENTITY_MAX 128

struct kube_lease_options {
	const char *namespace;    /* default: the client's namespace */
	const char *name;         /* default "drover" */
	const char *identity;     /* default "<hostname>_<pid>" */
	double lease_duration_s;  /* how long a lease holds without renewal (default 15) */
	double renew_deadline_s;  /* a leader that could not renew for this long stops leading (default 10) */
	double retry_period_s;    /* between attempts (default 2) */
	/* Called from the election thread. started: this replica leads now. stopped: it does
	 * not any more (lost, or shutdown) — stop acting at once. Either may be NULL. */
	void (*started_leading)(void *opaque);
	void (*stopped_leading)(void *opaque);
	void *opaque;
};

struct kube_lease;

/* Defaults as documented on the struct. This function can't fail. */
void kube_lease_options_default(struct kube_lease_options *o);

/* Starts the election thread. Returns 0 with *@out set, or -1 when the options are
 * inconsistent (renew deadline not below the lease duration, retry not below the
 * deadline), out of memory, or the thread cannot start. The client must outlive it. */
int kube_lease_start(struct kube_client *c, const struct kube_lease_options *o,
		     struct kube_lease **out) DROVER_WUR;

/* True while this replica leads. This function can't fail. */
bool kube_lease_is_leader(struct kube_lease *l);

/* The identity this candidate uses. Owned by @l. */
const char *kube_lease_identity(const struct kube_lease *l);

/* Stops the election thread. When leading, stopped_leading is called and, with @release,
 * the lease is given up (holder cleared) so another replica takes over at once; without it
 * the lease simply expires (what a crash looks like). Accepts NULL and a second call. */
void kube_lease_stop(struct kube_lease *l, bool release);

/* Stops (releasing) and frees; accepts NULL. */
void kube_lease_free(struct kube_lease *l);

#endif
