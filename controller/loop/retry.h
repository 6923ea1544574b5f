/* retry: capped exponential backoff for the moves and actions drover decides itself,
 * per VM, across passes of a long-running controller. Pure: the time is passed in. */
#ifndef DROVER_RETRY_H
#define DROVER_RETRY_H

#include <stddef.h>

#define RETRY_BASE_S 5.0
#define RETRY_CAP_S 300.0
#define RETRY_MAX_KEYS 4096
#define RETRY_KEY_MAX 320

struct retry_entry {
	char key[RETRY_KEY_MAX];   /* "namespace/name" */
	int failures;
	double next_try;           /* monotonic seconds */
	char why[512];             /* the last failure */
};

struct retry_table {
	struct retry_entry *items;
	size_t n;
};

/* Records a failure of @key at @now: the next try waits RETRY_BASE_S doubling per
 * failure up to RETRY_CAP_S. A full table forgets the key instead (it is then retried
 * at once, as without backoff). This function can't fail. */
void retry_failed(struct retry_table *t, const char *key, const char *why, double now);

/* Forgets @key after a success. This function can't fail. */
void retry_succeeded(struct retry_table *t, const char *key);

/* Seconds until @key may be tried again (0 when it may now). Can't fail. */
double retry_wait_left(const struct retry_table *t, const char *key, double now);

/* Seconds until the earliest retry still waiting falls due, or -1 when none waits. A
 * controller sleeps no longer than this, so "next try in 5 s" holds. An entry already due
 * does not count: the pass after its due time tried it (or found it blocked, when it
 * stays due), and waking for it again would spin. */
double retry_next_due(const struct retry_table *t, double now);

/* The last failure of @key, or NULL. Owned by the table. */
const char *retry_why(const struct retry_table *t, const char *key);

/* Frees the table; accepts NULL. */
void retry_free(struct retry_table *t);

#endif
