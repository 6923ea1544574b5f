/* Idle: the guest sleeps (HLT) until the next timer tick instead of spinning while it waits.
 *
 * A paced guest spends most of its time waiting for its next chunk; spinning, every TCG guest
 * kept a host core busy, and a lab of five guests on two cores left libvirtd, QEMU's migration
 * threads and drover fighting for what was left. A real kernel halts when it has nothing to do;
 * so does this guest now.
 *
 * PIT channel 0 ticks at IDLE_HZ on IRQ 0 (the PIC's master, remapped to vector 0x20). Interrupts
 * are enabled only inside idle_wait ("sti; hlt" cannot miss a tick: STI takes effect after the
 * next instruction), so the work between waits is never interrupted. When no tick arrives at
 * start-up, the guest keeps spinning: every wait stays bounded either way. */
#include "guest.h"
#include "io.h"

#define IDLE_HZ 250u
#define PIT_HZ 1193182u
#define VECTOR_TIMER 0x20u
#define VECTORS 256u
#define PROBE_TICKS 2u
#define PROBE_SPINS (1u << 26)

struct gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type;
	uint16_t offset_hi;
} __attribute__((packed));

struct idt_desc {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* boot.S: the handlers. idle_on_timer counts ticks in idle_ticks and acknowledges the PIC;
 * idle_on_other returns at once (masked lines, a spurious IRQ 7); idle_on_fault stops the
 * guest with interrupts off (its heartbeats stop, as a triple fault's reset would show). */
extern void idle_on_timer(void);
extern void idle_on_other(void);
extern void idle_on_fault(void);
volatile uint32_t idle_ticks;

static struct gate idt[VECTORS] __attribute__((aligned(8)));
static int idle_halts;

static void set_gate(uint32_t vector, void (*handler)(void))
{
	uint32_t at = (uint32_t)handler;

	idt[vector] = (struct gate){.offset_lo = (uint16_t)at, .selector = 0x08, .type = 0x8E,
				    .offset_hi = (uint16_t)(at >> 16)};
}

static void load_idt(void)
{
	struct idt_desc d = {.limit = sizeof(idt) - 1, .base = (uint32_t)idt};

	for (uint32_t v = 0; v < VECTORS; v++)
		set_gate(v, v < VECTOR_TIMER ? idle_on_fault : idle_on_other);
	set_gate(VECTOR_TIMER, idle_on_timer);
	__asm__ volatile("lidt %0" : : "m"(d));
}

/* Both PICs moved off the CPU's exception vectors; every line masked but the timer's. */
static void setup_pic(void)
{
	io_outb(0x20, 0x11);
	io_outb(0xA0, 0x11);
	io_outb(0x21, VECTOR_TIMER);
	io_outb(0xA1, VECTOR_TIMER + 8);
	io_outb(0x21, 0x04);
	io_outb(0xA1, 0x02);
	io_outb(0x21, 0x01);
	io_outb(0xA1, 0x01);
	io_outb(0x21, 0xFE);
	io_outb(0xA1, 0xFF);
}

/* Channel 0, rate generator (mode 2), IDLE_HZ. Channel 2 stays the clock's. */
static void setup_pit(void)
{
	uint32_t div = PIT_HZ / IDLE_HZ;

	io_outb(0x43, 0x34);
	io_outb(0x40, (uint8_t)div);
	io_outb(0x40, (uint8_t)(div >> 8));
}

int idle_init(void)
{
	load_idt();
	setup_pic();
	setup_pit();
	uint32_t first = idle_ticks;
	__asm__ volatile("sti" ::: "memory");
	for (uint32_t i = 0; i < PROBE_SPINS && idle_ticks - first < PROBE_TICKS; i++)
		io_relax();
	__asm__ volatile("cli" ::: "memory");
	idle_halts = idle_ticks - first >= PROBE_TICKS;
	return idle_halts ? 0 : -1;
}

void idle_wait(void)
{
	if (idle_halts)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	else
		io_relax();
}
