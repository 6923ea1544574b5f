/* lastvalid: the last valid manifest set, copied into the state dir. */
#define _XOPEN_SOURCE 700
#include "controller/dir/lastvalid.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lastvalid_dir(const char *state_dir, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/last-valid", state_dir) < (int)size ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes the tree at @path; a missing one is fine. Returns 0, or -1. */
static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool is_manifest(const char *name)
{
	static const char *const exts[] = {".yaml", ".yml", ".json", NULL};
	size_t n = strlen(name);
	for (size_t i = 0; exts[i]; i++) {
		size_t k = strlen(exts[i]);
		if (n > k && !strcmp(name + n - k, exts[i]))
			return true;
	}
	return false;
}

/* Copies regular file @from to @to (mode 0600). Returns 0, or -1. */
static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n = 0;
	size_t total = 0;
	int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = -1;
	int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0 && total <= LASTVALID_FILE_MAX) {
		total += (size_t)n;
		if (write(out, buf, (size_t)n) != n)
			break;
	}
	rc = out >= 0 && n == 0 && fsync(out) == 0 ? 0 : -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* The walk's state: nftw passes no opaque pointer. One save at a time (the state dir lock). */
static struct {
	const char *src, *dst;
	size_t files;
} walk;

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char to[8192];
	const char *rel = path + strlen(walk.src);

	(void)st;
	(void)ftw;
	if (snprintf(to, sizeof(to), "%s%s", walk.dst, rel) >= (int)sizeof(to))
		return -1;
	if (flag == FTW_D)
		return *rel && mkdir(to, 0700) != 0 ? -1 : 0;
	if (flag != FTW_F || !is_manifest(path))
		return 0;   /* symlinks, other files: not manifests drover reads */
	if (++walk.files > LASTVALID_MAX_FILES)
		return -1;
	return copy_file(path, to);
}

int lastvalid_save(const char *src, const char *state_dir)
{
	char dir[4096], tmp[4200], old[4200];

	if (lastvalid_dir(state_dir, dir, sizeof(dir)) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s.new", dir) >= (int)sizeof(tmp) ||
	    snprintf(old, sizeof(old), "%s.old", dir) >= (int)sizeof(old)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (remove_tree(tmp) < 0 || mkdir(tmp, 0700) != 0)
		return -1;
	walk.src = src;
	walk.dst = tmp;
	walk.files = 0;
	if (nftw(src, copy_one, 16, FTW_PHYS) != 0) {
		int e = errno;
		(void)remove_tree(tmp);
		errno = e;
		return -1;
	}
	/* old ← current, current ← new: at every moment one complete set is there. */
	if (remove_tree(old) < 0 || (rename(dir, old) != 0 && errno != ENOENT) ||
	    rename(tmp, dir) != 0)
		return -1;
	(void)remove_tree(old);
	return 0;
}

int lastvalid_find(const char *state_dir, char *buf, size_t size)
{
	struct stat st;

	if (lastvalid_dir(state_dir, buf, size) < 0)
		return -1;
	if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	size_t n = strlen(buf);
	if (n + 5 > size)
		return -1;
	memcpy(buf + n, ".old", 5);
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}
