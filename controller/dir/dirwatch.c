/* dirwatch: notice changes under a directory tree of manifests (inotify). */
#include "controller/dir/dirwatch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define DIRWATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
			 IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF)
#define DIRWATCH_DEPTH 32

/* Adds a watch on @path and its subdirectories, @depth levels deep at most. A
 * directory already watched is harmless: inotify returns the same descriptor. */
static void watch_tree(struct dirwatch *w, const char *path, int depth)
{
	DIR *d;
	struct dirent *e;

	if (depth > DIRWATCH_DEPTH || w->n_dirs >= DIRWATCH_MAX_DIRS)
		return;
	if (inotify_add_watch(w->fd, path, DIRWATCH_EVENTS | IN_ONLYDIR) < 0)
		return;
	w->n_dirs++;
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		char sub[PATH_MAX];
		/* Dot-directories (.git) hold no manifests and churn a lot. */
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < (int)sizeof(sub))
			watch_tree(w, sub, depth + 1);
	}
	closedir(d);
}

int dirwatch_open(struct dirwatch *w, const char *root)
{
	w->n_dirs = 0;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -1;
	watch_tree(w, root, 0);
	if (w->n_dirs == 0) {
		int saved = errno;
		dirwatch_close(w);
		errno = saved;
		return -1;
	}
	return 0;
}

/* True for names that can hold manifests (or directories that may). */
static int relevant(const struct inotify_event *ev)
{
	if (ev->mask & (IN_ISDIR | IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW))
		return 1;
	if (!ev->len || ev->name[0] == '.')
		return 0;
	const char *dot = strrchr(ev->name, '.');
	return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

int dirwatch_drain(struct dirwatch *w, const char *root)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0, new_dirs = 0;

	for (int reads = 0; reads < 1000; reads++) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0)
			return -1;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			changed |= relevant(ev);
			new_dirs |= (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO));
			p += sizeof(*ev) + ev->len;
		}
	}
	if (new_dirs) {
		w->n_dirs = 0; /* recounted: directories already watched are walked again */
		watch_tree(w, root, 0);
	}
	return changed;
}

void dirwatch_close(struct dirwatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->n_dirs = 0;
}
