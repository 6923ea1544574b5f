/* kube_report: what the reconciler reports, turned into writes to the API — status handed
 * to kube_writer, events (MigrationStarted or MigrationTakenOver, Succeeded/Failed,
 * PreCheckFailed, Conflict, RestartRequired, Restarted, DomainDeleted, DomainRetained; for
 * Hosts HostFailed, FencingHeld, FenceFailed, HostFenced) each sent once — the restart
 * requests begun, and metrics. The rec_sink and rec_view callbacks run with the
 * reconciler's lock held: nothing here waits on I/O. */
#ifndef DROVER_KUBE_REPORT_H
#define DROVER_KUBE_REPORT_H

#include "crd/compiler.h"

#include <jansson.h>
#include <pthread.h>

#include "controller/kube/kube_writer.h"
#include "controller/serve/metrics.h"
#include "controller/loop/reconciler.h"
#include "crd/error.h"

#define KUBE_REPORT_REPORTED_MAX 4096     /* events remembered so that one is not sent twice */

struct kube_report {
	struct kube_writer *w;
	struct metrics *metrics;  /* may be NULL */
	pthread_mutex_t lock;     /* guards @reported and @restarts */
	json_t *reported;         /* keys of the events sent (a set) */
	json_t *restarts;         /* "ns/name" → the restart request (annotation) begun */
	json_t *moving;           /* VMs whose MigrationStarted was sent; under the rec lock */
};

/* Sets @r up over writer @w. Returns 0, or -1 when out of memory (free it anyway). */
int kube_report_init(struct kube_report *r, struct kube_writer *w,
		     struct metrics *metrics) DROVER_WUR;

/* Frees what @r holds; accepts a zeroed one. */
void kube_report_free(struct kube_report *r);

/* The reconciler's status sink and progress view, reporting through @r. Can't fail. */
struct rec_sink kube_report_sink(struct kube_report *r);
struct rec_view kube_report_view(struct kube_report *r);

/* Queues event @reason about object @kind @m, once per @once key (NULL: every time).
 * Best effort: a full queue drops it (logged). This function can't fail. */
void kube_report_event(struct kube_report *r, const char *kind, const struct crd_meta *m,
		       const char *reason, const char *type, const char *action, const char *note,
		       const char *once);

/* True when the restart asked for by request @token of VM @ns/@name has begun (its
 * annotation may still show in a cache). Thread-safe; can't fail. */
bool kube_report_restart_taken(struct kube_report *r, const char *ns, const char *name,
			       const char *token);

/* The restart requests begun and not forgotten yet: an object "ns/name" → token, which
 * the caller decrefs (NULL when out of memory). Thread-safe. */
json_t *kube_report_restarts(struct kube_report *r) DROVER_WUR;

/* Forgets request @token of VM @ns/@name (its annotation is gone or replaced). Thread-safe;
 * can't fail. */
void kube_report_restart_forget(struct kube_report *r, const char *ns, const char *name,
				const char *token);

/* Writes Valid=False with @errs into the status of the invalid API object @obj of @res, and
 * sends PreCheckFailed once per generation. This function can't fail. */
void kube_report_invalid(struct kube_report *r, const struct kube_resource *res, const json_t *obj,
		  const struct crd_errors *errs);

#endif
