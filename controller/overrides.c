/* overrides: operator overrides of Host specs in directory mode (`drover drain`), kept in
 * the state dir because drover never writes into the manifests, and applied to the loaded
 * set: a Host's effective drain is its manifest's drain OR its override. */
#include "controller/overrides.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "controller/log.h"
#include "controller/statedir.h"
#include "crd/validate.h"

#define OVR_DIR "overrides"
#define OVR_HOSTS "overrides/hosts"

int ovr_host_path(const char *state_dir, const char *ns, const char *name, char *buf,
		  size_t size)
{
	if (!ns || !name || !crd_valid_dns_label(ns) || !crd_valid_dns_label(name))
		return errno = EINVAL, -1;
	int n = snprintf(buf, size, "%s/" OVR_HOSTS "/%s/%s.json", state_dir, ns, name);
	if (n < 0 || (size_t)n >= size)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

/* Reads the record at @path into *@drain. Returns 1 when read, 0 when there is none, -1
 * when it cannot be read or is not {"drain": BOOL}, with why in @why. */
static int read_record(const char *path, bool *drain, char *why, size_t why_size)
{
	char text[OVR_RECORD_MAX + 1];
	json_error_t jerr;
	json_t *obj = NULL, *d;
	ssize_t len = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd >= 0)
		len = read(fd, text, sizeof(text));
	if (len < 0) {
		snprintf(why, why_size, "cannot read: %s", strerror(errno));
		goto cleanup;
	}
	if ((size_t)len > OVR_RECORD_MAX) {
		snprintf(why, why_size, "over %u bytes", OVR_RECORD_MAX);
		goto cleanup;
	}
	obj = json_loadb(text, (size_t)len, 0, &jerr);
	d = json_object_get(obj, "drain");
	if (!obj || !json_is_boolean(d) || json_object_size(obj) != 1) {
		snprintf(why, why_size, "not an override record: expected {\"drain\": true}");
		goto cleanup;
	}
	*drain = json_is_true(d);
	ret = 1;
cleanup:
	if (fd >= 0)
		close(fd);
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

size_t ovr_apply(const char *state_dir, struct crd_set *set, struct crd_errors *errs)
{
	char hosts[OVR_PATH_MAX];
	size_t applied = 0, seen = 0;
	struct dirent *ne, *fe;
	DIR *hd;

	if (snprintf(hosts, sizeof(hosts), "%s/" OVR_HOSTS, state_dir) >= (int)sizeof(hosts) ||
	    !(hd = opendir(hosts)))
		return 0;
	while ((ne = readdir(hd))) {
		char nspath[OVR_PATH_MAX + 256];
		DIR *nd;
		if (ne->d_name[0] == '.' ||
		    snprintf(nspath, sizeof(nspath), "%s/%s", hosts, ne->d_name) >= (int)sizeof(nspath) ||
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
				crd_errors_add(errs, CRD_SEV_NOTE, hosts, 0, 0, NULL, "",
					       "more than %u override records: the rest are ignored",
					       OVR_MAX_RECORDS);
				break;
			}
			applied += (size_t)apply_one(set, file, ne->d_name, fe->d_name, errs);
		}
		closedir(nd);
		if (seen > OVR_MAX_RECORDS)
			break;
	}
	closedir(hd);
	return applied;
}

size_t ovr_apply_logged(const char *state_dir, struct crd_set *set)
{
	struct crd_errors errs = {0};
	size_t applied = ovr_apply(state_dir, set, &errs);

	for (size_t i = 0; i < errs.n; i++)
		log_kv("warn", errs.items[i].message, "file", errs.items[i].file, "object",
		       errs.items[i].object, NULL);
	crd_errors_free(&errs);
	return applied;
}

int ovr_watch_dir(const char *state_dir, char *buf, size_t size)
{
	const char *parts[] = {"", "/" OVR_DIR, "/" OVR_HOSTS};

	for (size_t i = 0; i < 3; i++) {
		int n = snprintf(buf, size, "%s%s", state_dir, parts[i]);
		if (n < 0 || (size_t)n >= size)
			return errno = ENAMETOOLONG, -1;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
	}
	snprintf(buf, size, "%s/" OVR_DIR, state_dir);
	return 0;
}
