/* statedir: the status of every object in directory mode, one JSON file per object
 * under --state-dir, each written atomically. */
#include "controller/dir/statedir.h"
#include "controller/dir/overrides.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "reconcile/clk.h"
#include "reconcile/plan_balance.h"
#include "reconcile/predict.h"
#include <unistd.h>

#include <jansson.h>

#include "controller/dir/statecache.h"
#include "controller/loop/records.h"
#include "crd/encode.h"
#include "crd/index.h"
#include "crd/load.h"

#define STATE_PATH_MAX 4096
#define STATE_MAX_RECORDS 200000

static const char *const kind_dirs[] = {"hosts", "virtualmachines", "migrations"};

/* fsync of the directory that holds @file (the part of @file before its last '/'): a
 * rename or a new entry is durable only once its directory is. Returns 0, or -1 with errno. */
static int sync_dir_of(const char *file)
{
	char dir[STATE_PATH_MAX];
	const char *slash = strrchr(file, '/');
	size_t len = slash ? (size_t)(slash - file) : 0;
	int fd, rc;

	if (len >= sizeof(dir))
		return errno = ENAMETOOLONG, -1;
	if (slash && len == 0)
		len = 1;   /* a file in / */
	memcpy(dir, slash ? file : ".", slash ? len : 1);
	dir[slash ? len : 1] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	if (rc < 0) {
		int saved = errno;
		close(fd);
		return errno = saved, -1;
	}
	close(fd);
	return 0;
}

/* mkdir -p for the directories above the file @file; each directory made is synced into
 * its parent, or a power loss could take a whole kind's records with it. Returns 0, or -1
 * with errno. */
static int make_parents(const char *file)
{
	char path[STATE_PATH_MAX];
	size_t len = strlen(file);

	if (len >= sizeof(path))
		return errno = ENAMETOOLONG, -1;
	memcpy(path, file, len + 1);
	for (char *p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		int rc = mkdir(path, 0755);
		if (rc == 0)
			rc = sync_dir_of(path);
		*p = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

int state_lock(const char *dir, char *why, size_t size)
{
	char path[STATE_PATH_MAX];
	int fd = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/lock", dir) >= sizeof(path))
		errno = ENAMETOOLONG;
	else if (make_parents(path) == 0 &&
		 (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) >= 0 &&
		 flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (fd >= 0 && errno == EWOULDBLOCK)
		snprintf(why, size, "another drover (apply or run) is working with %s: wait for it "
			 "to end, or stop it", dir);
	else
		snprintf(why, size, "cannot lock %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing releases the flock */
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* True when the file at @path holds exactly @text and a newline: a write would change
 * nothing, and skipping it saves an fsync per object and pass (most status is unchanged). */
static bool holds(const char *path, const char *text)
{
	size_t len = strlen(text);
	char *buf = malloc(len + 2);
	int fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t got = fd >= 0 ? read(fd, buf, len + 2) : -1;
	bool same = got == (ssize_t)len + 1 && !memcmp(buf, text, len) && buf[len] == '\n';

	if (fd >= 0)
		close(fd);
	free(buf);
	return same;
}

/* state_write_json, with the write's token (statecache) into *@token: 0 when it could not
 * be remembered; *@wrote true when the file was written (not known to hold the text). */
static int write_json(const char *path, json_t *obj, uint64_t *token, bool *wrote)
{
	char tmp[STATE_PATH_MAX + 16];
	uint64_t tree = obj ? crd_json_digest(obj) : 0;
	char *text = NULL;
	int fd = -1, ret = -1;

	tmp[0] = '\0';
	*wrote = false;
	/* An idle pass writes the same status for every object: the cache says, from the
	 * value's digest and one stat, that most need no write, without making their text. */
	if ((*token = sc_rewrote(path, tree))) {
		json_decref(obj);
		return 0;
	}
	text = obj ? crd_json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(obj);
	if (!text)
		return errno = ENOMEM, -1;
	if (holds(path, text)) {
		*token = sc_wrote(path, tree);
		free(text);
		return 0;
	}
	if (make_parents(path) < 0)
		goto cleanup;
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 ||
	    fsync(fd) < 0)
		goto cleanup;
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0)
		goto cleanup;
	tmp[0] = '\0';   /* renamed: nothing to unlink */
	/* The crash rules read this record back after a power loss: without the directory's
	 * fsync the rename itself may not have reached the disk. */
	if (sync_dir_of(path) < 0)
		goto cleanup;
	*token = sc_wrote(path, tree);
	*wrote = true;
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (ret < 0 && tmp[0]) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
	}
	free(text);
	return ret;
}

int state_write_json(const char *path, json_t *obj)
{
	uint64_t token;
	bool wrote;
	return write_json(path, obj, &token, &wrote);
}

/* The path of the record of the object of @kind with @meta into @path. Returns 0, or -1
 * with errno when too long. */
static int record_path(const char *dir, enum crd_kind kind, const struct crd_meta *meta,
		       char path[STATE_PATH_MAX])
{
	if (snprintf(path, STATE_PATH_MAX, "%s/%s/%s/%s.json", dir, kind_dirs[kind],
		     meta->namespace, meta->name) >= STATE_PATH_MAX)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

/* Writes @obj (consumed), the object of @kind with @meta, to DIR/KIND/NS/NAME.json
 * atomically; @meta notes which write of its record it is. */
/* Records written per kind (a rewrite skipped is not counted): jobs write from threads. */
static unsigned long written[CRD_N_KINDS];

unsigned long state_written(enum crd_kind kind)
{
	return __atomic_load_n(&written[kind], __ATOMIC_RELAXED);
}

static int write_record(const char *dir, enum crd_kind kind, struct crd_meta *meta,
			json_t *obj)
{
	char path[STATE_PATH_MAX];

	if (record_path(dir, kind, meta, path) < 0) {
		json_decref(obj);
		return -1;
	}
	bool wrote;
	int rc = write_json(path, obj, &meta->record_token, &wrote);
	if (rc < 0)
		meta->record_token = 0;   /* the file may be older than the object */
	if (wrote)
		__atomic_add_fetch(&written[kind], 1, __ATOMIC_RELAXED);
	return rc;
}

int state_write_host(const char *dir, struct crd_host *h)
{
	return write_record(dir, CRD_KIND_HOST, &h->meta, crd_host_to_json(h));
}

int state_write_vm(const char *dir, struct crd_vm *vm)
{
	return write_record(dir, CRD_KIND_VM, &vm->meta, crd_vm_to_json(vm));
}

int state_write_migration(const char *dir, struct crd_migration *m)
{
	return write_record(dir, CRD_KIND_MIGRATION, &m->meta, crd_migration_to_json(m));
}

int state_mark_orphan(const char *dir, const struct plan_orphan *o, bool gone)
{
	char path[STATE_PATH_MAX];
	json_error_t jerr;
	json_t *rec, *st;

	if (snprintf(path, sizeof(path), "%s/virtualmachines/%s/%s.json", dir, o->owner_namespace,
		     o->owner_name) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	if (gone) {
		sc_forget(path);
		return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
	}
	/* Only a record drover wrote while the VM was declared is kept up to date: without
	 * it there is no spec to keep, and the plan says it all. */
	if (!(rec = json_load_file(path, 0, &jerr)))
		return 0;
	st = json_object_get(rec, "status");
	if (!json_is_object(st) && json_object_set_new(rec, "status", (st = json_object())) < 0)
		st = NULL;   /* released by the failed set */
	if (!st || json_object_set_new(st, "phase", json_string(crd_vm_phase_str(CRD_VM_ORPHANED))) < 0 ||
	    json_object_set_new(st, "host", json_string(o->host)) < 0) {
		json_decref(rec);
		return errno = ENOMEM, -1;
	}
	return state_write_json(path, rec);
}

int state_remove_migration(const char *dir, const char *ns, const char *name)
{
	char path[STATE_PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/migrations/%s/%s.json", dir, ns, name) >=
	    (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	sc_forget(path);
	return unlink(path);
}

/* The JSON text of @path, parsed from one read of the whole file (json_load_file reads
 * a character at a time: most of an idle pass's reading of the state dir). A record is one
 * object, so the decoder's document cap bounds it too. Returns the object, or NULL with
 * @why set. */
static json_t *load_record_json(const char *path, char *why, size_t why_size, int *line,
				int *column)
{
	json_error_t jerr = {.line = 0};
	struct stat st;
	json_t *obj = NULL;
	char *text = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*line = *column = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, why_size, "unreadable status record ignored: %s", strerror(errno));
	} else if (st.st_size > (off_t)CRD_DOC_MAX_BYTES) {
		snprintf(why, why_size, "status record ignored: larger than %u bytes",
			 CRD_DOC_MAX_BYTES);
	} else if (!(text = malloc((size_t)st.st_size + 1))) {
		snprintf(why, why_size, "status record ignored: out of memory");
	} else {
		ssize_t got = read(fd, text, (size_t)st.st_size + 1);
		/* More than fstat said: the file grew meanwhile (not drover's atomic write). */
		if (got < 0 || got > st.st_size)
			snprintf(why, why_size, "unreadable status record ignored: %s",
				 got < 0 ? strerror(errno) : "changed while read");
		else if (!(obj = json_loadb(text, (size_t)got, JSON_REJECT_DUPLICATES, &jerr))) {
			snprintf(why, why_size, "unreadable status record ignored: %s", jerr.text);
			*line = jerr.line;
			*column = jerr.column;
		}
	}
	if (fd >= 0)
		close(fd);
	free(text);
	return obj;
}

/* Reads one record. Returns 0 with @out filled, -1 (noted in @errs) otherwise. */
static int read_record(const char *path, struct crd_object *out, struct crd_errors *errs)
{
	char why[300];
	int line, column, rc;
	json_t *obj = load_record_json(path, why, sizeof(why), &line, &column);

	if (!obj) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, line, column, NULL, "", "%s", why);
		return -1;
	}
	struct crd_errors local = {0};
	rc = crd_decode_json_object(obj, path, out, &local);
	json_decref(obj);
	if (rc != 0) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, NULL, "",
			       "status record ignored: it does not decode");
		crd_errors_free(&local);
		return -1;
	}
	crd_errors_free(&local);
	return 0;
}

int state_read_migration(const char *dir, const char *ns, const char *name,
			 struct crd_migration *out, struct crd_errors *errs)
{
	char path[STATE_PATH_MAX];
	struct crd_object rec;

	if (snprintf(path, sizeof(path), "%s/migrations/%s/%s.json", dir, ns, name) >=
	    (int)sizeof(path)) {
		crd_errors_add(errs, CRD_SEV_ERROR, dir, 0, 0, NULL, "", "record path too long");
		return -1;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (read_record(path, &rec, errs) < 0)
		return -1;
	if (rec.kind != CRD_KIND_MIGRATION) {
		crd_errors_add(errs, CRD_SEV_ERROR, path, 0, 0, NULL, "kind", "not a Migration");
		crd_object_free(&rec);
		return -1;
	}
	*out = rec.u.migration;
	return 1;
}

/* The object of @kind, @ns and @name in @set, found through @ix (the set's index: a scan
 * of the set per record made loading quadratic): its meta and, into *@status, where its
 * status is. NULL when @set has no such object. */
static struct crd_meta *object_of(struct crd_set *set, const struct crd_set_index *ix,
				  enum crd_kind kind, const char *ns, const char *name,
				  void **status)
{
	size_t i = crd_index_find(&ix->kind[kind], ns, name);

	if (i == CRD_INDEX_NONE)
		return NULL;
	switch (kind) {
	case CRD_KIND_HOST:
		*status = &set->hosts[i].status;
		return &set->hosts[i].meta;
	case CRD_KIND_VM:
		*status = &set->vms[i].status;
		return &set->vms[i].meta;
	case CRD_KIND_MIGRATION:
		*status = &set->migrations[i].status;
		return &set->migrations[i].meta;
	default:
		return NULL;
	}
}

/* Swaps the status of @rec into the matching object of @set (found through @ix). Returns
 * that object's meta, NULL when @set has none. */
static struct crd_meta *adopt_status(struct crd_set *set, const struct crd_set_index *ix,
				     struct crd_object *rec)
{
	const struct crd_meta *m = &rec->u.host.meta;   /* meta comes first in every kind */
	void *status;
	struct crd_meta *meta = object_of(set, ix, rec->kind, m->namespace, m->name, &status);

	if (!meta)
		return NULL;
	if (rec->kind == CRD_KIND_HOST) {
		struct crd_host_status *to = status, tmp = *to;
		*to = rec->u.host.status;
		rec->u.host.status = tmp;
	} else if (rec->kind == CRD_KIND_VM) {
		struct crd_vm_status *to = status, tmp = *to;
		*to = rec->u.vm.status;
		rec->u.vm.status = tmp;
	} else {
		struct crd_migration_status *to = status, tmp = *to;
		*to = rec->u.migration.status;
		rec->u.migration.status = tmp;
	}
	return meta;
}

/* The kinds of records walk visits. */
#define ALL_KINDS (1u << CRD_KIND_HOST | 1u << CRD_KIND_VM | 1u << CRD_KIND_MIGRATION)

/* A record file walk visits: its path, and the kind, namespace and name its place says. */
struct rec_file {
	const char *path;
	enum crd_kind kind;
	const char *ns;
	char name[256];
};

/* Calls @fn for every record file under DIR/KIND/NS/ of the kinds in @kinds (bits 1 << kind).
 * Returns -1 with errno set when @dir (or a kind folder in it) exists but cannot be read, 0
 * otherwise. */
static int walk(const char *dir, unsigned kinds,
		void (*fn)(void *opaque, const struct rec_file *f), void *opaque)
{
	char path[STATE_PATH_MAX];
	size_t count = 0;
	int failed = 0;

	for (size_t k = 0; k < 3; k++) {
		if (!(kinds & 1u << k))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, kind_dirs[k]);
		DIR *kd = opendir(path);
		struct dirent *ne;
		/* ENOENT is an empty dir; anything else (EACCES, ENOTDIR) must not read as one. */
		if (!kd && errno != ENOENT && !failed)
			failed = errno;
		while (kd && (ne = readdir(kd))) {
			if (ne->d_name[0] == '.')
				continue;
			char nspath[STATE_PATH_MAX];
			if (snprintf(nspath, sizeof(nspath), "%s/%s", path, ne->d_name) >=
			    (int)sizeof(nspath))
				continue;
			DIR *nd = opendir(nspath);
			struct dirent *fe;
			while (nd && (fe = readdir(nd)) && count < STATE_MAX_RECORDS) {
				size_t len = strlen(fe->d_name);
				if (fe->d_name[0] == '.' || len < 6 || strcmp(fe->d_name + len - 5, ".json"))
					continue;
				char file[STATE_PATH_MAX + 256];
				struct rec_file f = {.path = file, .kind = (enum crd_kind)k,
						     .ns = ne->d_name};
				if (snprintf(file, sizeof(file), "%s/%s", nspath, fe->d_name) <
				    (int)sizeof(file) &&
				    snprintf(f.name, sizeof(f.name), "%.*s", (int)(len - 5),
					     fe->d_name) < (int)sizeof(f.name)) {
					fn(opaque, &f);
					count++;
				}
			}
			if (nd)
				closedir(nd);
		}
		if (kd)
			closedir(kd);
	}
	if (failed)
		return errno = failed, -1;
	struct stat st;
	return stat(dir, &st) == 0 || errno == ENOENT ? 0 : -1;
}

struct load_ctx {
	struct crd_set *set;
	struct crd_set_index ix;        /* state_load_status only */
	struct crd_errors *errs;
	int failed;
	size_t added;
};

/* The status of record @f into its object of the set: the one kept since this process
 * last wrote or read it while the file is unchanged, else read from the file. */
static void load_one(void *opaque, const struct rec_file *f)
{
	struct load_ctx *ctx = opaque;
	struct crd_object rec;
	struct stat st;
	void *status = NULL;
	struct crd_meta *meta = object_of(ctx->set, &ctx->ix, f->kind, f->ns, f->name, &status);

	if (stat(f->path, &st) < 0)
		return;   /* gone since the walk listed it */
	uint64_t token = meta ? sc_take(f->path, &st, f->kind, status) : 0;
	if (token) {
		meta->record_token = token;
		return;
	}
	if (read_record(f->path, &rec, ctx->errs) < 0)
		return;
	token = sc_read(f->path, &st);
	if ((meta = adopt_status(ctx->set, &ctx->ix, &rec)))
		meta->record_token = token;
	crd_object_free(&rec);
}

void state_load_status(const char *dir, struct crd_set *set, struct crd_errors *errs)
{
	struct load_ctx ctx = {.set = set, .errs = errs};

	(void)crd_set_index_build(&ctx.ix, set);   /* without memory it scans: slower, same */
	(void)walk(dir, ALL_KINDS, load_one, &ctx);
	sc_load_done();
	crd_set_index_free(&ctx.ix);
}

/* The status of the object of @kind with @meta to the cache, while the object was the last
 * to write or read its record. */
static void keep_status(const char *dir, enum crd_kind kind, const struct crd_meta *meta,
			void *status)
{
	char path[STATE_PATH_MAX];

	if (meta->record_token && record_path(dir, kind, meta, path) == 0)
		sc_keep(path, kind, status, meta->record_token);
}

/* The sink's release: the statuses of @set go to the cache, for the next load to take. */
static void keep_statuses(const char *dir, struct crd_set *set)
{
	for (size_t i = 0; i < set->n_hosts; i++)
		keep_status(dir, CRD_KIND_HOST, &set->hosts[i].meta, &set->hosts[i].status);
	for (size_t i = 0; i < set->n_vms; i++)
		keep_status(dir, CRD_KIND_VM, &set->vms[i].meta, &set->vms[i].status);
	for (size_t i = 0; i < set->n_migrations; i++)
		keep_status(dir, CRD_KIND_MIGRATION, &set->migrations[i].meta,
			    &set->migrations[i].status);
}

static void read_one(void *opaque, const struct rec_file *f)
{
	struct load_ctx *ctx = opaque;
	struct crd_object rec;

	if (read_record(f->path, &rec, ctx->errs) < 0)
		return;
	if (crd_set_add(ctx->set, &rec) < 0) {
		crd_object_free(&rec);
		ctx->failed = 1;
	}
}

/* A Balance move started within the planner's hold time. */
static bool recent_balance(const struct crd_migration *m)
{
	const char *t = m->status.start_time ? m->status.start_time : m->meta.creation_timestamp;
	return m->status.reason == CRD_MIG_BALANCE && t && clk_seconds_since(t) < PLAN_BALANCE_HOLD_S;
}

static void add_unfinished_one(void *opaque, const struct rec_file *f)
{
	struct load_ctx *ctx = opaque;
	struct crd_object rec;

	if (read_record(f->path, &rec, ctx->errs) < 0)
		return;
	const struct crd_migration *m = &rec.u.migration;
	/* Running only: a Pending one never started, and one whose manifest is gone must
	 * not start now. Balance moves of the last hour too: they are balancing's memory
	 * (its hourly limit, and the VMs it leaves alone for a while); and live moves of the
	 * last hour, the prediction's (the fixed part of a move to each host). */
	if (rec.kind == CRD_KIND_MIGRATION &&
	    (m->status.phase == CRD_MIG_RUNNING || recent_balance(m) || pred_move_measured(m)) &&
	    m->spec.vm_name &&
	    crd_set_vm(ctx->set, m->meta.namespace, m->spec.vm_name) &&
	    !crd_set_migration(ctx->set, m->meta.namespace, m->meta.name)) {
		rec.u.migration.undeclared = true;
		if (crd_set_add(ctx->set, &rec) == 0) {
			ctx->added++;
			return;
		}
	}
	crd_object_free(&rec);
}

size_t state_add_unfinished(const char *dir, struct crd_set *set, struct crd_errors *errs)
{
	struct load_ctx ctx = {.set = set, .errs = errs};
	(void)walk(dir, 1u << CRD_KIND_MIGRATION, add_unfinished_one, &ctx);
	return ctx.added;
}

/* The records of @kinds into @out, as state_read_all. */
static int read_kinds(const char *dir, unsigned kinds, struct crd_set *out,
		      struct crd_errors *errs)
{
	struct load_ctx ctx = {.set = out, .errs = errs};

	if (walk(dir, kinds, read_one, &ctx) < 0) {
		crd_errors_add(errs, CRD_SEV_ERROR, dir, 0, 0, NULL, "", "cannot read: %s",
			       strerror(errno));
		return -1;
	}
	return ctx.failed ? -1 : 0;
}

int state_read_all(const char *dir, struct crd_set *out, struct crd_errors *errs)
{
	return read_kinds(dir, ALL_KINDS, out, errs);
}

/* Says it once: the same cause (a read-only dir, say) would repeat for every object. */
static void sink_failed(struct state_sink *s, const char *kind, const char *name)
{
	if (s->failures++ == 0)
		fprintf(stderr, "drover: cannot write status of %s %s under %s: %s\n", kind, name,
			s->dir, strerror(errno));
}

static void sink_vm(void *opaque, struct crd_vm *vm)
{
	if (state_write_vm(((struct state_sink *)opaque)->dir, vm) < 0)
		sink_failed(opaque, "VirtualMachine", vm->meta.name);
}

static void sink_host(void *opaque, struct crd_host *h)
{
	if (state_write_host(((struct state_sink *)opaque)->dir, h) < 0)
		sink_failed(opaque, "Host", h->meta.name);
}

static void sink_migration(void *opaque, struct crd_migration *m)
{
	if (state_write_migration(((struct state_sink *)opaque)->dir, m) < 0)
		sink_failed(opaque, "Migration", m->meta.name);
}

static void sink_orphan(void *opaque, const struct plan_orphan *o, bool gone)
{
	if (state_mark_orphan(((struct state_sink *)opaque)->dir, o, gone) < 0)
		sink_failed(opaque, "VirtualMachine", o->owner_name);
}

static void sink_restart_taken(void *opaque, const struct crd_vm *vm)
{
	if (ovr_take_restart(((struct state_sink *)opaque)->dir, vm->meta.namespace,
			     vm->meta.name) < 0)
		sink_failed(opaque, "restart request of VirtualMachine", vm->meta.name);
}

static void sink_release(void *opaque, struct crd_set *set)
{
	keep_statuses(((struct state_sink *)opaque)->dir, set);
}

struct rec_sink state_sink(struct state_sink *s)
{
	return (struct rec_sink){.vm = sink_vm, .host = sink_host, .migration = sink_migration,
				 .orphan = sink_orphan, .restart_taken = sink_restart_taken,
				 .release = sink_release, .opaque = s};
}

/* Spared: a user's Migration still in the manifests keeps its record, or it would run
 * again. */
static bool undeclared_in(const struct crd_migration *m, const void *opaque)
{
	return !crd_set_migration(opaque, m->meta.namespace, m->meta.name);
}

int state_prune_migrations(const char *dir, const struct crd_set *set, size_t keep)
{
	struct crd_set recs = {0};
	struct crd_errors errs = {0};
	const struct crd_migration **forget = NULL;
	long n = -1;
	int removed = 0;

	/* The Migration records only: a pass must not read every VM's and Host's to prune. */
	if (read_kinds(dir, 1u << CRD_KIND_MIGRATION, &recs, &errs) == 0)
		n = records_to_forget(&recs, keep, undeclared_in, set, &forget);
	for (long i = 0; i < n; i++)
		if (state_remove_migration(dir, forget[i]->meta.namespace, forget[i]->meta.name) == 0)
			removed++;
	free(forget);
	crd_set_free(&recs);
	crd_errors_free(&errs);
	return n < 0 ? -1 : removed;
}
