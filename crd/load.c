/* load: files, directories and multi-document YAML/JSON → a set, with cross-document checks. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crd/decode.h"
#include "crd/index.h"
#include "crd/load.h"

#define MAX_DIR_DEPTH 32

struct load_ctx {
	const char *file;
	struct crd_set *set;
	struct crd_errors *errs;
};

static void load_error(struct crd_errors *errs, const char *file, const char *fmt, const char *arg)
{
	crd_errors_add(errs, CRD_SEV_ERROR, file, 0, 0, NULL, "", "%s%s", fmt, arg);
}

/* Decodes one document and moves the object into the set. Always returns 0: one bad document
 * must not hide the errors of the next. */
static int on_document(void *opaque, struct crd_node *root, int line, int col)
{
	struct load_ctx *l = opaque;
	struct crd_object obj;

	(void)line;
	(void)col;
	if (crd_decode_node(root, l->file, &obj, l->errs) == 0 && crd_set_add(l->set, &obj) < 0) {
		crd_object_free(&obj);
		load_error(l->errs, l->file, "out of memory", "");
	}
	crd_node_free(root);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* A .json file must be strict JSON (jansson says where it is not); it is then read through
 * libyaml, whose flow syntax covers JSON, to keep line and column marks. */
static int load_json(struct load_ctx *l, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	size_t before = l->errs->n_errors;

	if (!v) {
		crd_errors_add(l->errs, CRD_SEV_ERROR, l->file, jerr.line, jerr.column, NULL, "",
			       "JSON syntax error: %s", jerr.text);
		return -1;
	}
	json_decref(v);
	struct crd_errors yerrs = {0};
	if (crd_yaml_parse(l->file, buf, len, on_document, l, &yerrs) == 0) {
		crd_errors_move(l->errs, &yerrs);
		return l->errs->n_errors == before ? 0 : -1;
	}
	/* Valid JSON that libyaml refuses (e.g. tabs): decode without positions. */
	crd_errors_free(&yerrs);
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	struct crd_node *root = v ? crd_node_from_json(v, l->file, l->errs) : NULL;
	json_decref(v);
	if (root)
		(void)on_document(l, root, 0, 0);
	return l->errs->n_errors == before ? 0 : -1;
}

/* Puts entries [from, n) in line:col order (stable), as a person reads the file. */
static void sort_by_position(struct crd_errors *errs, size_t from)
{
	for (size_t i = from + 1; i < errs->n; i++) {
		struct crd_error e = errs->items[i];
		size_t j = i;
		while (j > from && (errs->items[j - 1].line > e.line ||
				    (errs->items[j - 1].line == e.line && errs->items[j - 1].col > e.col))) {
			errs->items[j] = errs->items[j - 1];
			j--;
		}
		errs->items[j] = e;
	}
}

int crd_load_buffer(const char *file, const char *buf, size_t len, struct crd_set *set,
		    struct crd_errors *errs)
{
	struct load_ctx l = {.file = file, .set = set, .errs = errs};
	size_t before = errs->n_errors, first = errs->n;

	if (len > CRD_FILE_MAX_BYTES) {
		crd_errors_add(errs, CRD_SEV_ERROR, file, 1, 1, NULL, "",
			       "file is larger than the limit of 4 MiB");
		return -1;
	}
	if (ends_with(file, ".json")) {
		if (load_json(&l, buf, len) < 0) {
			/* reported in @errs */
		}
	} else if (crd_yaml_parse(file, buf, len, on_document, &l, errs) < 0) {
		/* the syntax error is in @errs; documents before it were loaded */
	}
	sort_by_position(errs, first);
	return errs->n_errors == before ? 0 : -1;
}

/* Reads a whole file of at most CRD_FILE_MAX_BYTES. Returns the bytes (caller frees) with
 * *@len set, or NULL with an error appended. */
static char *read_file(const char *path, size_t *len, struct crd_errors *errs)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	if (!f) {
		load_error(errs, path, "cannot open: ", strerror(errno));
		return NULL;
	}
	buf = malloc(CRD_FILE_MAX_BYTES + 1);
	if (!buf) {
		load_error(errs, path, "out of memory", "");
		goto cleanup;
	}
	*len = fread(buf, 1, CRD_FILE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		load_error(errs, path, "cannot read: ", strerror(errno));
		free(buf);
		buf = NULL;
	}
cleanup:
	fclose(f);
	return buf;
}

static int load_file(const char *path, struct crd_set *set, struct crd_errors *errs)
{
	size_t len = 0;
	char *buf = read_file(path, &len, errs);
	int rc = buf ? crd_load_buffer(path, buf, len, set, errs) : -1;

	free(buf);
	return rc;
}

static bool is_manifest(const char *name)
{
	return ends_with(name, ".yaml") || ends_with(name, ".yml") || ends_with(name, ".json");
}

static int no_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Walks @dir in name order. Returns 0 when every file loaded cleanly, else -1. */
static int load_dir(const char *dir, int depth, size_t *n_files, struct crd_set *set,
		    struct crd_errors *errs)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, no_dots, alphasort), rc = 0;

	if (n < 0) {
		load_error(errs, dir, "cannot read directory: ", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth >= MAX_DIR_DEPTH) {
			load_error(errs, path, "directories are nested too deep", "");
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= load_dir(path, depth + 1, n_files, set, errs);
		} else if (S_ISREG(st.st_mode) && is_manifest(path)) {
			if (++*n_files > CRD_LOAD_MAX_FILES) {
				load_error(errs, path, "more than 10000 manifest files", "");
				rc = -1;
				break;
			}
			rc |= load_file(path, set, errs);
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int crd_load_paths(const char *const *paths, size_t n, struct crd_set *set,
		   struct crd_errors *errs)
{
	size_t before = errs->n_errors, n_files = 0;

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0)
			load_error(errs, paths[i], "cannot open: ", strerror(errno));
		else if (S_ISDIR(st.st_mode))
			(void)load_dir(paths[i], 0, &n_files, set, errs);
		else
			(void)load_file(paths[i], set, errs);
	}
	if (crd_set_check(set, errs) < 0) {
		/* reported in @errs */
	}
	return errs->n_errors == before ? 0 : -1;
}

static void ref_error(struct crd_errors *errs, const struct crd_meta *m, struct crd_pos pos,
		      const char *field, const char *kind, const char *name)
{
	char object[160];

	snprintf(object, sizeof(object), "%s/%s", m->namespace, m->name);
	crd_errors_add(errs, CRD_SEV_ERROR, m->source, pos.line, pos.col, object, field,
		       "%s \"%s\" not found in namespace \"%s\"", kind, name, m->namespace);
}

/* Reports entry @i of the array @x indexes when an earlier entry has its name. */
static void dup_check(const struct crd_index *x, size_t i, const char *kind,
		      struct crd_errors *errs)
{
	const struct crd_meta *m = crd_index_at(x, i), *o;
	size_t first = crd_index_find(x, m->namespace, m->name);

	if (first == i)
		return;
	o = crd_index_at(x, first);
	crd_errors_add(errs, CRD_SEV_ERROR, m->source, m->name_pos.line, m->name_pos.col, NULL,
		       "metadata.name", "duplicate %s \"%s\" in namespace \"%s\" "
		       "(first defined at %s:%d:%d)", kind, m->name, m->namespace, o->source,
		       o->name_pos.line, o->name_pos.col);
}

/* Indexes (crd/index.h) keep this O(n log n): a scan of every earlier object per object
 * took minutes at 100k VMs. An index that cannot be built scans: same result, slower. */
int crd_set_check(const struct crd_set *set, struct crd_errors *errs)
{
	size_t before = errs->n_errors;
	struct crd_set_index ix;
	const struct crd_index *hosts = &ix.kind[CRD_KIND_HOST], *vms = &ix.kind[CRD_KIND_VM];

	(void)crd_set_index_build(&ix, set);
	for (size_t i = 0; i < set->n_hosts; i++)
		dup_check(hosts, i, "Host", errs);
	for (size_t i = 0; i < set->n_vms; i++) {
		const struct crd_vm *vm = &set->vms[i];
		dup_check(vms, i, "VirtualMachine", errs);
		if (vm->spec.host &&
		    crd_index_find(hosts, vm->meta.namespace, vm->spec.host) == CRD_INDEX_NONE)
			ref_error(errs, &vm->meta, vm->spec.host_pos, "spec.host", "Host",
				  vm->spec.host);
	}
	for (size_t i = 0; i < set->n_migrations; i++) {
		const struct crd_migration *m = &set->migrations[i];
		dup_check(&ix.kind[CRD_KIND_MIGRATION], i, "Migration", errs);
		if (crd_index_find(vms, m->meta.namespace, m->spec.vm_name) == CRD_INDEX_NONE)
			ref_error(errs, &m->meta, m->spec.vm_name_pos, "spec.vmName",
				  "VirtualMachine", m->spec.vm_name);
		if (m->spec.target_host &&
		    crd_index_find(hosts, m->meta.namespace, m->spec.target_host) == CRD_INDEX_NONE)
			ref_error(errs, &m->meta, m->spec.target_host_pos, "spec.targetHost", "Host",
				  m->spec.target_host);
	}
	/* Named "default" by the decoder: a duplicate is a second policy of the namespace. */
	for (size_t i = 0; i < set->n_policies; i++)
		dup_check(&ix.kind[CRD_KIND_POLICY], i, "PlacementPolicy", errs);
	crd_set_index_free(&ix);
	return errs->n_errors == before ? 0 : -1;
}

int crd_decode_json_object(const json_t *obj, const char *source, struct crd_object *out,
			   struct crd_errors *errs)
{
	struct crd_node *root = crd_node_from_json(obj, source, errs);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root)
		rc = crd_decode_node(root, source, out, errs);
	crd_node_free(root);
	return rc;
}
