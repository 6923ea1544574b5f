/* error: one located error type (file:line:col or object, field path, message) and a capped list of them. */
#ifndef DROVER_CRD_ERROR_H
#define DROVER_CRD_ERROR_H

#include <stddef.h>
#include <stdio.h>

/* A list keeps at most this many entries; later ones are only counted in @dropped. */
#define CRD_ERRORS_MAX 500

enum crd_severity {
	CRD_SEV_ERROR = 0,
	CRD_SEV_NOTE,           /* informational, e.g. "document skipped"; not a failure */
};

struct crd_error {
	enum crd_severity severity;
	char *file;             /* file name, or a source label such as "api"; may be NULL */
	int line;               /* 1-based; 0 when unknown (objects from the API) */
	int col;                /* 1-based; 0 when unknown */
	char *object;           /* "VirtualMachine default/web-1" when known, else NULL */
	char *field;            /* "spec.domain.memory"; "" for the document itself */
	char *message;
};

struct crd_errors {
	struct crd_error *items;
	size_t n;               /* entries stored (errors and notes) */
	size_t cap;
	size_t n_errors;        /* errors (not notes), including dropped ones */
	size_t dropped;         /* entries not stored because the list was full */
};

/* Appends one entry. Copies every string. When the list is full or memory runs out the entry
 * is only counted; n_errors stays right either way. This function can't fail. */
void crd_errors_add(struct crd_errors *errs, enum crd_severity sev, const char *file, int line,
		    int col, const char *object, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

/* Moves every entry of @from to the end of @to and leaves @from empty. This function can't fail. */
void crd_errors_move(struct crd_errors *to, struct crd_errors *from);

/* Frees the entries and resets the list to empty; accepts NULL. */
void crd_errors_free(struct crd_errors *errs);

/* Writes "FILE:LINE:COL: FIELD: message" (or "FILE: FIELD: message" without a position,
 * "note: " first for notes) into @buf. Returns the length snprintf would have written. */
int crd_error_format(const struct crd_error *e, char *buf, size_t size);

/* Prints every entry, one per line, then "... and N more" when entries were dropped. */
void crd_errors_print(const struct crd_errors *errs, FILE *out);

#endif
