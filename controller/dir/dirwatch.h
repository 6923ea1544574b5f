/* dirwatch: notice changes under a directory tree of manifests (inotify). */
#ifndef DROVER_DIRWATCH_H
#define DROVER_DIRWATCH_H

#include "crd/compiler.h"

#define DIRWATCH_MAX_DIRS 1024

struct dirwatch {
	int fd;                   /* inotify descriptor, for poll() */
	int n_dirs;               /* directories watched */
};

/* Watches @root and every directory below it (at most DIRWATCH_MAX_DIRS).
 * Returns 0, or -1 with errno set. */
int dirwatch_open(struct dirwatch *w, const char *root) DROVER_WUR;

/* Reads every pending event; directories created since are watched too. Returns 1
 * when a manifest may have changed, 0 when not, -1 on a read error. */
int dirwatch_drain(struct dirwatch *w, const char *root);

/* Stops watching; accepts a closed watch. */
void dirwatch_close(struct dirwatch *w);

#endif
