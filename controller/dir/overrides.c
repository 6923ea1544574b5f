/* overrides: what an operator asks of directory mode through the CLI (drain overrides,
 * Migration requests), kept in the state dir because drover never writes manifests. */
#include "controller/dir/overrides.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "crd/load.h"
#include "reconcile/clk.h"
#include "controller/dir/statedir.h"
#include "crd/validate.h"

#define OVR_DIR "overrides"
#define OVR_HOSTS "overrides/hosts"
#define OVR_MIGRATIONS "overrides/migrations"
#define OVR_RESTARTS "overrides/restarts"
#define OVR_FENCES "overrides/fences"

/* DIR/FOLDER/NS/NAME.json into @buf. Returns 0, or -1 with errno EINVAL when @ns or @name
 * is not a DNS label (so a name never leaves its folder), ENAMETOOLONG when it does not fit. */
static int record_path(const char *state_dir, const char *folder, const char *ns,
		       const char *name, char *buf, size_t size)
{
	if (!ns || !name || !crd_valid_dns_label(ns) || !crd_valid_dns_label(name))
		return errno = EINVAL, -1;
	int n = snprintf(buf, size, "%s/%s/%s/%s.json", state_dir, folder, ns, name);
	if (n < 0 || (size_t)n >= size)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

int ovr_host_path(const char *state_dir, const char *ns, const char *name, char *buf,
		  size_t size)
{
	return record_path(state_dir, OVR_HOSTS, ns, name, buf, size);
}

/* Reads the small JSON object at @path into *@out (the caller decrefs it). Returns 1 when
 * read, 0 when there is none, -1 when it cannot be read, is over OVR_RECORD_MAX or is not
 * JSON, with why in @why. */
static int read_json(const char *path, json_t **out, char *why, size_t why_size)
{
	char text[OVR_RECORD_MAX + 1];
	json_error_t jerr;
	ssize_t len = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd >= 0) {
		len = read(fd, text, sizeof(text));
		close(fd);
	}
	if (len < 0) {
		snprintf(why, why_size, "cannot read: %s", strerror(errno));
		return -1;
	}
	if ((size_t)len > OVR_RECORD_MAX) {
		snprintf(why, why_size, "over %u bytes", OVR_RECORD_MAX);
		return -1;
	}
	if (!(*out = json_loadb(text, (size_t)len, 0, &jerr))) {
		snprintf(why, why_size, "not JSON: %.100s", jerr.text);
		return -1;
	}
	return 1;
}

/* Reads the record at @path into *@drain. Returns 1 when read, 0 when there is none, -1
 * when it cannot be read or is not {"drain": BOOL}, with why in @why. */
static int read_record(const char *path, bool *drain, char *why, size_t why_size)
{
	json_t *obj = NULL, *d;
	int ret = read_json(path, &obj, why, why_size);

	if (ret <= 0)
		return ret;
	d = json_object_get(obj, "drain");
	if (!json_is_boolean(d) || json_object_size(obj) != 1) {
		snprintf(why, why_size, "not an override record: expected {\"drain\": true}");
		ret = -1;
	} else {
		*drain = json_is_true(d);
	}
	json_decref(obj);
	return ret;
}

int ovr_drain(const char *state_dir, const char *ns, const char *name)
{
	char path[OVR_PATH_MAX], why[128];
	bool drain = false;

	if (ovr_host_path(state_dir, ns, name, path, sizeof(path)) < 0)
		return -1;
	if (read_record(path, &drain, why, sizeof(why)) == 1 && drain)
		return 0;
	json_t *rec = json_pack("{s:b}", "drain", 1);
	return state_write_json(path, rec) < 0 ? -1 : 1;
}

int ovr_undrain(const char *state_dir, const char *ns, const char *name)
{
	char path[OVR_PATH_MAX];

	if (ovr_host_path(state_dir, ns, name, path, sizeof(path)) < 0)
		return -1;
	if (unlink(path) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

static struct crd_host *find_host(struct crd_set *set, const char *ns, const char *name)
{
	for (size_t i = 0; i < set->n_hosts; i++) {
		struct crd_meta *m = &set->hosts[i].meta;
		if (m->name && !strcmp(m->name, name) && !strcmp(m->namespace ? m->namespace : "default", ns))
			return &set->hosts[i];
	}
	return NULL;
}

/* Applies the record at @path, of Host @ns/@file (the file name, ".json" included).
 * Returns 1 when applied, 0 when noted in @errs. */
static int apply_one(struct crd_set *set, const char *path, const char *ns, const char *file,
		     struct crd_errors *errs)
{
	char name[256], object[600], why[160];
	size_t len = strlen(file);
	bool drain = false;
	struct crd_host *h;

	snprintf(name, sizeof(name), "%.*s", (int)(len - 5), file);
	snprintf(object, sizeof(object), "Host %s/%s", ns, name);
	if (!crd_valid_dns_label(ns) || !crd_valid_dns_label(name)) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, NULL, "",
			       "not a Host's namespace/name: override ignored");
		return 0;
	}
	if (read_record(path, &drain, why, sizeof(why)) != 1) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, object, "", "%s: override ignored", why);
		return 0;
	}
	if (!(h = find_host(set, ns, name))) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, object, "spec.drain",
			       "no such Host is declared: override ignored (drover undrain %s "
			       "--namespace %s removes it)", name, ns);
		return 0;
	}
	h->spec.drain = h->spec.drain || drain;
	return 1;
}

/* Calls @fn(set, path, ns, file name, errs) for every ROOT/NS/NAME.json, at most
 * OVR_MAX_RECORDS of them. Returns the sum of what @fn returned. */
typedef int (*record_fn)(struct crd_set *set, const char *path, const char *ns,
			 const char *file, struct crd_errors *errs);
static size_t walk_records(const char *root, record_fn fn, struct crd_set *set,
			   struct crd_errors *errs)
{
	size_t sum = 0, seen = 0;
	struct dirent *ne, *fe;
	DIR *rd = opendir(root);

	while (rd && (ne = readdir(rd)) && seen <= OVR_MAX_RECORDS) {
		char nspath[OVR_PATH_MAX + 256];
		DIR *nd;
		if (ne->d_name[0] == '.' ||
		    snprintf(nspath, sizeof(nspath), "%s/%s", root, ne->d_name) >= (int)sizeof(nspath) ||
		    !(nd = opendir(nspath)))
			continue;
		while ((fe = readdir(nd))) {
			char file[OVR_PATH_MAX + 512];
			size_t len = strlen(fe->d_name);
			/* Temporary files of a write under way end in .tmpPID: not records yet. */
			if (fe->d_name[0] == '.' || len < 6 || strcmp(fe->d_name + len - 5, ".json") ||
			    snprintf(file, sizeof(file), "%s/%s", nspath, fe->d_name) >= (int)sizeof(file))
				continue;
			if (seen++ == OVR_MAX_RECORDS) {
				crd_errors_add(errs, CRD_SEV_NOTE, root, 0, 0, NULL, "",
					       "more than %u records: the rest are ignored",
					       OVR_MAX_RECORDS);
				break;
			}
			sum += (size_t)fn(set, file, ne->d_name, fe->d_name, errs);
		}
		closedir(nd);
	}
	if (rd)
		closedir(rd);
	return sum;
}

size_t ovr_apply(const char *state_dir, struct crd_set *set, struct crd_errors *errs)
{
	char hosts[OVR_PATH_MAX];

	if (snprintf(hosts, sizeof(hosts), "%s/" OVR_HOSTS, state_dir) >= (int)sizeof(hosts))
		return 0;
	return walk_records(hosts, apply_one, set, errs);
}

int ovr_watch_dir(const char *state_dir, char *buf, size_t size)
{
	const char *parts[] = {"", "/" OVR_DIR, "/" OVR_HOSTS, "/" OVR_FENCES};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		int n = snprintf(buf, size, "%s%s", state_dir, parts[i]);
		if (n < 0 || (size_t)n >= size)
			return errno = ENAMETOOLONG, -1;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
	}
	snprintf(buf, size, "%s/" OVR_DIR, state_dir);
	return 0;
}

/* ---- Migration requests ---- */

int ovr_migrations_dir(const char *state_dir, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/" OVR_MIGRATIONS, state_dir);
	if (n < 0 || (size_t)n >= size)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

/* DIR/overrides/migrations/NS/NAME.json into @buf. Returns 0, or -1 with errno set. */
static int request_path(const char *state_dir, const char *ns, const char *name, char *buf,
			size_t size)
{
	return record_path(state_dir, OVR_MIGRATIONS, ns, name, buf, size);
}

int ovr_request_migration(const char *state_dir, const char *ns, const char *name, json_t *obj)
{
	char path[OVR_PATH_MAX];

	if (request_path(state_dir, ns, name, path, sizeof(path)) < 0) {
		json_decref(obj);
		return -1;
	}
	if (access(path, F_OK) == 0) {
		json_decref(obj);
		return errno = EEXIST, -1;
	}
	return state_write_json(path, obj);
}

size_t ovr_forget_finished(const char *state_dir, const struct crd_set *set)
{
	char path[OVR_PATH_MAX];
	size_t removed = 0;

	for (size_t i = 0; i < set->n_migrations; i++) {
		const struct crd_migration *m = &set->migrations[i];
		if (crd_mig_phase_ended(m->status.phase) &&
		    request_path(state_dir, m->meta.namespace, m->meta.name, path, sizeof(path)) == 0 &&
		    unlink(path) == 0)
			removed++;
	}
	return removed;
}

/* Reads the request at @path (Migration @ns/@file) and adds it to @set when it fits the
 * manifests: its VM and target Host declared, its name unused. A request that does not is
 * noted and ignored, so it can never make the manifests unusable. Returns 1 when added. */
static int add_request(struct crd_set *set, const char *path, const char *ns, const char *file,
		       struct crd_errors *errs)
{
	char text[OVR_RECORD_MAX + 1], object[600];
	struct crd_set one = {0};
	struct crd_errors local = {0};
	ssize_t len = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC), added = 0;
	const char *why = NULL;

	snprintf(object, sizeof(object), "Migration %s/%.*s", ns, (int)strlen(file) - 5, file);
	if (fd >= 0) {
		len = read(fd, text, sizeof(text));
		close(fd);
	}
	if (len < 0 || (size_t)len > OVR_RECORD_MAX)
		why = len < 0 ? "cannot be read" : "is too long";
	else if (crd_load_buffer(path, text, (size_t)len, &one, &local) < 0 || one.n_migrations != 1 ||
		 one.n_vms || one.n_hosts)
		why = "is not one valid Migration";
	else if (!crd_set_vm(set, one.migrations[0].meta.namespace, one.migrations[0].spec.vm_name))
		why = "names a VirtualMachine the manifests do not declare";
	else if (one.migrations[0].spec.target_host &&
		 !crd_set_host(set, one.migrations[0].meta.namespace, one.migrations[0].spec.target_host))
		why = "names a target Host the manifests do not declare";
	else if (crd_set_migration(set, one.migrations[0].meta.namespace, one.migrations[0].meta.name))
		why = "has the name of a Migration in the manifests";
	if (why) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, object, "", "migration request %s: "
			       "ignored", why);
	} else {
		struct crd_object o = {.kind = CRD_KIND_MIGRATION, .u.migration = one.migrations[0]};
		if (crd_set_add(set, &o) == 0) {
			memset(&one.migrations[0], 0, sizeof(one.migrations[0]));
			added = 1;
		}
	}
	crd_set_free(&one);
	crd_errors_free(&local);
	return added;
}

int ovr_request_restart(const char *state_dir, const char *ns, const char *name)
{
	char path[OVR_PATH_MAX];

	if (record_path(state_dir, OVR_RESTARTS, ns, name, path, sizeof(path)) < 0)
		return -1;
	return state_write_json(path, json_pack("{s:b}", "restart", 1));
}

int ovr_take_restart(const char *state_dir, const char *ns, const char *name)
{
	char path[OVR_PATH_MAX];

	if (record_path(state_dir, OVR_RESTARTS, ns, name, path, sizeof(path)) < 0)
		return -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Marks VM @ns/@file (".json" included) as asked to restart. Returns 1 when it is
 * declared, 0 (noted) when not. */
static int mark_restart(struct crd_set *set, const char *path, const char *ns, const char *file,
			struct crd_errors *errs)
{
	char name[256];
	size_t len = strlen(file);

	snprintf(name, sizeof(name), "%.*s", (int)(len - 5), file);
	struct crd_vm *vm = (struct crd_vm *)crd_set_vm(set, ns, name);
	if (!vm) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, NULL, "",
			       "restart request of VirtualMachine %s/%s, which is not declared: "
			       "ignored", ns, name);
		return 0;
	}
	vm->restart_requested = true;
	return 1;
}

/* ---- fence records ---- */

int ovr_record_fence(const char *state_dir, const char *ns, const char *name,
		     const struct crd_fence_status *f)
{
	char path[OVR_PATH_MAX];
	double t;

	if (!f->last_action || !f->result || !f->time || clk_parse_rfc3339(f->time, &t) < 0)
		return errno = EINVAL, -1;
	if (record_path(state_dir, OVR_FENCES, ns, name, path, sizeof(path)) < 0)
		return -1;
	return state_write_json(path, json_pack("{s:s, s:s, s:s}", "lastAction", f->last_action,
						"result", f->result, "time", f->time));
}

/* True when status.fencing @have holds a fence at @t or later. */
static bool fence_known(const struct crd_fence_status *have, double t)
{
	double had;
	return have->time && clk_parse_rfc3339(have->time, &had) == 0 && had >= t;
}

static int set_field(char **dst, json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	char *copy = v ? strdup(v) : NULL;

	if (!copy)
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

/* Gives the fence record at @path (Host @ns/@file) to the Host's status.fencing when it is
 * newer. Returns 1 when given, 0 otherwise (noted in @errs when it does not apply). */
static int apply_fence(struct crd_set *set, const char *path, const char *ns, const char *file,
		       struct crd_errors *errs)
{
	char name[256], why[160] = "not a fence record";
	json_t *obj = NULL;
	double t = 0;
	int given = 0;
	struct crd_host *h;

	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 5), file);
	if (read_json(path, &obj, why, sizeof(why)) < 0 || !obj ||
	    !json_is_string(json_object_get(obj, "lastAction")) ||
	    !json_is_string(json_object_get(obj, "result")) ||
	    clk_parse_rfc3339(json_string_value(json_object_get(obj, "time")), &t) < 0) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, NULL, "", "%s: fence record ignored",
			       why);
	} else if (!(h = find_host(set, ns, name))) {
		crd_errors_add(errs, CRD_SEV_NOTE, path, 0, 0, NULL, "",
			       "fence record of Host %s/%s, which is not declared: ignored", ns,
			       name);
	} else if (!fence_known(&h->status.fencing, t)) {
		struct crd_fence_status *f = &h->status.fencing;
		given = set_field(&f->last_action, obj, "lastAction") == 0 &&
			set_field(&f->result, obj, "result") == 0 &&
			set_field(&f->time, obj, "time") == 0;
		if (!given) {
			/* Half a record must not count as a fence: none at all (safety rule 5). */
			free(f->result);
			f->result = NULL;
		}
	}
	json_decref(obj);
	return given;
}

size_t ovr_forget_fences(const char *state_dir, const struct crd_set *set)
{
	char path[OVR_PATH_MAX], why[160];
	size_t removed = 0;

	for (size_t i = 0; i < set->n_hosts; i++) {
		const struct crd_host *h = &set->hosts[i];
		json_t *obj = NULL;
		double t;
		if (!h->status.fencing.time ||
		    record_path(state_dir, OVR_FENCES, h->meta.namespace, h->meta.name, path,
				sizeof(path)) < 0 ||
		    read_json(path, &obj, why, sizeof(why)) <= 0)
			continue;
		if (clk_parse_rfc3339(json_string_value(json_object_get(obj, "time")), &t) == 0 &&
		    fence_known(&h->status.fencing, t) && unlink(path) == 0)
			removed++;
		json_decref(obj);
	}
	return removed;
}

int ovr_load_desired(const char *const *paths, size_t n, const char *state_dir,
		     enum ovr_load what, struct crd_set *set, struct crd_errors *errs)
{
	char requests[OVR_PATH_MAX];

	if (crd_load_paths(paths, n, set, errs) < 0)
		return -1;
	if (ovr_migrations_dir(state_dir, requests, sizeof(requests)) == 0)
		(void)walk_records(requests, add_request, set, errs);
	state_load_status(state_dir, set, errs);
	/* After the status: a record adopted by a manifest's Migration is not added twice. */
	if (what == OVR_UNFINISHED)
		(void)state_add_unfinished(state_dir, set, errs);
	(void)ovr_apply(state_dir, set, errs);
	char more[OVR_PATH_MAX];
	if (snprintf(more, sizeof(more), "%s/" OVR_FENCES, state_dir) < (int)sizeof(more))
		(void)walk_records(more, apply_fence, set, errs);
	char restarts[OVR_PATH_MAX];
	if (snprintf(restarts, sizeof(restarts), "%s/" OVR_RESTARTS, state_dir) <
	    (int)sizeof(restarts))
		(void)walk_records(restarts, mark_restart, set, errs);
	return 0;
}
