/* difflist: the differences a comparison finds, into a caller's buffer. */
#include "reconcile/difflist.h"

#include <stdarg.h>
#include <stdio.h>

void difflist_init(struct difflist *d, char *buf, size_t size)
{
	*d = (struct difflist){.buf = buf, .size = size};
	if (size)
		buf[0] = '\0';
}

void difflist_add(struct difflist *d, const char *fmt, ...)
{
	va_list ap;

	d->any = true;
	if (d->len + 3 >= d->size)
		return;
	if (d->len)
		d->len += (size_t)snprintf(d->buf + d->len, d->size - d->len, "; ");
	va_start(ap, fmt);
	int n = vsnprintf(d->buf + d->len, d->size - d->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->len = d->len + (size_t)n < d->size ? d->len + (size_t)n : d->size - 1;
}
