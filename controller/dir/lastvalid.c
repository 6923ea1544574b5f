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

#include <jansson.h>

#include "controller/dir/statedir.h"

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

/* STATE/manifests.json into @buf. Returns 0, or -1 when it does not fit. */
static int note_path(const char *state_dir, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/manifests.json", state_dir) < (int)size ? 0 : -1;
}

/* One error as {file, line, column, field, message}; position and field left out when
 * unknown. Returns NULL when out of memory. */
static json_t *error_to_json(const struct crd_error *e)
{
	json_t *o = json_pack("{s:s}", "message", e->message ? e->message : "");

	if (o && e->file)
		json_object_set_new(o, "file", json_string(e->file));
	if (o && e->line > 0)
		json_object_set_new(o, "line", json_integer(e->line));
	if (o && e->col > 0)
		json_object_set_new(o, "column", json_integer(e->col));
	if (o && e->field && *e->field)
		json_object_set_new(o, "field", json_string(e->field));
	if (o && e->object)
		json_object_set_new(o, "object", json_string(e->object));
	return o;
}

/* The record of invalid manifests: since @since, acting on @acting_on (or NULL), the first
 * LASTVALID_NOTE_ERRORS errors of @errs and the count of the others plus @more. Returns
 * NULL when out of memory. */
static json_t *note_json(const char *since, const char *acting_on,
			 const struct crd_errors *errs, size_t more)
{
	json_t *o = json_pack("{s:b, s:s}", "valid", 0, "invalidSince", since ? since : "");
	json_t *list = json_array();
	size_t kept = 0;

	/* json_object_set_new takes @list, also when it fails. */
	if (!o || json_object_set_new(o, "errors", list) < 0)
		goto fail;
	for (size_t i = 0; i < errs->n; i++) {
		if (errs->items[i].severity != CRD_SEV_ERROR || kept >= LASTVALID_NOTE_ERRORS)
			continue;
		if (json_array_append_new(list, error_to_json(&errs->items[i])) < 0)
			goto fail;
		kept++;
	}
	more += errs->n_errors > kept ? errs->n_errors - kept : 0;
	if ((more && json_object_set_new(o, "moreErrors", json_integer((json_int_t)more)) < 0) ||
	    (acting_on && json_object_set_new(o, "actingOn", json_string(acting_on)) < 0))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

json_t *lastvalid_note_to_json(const struct lastvalid_note *n)
{
	return note_json(n->since, n->acting_on, &n->errs, n->more);
}

int lastvalid_note_invalid(const char *state_dir, const char *since, const char *acting_on,
			   const struct crd_errors *errs)
{
	char path[4096];
	json_t *o = note_json(since, acting_on, errs, 0);

	if (!o)
		return errno = ENOMEM, -1;
	if (note_path(state_dir, path, sizeof(path)) < 0) {
		json_decref(o);
		return errno = ENAMETOOLONG, -1;
	}
	return state_write_json(path, o);
}

int lastvalid_note_valid(const char *state_dir)
{
	char path[4096];

	if (note_path(state_dir, path, sizeof(path)) < 0)
		return errno = ENAMETOOLONG, -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

void lastvalid_note_free(struct lastvalid_note *n)
{
	if (!n)
		return;
	free(n->since);
	free(n->acting_on);
	crd_errors_free(&n->errs);
	memset(n, 0, sizeof(*n));
}

/* A string member of @o copied, or NULL. */
static char *dup_member(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? strdup(v) : NULL;
}

/* Fills @out from record @o. Returns 1, or -1 when it is not a record of invalid manifests. */
static int note_from_json(const json_t *o, struct lastvalid_note *out)
{
	const json_t *list = json_object_get(o, "errors"), *e;
	size_t i;

	if (!json_is_object(o) || !json_is_false(json_object_get(o, "valid")) ||
	    !json_is_array(list) || !(out->since = dup_member(o, "invalidSince")))
		return -1;
	out->acting_on = dup_member(o, "actingOn");
	json_array_foreach(list, i, e) {
		if (!json_is_object(e))
			return -1;
		crd_errors_add(&out->errs, CRD_SEV_ERROR,
			       json_string_value(json_object_get(e, "file")),
			       (int)json_integer_value(json_object_get(e, "line")),
			       (int)json_integer_value(json_object_get(e, "column")),
			       json_string_value(json_object_get(e, "object")),
			       json_string_value(json_object_get(e, "field")) ?
				       json_string_value(json_object_get(e, "field")) : "",
			       "%s", json_string_value(json_object_get(e, "message")) ?
					     json_string_value(json_object_get(e, "message")) : "");
	}
	json_int_t more = json_integer_value(json_object_get(o, "moreErrors"));
	out->more = more > 0 ? (size_t)more : 0;
	return 1;
}

int lastvalid_note_read(const char *state_dir, struct lastvalid_note *out)
{
	char path[4096];
	struct stat st;
	json_t *o = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (note_path(state_dir, path, sizeof(path)) < 0)
		return -1;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	/* drover's own record, but a state dir is a directory anyone with access may fill. */
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)LASTVALID_NOTE_MAX)
		return -1;
	if (!(o = json_load_file(path, JSON_REJECT_DUPLICATES, NULL)))
		goto cleanup;
	rc = note_from_json(o, out);
cleanup:
	json_decref(o);
	if (rc < 0)
		lastvalid_note_free(out);
	return rc;
}
