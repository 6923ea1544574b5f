/* cli_migrate: `drover migrate VM [--to HOST]` — create a Migration and follow it until it
 * ends. In API mode the Migration is created through the Kubernetes API; in directory mode
 * it becomes a request in the state dir (drover never writes manifests), which
 * `drover run --dir` picks up at once and `drover apply` at its next run. Either way the
 * controller does the move; this command only asks and watches, like
 * `kubectl apply` followed by `kubectl wait`. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "controller/cli/cli.h"
#include "controller/cli/cli_opts.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/kube_http.h"
#include "controller/kube/kube_obj.h"
#include "controller/dir/overrides.h"
#include "controller/dir/statedir.h"
#include "controller/cli/view.h"
#include "crd/load.h"
#include "crd/validate.h"
#include "reconcile/clk.h"

#define MIGRATE_USAGE                                                                      \
	"drover migrate VM [--to HOST] [--mode Live|Cold|Auto] [--bandwidth MIBPS] "      \
	"[--max-downtime MS] [--allow-post-copy] [--transport Direct|Tunnelled] "        \
	"[--encryption None|TLS] [--name NAME] [--namespace NS] "                         \
	"[--no-wait] [--timeout SECONDS] [--state-dir DIR | --kubeconfig FILE]"
#define MIGRATE_POLL_S 0.5
/* Directory mode: say how to get a request picked up when nothing did by then. */
#define MIGRATE_HINT_AFTER_S 15

/* Where the Migration lives, and how to read it back. */
struct target {
	const char *ns, *name;
	const char *state_dir;    /* directory mode */
	struct kube_client *kube; /* API mode */
};

/* "VM-migrate-YYYYMMDD-HHMMSS" into @buf: unique enough for one person's commands, and
 * within a DNS label. */
static void default_name(const char *vm, char *buf, size_t size)
{
	char now[32];

	clk_rfc3339(now, sizeof(now));
	snprintf(buf, size, "%.38s-migrate-%.4s%.2s%.2s-%.2s%.2s%.2s", vm, now, now + 5, now + 8,
		 now + 11, now + 14, now + 17);
}

/* The Migration object the options ask for, or NULL when out of memory. */
static json_t *build_migration(const struct cli_opts *o, const char *vm, const char *ns,
			       const char *name)
{
	const struct cli_migrate *m = &o->migrate;
	json_t *spec = json_pack("{s:s}", "vmName", vm);
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "drover.io/v1alpha1",
				"kind", "Migration", "metadata", "name", name, "namespace", ns);

	if (!spec || !obj) {
		json_decref(spec);
		json_decref(obj);
		return NULL;
	}
	/* Every field is checked: a request without its --to would move the VM elsewhere. */
	if ((m->to && json_object_set_new(spec, "targetHost", json_string(m->to)) < 0) ||
	    (m->mode && json_object_set_new(spec, "mode", json_string(m->mode)) < 0) ||
	    (m->bandwidth_mibps >= 0 &&
	     json_object_set_new(spec, "bandwidthMiBps", json_integer((json_int_t)m->bandwidth_mibps)) < 0) ||
	    (m->max_downtime_ms >= 0 &&
	     json_object_set_new(spec, "maxDowntimeMs", json_integer((json_int_t)m->max_downtime_ms)) < 0) ||
	    (m->allow_post_copy && json_object_set_new(spec, "allowPostCopy", json_true()) < 0) ||
	    (m->transport && json_object_set_new(spec, "transport", json_string(m->transport)) < 0) ||
	    (m->encryption && json_object_set_new(spec, "encryption", json_string(m->encryption)) < 0)) {
		json_decref(spec);
		json_decref(obj);
		return NULL;
	}
	if (json_object_set_new(obj, "spec", spec) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* Checks @obj as the API would. Returns 0, or -1 after printing every problem. */
static int check_migration(const json_t *obj)
{
	struct crd_errors errs = {0};
	struct crd_object out;
	int rc = crd_decode_json_object(obj, "drover migrate", &out, &errs);

	if (rc == 0)
		crd_object_free(&out);
	crd_errors_print(&errs, stderr);
	crd_errors_free(&errs);
	return rc == 0 ? 0 : -1;
}

/* ---- directory mode ---- */

/* True when the state dir holds a record of @kind @ns/@name: drover has seen it. */
static bool seen(const char *state_dir, const char *kind, const char *ns, const char *name)
{
	char path[4096];
	struct stat st;

	return snprintf(path, sizeof(path), "%s/%s/%s/%s.json", state_dir, kind, ns, name) <
		       (int)sizeof(path) && stat(path, &st) == 0;
}

/* Writes the request. A VM or Host drover has no record of is refused: a request that names
 * neither would only be ignored. Returns 0, or -1 after saying why. */
static int create_in_dir(const struct cli_opts *o, const struct target *t, const char *vm,
			 json_t *obj)
{
	if (!seen(o->state_dir, "virtualmachines", t->ns, vm)) {
		fprintf(stderr, "drover migrate: VirtualMachine %s/%s has no status in %s: drover "
			"has not seen it (is this the controller's --state-dir?)\n", t->ns, vm,
			o->state_dir);
		json_decref(obj);
		return -1;
	}
	if (o->migrate.to && !seen(o->state_dir, "hosts", t->ns, o->migrate.to)) {
		fprintf(stderr, "drover migrate: Host %s/%s has no status in %s: drover has not "
			"seen it\n", t->ns, o->migrate.to, o->state_dir);
		json_decref(obj);
		return -1;
	}
	/* A record of that name (a finished request's) counts as taken, as in the API. */
	if (seen(o->state_dir, "migrations", t->ns, t->name)) {
		json_decref(obj);
		errno = EEXIST;
	} else if (ovr_request_migration(o->state_dir, t->ns, t->name, obj) == 0) {
		return 0;
	}
	fprintf(stderr, "drover migrate: migration %s/%s: %s\n", t->ns, t->name,
		errno == EEXIST ? "a Migration of that name exists already" : strerror(errno));
	return -1;
}

/* ---- API mode ---- */

/* POSTs the Migration. Returns 0, or -1 after saying why. */
static int create_in_api(const struct target *t, const json_t *obj)
{
	char path[KUBE_PATH_MAX];
	struct kube_response r = {0};
	int rc = -1;

	if (kube_path(path, sizeof(path), &kube_res_migration, t->ns, NULL, NULL) < 0)
		fprintf(stderr, "drover migrate: namespace name too long\n");
	else if (kube_request(t->kube, "POST", path, obj, NULL, &r) < 0)
		fprintf(stderr, "drover migrate: %s\n", r.message);
	else if (r.code != 201 && r.code != 200)
		fprintf(stderr, "drover migrate: migration %s/%s: HTTP %ld %s%s%s\n", t->ns, t->name,
			r.code, r.reason, r.message[0] ? ": " : "", r.message);
	else
		rc = 0;
	kube_response_free(&r);
	return rc;
}

/* Reads the Migration back. Returns 1 with @out filled, 0 when it is not there (yet),
 * -1 after saying why (it cannot be read, or it was deleted). */
static int fetch(const struct target *t, struct crd_migration *out)
{
	struct crd_errors errs = {0};
	struct crd_object obj;
	struct kube_response r = {0};
	char path[KUBE_PATH_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!t->kube) {
		rc = state_read_migration(t->state_dir, t->ns, t->name, out, &errs);
	} else if (kube_path(path, sizeof(path), &kube_res_migration, t->ns, t->name, NULL) < 0 ||
		   kube_request(t->kube, "GET", path, NULL, NULL, &r) < 0 || r.code != 200) {
		crd_errors_add(&errs, CRD_SEV_ERROR, "api", 0, 0, NULL, "", "%s",
			       r.code == 404 ? "the Migration was deleted" : r.message);
		rc = -1;
	} else if ((rc = crd_decode_json_object(r.body, "api", &obj, &errs)) == 0 &&
		   obj.kind == CRD_KIND_MIGRATION) {
		*out = obj.u.migration;
		rc = 1;
	} else {
		if (rc == 0)
			crd_object_free(&obj);
		rc = -1;
	}
	if (rc < 0)
		crd_errors_print(&errs, stderr);
	crd_errors_free(&errs);
	kube_response_free(&r);
	return rc;
}

/* Follows the Migration until it ends or @timeout_s (0: no limit) passes. Returns the exit
 * code: 0 when it succeeded. */
static int follow(const struct target *t, double timeout_s)
{
	struct view v;
	enum crd_mig_phase shown = (enum crd_mig_phase)-1;
	double start = clk_mono();
	bool hinted = false;

	view_init(&v, stdout);
	for (;;) {
		struct crd_migration m;
		int got = fetch(t, &m);
		if (got < 0)
			return 1;
		if (got > 0) {
			view_migration(&v, &m, &shown);
			enum crd_mig_phase phase = m.status.phase;
			crd_migration_free(&m);
			if (crd_mig_phase_ended(phase))
				return phase == CRD_MIG_SUCCEEDED ? 0 : 1;
		}
		double waited = clk_mono() - start;
		if (!got && !t->kube && !hinted && waited > MIGRATE_HINT_AFTER_S) {
			fprintf(stderr, "drover migrate: nothing has picked the request up yet: "
				"`drover run --dir DIR --state-dir %s` does at once, "
				"`drover apply -f DIR --state-dir %s` at its next run\n", t->state_dir,
				t->state_dir);
			hinted = true;
		}
		if (timeout_s > 0 && waited > timeout_s) {
			fprintf(stderr, "\ndrover migrate: stopped following after %.0f s; migration "
				"%s/%s goes on\n", timeout_s, t->ns, t->name);
			return 1;
		}
		clk_sleep(MIGRATE_POLL_S);
	}
}

int cli_migrate(int argc, char **argv)
{
	struct cli_opts o;
	struct kube_config cfg = {0};
	struct target t = {0};
	char name[64], err[512];
	json_t *obj = NULL;
	int rc = 1;

	if (cli_parse("migrate", MIGRATE_USAGE, CLI_OPT_STATE_DIR | CLI_OPT_KUBECONFIG |
						CLI_OPT_NAMESPACE | CLI_OPT_MIGRATE, argc, argv, &o) < 0)
		return 1;
	if (o.n_args != 1) {
		fprintf(stderr, "drover migrate: expected one VM, got %zu arguments\nusage: %s\n",
			o.n_args, MIGRATE_USAGE);
		return 1;
	}
	const char *vm = o.args[0];
	int api = cli_wants_api("migrate", argc, argv, "--state-dir");
	if (api < 0)
		return 1;
	if (api && (kube_config_auto(o.kubeconfig, &cfg, err, sizeof(err)) < 0 ||
		    kube_client_new(&cfg, NULL, &t.kube, err, sizeof(err)) < 0)) {
		fprintf(stderr, "drover migrate: %s\n", err);
		goto cleanup;
	}
	t.ns = o.namespace ? o.namespace : t.kube ? kube_client_namespace(t.kube) : "default";
	if (o.migrate.name)
		snprintf(name, sizeof(name), "%s", o.migrate.name);
	else
		default_name(vm, name, sizeof(name));
	t.name = name;
	t.state_dir = o.state_dir;
	obj = build_migration(&o, vm, t.ns, t.name);
	if (!obj || check_migration(obj) < 0) {
		fprintf(stderr, "drover migrate: nothing was created\n");
		goto cleanup;
	}
	if (api ? create_in_api(&t, obj) < 0 : create_in_dir(&o, &t, vm, json_incref(obj)) < 0)
		goto cleanup;
	printf("migration %s/%s created\n", t.ns, t.name);
	fflush(stdout);
	rc = o.migrate.no_wait ? 0 : follow(&t, o.migrate.timeout_s);
cleanup:
	json_decref(obj);
	kube_client_free(t.kube);
	kube_config_free(&cfg);
	return rc;
}
