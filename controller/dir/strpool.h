/* strpool: one counted copy of each string the statuses kept between passes hold. An idle
 * VM's status is a few conditions whose types, reasons and times are the same words across
 * thousands of VMs; kept as their own allocations they made the kept statuses of 10k VMs
 * cost 9 MiB, most of it allocator overhead. Thread-safe. */
#ifndef DROVER_STRPOOL_H
#define DROVER_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>

/* A reference to the pool's copy of @s (made when new): to be given back with sp_put,
 * never freed. NULL when out of memory. */
char *sp_get(const char *s);

/* Gives back a reference from sp_get; the last one frees the copy. Accepts NULL. */
void sp_put(char *pooled);

/* True when @p is one of the pool's copies. Can't fail. */
bool sp_holds(const char *p);

/* How many strings the pool holds (tests). */
size_t sp_count(void);

#endif
