/* The guest's clock: TSC calibrated against PIT channel 2, folded into a monotonic tick count.
 *
 * Under TCG, and across a live migration, the TSC may jump forward (the VM was paused) or back
 * (the target host's counter). clock_now() therefore never trusts a single step: a step back or a
 * stall counts as one tick, a step over a second counts as one second. Time keeps moving, deadlines
 * never end up hours away, and no loop waits on a clock that stopped. */
#include "guest.h"
#include "io.h"

#define PIT_HZ 1193182u
#define PIT_CAL_COUNT 59659u /* 50 ms of PIT input clock */
#define PIT_SPIN_MAX 50000000u
#define TSC_CAL_MAX (1ull << 36) /* ~20 s even at 3 GHz: gives up on a PIT that never fires */
#define TSC_HZ_MIN 20000000ull
#define TSC_HZ_MAX 20000000000ull
#define TSC_HZ_FALLBACK 1000000000ull

static uint64_t tsc_hz = TSC_HZ_FALLBACK;
static uint64_t last_tsc;
static uint64_t mono;
static uint32_t jumps;

/* Returns TSC ticks per 50 ms of PIT time, or 0 when the PIT never signalled. */
static uint64_t calibrate_once(void)
{
	uint64_t t0, t1;
	uint32_t i;

	/* Gate channel 2 on, speaker off; mode 0 raises OUT2 (port 0x61 bit 5) at terminal count. */
	io_outb(0x61, (uint8_t)((io_inb(0x61) & ~0x02) | 0x01));
	io_outb(0x43, 0xB0);
	io_outb(0x42, PIT_CAL_COUNT & 0xFF);
	io_outb(0x42, PIT_CAL_COUNT >> 8);
	t0 = io_rdtsc();
	for (i = 0; i < PIT_SPIN_MAX; i++) {
		if (io_inb(0x61) & 0x20)
			break;
		if (io_rdtsc() - t0 > TSC_CAL_MAX)
			return 0;
	}
	t1 = io_rdtsc();
	if (i == PIT_SPIN_MAX || t1 <= t0)
		return 0;
	return t1 - t0;
}

/* Calibrates the TSC. Returns 0 when calibrated, -1 when it fell back to an assumed 1 GHz
 * (heartbeats and the dirty rate are then off by the ratio, but the guest still runs). */
int clock_init(void)
{
	uint64_t best = 0, d, hz;
	int i;

	/* The smallest of three readings: a slow run (host preempted us) only ever inflates one. */
	for (i = 0; i < 3; i++) {
		d = calibrate_once();
		if (d && (!best || d < best))
			best = d;
	}
	hz = io_div64(best * PIT_HZ, PIT_CAL_COUNT, 0);
	last_tsc = io_rdtsc();
	if (hz < TSC_HZ_MIN || hz > TSC_HZ_MAX)
		return -1;
	tsc_hz = hz;
	return 0;
}

/* Returns the monotonic tick count (ticks are TSC ticks at clock_hz()). Can't fail; every call
 * advances it by at least one tick. */
uint64_t clock_now(void)
{
	uint64_t t = io_rdtsc(), d;

	if (t <= last_tsc) {
		d = 1;
		if (t < last_tsc)
			jumps++;
	} else {
		d = t - last_tsc;
		if (d > tsc_hz) {
			d = tsc_hz;
			jumps++;
		}
	}
	last_tsc = t;
	mono += d;
	return mono;
}

/* Returns ticks per second of clock_now(); never 0. */
uint64_t clock_hz(void)
{
	return tsc_hz;
}

/* Returns how many TSC jumps (back, or over a second forward) clock_now() has absorbed. */
uint32_t clock_jumps(void)
{
	return jumps;
}
