/* Kubernetes quantities parse to exact byte counts, refuse what is not a byte count, and never overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crd/quantity.h"

static const struct { const char *in; uint64_t bytes; } good[] = {
	{"0", 0}, {"1", 1}, {"512Mi", 512ull << 20}, {"64Mi", 64ull << 20}, {"4Gi", 4ull << 30},
	{"1Ki", 1024}, {"1Ti", 1ull << 40}, {"1Pi", 1ull << 50}, {"15Ei", 15ull << 60},
	{"1k", 1000}, {"1M", 1000000}, {"1G", 1000000000}, {"1T", 1000000000000ull},
	{"1.5Gi", 3ull << 29}, {"0.5Ki", 512}, {".5Ki", 512}, {"2e9", 2000000000},
	{"1E3", 1000}, {"1e+3", 1000}, {"+7", 7}, {"1000m", 1}, {"1000e-3", 1}, {"5.", 5},
	{"0.000Gi", 0}, {"000123", 123}, {"18446744073709551615", UINT64_MAX},
};

static const struct { const char *in; const char *why; } bad[] = {
	{"", "expected a quantity like 512Mi"}, {"lots", "expected a quantity like 512Mi"},
	{"64MB", "expected a quantity like 512Mi"}, {"1 Gi", "expected a quantity like 512Mi"},
	{"Gi", "expected a quantity like 512Mi"}, {"1e", "expected a quantity like 512Mi"},
	{"1..5", "expected a quantity like 512Mi"}, {"0x10", "expected a quantity like 512Mi"},
	{"-1", "is negative"}, {"-0", "is negative"}, {"0.5", "is not a whole number of bytes"},
	{"1500m", "is not a whole number of bytes"}, {"1e-30", "is not a whole number of bytes"},
	{"16Ei", "is too large"}, {"18446744073709551616", "is too large"},
	{"1e30", "is too large"}, {"99999999Ei", "is too large"},
	{"18446744073709551615.5", "has too many digits"}, {"1e99999", "expected a quantity like 512Mi"},
};

static void test_quantity_parses_exact_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 42;
		const char *why = NULL;
		if (crd_quantity_parse(good[i].in, &v, &why) != 0 || v != good[i].bytes)
			fail_msg("\"%s\": got %llu (%s)", good[i].in, (unsigned long long)v, why);
	}
}

static void test_quantity_refuses_with_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 0;
		const char *why = NULL;
		if (crd_quantity_parse(bad[i].in, &v, &why) != -1 || strcmp(why, bad[i].why))
			fail_msg("\"%s\": expected \"%s\", got \"%s\"", bad[i].in, bad[i].why, why);
	}
}

static void test_quantity_formats_with_largest_binary_suffix(void **state)
{
	static const struct { uint64_t v; const char *out; } cases[] = {
		{0, "0"}, {7, "7"}, {1024, "1Ki"}, {1536, "1536"}, {3ull << 29, "1536Mi"},
		{512ull << 20, "512Mi"}, {64ull << 30, "64Gi"}, {1ull << 60, "1Ei"},
		{UINT64_MAX, "18446744073709551615"},
	};
	char buf[32];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		crd_quantity_format(cases[i].v, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
		uint64_t back = 0;
		const char *why;
		assert_int_equal(crd_quantity_parse(buf, &back, &why), 0);
		assert_true(back == cases[i].v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantity_parses_exact_bytes),
		cmocka_unit_test(test_quantity_refuses_with_reason),
		cmocka_unit_test(test_quantity_formats_with_largest_binary_suffix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
