/* treestamp: one number for the state of a directory tree's files, so a controller can
 * tell, with a stat per entry and without reading any file, that its manifests are as it
 * last loaded them. inotify only says when to look: it misses changes made over NFS or
 * past its watch limit, where a stamp does not. */
#ifndef DROVER_TREESTAMP_H
#define DROVER_TREESTAMP_H

#include <stdint.h>

#include "crd/compiler.h"

/* Stamps the tree at @root: every entry below it (symbolic links followed, as the loader
 * follows them; hidden ones skipped, as it skips them, though their coming and going
 * changes their directory's times) by path, inode, size, and modification and change
 * times. Any write, rename, creation or removal changes the stamp; an unchanged tree gives
 * the same stamp whatever order the directory lists it in.
 * A tree that cannot be read whole stamps as 0, which matches nothing. Take it before
 * reading the files: a change made while they are read then shows in the next stamp. */
uint64_t treestamp(const char *root) DROVER_WUR;

#endif
