/* test_transport_knobs: the knob combinations libvirt 9.0 refuses, and the room a disk
 * copy asks of the target pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crd/types.h"
#include "reconcile/storage.h"

static struct crd_knobs tunnelled(void)
{
	struct crd_knobs k;
	crd_knobs_default(&k);
	k.transport = CRD_TRANSPORT_TUNNELLED;
	return k;
}

static void test_knobs_direct_allows_everything(void **state)
{
	struct crd_knobs k;
	(void)state;
	crd_knobs_default(&k);
	k.allow_post_copy = true;
	k.parallel_connections = 4;
	k.encryption = CRD_ENCRYPT_TLS;
	assert_null(crd_knobs_conflict(&k, true));
}

static void test_knobs_tunnelled_alone_is_fine(void **state)
{
	struct crd_knobs k = tunnelled();
	(void)state;
	k.compression = CRD_COMPRESS_XBZRLE;
	assert_null(crd_knobs_conflict(&k, false));
}

static void test_knobs_tunnelled_refuses_what_libvirt_refuses(void **state)
{
	struct crd_knobs k = tunnelled();
	(void)state;
	k.allow_post_copy = true;
	assert_non_null(strstr(crd_knobs_conflict(&k, false), "allowPostCopy"));
	k = tunnelled();
	k.parallel_connections = 2;
	assert_non_null(strstr(crd_knobs_conflict(&k, false), "parallelConnections"));
	k = tunnelled();
	k.encryption = CRD_ENCRYPT_TLS;
	assert_non_null(strstr(crd_knobs_conflict(&k, false), "TLS"));
	k = tunnelled();
	assert_non_null(strstr(crd_knobs_conflict(&k, true), "local disks"));
}

static void test_storage_margin_is_a_tenth_with_a_floor(void **state)
{
	(void)state;
	assert_int_equal(stor_bytes_needed(0), STOR_MARGIN_MIN);
	assert_int_equal(stor_bytes_needed(1ULL << 20), (1ULL << 20) + STOR_MARGIN_MIN);
	assert_int_equal(stor_bytes_needed(10ULL << 30), (10ULL << 30) + (1ULL << 30));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knobs_direct_allows_everything),
		cmocka_unit_test(test_knobs_tunnelled_alone_is_fine),
		cmocka_unit_test(test_knobs_tunnelled_refuses_what_libvirt_refuses),
		cmocka_unit_test(test_storage_margin_is_a_tenth_with_a_floor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
