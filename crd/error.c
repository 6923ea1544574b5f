/* error: one located error type and a capped list of them. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "crd/error.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void error_clear(struct crd_error *e)
{
	free(e->file);
	free(e->object);
	free(e->field);
	free(e->message);
}

/* Makes room for one more entry. Returns 0, or -1 when full or out of memory. */
static int errors_reserve(struct crd_errors *errs)
{
	if (errs->n < errs->cap)
		return 0;
	if (errs->n >= CRD_ERRORS_MAX)
		return -1;
	size_t cap = errs->cap ? errs->cap * 2 : 16;
	if (cap > CRD_ERRORS_MAX)
		cap = CRD_ERRORS_MAX;
	struct crd_error *items = realloc(errs->items, cap * sizeof(*items));
	if (!items)
		return -1;
	errs->items = items;
	errs->cap = cap;
	return 0;
}

void crd_errors_add(struct crd_errors *errs, enum crd_severity sev, const char *file, int line,
		    int col, const char *object, const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!errs)
		return;
	if (sev == CRD_SEV_ERROR)
		errs->n_errors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errors_reserve(errs) < 0) {
		errs->dropped++;
		return;
	}
	struct crd_error e = {
		.severity = sev, .line = line, .col = col,
		.file = dup_or_null(file), .object = dup_or_null(object),
		.field = strdup(field ? field : ""), .message = strdup(msg),
	};
	if ((file && !e.file) || (object && !e.object) || !e.field || !e.message) {
		error_clear(&e);
		errs->dropped++;
		return;
	}
	errs->items[errs->n++] = e;
}

void crd_errors_move(struct crd_errors *to, struct crd_errors *from)
{
	for (size_t i = 0; i < from->n; i++) {
		if (errors_reserve(to) < 0) {
			error_clear(&from->items[i]);
			to->dropped++;
			continue;
		}
		to->items[to->n++] = from->items[i];
	}
	to->n_errors += from->n_errors;
	to->dropped += from->dropped;
	free(from->items);
	memset(from, 0, sizeof(*from));
}

void crd_errors_free(struct crd_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		error_clear(&errs->items[i]);
	free(errs->items);
	memset(errs, 0, sizeof(*errs));
}

int crd_error_format(const struct crd_error *e, char *buf, size_t size)
{
	const char *note = e->severity == CRD_SEV_NOTE ? "note: " : "";
	const char *file = e->file ? e->file : (e->object ? e->object : "<input>");
	const char *sep = e->field[0] ? ": " : "";

	if (e->line > 0)
		return snprintf(buf, size, "%s:%d:%d: %s%s%s%s", file, e->line, e->col, note,
				e->field, sep, e->message);
	if (e->object && e->file)
		return snprintf(buf, size, "%s: %s: %s%s%s%s", file, e->object, note, e->field,
				sep, e->message);
	return snprintf(buf, size, "%s: %s%s%s%s", file, note, e->field, sep, e->message);
}

void crd_errors_print(const struct crd_errors *errs, FILE *out)
{
	char line[2048];

	for (size_t i = 0; i < errs->n; i++) {
		crd_error_format(&errs->items[i], line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	if (errs->dropped)
		fprintf(out, "... and %zu more\n", errs->dropped);
}
