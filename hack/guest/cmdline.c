/* Reads the multiboot info: memory size and the key=value command line. */
#include "guest.h"
#include "layout.h"

#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define CMDLINE_CAP 512
#define MIB 0x100000u

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 1 MiB */
	uint32_t mem_upper; /* KiB from 1 MiB up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;   /* physical address of a NUL-terminated string */
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses a decimal prefix of @s up to a space or the end. Returns 0 on success, -1 on anything
 * else (empty, not a digit, over 1e6), so a typo leaves the default in place. */
static int parse_u32(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;

	for (; *s && !is_space(*s); s++, n++) {
		if (*s < '0' || *s > '9' || v > 1000000)
			return -1;
		v = v * 10 + (uint32_t)(*s - '0');
	}
	if (n == 0 || v > 1000000)
		return -1;
	*out = v;
	return 0;
}

/* If @word starts with "@key=", parses the value into *out. Unknown words are ignored. */
static void parse_key(const char *word, const char *key, uint32_t *out)
{
	const char *w = word;

	while (*key && *w == *key) {
		w++;
		key++;
	}
	if (*key == '\0' && *w == '=')
		parse_u32(w + 1, out);
}

static void parse_cmdline(struct params *p, const char *s)
{
	while (*s) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		parse_key(s, "dirty_mib", &p->dirty_mib);
		parse_key(s, "rate_mibps", &p->rate_mibps);
		parse_key(s, "hz", &p->hz);
		parse_key(s, "static_mib", &p->static_mib);
		parse_key(s, "fill", &p->fill);
		while (*s && !is_space(*s))
			s++;
	}
}

/* Clamps the regions to the RAM the loader reported (see layout.h for where they sit). */
static void clamp(struct params *p)
{
	uint32_t top = p->mem_mib * MIB; /* mem_mib <= 3072, so this fits */
	uint32_t room;

	if (p->hz < 1)
		p->hz = 1;
	if (p->hz > 1000)
		p->hz = 1000;
	if (p->static_mib > GUEST_STATIC_MAX_MIB)
		p->static_mib = GUEST_STATIC_MAX_MIB;
	room = top > GUEST_STATIC_BASE + GUEST_TOP_MARGIN ?
		(top - GUEST_STATIC_BASE - GUEST_TOP_MARGIN) / MIB : 0;
	if (p->static_mib > room)
		p->static_mib = room;
	room = top > GUEST_DIRTY_BASE + GUEST_TOP_MARGIN ?
		(top - GUEST_DIRTY_BASE - GUEST_TOP_MARGIN) / MIB : 0;
	if (p->dirty_mib > room)
		p->dirty_mib = room;
}

/* Fills @p from the multiboot info at @info_addr (defaults where it says nothing). The command
 * line is copied first: it lives right after the kernel, and nothing may read it after the regions
 * are written. Can't fail; without multiboot info the guest assumes 16 MiB of RAM. */
void params_load(struct params *p, uint32_t magic, uint32_t info_addr)
{
	static char cmdline[CMDLINE_CAP];
	const struct mb_info *mb = (const struct mb_info *)(uintptr_t)info_addr;
	uint32_t i;

	p->mem_mib = 16;
	p->mem_known = 0;
	p->dirty_mib = 8;
	p->rate_mibps = 0;
	p->hz = 10;
	p->static_mib = 2;
	if (magic == MB_BOOT_MAGIC && mb) {
		if (mb->flags & MB_INFO_MEM) {
			/* Nearest MiB: the firmware keeps a few KiB at the top for its tables. */
			p->mem_mib = (mb->mem_upper + 1024 + 512) / 1024;
			p->mem_known = 1;
		}
		if ((mb->flags & MB_INFO_CMDLINE) && mb->cmdline) {
			const char *src = (const char *)(uintptr_t)mb->cmdline;

			for (i = 0; i < CMDLINE_CAP - 1 && src[i]; i++)
				cmdline[i] = src[i];
			cmdline[i] = '\0';
			parse_cmdline(p, cmdline);
		}
	}
	if (p->mem_mib > 3072)
		p->mem_mib = 3072; /* the regions stay below the 32-bit PCI hole */
	clamp(p);
}
