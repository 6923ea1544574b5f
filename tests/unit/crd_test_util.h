/* crd_test_util: helpers shared by the crd unit tests (header-only, static functions). */
#ifndef DROVER_TEST_CRD_UTIL_H
#define DROVER_TEST_CRD_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole small file. Returns a NUL-terminated buffer the caller frees, or NULL. */
static inline char *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static inline int test_is_corpus_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return (n > 5 && !strcmp(d->d_name + n - 5, ".yaml")) ||
	       (n > 5 && !strcmp(d->d_name + n - 5, ".json"));
}

#endif
