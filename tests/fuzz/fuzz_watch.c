/* fuzz_watch: libFuzzer target over the watch-stream parser (controller/kube/kube_stream.c). The
 * input is two control bytes then the stream: byte 0 picks the line cap, byte 1 how the
 * stream is cut into chunks. The stream is fed once whole and once in chunks; both must see
 * the same lines and end the same way, so no cut of the transport changes what is accepted. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/kube/kube_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one pass over the stream saw. */
struct pass {
	size_t max;
	uint64_t hash;            /* FNV-1a over every line and its length */
	size_t lines, events;
};

static void hash_bytes(struct pass *p, const void *b, size_t n)
{
	const uint8_t *u = b;

	for (size_t i = 0; i < n; i++)
		p->hash = (p->hash ^ u[i]) * 1099511628211ull;
}

/* Checks what the decoder promises about one decoded event. */
static void check_event(const struct kube_stream_event *ev)
{
	const json_t *meta = json_object_get(ev->object, "metadata");

	if (!json_is_object(ev->object) || (size_t)ev->type > KUBE_STREAM_ERROR)
		abort();
	if (ev->rv != json_string_value(json_object_get(meta, "resourceVersion")))
		abort();
	if (ev->gone && (ev->type != KUBE_STREAM_ERROR || ev->code != 410))
		abort();
	if (strlen(kube_stream_type_name(ev->type)) < 5)
		abort();
}

/* Decodes each line as the informer does and, like it, ends the stream on an ERROR event
 * or a line that is not an event. */
static int on_line(void *opaque, const char *line, size_t len)
{
	struct pass *p = opaque;
	struct kube_stream_event ev;
	char err[160];
	int rc;

	if (len == 0 || len > p->max || memchr(line, '\n', len))
		abort();
	p->lines++;
	hash_bytes(p, &len, sizeof(len));
	hash_bytes(p, line, len);
	err[0] = '\0';
	rc = kube_stream_decode(line, len, &ev, err, sizeof(err));
	if (rc < 0 && !err[0])
		abort();   /* a refusal always says why */
	if (rc != 0 && ev.object)
		abort();
	if (rc != 0)
		return rc < 0;
	check_event(&ev);
	p->events++;
	rc = ev.type == KUBE_STREAM_ERROR;
	kube_stream_event_free(&ev);
	return rc;
}

/* The line cap from control byte @b: mostly small, so the fuzzer reaches it. */
static size_t pick_cap(uint8_t b)
{
	switch (b & 3) {
	case 0: return 0;                  /* KUBE_STREAM_EVENT_MAX */
	case 1: return 4096;
	default: return 1 + (b >> 2);      /* 1..64 */
	}
}

/* Feeds @n bytes in chunks whose sizes come from control byte @b. Returns the feed result. */
static int feed_chunked(struct kube_stream_lines *l, const uint8_t *s, size_t n, uint8_t b,
			struct pass *p)
{
	static const size_t spans[] = {1, 2, 3, 7, 64, 1000, 16384, 65536};
	size_t span = spans[b & 7];
	uint32_t x = 0x9e3779b9u ^ b;
	int rc = 0;

	while (n > 0 && rc == 0) {
		size_t k;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		k = 1 + x % span;
		if (k > n)
			k = n;
		rc = kube_stream_lines_feed(l, (const char *)s, k, on_line, p);
		s += k;
		n -= k;
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_stream_lines whole, cut;
	struct pass pw = {.hash = 14695981039346656037ull}, pc;
	int rw, rc;

	if (size < 2)
		return 0;
	kube_stream_lines_init(&whole, pick_cap(data[0]));
	kube_stream_lines_init(&cut, pick_cap(data[0]));
	pw.max = whole.max;
	pc = pw;
	rw = kube_stream_lines_feed(&whole, (const char *)data + 2, size - 2, on_line, &pw);
	rc = feed_chunked(&cut, data + 2, size - 2, data[1], &pc);
	if (rw != rc || pw.hash != pc.hash || pw.lines != pc.lines || pw.events != pc.events ||
	    whole.too_long != cut.too_long || (rw == 0 && whole.len != cut.len))
		abort();   /* where the stream was cut changed what was accepted */
	kube_stream_lines_free(&whole);
	kube_stream_lines_free(&cut);
	return 0;
}
