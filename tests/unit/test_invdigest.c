/* invdigest: the digest that lets a pass be quiet changes with everything a plan reads of
 * the inventory, and only with that: not with the order libvirt lists domains in, nor with
 * a host's free memory or CPU load (a quiet pass writes those into the Host's status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reconcile/invdigest.h"

static char *dup(const char *s)
{
	char *out = strdup(s);
	assert_non_null(out);
	return out;
}

static void domain(struct inv_domain *d, const char *name, const char *uuid)
{
	memset(d, 0, sizeof(*d));
	d->name = dup(name);
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	d->state = INV_RUNNING;
	d->active = d->persistent = true;
	d->owner_namespace = dup("prod");
	d->owner_name = dup(name);
	d->memory = 1ull << 30;
	d->vcpus = 2;
}

/* Two answering hosts: lab-a with web-1 and web-2, lab-b with db-1, a bridge and a pool. */
static void build(struct inventory *inv)
{
	memset(inv, 0, sizeof(*inv));
	inv->n_hosts = 2;
	assert_non_null(inv->hosts = calloc(2, sizeof(*inv->hosts)));
	for (size_t i = 0; i < 2; i++) {
		struct inv_host *h = &inv->hosts[i];
		h->name = dup(i ? "lab-b" : "lab-a");
		h->reachable = true;
		h->hostname = dup(h->name);
		h->memory_total = 64ull << 30;
		h->memory_free = 32ull << 30;
		h->cpu_threads = 16;
		h->has_cpu_load = true;
		h->cpu_load = 0.25;
		h->n_bridges = 1;
		assert_non_null(h->bridges = calloc(1, sizeof(char *)));
		h->bridges[0] = dup("br0");
	}
	struct inv_host *a = &inv->hosts[0], *b = &inv->hosts[1];
	a->n_domains = 2;
	assert_non_null(a->domains = calloc(2, sizeof(*a->domains)));
	domain(&a->domains[0], "web-1", "00000000-0000-0000-0000-000000000001");
	domain(&a->domains[1], "web-2", "00000000-0000-0000-0000-000000000002");
	b->n_domains = 1;
	assert_non_null(b->domains = calloc(1, sizeof(*b->domains)));
	domain(&b->domains[0], "db-1", "00000000-0000-0000-0000-000000000003");
	b->n_pools = 1;
	assert_non_null(b->pools = calloc(1, sizeof(*b->pools)));
	b->pools[0].name = dup("images");
	b->pools[0].path = dup("/var/lib/images");
	b->pools[0].active = true;
}

static uint64_t digest_of(struct inventory *inv)
{
	uint64_t d = inv_digest(inv);
	assert_int_not_equal(d, 0);
	inv_free(inv);
	return d;
}

static void test_digest_ignores_order_and_host_load(void **state)
{
	struct inventory inv;
	(void)state;

	build(&inv);
	uint64_t base = digest_of(&inv);
	build(&inv);
	assert_int_equal(digest_of(&inv), base);
	/* libvirt lists the domains of a host in its own order. */
	build(&inv);
	struct inv_domain first = inv.hosts[0].domains[0];
	inv.hosts[0].domains[0] = inv.hosts[0].domains[1];
	inv.hosts[0].domains[1] = first;
	assert_int_equal(digest_of(&inv), base);
	/* What a host's load moves from one read to the next. */
	build(&inv);
	inv.hosts[1].memory_free = 1ull << 30;
	inv.hosts[1].cpu_load = 0.9;
	assert_int_equal(digest_of(&inv), base);
}

static void test_digest_changes_with_what_a_plan_reads(void **state)
{
	struct inventory inv;
	(void)state;

	build(&inv);
	uint64_t base = digest_of(&inv);
	/* Each change below is on a fresh copy; each must change the digest. */
	build(&inv);
	inv.hosts[0].domains[1].state = INV_SHUTOFF;
	inv.hosts[0].domains[1].active = false;
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	free(inv.hosts[1].domains[0].owner_name);
	inv.hosts[1].domains[0].owner_name = NULL;   /* redefined without drover's element */
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	inv.hosts[0].domains[0].memory *= 2;
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	inv.hosts[0].domains[0].job_active = inv.hosts[0].domains[0].job_known = true;
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	inv.hosts[1].reachable = false;
	inv.hosts[1].error = dup("unreachable");
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	inv.hosts[0].fenced = true;
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	free(inv.hosts[0].bridges[0]);
	inv.hosts[0].bridges[0] = dup("br1");
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	inv.hosts[1].pools[0].active = false;
	assert_int_not_equal(digest_of(&inv), base);
	build(&inv);
	inv.hosts[1].memory_total /= 2;
	assert_int_not_equal(digest_of(&inv), base);
	/* The same domains, one on the other host. */
	build(&inv);
	struct inv_domain moved = inv.hosts[0].domains[1];
	inv.hosts[0].n_domains = 1;
	struct inv_domain *grown = realloc(inv.hosts[1].domains, 2 * sizeof(*grown));
	assert_non_null(grown);
	grown[1] = moved;
	inv.hosts[1].domains = grown;
	inv.hosts[1].n_domains = 2;
	assert_int_not_equal(digest_of(&inv), base);
	/* A job of this drover under way. */
	build(&inv);
	inv.n_jobs = 1;
	assert_non_null(inv.jobs = calloc(1, sizeof(*inv.jobs)));
	inv.jobs[0].vm_namespace = dup("prod");
	inv.jobs[0].vm_name = dup("web-1");
	inv.jobs[0].what = dup("tune");
	assert_int_not_equal(digest_of(&inv), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_ignores_order_and_host_load),
		cmocka_unit_test(test_digest_changes_with_what_a_plan_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
