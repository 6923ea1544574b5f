/* table: a column-aligned text table like kubectl's, built cell by cell and printed once. */
#ifndef DROVER_TABLE_H
#define DROVER_TABLE_H

#include "crd/compiler.h"

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 16
#define TABLE_MAX_ROWS 10000        /* body rows kept; later ones are only counted */
#define TABLE_CELL_MAX 256          /* bytes of one cell, NUL included; longer text is cut */

/* A builder whose errors are sticky: after a failure (out of memory, a misuse) every call
 * does nothing and table_print reports it. Rows fill left to right; a row ends by itself
 * when its last cell is added. */
struct table {
	size_t n_cols;
	size_t max_width[TABLE_MAX_COLS];   /* 0 = no limit (beyond TABLE_CELL_MAX) */
	size_t width[TABLE_MAX_COLS];       /* display width of the widest cell, header included */
	char **cells;                       /* row-major; row 0 is the header */
	size_t n_cells, cap_cells;
	size_t skipped_cells;               /* cells of body rows over TABLE_MAX_ROWS */
	int failed;
};

/* Starts a table with the @n_cols column titles in @headers (copied). On a bad @n_cols
 * (0 or over TABLE_MAX_COLS) the table is marked failed. This function can't fail otherwise;
 * release it with table_free either way. */
void table_init(struct table *t, const char *const *headers, size_t n_cols);

/* Cells of column @col longer than @chars characters are shortened, ending in "...".
 * Applies to cells added afterwards. This function can't fail. */
void table_set_max_width(struct table *t, size_t col, size_t chars);

/* Adds the next cell. NULL or "" is shown as "-"; control characters become spaces, so a
 * multi-line message stays on its row. This function can't fail (see struct table). */
void table_cell(struct table *t, const char *text);

/* table_cell of printf-formatted text, cut at TABLE_CELL_MAX bytes. */
void table_cellf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number of complete body rows kept (the header not counted). This function can't fail. */
size_t table_rows(const struct table *t);

/* Prints the header and the rows, columns separated by three spaces, no trailing blanks,
 * then "... N more rows not shown" when rows were dropped. Returns 0, or -1 when the
 * builder failed, a row is unfinished, or writing to @out failed. */
int table_print(const struct table *t, FILE *out) DROVER_WUR;

/* Releases the cells and zeroes @t; accepts NULL. */
void table_free(struct table *t);

#endif
