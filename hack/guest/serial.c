/* COM1 output for the guest: 115200 8N1, polled, no interrupts. */
#include "guest.h"
#include "io.h"

#define COM1 0x3F8
#define LSR_THR_EMPTY 0x20
/* Bound on polling the line status: a wedged UART loses characters, it never hangs the guest. */
#define TX_SPIN_MAX 100000

void serial_init(void)
{
	io_outb(COM1 + 1, 0x00); /* no UART interrupts: the guest never enables them anyway */
	io_outb(COM1 + 3, 0x80); /* DLAB on */
	io_outb(COM1 + 0, 0x01); /* divisor 1 = 115200 baud */
	io_outb(COM1 + 1, 0x00);
	io_outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
	io_outb(COM1 + 2, 0xC7); /* FIFO on, cleared */
	io_outb(COM1 + 4, 0x03); /* DTR, RTS; OUT2 off so no IRQ reaches the PIC */
}

static void serial_putc(char c)
{
	uint32_t i;

	for (i = 0; i < TX_SPIN_MAX; i++) {
		if (io_inb(COM1 + 5) & LSR_THR_EMPTY)
			break;
		io_relax();
	}
	io_outb(COM1, (uint8_t)c);
}

/* Appends @s, truncating at the cap (one byte stays free for the newline). Can't fail. */
void line_str(struct line *l, const char *s)
{
	while (*s && l->len < LINE_CAP - 1)
		l->buf[l->len++] = *s++;
}

/* Appends @v in decimal. Can't fail. */
void line_u64(struct line *l, uint64_t v)
{
	char tmp[21];
	uint32_t n = 0, digit;

	do {
		v = io_div64(v, 10, &digit);
		tmp[n++] = (char)('0' + digit);
	} while (v && n < sizeof(tmp) - 1);
	while (n && l->len < LINE_CAP - 1)
		l->buf[l->len++] = tmp[--n];
}

/* Appends @v as 0x followed by eight hex digits. Can't fail. */
void line_hex(struct line *l, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	int shift;

	line_str(l, "0x");
	for (shift = 28; shift >= 0 && l->len < LINE_CAP - 1; shift -= 4)
		l->buf[l->len++] = hex[(v >> shift) & 0xF];
}

/* Sends the line and a newline, then empties it for reuse. Can't fail. */
void line_send(struct line *l)
{
	uint32_t i;

	for (i = 0; i < l->len; i++)
		serial_putc(l->buf[i]);
	serial_putc('\n');
	l->len = 0;
}

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}
