/* kube_report: what the reconciler reports, turned into writes to the API — status handed
 * to kube_writer, events (MigrationStarted or MigrationTakenOver, Succeeded/Failed,
 * PreCheckFailed, Conflict) each sent once — and into metrics. The rec_sink and rec_view callbacks run with the
 * reconciler's lock held: nothing here waits on I/O. */
#ifndef DROVER_KUBE_REPORT_H
#define DROVER_KUBE_REPORT_H

#include <jansson.h>
#include <pthread.h>

#include "controller/kube/kube_writer.h"
#include "controller/serve/metrics.h"
#include "controller/loop/reconciler.h"
#include "crd/error.h"

#define KREP_REPORTED_MAX 4096     /* events remembered so that one is not sent twice */

struct krep {
	struct kwr *w;
	struct metrics *metrics;  /* may be NULL */
	pthread_mutex_t lock;     /* guards @reported */
	json_t *reported;         /* keys of the events sent (a set) */
	json_t *moving;           /* VMs whose MigrationStarted was sent; under the rec lock */
};

/* Sets @r up over writer @w. Returns 0, or -1 when out of memory (free it anyway). */
int krep_init(struct krep *r, struct kwr *w, struct metrics *metrics) KUBE_WUR;

/* Frees what @r holds; accepts a zeroed one. */
void krep_free(struct krep *r);

/* The reconciler's status sink and progress view, reporting through @r. Can't fail. */
struct rec_sink krep_sink(struct krep *r);
struct rec_view krep_view(struct krep *r);

/* Queues event @reason about object @kind @m, once per @once key (NULL: every time).
 * Best effort: a full queue drops it (logged). This function can't fail. */
void krep_event(struct krep *r, const char *kind, const struct crd_meta *m, const char *reason,
		const char *type, const char *action, const char *note, const char *once);

/* Writes Valid=False with @errs into the status of the invalid API object @obj of @res, and
 * sends PreCheckFailed once per generation. This function can't fail. */
void krep_invalid(struct krep *r, const struct kube_resource *res, const json_t *obj,
		  const struct crd_errors *errs);

#endif
