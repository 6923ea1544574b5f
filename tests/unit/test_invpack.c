/* invpack: a domain packed into one record reads back field for field, every field set
 * (the inventory cache serves cached passes from these records: a field lost here would
 * read as zero on every pass between full reads), and with every field empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reconcile/invpack.h"

static char **strv(size_t n, const char *const *v)
{
	char **out = calloc(n, sizeof(*out));

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		assert_non_null(out[i] = strdup(v[i]));
	return out;
}

static void fill_tuning(struct inv_tuning *t, uint64_t base)
{
	t->known = true;
	t->hard_limit = base + 1;
	t->soft_limit = base + 2;
	t->swap_hard_limit = UINT64_MAX;       /* the longest varint */
	t->min_guarantee = 0;
	t->blkio_weight = 500;
	t->n_disks = 2;
	assert_non_null(t->disks = calloc(2, sizeof(*t->disks)));
	assert_non_null(t->disks[0].target = strdup("vda"));
	for (size_t f = 0; f < INV_IO_FIELDS; f++)
		t->disks[0].v[f] = base * 1000 + f;
	/* disks[1]: no target, no limits */
}

/* A domain with every field set, each to a value of its own. */
static void fill(struct inv_domain *d)
{
	static const char *const bridges[] = {"br0", "br1"}, *const networks[] = {"default"};
	static const char *const fdisks[] = {"/shared/web-1.qcow2"}, *const ifaces[] = {
		"bridge:br0", "network:default"};

	memset(d, 0, sizeof(*d));
	assert_non_null(d->name = strdup("web-1"));
	snprintf(d->uuid, sizeof(d->uuid), "%s", "6f1d0c2e-8a51-4c3b-9e57-2b7a0d4f1c01");
	d->state = INV_PAUSED;
	d->active = d->persistent = d->job_active = d->job_known = true;
	d->migrating_in = d->paused_out = true;
	assert_non_null(d->owner_namespace = strdup("prod"));
	assert_non_null(d->owner_name = strdup("web-1"));
	d->memory = 3ull << 30;
	d->vcpus = 4;
	d->hugepage_size = 2ull << 20;
	d->n_disks = 2;
	assert_non_null(d->disks = calloc(2, sizeof(*d->disks)));
	assert_non_null(d->disks[0].path = strdup("/shared/web-1.qcow2"));
	assert_non_null(d->disks[0].target = strdup("vda"));
	/* disks[1]: a network disk, no path, no target */
	d->bridges = strv(d->n_bridges = 2, bridges);
	d->networks = strv(d->n_networks = 1, networks);
	fill_tuning(&d->tuning_config, 7);
	fill_tuning(&d->tuning_live, 9);
	d->facts.known = true;
	assert_non_null(d->facts.type = strdup("kvm"));
	d->facts.memory = 2ull << 30;
	d->facts.vcpus = 2;
	assert_non_null(d->facts.kernel = strdup("/boot/vmlinuz"));
	assert_non_null(d->facts.cmdline = strdup(""));   /* empty, not NULL */
	d->facts.hugepages = true;
	d->facts.disks = strv(d->facts.n_disks = 1, fdisks);
	d->facts.ifaces = strv(d->facts.n_ifaces = 2, ifaces);
	assert_non_null(d->restart_why = strdup("memory 2Gi → 3Gi"));
	d->definition_unknown = true;
}

static void assert_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_strv(char *const *a, size_t na, char *const *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_str(a[i], b[i]);
}

static void assert_tuning(const struct inv_tuning *a, const struct inv_tuning *b)
{
	assert_int_equal(a->known, b->known);
	assert_true(a->hard_limit == b->hard_limit && a->soft_limit == b->soft_limit);
	assert_true(a->swap_hard_limit == b->swap_hard_limit);
	assert_true(a->min_guarantee == b->min_guarantee);
	assert_int_equal(a->blkio_weight, b->blkio_weight);
	assert_int_equal(a->n_disks, b->n_disks);
	for (size_t i = 0; i < a->n_disks; i++) {
		assert_str(a->disks[i].target, b->disks[i].target);
		assert_memory_equal(a->disks[i].v, b->disks[i].v, sizeof(a->disks[i].v));
	}
}

static void assert_domain(const struct inv_domain *a, const struct inv_domain *b)
{
	assert_str(a->name, b->name);
	assert_string_equal(a->uuid, b->uuid);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->active, b->active);
	assert_int_equal(a->persistent, b->persistent);
	assert_int_equal(a->job_active, b->job_active);
	assert_int_equal(a->job_known, b->job_known);
	assert_int_equal(a->migrating_in, b->migrating_in);
	assert_int_equal(a->paused_out, b->paused_out);
	assert_str(a->owner_namespace, b->owner_namespace);
	assert_str(a->owner_name, b->owner_name);
	assert_true(a->memory == b->memory && a->hugepage_size == b->hugepage_size);
	assert_int_equal(a->vcpus, b->vcpus);
	assert_int_equal(a->n_disks, b->n_disks);
	for (size_t i = 0; i < a->n_disks; i++) {
		assert_str(a->disks[i].path, b->disks[i].path);
		assert_str(a->disks[i].target, b->disks[i].target);
	}
	assert_strv(a->bridges, a->n_bridges, b->bridges, b->n_bridges);
	assert_strv(a->networks, a->n_networks, b->networks, b->n_networks);
	assert_tuning(&a->tuning_config, &b->tuning_config);
	assert_tuning(&a->tuning_live, &b->tuning_live);
	assert_int_equal(a->facts.known, b->facts.known);
	assert_str(a->facts.type, b->facts.type);
	assert_true(a->facts.memory == b->facts.memory);
	assert_int_equal(a->facts.vcpus, b->facts.vcpus);
	assert_str(a->facts.kernel, b->facts.kernel);
	assert_str(a->facts.cmdline, b->facts.cmdline);
	assert_int_equal(a->facts.hugepages, b->facts.hugepages);
	assert_strv(a->facts.disks, a->facts.n_disks, b->facts.disks, b->facts.n_disks);
	assert_strv(a->facts.ifaces, a->facts.n_ifaces, b->facts.ifaces, b->facts.n_ifaces);
	assert_str(a->restart_why, b->restart_why);
	assert_int_equal(a->definition_unknown, b->definition_unknown);
}

/* Packs @d into a record of exactly its size and reads it back into @out. */
static void round_trip(const struct inv_domain *d, struct inv_domain *out)
{
	size_t n = invpack_size(d);
	unsigned char *rec = malloc(n);

	assert_non_null(rec);
	assert_int_equal(invpack_write(d, rec), n);
	assert_string_equal(invpack_uuid(rec), d->uuid);
	assert_int_equal(invpack_definition_unknown(rec), d->definition_unknown);
	assert_int_equal(invpack_read(rec, out), 0);
	free(rec);
}

static void test_every_field_reads_back(void **state)
{
	struct inv_domain d, back;
	(void)state;

	fill(&d);
	round_trip(&d, &back);
	assert_domain(&back, &d);
	assert_true(invpack_size(&d) < 400);   /* the struct alone is 384 bytes */
	inv_domain_free(&back);
	inv_domain_free(&d);
}

static void test_an_empty_domain_reads_back_empty(void **state)
{
	struct inv_domain d = {0}, back;
	(void)state;

	snprintf(d.uuid, sizeof(d.uuid), "%s", "11111111-1111-1111-1111-111111111111");
	round_trip(&d, &back);
	assert_domain(&back, &d);
	assert_null(back.disks);
	assert_null(back.tuning_live.disks);
	assert_null(back.facts.ifaces);
	inv_domain_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_reads_back),
		cmocka_unit_test(test_an_empty_domain_reads_back_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
