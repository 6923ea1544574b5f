/* clk: the clock, kept behind a few functions so that everything else that needs
 * time takes it as a value (the planner takes none at all). */
#ifndef DROVER_CLK_H
#define DROVER_CLK_H

#include "crd/compiler.h"

#include <stddef.h>
#include <time.h>

/* Monotonic seconds since an arbitrary point. This function can't fail. */
double clk_mono(void);

/* Seconds since the epoch (CLOCK_REALTIME). This function can't fail. */
double clk_wall(void);

/* The CLOCK_REALTIME instant @seconds from now (for pthread_cond_timedwait);
 * negative values give now. This function can't fail. */
struct timespec clk_realtime_after(double seconds);

/* Now as RFC 3339 UTC ("2026-11-23T18:13:51Z") in @buf (at least 21 bytes).
 * Returns @buf. This function can't fail. */
char *clk_rfc3339(char *buf, size_t size);

/* Now as a Kubernetes MicroTime ("2026-11-23T18:13:51.123456Z") in @buf (at least 28
 * bytes). Returns @buf. This function can't fail. */
char *clk_rfc3339_micro(char *buf, size_t size);

/* Parses an RFC 3339 time ("...Z" or "+hh:mm", fractions allowed) into seconds since the
 * epoch. Returns 0, or -1 when @s is not one (or NULL). */
int clk_parse_rfc3339(const char *s, double *out) DROVER_WUR;

/* Seconds from the RFC 3339 time @since to now; 0 when it does not parse or lies ahead.
 * This function can't fail. */
double clk_seconds_since(const char *since);

/* Sleeps @seconds (interrupted sleeps are resumed). This function can't fail. */
void clk_sleep(double seconds);

#endif
