/* quantity: Kubernetes resource quantities ↔ uint64 bytes, with overflow checks. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crd/quantity.h"

#define MAX_MANTISSA_DIGITS 20  /* UINT64_MAX has 20 digits */
#define MAX_SCALE 18            /* 10^18 fits in 64 bits */

static const char *const BINARY[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
static const char DECIMAL[] = "kMGTPE";

/* Reads the suffix at @s: *@shift (power of two) or *@exp10 (power of ten, may be negative).
 * Returns 0, or -1 when @s is not a suffix. */
static int parse_suffix(const char *s, int *shift, int *exp10)
{
	*shift = 0;
	*exp10 = 0;
	if (!*s)
		return 0;
	for (int i = 0; i < 6; i++)
		if (!strcmp(s, BINARY[i])) {
			*shift = 10 * (i + 1);
			return 0;
		}
	if (s[1] == '\0') {
		if (*s == 'm') {
			*exp10 = -3;
			return 0;
		}
		const char *p = strchr(DECIMAL, *s);
		if (p) {
			*exp10 = 3 * (int)(p - DECIMAL + 1);
			return 0;
		}
	}
	if (*s != 'e' && *s != 'E')
		return -1;
	s++;
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!*s)
		return -1;
	int e = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (e > 1000)
			return -1;
		e = e * 10 + (*s - '0');
	}
	*exp10 = sign * e;
	return 0;
}

int crd_quantity_parse(const char *s, uint64_t *bytes, const char **why)
{
	static const char *const SYNTAX = "expected a quantity like 512Mi";
	uint64_t mant = 0;
	int digits = 0, frac = 0, shift, exp10;

	bool negative = false, seen_digit = false;
	const char *p = s;

	*why = SYNTAX;
	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	for (bool in_frac = false; (*p >= '0' && *p <= '9') || (*p == '.' && !in_frac); p++) {
		if (*p == '.') {
			in_frac = true;
			continue;
		}
		seen_digit = true;
		if (digits == 0 && *p == '0') {
			frac += in_frac;   /* leading zeros only shift the scale */
			continue;
		}
		if (__builtin_mul_overflow(mant, 10, &mant) ||
		    __builtin_add_overflow(mant, (uint64_t)(*p - '0'), &mant)) {
			*why = in_frac ? "has too many digits" : "is too large";
			return -1;
		}
		digits++;
		frac += in_frac;
	}
	if (!seen_digit || parse_suffix(p, &shift, &exp10) < 0)
		return -1;
	if (negative) {
		*why = "is negative";
		return -1;
	}
	/* Trailing fractional zeros do not change the value. */
	while (frac > 0 && mant % 10 == 0 && mant != 0) {
		mant /= 10;
		frac--;
	}
	if (mant == 0) {
		*bytes = 0;
		return 0;
	}
	int scale = exp10 - frac;    /* value = mant * 10^scale * 2^shift */
	unsigned __int128 v = mant;
	if (scale > MAX_SCALE + MAX_MANTISSA_DIGITS || scale < -(MAX_SCALE + MAX_MANTISSA_DIGITS))
		goto range;
	for (; scale > 0; scale--)
		if ((v *= 10) > UINT64_MAX)
			goto range;
	v <<= shift;              /* shift <= 60 and v < 2^64: fits in 128 bits */
	for (; scale < 0; scale++) {
		if (v % 10) {
			*why = "is not a whole number of bytes";
			return -1;
		}
		v /= 10;
	}
	if (v > UINT64_MAX) {
		*why = "is too large";
		return -1;
	}
	*bytes = (uint64_t)v;
	return 0;
range:
	*why = scale > 0 ? "is too large" : "is not a whole number of bytes";
	return -1;
}

int crd_quantity_format(uint64_t bytes, char *buf, size_t size)
{
	int i = 6;

	if (bytes == 0)
		return snprintf(buf, size, "0");
	while (i > 0 && bytes % (1ull << (10 * i)))
		i--;
	if (i == 0)
		return snprintf(buf, size, "%llu", (unsigned long long)bytes);
	return snprintf(buf, size, "%llu%s", (unsigned long long)(bytes >> (10 * i)), BINARY[i - 1]);
}
