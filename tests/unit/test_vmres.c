/* vmres reads what a VM asks of a host from the short form and from libvirt domain XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reconcile/vmres.h"

static void test_vmres_memory_units(void **state)
{
	static const struct {
		const char *value, *unit;
		uint64_t bytes;
	} rows[] = {
		{"1024", NULL, 1024ull * 1024},         /* libvirt's default unit is KiB */
		{"1024", "", 1024ull * 1024},
		{"512", "b", 512}, {"512", "bytes", 512},
		{"2", "k", 2048}, {"2", "KiB", 2048}, {"2", "KB", 2000},
		{"3", "M", 3ull << 20}, {"3", "MiB", 3ull << 20}, {"3", "MB", 3000000},
		{"4", "G", 4ull << 30}, {"4", "GiB", 4ull << 30}, {"4", "gib", 4ull << 30},
		{"4", "GB", 4000000000ull}, {"1", "T", 1ull << 40}, {"1", "PiB", 1ull << 50},
		{"1", "E", 1ull << 60}, {" 7 ", "MiB", 7ull << 20},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t b = 0;
		assert_int_equal(vmres_memory_parse(rows[i].value, rows[i].unit, &b), 0);
		assert_int_equal(b, rows[i].bytes);
	}
}

static void test_vmres_memory_rejects_nonsense(void **state)
{
	static const char *const bad[][2] = {
		{"", "KiB"}, {"-1", "KiB"}, {"1.5", "GiB"}, {"12x", "KiB"}, {"1", "parsec"},
		{"1", "Gi"}, {"16", "EiB"}, {"99999999999999999999", "b"},
	};
	uint64_t b;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vmres_memory_parse(bad[i][0], bad[i][1], &b), -1);
	assert_int_equal(vmres_memory_parse(NULL, "KiB", &b), -1);
}

static const char DOMAIN_XML[] =
	"<domain type='kvm'>\n"
	"  <name>web-1</name>\n"
	"  <memory unit='MiB'>1536</memory>\n"
	"  <currentMemory unit='MiB'>512</currentMemory>\n"
	"  <vcpu placement='static'>4</vcpu>\n"
	"  <devices>\n"
	"    <disk type='file' device='disk'><source file='/shared/web-1.qcow2'/>"
	"<target dev='vda'/></disk>\n"
	"    <disk type='block' device='disk'><source dev='/dev/vg0/data'/></disk>\n"
	"    <disk type='network' device='disk'><source protocol='rbd' name='pool/img'/></disk>\n"
	"    <disk type='file' device='cdrom'><target dev='sda'/></disk>\n"
	"    <interface type='bridge'><source bridge='br0'/></interface>\n"
	"    <interface type='bridge'><source bridge='br0'/></interface>\n"
	"    <interface type='network'><source network='default'/></interface>\n"
	"    <interface type='user'/>\n"
	"  </devices>\n"
	"</domain>\n";

static void test_vmres_reads_domain_xml(void **state)
{
	struct vmres r;
	char why[256];
	(void)state;
	assert_int_equal(vmres_from_xml(DOMAIN_XML, strlen(DOMAIN_XML), &r, why, sizeof(why)),
			 VMRES_OK);
	assert_int_equal(r.memory, 1536ull << 20);     /* <currentMemory> does not count */
	assert_int_equal(r.vcpus, 4);
	assert_int_equal(r.n_disks, 2);
	assert_string_equal(r.disks[0], "/shared/web-1.qcow2");
	assert_string_equal(r.disks[1], "/dev/vg0/data");
	assert_int_equal(r.n_bridges, 1);
	assert_string_equal(r.bridges[0], "br0");
	assert_int_equal(r.n_networks, 1);
	assert_string_equal(r.networks[0], "default");
	vmres_free(&r);
	vmres_free(&r);         /* twice, and NULL, are harmless */
	vmres_free(NULL);
}

static void test_vmres_reads_hugepage_backing(void **state)
{
	static const struct {
		const char *xml;
		uint64_t size;
	} cases[] = {
		{"<domain><memory>1048576</memory></domain>", 0},
		{"<domain><memoryBacking><hugepages/></memoryBacking></domain>", 2u << 20},
		{"<domain><memoryBacking><hugepages><page size='1' unit='G'/></hugepages>"
		 "</memoryBacking></domain>", 1u << 30},
		{"<domain><memoryBacking><hugepages><page size='2048'/></hugepages>"
		 "</memoryBacking></domain>", 2u << 20},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmres r;
		char why[128];
		assert_int_equal(vmres_from_xml(cases[i].xml, strlen(cases[i].xml), &r, why,
						sizeof(why)), VMRES_OK);
		assert_int_equal(r.hugepage_size, cases[i].size);
		vmres_free(&r);
	}
}

static void test_vmres_default_memory_unit_is_kib(void **state)
{
	static const char xml[] = "<domain type='kvm'><memory>1048576</memory></domain>";
	struct vmres r;
	char why[128];
	(void)state;
	assert_int_equal(vmres_from_xml(xml, strlen(xml), &r, why, sizeof(why)), VMRES_OK);
	assert_int_equal(r.memory, 1ull << 30);
	assert_int_equal(r.vcpus, 0);
	vmres_free(&r);
}

static void test_vmres_refuses_bad_xml(void **state)
{
	static const struct {
		const char *xml, *why;
	} rows[] = {
		{"<domain", "not well-formed"},
		{"<vm/>", "no <domain> root"},
		{"<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain>&x;</domain>",
		 "DOCTYPE"},
		{"<domain><memory unit='KiB'>lots</memory></domain>", "<memory> 'lots'"},
		{"<domain><vcpu>0</vcpu></domain>", "<vcpu> '0'"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vmres r;
		char why[256];
		assert_int_equal(vmres_from_xml(rows[i].xml, strlen(rows[i].xml), &r, why,
						sizeof(why)), VMRES_INVALID);
		if (!strstr(why, rows[i].why))
			fail_msg("\"%s\": why \"%s\" lacks \"%s\"", rows[i].xml, why, rows[i].why);
		assert_null(r.disks);
	}
}

static void test_vmres_caps_devices(void **state)
{
	size_t cap = 64 + (VMRES_MAX_DEVICES + 1) * 64;
	char *xml = malloc(cap), why[128];
	size_t len = 0;
	struct vmres r;
	(void)state;
	assert_non_null(xml);
	len += (size_t)snprintf(xml + len, cap - len, "<domain><devices>");
	for (int i = 0; i <= VMRES_MAX_DEVICES; i++)
		len += (size_t)snprintf(xml + len, cap - len, "<disk><source file='/d/%d'/></disk>", i);
	len += (size_t)snprintf(xml + len, cap - len, "</devices></domain>");
	assert_int_equal(vmres_from_xml(xml, len, &r, why, sizeof(why)), VMRES_INVALID);
	assert_non_null(strstr(why, "more than"));
	free(xml);
}

static void test_vmres_reads_short_form(void **state)
{
	struct crd_disk disks[] = {{.path = "/shared/a.qcow2"}, {.path = "/shared/b.raw"}};
	struct crd_interface ifs[] = {{CRD_IFACE_BRIDGE, "br0"}, {CRD_IFACE_NETWORK, "lan"}};
	struct crd_vm vm = {.spec.domain = {.memory = 1ull << 30, .vcpus = 2, .disks = disks,
					    .n_disks = 2, .interfaces = ifs, .n_interfaces = 2}};
	struct vmres r;
	char why[64];
	(void)state;
	assert_int_equal(vmres_from_vm(&vm, &r, why, sizeof(why)), VMRES_OK);
	assert_int_equal(r.memory, 1ull << 30);
	assert_int_equal(r.vcpus, 2);
	assert_int_equal(r.n_disks, 2);
	assert_string_equal(r.disks[1], "/shared/b.raw");
	assert_string_equal(r.bridges[0], "br0");
	assert_string_equal(r.networks[0], "lan");
	vmres_free(&r);
}

static void test_vmres_prefers_xml_form(void **state)
{
	struct crd_vm vm = {.spec.domain = {.xml = (char *)DOMAIN_XML, .memory = 1}};
	struct vmres r;
	char why[64];
	(void)state;
	assert_int_equal(vmres_from_vm(&vm, &r, why, sizeof(why)), VMRES_OK);
	assert_int_equal(r.memory, 1536ull << 20);
	vmres_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmres_memory_units),
		cmocka_unit_test(test_vmres_memory_rejects_nonsense),
		cmocka_unit_test(test_vmres_reads_domain_xml),
		cmocka_unit_test(test_vmres_default_memory_unit_is_kib),
		cmocka_unit_test(test_vmres_refuses_bad_xml),
		cmocka_unit_test(test_vmres_caps_devices),
		cmocka_unit_test(test_vmres_reads_short_form),
		cmocka_unit_test(test_vmres_prefers_xml_form),
		cmocka_unit_test(test_vmres_reads_hugepage_backing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
