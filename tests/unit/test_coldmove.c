/* test_coldmove: a cold move on libvirt's test driver (two private driver instances, one
 * per node file, as two hosts): a move that landed but whose source definition could not be
 * removed says so with 1 — moved, something left on the source — so that its record stays
 * Running and the planner removes what is left; as -1 (failed) the record ended and a local
 * VM's disks were forgotten on the source (the soak's fifth run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "reconcile/coldmove.h"

static const char node_with_vm[] =
	"<node>\n"
	"  <domain type='test'><name>web-1</name><memory>65536</memory>"
	"<os><type>hvm</type></os></domain>\n"
	"</node>\n";
static const char empty_node[] = "<node></node>\n";

static void quiet(void *opaque, virErrorPtr err)
{
	(void)opaque, (void)err;
}

/* Opens a test-driver host of its own from @xml, written to @path. */
static virConnectPtr host_from(char *path, const char *xml)
{
	char uri[128];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);
	snprintf(uri, sizeof(uri), "test://%s", path);
	virConnectPtr c = virConnectOpen(uri);
	assert_non_null(c);
	return c;
}

static void test_cold_move_landed_with_the_source_definition_left_returns_1(void **state)
{
	char src_path[] = "/tmp/drover-coldmove-src-XXXXXX", dst_path[] = "/tmp/drover-coldmove-dst-XXXXXX";
	char why[512] = "";
	(void)state;
	virSetErrorFunc(NULL, quiet);
	virConnectPtr src = host_from(src_path, node_with_vm), dst = host_from(dst_path, empty_node);
	virDomainPtr dom = virDomainLookupByName(src, "web-1");
	assert_non_null(dom);
	/* A snapshot's metadata makes a plain undefine fail, as a source that stopped answering
	 * right after the target was verified would. */
	virDomainSnapshotPtr snap =
		virDomainSnapshotCreateXML(dom, "<domainsnapshot><name>s1</name></domainsnapshot>", 0);
	assert_non_null(snap);
	virDomainSnapshotFree(snap);
	struct cold_request req = {.src = src, .dst = dst, .domain = "web-1", .owner_ns = "default",
				   .owner_name = "web-1", .start = true, .stop_timeout_s = 1};

	assert_int_equal(cold_move(&req, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "source definition could not be removed"));
	virDomainPtr moved = virDomainLookupByName(dst, "web-1");
	assert_non_null(moved);
	assert_int_equal(virDomainIsActive(moved), 1);   /* it runs on the target */
	virDomainFree(moved);
	assert_int_equal(virDomainIsActive(dom), 0);     /* the source's copy is left, off */
	virDomainFree(dom);
	virConnectClose(src);
	virConnectClose(dst);
	unlink(src_path);
	unlink(dst_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cold_move_landed_with_the_source_definition_left_returns_1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
