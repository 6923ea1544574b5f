/* migrate: one live migration with libvirt, watched by a monitor that samples the
 * job, enforces the timeouts and escalates a migration that does not converge.
 *
 * Escalation: auto-converge (when allowed) is requested when the migration starts,
 * because libvirt cannot switch it on later; QEMU only throttles the guest once it
 * sees the copy is not converging, so it acts as a step of its own. The monitor
 * then, on each stall (no new low of remaining data for a stall window), raises the
 * maximum downtime (x2, x4, x8, capped), then switches to post-copy when allowed,
 * and otherwise aborts. The completion deadline and the progress timeout jump
 * straight to post-copy (when allowed) or abort.
 *
 * The same monitor watches a migration drover started itself (mig_live: the call runs
 * in a thread of its own) or one it takes over (mig_watch: the job an earlier drover
 * left running in the source's libvirtd, peer-to-peer, when it stopped). */
#include "reconcile/migrate.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "reconcile/clk.h"
#include "reconcile/fault.h"
#include "reconcile/predict.h"

#define MIG_SAMPLE_S 0.5
#define MIG_STALL_MIN_S 2.0
#define MIG_STALL_MAX_S 30.0
/* After an abort, how long to wait for libvirt to finish the job before giving up. */
#define MIG_ABORT_WAIT_S 60.0
/* After a job taken over ends, how long libvirt may take to remove the source's definition
 * (it does so just after the job, once the target took over). */
#define MIG_SETTLE_WAIT_S 10.0

bool mig_cancel_requested(const struct mig_cancel *c)
{
	for (int depth = 0; c && depth < 8; c = c->parent, depth++)
		if (__atomic_load_n(&c->requested, __ATOMIC_SEQ_CST))
			return true;
	return false;
}

double mig_deadline_s(const struct crd_knobs *k, uint64_t bytes)
{
	if (!k->completion_timeout_per_gib_s)
		return 0;
	double s = k->completion_timeout_per_gib_s * ((double)bytes / (1ULL << 30));
	return s < MIG_MIN_DEADLINE_S ? MIG_MIN_DEADLINE_S : s;
}

enum mig_step mig_next_step(struct mig_ladder *l, const struct crd_knobs *k,
			    uint32_t *downtime_ms)
{
	if (l->downtime_raises < MIG_DOWNTIME_RAISES) {
		uint64_t ms = (uint64_t)(k->max_downtime_ms ? k->max_downtime_ms : 300)
			      << ++l->downtime_raises;
		*downtime_ms = ms > MIG_DOWNTIME_CAP_MS ? MIG_DOWNTIME_CAP_MS : (uint32_t)ms;
		return MIG_STEP_DOWNTIME;
	}
	if (k->allow_post_copy && !l->postcopy_started) {
		l->postcopy_started = true;
		return MIG_STEP_POSTCOPY;
	}
	return MIG_STEP_ABORT;
}

void mig_ladder_resume(struct mig_ladder *l, const struct crd_knobs *k, uint64_t downtime_ms)
{
	for (;;) {
		struct mig_ladder next = *l;
		uint32_t ms = 0;
		if (mig_next_step(&next, k, &ms) != MIG_STEP_DOWNTIME || ms > downtime_ms)
			return;
		*l = next;
	}
}

/* The migration call itself, made in a thread of its own because it blocks. Shared
 * by the monitor and the thread; whoever lets go last frees it, so a job libvirt
 * never ends cannot make the thread touch freed memory. */
struct mig_call {
	virConnectPtr src;
	char *domain, *dst_uri;
	unsigned long flags;
	virTypedParameterPtr params;
	int nparams;
	pthread_mutex_t lock;
	pthread_cond_t ended; /* signalled when done becomes true */
	int refs;
	bool done;
	int rc;
	char error[384];
};

static void call_unref(struct mig_call *call)
{
	pthread_mutex_lock(&call->lock);
	int left = --call->refs;
	pthread_mutex_unlock(&call->lock);
	if (left)
		return;
	virTypedParamsFree(call->params, call->nparams);
	if (call->src)
		virConnectClose(call->src);
	free(call->domain);
	free(call->dst_uri);
	pthread_cond_destroy(&call->ended);
	pthread_mutex_destroy(&call->lock);
	free(call);
}

/* A call for @req with one reference, or NULL when out of memory. */
static struct mig_call *call_new(const struct mig_request *req)
{
	struct mig_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	pthread_mutex_init(&call->lock, NULL);
	pthread_cond_init(&call->ended, NULL);
	call->refs = 1;
	call->rc = -1;
	call->domain = strdup(req->domain);
	call->dst_uri = strdup(req->dst_uri);
	/* Its own reference on the connection: the thread may outlive the caller's. */
	if (virConnectRef(req->src) == 0)
		call->src = req->src;
	if (!call->domain || !call->dst_uri || !call->src) {
		call_unref(call);
		return NULL;
	}
	return call;
}

static void *call_thread(void *arg)
{
	struct mig_call *call = arg;
	virDomainPtr dom = virDomainLookupByName(call->src, call->domain);
	int rc = dom ? virDomainMigrateToURI3(dom, call->dst_uri, call->params,
					      (unsigned)call->nparams, call->flags)
		     : -1;

	pthread_mutex_lock(&call->lock);
	call->rc = rc;
	if (rc < 0)
		snprintf(call->error, sizeof(call->error), "%s", virGetLastErrorMessage());
	call->done = true;
	pthread_cond_broadcast(&call->ended);
	pthread_mutex_unlock(&call->lock);
	if (dom)
		virDomainFree(dom);
	call_unref(call);
	return NULL;
}

/* Waits up to @seconds for the call to end; returns whether it has. Waking on the
 * end itself, not on the next sample, keeps a finished migration from waiting out a
 * sampling interval before drover moves on. */
static bool call_wait(struct mig_call *call, double seconds)
{
	struct timespec until = clk_realtime_after(seconds);

	pthread_mutex_lock(&call->lock);
	while (!call->done && pthread_cond_timedwait(&call->ended, &call->lock, &until) == 0)
		;
	bool done = call->done;
	pthread_mutex_unlock(&call->lock);
	return done;
}

static bool call_done(struct mig_call *call)
{
	return call_wait(call, 0);
}

/* Migration flags and typed parameters from the request. Returns 0, or -1 when out
 * of memory. */
static int build_params(struct mig_call *call, const struct mig_request *req, char *uri,
			size_t uri_size)
{
	const struct crd_knobs *k = &req->knobs;
	int max = 0;

	/* PEER2PEER: the source daemon drives the migration, so it survives drover
	 * going away mid-way and is not tied to drover's connection to the target. */
	call->flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
		      VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_ABORT_ON_ERROR;
	if (req->copy_storage)
		call->flags |= VIR_MIGRATE_NON_SHARED_DISK;
	if (req->shared_unsafe)
		call->flags |= VIR_MIGRATE_UNSAFE;
	if (k->allow_auto_converge)
		call->flags |= VIR_MIGRATE_AUTO_CONVERGE;
	/* Predicted not to converge: throttle from the level the guest will need, not from
	 * QEMU's 20 % raised 10 % at a time while the copy falls behind. */
	if (k->allow_auto_converge && req->hurry &&
	    (virTypedParamsAddInt(&call->params, &call->nparams, &max,
				  VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL,
				  pred_throttle_initial(req->dirty_bps, pred_bandwidth_bps(k))) < 0 ||
	     virTypedParamsAddInt(&call->params, &call->nparams, &max,
				  VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT,
				  PRED_THROTTLE_INCREMENT) < 0))
		return -1;
	if (k->allow_post_copy)
		call->flags |= VIR_MIGRATE_POSTCOPY;
	/* Tunnelled: QEMU's stream goes through the source libvirtd's connection to the
	 * target's (PEER2PEER is set already), so no migration URI: libvirt refuses one. */
	if (k->transport == CRD_TRANSPORT_TUNNELLED)
		call->flags |= VIR_MIGRATE_TUNNELLED;
	/* TLS: QEMU's own TLS on the memory and disk streams, with each host's
	 * migrate_tls_x509_cert_dir (qemu.conf); the target's certificate must name the
	 * address of the migration URI. */
	if (k->encryption == CRD_ENCRYPT_TLS)
		call->flags |= VIR_MIGRATE_TLS;
	if (req->dst_address && k->transport != CRD_TRANSPORT_TUNNELLED) {
		snprintf(uri, uri_size, "tcp://%s", req->dst_address);
		if (virTypedParamsAddString(&call->params, &call->nparams, &max,
					    VIR_MIGRATE_PARAM_URI, uri) < 0)
			return -1;
	}
	if (k->bandwidth_mibps &&
	    virTypedParamsAddULLong(&call->params, &call->nparams, &max,
				    VIR_MIGRATE_PARAM_BANDWIDTH, k->bandwidth_mibps) < 0)
		return -1;
	/* QEMU limits post-copy separately (unlimited by default): the user's cap on the
	 * network holds for the whole move. */
	if (k->bandwidth_mibps && k->allow_post_copy &&
	    virTypedParamsAddULLong(&call->params, &call->nparams, &max,
				    VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY, k->bandwidth_mibps) < 0)
		return -1;
	if (k->parallel_connections > 1) {
		call->flags |= VIR_MIGRATE_PARALLEL;
		if (virTypedParamsAddInt(&call->params, &call->nparams, &max,
					 VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
					 (int)k->parallel_connections) < 0)
			return -1;
	}
	if (k->compression != CRD_COMPRESS_NONE) {
		call->flags |= VIR_MIGRATE_COMPRESSED;
		if (virTypedParamsAddString(&call->params, &call->nparams, &max,
					    VIR_MIGRATE_PARAM_COMPRESSION,
					    crd_compression_str(k->compression)) < 0)
			return -1;
	}
	return 0;
}

/* Reads the job statistics of @dom into @p. Returns 0, or -1 when there is no job. */
static int sample(virDomainPtr dom, struct crd_mig_progress *p)
{
	virTypedParameterPtr params = NULL;
	int n = 0, type = 0;
	unsigned long long v, page = 4096;

	if (virDomainGetJobStats(dom, &type, &params, &n, 0) < 0 || type == VIR_DOMAIN_JOB_NONE) {
		virTypedParamsFree(params, n);
		virResetLastError();
		return -1;
	}
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_TOTAL, &v) == 1)
		p->data_total_bytes = v;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &v) == 1)
		p->data_processed_bytes = v;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_REMAINING, &v) == 1)
		p->data_remaining_bytes = v;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE, &v) == 1 && v)
		page = v;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, &v) == 1)
		p->memory_dirty_rate_bps = v * page;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_BPS, &v) == 1)
		p->transfer_rate_bps = v;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION, &v) == 1)
		p->iteration = v;
	if (p->data_total_bytes)
		p->percent = mig_percent(p->data_total_bytes > p->data_remaining_bytes
					 ? p->data_total_bytes - p->data_remaining_bytes : 0,
					 p->data_total_bytes);
	virTypedParamsFree(params, n);
	return 0;
}

int32_t mig_percent(uint64_t done, uint64_t total)
{
	if (!total)
		return 0;
	return done >= total ? 100 : (int32_t)(100.0 * (double)done / (double)total);
}

/* State of the monitor between samples. */
struct monitor {
	double start, deadline, last_progress, stall_window;
	uint64_t best_remaining;
	struct mig_ladder ladder;
	bool aborted;
	bool cancel_refused;
	bool hurried;           /* the switch to post-copy a prediction asked for is made */
	enum mig_outcome abort_outcome;
	enum crd_mig_run_mode mode;
};

/* Appends to res->reason, cut at its size. This function can't fail. */
__attribute__((format(printf, 2, 3)))
static void note(struct mig_result *res, const char *fmt, ...)
{
	size_t len = strlen(res->reason);
	va_list ap;

	if (len + 1 >= sizeof(res->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(res->reason + len, sizeof(res->reason) - len, fmt, ap);
	va_end(ap);
}

static void abort_job(virDomainPtr dom, struct monitor *m, enum mig_outcome why)
{
	if (m->aborted)
		return;
	m->aborted = true;
	m->abort_outcome = why;
	virDomainAbortJob(dom);
	virResetLastError();
}

/* Takes the next escalation step on a stall or, when the hard limit @limit ("completion
 * timeout of 30 s") is reached, goes straight to the end of the ladder. */
static void escalate(virDomainPtr dom, const struct mig_request *req, struct monitor *m,
		     struct mig_result *res, const char *limit)
{
	uint32_t downtime = 0;
	enum mig_step step;

	if (limit) {
		m->ladder.downtime_raises = MIG_DOWNTIME_RAISES;
		note(res, "%s reached: ", limit);
	}
	step = mig_next_step(&m->ladder, &req->knobs, &downtime);
	if (step == MIG_STEP_DOWNTIME) {
		virDomainMigrateSetMaxDowntime(dom, downtime, 0);
		note(res, "raised max downtime to %u ms; ", downtime);
	} else if (step == MIG_STEP_POSTCOPY && virDomainMigrateStartPostCopy(dom, 0) == 0) {
		m->mode = CRD_RUN_POSTCOPY;
		note(res, "switched to post-copy; ");
	} else {
		/* The stall window is a fifth of the progress timeout: a ladder used up without
		 * progress is that timeout. */
		note(res, "%s", limit ? "aborted" : "no progress after every escalation "
						      "(progress timeout): aborted");
		abort_job(dom, m, MIG_TIMED_OUT);
	}
	virResetLastError();
	m->last_progress = clk_mono();
}

/* A move predicted not to converge, with post-copy allowed, switches once the first pass
 * has sent the memory, instead of after stalls. This function can't fail. */
static void hurry(virDomainPtr dom, const struct mig_request *req, struct monitor *m,
		  struct mig_result *res)
{
	if (!req->hurry || !req->knobs.allow_post_copy || m->hurried ||
	    res->progress.iteration < 2)
		return;
	m->hurried = true;
	if (virDomainMigrateStartPostCopy(dom, 0) == 0) {
		m->mode = CRD_RUN_POSTCOPY;
		m->ladder.postcopy_started = true;
		note(res, "predicted not to converge: switched to post-copy after the first pass; ");
	}
	virResetLastError();
}

/* One monitor tick: sample, report, and check the deadlines. */
static void tick(virDomainPtr dom, const struct mig_request *req, struct monitor *m,
		 struct mig_result *res)
{
	double now = clk_mono();
	char limit[64];

	/* The job runs in libvirtd: it goes on without drover. Before the sample, which on a
	 * busy host can wait seconds for libvirt's answer (once until the move had ended). */
	fault_point("live.copying");

	if (sample(dom, &res->progress) == 0) {
		uint64_t rem = res->progress.data_remaining_bytes;
		if (rem < m->best_remaining) {
			m->best_remaining = rem;
			m->last_progress = now;
		}
		if (req->progress)
			req->progress(req->opaque, &res->progress, m->mode, NULL);
	}
	if (m->aborted)
		return;
	if (m->mode == CRD_RUN_POSTCOPY) {
		/* The guest already runs on the target: only completion keeps it whole. */
		if (mig_cancel_requested(req->cancel) && !m->cancel_refused) {
			m->cancel_refused = true;
			note(res, "cancel refused: post-copy has started and can only complete; ");
			if (req->progress)
				req->progress(req->opaque, &res->progress, m->mode, res->reason);
		}
		return;
	}
	if (!mig_cancel_requested(req->cancel))
		hurry(dom, req, m, res);
	if (m->mode == CRD_RUN_POSTCOPY)
		return;
	if (mig_cancel_requested(req->cancel)) {
		note(res, "cancelled");
		abort_job(dom, m, MIG_CANCELLED);
	} else if (m->deadline > 0 && now - m->start > m->deadline) {
		snprintf(limit, sizeof(limit), "completion timeout of %.0f s", m->deadline);
		escalate(dom, req, m, res, limit);
	} else if (req->knobs.progress_timeout_s &&
		   now - m->last_progress > req->knobs.progress_timeout_s) {
		snprintf(limit, sizeof(limit), "progress timeout of %u s",
			 req->knobs.progress_timeout_s);
		escalate(dom, req, m, res, limit);
	} else if (res->progress.iteration >= 2 && now - m->last_progress > m->stall_window) {
		escalate(dom, req, m, res, NULL);
	}
}

/* Parameter @name of @params as an unsigned number, 0 when absent. */
static uint64_t job_stat(virTypedParameterPtr params, int n, const char *name)
{
	unsigned long long v = 0;

	return virTypedParamsGetULLong(params, n, name, &v) == 1 ? v : 0;
}

/* What the move took (its statistics, crd/types.h) from the completed job statistics
 * @params: the stream's part is what it sent at the rates QEMU measured (its mbps leave
 * the setup out). Unset when a rate is missing (a disk copied without one: its time
 * would count as the fixed part). */
static void completed_statistics(virTypedParameterPtr params, int n,
				 struct crd_mig_statistics *s)
{
	uint64_t mem = job_stat(params, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
	uint64_t mem_bps = job_stat(params, n, VIR_DOMAIN_JOB_MEMORY_BPS);
	uint64_t disk = job_stat(params, n, VIR_DOMAIN_JOB_DISK_PROCESSED);
	uint64_t disk_bps = job_stat(params, n, VIR_DOMAIN_JOB_DISK_BPS);

	memset(s, 0, sizeof(*s));
	s->elapsed_ms = job_stat(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED);
	if (!s->elapsed_ms || !mem_bps || (disk && !disk_bps))
		return;
	s->set = true;
	s->transferred_bytes = mem + disk;
	s->transfer_ms = (uint64_t)((double)mem * 1000.0 / (double)mem_bps +
				    (disk ? (double)disk * 1000.0 / (double)disk_bps : 0) + 0.5);
	if (s->transfer_ms > s->elapsed_ms)
		s->transfer_ms = s->elapsed_ms;
}

/* The downtime libvirt measured and what the move took, from the target's completed job
 * statistics. They are kept (KEEP_COMPLETED): reading them without the flag discards them,
 * and an operator's `virsh domjobinfo --completed` (or the lab benchmark's) would find
 * nothing. */
static void read_completed(const struct mig_request *req, struct mig_result *res)
{
	virDomainPtr dom = virDomainLookupByName(req->dst, req->domain);
	virTypedParameterPtr params = NULL;
	int n = 0, type = 0;
	unsigned long long v;

	res->downtime_ms = -1;
	if (dom && virDomainGetJobStats(dom, &type, &params, &n,
					VIR_DOMAIN_JOB_STATS_COMPLETED |
						VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) == 0) {
		if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DOWNTIME, &v) == 1)
			res->downtime_ms = (int64_t)v;
		completed_statistics(params, n, &res->statistics);
	}
	virTypedParamsFree(params, n);
	if (dom)
		virDomainFree(dom);
	virResetLastError();
}

/* Starts @res and @m for a migration of @req. This function can't fail. */
static void init_monitor(const struct mig_request *req, struct monitor *m, struct mig_result *res)
{
	double progress = req->knobs.progress_timeout_s ? req->knobs.progress_timeout_s : 150;

	memset(res, 0, sizeof(*res));
	res->downtime_ms = -1;
	res->outcome = MIG_FAILED;
	memset(m, 0, sizeof(*m));
	m->start = m->last_progress = clk_mono();
	m->deadline = mig_deadline_s(&req->knobs, req->memory_bytes + req->disk_bytes);
	m->best_remaining = UINT64_MAX;
	m->mode = res->final_mode = CRD_RUN_PRECOPY;
	m->stall_window = progress / 5;
	if (m->stall_window < MIG_STALL_MIN_S)
		m->stall_window = MIG_STALL_MIN_S;
	if (m->stall_window > MIG_STALL_MAX_S)
		m->stall_window = MIG_STALL_MAX_S;
}

/* ---- a job taken over ---- */

/* Waits @seconds, then tells whether the job on @dom (NULL: none to be had) has ended: no
 * job is left, or the domain no longer runs there (gone, or out of reach: job_moved tells
 * which). This function can't fail. */
static bool job_wait(virDomainPtr dom, double seconds)
{
	virDomainJobInfo info;
	bool ended;

	clk_sleep(seconds);
	if (!dom)
		return true;
	ended = virDomainGetJobInfo(dom, &info) == 0 ? info.type == VIR_DOMAIN_JOB_NONE
						     : virDomainIsActive(dom) != 1;
	virResetLastError();
	return ended;
}

/* False when the job on @dom is known to be something other than an outgoing migration (a
 * save, a dump): not drover's to take over. This function can't fail. */
static bool job_migrates_out(virDomainPtr dom)
{
	virTypedParameterPtr params = NULL;
	int n = 0, type = 0, op = 0;
	bool other = virDomainGetJobStats(dom, &type, &params, &n, 0) == 0 &&
		     virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
		     op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;

	virTypedParamsFree(params, n);
	virResetLastError();
	return !other;
}

/* A job taken over goes on from where it stands: past the downtime raises it shows, in
 * post-copy when it switched already, and with at least the knobs' downtime. */
static void job_resume(virDomainPtr dom, const struct mig_request *req, struct monitor *m)
{
	unsigned long long ms = 0;
	int state = 0, reason = 0;

	if (virDomainMigrateGetMaxDowntime(dom, &ms, 0) == 0) {
		mig_ladder_resume(&m->ladder, &req->knobs, ms);
		if (ms < req->knobs.max_downtime_ms)
			virDomainMigrateSetMaxDowntime(dom, req->knobs.max_downtime_ms, 0);
	}
	if (virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_PAUSED &&
	    reason == VIR_DOMAIN_PAUSED_POSTCOPY) {
		m->mode = CRD_RUN_POSTCOPY;
		m->ladder.postcopy_started = true;
	}
	virResetLastError();
}

/* True when @conn runs domain @name. This function can't fail. */
static bool runs_on(virConnectPtr conn, const char *name)
{
	virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
	bool runs = dom && virDomainIsActive(dom) == 1;

	if (dom)
		virDomainFree(dom);
	virResetLastError();
	return runs;
}

/* Where the VM is once a job taken over has ended. Returns 1 when it moved: it is gone from
 * the source (libvirt removes it there only once the target took over) and runs on the
 * target; 0 when it still runs on the source; -1 when neither is sure. */
static int job_moved(const struct mig_request *req)
{
	double until = clk_mono() + MIG_SETTLE_WAIT_S;

	for (;;) {
		virDomainPtr dom = virDomainLookupByName(req->src, req->domain);
		bool gone = !dom && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN;
		int active = dom ? virDomainIsActive(dom) : -1;

		if (dom)
			virDomainFree(dom);
		virResetLastError();
		if (active == 1)
			return 0;
		if (gone)
			return runs_on(req->dst, req->domain) ? 1 : -1;
		/* Inactive but still defined: libvirt undefines it just after the job ends. */
		if (clk_mono() > until)
			return -1;
		clk_sleep(MIG_SAMPLE_S);
	}
}

/* ---- both ---- */

/* Watches the migration until it ends — @call returns or, for a job taken over (@call
 * NULL), the job on @dom ends — or an abort is not honoured in time. */
static void monitor(virDomainPtr dom, const struct mig_request *req, struct mig_call *call,
		    struct monitor *m, struct mig_result *res)
{
	/* The downtime can only be set once the job exists; one taken over keeps its own. */
	bool downtime_set = !call;
	double abort_deadline = 0;

	while (!(call ? call_wait(call, MIG_SAMPLE_S) : job_wait(dom, MIG_SAMPLE_S))) {
		if (!downtime_set &&
		    virDomainMigrateSetMaxDowntime(dom, req->knobs.max_downtime_ms, 0) == 0)
			downtime_set = true;
		virResetLastError();
		tick(dom, req, m, res);
		if (m->aborted && !abort_deadline)
			abort_deadline = clk_mono() + MIG_ABORT_WAIT_S;
		if (abort_deadline && clk_mono() > abort_deadline)
			return;
	}
}

/* Classifies the end of @call or, when NULL, of the job taken over on @dom into @res.
 * Returns 0 when the VM now runs on the target, -1 otherwise. */
static int finish(const struct mig_request *req, virDomainPtr dom, struct mig_call *call,
		  struct monitor *m, struct mig_result *res)
{
	int moved;

	res->final_mode = m->mode;
	res->seconds = clk_mono() - m->start;
	if (call ? !call_done(call) : !job_wait(dom, 0)) {
		res->outcome = MIG_FAILED;
		note(res, "the migration job did not end after an abort");
		return -1;
	}
	moved = call ? call->rc == 0 : job_moved(req);
	if (moved > 0) {
		res->outcome = MIG_OK;
		res->progress.percent = 100;
		res->progress.data_remaining_bytes = 0;
		read_completed(req, res);
		return 0;
	}
	if (moved < 0) {
		res->outcome = MIG_UNSETTLED;
		note(res, "the migration job ended; %s no longer runs on the source and cannot be "
		     "seen running on the target", req->domain);
		return -1;
	}
	res->outcome = m->aborted ? m->abort_outcome
		       : m->mode == CRD_RUN_POSTCOPY ? MIG_POSTCOPY_FAILED : MIG_FAILED;
	if (!m->aborted)
		note(res, "%s", call ? call->error
				     : "the migration job ended without moving the VM");
	return -1;
}

int mig_live(const struct mig_request *req, struct mig_result *res)
{
	struct mig_call *call = call_new(req);
	struct monitor m;
	char uri[300];
	pthread_t thread;
	virDomainPtr dom = NULL;
	int ret = -1;

	init_monitor(req, &m, res);
	if (!call || build_params(call, req, uri, sizeof(uri)) < 0) {
		note(res, "out of memory");
		goto cleanup;
	}
	if (!(dom = virDomainLookupByName(req->src, req->domain))) {
		note(res, "%s", virGetLastErrorMessage());
		goto cleanup;
	}
	call->refs++;
	if (pthread_create(&thread, NULL, call_thread, call) != 0) {
		call->refs--;
		note(res, "cannot start the migration thread");
		goto cleanup;
	}
	pthread_detach(thread);
	monitor(dom, req, call, &m, res);
	ret = finish(req, dom, call, &m, res);
cleanup:
	if (dom)
		virDomainFree(dom);
	if (call)
		call_unref(call);
	return ret;
}

int mig_watch(const struct mig_request *req, double running_s, struct mig_result *res)
{
	struct monitor m;
	virDomainPtr dom;
	int ret = -1;

	init_monitor(req, &m, res);
	/* The completion deadline counts from the job's start, not from now. */
	m.start -= running_s > 0 ? running_s : 0;
	note(res, "took over an unfinished migration; ");
	/* Gone already: the job ended meanwhile, and finish() tells how. */
	dom = virDomainLookupByName(req->src, req->domain);
	virResetLastError();
	if (dom && !job_migrates_out(dom)) {
		note(res, "the job on the source is not an outgoing migration: left alone");
		goto cleanup;
	}
	if (dom) {
		job_resume(dom, req, &m);
		monitor(dom, req, NULL, &m, res);
	}
	ret = finish(req, dom, NULL, &m, res);
cleanup:
	if (dom)
		virDomainFree(dom);
	return ret;
}
