/* memsample: what a running guest's memory holds, from a sample of its pages read through
 * libvirt (virDomainMemoryPeek, physical addresses): the share of pages that hold data —
 * pre-copy sends a zero page as a flag, so only these cost bandwidth — and, from a second
 * sample of the same pages, the share rewritten in between. Both feed the prediction
 * before a live move (predict.h), where the process's resident size counts QEMU's own
 * memory too and QEMU's page sampling misses a small region being rewritten. */
#ifndef DROVER_MEMSAMPLE_H
#define DROVER_MEMSAMPLE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

/* Chunks read per sample, and their size. A call costs its round trip (1-6 ms on the lab,
 * through QEMU's monitor), so not one call a page; but the places read must be many: a
 * guest rewriting its memory in order crosses few of them in a second, and 32 chunks of
 * 64 KiB read 0 or 1.7× the lab guest's rate, never near it (BENCH.md, issue 12). 128
 * chunks of 16 KiB read 0.8-1.25× it, in about twice the time. */
#define MS_CHUNKS 128
#define MS_CHUNK_BYTES 16384u
#define MS_PAGE_BYTES 4096u
#define MS_PAGES (MS_CHUNKS * (MS_CHUNK_BYTES / MS_PAGE_BYTES))

/* Where a sample may read on an x86 guest: RAM on every pc and q35 machine. Below 1 MiB
 * lie the legacy VGA window and ROMs; above 2 GiB a q35 guest may have MMIO (its PCI
 * configuration space at 2.75 GiB), and reading a device's registers can change it. */
#define MS_LOW_START (1ull << 20)
#define MS_LOW_END (2ull << 30)

struct memsample {
	size_t n_chunks;
	uint64_t offset[MS_CHUNKS];      /* guest-physical start of each chunk */
	uint64_t hash[MS_PAGES];         /* of each page read, in chunk order; 0 = a zero page */
	unsigned pages;                  /* pages read */
	unsigned with_data;              /* of them, not all zero */
	double taken_at;                 /* clk_mono() halfway through the reads */
};

/* Plans the chunks of a sample of a guest with @memory_bytes: one in each of n equal strata
 * of [MS_LOW_START, min(@memory_bytes, MS_LOW_END)), at a page-aligned place within it
 * picked from @seed (strata, so a region of data is found wherever it lies; a jitter, so
 * a structure repeating at the strata's stride does not bias it). Fewer chunks when the
 * range is small; none below 2 chunks' worth. Pure. */
void ms_plan(struct memsample *s, uint64_t memory_bytes, uint64_t seed);

/* Accounts one chunk's bytes, read into @buf, as chunk @i of @s. Pure. */
void ms_account(struct memsample *s, size_t i, const unsigned char *buf);

/* The bytes of @memory_bytes that hold data, by @s's share. Pure. */
uint64_t ms_data_bytes(const struct memsample *s, uint64_t memory_bytes);

/* The rate at which the guest rewrites memory, bytes per second: pages whose hash changed
 * between @before and @after (same plan) over the time between them, scaled to
 * @memory_bytes. 0 when nothing changed or the samples do not pair. Pure. */
uint64_t ms_dirty_bps(const struct memsample *before, const struct memsample *after,
		      uint64_t memory_bytes);

/* Pages QEMU's page sampling (virDomainStartDirtyRateCalc) reads: 512 per GiB of guest
 * memory. */
#define MS_QEMU_PAGES_PER_GIB 512u

/* The dirty rate from two samples of one guest of @memory_bytes: QEMU's @qemu_bps and this
 * module's @own_bps over @own_pages pages, each weighted by the pages it read (the larger
 * sample is the surer: QEMU reads 32 pages of a 64 MiB guest and reports whole MiB/s, so
 * one page changed reads as 2 MiB/s). Pure. */
uint64_t ms_blend_rates(uint64_t qemu_bps, uint64_t own_bps, unsigned own_pages,
			uint64_t memory_bytes);

/* True when @dom's memory can be sampled: an x86 guest (its physical layout is known; on
 * other machines low addresses may hold devices). */
bool ms_samplable(virDomainPtr dom);

/* Reads the sample planned in @s from running domain @dom. Returns 0, or -1 with @why
 * (a hypervisor without virDomainMemoryPeek, a domain gone): @s is then unusable. */
int ms_take(virDomainPtr dom, struct memsample *s, char *why, size_t why_size) DROVER_WUR;

#endif
