/* alloc_test_util: a jansson allocator whose (N+1)th call fails, and only that one (header-
 * only, static functions): what follows a failure still works, so code that goes on after
 * one would write what it has, and a test sees it. */
#ifndef DROVER_TEST_ALLOC_UTIL_H
#define DROVER_TEST_ALLOC_UTIL_H

#include <stdlib.h>

#include <jansson.h>

static long alloc_left = -1;   /* < 0: never fail */
static long alloc_failed;      /* failures since fail_call */

static inline void *failing_malloc(size_t size)
{
	if (alloc_left == 0) {
		alloc_left = -1;
		alloc_failed++;
		return NULL;
	}
	if (alloc_left > 0)
		alloc_left--;
	return malloc(size);
}

/* jansson's allocation number @n (from 0) fails. */
static inline void fail_call(long n)
{
	alloc_left = n;
	alloc_failed = 0;
	json_set_alloc_funcs(failing_malloc, free);
}

static inline void alloc_normal(void)
{
	alloc_left = -1;
	json_set_alloc_funcs(malloc, free);
}

#endif
