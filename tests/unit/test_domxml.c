/* test_domxml: drover's ownership metadata in domain XML, and reading domain XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/domxml.h"

static const char *const xml =
	"<domain type='qemu'><name>web-1</name><memory unit='MiB'>64</memory><vcpu>2</vcpu>"
	"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
	"<cpu mode='custom'><model>qemu64</model></cpu>"
	"<devices><disk type='file' device='disk'><source file='/s/web-1.qcow2'/>"
	"<target dev='vda'/></disk><interface type='bridge'><source bridge='br0'/></interface>"
	"</devices></domain>";

static void test_set_owner_marks_the_domain_as_drovers(void **state)
{
	(void)state;
	char *owned = domxml_set_owner(xml, "default", "web-1");
	assert_non_null(owned);
	char *name = domxml_xpath_string(owned, "string(/domain/metadata/*[local-name()='vm']/@name)");
	assert_non_null(name);
	assert_string_equal(name, "web-1");
	assert_non_null(strstr(owned, INV_METADATA_URI));
	/* Setting it again replaces the element: one owner, never two. */
	char *again = domxml_set_owner(owned, "prod", "web-1");
	assert_non_null(again);
	assert_null(strstr(again, "\"default\""));
	const char *first = strstr(again, INV_METADATA_URI);
	assert_non_null(first);
	assert_null(strstr(first + 1, INV_METADATA_URI));
	free(name);
	free(owned);
	free(again);
}

static void test_read_gives_memory_disks_and_bridges(void **state)
{
	struct inv_domain d = {0};
	(void)state;
	assert_int_equal(domxml_read(xml, &d), 0);
	assert_true(d.memory == 64ULL << 20);
	assert_int_equal(d.vcpus, 2);
	assert_int_equal(d.n_disks, 1);
	assert_string_equal(d.disks[0].path, "/s/web-1.qcow2");
	assert_int_equal(d.n_bridges, 1);
	assert_string_equal(d.bridges[0], "br0");
	inv_domain_free(&d);
	assert_int_equal(domxml_read("<not-xml", &d), -1);
}

static void test_xpath_element_serialises_the_cpu(void **state)
{
	(void)state;
	char *cpu = domxml_xpath_element(xml, "/domain/cpu[model]");
	assert_non_null(cpu);
	assert_non_null(strstr(cpu, "<model>qemu64</model>"));
	assert_null(domxml_xpath_element(xml, "/domain/nothing"));
	free(cpu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_owner_marks_the_domain_as_drovers),
		cmocka_unit_test(test_read_gives_memory_disks_and_bridges),
		cmocka_unit_test(test_xpath_element_serialises_the_cpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
