/* drover_fixture: lab tests drive the real drover binary. */
#include "tests/lab/drover_fixture.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

int fx_init(struct fx *fx)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/drover-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->manifests, sizeof(fx->manifests), "%s/m", fx->dir);
	snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
	return mkdir(fx->manifests, 0755);
}

void fx_cleanup(struct fx *fx)
{
	if (!fx->dir[0] || strncmp(fx->dir, "/tmp/drover-test-", 17))
		return;
	const char *argv[] = {"rm", "-rf", "--", fx->dir, NULL};
	(void)lab_run(argv, NULL, 0, 60);
	fx->dir[0] = '\0';
}

int fx_write(struct fx *fx, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->manifests, file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	int rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) == 0 ? rc : -1;
}

int fx_write_hosts(struct fx *fx, int n, const char *reserved)
{
	return fx_write_hosts_with(fx, n, reserved, -1, NULL);
}

/* fx_write_hosts_with, leaving host @left_out (-1: none) out. */
static int write_hosts(struct fx *fx, int n, const char *reserved, int i_extra,
		       const char *extra, int left_out)
{
	char text[4096];
	size_t len = 0;

	for (int i = 0; i < n && len < sizeof(text); i++)
		if (i != left_out)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
				"---\napiVersion: drover.io/v1alpha1\nkind: Host\n"
				"metadata: {name: %s, labels: {zone: lab}}\n"
				"spec: {uri: \"%s\", migrationAddress: %s, reservedMemory: %s%s}\n",
				lab_host_name(i), lab_host_uri(i), lab_host_addr(i),
				reserved ? reserved : "0", i == i_extra && extra ? extra : "");
	return len < sizeof(text) ? fx_write(fx, "hosts.yaml", text) : -1;
}

int fx_write_hosts_with(struct fx *fx, int n, const char *reserved, int i_extra,
			const char *extra)
{
	return write_hosts(fx, n, reserved, i_extra, extra, -1);
}

int fx_write_hosts_but(struct fx *fx, int n, const char *reserved, int left_out)
{
	return write_hosts(fx, n, reserved, -1, NULL, left_out);
}

/* Appends to @buf at *@len. Sticky: once the text no longer fits, *@len stays >= @size
 * and further calls add nothing. This function can't fail. */
static void __attribute__((format(printf, 4, 5)))
add(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? size : *len + (size_t)n;
}

int fx_host_fenced_yaml(int i, const struct lab_bmc *bmc, const char *reserved,
			const char *password, char *buf, size_t size, size_t *len)
{
	add(buf, size, len,
	    "---\napiVersion: drover.io/v1alpha1\nkind: Host\nmetadata: {name: %s}\n"
	    "spec:\n  uri: \"%s\"\n  migrationAddress: %s\n  reservedMemory: \"%s\"\n"
	    "  fencing:\n    agent: fence_ipmilan\n    %s\n    timeoutSeconds: 30\n"
	    "    options: {ip: \"%s\", ipport: \"%s\", username: %s, lanplus: \"1\", "
	    "cipher: \"3\", power_timeout: \"20\"}\n",
	    lab_host_name(i), lab_host_uri(i), lab_host_addr(i), reserved, password, bmc->addr,
	    bmc->port, bmc->user);
	return *len < size ? 0 : -1;
}

int fx_write_hosts_fenced(struct fx *fx, int n, const char *reserved)
{
	char text[8192], password[512];
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		struct lab_bmc bmc;
		if (lab_bmc(i, &bmc) != 0)
			return -1;
		snprintf(password, sizeof(password), "passwordFile: %s", bmc.password_file);
		if (fx_host_fenced_yaml(i, &bmc, reserved, password, text, sizeof(text), &len) < 0)
			return -1;
	}
	return fx_write(fx, "hosts.yaml", text);
}

int fx_vm_yaml(const struct fx_vm *vm, char *buf, size_t size)
{
	char serial[512];
	size_t len = 0;

	add(buf, size, &len, "apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\n"
	    "metadata: {name: %s, labels: {%s}}\nspec:\n", vm->name, vm->labels ? vm->labels : "");
	if (vm->host)
		add(buf, size, &len, "  host: %s\n", vm->host);
	if (vm->running)
		add(buf, size, &len, "  running: %s\n", vm->running);
	if (vm->storage)
		add(buf, size, &len, "  storage: %s\n", vm->storage);
	add(buf, size, &len, "%s  domain:\n    type: %s\n    memory: %s\n",
	    vm->spec_extra ? vm->spec_extra : "", lab_accel(), vm->memory);
	if (vm->kernel)
		add(buf, size, &len, "    kernel: %s\n", vm->kernel);
	else
		add(buf, size, &len, "    kernel: %s/shared/guest.elf\n", lab_dir());
	if (vm->cmdline)
		add(buf, size, &len, "    cmdline: \"%s\"\n", vm->cmdline);
	if (vm->disk && vm->format)
		add(buf, size, &len, "    disks: [{path: \"%s\", format: %s}]\n", vm->disk,
		    vm->format);
	else if (vm->disk)
		add(buf, size, &len, "    disks: [{path: \"%s\"}]\n", vm->disk);
	if (vm->serial) {
		lab_serial_path(vm->name, serial, sizeof(serial));
		add(buf, size, &len, "    serial: {path: %s}\n", serial);
	}
	if (vm->domain_extra)
		add(buf, size, &len, "%s", vm->domain_extra);
	return len < size ? (int)len : -1;
}

int fx_write_vm(struct fx *fx, const struct fx_vm *vm)
{
	char text[4096], file[256];

	if (fx_vm_yaml(vm, text, sizeof(text)) < 0)
		return -1;
	snprintf(file, sizeof(file), "%s.yaml", vm->name);
	return fx_write(fx, file, text);
}

int fx_drover(struct fx *fx, const char *verb, char *out, size_t out_size)
{
	char local[16384];
	const char *argv[] = {lab_drover(), verb, "-f", fx->manifests, "--state-dir", fx->state,
			      NULL, NULL, NULL};
	if (!strcmp(verb, "apply")) {
		argv[6] = "--stop-timeout";
		argv[7] = "2";
	}
	if (!out) {
		out = local;
		out_size = sizeof(local);
	}
	int rc = lab_run(argv, out, out_size, 600);
	printf("  $ drover %s (exit %d)\n%s", verb, rc, out);
	return rc;
}

int fx_drover_plan_all(struct fx *f, const char *flag, char *out, size_t size)
{
	char log[400];
	int status = 0;
	FILE *in;

	snprintf(log, sizeof(log), "%s/plan.log", f->dir);
	unlink(log);
	const char *argv[] = {lab_drover(), "plan", "-f", f->manifests, "--state-dir", f->state,
			      flag, NULL};
	int pid = lab_spawn(argv, log);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	out[0] = '\0';
	in = fopen(log, "r");
	if (in) {
		size_t got = fread(out, 1, size - 1, in);
		out[got] = '\0';
		fclose(in);
	}
	printf("  $ drover plan (exit %d)\n%s", WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Loads a status record. Returns the JSON (the caller decrefs), or NULL. */
static json_t *load_record(struct fx *fx, const char *kind, const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s/default/%s.json", fx->state, kind, name);
	return json_load_file(path, 0, NULL);
}

int fx_status(struct fx *fx, const char *kind, const char *name, const char *path, char *buf,
	      size_t size)
{
	json_t *root = load_record(fx, kind, name), *node = root;
	char key[128];
	const char *p = path;

	buf[0] = '\0';
	if (!root)
		return -1;
	while (node && *p) {
		size_t n = strcspn(p, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		node = json_object_get(node, key);
		p += n + (p[n] == '.');
	}
	if (json_is_string(node))
		snprintf(buf, size, "%s", json_string_value(node));
	else if (json_is_integer(node))
		snprintf(buf, size, "%lld", (long long)json_integer_value(node));
	json_decref(root);
	return 0;
}

/* The string member @key of @obj, or "". */
static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

void fx_condition(struct fx *fx, const char *kind, const char *name, const char *type,
		  char *buf, size_t size)
{
	json_t *root = load_record(fx, kind, name);
	json_t *conds = json_object_get(json_object_get(root, "status"), "conditions");
	size_t i;
	json_t *c;

	buf[0] = '\0';
	json_array_foreach(conds, i, c) {
		if (!strcmp(jstr(c, "type"), type))
			snprintf(buf, size, "%s: %s", jstr(c, "reason"), jstr(c, "message"));
	}
	json_decref(root);
}

void fx_latest_migration(struct fx *fx, const char *vm, char *buf, size_t size)
{
	char dir[600];
	DIR *d;
	struct dirent *e;

	buf[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/migrations/default", fx->state);
	d = opendir(dir);
	/* Records drover makes are named VM-YYYYMMDD-HHMMSS: the greatest is the newest. */
	while (d && (e = readdir(d))) {
		size_t len = strlen(vm);
		if (!strncmp(e->d_name, vm, len) && e->d_name[len] == '-' &&
		    strcmp(e->d_name, buf) > 0) {
			snprintf(buf, size, "%s", e->d_name);
			buf[strcspn(buf, ".")] = '\0';
		}
	}
	if (d)
		closedir(d);
}

void fx_host_file_sha(int i, const char *path, char *hex, size_t size)
{
	char file[600], out[256];
	snprintf(file, sizeof(file), "%s/hosts/%s/lib/%s", lab_dir(), lab_host_name(i), path);
	const char *argv[] = {"sha256sum", "--", file, NULL};

	hex[0] = '\0';
	if (lab_run(argv, out, sizeof(out), 60) == 0 && strlen(out) >= 64)
		snprintf(hex, size, "%.64s", out);
}
