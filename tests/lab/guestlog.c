/* Serial-log reader for the drover test guest: a line parser fed by a file poller, run either by a
 * follower thread (timed) or straight through a finished file (untimed). */
#include "tests/lab/guestlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536
/* Bytes one poll may read: a follower that starts late on a big file catches up over several
 * polls instead of holding the lock for long. */
#define POLL_READ_MAX (16L * 1024 * 1024)

struct parser {
	char line[GUESTLOG_LINE_CAP + 1];
	size_t len;
	bool overflow; /* dropping the rest of an over-long line */
	bool have_prev;
	bool boundary; /* a boot, or a line that may hide one, since the last heartbeat */
	struct timespec prev;
	struct guestlog_result res;
};

struct source {
	const char *path;
	off_t offset;
	bool known;  /* dev/ino below describe the file read so far */
	dev_t dev;
	ino_t ino;
};

struct guestlog_watch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;  /* guarded by lock */
	int error;  /* guarded by lock: 0, or -1 after a read error or the time cap */
	char *path;           /* owned copy; src.path points here */
	struct source src;    /* the thread's alone */
	struct parser parser; /* guarded by lock */
};

static long ts_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) * 1000L + (a->tv_nsec - b->tv_nsec) / 1000000L;
}

/* Reads the unsigned decimal right after "KEY=" in @line, where KEY starts the line or follows a
 * space. Returns 0, or -1 when the field is absent or not a number. */
static int field_u64(const char *line, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = line;
	char *end;
	unsigned long long v;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=')
			break;
		p += klen;
	}
	if (!p || p[klen + 1] < '0' || p[klen + 1] > '9')
		return -1;
	errno = 0;
	v = strtoull(p + klen + 1, &end, 10);
	if (errno || (*end != '\0' && *end != ' '))
		return -1;
	*out = v;
	return 0;
}

static uint32_t field_u32_or_zero(const char *line, const char *key)
{
	uint64_t v;

	return field_u64(line, key, &v) == 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
}

static void parse_banner(struct parser *p, const char *line)
{
	p->res.banner_seen = true;
	p->res.banners++;
	p->boundary = true;
	p->res.banner_mem_mib = field_u32_or_zero(line, "mem_mib");
	p->res.banner_dirty_mib = field_u32_or_zero(line, "dirty_mib");
	p->res.banner_rate_mibps = field_u32_or_zero(line, "rate_mibps");
	p->res.banner_hz = field_u32_or_zero(line, "hz");
}

/* Takes "hb COUNTER pass=P corrupt=C dirtied_mib=D"; @now is NULL when untimed. */
static void parse_heartbeat(struct parser *p, const char *line, const struct timespec *now)
{
	struct guestlog_result *r = &p->res;
	uint64_t counter, pass, corrupt, dirtied;
	char *end;

	if (line[3] < '0' || line[3] > '9')
		goto malformed;
	errno = 0;
	counter = strtoull(line + 3, &end, 10);
	if (errno || *end != ' ' || field_u64(line, "pass", &pass) ||
	    field_u64(line, "corrupt", &corrupt) || field_u64(line, "dirtied_mib", &dirtied))
		goto malformed;
	if (r->heartbeats == 0) {
		r->first_counter = counter;
		r->first_dirtied_mib = dirtied;
		if (now)
			r->first_heartbeat = *now;
	} else if (counter <= r->last_counter) {
		r->regressions++;
		if (!p->boundary)
			r->interleaved++;
	}
	p->boundary = false;
	if (now && p->have_prev && ts_diff_ms(now, &p->prev) > r->max_gap_ms)
		r->max_gap_ms = ts_diff_ms(now, &p->prev);
	if (now) {
		p->prev = *now;
		p->have_prev = true;
		r->last_heartbeat = *now;
	}
	r->heartbeats++;
	r->last_counter = counter;
	r->last_pass = pass;
	r->last_dirtied_mib = dirtied;
	if (corrupt > r->max_corrupt)
		r->max_corrupt = corrupt;
	return;
malformed:
	r->lines_skipped++;
	p->boundary = true;   /* a line cut by a killed QEMU may have swallowed a banner */
}

static void parse_line(struct parser *p, const struct timespec *now)
{
	if (p->len && p->line[p->len - 1] == '\r')
		p->len--;
	p->line[p->len] = '\0';
	if (strncmp(p->line, "hb ", 3) == 0)
		parse_heartbeat(p, p->line, now);
	else if (strncmp(p->line, "drover-guest ready ", 19) == 0)
		parse_banner(p, p->line);
	else if (strncmp(p->line, "drover-guest info ", 18) && strncmp(p->line, "corrupt ", 8) &&
		 strncmp(p->line, "clock ", 6))
		p->boundary = true;   /* unknown: perhaps a cut line glued to a banner */
}

/* Feeds @n bytes; complete lines are parsed, a partial one is kept for the next call. */
static void parser_feed(struct parser *p, const char *buf, size_t n, const struct timespec *now)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!p->overflow)
				parse_line(p, now);
			p->len = 0;
			p->overflow = false;
		} else if (p->overflow) {
			continue;
		} else if (p->len == GUESTLOG_LINE_CAP) {
			p->overflow = true;
			p->boundary = true;
			p->res.lines_skipped++;
		} else {
			p->line[p->len++] = buf[i];
		}
	}
}

/* Reads what was appended to the file since the last call, up to @max bytes, and feeds it. A file
 * that is missing reads as empty; one that shrank or was replaced is read again from the start.
 * Returns the bytes read, or -1 with errno set on a read error. @lock, when not NULL, is held
 * while parsing. */
static long source_poll(struct source *s, struct parser *p, long max, bool timed,
			pthread_mutex_t *lock)
{
	char buf[READ_CHUNK];
	struct timespec now;
	struct stat st;
	long total = 0;
	ssize_t got;
	int fd;

	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (s->known && (st.st_dev != s->dev || st.st_ino != s->ino || st.st_size < s->offset)) {
		s->offset = 0;
		if (lock)
			pthread_mutex_lock(lock);
		p->len = 0; /* a partial line from the old file would glue onto the new one */
		p->overflow = false;
		if (lock)
			pthread_mutex_unlock(lock);
	}
	s->known = true;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	clock_gettime(CLOCK_MONOTONIC, &now);
	while (total < max) {
		got = pread(fd, buf, sizeof(buf), s->offset);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		if (lock)
			pthread_mutex_lock(lock);
		parser_feed(p, buf, (size_t)got, timed ? &now : NULL);
		if (lock)
			pthread_mutex_unlock(lock);
		s->offset += got;
		total += got;
	}
	close(fd);
	return total;
fail:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

static void deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *follow_main(void *arg)
{
	struct guestlog_watch *w = arg;
	struct timespec start, now, next;
	bool stop = false;
	long rc;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop) {
		rc = source_poll(&w->src, &w->parser, POLL_READ_MAX, true, &w->lock);
		clock_gettime(CLOCK_MONOTONIC, &now);
		pthread_mutex_lock(&w->lock);
		if (rc < 0 || ts_diff_ms(&now, &start) > GUESTLOG_FOLLOW_MAX_MS) {
			w->error = -1;
			w->stop = true;
		}
		deadline_after(&next, GUESTLOG_POLL_MS);
		while (!w->stop && pthread_cond_timedwait(&w->wake, &w->lock, &next) != ETIMEDOUT)
			;
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);
	}
	/* One last look, so lines written just before the stop are counted. */
	if (w->error == 0 && source_poll(&w->src, &w->parser, POLL_READ_MAX, true, &w->lock) < 0)
		w->error = -1;
	return NULL;
}

static void watch_free(struct guestlog_watch *w)
{
	if (!w)
		return;
	free(w->path);
	free(w);
}

int guestlog_follow_start(const char *path, struct guestlog_watch **watch)
{
	struct guestlog_watch *w = NULL;
	pthread_condattr_t ca;
	int rc;

	*watch = NULL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)))
		goto fail_errno;
	w->src.path = w->path;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&w->thread, NULL, follow_main, w);
	if (rc != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		errno = rc;
		goto fail_errno;
	}
	*watch = w;
	return 0;
fail_errno:
	watch_free(w);
	return -1;
}

void guestlog_follow_peek(struct guestlog_watch *watch, struct guestlog_result *result)
{
	pthread_mutex_lock(&watch->lock);
	*result = watch->parser.res;
	pthread_mutex_unlock(&watch->lock);
}

int guestlog_follow_stop(struct guestlog_watch *watch, struct guestlog_result *result)
{
	int rc;

	if (!watch) {
		if (result)
			memset(result, 0, sizeof(*result));
		return 0;
	}
	pthread_mutex_lock(&watch->lock);
	watch->stop = true;
	pthread_cond_signal(&watch->wake);
	pthread_mutex_unlock(&watch->lock);
	pthread_join(watch->thread, NULL);
	if (result)
		*result = watch->parser.res;
	rc = watch->error;
	pthread_cond_destroy(&watch->wake);
	pthread_mutex_destroy(&watch->lock);
	watch_free(watch);
	return rc;
}

int guestlog_analyze_file(const char *path, struct guestlog_result *result)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct source s = {.path = path};
	struct stat st;
	long rc;
	int ret = -1;

	memset(result, 0, sizeof(*result));
	if (!p)
		return -1;
	if (stat(path, &st) < 0)
		goto cleanup;
	if (st.st_size > GUESTLOG_FILE_MAX) {
		errno = EFBIG;
		goto cleanup;
	}
	rc = source_poll(&s, p, GUESTLOG_FILE_MAX, false, NULL);
	if (rc < 0)
		goto cleanup;
	*result = p->res;
	ret = 0;
cleanup:
	free(p);
	return ret;
}

/* Waits until @reached(result, @n) holds for the file at @path, for at most @timeout_ms.
 * Returns 0 when it does, -1 on timeout or a read error. */
static int wait_until(const char *path, bool (*reached)(const struct guestlog_result *, uint64_t),
		      uint64_t n, long timeout_ms)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct source s = {.path = path};
	struct timespec start, now, nap = {0, GUESTLOG_POLL_MS * 1000000L};
	long i, max_polls = timeout_ms / GUESTLOG_POLL_MS + 1;
	int ret = -1;

	if (!p)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < max_polls; i++) {
		if (source_poll(&s, p, POLL_READ_MAX, false, NULL) < 0)
			break;
		if (reached(&p->res, n)) {
			ret = 0;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_diff_ms(&now, &start) >= timeout_ms)
			break;
		nanosleep(&nap, NULL);
	}
	free(p);
	return ret;
}

static bool has_heartbeats(const struct guestlog_result *r, uint64_t n)
{
	return r->heartbeats >= n;
}

static bool has_dirtied(const struct guestlog_result *r, uint64_t mib)
{
	return r->heartbeats && r->last_dirtied_mib >= mib;
}

int guestlog_wait_heartbeats(const char *path, uint64_t n, long timeout_ms)
{
	return wait_until(path, has_heartbeats, n, timeout_ms);
}

int guestlog_wait_dirtied(const char *path, uint64_t mib, long timeout_ms)
{
	return wait_until(path, has_dirtied, mib, timeout_ms);
}
