/* why: the reason a libvirt-side step failed, written into the caller's buffer. */
#include "reconcile/why.h"

#include <stdarg.h>
#include <stdio.h>

int why_fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}
