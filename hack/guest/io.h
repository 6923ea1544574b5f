/* Port I/O, TSC and small arithmetic helpers for the freestanding guest (no libc, no libgcc). */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include <stdint.h>

static inline void io_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t io_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t io_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Drops the TLB entry for the page at @addr (the guest runs without paging: virtual = physical). */
static inline void io_invlpg(uint32_t addr)
{
	__asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

/* Drops every TLB entry. QEMU flushes its TLB when CR0.WP changes; without paging the bit has no
 * other effect. */
static inline void io_tlb_flush(void)
{
	uint32_t cr0;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 ^ 0x10000u) : "memory");
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
}

static inline void io_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* 64-by-32 division without libgcc (there is no 32-bit libgcc on the build host).
 * Returns n / d and stores n % d in *rem when rem is not NULL. A zero divisor returns 0 with
 * remainder 0: the guest must never fault on a bad calibration. */
static inline uint64_t io_div64(uint64_t n, uint32_t d, uint32_t *rem)
{
	uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
	uint32_t qhi, qlo, r;

	if (d == 0) {
		if (rem)
			*rem = 0;
		return 0;
	}
	qhi = hi / d;
	r = hi % d;
	/* r < d, so the quotient of (r:lo) / d fits in 32 bits and divl cannot fault. */
	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	if (rem)
		*rem = r;
	return ((uint64_t)qhi << 32) | qlo;
}

#endif
