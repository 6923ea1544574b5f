/* predict: before a live move, how long it will take and whether pre-copy converges, from
 * the guest's measured dirty rate and the bandwidth the move may use. */
#ifndef DROVER_PREDICT_H
#define DROVER_PREDICT_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "crd/types.h"

/* Assumed when the move is not capped: the stream's rate between two hosts (1 Gbit/s). */
#define PRED_DEFAULT_BPS 125000000ULL
/* Passes of pre-copy the model follows before it calls the move non-converging. */
#define PRED_MAX_PASSES 30
/* How long the dirty rate is measured. */
#define PRED_MEASURE_S 1

/* What the model needs: bytes of memory with data (zero pages cost almost nothing),
 * bytes of disks to copy, the guest's dirty rate, the stream's rate and the downtime the
 * final pass may take. */
struct pred_input {
	uint64_t memory_bytes, disk_bytes;
	uint64_t dirty_bps, bandwidth_bps;
	uint32_t max_downtime_ms;
};

/* Pre-copy as a geometric series: each pass sends what the last one left dirty, until
 * a pass fits in the downtime; the disks go first at the same rate. Fills @out (its
 * duration capped at PRED_MAX_PASSES passes when it does not converge). Pure. */
void pred_model(const struct pred_input *in, struct crd_mig_prediction *out);

/* The bandwidth a move with knobs @k may use, bytes per second. Pure. */
uint64_t pred_bandwidth_bps(const struct crd_knobs *k);

/* Measures the dirty rate of running domain @dom over PRED_MEASURE_S (libvirt's
 * virDomainStartDirtyRateCalc, page sampling, blended with drover's own sample of the
 * guest's pages taken at both ends, memsample.h, by the pages each read) and the bytes of
 * its memory that hold data (that sample's share of @memory_bytes, at most the process's
 * resident size; the resident size alone where the guest cannot be sampled). Blocks about
 * PRED_MEASURE_S seconds. Returns 0, or -1 with @why (no measure: an old QEMU, a domain not running). */
int pred_measure(virDomainPtr dom, uint64_t memory_bytes, uint64_t *dirty_bps,
		 uint64_t *touched_bytes, char *why, size_t why_size)
	DROVER_WUR;

/* The prediction for a live move of domain @name from @src with knobs @k: its dirty rate
 * measured (pred_measure), then pred_model with @memory_bytes (the guest's memory) and
 * @disk_bytes (disks to copy). Blocks about PRED_MEASURE_S seconds. Returns 0 with @out
 * set, or -1 with @why (and @out unset). */
int pred_estimate(virConnectPtr src, const char *name, uint64_t memory_bytes,
		  uint64_t disk_bytes, const struct crd_knobs *k, struct crd_mig_prediction *out,
		  char *why, size_t why_size) DROVER_WUR;

#endif
