/* metrics: what drover counts about itself (migrations, reconciles, hosts, VMs), kept in
 * a small thread-safe registry and rendered in the Prometheus text format 0.0.4. */
#ifndef DROVER_METRICS_H
#define DROVER_METRICS_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "crd/types.h"
#include "reconcile/execute.h"


/* Labelled series at the most (hosts, VMs in flight, phases, ...). A series that would
 * pass it is not created and counts in drover_metrics_series_dropped_total. */
#define METRICS_MAX_SERIES 1000
/* Bytes of one label value: a Kubernetes name (DNS subdomain) fits. A longer value is
 * refused (not cut, so two names can never collide) and counts as dropped. */
#define METRICS_LABEL_MAX 253
/* Bytes of one rendering; the caps above keep a real one far below it. */
#define METRICS_RENDER_MAX (4u << 20)

/* The registry. Every function below may be called from any thread. */
struct metrics;

/* A registry with the fixed series at zero (migrations by final phase, running,
 * reconcile errors). Returns NULL when out of memory. The caller frees it with
 * metrics_free. */
struct metrics *metrics_new(void) DROVER_WUR;

/* Releases @m; accepts NULL. */
void metrics_free(struct metrics *m);

/* One update of the move of VM @ns/@vm (called on every progress sample and phase
 * change). While it runs: the per-VM gauges (data processed/remaining, dirty rate,
 * transfer rate, percent). When it ends (Succeeded, Failed, Cancelled): the counter of
 * its final phase and that of its host pair (source, target, phase), its duration (from start_time to end_time, when both parse), the
 * downtime of a live move that succeeded (when known), and its per-VM series are
 * removed. Other phases are ignored. This function can't fail (what does not fit is
 * counted as dropped). */
void metrics_on_move(struct metrics *m, const char *ns, const char *vm,
		     const struct exec_move *mv);

/* One reconcile pass: its duration, and whether it failed. This function can't fail. */
void metrics_on_reconcile(struct metrics *m, double seconds, bool error);

/* One host's failover ended: @seconds from detection (its first failed probe) to the last
 * of its VMs running elsewhere (drover_failover_seconds). This function can't fail. */
void metrics_on_failover(struct metrics *m, double seconds);

/* Whether host @host is reachable (drover_host_reachable 1 or 0). This function can't
 * fail (what does not fit is counted as dropped). */
void metrics_set_host(struct metrics *m, const char *host, bool reachable);

/* Host @host's failure state from its status: drover_host_failed, drover_host_failures_total
 * when it becomes Failed, drover_fence_operations_total{result} when @fence_time
 * (status.fencing.time, may be NULL) is one not seen before. This function can't fail. */
void metrics_set_host_failure(struct metrics *m, const char *host, bool failed,
			      const char *fence_time, const char *fence_result);

/* Whether directory mode's manifests load (drover_manifests_valid). This function can't
 * fail. */
void metrics_set_manifests_valid(struct metrics *m, bool valid);

/* The number of VMs in each phase, counted from the status of @vms[0..n): every
 * phase gets a series, 0 included, so a phase that empties reads 0. This function
 * can't fail. */
void metrics_set_vm_phases(struct metrics *m, const struct crd_vm *vms, size_t n);

/* The number of domains drover owns that no VM declares any more (directory mode), as
 * drover_vms{phase="Orphaned"}: they have no object of their own, so they are counted from
 * the orphans a pass found. This function can't fail. */
void metrics_set_orphans(struct metrics *m, size_t n);

/* Renders every series in the Prometheus text format 0.0.4. Returns a NUL-terminated
 * string of @len bytes (@len may be NULL) that the caller frees, or NULL when out of
 * memory or over METRICS_RENDER_MAX. */
char *metrics_render(struct metrics *m, size_t *len) DROVER_WUR;

#endif
