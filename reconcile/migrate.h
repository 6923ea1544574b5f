/* migrate: one live migration with libvirt, watched by a monitor that samples the
 * job, enforces the timeouts and escalates a migration that does not converge — one
 * drover starts, or one an earlier drover left running. */
#ifndef DROVER_MIGRATE_H
#define DROVER_MIGRATE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "crd/types.h"

/* Called about once a second while the migration runs, from the calling thread. */
typedef void (*mig_progress_fn)(void *opaque, const struct crd_mig_progress *p,
				enum crd_mig_run_mode mode, const char *note);

/* Set by another thread to abort a running migration (a cancel). A flag may have a
 * parent (e.g. one per migration under one for the whole controller): either aborts. */
struct mig_cancel {
	volatile int requested;
	const struct mig_cancel *parent;
};

/* True when @c or one of its parents asks for an abort; false for NULL. Can't fail. */
bool mig_cancel_requested(const struct mig_cancel *c);

struct mig_request {
	virConnectPtr src, dst;
	const char *dst_uri;            /* libvirt URI of the target (peer-to-peer) */
	const char *dst_address;        /* migrationAddress: the data stream goes to tcp://ADDRESS */
	const char *domain;             /* domain name on the source */
	bool copy_storage;              /* local disks: mirror them into the target's pool */
	bool shared_unsafe;             /* shared disks libvirt cannot recognise as shared */
	uint64_t memory_bytes;          /* for the completion deadline */
	uint64_t disk_bytes;            /* copied disk bytes, for the completion deadline */
	struct crd_knobs knobs;
	/* Predicted not to converge (@dirty_bps: the guest's measured dirty rate): the move
	 * starts with the escalation it will need — auto-converge throttling from a level that
	 * matches the rate, or post-copy after the first pass when allowed. */
	bool hurry;
	uint64_t dirty_bps;
	mig_progress_fn progress;
	void *opaque;
	struct mig_cancel *cancel;      /* may be NULL */
};

enum mig_outcome {
	MIG_OK = 0,
	MIG_FAILED,          /* libvirt refused or the job failed; the VM is on the source */
	MIG_TIMED_OUT,       /* did not converge and was aborted; the VM is on the source */
	MIG_CANCELLED,       /* aborted on request; the VM is on the source */
	MIG_POSTCOPY_FAILED, /* failed after the switch to post-copy: the VM is paused */
	MIG_UNSETTLED,       /* a job taken over ended, but where the VM runs is not sure */
};

struct mig_result {
	enum mig_outcome outcome;
	enum crd_mig_run_mode final_mode;   /* PreCopy or PostCopy */
	struct crd_mig_progress progress;   /* last sample */
	int64_t downtime_ms;                /* -1 when libvirt did not report it */
	struct crd_mig_statistics statistics; /* of a move that succeeded, when reported */
	double seconds;
	char reason[512];                   /* why it failed, or what escalations were used */
};

/* Runs the migration to completion (or abort) and fills @res. The source definition is
 * removed by libvirt only after the target has taken over (VIR_MIGRATE_UNDEFINE_SOURCE,
 * which libvirt applies in its Confirm phase, after the target's Finish succeeded).
 * Returns 0 when the VM now runs on the target, -1 otherwise (@res says why). */
int mig_live(const struct mig_request *req, struct mig_result *res)
	DROVER_WUR;

/* Takes over the outgoing migration of @req->domain that runs in @req->src's libvirtd
 * without a monitor (drover stopped while it ran: peer-to-peer, libvirtd goes on) and
 * watches it to its end like mig_live: same samples, progress calls, ladder, timeouts and
 * cancel, and VIR_DOMAIN_ABORT_JOB to abort. @req's knobs must be those the job started
 * with: post-copy is tried only when they allow it (libvirt refuses it to a job started
 * without VIR_MIGRATE_POSTCOPY, and the ladder then aborts); auto-converge cannot be added
 * to a running job. @running_s is how long the job has run already, from its record (0:
 * unknown): the completion deadline counts from its start. A job that is not an outgoing
 * migration is left alone. The job has ended when there is none on the source or the
 * domain no longer runs there.
 * Returns 0 when the VM now runs on the target (gone from the source, running on the
 * target), -1 otherwise (@res says why; MIG_UNSETTLED when it is not sure where). */
int mig_watch(const struct mig_request *req, double running_s, struct mig_result *res)
	DROVER_WUR;

/* The completion deadline in seconds for the request's data (memory and copied disks):
 * completionTimeoutPerGiBSeconds × GiB, at least MIG_MIN_DEADLINE_S; 0 = none. Pure. */
double mig_deadline_s(const struct crd_knobs *k, uint64_t bytes);
#define MIG_MIN_DEADLINE_S 30.0

/* Percent of @total that @done is, within 0..100 (0 when @total is 0): progress records
 * must stay decodable when a copy moves more than it counted on. Can't fail. */
int32_t mig_percent(uint64_t done, uint64_t total);

/* The escalation ladder. Pure, so it is unit-tested without a hypervisor. */
enum mig_step { MIG_STEP_DOWNTIME, MIG_STEP_POSTCOPY, MIG_STEP_ABORT };
struct mig_ladder {
	int downtime_raises;     /* raises done so far */
	bool postcopy_started;
};
#define MIG_DOWNTIME_RAISES 3
#define MIG_DOWNTIME_CAP_MS 5000
/* What to do on the next stall: raise the downtime (to *@downtime_ms), switch to
 * post-copy, or abort. Updates @l. This function can't fail. */
enum mig_step mig_next_step(struct mig_ladder *l, const struct crd_knobs *k,
			    uint32_t *downtime_ms);
/* Moves @l past the downtime raises a job taken over has had already: those up to its
 * maximum downtime now, @downtime_ms. This function can't fail. */
void mig_ladder_resume(struct mig_ladder *l, const struct crd_knobs *k, uint64_t downtime_ms);

#endif
