/* Format rules: names, label keys and values, paths, URIs, addresses, times, suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>

#include "crd/validate.h"

struct rule_case { bool (*rule)(const char *); const char *in; bool ok; };

static void test_format_rules_accept_and_refuse(void **state)
{
	static const struct rule_case cases[] = {
		{crd_valid_dns_label, "web-1", true}, {crd_valid_dns_label, "a", true},
		{crd_valid_dns_label, "0abc", true}, {crd_valid_dns_label, "", false},
		{crd_valid_dns_label, "Web-1", false}, {crd_valid_dns_label, "-a", false},
		{crd_valid_dns_label, "a-", false}, {crd_valid_dns_label, "a.b", false},
		{crd_valid_dns_label, "a_b", false},
		{crd_valid_dns_label, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
		{crd_valid_dns_label, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{crd_valid_dns_subdomain, "a.b-c.d", true}, {crd_valid_dns_subdomain, "a..b", false},
		{crd_valid_label_key, "rack", true}, {crd_valid_label_key, "drover.io/pool", true},
		{crd_valid_label_key, "Rack_1.x", true}, {crd_valid_label_key, "/x", false},
		{crd_valid_label_key, "a/b/c", false}, {crd_valid_label_key, "-x", false},
		{crd_valid_label_value, "", true}, {crd_valid_label_value, "r1", true},
		{crd_valid_label_value, "r 1", false}, {crd_valid_label_value, "x-", false},
		{crd_valid_abs_path, "/a/b", true}, {crd_valid_abs_path, "a/b", false},
		{crd_valid_abs_path, "/a\nb", false}, {crd_valid_abs_path, "", false},
		{crd_valid_address, "10.77.0.11", true}, {crd_valid_address, "fd00::1", true},
		{crd_valid_address, "kvm-a.example.com", true}, {crd_valid_address, "KVM-A", true},
		{crd_valid_address, "10.77.0.11 ", false}, {crd_valid_address, "a_b", false},
		{crd_valid_bridge_name, "br0", true}, {crd_valid_bridge_name, "virbr0.100", true},
		{crd_valid_bridge_name, "br 0", false}, {crd_valid_bridge_name, "0123456789abcdef", false},
		{crd_valid_network_name, "default", true}, {crd_valid_network_name, "a/b", false},
		{crd_valid_rfc3339, "2026-11-23T10:00:00Z", true},
		{crd_valid_rfc3339, "2026-11-23t10:00:00.123456z", true},
		{crd_valid_rfc3339, "2026-11-23T10:00:00+01:30", true},
		{crd_valid_rfc3339, "2026-11-23T10:00:00", false},
		{crd_valid_rfc3339, "2026-11-23 10:00:00Z", false},
		{crd_valid_rfc3339, "2026-13-23T10:00:00Z", false},
		{crd_valid_rfc3339, "2026-11-23T10:00:00.Z", false},
		{crd_valid_rfc3339, "2026-11-23T10:00:00Zx", false},
		{crd_valid_rfc3339, "2026-11-23T10:00:00+0130", false},
		{crd_valid_rfc3339, "2026-11", false}, {crd_valid_rfc3339, "", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].rule(cases[i].in) != cases[i].ok)
			fail_msg("case %zu \"%s\": expected %s", i, cases[i].in,
				 cases[i].ok ? "valid" : "invalid");
}

static void test_uri_rule(void **state)
{
	static const struct { const char *in; bool ok; } cases[] = {
		{"qemu+tcp://10.77.0.11/system", true}, {"qemu+tls://h.example/system", true},
		{"qemu+ssh://root@h:22/system?keyfile=/k", true}, {"qemu:///system", true},
		{"qemu+libssh://root@h/system?known_hosts=/k&sshauth=privkey", true},
		{"qemu+libssh2://h/system", false},
		{"test:///default", true}, {"qemu+tcp://h/session", true},
		{"qemu:///session", false}, {"qemu+tcp:///system", false}, {"qemu+tcp://h/", false},
		{"qemu+tcp://h/systemd", false}, {"xen://h/", false}, {"test:///", false},
		{"test+tcp://10.77.0.11:16509//tmp/n/host-000.xml", true},
		{"test+tcp://h/default", true}, {"test+tcp:///tmp/n.xml", false},
		{"test+tcp://h/", false}, {"test+tcp://h//a b.xml", false},
		{"qemu+unix:///system", false}, {"", false}, {"qemu+tcp://h /system", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if ((crd_check_uri(cases[i].in) == NULL) != cases[i].ok)
			fail_msg("\"%s\": expected %s", cases[i].in, cases[i].ok ? "valid" : "invalid");
}

static void test_suggest_finds_nearest_known_field(void **state)
{
	static const char *const known[] = {"memory", "vcpus", "disks", "interfaces", NULL};
	(void)state;
	assert_string_equal(crd_suggest("memroy", known), "memory");
	assert_string_equal(crd_suggest("Memory", known), "memory");
	assert_string_equal(crd_suggest("cpus", known), "vcpus");
	assert_string_equal(crd_suggest("interface", known), "interfaces");
	assert_null(crd_suggest("flavour", known));
	assert_null(crd_suggest("", known));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_rules_accept_and_refuse),
		cmocka_unit_test(test_uri_rule),
		cmocka_unit_test(test_suggest_finds_nearest_known_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
