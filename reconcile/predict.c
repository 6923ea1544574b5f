/* predict: before a live move, how long it will take and whether pre-copy converges. */
#include "reconcile/predict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "reconcile/clk.h"
#include "reconcile/memsample.h"
#include "reconcile/why.h"

/* Polls of the measurement's end after PRED_MEASURE_S, PRED_POLL_S apart. */
#define PRED_POLLS 30
#define PRED_POLL_S 0.1

uint64_t pred_bandwidth_bps(const struct crd_knobs *k)
{
	return k->bandwidth_mibps ? (uint64_t)k->bandwidth_mibps << 20 : PRED_DEFAULT_BPS;
}

int pred_throttle_initial(uint64_t dirty_bps, uint64_t bandwidth_bps)
{
	/* Throttled by p %, the guest dirties (1 - p) of its rate; aim at half the bandwidth,
	 * so each pass leaves less than the one before. */
	double keep = dirty_bps ? 0.5 * (double)bandwidth_bps / (double)dirty_bps : 1.0;
	int pct = keep >= 1.0 ? 0 : (int)(100.0 * (1.0 - keep));

	return pct < 20 ? 20 : pct > 99 ? 99 : pct;
}

/* Auto-converge as QEMU 7.2 runs it (migration_trigger_throttle): at a pass's end, once a
 * second or more has gone by since it last looked, a period that dirtied more than half of
 * what it sent counts; every second such period (not reset by a calmer one) throttles the
 * guest, at @initial first, then PRED_THROTTLE_INCREMENT more each time, at most 99 %. */
struct throttle {
	int initial, pct, high;
	double period_s, sent, dirtied;   /* since QEMU last looked */
};

static void throttle_after_pass(struct throttle *t, double pass_s, double sent, double dirtied)
{
	t->period_s += pass_s;
	t->sent += sent;
	t->dirtied += dirtied;
	if (t->period_s < 1.0)
		return;
	bool high = t->dirtied > 0.5 * t->sent;
	t->period_s = t->sent = t->dirtied = 0;
	if (!high || ++t->high < 2)
		return;
	t->high = 0;
	t->pct = !t->pct ? t->initial : t->pct + PRED_THROTTLE_INCREMENT;
	if (t->pct > 99)
		t->pct = 99;
}

/* Seconds of pre-copy of @in at @bw, throttled like auto-converge when @t is non-NULL;
 * *@converges says whether a pass came to fit in the downtime. */
static double precopy_seconds(const struct pred_input *in, double bw, struct throttle *t,
			      bool *converges)
{
	double cap = (double)in->memory_bytes, left = cap, seconds = 0;
	/* What the final pass may still send while the guest is paused. */
	double budget = in->max_downtime_ms / 1000.0 * bw;

	*converges = false;
	for (int pass = 0; pass < PRED_MAX_PASSES; pass++) {
		if (left <= budget) {
			*converges = true;
			return seconds + left / bw;
		}
		double pass_s = left / bw;
		double rate = (double)in->dirty_bps * (t ? 1.0 - t->pct / 100.0 : 1.0);
		seconds += pass_s;
		/* A pass cannot leave more dirty than the guest's memory. */
		double next = rate * pass_s < cap ? rate * pass_s : cap;
		if (t)
			throttle_after_pass(t, pass_s, left, next);
		else if (pass > 0 && next >= left)
			break; /* no longer shrinking: it never will */
		left = next;
	}
	return seconds;
}

void pred_model(const struct pred_input *in, struct crd_mig_prediction *out)
{
	double bw = (double)(in->bandwidth_bps ? in->bandwidth_bps : PRED_DEFAULT_BPS);
	bool converges, throttled_converges;
	double moving = precopy_seconds(in, bw, NULL, &converges);

	if (!converges && in->auto_converge) {
		struct throttle t = {.initial = pred_throttle_initial(in->dirty_bps, (uint64_t)bw)};
		moving = precopy_seconds(in, bw, &t, &throttled_converges);
	}
	double seconds = in->fixed_ms / 1000.0 + (double)in->disk_bytes / bw + moving;
	out->set = true;
	out->converges = converges;
	out->duration_s = seconds >= (double)UINT32_MAX ? UINT32_MAX
			  : (uint32_t)seconds + (seconds > (double)(uint32_t)seconds);
	/* Most moves of a small guest take under a second: whole seconds would say 1 s. */
	out->duration_ms = seconds >= (double)UINT32_MAX ? (uint64_t)UINT32_MAX * 1000
			   : (uint64_t)(seconds * 1000 + 0.5);
	out->dirty_rate_bps = in->dirty_bps;
}

/* Reads the dirty-rate statistics of @dom: 1 with *@mib_per_s once measured, 0 while
 * measuring, -1 when libvirt cannot say. */
static int read_rate(virDomainPtr dom, long long *mib_per_s)
{
	virDomainPtr doms[] = {dom, NULL};
	virDomainStatsRecordPtr *recs = NULL;
	int status = -1, n = virDomainListGetStats(doms, VIR_DOMAIN_STATS_DIRTYRATE, &recs, 0);
	int ret = -1;

	if (n == 1 &&
	    virTypedParamsGetInt(recs[0]->params, recs[0]->nparams, "dirtyrate.calc_status",
				 &status) == 1) {
		ret = status == VIR_DOMAIN_DIRTYRATE_MEASURED ? 1 : 0;
		if (ret == 1 &&
		    virTypedParamsGetLLong(recs[0]->params, recs[0]->nparams,
					   "dirtyrate.megabytes_per_second", mib_per_s) != 1)
			ret = -1;
	}
	if (recs)
		virDomainStatsRecordListFree(recs);
	virResetLastError();
	return ret;
}

/* The resident bytes of @dom's process, at most @memory_bytes (the guest's memory it has
 * touched, and then some); @memory_bytes when libvirt does not say. Can't fail. */
static uint64_t touched(virDomainPtr dom, uint64_t memory_bytes)
{
	virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
	int n = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);

	virResetLastError();
	for (int i = 0; i < n; i++)
		if (stats[i].tag == VIR_DOMAIN_MEMORY_STAT_RSS && stats[i].val * 1024 < memory_bytes)
			return stats[i].val * 1024;
	return memory_bytes;
}

/* True when measuring the dirty rate longer is worth it: the duration hangs on the rate
 * (pre-copy takes about M / (B - D), so from a quarter of the bandwidth on, the duration
 * errs by a third of the rate's error or more), or the move takes PRED_LONG_MOVE_S or more
 * anyway (@data_bytes at the bandwidth), so seconds more of measuring cost it little — a
 * second that crossed no sampled place reads 0 and hides a rate that matters. */
static bool measure_longer(uint64_t dirty_bps, uint64_t data_bytes, uint64_t bandwidth_bps)
{
	return dirty_bps * 4 >= bandwidth_bps || data_bytes >= PRED_LONG_MOVE_S * bandwidth_bps;
}

/* The sample's figures with libvirt's: memory with data at most the resident size, and
 * the dirty rate of both samples weighted by their pages (QEMU's 512 pages per GiB miss a
 * small region being rewritten, or catch one page of it and report 2 MiB/s). A guest
 * rewriting its memory in order crosses few of the sampled places in a second (two or
 * three for 1 MiB/s of a 64 MiB guest, so the rate read 0-1.5x the true one): where that
 * matters (measure_longer at @bandwidth_bps), the sample is taken again a second later,
 * up to PRED_MEASURE_MAX_S, and the rate is the mean of its seconds. */
static void refine(virDomainPtr dom, const struct memsample *before, uint64_t memory_bytes,
		   uint64_t bandwidth_bps, uint64_t *dirty_bps, uint64_t *touched_bytes)
{
	struct memsample prev = *before, next = *before;
	uint64_t qemu_bps = *dirty_bps, sum = 0;
	unsigned seconds = 0, pages = 0;
	char why[256];

	while (ms_take(dom, &next, why, sizeof(why)) == 0) {
		uint64_t data = ms_data_bytes(&next, memory_bytes);
		if (data < *touched_bytes)
			*touched_bytes = data;
		sum += ms_dirty_bps(&prev, &next, memory_bytes);
		pages += next.pages;
		seconds++;
		*dirty_bps = ms_blend_rates(qemu_bps, sum / seconds, pages, memory_bytes);
		if (seconds >= PRED_MEASURE_MAX_S ||
		    !measure_longer(*dirty_bps, *touched_bytes, bandwidth_bps))
			break;
		prev = next;
		double left = prev.taken_at + PRED_MEASURE_S - clk_mono();
		if (left > 0)
			clk_sleep(left);
	}
}

int pred_measure(virDomainPtr dom, uint64_t memory_bytes, uint64_t bandwidth_bps,
		 uint64_t *dirty_bps, uint64_t *touched_bytes, char *why, size_t why_size)
{
	long long mib = 0;
	int state = 0;
	struct memsample before;
	char sample_why[256];

	/* Page sampling (QEMU hashes 512 pages per GiB before and after): the only mode that
	 * is safe everywhere. Dirty-bitmap mode kills a TCG guest's QEMU 7.2 (seen in the
	 * lab: the process ends on calc-dirty-rate), dirty-ring needs KVM's ring. */
	if (virDomainStartDirtyRateCalc(dom, PRED_MEASURE_S,
					VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING) < 0) {
		why_fail(why, why_size, "dirty rate: %s", virGetLastErrorMessage());
		virResetLastError();
		return -1;
	}
	double started = clk_mono();
	/* drover's own sample, over the same second: without it the move is predicted from
	 * libvirt's figures alone. */
	ms_plan(&before, memory_bytes, (uint64_t)(started * 1e6));
	bool sampled = memory_bytes && ms_samplable(dom) &&
		       ms_take(dom, &before, sample_why, sizeof(sample_why)) == 0;
	double left = PRED_MEASURE_S - (clk_mono() - started);
	if (left > 0)
		clk_sleep(left);
	for (int i = 0; i < PRED_POLLS && (state = read_rate(dom, &mib)) == 0; i++)
		clk_sleep(PRED_POLL_S);
	if (state != 1)
		return why_fail(why, why_size, "dirty rate: %s", state ? "not reported"
								  : "not measured in time");
	*dirty_bps = mib > 0 ? (uint64_t)mib << 20 : 0;
	*touched_bytes = touched(dom, memory_bytes);
	if (sampled)
		refine(dom, &before, memory_bytes, bandwidth_bps, dirty_bps, touched_bytes);
	return 0;
}

int pred_estimate(const struct pred_move *mv, struct crd_mig_prediction *out, char *why,
		  size_t why_size)
{
	virDomainPtr dom = mv->src ? virDomainLookupByName(mv->src, mv->name) : NULL;
	const struct crd_knobs *k = mv->k;
	struct pred_input in = {.disk_bytes = mv->disk_bytes,
				.bandwidth_bps = pred_bandwidth_bps(k),
				.max_downtime_ms = k->max_downtime_ms,
				.auto_converge = k->allow_auto_converge};
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!dom) {
		why_fail(why, why_size, "%s: %s", mv->name,
			 mv->src ? virGetLastErrorMessage() : "not connected");
		virResetLastError();
		return -1;
	}
	if (pred_measure(dom, mv->memory_bytes, in.bandwidth_bps, &in.dirty_bps, &in.memory_bytes,
			 why, why_size) == 0) {
		unsigned beside = mv->self ? inflight_beside(mv->self) : 0;
		in.fixed_ms = pred_fixed_ms(mv->set, mv->dst, beside);
		pred_model(&in, out);
		out->concurrent_moves = beside;
		ret = 0;
	}
	virDomainFree(dom);
	return ret;
}
