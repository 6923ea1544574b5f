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

double clk_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
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

char *clk_rfc3339_micro(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (!strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm))
		base[0] = '\0';
	snprintf(buf, size, "%s.%06ldZ", base, ts.tv_nsec / 1000);
	return buf;
}

int clk_parse_rfc3339(const char *s, double *out)
{
	struct tm tm = {0};
	int consumed = 0, oh = 0, om = 0;
	double frac = 0, scale = 0.1;
	const char *p;
	char sign;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			 &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed < 19)
		return -1;
	p = s + consumed;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	sign = *p;
	if (sign == 'Z' || sign == 'z') {
		p++;
	} else if (sign == '+' || sign == '-') {
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (double)timegm(&tm) + frac - (sign == '-' ? -1 : sign == '+' ? 1 : 0) * (oh * 3600.0 + om * 60.0);
	return 0;
}

double clk_seconds_since(const char *since)
{
	double then;

	if (clk_parse_rfc3339(since, &then) < 0)
		return 0;
	double s = clk_wall() - then;
	return s > 0 ? s : 0;
}

void clk_sleep(double seconds)
{
	struct timespec ts = {.tv_sec = (time_t)seconds,
			      .tv_nsec = (long)((seconds - (time_t)seconds) * 1e9)};
	while (seconds > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
