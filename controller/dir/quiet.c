/* quiet: when a pass of `drover run --dir` may only observe (see quiet.h). */
#include "controller/dir/quiet.h"

#include <string.h>

#include "controller/dir/treestamp.h"
#include "reconcile/clk.h"

/* The stamps of what a load reads that others change: the manifests and the overrides
 * (requests of `drover drain`, `migrate`, `fence`, `restart`). The status records are
 * written by this process alone (state_lock). A stamp of 0 matches nothing. */
static void stamp_files(const char *dir, const char *odir, uint64_t *manifests,
			uint64_t *overrides)
{
	*manifests = treestamp(dir);
	*overrides = odir[0] ? treestamp(odir) : 0;
}

/* The records of VMs and Migrations this process wrote (not a rewrite skipped). */
static unsigned long records_written(void)
{
	return state_written(CRD_KIND_VM) + state_written(CRD_KIND_MIGRATION);
}

bool quiet_allowed(const struct quiet *q, const char *dir, const char *odir, bool files_changed)
{
	uint64_t manifests, overrides;

	if (!q->valid || files_changed || clk_mono() - q->since >= QUIET_MAX_S)
		return false;
	stamp_files(dir, odir, &manifests, &overrides);
	return manifests && overrides && manifests == q->manifests && overrides == q->overrides;
}

void quiet_begin(struct quiet *q, struct rec *r, const char *dir, const char *odir,
		 const struct state_sink *ds)
{
	rec_release_set(r, &q->hosts);   /* empty unless valid */
	memset(q, 0, sizeof(*q));
	q->since = clk_mono();
	stamp_files(dir, odir, &q->manifests, &q->overrides);
	q->written = records_written();
	q->failures = ds->failures;
}

void quiet_end(struct quiet *q, struct rec *r, struct crd_set *set, bool kept, bool clean,
	       const struct rec_result *res, size_t vms, const struct state_sink *ds)
{
	if (!kept)
		return;
	if (clean && res->quiet_key && ds->failures == q->failures &&
	    records_written() == q->written && q->manifests && q->overrides) {
		q->hosts.hosts = set->hosts;
		q->hosts.n_hosts = set->n_hosts;
		q->hosts.room.hosts = set->room.hosts;
		set->hosts = NULL;
		set->n_hosts = set->room.hosts = 0;
		q->key = res->quiet_key;
		q->vms = vms;
		q->valid = true;
	}
	rec_release_set(r, set);
}

void quiet_free(struct quiet *q)
{
	crd_set_free(&q->hosts);
}
