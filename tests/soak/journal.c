/* journal: the soak's timeline (every step, fault, drover start and what the monitor saw),
 * its violations, and the report with a timeline before each violation. */
#include "tests/soak/soak.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_MAX 50000
#define EVENT_TEXT 240
#define VIOLATIONS_MAX 100
#define TIMELINE_S 90.0   /* the events this long before a violation are its timeline */

struct event {
	double t;
	char text[EVENT_TEXT];
};

static struct {
	pthread_mutex_t lock;
	struct timespec start;
	FILE *log;
	struct event *events;
	size_t n;
	size_t violation_at[VIOLATIONS_MAX];   /* index of the violation's event */
	int violations;
} j = {.lock = PTHREAD_MUTEX_INITIALIZER};

int journal_open(const char *events_path)
{
	clock_gettime(CLOCK_MONOTONIC, &j.start);
	j.events = calloc(EVENTS_MAX, sizeof(*j.events));
	j.log = fopen(events_path, "w");
	return j.events && j.log ? 0 : -1;
}

double journal_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - j.start.tv_sec) + (now.tv_nsec - j.start.tv_nsec) / 1e9;
}

/* Records one event; returns its index, or EVENTS_MAX when it was only printed. */
static size_t record(const char *prefix, const char *fmt, va_list ap)
{
	char text[EVENT_TEXT];
	double t = journal_now();
	size_t at = EVENTS_MAX;
	int n = snprintf(text, sizeof(text), "%s", prefix);

	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	pthread_mutex_lock(&j.lock);
	if (j.events && j.n < EVENTS_MAX) {
		at = j.n++;
		j.events[at].t = t;
		snprintf(j.events[at].text, sizeof(j.events[at].text), "%s", text);
	}
	if (j.log) {
		fprintf(j.log, "%8.1f  %s\n", t, text);
		fflush(j.log);
	}
	printf("soak %8.1f  %s\n", t, text);
	fflush(stdout);
	pthread_mutex_unlock(&j.lock);
	return at;
}

void journal_event(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record("", fmt, ap);
	va_end(ap);
}

void journal_violation(const char *fmt, ...)
{
	va_list ap;
	size_t at;

	va_start(ap, fmt);
	at = record("VIOLATION: ", fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&j.lock);
	if (j.violations < VIOLATIONS_MAX)
		j.violation_at[j.violations] = at;
	j.violations++;
	pthread_mutex_unlock(&j.lock);
}

int journal_violations(void)
{
	pthread_mutex_lock(&j.lock);
	int n = j.violations;
	pthread_mutex_unlock(&j.lock);
	return n;
}

static void write_timeline(FILE *f, size_t at)
{
	size_t first = at;

	if (at >= j.n) {
		fprintf(f, "(the journal was full: see events.log)\n");
		return;
	}
	while (first > 0 && j.events[first - 1].t >= j.events[at].t - TIMELINE_S)
		first--;
	for (size_t i = first; i <= at; i++)
		fprintf(f, "- %8.1f s  %s\n", j.events[i].t, j.events[i].text);
}

int journal_report(const char *path, const struct soak_totals *t)
{
	unsigned ops = 0, faults = 0;
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (int k = 0; k < SOAK_KINDS; k++) {
		if (soak_kind_is_fault((enum soak_kind)k))
			faults += t->kinds[k];
		else if (k != SOAK_END_HOST)
			ops += t->kinds[k];
	}
	pthread_mutex_lock(&j.lock);
	fprintf(f, "# drover soak\n\n");
	fprintf(f, "mode: %s\nseed: %lu\nseconds: %.0f\nhosts: %d\nvms: %d\n", t->mode, t->seed,
		t->seconds, SOAK_HOSTS, SOAK_VMS);
	fprintf(f, "operations: %u\n", ops);
	for (int k = 0; k < SOAK_KINDS; k++)
		if (!soak_kind_is_fault((enum soak_kind)k) && k != SOAK_END_HOST)
			fprintf(f, "operations.%s: %u\n", soak_kind_name((enum soak_kind)k), t->kinds[k]);
	fprintf(f, "faults: %u\n", faults);
	for (int k = 0; k < SOAK_KINDS; k++)
		if (soak_kind_is_fault((enum soak_kind)k))
			fprintf(f, "faults.%s: %u\n", soak_kind_name((enum soak_kind)k), t->kinds[k]);
	fprintf(f, "faults.fault_point_reached: %u\n", t->points_fired);
	fprintf(f, "moves: %lu\n", t->moves);
	for (int k = 0; k < SOAK_REASONS; k++)
		fprintf(f, "migrations_succeeded.%s: %lu\n", soak_reasons[k], t->succeeded[k]);
	fprintf(f, "drover_starts: %u\n", t->drover_starts);
	fprintf(f, "drover_rss_max_kib: %ld\n", t->rss_max_kib);
	fprintf(f, "monitor_samples: %lu\n", t->samples);
	fprintf(f, "violations: %d\n", j.violations);
	for (int v = 0; v < j.violations && v < VIOLATIONS_MAX; v++) {
		size_t at = j.violation_at[v];
		fprintf(f, "\n## violation %d: %s\n\ntimeline (the %.0f s before it):\n\n", v + 1,
			at < j.n ? j.events[at].text : "?", TIMELINE_S);
		write_timeline(f, at);
	}
	pthread_mutex_unlock(&j.lock);
	return fclose(f) == 0 ? 0 : -1;
}

void journal_close(void)
{
	pthread_mutex_lock(&j.lock);
	if (j.log)
		fclose(j.log);
	j.log = NULL;
	free(j.events);
	j.events = NULL;
	j.n = 0;
	pthread_mutex_unlock(&j.lock);
}
