/* table: a column-aligned text table like kubectl's, built cell by cell and printed once. */
#include "controller/cli/table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_GAP "   "

/* Characters on screen of UTF-8 @s: every byte that does not continue a sequence. */
static size_t display_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Byte offset where the first @chars characters of @s end. */
static size_t char_offset(const char *s, size_t chars)
{
	size_t i = 0;
	while (s[i]) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && chars-- == 0)
			break;
		i++;
	}
	return i;
}

/* Copies @text into @buf (TABLE_CELL_MAX bytes) without control characters, shortened to
 * @max characters (0 = no limit) with "..." at the end, and never split inside a UTF-8
 * sequence. */
static void clean_cell(char *buf, const char *text, size_t max)
{
	size_t len = strlen(text), keep;

	if (len >= TABLE_CELL_MAX)
		len = TABLE_CELL_MAX - 1;
	while (len && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;                  /* text[len] must start a character (or be the end) */
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (max && display_width(buf) > max) {
		keep = max > 3 ? char_offset(buf, max - 3) : char_offset(buf, max);
		while (max > 3 && keep && buf[keep - 1] == ' ')
			keep--;                 /* "connect:..." rather than "connect: ..." */
		buf[keep] = '\0';
		if (max > 3)
			memcpy(buf + keep, "...", 4);   /* fits: 4 or more characters were cut */
	}
}

void table_init(struct table *t, const char *const *headers, size_t n_cols)
{
	memset(t, 0, sizeof(*t));
	if (n_cols == 0 || n_cols > TABLE_MAX_COLS) {
		t->failed = 1;
		return;
	}
	t->n_cols = n_cols;
	for (size_t i = 0; i < n_cols; i++)
		table_cell(t, headers[i]);
}

void table_set_max_width(struct table *t, size_t col, size_t chars)
{
	if (col < t->n_cols)
		t->max_width[col] = chars;
}

size_t table_rows(const struct table *t)
{
	return t->n_cols && t->n_cells >= t->n_cols ? t->n_cells / t->n_cols - 1 : 0;
}

void table_cell(struct table *t, const char *text)
{
	char buf[TABLE_CELL_MAX];

	if (t->failed)
		return;
	if (t->skipped_cells || (t->n_cells % t->n_cols == 0 && table_rows(t) == TABLE_MAX_ROWS)) {
		t->skipped_cells++;
		return;
	}
	if (t->n_cells == t->cap_cells) {
		size_t cap = t->cap_cells ? t->cap_cells * 2 : 8 * t->n_cols;
		char **cells = realloc(t->cells, cap * sizeof(*cells));
		if (!cells) {
			t->failed = 1;
			return;
		}
		t->cells = cells;
		t->cap_cells = cap;
	}
	size_t col = t->n_cells % t->n_cols;
	clean_cell(buf, text && *text ? text : "-", t->max_width[col]);
	char *copy = strdup(buf);
	if (!copy) {
		t->failed = 1;
		return;
	}
	size_t w = display_width(copy);
	if (w > t->width[col])
		t->width[col] = w;
	t->cells[t->n_cells++] = copy;
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	char buf[TABLE_CELL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);   /* cut text is still shown, as far as it fits */
	va_end(ap);
	table_cell(t, buf);
}

int table_print(const struct table *t, FILE *out)
{
	if (t->failed || (t->n_cells + t->skipped_cells) % t->n_cols)
		return -1;
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t col = i % t->n_cols;
		const char *cell = t->cells[i];
		if (col + 1 == t->n_cols) {
			fprintf(out, "%s\n", cell);
			continue;
		}
		/* Pad by characters, not bytes, so multi-byte names line up too. */
		fprintf(out, "%s%*s" TABLE_GAP, cell, (int)(t->width[col] - display_width(cell)), "");
	}
	if (t->skipped_cells)
		fprintf(out, "... %zu more rows not shown\n", t->skipped_cells / t->n_cols);
	return ferror(out) ? -1 : 0;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
