/* plan_fence: which failed hosts to fence now (pure: no clock, no I/O). */
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_fence.h"

void plan_failure_policy_default(struct plan_failure_policy *p)
{
	p->detect_after_s = 30;
	p->fence = true;
}

const char *plan_host_verdict_str(enum plan_host_verdict v)
{
	static const char *const names[] = {"Up", "Suspect", "Failed", "Fence", "BackingOff",
					    "QuorumLost", "Fenced"};
	return (size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "";
}

static const struct plan_host_health *health_of(const struct plan_host_health *health, size_t n,
						const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (health[i].name && !strcmp(health[i].name, name))
			return &health[i];
	return NULL;
}

/* The verdict for one host before the quorum guard. */
static void decide_one(const struct crd_host *h, const struct plan_host_health *hh,
		       const struct plan_failure_policy *pol, double now,
		       struct plan_host_decision *d)
{
	double down_for = hh ? now - hh->down_since : 0;

	if (hh && hh->fenced) {
		d->verdict = PLAN_HOST_FENCED;
		snprintf(d->reason, sizeof(d->reason), "its fence agent confirmed %s off", h->meta.name);
	} else if (!hh || !hh->down) {
		d->verdict = PLAN_HOST_UP;
	} else if (down_for < pol->detect_after_s) {
		d->verdict = PLAN_HOST_SUSPECT;
		snprintf(d->reason, sizeof(d->reason), "libvirt and the migration address have failed "
			 "for %.0f s of the %.0f s that make it Failed", down_for, pol->detect_after_s);
	} else if (h->spec.fenced) {
		d->verdict = PLAN_HOST_FAILED;
		snprintf(d->reason, sizeof(d->reason), "unreachable for %.0f s; spec.fenced says it is "
			 "off", down_for);
	} else if (!h->spec.fencing.agent || !pol->fence) {
		d->verdict = PLAN_HOST_FAILED;
		snprintf(d->reason, sizeof(d->reason), "unreachable for %.0f s; %s: its VMs wait for "
			 "an operator's fenced: true", down_for,
			 !pol->fence ? "hostFailure.fence is false" : "no spec.fencing");
	} else if (hh->retry_at > now) {
		d->verdict = PLAN_HOST_BACKOFF;
		snprintf(d->reason, sizeof(d->reason), "unreachable for %.0f s; the last fence failed, "
			 "next attempt in %.0f s", down_for, hh->retry_at - now);
	} else {
		d->verdict = PLAN_HOST_FENCE;
		snprintf(d->reason, sizeof(d->reason), "unreachable for %.0f s (libvirt and the "
			 "migration address): fencing it with %s", down_for, h->spec.fencing.agent);
	}
}

size_t plan_fence_decide(const struct crd_set *desired, const struct plan_host_health *health,
			 size_t n, const struct plan_failure_policy *pol, double now,
			 struct plan_host_decision *out, char *quorum_why, size_t why_size)
{
	size_t n_down = 0, n_fence = 0;

	quorum_why[0] = '\0';
	for (size_t i = 0; i < desired->n_hosts; i++) {
		const struct crd_host *h = &desired->hosts[i];
		const struct plan_host_health *hh = health_of(health, n, h->meta.name);
		memset(&out[i], 0, sizeof(out[i]));
		out[i].name = h->meta.name;
		decide_one(h, hh, pol, now, &out[i]);
		/* A fenced host is down too: it counts against the quorum like any other. */
		if (hh && (hh->down || hh->fenced))
			n_down++;
	}
	/* More than half look failed: more likely drover lost the network than most hosts died
	 * at once; fencing them would turn drover's isolation into an outage. */
	if (n_down * 2 > desired->n_hosts)
		snprintf(quorum_why, why_size, "%zu of %zu hosts look failed at once: drover may be "
			 "the one cut off, so nothing is fenced", n_down, desired->n_hosts);
	for (size_t i = 0; i < desired->n_hosts; i++) {
		if (out[i].verdict != PLAN_HOST_FENCE)
			continue;
		if (quorum_why[0]) {
			out[i].verdict = PLAN_HOST_QUORUM;
			snprintf(out[i].reason, sizeof(out[i].reason), "%s", quorum_why);
		} else {
			n_fence++;
		}
	}
	return n_fence;
}

void plan_health_observe(struct plan_host_health *hh, bool libvirt_ok, bool addr_alive,
			 double now)
{
	bool down = !libvirt_ok && !addr_alive;
	if (down && !hh->down)
		hh->down_since = now;
	hh->down = down;
}

/* True when @d, a domain drover owns on host @h, has a copy of the same VM, also drover's,
 * on another host of @inv. */
static bool twin_elsewhere(const struct inventory *inv, const struct inv_host *h,
			   const struct inv_domain *d)
{
	for (size_t k = 0; k < inv->n_hosts; k++) {
		const struct inv_host *other = &inv->hosts[k];
		if (other != h && inv_domain_owned_by(inv_domain_by_name(other, d->name),
						       d->owner_namespace, d->owner_name))
			return true;
	}
	return false;
}

/* True when a VM of @set has a domain of drover's on host @h and another elsewhere: the
 * copy the fence left behind, or a conflict. A VM no longer declared is an orphan, which
 * the fence does not wait for (it did not before either). */
static bool copy_elsewhere(const struct crd_set *set, const struct inventory *inv,
			   const struct inv_host *h)
{
	for (size_t i = 0; i < h->n_domains; i++) {
		const struct inv_domain *d = &h->domains[i];
		if (d->owner_name && twin_elsewhere(inv, h, d) &&
		    crd_set_vm(set, d->owner_namespace, d->owner_name))
			return true;
	}
	return false;
}

bool plan_fence_release(const struct plan *p, const struct crd_set *set,
			const struct inventory *inv, const char *name)
{
	const struct inv_host *h = inv_host_by_name(inv, name);

	if (!h || !h->reachable)
		return false;
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_action *a = &p->actions[i];
		bool here = (a->dst && !strcmp(a->dst, name)) || (a->src && !strcmp(a->src, name));
		if (here && (a->kind == PLAN_UNDEFINE_STALE || a->problem == PLAN_PROBLEM_CONFLICT))
			return false;
	}
	/* The plan may not say so: a VM with a job under way waits, its copies untouched. */
	return !copy_elsewhere(set, inv, h);
}

bool plan_failover_done(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_action *a = &p->actions[i];
		const struct crd_vm *vm = a->vm;
		/* Local disks are lost with the host and a pin keeps the VM there: neither is
		 * restarted elsewhere, so neither holds the failover open. */
		if (a->kind == PLAN_NONE || !vm->status.host || strcmp(vm->status.host, name) ||
		    !vm->spec.running || vm->spec.storage == CRD_STORAGE_LOCAL ||
		    (vm->spec.host && !strcmp(vm->spec.host, name)))
			continue;
		return false;
	}
	return true;
}
