/* Reads the serial log of the drover test guest (hack/guest): follows it live, timestamping
 * heartbeats as they arrive, or analyses a finished file. The guest's line format is described at
 * the top of hack/guest/main.c; lines this reader does not know are ignored. */
#ifndef DROVER_TESTS_LAB_GUESTLOG_H
#define DROVER_TESTS_LAB_GUESTLOG_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>


/* Lines longer than this (newline excluded) are skipped whole and counted in lines_skipped. */
#define GUESTLOG_LINE_CAP 256
/* How often the follower and guestlog_wait_heartbeats() look at the file. */
#define GUESTLOG_POLL_MS 20
/* A follower that is never stopped gives up after this long, so no thread outlives its test. */
#define GUESTLOG_FOLLOW_MAX_MS (2L * 60 * 60 * 1000)
/* guestlog_analyze_file() refuses files larger than this. */
#define GUESTLOG_FILE_MAX (256L * 1024 * 1024)

struct guestlog_result {
	bool banner_seen;               /* "drover-guest ready ..." was seen */
	uint64_t banners;               /* how many: a guest reboot shows as a second banner */
	uint32_t banner_mem_mib;        /* values of the last banner; 0 when absent */
	uint32_t banner_dirty_mib;
	uint32_t banner_rate_mibps;
	uint32_t banner_hz;
	uint64_t heartbeats;            /* complete, well-formed "hb" lines */
	uint64_t first_counter;         /* of the first and last heartbeat; 0 when none */
	uint64_t last_counter;
	uint64_t regressions;           /* heartbeats whose counter was <= the one before */
	uint64_t interleaved;           /* of those, the ones with no boot (nor a line that may
	                                 * hide one) in between: two copies writing at once */
	uint64_t max_corrupt;           /* largest corrupt= seen */
	uint64_t last_pass;             /* pass= of the last heartbeat */
	uint64_t first_dirtied_mib;     /* dirtied_mib= of the first and last heartbeat */
	uint64_t last_dirtied_mib;
	uint64_t lines_skipped;         /* over GUESTLOG_LINE_CAP, or "hb" lines that did not parse */
	long max_gap_ms;                /* largest gap between consecutive heartbeat arrivals; 0 untimed */
	struct timespec first_heartbeat; /* CLOCK_MONOTONIC arrival times; zero when untimed or none */
	struct timespec last_heartbeat;
};

struct guestlog_watch;

/* Starts a thread that follows the log at @path every GUESTLOG_POLL_MS: the file may not exist yet,
 * may be appended to by several writers in turn (source and target QEMU of a migration), and may be
 * truncated or replaced (then it is read again from the start). Returns 0 with *@watch set, or -1
 * with errno set (nothing is started). The caller owns *@watch and must pass it to
 * guestlog_follow_stop(). */
DROVER_WUR int guestlog_follow_start(const char *path, struct guestlog_watch **watch);

/* Copies what the follower has seen so far into @result. Thread-safe; can't fail. */
void guestlog_follow_peek(struct guestlog_watch *watch, struct guestlog_result *result);

/* Stops the follower after one last look at the file, fills @result (may be NULL) and frees @watch.
 * Accepts NULL (then @result is zeroed). Returns 0, or -1 when the follower met a read error other
 * than a missing file, or gave up after GUESTLOG_FOLLOW_MAX_MS; @result holds what was seen anyway. */
int guestlog_follow_stop(struct guestlog_watch *watch, struct guestlog_result *result);

/* Fills @result from the finished file at @path, without timing (max_gap_ms = 0, zero times).
 * An unterminated last line is not counted. Returns 0, or -1 with errno set when the file cannot be
 * read or is over GUESTLOG_FILE_MAX. */
DROVER_WUR int guestlog_analyze_file(const char *path, struct guestlog_result *result);

/* Waits until the file at @path holds at least @n heartbeats, for at most @timeout_ms (the file may
 * appear meanwhile). Returns 0 when it does, -1 on timeout or a read error. */
DROVER_WUR int guestlog_wait_heartbeats(const char *path, uint64_t n, long timeout_ms);

/* Waits until a heartbeat of the file at @path reports at least @mib MiB written to the dirty
 * region (dirtied_mib=), for at most @timeout_ms: only written memory takes time to copy, a
 * page never touched goes over as a zero page. Returns 0 when it does, -1 as above. */
DROVER_WUR int guestlog_wait_dirtied(const char *path, uint64_t mib, long timeout_ms);

#endif
