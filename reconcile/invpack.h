/* invpack: a domain of the inventory packed into one flat record of bytes (numbers as
 * varints, strings inline, no pointers), for what keeps many of them: the inventory cache
 * holds every domain of every host between passes. A domain as its struct and its ~15
 * heap strings took ~470 bytes; its record, less than half (209 for a benchmark domain). */
#ifndef DROVER_INVPACK_H
#define DROVER_INVPACK_H

#include <stdbool.h>
#include <stddef.h>

#include "crd/compiler.h"
#include "reconcile/inventory.h"

/* A record starts with its domain's UUID, the 37 bytes of inv_domain.uuid as they are
 * (NUL-terminated), so a table of records can be searched without decoding them. */
#define INVPACK_UUID_BYTES sizeof(((struct inv_domain *)0)->uuid)

/* Bytes the record of @d takes. This function can't fail. */
size_t invpack_size(const struct inv_domain *d);

/* Writes the record of @d into @buf, which holds invpack_size(@d) bytes. Returns the bytes
 * written (that size). Can't fail. */
size_t invpack_write(const struct inv_domain *d, unsigned char *buf);

/* Decodes record @rec into @out, a copy of its own (for inv_domain_free). Returns 0, or -1
 * when out of memory (then @out is zeroed). */
int invpack_read(const unsigned char *rec, struct inv_domain *out) DROVER_WUR;

/* The domain's UUID, from the head of record @rec. This function can't fail. */
const char *invpack_uuid(const unsigned char *rec);

/* Whether record @rec's domain was read without its definition (definition_unknown). */
bool invpack_definition_unknown(const unsigned char *rec);

#endif
