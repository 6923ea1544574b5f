/* clk: the clock, kept behind three functions so that everything else that needs
 * time takes it as a value (the planner takes none at all). */
#ifndef DROVER_CLK_H
#define DROVER_CLK_H

#include <stddef.h>
#include <time.h>

/* Monotonic seconds since an arbitrary point. This function can't fail. */
double clk_mono(void);

/* The CLOCK_REALTIME instant @seconds from now (for pthread_cond_timedwait);
 * negative values give now. This function can't fail. */
struct timespec clk_realtime_after(double seconds);

/* Now as RFC 3339 UTC ("2026-11-23T18:13:51Z") in @buf (at least 21 bytes).
 * Returns @buf. This function can't fail. */
char *clk_rfc3339(char *buf, size_t size);

/* Sleeps @seconds (interrupted sleeps are resumed). This function can't fail. */
void clk_sleep(double seconds);

#endif
