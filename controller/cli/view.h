/* view: what drover prints — the plan, like `terraform plan`, and live progress of
 * moves (a bar per move on a terminal, plain lines otherwise). */
#ifndef DROVER_VIEW_H
#define DROVER_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "reconcile/execute.h"
#include "reconcile/plan.h"

struct view {
	FILE *out;
	bool tty;                 /* rewrite one progress line in place */
	double last_line;         /* monotonic time of the last plain progress line */
	bool line_open;           /* a progress line without its newline is on screen */
};

/* Sets up a view on @out; tty is detected. This function can't fail. */
void view_init(struct view *v, FILE *out);

/* Prints every action with its reason and a closing summary. Returns the number of
 * actions that change something. This function can't fail. */
int view_print_plan(struct view *v, const struct plan *p);

/* Prints every orphan (drover's domain no VM declares) with what happens to it and a
 * summary when there are any. Returns the number to prune. This function can't fail. */
int view_print_orphans(struct view *v, const struct plan_orphans *o);

/* rec_view callbacks (opaque = struct view *). */
void view_on_orphans(void *opaque, const struct plan_orphans *o);
void view_on_orphan_done(void *opaque, const struct plan_orphan *o, int rc, const char *why);
void view_on_plan(void *opaque, const struct plan *p);
void view_on_action_done(void *opaque, const struct plan_action *a, int rc, const char *why);
void view_on_still_blocked(void *opaque, const struct plan *p);
void view_on_move(void *opaque, const struct plan_action *a, const struct exec_move *m);

/* Shows Migration @m as it is now: a line when its phase differs from *@shown (then
 * *@shown is updated), a progress bar while it runs. This function can't fail. */
void view_migration(struct view *v, const struct crd_migration *m, enum crd_mig_phase *shown);

/* The end of an action as one log event (controllers log, they draw no bars): "action
 * done" or "action failed" with the VM, the action, its hosts and why it failed.
 * Usable as rec_view's action_done (@opaque is ignored). This function can't fail. */
void view_log_action_done(void *opaque, const struct plan_action *a, int rc, const char *why);
/* The end of a prune as one log event, likewise. This function can't fail. */
void view_log_orphan_done(void *opaque, const struct plan_orphan *o, int rc, const char *why);

/* "12.5 MiB" for @bytes in @buf. Returns @buf. This function can't fail. */
const char *view_bytes(unsigned long long bytes, char *buf, size_t size);

#endif
