/* The inventory's domain index: a VM's copies by name, one per host, in the order of the
 * numbers the hosts were added under, whatever the order of adding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reconcile/invindex.h"

#define HOSTS 3

/* Three hosts, each with the domains named in its list (NULL entries stay unnamed). */
struct ix {
	struct inv_domain doms[HOSTS][4];
	struct inv_host hosts[HOSTS];
	struct inventory inv;
	struct inv_index x;
};

static void ix_host(struct ix *t, size_t h, const char *n0, const char *n1, const char *n2)
{
	const char *names[] = {n0, n1, n2};

	t->hosts[h].reachable = true;
	t->hosts[h].domains = t->doms[h];
	for (size_t i = 0; i < 3; i++)
		if (names[i])
			t->doms[h][t->hosts[h].n_domains++].name = (char *)names[i];
		else
			t->hosts[h].n_domains++;      /* a domain libvirt named nothing */
	t->inv = (struct inventory){.hosts = t->hosts, .n_hosts = HOSTS};
}

static struct ix *ix_new(void)
{
	struct ix *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	ix_host(t, 0, "web-1", "db-1", NULL);
	ix_host(t, 1, "db-1", "web-1", "web-1");   /* web-1 twice: only its first counts */
	ix_host(t, 2, "cache", "web-1", "zz");
	return t;
}

static void ix_free(struct ix *t)
{
	inv_index_free(&t->x);
	free(t);
}

static void test_invindex_finds_every_copy_in_host_number_order(void **state)
{
	struct ix *t = ix_new();
	size_t n;
	(void)state;

	/* Added out of order, numbered 0..2: lookups follow the numbers. */
	inv_index_add(&t->x, 2, &t->hosts[2]);
	inv_index_add(&t->x, 0, &t->hosts[0]);
	inv_index_add(&t->x, 1, &t->hosts[1]);
	assert_int_equal(inv_index_sort(&t->x), 0);
	const struct inv_ref *e = inv_index_find(&t->x, "web-1", &n);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].host, 0);
	assert_ptr_equal(e[0].d, &t->doms[0][0]);
	assert_int_equal(e[1].host, 1);
	assert_ptr_equal(e[1].d, &t->doms[1][1]);   /* the host's first web-1, not its second */
	assert_int_equal(e[2].host, 2);
	assert_string_equal(e[2].name, "web-1");
	ix_free(t);
}

static void test_invindex_missing_and_null_names_find_nothing(void **state)
{
	struct ix *t = ix_new();
	size_t n = 99;
	(void)state;

	assert_int_equal(inv_index_inventory(&t->x, &t->inv), 0);
	assert_null(inv_index_find(&t->x, "web-2", &n));
	assert_int_equal(n, 0);
	assert_null(inv_index_find(&t->x, "a", &n));       /* before the first name */
	assert_null(inv_index_find(&t->x, "zzz", &n));     /* after the last */
	assert_null(inv_index_find(&t->x, NULL, &n));
	assert_int_equal(n, 0);
	assert_null(inv_index_find(&t->x, "", &n));        /* unnamed domains are not indexed */
	ix_free(t);
}

static void test_invindex_inventory_numbers_hosts_by_position(void **state)
{
	struct ix *t = ix_new();
	size_t n;
	(void)state;

	assert_int_equal(inv_index_inventory(&t->x, &t->inv), 0);
	assert_int_equal(t->x.n, 7);    /* 9 domains, less one unnamed, less one repeated */
	const struct inv_ref *e = inv_index_find(&t->x, "db-1", &n);
	assert_int_equal(n, 2);
	assert_ptr_equal(e[0].d, &t->doms[0][1]);
	assert_ptr_equal(e[1].d, &t->doms[1][0]);
	assert_ptr_equal(inv_index_on_host(&t->x, "web-1", 1), &t->doms[1][1]);
	assert_ptr_equal(inv_index_on_host(&t->x, "cache", 2), &t->doms[2][0]);
	assert_null(inv_index_on_host(&t->x, "cache", 0));
	assert_null(inv_index_on_host(&t->x, "cache", 7));     /* no such host */
	assert_null(inv_index_on_host(&t->x, NULL, 0));
	ix_free(t);
}

static void test_invindex_empty_and_null_hosts_index_nothing(void **state)
{
	struct inv_index x = {0};
	struct inv_host none = {.name = "empty"};
	size_t n;
	(void)state;

	assert_null(inv_index_find(&x, "web-1", &n));      /* never built: empty, not a crash */
	inv_index_add(&x, 0, NULL);
	inv_index_add(&x, 1, &none);
	assert_int_equal(inv_index_sort(&x), 0);
	assert_int_equal(x.n, 0);
	assert_null(inv_index_find(&x, "web-1", &n));
	inv_index_free(&x);
	inv_index_free(NULL);
	assert_int_equal(inv_index_inventory(&x, NULL), 0);
	inv_index_free(&x);
}

/* Enough names that the binary search must land on each position, first and last too. */
static void test_invindex_finds_each_of_many_names(void **state)
{
	enum { N = 1000 };
	struct inv_domain *doms = calloc(N, sizeof(*doms));
	char (*names)[16] = calloc(N, sizeof(*names));
	struct inv_host h = {.domains = doms, .n_domains = N};
	struct inv_index x = {0};
	size_t n;
	(void)state;

	assert_non_null(doms);
	assert_non_null(names);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "vm-%06zu", (i * 7919) % N);  /* shuffled */
		doms[i].name = names[i];
	}
	inv_index_add(&x, 0, &h);
	assert_int_equal(inv_index_sort(&x), 0);
	for (size_t i = 0; i < N; i++) {
		const struct inv_ref *e = inv_index_find(&x, names[i], &n);
		assert_int_equal(n, 1);
		assert_ptr_equal(e->d, &doms[i]);
	}
	inv_index_free(&x);
	free(names);
	free(doms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invindex_finds_every_copy_in_host_number_order),
		cmocka_unit_test(test_invindex_missing_and_null_names_find_nothing),
		cmocka_unit_test(test_invindex_inventory_numbers_hosts_by_position),
		cmocka_unit_test(test_invindex_empty_and_null_hosts_index_nothing),
		cmocka_unit_test(test_invindex_finds_each_of_many_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
