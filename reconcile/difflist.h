/* difflist: the differences a comparison finds, "; "-separated into a caller's buffer,
 * truncated to fit; a truncated list still says that something differs. */
#ifndef DROVER_DIFFLIST_H
#define DROVER_DIFFLIST_H

#include <stdbool.h>
#include <stddef.h>

struct difflist {
	char *buf;              /* the caller's; NUL-terminated once difflist_init ran */
	size_t size, len;
	bool any;               /* something was added (also when it did not fit) */
};

/* Starts an empty list in @buf of @size bytes. This function can't fail. */
void difflist_init(struct difflist *d, char *buf, size_t size);

/* Adds one difference. This function can't fail (what does not fit is left out). */
void difflist_add(struct difflist *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
