/* The self-verifying memory pattern.
 *
 * In pass p the dirty-region word at physical address A holds f(A, key(p)); pass p+1 checks that
 * value before it writes f(A, key(p+1)). The static region holds f(A, STATIC_KEY) from boot on.
 * f is a bijection in A for a fixed key and in the key for a fixed A, so a word that kept an older
 * pass's value, or a page that came back as zeros, fails the check (a zero is expected at exactly
 * one address per pass). */
#include "guest.h"
#include "io.h"

#define STATIC_KEY 0x5A17C0DEu

static inline uint32_t pattern_word(uint32_t addr, uint32_t key)
{
	uint32_t x = (addr ^ key) * 0x9E3779B1u; /* odd multiplier: a bijection */

	return x ^ (x >> 15);
}

/* Returns the key of pass @pass: consecutive passes never share a key. */
static uint32_t pass_key(uint32_t pass)
{
	uint32_t x = pass * 0x85EBCA6Bu + 0x27D4EB2Fu;

	x ^= x >> 13;
	x *= 0xC2B2AE35u;
	return x ^ (x >> 16);
}

/* Writes the static pattern over @words words at @base. Can't fail. */
void pattern_static_init(uint32_t base, uint32_t words)
{
	volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)base;
	uint32_t i;

	for (i = 0; i < words; i++)
		w[i] = pattern_word(base + i * 4, STATIC_KEY);
}

/* Verifies words [@first, @first + @n) of the static region. A bad word is reported and repaired,
 * so each corruption is counted once, not on every later pass. Returns the number found. */
uint32_t pattern_static_check(uint32_t base, uint32_t first, uint32_t n, pattern_report_fn report)
{
	volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)base;
	uint32_t i, addr, want, got, bad = 0;

	for (i = first; i < first + n; i++) {
		addr = base + i * 4;
		want = pattern_word(addr, STATIC_KEY);
		got = w[i];
		if (got != want) {
			report("static", addr, want, got);
			w[i] = want;
			bad++;
		}
	}
	return bad;
}

#define PAGE_BYTES 4096u

/* A page written across a migration's dirty-bitmap sync: the sync may clear its dirty bit while
 * this guest still holds a writable TLB entry for it, and QEMU 7.2 under TCG does not revoke that
 * entry (see tick in main.c). Dropping the entry and storing once more after the page's
 * last write marks the page dirty again, so its final contents are sent. */
static void retrack_page(volatile uint32_t *last_word, uint32_t addr)
{
	io_invlpg(addr);
	*last_word = *last_word;
}

/* Rewrites words [@first, @first + @n) of the dirty region for pass @pass, first checking that each
 * still holds pass @pass - 1's value (pass 0 has nothing to check). Returns the number of words
 * that did not. */
uint32_t pattern_dirty(uint32_t base, uint32_t first, uint32_t n, uint32_t pass,
		       pattern_report_fn report)
{
	volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)base;
	uint32_t key = pass_key(pass), prev = pass_key(pass - 1);
	uint32_t i, addr, want, got, bad = 0;

	for (i = first; i < first + n; i++) {
		addr = base + i * 4;
		if (pass) {
			want = pattern_word(addr, prev);
			got = w[i];
			if (got != want) {
				report("dirty", addr, want, got);
				bad++;
			}
		}
		w[i] = pattern_word(addr, key);
		if (addr % PAGE_BYTES == PAGE_BYTES - 4)
			retrack_page(&w[i], addr);
	}
	return bad;
}
