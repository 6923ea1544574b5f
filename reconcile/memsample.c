/* memsample: a sample of a running guest's pages, for the prediction of a live move. */
#include "reconcile/memsample.h"

#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "reconcile/clk.h"
#include "reconcile/domxml.h"
#include "reconcile/why.h"

/* A step of splitmix64: the chunks' jitter, reproducible from the seed. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void ms_plan(struct memsample *s, uint64_t memory_bytes, uint64_t seed)
{
	uint64_t end = memory_bytes < MS_LOW_END ? memory_bytes : MS_LOW_END;
	uint64_t span = end > MS_LOW_START ? end - MS_LOW_START : 0;
	size_t n = span / MS_CHUNK_BYTES < MS_CHUNKS ? span / MS_CHUNK_BYTES : MS_CHUNKS;

	memset(s, 0, sizeof(*s));
	if (n < 2)
		return;
	uint64_t stratum = span / n;
	/* Page-aligned places where a chunk still ends inside its stratum. */
	uint64_t places = (stratum - MS_CHUNK_BYTES) / MS_PAGE_BYTES + 1;
	for (size_t i = 0; i < n; i++)
		s->offset[i] = MS_LOW_START + i * stratum +
			       next_random(&seed) % places * MS_PAGE_BYTES;
	s->n_chunks = n;
}

/* FNV-1a of a page, never 0 for a page with data: 0 stands for a zero page. */
static uint64_t page_hash(const unsigned char *page)
{
	uint64_t h = 0xcbf29ce484222325ull;
	bool data = false;

	for (size_t i = 0; i < MS_PAGE_BYTES; i++) {
		data |= page[i] != 0;
		h = (h ^ page[i]) * 0x100000001b3ull;
	}
	return !data ? 0 : h ? h : 1;
}

void ms_account(struct memsample *s, size_t i, const unsigned char *buf)
{
	const size_t per_chunk = MS_CHUNK_BYTES / MS_PAGE_BYTES;

	for (size_t p = 0; p < per_chunk; p++) {
		uint64_t h = page_hash(buf + p * MS_PAGE_BYTES);
		s->hash[i * per_chunk + p] = h;
		s->with_data += h != 0;
	}
	s->pages += per_chunk;
}

uint64_t ms_data_bytes(const struct memsample *s, uint64_t memory_bytes)
{
	if (!s->pages)
		return memory_bytes;
	return (uint64_t)((double)memory_bytes * s->with_data / s->pages);
}

uint64_t ms_dirty_bps(const struct memsample *before, const struct memsample *after,
		      uint64_t memory_bytes)
{
	double seconds = after->taken_at - before->taken_at;
	unsigned changed = 0;

	if (!before->pages || before->pages != after->pages || seconds <= 0 ||
	    memcmp(before->offset, after->offset, sizeof(before->offset)) != 0)
		return 0;
	for (unsigned p = 0; p < before->pages; p++)
		changed += before->hash[p] != after->hash[p];
	return (uint64_t)((double)memory_bytes * changed / before->pages / seconds);
}

uint64_t ms_blend_rates(uint64_t qemu_bps, uint64_t own_bps, unsigned own_pages,
			uint64_t memory_bytes)
{
	double qemu_pages = (double)memory_bytes / (1ull << 30) * MS_QEMU_PAGES_PER_GIB;

	if (!own_pages)
		return qemu_bps;
	if (qemu_pages < 1)
		qemu_pages = 1;
	return (uint64_t)(((double)qemu_bps * qemu_pages + (double)own_bps * own_pages) /
			  (qemu_pages + own_pages));
}

bool ms_samplable(virDomainPtr dom)
{
	char *xml = virDomainGetXMLDesc(dom, 0);
	char *arch = xml ? domxml_xpath_string(xml, "string(/domain/os/type/@arch)") : NULL;
	bool x86 = arch && (!strcmp(arch, "x86_64") || !strcmp(arch, "i686"));

	virResetLastError();
	free(arch);
	free(xml);
	return x86;
}

int ms_take(virDomainPtr dom, struct memsample *s, char *why, size_t why_size)
{
	double started = clk_mono();
	unsigned char *buf;   /* moves predict in threads of their own: not static */

	if (!s->n_chunks)
		return why_fail(why, why_size, "memory sample: guest too small to sample");
	if (!(buf = malloc(MS_CHUNK_BYTES)))
		return why_fail(why, why_size, "memory sample: out of memory");
	s->pages = s->with_data = 0;
	for (size_t i = 0; i < s->n_chunks; i++) {
		if (virDomainMemoryPeek(dom, s->offset[i], MS_CHUNK_BYTES, buf,
					VIR_MEMORY_PHYSICAL) < 0) {
			why_fail(why, why_size, "memory sample: %s", virGetLastErrorMessage());
			virResetLastError();
			s->pages = 0;
			break;
		}
		ms_account(s, i, buf);
	}
	free(buf);
	s->taken_at = (started + clk_mono()) / 2;
	return s->pages ? 0 : -1;
}
