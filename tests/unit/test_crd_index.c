/* The set's object index: by name and namespace, the first declared of duplicates, and the
 * same answers by scanning when the index could not be built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crd/index.h"

/* default/web-1, shop/web-1, default/db-1, shop/web-1 again (a duplicate), default/a. */
static struct crd_vm vms[5];
static const char *const names[][2] = {
	{"default", "web-1"}, {"shop", "web-1"}, {"default", "db-1"}, {"shop", "web-1"},
	{"default", "a"},
};

static void fill(void)
{
	memset(vms, 0, sizeof(vms));
	for (size_t i = 0; i < 5; i++) {
		vms[i].meta.namespace = (char *)names[i][0];
		vms[i].meta.name = (char *)names[i][1];
	}
}

/* The lookups every test asks, of an index built or not. */
static void assert_answers(const struct crd_index *x)
{
	assert_int_equal(crd_index_find(x, "default", "web-1"), 0);
	assert_int_equal(crd_index_find(x, NULL, "web-1"), 0);         /* NULL is "default" */
	assert_int_equal(crd_index_find(x, "shop", "web-1"), 1);       /* the first of two */
	assert_int_equal(crd_index_find(x, "default", "db-1"), 2);
	assert_int_equal(crd_index_find(x, "default", "a"), 4);
	assert_int_equal(crd_index_find(x, "shop", "db-1"), CRD_INDEX_NONE);
	assert_int_equal(crd_index_find(x, "other", "web-1"), CRD_INDEX_NONE);
	assert_int_equal(crd_index_find(x, "default", "web-2"), CRD_INDEX_NONE);
	assert_int_equal(crd_index_find(x, "default", ""), CRD_INDEX_NONE);
	assert_int_equal(crd_index_find(x, "default", NULL), CRD_INDEX_NONE);
	assert_ptr_equal(crd_index_at(x, 3), &vms[3].meta);
}

static void test_crd_index_finds_by_name_and_namespace_first_of_duplicates(void **state)
{
	struct crd_index x;
	(void)state;

	fill();
	assert_int_equal(crd_index_build(&x, vms, 5, sizeof(vms[0])), 0);
	assert_non_null(x.refs);
	assert_answers(&x);
	crd_index_free(&x);
	assert_null(x.refs);
	crd_index_free(NULL);
}

/* Out of memory leaves refs NULL: the same answers must come from a scan. */
static void test_crd_index_without_refs_scans_with_the_same_answers(void **state)
{
	struct crd_index x = {.all = vms, .n = 5, .size = sizeof(vms[0])};
	(void)state;

	fill();
	assert_answers(&x);
}

static void test_crd_index_of_nothing_finds_nothing(void **state)
{
	struct crd_index x, never = {0};
	(void)state;

	assert_int_equal(crd_index_build(&x, NULL, 0, sizeof(vms[0])), 0);
	assert_int_equal(crd_index_find(&x, "default", "web-1"), CRD_INDEX_NONE);
	assert_int_equal(crd_index_find(&never, "default", "web-1"), CRD_INDEX_NONE);
	crd_index_free(&x);
}

/* Each kind has its own index: a Host and a VM of one name do not meet. */
static void test_crd_set_index_keeps_kinds_apart(void **state)
{
	struct crd_host hosts[2] = {0};
	struct crd_migration migs[1] = {0};
	struct crd_set set = {.hosts = hosts, .n_hosts = 2, .vms = vms, .n_vms = 5,
			      .migrations = migs, .n_migrations = 1};
	struct crd_set_index ix;
	(void)state;

	fill();
	hosts[0].meta = (struct crd_meta){.name = "kvm-a", .namespace = "default"};
	hosts[1].meta = (struct crd_meta){.name = "db-1", .namespace = "default"};
	migs[0].meta = (struct crd_meta){.name = "web-1", .namespace = "shop"};
	assert_int_equal(crd_set_index_build(&ix, &set), 0);
	assert_int_equal(crd_index_find(&ix.kind[CRD_KIND_HOST], NULL, "db-1"), 1);
	assert_int_equal(crd_index_find(&ix.kind[CRD_KIND_HOST], NULL, "web-1"), CRD_INDEX_NONE);
	assert_int_equal(crd_index_find(&ix.kind[CRD_KIND_VM], NULL, "db-1"), 2);
	assert_int_equal(crd_index_find(&ix.kind[CRD_KIND_MIGRATION], "shop", "web-1"), 0);
	assert_int_equal(crd_index_find(&ix.kind[CRD_KIND_MIGRATION], NULL, "web-1"),
			 CRD_INDEX_NONE);
	crd_set_index_free(&ix);
	crd_set_index_free(NULL);
}

/* Enough objects that the binary search lands on every position, the ends included. */
static void test_crd_index_finds_each_of_many(void **state)
{
	enum { N = 2000 };
	struct crd_vm *many = calloc(N, sizeof(*many));
	char (*name)[16] = calloc(N, sizeof(*name));
	struct crd_index x;
	(void)state;

	assert_non_null(many);
	assert_non_null(name);
	for (size_t i = 0; i < N; i++) {
		/* Two namespaces of the same 1000 names, shuffled. */
		snprintf(name[i], sizeof(name[i]), "vm-%04zu", (i * 7919) % (N / 2));
		many[i].meta.name = name[i];
		many[i].meta.namespace = i < N / 2 ? "default" : "shop";
	}
	assert_int_equal(crd_index_build(&x, many, N, sizeof(many[0])), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(crd_index_find(&x, many[i].meta.namespace, many[i].meta.name), i);
	crd_index_free(&x);
	free(name);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crd_index_finds_by_name_and_namespace_first_of_duplicates),
		cmocka_unit_test(test_crd_index_without_refs_scans_with_the_same_answers),
		cmocka_unit_test(test_crd_index_of_nothing_finds_nothing),
		cmocka_unit_test(test_crd_set_index_keeps_kinds_apart),
		cmocka_unit_test(test_crd_index_finds_each_of_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
