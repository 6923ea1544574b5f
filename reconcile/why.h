/* why: the reason a libvirt-side step failed, written into the caller's buffer. */
#ifndef DROVER_WHY_H
#define DROVER_WHY_H

#include <stddef.h>

/* Writes the formatted reason into @why (bounded and terminated; nothing when @why is NULL
 * or @size is 0), so failing steps read `return why_fail(...)`. Returns -1. */
int why_fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
