/* plan_balance: with a PlacementPolicy's balance set, live moves of unpinned LiveMigrate VMs
 * off the most used schedulable host of its namespace to less used ones while the most and
 * the least used differ by more than maxSpreadPercent points — within maxMovesPerHour, never breaking a required
 * rule, and without ping-pong. Pure: the history is the Balance Migrations of the set, the
 * time is plan_limits.now. */
#ifndef DROVER_PLAN_BALANCE_H
#define DROVER_PLAN_BALANCE_H

#include "reconcile/plan_ctx.h"

/* A VM moved by balance is left alone this long. */
#define PLAN_BALANCE_HOLD_S 3600
/* After a move the target must stay at least this many percentage points below the source:
 * a move back would then be uphill, so two hosts never trade a VM to and fro. */
#define PLAN_BALANCE_MARGIN 2.0

/* Pass four: turns converged VMs' NONE actions into Balance live moves. Runs only on a
 * settled cluster (no move in flight or planned) and when c->lim.now is known. On out of
 * memory sets c->oom. This function can't fail otherwise. */
void plan_balance(struct plan_ctx *c);

#endif
