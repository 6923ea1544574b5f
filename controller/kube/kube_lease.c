/* kube_lease: leader election with a coordination.k8s.io/v1 Lease, so that one drover
 * replica of several acts. Updates carry the resourceVersion: when two candidates race,
 * the API server's 409 picks one. */
#include "controller/kube/kube_lease.h"
#include "reconcile/clk.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct kube_lease {
	struct kube_client *c;
	struct kube_lease_options o;
	char ns[64], name[254], id[KUBE_LEASE_IDENTITY_MAX];
	pthread_t thread;
	bool running;
	int stop;                 /* atomic */
	int leader;               /* atomic */
	unsigned seed;
};

void kube_lease_options_default(struct kube_lease_options *o)
{
	memset(o, 0, sizeof(*o));
	o->lease_duration_s = 15;
	o->renew_deadline_s = 10;
	o->retry_period_s = 2;
}

/* One request of the election: no retries of its own (the loop retries), and a timeout
 * well inside the renew deadline. */
static int lease_call(struct kube_lease *l, const char *method, const char *path, const json_t *body,
		      const int *stop, double limit_s, struct kube_response *r)
{
	double t = l->o.renew_deadline_s / 2 < limit_s ? l->o.renew_deadline_s / 2 : limit_s;
	struct kube_call call = { .method = method, .path = path, .body = body, .max_retries = -1,
				  .timeout_ms = (long)(t * 1000), .stop = stop };

	if (call.timeout_ms < 100)
		call.timeout_ms = 100;
	return kube_call(l->c, &call, r);
}

static int set_times(json_t *spec, const char *holder, int duration, bool acquired)
{
	char now[40];

	clk_rfc3339_micro(now, sizeof(now));
	if (json_object_set_new(spec, "holderIdentity", json_string(holder)) < 0 ||
	    json_object_set_new(spec, "leaseDurationSeconds", json_integer(duration)) < 0 ||
	    json_object_set_new(spec, "renewTime", json_string(now)) < 0)
		return -1;
	if (acquired) {
		json_int_t n = json_integer_value(json_object_get(spec, "leaseTransitions"));

		if (json_object_set_new(spec, "acquireTime", json_string(now)) < 0 ||
		    json_object_set_new(spec, "leaseTransitions", json_integer(n + 1)) < 0)
			return -1;
	}
	return 0;
}

/* Takes the lease when it is absent, expired or ours, and renews it, each request within
 * @limit_s. Returns 0 when this candidate holds it now, -1 otherwise. */
static int try_acquire_or_renew(struct kube_lease *l, double limit_s)
{
	struct kube_response r;
	char path[KUBE_PATH_MAX];
	int duration = (int)l->o.lease_duration_s, rc = -1;
	json_t *obj = NULL, *spec;
	const char *holder, *renew;
	double renewed = 0;

	if ((double)duration < l->o.lease_duration_s)
		duration++;   /* the API counts whole seconds: round up */
	if (kube_path(path, sizeof(path), &kube_res_lease, l->ns, l->name, NULL) < 0)
		return -1;
	if (lease_call(l, "GET", path, NULL, &l->stop, limit_s, &r) < 0)
		goto cleanup;
	if (r.code == 404) {
		char coll[KUBE_PATH_MAX];

		obj = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:i}}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
				"metadata", "name", l->name, "namespace", l->ns, "spec", "leaseTransitions", -1);
		if (!obj || set_times(json_object_get(obj, "spec"), l->id, duration, true) < 0 ||
		    kube_path(coll, sizeof(coll), &kube_res_lease, l->ns, NULL, NULL) < 0)
			goto cleanup;
		kube_response_free(&r);
		rc = lease_call(l, "POST", coll, obj, &l->stop, limit_s, &r) == 0 && r.code == 201 ? 0 : -1;
		goto cleanup;
	}
	if (r.code != 200 || !json_is_object(r.body))
		goto cleanup;
	obj = json_incref(r.body);
	spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		if (!spec || json_object_set_new(obj, "spec", spec) < 0)
			goto cleanup;
	}
	holder = json_string_value(json_object_get(spec, "holderIdentity"));
	renew = json_string_value(json_object_get(spec, "renewTime"));
	if (holder && *holder && strcmp(holder, l->id) != 0 && renew && clk_parse_rfc3339(renew, &renewed) == 0 &&
	    renewed + (double)json_integer_value(json_object_get(spec, "leaseDurationSeconds")) > clk_wall())
		goto cleanup;   /* held by another candidate, and not expired */
	if (set_times(spec, l->id, duration, !holder || strcmp(holder, l->id) != 0) < 0)
		goto cleanup;
	kube_response_free(&r);
	/* The GET's resourceVersion rides along: a concurrent writer makes this a 409. */
	rc = lease_call(l, "PUT", path, obj, &l->stop, limit_s, &r) == 0 && r.code == 200 ? 0 : -1;
cleanup:
	if (rc < 0 && r.code && r.code != 200 && r.code != 404 && r.code != 409)
		kube_logf(l->c, KUBE_LOG_WARN, "lease %s/%s: HTTP %ld %s", l->ns, l->name, r.code, r.reason);
	json_decref(obj);
	kube_response_free(&r);
	return rc;
}

/* Gives the lease up if we hold it: holder cleared, so another candidate need not wait. */
static void release(struct kube_lease *l)
{
	struct kube_response r;
	char path[KUBE_PATH_MAX];
	json_t *spec;

	if (kube_path(path, sizeof(path), &kube_res_lease, l->ns, l->name, NULL) < 0)
		return;
	if (lease_call(l, "GET", path, NULL, NULL, l->o.retry_period_s, &r) == 0 && r.code == 200) {
		json_t *obj = json_incref(r.body);
		const char *holder;

		spec = json_object_get(obj, "spec");
		holder = json_string_value(json_object_get(spec, "holderIdentity"));
		if (holder && !strcmp(holder, l->id) && set_times(spec, "", 1, false) == 0) {
			kube_response_free(&r);
			if (lease_call(l, "PUT", path, obj, NULL, l->o.retry_period_s, &r) < 0 || r.code != 200)
				kube_logf(l->c, KUBE_LOG_WARN, "lease %s/%s: release failed: %ld %s", l->ns, l->name,
					  r.code, r.reason);
		}
		json_decref(obj);
	}
	kube_response_free(&r);
}

static bool stopping(struct kube_lease *l)
{
	return __atomic_load_n(&l->stop, __ATOMIC_SEQ_CST) != 0;
}

static void set_leader(struct kube_lease *l, bool on)
{
	__atomic_store_n(&l->leader, on ? 1 : 0, __ATOMIC_SEQ_CST);
	kube_logf(l->c, KUBE_LOG_INFO, "lease %s/%s: %s %s", l->ns, l->name, l->id,
		  on ? "started leading" : "stopped leading");
	if (on && l->o.started_leading)
		l->o.started_leading(l->o.opaque);
	if (!on && l->o.stopped_leading)
		l->o.stopped_leading(l->o.opaque);
}

static void *lease_main(void *arg)
{
	struct kube_lease *l = arg;

	while (!stopping(l)) {
		double last_renew;

		if (try_acquire_or_renew(l, l->o.renew_deadline_s) < 0) {
			/* Up to 20 % jitter keeps candidates from knocking in step. */
			double pause = l->o.retry_period_s * (1.0 + (double)(rand_r(&l->seed) % 200) / 1000.0);

			(void)kube_sleep(l->c, pause, &l->stop);
			continue;
		}
		set_leader(l, true);
		last_renew = clk_mono();
		while (!stopping(l)) {
			/* Every wait and request ends by the renew deadline, so leadership is given up
			 * before the lease (longer than the deadline) can pass to another candidate. */
			double left = last_renew + l->o.renew_deadline_s - clk_mono();

			if (left <= 0) {
				set_leader(l, false);
				break;
			}
			if (kube_sleep(l->c, l->o.retry_period_s < left ? l->o.retry_period_s : left, &l->stop) < 0)
				break;
			left = last_renew + l->o.renew_deadline_s - clk_mono();
			if (left > 0 && try_acquire_or_renew(l, left) == 0)
				last_renew = clk_mono();
		}
	}
	return NULL;
}

int kube_lease_start(struct kube_client *c, const struct kube_lease_options *o, struct kube_lease **out)
{
	struct kube_lease *l;
	char host[64] = "";

	*out = NULL;
	if (o->lease_duration_s <= 0 || o->renew_deadline_s <= 0 || o->retry_period_s <= 0 ||
	    o->renew_deadline_s >= o->lease_duration_s || o->retry_period_s >= o->renew_deadline_s)
		return -1;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -1;
	l->c = c;
	l->o = *o;
	snprintf(l->ns, sizeof(l->ns), "%s", o->namespace ? o->namespace : kube_client_namespace(c));
	snprintf(l->name, sizeof(l->name), "%s", o->name ? o->name : "drover");
	if (o->identity) {
		snprintf(l->id, sizeof(l->id), "%s", o->identity);
	} else {
		if (gethostname(host, sizeof(host) - 1) < 0)
			snprintf(host, sizeof(host), "drover");
		snprintf(l->id, sizeof(l->id), "%s_%ld", host, (long)getpid());
	}
	l->o.namespace = l->o.name = l->o.identity = NULL;   /* the copies above are used */
	l->seed = (unsigned)time(NULL) ^ (unsigned)(size_t)l;
	if (pthread_create(&l->thread, NULL, lease_main, l) != 0) {
		free(l);
		return -1;
	}
	l->running = true;
	*out = l;
	return 0;
}

bool kube_lease_is_leader(struct kube_lease *l)
{
	return l && __atomic_load_n(&l->leader, __ATOMIC_SEQ_CST);
}

const char *kube_lease_identity(const struct kube_lease *l)
{
	return l->id;
}

void kube_lease_stop(struct kube_lease *l, bool release_it)
{
	if (!l || !l->running)
		return;
	__atomic_store_n(&l->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(l->thread, NULL);
	l->running = false;
	if (kube_lease_is_leader(l)) {
		set_leader(l, false);
		if (release_it)
			release(l);
	}
}

void kube_lease_free(struct kube_lease *l)
{
	if (!l)
		return;
	kube_lease_stop(l, true);
	free(l);
}
