/* execute: carry out one planned action on the hosts, with libvirt. */
#ifndef DROVER_EXECUTE_H
#define DROVER_EXECUTE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "crd/types.h"
#include "reconcile/migrate.h"
#include "reconcile/plan.h"
#include "reconcile/plan_orphan.h"

/* The record of one move as it goes, in fixed buffers so it can be copied freely
 * between threads; the controller turns it into Migration status. */
struct exec_move {
	enum crd_mig_phase phase;
	enum crd_mig_run_mode mode;
	char source[64], target[64];
	char start_time[32], end_time[32];
	struct crd_mig_prediction prediction; /* made before a live move starts */
	struct crd_mig_progress progress;
	int64_t downtime_ms;              /* -1 when unknown */
	struct crd_mig_statistics statistics; /* a live move's, once it succeeded */
	char note[512];                   /* failure reason, or the escalations used */
};

/* Called from the thread running the action whenever a move's record changes
 * (phase changes, progress samples). Must be thread-safe. */
typedef void (*exec_move_fn)(void *opaque, const struct plan_action *a,
			     const struct exec_move *m);

struct exec_ctx {
	const struct crd_set *desired;
	double stop_timeout_s;            /* graceful shutdown wait before a forced stop */
	exec_move_fn on_move;             /* may be NULL */
	void *opaque;
	struct mig_cancel *cancel;        /* may be NULL */
};

/* Connections an action needs, taken from the pool by the caller's thread before
 * the action runs (so actions in several threads never touch the pool). */
struct exec_conns {
	virConnectPtr src, dst;
	const struct crd_host *src_host, *dst_host;
};

/* Carries out @a. Returns 0 when it was done, -1 with @why (NUL-terminated) when
 * not; a failed action leaves the VM where it was, running as it was. Actions that
 * change nothing (NONE, BLOCKED, WAIT, FINISH_MIGRATION) return 0 at once. */
int exec_action(const struct exec_ctx *ctx, const struct plan_action *a,
		const struct exec_conns *conns, struct exec_move *move, char *why,
		size_t why_size) DROVER_WUR;

/* Stops (when running) and undefines orphan @o on @conn, its host, after checking it is
 * still drover's domain of the same VM with no job on it; its disks are kept. A domain
 * gone already counts as done. Returns 0, or -1 with @why. */
int exec_prune(const struct exec_ctx *ctx, virConnectPtr conn, const struct plan_orphan *o,
	       char *why, size_t why_size) DROVER_WUR;

/* True for the kinds that move a VM: the three migrations, and a migration taken over
 * (WATCH_MIGRATION). This function can't fail. */
bool exec_is_move(enum plan_kind k);

#endif
