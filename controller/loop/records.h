/* records: which finished Migrations to forget — all but the newest few of each VM — for
 * directory mode (the state dir's records) and Kubernetes mode (drover's own Migration
 * objects) alike. Pure: no I/O. */
#ifndef DROVER_RECORDS_H
#define DROVER_RECORDS_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "crd/types.h"

/* Finished Migrations kept per VM unless told otherwise (--keep-migrations). */
#define RECORDS_KEEP_DEFAULT 5

/* True when @m is a record of a move drover decided itself (status.reason SpecHostChanged,
 * Drain, Balance or Failover). This function can't fail. */
bool records_own(const struct crd_migration *m);

/* Of the finished Migrations of @set that @pick accepts (@pick may be NULL: all), those
 * beyond the @keep newest (by endTime) of their VM, into a new array the caller frees
 * (*@out, pointers into @set), newest first per VM. Returns how many, or -1 when out of
 * memory. */
long records_to_forget(const struct crd_set *set, size_t keep,
		       bool (*pick)(const struct crd_migration *m, const void *opaque),
		       const void *opaque, const struct crd_migration ***out)
	DROVER_WUR;

#endif
