/* quantity: Kubernetes resource quantities ("512Mi", "1G", "1.5Gi", "2e9") ↔ uint64 bytes. */
#ifndef DROVER_CRD_QUANTITY_H
#define DROVER_CRD_QUANTITY_H

#include "crd/compiler.h"

#include <stddef.h>
#include <stdint.h>

/* Parses @s as a non-negative whole number of bytes. Returns 0 with *@bytes set, or -1 with
 * *@why set to a static reason ("expected a quantity like 512Mi", "is negative",
 * "is not a whole number of bytes", "is too large"). Overflow is always detected. */
int crd_quantity_parse(const char *s, uint64_t *bytes, const char **why)
	DROVER_WUR;

/* Formats @bytes with the largest binary suffix that divides it ("512Mi", "1536Ki", "7").
 * Returns the length snprintf would have written; 32 bytes always suffice. */
int crd_quantity_format(uint64_t bytes, char *buf, size_t size);

#endif
