/* test_kube_stream: a watch body is split into lines wherever the transport cuts it, each
 * line under a hard cap, and each line decodes into one event or a clear refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controller/kube/kube_stream.h"

#define ADDED_WEB "{\"type\":\"ADDED\",\"object\":{\"kind\":\"VirtualMachine\"," \
	"\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"resourceVersion\":\"101\"}}}"
#define BOOKMARK_202 "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"VirtualMachine\"," \
	"\"metadata\":{\"resourceVersion\":\"202\"}}}"
#define ERROR_410 "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\"," \
	"\"status\":\"Failure\",\"message\":\"too old resource version: 1 (202)\"," \
	"\"reason\":\"Expired\",\"code\":410}}"

/* What the line callback saw. */
struct seen {
	char lines[8][512];
	size_t n;
	size_t stop_after;        /* end the stream after this many lines (0: never) */
};

static int collect(void *opaque, const char *line, size_t len)
{
	struct seen *s = opaque;

	assert_true(len > 0 && len < sizeof(s->lines[0]));
	assert_true(s->n < 8);
	memcpy(s->lines[s->n], line, len);
	s->lines[s->n][len] = '\0';
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

/* Feeds @text in chunks of @step bytes. Returns the first nonzero feed result, or 0. */
static int feed_in_steps(struct kube_stream_lines *l, const char *text, size_t step, struct seen *s)
{
	size_t len = strlen(text);

	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		int rc = kube_stream_lines_feed(l, text + off, n, collect, s);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static void test_a_line_split_across_chunks_arrives_whole(void **state)
{
	const char *stream = ADDED_WEB "\n" BOOKMARK_202 "\n";
	(void)state;

	for (size_t step = 1; step <= 7; step++) {
		struct kube_stream_lines l;
		struct seen s = {0};

		kube_stream_lines_init(&l, 0);
		assert_int_equal(feed_in_steps(&l, stream, step, &s), 0);
		assert_int_equal(s.n, 2);
		assert_string_equal(s.lines[0], ADDED_WEB);
		assert_string_equal(s.lines[1], BOOKMARK_202);
		assert_int_equal(l.len, 0);   /* nothing left over */
		kube_stream_lines_free(&l);
	}
}

static void test_several_events_in_one_chunk_and_a_partial_tail(void **state)
{
	struct kube_stream_lines l;
	struct seen s = {0};
	(void)state;

	kube_stream_lines_init(&l, 0);
	assert_int_equal(feed_in_steps(&l, ADDED_WEB "\n\n" BOOKMARK_202 "\n{\"type\":", 4096, &s), 0);
	assert_int_equal(s.n, 2);      /* the empty line is skipped, the tail waits */
	assert_int_equal(l.len, strlen("{\"type\":"));
	assert_int_equal(feed_in_steps(&l, "\"DELETED\"}\n", 4096, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.lines[2], "{\"type\":\"DELETED\"}");
	kube_stream_lines_free(&l);
}

static void test_the_callback_ends_the_stream(void **state)
{
	struct kube_stream_lines l;
	struct seen s = {.stop_after = 1};
	(void)state;

	kube_stream_lines_init(&l, 0);
	assert_int_equal(feed_in_steps(&l, "a\nb\nc\n", 4096, &s), 1);
	assert_int_equal(s.n, 1);
	kube_stream_lines_free(&l);
}

static void test_an_over_long_line_is_refused_and_stays_refused(void **state)
{
	struct kube_stream_lines l;
	struct seen s = {0};
	(void)state;

	kube_stream_lines_init(&l, 8);
	assert_int_equal(feed_in_steps(&l, "12345678\n", 4096, &s), 0);   /* exactly the cap */
	assert_int_equal(feed_in_steps(&l, "1234", 4096, &s), 0);
	assert_int_equal(feed_in_steps(&l, "56789\n", 4096, &s), -1);     /* split: still refused */
	assert_true(l.too_long);
	assert_int_equal(feed_in_steps(&l, "ok\n", 4096, &s), -1);
	assert_int_equal(s.n, 1);
	kube_stream_lines_free(&l);

	kube_stream_lines_init(&l, 8);
	assert_int_equal(feed_in_steps(&l, "123456789\n", 4096, &s), -1); /* whole in one chunk */
	kube_stream_lines_free(&l);
}

static int never_called(void *opaque, const char *line, size_t len)
{
	(void)opaque;
	(void)line;
	(void)len;
	fail_msg("a line over the cap reached the callback");
	return 1;
}

/* The real cap: a 4 MiB + 1 line arriving in 16 KiB chunks (curl's size) is refused. */
static void test_a_line_over_the_event_cap_is_refused(void **state)
{
	static char chunk[16384];
	struct kube_stream_lines l;
	size_t sent = 0;
	int rc = 0;
	(void)state;

	memset(chunk, 'x', sizeof(chunk));
	kube_stream_lines_init(&l, 0);
	while (rc == 0 && sent <= KUBE_STREAM_EVENT_MAX) {
		rc = kube_stream_lines_feed(&l, chunk, sizeof(chunk), never_called, NULL);
		sent += sizeof(chunk);
	}
	assert_int_equal(rc, -1);
	assert_true(l.too_long);
	assert_true(sent > KUBE_STREAM_EVENT_MAX);
	assert_true(l.alloc <= KUBE_STREAM_EVENT_MAX);   /* the buffer never outgrew the cap */
	kube_stream_lines_free(&l);
}

/* The cap counts the line, not the line plus whatever else shares its chunk. */
static void test_a_line_under_the_cap_is_taken_whatever_shares_its_chunk(void **state)
{
	struct kube_stream_lines l;
	struct seen s = {0};
	(void)state;

	kube_stream_lines_init(&l, 8);
	assert_int_equal(feed_in_steps(&l, "123456", 4096, &s), 0);
	assert_int_equal(feed_in_steps(&l, "78\nabcdefgh\nxy", 4096, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0], "12345678");
	assert_string_equal(s.lines[1], "abcdefgh");
	kube_stream_lines_free(&l);
}

static void test_added_decodes_with_its_resource_version(void **state)
{
	struct kube_stream_event ev;
	char err[128];
	(void)state;

	assert_int_equal(kube_stream_decode(ADDED_WEB, strlen(ADDED_WEB), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, KUBE_STREAM_ADDED);
	assert_string_equal(ev.rv, "101");
	assert_string_equal(json_string_value(json_object_get(json_object_get(ev.object, "metadata"), "name")),
			    "web-1");
	assert_false(ev.gone);
	kube_stream_event_free(&ev);
	assert_null(ev.object);
}

static void test_bookmark_carries_only_a_resource_version(void **state)
{
	struct kube_stream_event ev;
	char err[128];
	(void)state;

	assert_int_equal(kube_stream_decode(BOOKMARK_202, strlen(BOOKMARK_202), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, KUBE_STREAM_BOOKMARK);
	assert_string_equal(kube_stream_type_name(ev.type), "BOOKMARK");
	assert_string_equal(ev.rv, "202");
	kube_stream_event_free(&ev);
}

static void test_error_410_means_gone_and_other_codes_do_not(void **state)
{
	const char *e500 = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500}}";
	struct kube_stream_event ev;
	char err[128];
	(void)state;

	assert_int_equal(kube_stream_decode(ERROR_410, strlen(ERROR_410), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, KUBE_STREAM_ERROR);
	assert_int_equal(ev.code, 410);
	assert_true(ev.gone);
	assert_string_equal(ev.message, "too old resource version: 1 (202)");
	kube_stream_event_free(&ev);

	assert_int_equal(kube_stream_decode(e500, strlen(e500), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.code, 500);
	assert_false(ev.gone);
	assert_null(ev.message);
	kube_stream_event_free(&ev);
}

static void test_invalid_json_and_non_events_are_refused_with_a_reason(void **state)
{
	static const char *const bad[] = {
		"{\"type\":\"ADDED\",\"object\":{",            /* cut short */
		"not json",
		"[1,2]",                                       /* no type */
		"{\"type\":\"ADDED\"}",                        /* no object */
		"{\"type\":\"ADDED\",\"object\":[]}",          /* object not an object */
		"{\"type\":7,\"object\":{}}",
		"{\"type\":\"ADDED\",\"object\":{\"a\":\"x\\u0000y\"}}",  /* NUL in a string */
	};
	struct kube_stream_event ev;
	char err[128];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(kube_stream_decode(bad[i], strlen(bad[i]), &ev, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_null(ev.object);
	}
}

static void test_an_unknown_type_is_skipped(void **state)
{
	const char *line = "{\"type\":\"RESYNC\",\"object\":{}}";
	struct kube_stream_event ev;
	char err[128];
	(void)state;

	assert_int_equal(kube_stream_decode(line, strlen(line), &ev, err, sizeof(err)), 1);
	assert_null(ev.object);
}

static void test_decode_refuses_an_event_over_the_cap(void **state)
{
	struct kube_stream_event ev;
	char err[128];
	(void)state;

	/* Refused on its length alone: the bytes are never read. */
	assert_int_equal(kube_stream_decode("", (size_t)KUBE_STREAM_EVENT_MAX + 1, &ev, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_line_split_across_chunks_arrives_whole),
		cmocka_unit_test(test_several_events_in_one_chunk_and_a_partial_tail),
		cmocka_unit_test(test_the_callback_ends_the_stream),
		cmocka_unit_test(test_an_over_long_line_is_refused_and_stays_refused),
		cmocka_unit_test(test_a_line_over_the_event_cap_is_refused),
		cmocka_unit_test(test_a_line_under_the_cap_is_taken_whatever_shares_its_chunk),
		cmocka_unit_test(test_added_decodes_with_its_resource_version),
		cmocka_unit_test(test_bookmark_carries_only_a_resource_version),
		cmocka_unit_test(test_error_410_means_gone_and_other_codes_do_not),
		cmocka_unit_test(test_invalid_json_and_non_events_are_refused_with_a_reason),
		cmocka_unit_test(test_an_unknown_type_is_skipped),
		cmocka_unit_test(test_decode_refuses_an_event_over_the_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
