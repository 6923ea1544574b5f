/* clk: the clock, kept behind a few functions. */
#include "reconcile/clk.h"

#include <errno.h>
#include <stdio.h>

double clk_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct timespec clk_realtime_after(double seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (seconds > 0) {
		long long ns = ts.tv_nsec + (long long)((seconds - (long long)seconds) * 1e9);
		ts.tv_sec += (time_t)seconds + ns / 1000000000LL;
		ts.tv_nsec = ns % 1000000000LL;
	}
	return ts;
}

char *clk_rfc3339(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	if (!strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) && size)
		buf[0] = '\0';
	return buf;
}

void clk_sleep(double seconds)
{
	struct timespec ts = {.tv_sec = (time_t)seconds,
			      .tv_nsec = (long)((seconds - (time_t)seconds) * 1e9)};
	while (seconds > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
