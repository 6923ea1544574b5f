/* Internal interfaces of the drover test guest; see main.c for what the guest does. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* serial.c: COM1, 115200 8N1, polled. A line is built in a fixed buffer and sent whole. */
#define LINE_CAP 160
struct line {
	char buf[LINE_CAP];
	uint32_t len;
};
void serial_init(void);
void line_str(struct line *l, const char *s);
void line_u64(struct line *l, uint64_t v);
void line_hex(struct line *l, uint32_t v);
void line_send(struct line *l);

/* clock.c: a monotonic clock in TSC ticks that survives TSC jumps. */
int clock_init(void);
uint64_t clock_now(void);
uint64_t clock_hz(void);
uint32_t clock_jumps(void);

/* idle.c: waiting halts the CPU until the next timer tick. idle_init returns 0, or -1 when no
 * tick came (idle_wait then spins). */
int idle_init(void);
void idle_wait(void);

/* cmdline.c: the multiboot command line and memory size. */
struct params {
	uint32_t mem_mib;    /* detected RAM, from the multiboot info */
	uint32_t dirty_mib;  /* working set rewritten every pass, after clamping */
	uint32_t rate_mibps; /* 0 = as fast as possible */
	uint32_t hz;         /* heartbeats per second */
	uint32_t static_mib; /* region written once and verified every pass, after clamping */
	uint32_t fill;       /* 1: the first pass writes the dirty region unpaced */
	uint32_t mem_known;  /* 1 when the multiboot info gave the memory size */
};
void params_load(struct params *p, uint32_t magic, uint32_t info_addr);

/* pattern.c: the self-verifying memory pattern. Both return the number of corrupted words. */
typedef void (*pattern_report_fn)(const char *region, uint32_t addr, uint32_t want, uint32_t got);
void pattern_static_init(uint32_t base, uint32_t words);
uint32_t pattern_static_check(uint32_t base, uint32_t first, uint32_t n, pattern_report_fn report);
uint32_t pattern_dirty(uint32_t base, uint32_t first, uint32_t n, uint32_t pass,
		       pattern_report_fn report);

/* The compiler may emit calls to these even in freestanding code. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
