/* cli_apply: `drover plan` and `drover apply` over manifests (-f), status in --state-dir. */
#include <stdio.h>
#include <string.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/dir/overrides.h"
#include "controller/loop/reconciler.h"
#include "controller/dir/statedir.h"
#include "controller/cli/view.h"
#include "crd/quantity.h"
#include "reconcile/predict.h"
#include "reconcile/storage.h"
#include "reconcile/vmres.h"

#define PLAN_USAGE "drover plan -f PATH... [--estimate] [--state-dir DIR] [--max-migrations N] " \
	"[--max-outbound N] [--prune]"
#define APPLY_USAGE                                                                          \
	"drover apply -f PATH... [--state-dir DIR] [--max-migrations N] [--max-outbound N] " \
	"[--stop-timeout SECONDS] [--timeout SECONDS] [--keep-migrations N] [--prune]"

/* Loads the manifests, the requests and overrides of the state dir and the status
 * recorded for them. Returns 0, or -1 after printing every error (then nothing may be
 * changed anywhere). */
static int load(const struct cli_opts *o, struct crd_set *set)
{
	struct crd_errors errs = {0};
	int rc = ovr_load_desired(o->paths, o->n_paths, o->state_dir, OVR_UNFINISHED, set,
				  &errs);

	crd_errors_print(&errs, stderr);
	if (rc < 0)
		fprintf(stderr, "%zu error%s: nothing was changed\n", errs.n_errors,
			errs.n_errors == 1 ? "" : "s");
	crd_errors_free(&errs);
	return rc;
}

/* `plan --estimate`: for each live move of @plan, the prediction the move would start with
 * (the guest's dirty rate measured on its source for about a second; the fixed part from
 * the moves recorded in @set). */
static void print_estimates(struct rec *r, const struct crd_set *set, const struct plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_action *a = &plan->actions[i];
		struct crd_mig_prediction p;
		struct vmres res = {0};
		char why[256], rate[32];
		uint64_t disks = 0;
		if (a->kind != PLAN_MIGRATE_LIVE && a->kind != PLAN_MIGRATE_LIVE_COPY)
			continue;
		virConnectPtr src = lv_connect(&r->pool, a->src);
		if (vmres_from_vm(a->vm, &res, why, sizeof(why)) != VMRES_OK)
			res.memory = 0;
		for (size_t k = 0; a->kind == PLAN_MIGRATE_LIVE_COPY && src && k < res.n_disks; k++)
			disks += stor_allocation(src, res.disks[k]);
		/* Each as if it ran alone: which moves run side by side is the executor's to say. */
		struct pred_move mv = {.src = src, .name = a->vm->meta.name, .dst = a->dst,
				       .memory_bytes = res.memory, .disk_bytes = disks,
				       .k = &a->knobs, .set = set};
		if (pred_estimate(&mv, &p, why, sizeof(why)) < 0) {
			printf("estimate %s/%s %s → %s: none (%s)\n", a->vm->meta.namespace,
			       a->vm->meta.name, a->src, a->dst, why);
		} else {
			crd_quantity_format(p.dirty_rate_bps, rate, sizeof(rate));
			printf("estimate %s/%s %s → %s: %.2f s, %s, dirty rate %s/s\n",
			       a->vm->meta.namespace, a->vm->meta.name, a->src, a->dst,
			       (double)p.duration_ms / 1000,
			       p.converges ? "converges" : "does not converge (escalation from the start)",
			       rate);
		}
		vmres_free(&res);
	}
}

int cli_plan(int argc, char **argv)
{
	struct cli_opts o;
	struct crd_set set = {0};
	struct inventory inv = {0};
	struct plan plan = {0};
	struct rec r;
	struct view v;
	int rc = 1;

	if (cli_parse("plan", PLAN_USAGE, CLI_OPT_FILES | CLI_OPT_STATE_DIR | CLI_OPT_LIMITS |
		      CLI_OPT_ESTIMATE | CLI_OPT_PRUNE, argc, argv, &o) < 0 || load(&o, &set) < 0)
		goto cleanup_set;
	if (rec_init(&r, &o.rec, NULL, NULL) < 0)
		goto cleanup_set;
	if (rec_observe_and_plan(&r, &set, &inv, &plan) < 0) {
		fprintf(stderr, "drover plan: out of memory\n");
		goto cleanup;
	}
	view_init(&v, stdout);
	for (size_t i = 0; i < inv.n_hosts; i++)
		if (!inv.hosts[i].reachable)
			fprintf(stderr, "warning: host %s unreachable: %s\n", inv.hosts[i].name,
				inv.hosts[i].error ? inv.hosts[i].error : "");
	struct plan_orphans orphans;
	if (rec_orphans(&r, &set, &inv, &orphans) < 0) {
		fprintf(stderr, "drover plan: out of memory\n");
		goto cleanup;
	}
	int prunes = view_print_orphans(&v, &orphans);
	plan_orphans_free(&orphans);
	rc = view_print_plan(&v, &plan) > 0 || prunes > 0 ? 2 : 0;
	if (o.estimate)
		print_estimates(&r, &set, &plan);
cleanup:
	plan_free(&plan);
	inv_free(&inv);
	rec_free(&r);
cleanup_set:
	crd_set_free(&set);
	return rc;
}

int cli_apply(int argc, char **argv)
{
	struct cli_opts o;
	struct crd_set set = {0};
	struct rec r;
	struct rec_result res;
	struct view v;
	struct state_sink ds = {0};
	char why[512];
	int rc = 1, lock = -1;

	if (cli_parse("apply", APPLY_USAGE, CLI_OPT_FILES | CLI_OPT_STATE_DIR | CLI_OPT_LIMITS |
		      CLI_OPT_PRUNE, argc, argv, &o) < 0)
		goto cleanup_set;
	if ((lock = state_lock(o.state_dir, why, sizeof(why))) < 0) {
		fprintf(stderr, "drover apply: %s\n", why);
		goto cleanup_set;
	}
	if (load(&o, &set) < 0)
		goto cleanup_set;
	ds.dir = o.state_dir;
	view_init(&v, stdout);
	struct rec_sink sink = state_sink(&ds);
	struct rec_view view = {.plan = view_on_plan, .action_done = view_on_action_done,
				.move = view_on_move, .orphans = view_on_orphans,
				.orphan_done = view_on_orphan_done,
				.still_blocked = view_on_still_blocked, .opaque = &v};
	if (rec_init(&r, &o.rec, &sink, &view) < 0)
		goto cleanup_set;
	if (rec_converge(&r, &set, &res) < 0) {
		fprintf(stderr, "drover apply: out of memory\n");
		goto cleanup;
	}
	(void)ovr_forget_finished(o.state_dir, &set);
	(void)state_prune_migrations(o.state_dir, &set, o.rec.keep_migrations);
	printf("Apply: %d done, %d failed, %d blocked: %s.\n", res.actions_done, res.actions_failed,
	       res.blocked, res.converged ? "converged" : "NOT converged");
	rc = res.converged ? 0 : 1;
cleanup:
	rec_free(&r);
cleanup_set:
	crd_set_free(&set);
	state_unlock(lock);
	return rc;
}
