/* predict: before a live move, how long it will take and whether pre-copy converges, from
 * the guest's measured dirty rate and the bandwidth the move may use. */
#ifndef DROVER_PREDICT_H
#define DROVER_PREDICT_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "crd/types.h"
#include "reconcile/inflight.h"

/* Assumed when the move is not capped: the stream's rate between two hosts (1 Gbit/s). */
#define PRED_DEFAULT_BPS 125000000ULL
/* Passes of pre-copy the model follows before it calls the move non-converging. */
#define PRED_MAX_PASSES 30
/* How long the dirty rate is measured; drover's own sample goes on, a second at a time,
 * up to PRED_MEASURE_MAX_S while the rate is high enough to decide the duration. */
#define PRED_MEASURE_S 1
#define PRED_MEASURE_MAX_S 3
/* A move whose memory takes this long at its bandwidth is measured the longest. */
#define PRED_LONG_MOVE_S 10
/* The fixed part of a move before drover has measured any: the target's QEMU started,
 * libvirt's handshakes, the switch-over. About a second on the only hosts it was measured
 * on (the lab's: 0.77-1.04 s a move, BENCH.md); faster hosts are over-predicted until
 * their first move, which is harmless: the escalation follows whether pre-copy converges,
 * never the duration. */
#define PRED_DEFAULT_FIXED_MS 1000
/* How many of the last moves to a host the fixed part is the median of, and how old
 * (seconds) a move may be to count. */
#define PRED_HISTORY_MOVES 5
#define PRED_HISTORY_S 3600
/* Auto-converge's throttle grows by this much (percent) whenever it is not enough. */
#define PRED_THROTTLE_INCREMENT 20

/* What the model needs: bytes of memory with data (zero pages cost almost nothing),
 * bytes of disks to copy, the guest's dirty rate, the stream's rate, the downtime the
 * final pass may take, the fixed part of a move (pred_fixed_ms) and whether a move that
 * does not converge gets auto-converge from its start (drover's hurry, migrate.h). */
struct pred_input {
	uint64_t memory_bytes, disk_bytes;
	uint64_t dirty_bps, bandwidth_bps;
	uint32_t max_downtime_ms;
	uint64_t fixed_ms;
	bool auto_converge;
};

/* Pre-copy as a geometric series: each pass sends what the last one left dirty, until
 * a pass fits in the downtime; the disks go first at the same rate; the fixed part comes
 * on top. Whether it converges is plain pre-copy's answer; the duration of one that does
 * not is, with auto-converge, that of the throttled passes QEMU then makes (its throttle
 * from pred_throttle_initial, raised by PRED_THROTTLE_INCREMENT at every second period of
 * a second or more that dirtied more than half of what it sent), else up to the pass that
 * no longer shrinks (at most PRED_MAX_PASSES passes). Fills @out. Pure. */
void pred_model(const struct pred_input *in, struct crd_mig_prediction *out);

/* For a move predicted not to converge: the CPU throttle (percent, 20..99) at which the
 * guest dirties no faster than half of @bandwidth_bps, from its @dirty_bps. Pure. */
int pred_throttle_initial(uint64_t dirty_bps, uint64_t bandwidth_bps);

/* ---- the fixed part, learnt from past moves (predict_history.c) ---- */

/* True when Migration @m is a live move that succeeded within PRED_HISTORY_S with its
 * statistics: one pred_fixed_ms learns from. No I/O (it reads the clock). */
bool pred_move_measured(const struct crd_migration *m);

/* Move @m ended: when measured (pred_move_measured), this process learns from it even
 * where the set its passes hold does not show it (`drover apply` keeps one set for all
 * its rounds). Can't fail (out of memory, it is not learnt). Thread-safe. */
void pred_remember(const struct crd_migration *m);

/* Forgets what pred_remember learnt (tests: a process starts with nothing). */
void pred_forget_remembered(void);

/* The fixed part of a live move to host @dst with @beside other moves under way on its
 * hosts (inflight.h): the median of elapsed less transfer (status.statistics) over the
 * last PRED_HISTORY_MOVES measured moves, those recorded in @set (NULL: none) and those
 * remembered. Moves side by side share the hosts' CPUs and network, so moves to @dst with
 * as many beside them (their prediction's concurrent_moves) come first, then those to any
 * host, then moves with any number beside them, to @dst and then to any host;
 * PRED_DEFAULT_FIXED_MS when there are none. No I/O (it reads the clock). Thread-safe. */
uint64_t pred_fixed_ms(const struct crd_set *set, const char *dst, unsigned beside);

/* The bandwidth a move with knobs @k may use, bytes per second. Pure. */
uint64_t pred_bandwidth_bps(const struct crd_knobs *k);

/* Measures the dirty rate of running domain @dom over PRED_MEASURE_S (libvirt's
 * virDomainStartDirtyRateCalc, page sampling, blended with drover's own sample of the
 * guest's pages taken at both ends, memsample.h, by the pages each read; that sample
 * taken again each second up to PRED_MEASURE_MAX_S while the rate is a quarter of
 * @bandwidth_bps or more, where the duration hangs on it, or for a move of
 * PRED_LONG_MOVE_S or more) and the bytes of its memory
 * that hold data (that sample's share of @memory_bytes, at most the process's resident
 * size; the resident size alone where the guest cannot be sampled). Blocks PRED_MEASURE_S
 * to PRED_MEASURE_MAX_S seconds and the sampling. Returns 0, or -1 with @why (no measure:
 * an old QEMU, a domain not running). */
int pred_measure(virDomainPtr dom, uint64_t memory_bytes, uint64_t bandwidth_bps,
		 uint64_t *dirty_bps, uint64_t *touched_bytes, char *why, size_t why_size)
	DROVER_WUR;

/* What a prediction is of: a live move of domain @name from @src to host @dst with knobs
 * @k; @memory_bytes of memory, @disk_bytes of disks to copy; the moves recorded in @set
 * (NULL: none) to learn the fixed part from; the move's own entry among those under way
 * (inflight.h; NULL: as if alone). */
struct pred_move {
	virConnectPtr src;
	const char *name, *dst;
	uint64_t memory_bytes, disk_bytes;
	const struct crd_knobs *k;
	const struct crd_set *set;
	const struct inflight_move *self;
};

/* The prediction for move @mv: its dirty rate measured (pred_measure), then pred_model with
 * the fixed part (pred_fixed_ms) for the moves beside it at the measure's end (moves
 * started together have all entered by then). Blocks as pred_measure does.
 * Returns 0 with @out set, or -1 with @why (and @out unset). */
int pred_estimate(const struct pred_move *mv, struct crd_mig_prediction *out, char *why,
		  size_t why_size) DROVER_WUR;

#endif
