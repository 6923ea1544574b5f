/* test_memsample: where a sample of a guest's pages reads, and what it makes of the pages
 * it read (the reads themselves need a running QEMU: the lab's predict benchmark). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/memsample.h"

#define MIB (1ull << 20)
#define PER_CHUNK (MS_CHUNK_BYTES / MS_PAGE_BYTES)

static unsigned char chunk[MS_CHUNK_BYTES];

/* Every chunk inside [MS_LOW_START, @end), page-aligned, one per stratum, in order. */
static void assert_planned_within(const struct memsample *s, uint64_t end)
{
	uint64_t stratum = (end - MS_LOW_START) / s->n_chunks;

	for (size_t i = 0; i < s->n_chunks; i++) {
		assert_int_equal(s->offset[i] % MS_PAGE_BYTES, 0);
		assert_true(s->offset[i] >= MS_LOW_START + i * stratum);
		assert_true(s->offset[i] + MS_CHUNK_BYTES <= MS_LOW_START + (i + 1) * stratum);
		assert_true(s->offset[i] + MS_CHUNK_BYTES <= end);
	}
}

static void test_plan_reads_only_low_ram(void **state)
{
	struct memsample s;
	(void)state;

	ms_plan(&s, 64 * MIB, 1);
	assert_int_equal(s.n_chunks, MS_CHUNKS);
	assert_planned_within(&s, 64 * MIB);
	/* A large guest: nothing at or above 2 GiB, where a q35 machine may map devices. */
	ms_plan(&s, 16ull << 30, 2);
	assert_int_equal(s.n_chunks, MS_CHUNKS);
	assert_planned_within(&s, MS_LOW_END);
}

static void test_plan_small_guests_get_fewer_chunks_or_none(void **state)
{
	struct memsample s;
	(void)state;

	ms_plan(&s, MS_LOW_START + 4 * MS_CHUNK_BYTES, 3);
	assert_int_equal(s.n_chunks, 4);
	assert_planned_within(&s, MS_LOW_START + 4 * MS_CHUNK_BYTES);
	ms_plan(&s, MS_LOW_START + MS_CHUNK_BYTES, 3);
	assert_int_equal(s.n_chunks, 0);
	ms_plan(&s, 0, 3);
	assert_int_equal(s.n_chunks, 0);
	assert_int_equal(ms_data_bytes(&s, 64 * MIB), 64 * MIB);   /* nothing read: all */
}

static void test_plan_is_the_same_for_a_seed(void **state)
{
	struct memsample a, b;
	(void)state;

	ms_plan(&a, 512 * MIB, 42);
	ms_plan(&b, 512 * MIB, 42);
	assert_memory_equal(a.offset, b.offset, sizeof(a.offset));
	ms_plan(&b, 512 * MIB, 43);
	assert_memory_not_equal(a.offset, b.offset, sizeof(a.offset));
}

/* A sample of @n chunks where the first @data_pages pages of each chunk hold @byte. */
static void sample_with(struct memsample *s, size_t n, size_t data_pages, unsigned char byte)
{
	ms_plan(s, MS_LOW_START + n * MS_CHUNK_BYTES, 0);
	assert_int_equal(s->n_chunks, n);
	memset(chunk, 0, sizeof(chunk));
	memset(chunk, byte, data_pages * MS_PAGE_BYTES);
	for (size_t i = 0; i < n; i++)
		ms_account(s, i, chunk);
}

static void test_zero_pages_do_not_count_as_data(void **state)
{
	struct memsample s;
	(void)state;

	sample_with(&s, 4, PER_CHUNK / 4, 0x5a);
	assert_int_equal(s.pages, 4 * PER_CHUNK);
	assert_int_equal(s.with_data, PER_CHUNK);
	assert_int_equal(ms_data_bytes(&s, 64 * MIB), 16 * MIB);
	/* One non-zero byte makes a page one with data. */
	memset(chunk, 0, sizeof(chunk));
	chunk[MS_PAGE_BYTES - 1] = 1;
	ms_plan(&s, 64 * MIB, 0);
	ms_account(&s, 0, chunk);
	assert_int_equal(s.with_data, 1);
}

static void test_dirty_rate_counts_pages_rewritten(void **state)
{
	struct memsample before, after;
	(void)state;

	sample_with(&before, 4, PER_CHUNK / 2, 0x11);
	sample_with(&after, 4, PER_CHUNK / 2, 0x11);
	before.taken_at = 10.0;
	after.taken_at = 12.0;
	assert_int_equal(ms_dirty_bps(&before, &after, 64 * MIB), 0);
	/* In chunk 0, a quarter of its zero pages written and one page's data changed. */
	after.pages = after.with_data = 0;
	for (size_t i = 1; i < 4; i++)
		ms_account(&after, i, chunk);
	memset(chunk, 0x11, PER_CHUNK / 4 * 3 * MS_PAGE_BYTES);
	memset(chunk, 0x22, MS_PAGE_BYTES);
	ms_account(&after, 0, chunk);
	unsigned changed = PER_CHUNK / 4 + 1;
	assert_int_equal(ms_dirty_bps(&before, &after, 64 * MIB),
			 (uint64_t)(64.0 * MIB * changed / (4 * PER_CHUNK) / 2));
}

static void test_dirty_rate_needs_a_pair(void **state)
{
	struct memsample before, after;
	(void)state;

	sample_with(&before, 4, 1, 0x11);
	sample_with(&after, 4, 2, 0x11);
	before.taken_at = after.taken_at = 5.0;        /* no time between them */
	assert_int_equal(ms_dirty_bps(&before, &after, 64 * MIB), 0);
	after.taken_at = 6.0;
	after.offset[0] += MS_PAGE_BYTES;              /* not the same pages */
	assert_int_equal(ms_dirty_bps(&before, &after, 64 * MIB), 0);
}

/* Accounts chunk @i of @s as the lab's guest holds it after its sweep reached @swept_to: the
 * pages of [@from, @swept_to) hold @byte, the rest of the region [8, 32) MiB @old. */
static void account_swept(struct memsample *s, size_t i, uint64_t from, uint64_t swept_to,
			  unsigned char byte, unsigned char old)
{
	for (size_t p = 0; p < PER_CHUNK; p++) {
		uint64_t at = s->offset[i] + p * MS_PAGE_BYTES;
		bool region = at >= 8 * MIB && at < 32 * MIB;
		memset(chunk + p * MS_PAGE_BYTES,
		       !region ? 0 : at >= from && at < swept_to ? byte : old, MS_PAGE_BYTES);
	}
	ms_account(s, i, chunk);
}

/* The lab's predict guest: 64 MiB, rewriting [8, 32) MiB in order at 1 MiB/s, sampled 1.2 s
 * apart. A few places read in a second would mostly miss the sweep or catch all of it (32
 * chunks of 64 KiB: 0 or 1.67 MiB/s); the sample's places must be many enough that, over
 * seeds, nine in ten read within ±30 % of the rate. */
static void test_dirty_rate_of_a_guest_rewriting_in_order_is_near_its_rate(void **state)
{
	const double seconds = 1.2;
	unsigned near = 0, runs = 50;
	(void)state;

	for (unsigned seed = 0; seed < runs; seed++) {
		struct memsample before, after;
		uint64_t from = 8 * MIB + (seed * 7919 % 22) * MIB;   /* where the sweep was */
		uint64_t to = from + (uint64_t)(seconds * MIB);
		ms_plan(&before, 64 * MIB, seed);
		after = before;
		before.pages = before.with_data = after.pages = after.with_data = 0;
		for (size_t i = 0; i < before.n_chunks; i++) {
			account_swept(&before, i, from, to, 0x11, 0x11);
			account_swept(&after, i, from, to, 0x22, 0x11);
		}
		before.taken_at = 3.0;
		after.taken_at = 3.0 + seconds;
		double rate = (double)ms_dirty_bps(&before, &after, 64 * MIB) / MIB;
		near += rate >= 0.7 && rate <= 1.3;
	}
	assert_true(near * 10 >= runs * 9);
}

/* QEMU's rate and drover's, by the pages each read: at 64 MiB QEMU read 32 pages to
 * drover's 512, at 16 GiB 8192 to 512. */
static void test_rates_blend_by_pages_read(void **state)
{
	(void)state;
	assert_int_equal(ms_blend_rates(2 * MIB, 1 * MIB, 512, 64 * MIB),
			 (uint64_t)((2.0 * MIB * 32 + 1.0 * MIB * 512) / 544));
	assert_int_equal(ms_blend_rates(0, 17 * MIB, 512, 16ull << 30), 1 * MIB);
	assert_int_equal(ms_blend_rates(3 * MIB, 0, 0, 64 * MIB), 3 * MIB);   /* no own sample */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_reads_only_low_ram),
		cmocka_unit_test(test_plan_small_guests_get_fewer_chunks_or_none),
		cmocka_unit_test(test_plan_is_the_same_for_a_seed),
		cmocka_unit_test(test_zero_pages_do_not_count_as_data),
		cmocka_unit_test(test_dirty_rate_counts_pages_rewritten),
		cmocka_unit_test(test_dirty_rate_needs_a_pair),
		cmocka_unit_test(test_dirty_rate_of_a_guest_rewriting_in_order_is_near_its_rate),
		cmocka_unit_test(test_rates_blend_by_pages_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
