/* Inventory lookups: hosts and domains by name, ownership, pools holding a path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reconcile/inventory.h"

static char *dup(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

/* One host "lab-a" with domains web-1 (drover's, default namespace) and legacy (foreign), and
 * pools: images (active, /var/lib/images/, holding one volume), old (inactive, /srv). */
static void build(struct inventory *inv)
{
	memset(inv, 0, sizeof(*inv));
	inv->hosts = calloc(1, sizeof(*inv->hosts));
	assert_non_null(inv->hosts);
	inv->n_hosts = 1;
	struct inv_host *h = &inv->hosts[0];
	h->name = dup("lab-a");
	h->domains = calloc(2, sizeof(*h->domains));
	h->n_domains = 2;
	h->domains[0].name = dup("web-1");
	snprintf(h->domains[0].uuid, sizeof(h->domains[0].uuid), "%s",
		 "0f0e0d0c-0b0a-0908-0706-050403020100");
	h->domains[0].owner_name = dup("web-1");
	h->domains[1].name = dup("legacy");
	h->pools = calloc(3, sizeof(*h->pools));
	h->n_pools = 3;
	h->pools[0] = (struct inv_pool){.name = dup("old"), .path = dup("/var/lib/images")};
	h->pools[1] = (struct inv_pool){.name = dup("images"), .path = dup("/var/lib/images/"),
					.active = true};
	h->pools[1].volumes = calloc(1, sizeof(char *));
	h->pools[1].volumes[0] = dup("/var/lib/images/web-1.qcow2");
	h->pools[1].n_volumes = 1;
	h->pools[2] = (struct inv_pool){.name = dup("root"), .path = dup("/"), .active = true};
}

static void test_inventory_finds_hosts_and_domains(void **state)
{
	struct inventory inv;
	(void)state;
	build(&inv);
	const struct inv_host *h = inv_host_by_name(&inv, "lab-a");
	assert_non_null(h);
	assert_null(inv_host_by_name(&inv, "lab-b"));
	assert_null(inv_host_by_name(NULL, "lab-a"));
	assert_string_equal(inv_domain_by_name(h, "legacy")->name, "legacy");
	assert_null(inv_domain_by_name(h, "nope"));
	assert_ptr_equal(inv_domain_by_uuid(h, "0F0E0D0C-0B0A-0908-0706-050403020100"),
			 &h->domains[0]);
	assert_null(inv_domain_by_uuid(h, ""));     /* a blank UUID matches nothing */
	inv_free(&inv);
}

static void test_inventory_ownership_needs_drover_metadata(void **state)
{
	struct inventory inv;
	(void)state;
	build(&inv);
	const struct inv_host *h = &inv.hosts[0];
	assert_true(inv_domain_owned_by(&h->domains[0], "default", "web-1"));
	assert_true(inv_domain_owned_by(&h->domains[0], NULL, "web-1"));
	assert_false(inv_domain_owned_by(&h->domains[0], "prod", "web-1"));
	assert_false(inv_domain_owned_by(&h->domains[0], "default", "web-2"));
	assert_false(inv_domain_owned_by(&h->domains[1], "default", "legacy"));
	assert_false(inv_domain_owned_by(NULL, "default", "web-1"));
	inv_free(&inv);
}

static void test_inventory_pool_holding_takes_direct_children_of_active_pools(void **state)
{
	struct inventory inv;
	(void)state;
	build(&inv);
	const struct inv_host *h = &inv.hosts[0];
	assert_string_equal(inv_pool_holding(h, "/var/lib/images/new.qcow2")->name, "images");
	assert_null(inv_pool_holding(h, "/var/lib/images/sub/new.qcow2"));
	assert_null(inv_pool_holding(h, "/var/lib/imagesX/new.qcow2"));
	assert_string_equal(inv_pool_holding(h, "/top.img")->name, "root");
	inv.hosts[0].pools[1].active = false;
	assert_string_equal(inv_pool_holding(h, "/var/lib/images/new.qcow2")->name, "old");
	assert_true(inv_host_has_volume(h, "/var/lib/images/web-1.qcow2"));
	assert_false(inv_host_has_volume(h, "/var/lib/images/web-2.qcow2"));
	assert_false(inv_host_has_volume(NULL, "/x"));
	inv_free(&inv);
}

static void test_inventory_strv_and_null_frees(void **state)
{
	char *list[] = {"br0", "br1"};
	(void)state;
	assert_true(inv_strv_has(list, 2, "br1"));
	assert_false(inv_strv_has(list, 2, "br2"));
	assert_false(inv_strv_has(NULL, 0, "br0"));
	inv_free(NULL);
	inv_host_free(NULL);
	inv_domain_free(NULL);
	inv_pool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory_finds_hosts_and_domains),
		cmocka_unit_test(test_inventory_ownership_needs_drover_metadata),
		cmocka_unit_test(test_inventory_pool_holding_takes_direct_children_of_active_pools),
		cmocka_unit_test(test_inventory_strv_and_null_frees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
