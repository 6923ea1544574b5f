/* treestamp: a directory tree's state as one number (see treestamp.h). */
#include "controller/dir/treestamp.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* As deep and as many entries as the manifest loader reads, with room to spare. */
#define STAMP_MAX_DEPTH 32
#define STAMP_MAX_ENTRIES 100000

struct stamp {
	uint64_t sum;      /* entries' hashes added: the listing order does not matter */
	size_t entries;
	bool whole;        /* every entry was stat'ed */
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t entry_hash(const char *path, const struct stat *st)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	h = mix(h, (uint64_t)st->st_ino);
	h = mix(h, (uint64_t)st->st_dev);
	h = mix(h, (uint64_t)st->st_size);
	h = mix(h, (uint64_t)st->st_mode);
	h = mix(h, (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec);
	return mix(h, (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec);
}

static void add(struct stamp *s, const char *path, int depth);

static void add_dir(struct stamp *s, const char *dir, int depth)
{
	DIR *d = depth < STAMP_MAX_DEPTH ? opendir(dir) : NULL;
	struct dirent *e;

	if (!d) {
		s->whole = false;
		return;
	}
	while (s->whole && (e = readdir(d))) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			s->whole = false;
		else
			add(s, path, depth + 1);
	}
	closedir(d);
}

static void add(struct stamp *s, const char *path, int depth)
{
	struct stat st;

	if (++s->entries > STAMP_MAX_ENTRIES || stat(path, &st) < 0) {
		s->whole = false;
		return;
	}
	s->sum += entry_hash(path, &st);
	if (S_ISDIR(st.st_mode))
		add_dir(s, path, depth);
}

uint64_t treestamp(const char *root)
{
	struct stamp s = {.whole = true};

	add(&s, root, 0);
	if (!s.whole)
		return 0;
	uint64_t h = mix(s.sum, s.entries);
	return h ? h : 1;
}
