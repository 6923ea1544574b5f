/* kube_controller: drover over the Kubernetes API — informers for Host, VirtualMachine and
 * Migration feed one work item ("the whole set") to a worker that runs the shared
 * reconciler while this replica holds the Lease; status and events go back through
 * kube_writer. cli_kube.c is its command line (`drover run --kubeconfig`). */
#ifndef DROVER_KUBE_CONTROLLER_H
#define DROVER_KUBE_CONTROLLER_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "controller/kube/kube_http.h"
#include "controller/serve/metrics.h"
#include "controller/loop/reconciler.h"

/* The one work item: the planner works on the whole set. */
#define KUBE_CONTROLLER_KEY "set"
#define KUBE_CONTROLLER_SYNC_TIMEOUT_S 60     /* the first lists must be in by then */
#define KUBE_CONTROLLER_ROUNDS 3              /* converge passes per work item */

struct kube_controller_options {
	const char *namespace;        /* objects of this namespace only; NULL: every namespace */
	const char *lease_namespace;  /* where the Lease "drover" lives */
	const char *identity;         /* this replica; NULL: hostname_pid */
	double lease_duration_s, renew_deadline_s, retry_period_s;
	struct rec_options rec;
	struct metrics *metrics;      /* may be NULL */
};

struct kube_controller;

/* Fills @o with the defaults: every namespace, Lease in "default", 15/10/2 s, rec defaults
 * with KUBE_CONTROLLER_ROUNDS rounds. This function can't fail. */
void kube_controller_options_default(struct kube_controller_options *o);

/* Starts the reconciler, the status writer, the informers (waiting until they are
 * synced, at most KUBE_CONTROLLER_SYNC_TIMEOUT_S) and the leader election; the worker runs
 * while this replica leads. @c must outlive the controller. Returns the controller (stop
 * it with kube_controller_stop, then kube_controller_free), or NULL with a message in @err. */
struct kube_controller *kube_controller_start(struct kube_client *c,
					      const struct kube_controller_options *o, char *err,
					      size_t errlen) DROVER_WUR;

/* True once leadership was lost (not given up on shutdown): the process must stop acting
 * and exit. This function can't fail. */
bool kube_controller_lost(struct kube_controller *k);

/* Stops acting: running migrations are aborted (the VMs stay on their source), the worker
 * ends (waited for at most @worker_wait_s; returns false when it did not, and nothing else
 * is stopped then: the caller should exit at once), the last status is written, the Lease
 * released (unless lost), the informers stopped. */
bool kube_controller_stop(struct kube_controller *k, double worker_wait_s);

/* After kube_controller_stop: the number of actions it left under way for the next leader
 * (rec_handover). When it is not 0 the caller must exit at once, without
 * kube_controller_free. This function can't fail. */
size_t kube_controller_handover(const struct kube_controller *k);

/* Frees the controller after kube_controller_stop; accepts NULL. */
void kube_controller_free(struct kube_controller *k);

#endif
