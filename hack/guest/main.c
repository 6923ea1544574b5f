/* drover-guest: a freestanding multiboot guest that lets integration tests see inside a VM.
 *
 * It prints a banner on COM1, then heartbeats at hz per second while it rewrites dirty_mib MiB at
 * rate_mibps MiB/s (0 = as fast as it can) in a pattern it verifies on the next pass, and re-checks
 * a static region that is written only once. Every heartbeat reports the corrupted words found so
 * far, so memory lost in a live migration shows up on the serial log; the guest never stops for it.
 *
 * Serial lines (one per line, '\n'-terminated):
 *   drover-guest ready mem_mib=M dirty_mib=N rate_mibps=R hz=H
 *   drover-guest info tsc_khz=K clock=pit|fallback idle=hlt|spin static_mib=S static_base=0x..
 *     dirty_base=0x..
 *   hb COUNTER pass=P corrupt=C dirtied_mib=D
 *   corrupt region=dirty|static addr=0x.. want=0x.. got=0x.. pass=P   (first few only)
 *   clock jumps=J                                                     (when the TSC jumped)
 * The banner comes before TSC calibration; COUNTER starts at 1 and grows by one per heartbeat;
 * corrupt= is the running total of bad words (each counted once); dirtied_mib= is the running
 * total written to the dirty region. Defaults: dirty_mib=8 rate_mibps=0 hz=10 static_mib=2.
 * With fill=1 the first pass writes the dirty region as fast as it can, the next ones at
 * rate_mibps: a working set already in memory, without waiting dirty_mib / rate_mibps for it.
 *
 * Every wait polls the clock, and every poll is bounded; between polls the CPU halts until the
 * next timer tick (idle.c), or spins where no tick comes. */
#include "guest.h"
#include "io.h"
#include "layout.h"

#define MIB 0x100000u
#define CHUNK_BYTES 0x10000u /* work between clock checks: well under a millisecond under TCG */
#define CHUNK_WORDS (CHUNK_BYTES / 4)
#define CHUNKS_PER_MIB (MIB / CHUNK_BYTES)
#define CORRUPT_LINES_MAX 16
#define PACE_SPIN_MAX (1u << 28)

void guest_main(uint32_t magic, uint32_t info);

struct guest {
	struct params p;
	uint64_t hb_period;  /* clock ticks between heartbeats */
	uint64_t next_hb;
	uint64_t chunk_cost; /* clock ticks one chunk may take at rate_mibps; 0 = unpaced */
	uint64_t max_lag;    /* pacing forgets a backlog older than this (no bursts after a stall) */
	uint64_t next_chunk;
	uint64_t counter;
	uint64_t corrupt;
	uint64_t dirtied_bytes;
	uint32_t pass;
	uint32_t jumps_reported;
};

static struct guest g;
static uint32_t corrupt_lines;

static void report_corrupt(const char *region, uint32_t addr, uint32_t want, uint32_t got)
{
	struct line l = {.len = 0};

	if (corrupt_lines > CORRUPT_LINES_MAX)
		return;
	if (corrupt_lines++ == CORRUPT_LINES_MAX) {
		line_str(&l, "corrupt further reports suppressed");
		line_send(&l);
		return;
	}
	line_str(&l, "corrupt region=");
	line_str(&l, region);
	line_str(&l, " addr=");
	line_hex(&l, addr);
	line_str(&l, " want=");
	line_hex(&l, want);
	line_str(&l, " got=");
	line_hex(&l, got);
	line_str(&l, " pass=");
	line_u64(&l, g.pass);
	line_send(&l);
}

static void send_heartbeat(void)
{
	struct line l = {.len = 0};

	line_str(&l, "hb ");
	line_u64(&l, ++g.counter);
	line_str(&l, " pass=");
	line_u64(&l, g.pass);
	line_str(&l, " corrupt=");
	line_u64(&l, g.corrupt);
	line_str(&l, " dirtied_mib=");
	line_u64(&l, g.dirtied_bytes >> 20);
	line_send(&l);
	if (clock_jumps() != g.jumps_reported) {
		g.jumps_reported = clock_jumps();
		line_str(&l, "clock jumps=");
		line_u64(&l, g.jumps_reported);
		line_send(&l);
	}
}

/* Sends a heartbeat when one is due. A late heartbeat restarts the schedule from now instead of
 * sending a burst to catch up.
 *
 * It also drops the TLB. QEMU 7.2 under TCG clears a page's migration dirty bit without revoking
 * the writable TLB entry the vCPU holds for it (fixed in QEMU 9.0: its dirty-bitmap sync now resets
 * the TCG TLB), so later stores through that entry are not tracked and a live migration leaves them
 * behind. This guest's stack and variables were lost that way: it resumed on the target behind its
 * own writes and reported them as corrupt. A real kernel drops its TLB on every context switch;
 * this guest does it here, between chunks of work and while it waits, so each page's next write
 * after a sync is tracked. KVM guests are not affected. */
static void tick(void)
{
	uint64_t now = clock_now();

	io_tlb_flush();
	if (now < g.next_hb)
		return;
	send_heartbeat();
	g.next_hb += g.hb_period;
	if (g.next_hb <= now)
		g.next_hb = now + g.hb_period;
}

/* Waits until the next chunk may be written at rate_mibps, heartbeating meanwhile. */
static void pace(void)
{
	uint64_t now = clock_now();
	uint32_t i;

	if (!g.chunk_cost)
		return;
	for (i = 0; i < PACE_SPIN_MAX && now < g.next_chunk; i++) {
		tick();
		idle_wait();
		now = clock_now();
	}
	g.next_chunk += g.chunk_cost;
	if (g.next_chunk + g.max_lag < now)
		g.next_chunk = now;
}

static void run_pass(void)
{
	uint32_t dirty_words = g.p.dirty_mib * (MIB / 4);
	uint32_t static_words = g.p.static_mib * (MIB / 4);
	uint32_t off;

	int paced = !(g.p.fill && g.pass == 0);

	for (off = 0; off < dirty_words; off += CHUNK_WORDS) {
		if (paced)
			pace();
		g.corrupt += pattern_dirty(GUEST_DIRTY_BASE, off, CHUNK_WORDS, g.pass, report_corrupt);
		g.dirtied_bytes += CHUNK_BYTES;
		tick();
	}
	for (off = 0; off < static_words; off += CHUNK_WORDS) {
		g.corrupt += pattern_static_check(GUEST_STATIC_BASE, off, CHUNK_WORDS, report_corrupt);
		tick();
	}
	if (!dirty_words && !static_words)
		tick();
	if (!paced)
		g.next_chunk = clock_now();   /* pacing starts now, not behind by the fill */
	g.pass++;
}

static void send_banner(void)
{
	struct line l = {.len = 0};

	line_str(&l, "drover-guest ready mem_mib=");
	line_u64(&l, g.p.mem_mib);
	line_str(&l, " dirty_mib=");
	line_u64(&l, g.p.dirty_mib);
	line_str(&l, " rate_mibps=");
	line_u64(&l, g.p.rate_mibps);
	line_str(&l, " hz=");
	line_u64(&l, g.p.hz);
	line_send(&l);
}

static void send_info(int calibrated, int halts)
{
	struct line l = {.len = 0};

	line_str(&l, "drover-guest info tsc_khz=");
	line_u64(&l, io_div64(clock_hz(), 1000, 0));
	line_str(&l, calibrated ? " clock=pit" : " clock=fallback");
	line_str(&l, halts ? " idle=hlt" : " idle=spin");
	line_str(&l, " static_mib=");
	line_u64(&l, g.p.static_mib);
	line_str(&l, " static_base=");
	line_hex(&l, GUEST_STATIC_BASE);
	line_str(&l, " dirty_base=");
	line_hex(&l, GUEST_DIRTY_BASE);
	line_str(&l, g.p.mem_known ? "" : " mem=assumed");
	line_send(&l);
}

void guest_main(uint32_t magic, uint32_t info)
{
	uint64_t now;
	int calibrated;

	serial_init();
	params_load(&g.p, magic, info);
	/* The banner comes before calibration: the lab uses it to learn that a guest got as far as
	 * protected mode, even where the PIT or TSC misbehave. */
	send_banner();
	calibrated = clock_init() == 0;
	send_info(calibrated, idle_init() == 0);
	g.hb_period = io_div64(clock_hz(), g.p.hz, 0);
	if (g.p.rate_mibps)
		g.chunk_cost = io_div64(clock_hz(), g.p.rate_mibps * CHUNKS_PER_MIB, 0);
	g.max_lag = io_div64(clock_hz(), 10, 0);
	pattern_static_init(GUEST_STATIC_BASE, g.p.static_mib * (MIB / 4));
	now = clock_now();
	g.next_hb = now + g.hb_period;
	g.next_chunk = now;
	for (;;)
		run_pass();
}
