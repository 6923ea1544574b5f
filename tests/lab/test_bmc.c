/* test_bmc: the lab's BMCs (ipmi_sim) and reconcile/fence running the real fence_ipmilan
 * against them over the lab network: off cuts the host's power and status confirms it; on
 * brings it back; a BMC that does not answer, or a wrong password, fences nothing and the
 * reason never holds the password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "reconcile/clk.h"
#include "reconcile/fence.h"
#include "tests/lab/lab.h"

#define N_HOSTS 2
#define HOST 1   /* lab-b */

static char bmc_addr[64], bmc_port[16], bmc_user[32], password[64];
static struct crd_kv opts[6];
static struct crd_map opt_map = {opts, 6};

/* Reads hack/lab bmc NAME and the password file it names. Returns 0 or -1. */
static int read_bmc(void)
{
	const char *argv[] = {"bash", "hack/lab", "bmc", lab_host_name(HOST), NULL};
	char line[512], pwfile[400];
	FILE *f;

	if (lab_run(argv, line, sizeof(line), 30) != 0 ||
	    sscanf(line, "%63s %15s %31s %399s", bmc_addr, bmc_port, bmc_user, pwfile) != 4 ||
	    !(f = fopen(pwfile, "r")))
		return -1;
	bool ok = fgets(password, sizeof(password), f) != NULL;
	fclose(f);
	password[strcspn(password, "\n")] = '\0';
	struct crd_kv o[] = {{"ip", bmc_addr}, {"ipport", bmc_port}, {"username", bmc_user},
			     {"lanplus", "1"}, {"cipher", "3"}, {"power_timeout", "20"}};
	memcpy(opts, o, sizeof(o));
	return ok ? 0 : -1;
}

static struct fence_request request(const char *pw)
{
	return (struct fence_request){.agent = "fence_ipmilan", .options = &opt_map,
				      .password = pw, .timeout_s = 60};
}

static bool host_answers(void)
{
	virConnectPtr c = lab_connect(HOST);
	if (c)
		virConnectClose(c);
	return c != NULL;
}

static void lab_verb(const char *verb)
{
	const char *argv[] = {"bash", "hack/lab", verb, lab_host_name(HOST), NULL};
	assert_int_equal(lab_run(argv, NULL, 0, 120), 0);
}

static void test_bmc_reports_the_host_on(void **state)
{
	(void)state;
	struct fence_request req = request(password);
	struct fence_result res;
	assert_int_equal(fence_run(&req, "status", &res), 0);   /* 0: on */
	assert_null(strstr(res.reason, password));
	assert_false(lab_bmc_holds_off(HOST));
}

static void test_fence_off_through_the_bmc_cuts_the_power(void **state)
{
	(void)state;
	struct fence_request req = request(password);
	struct fence_result res;
	assert_int_equal(fence_off(&req, &res), 0);
	assert_int_equal(res.outcome, FENCE_OK);
	assert_false(host_answers());
	assert_int_equal(fence_run(&req, "status", &res), 2);   /* 2: off */
	assert_true(lab_bmc_holds_off(HOST));   /* what the soak powers on again */
}

static void test_fence_on_brings_the_host_back(void **state)
{
	(void)state;
	struct fence_request req = request(password);
	struct fence_result res;
	assert_int_equal(fence_run(&req, "on", &res), 0);
	bool up = false;
	for (int i = 0; i < 50 && !(up = host_answers()); i++)
		clk_sleep(0.2);
	assert_true(up);
	assert_false(lab_bmc_holds_off(HOST));
}

static void test_wrong_password_fences_nothing(void **state)
{
	(void)state;
	struct fence_request req = request("not-the-password");
	struct fence_result res;
	assert_int_equal(fence_off(&req, &res), -1);
	assert_int_not_equal(res.outcome, FENCE_OK);
	assert_null(strstr(res.reason, "not-the-password"));
	assert_true(host_answers());
}

static void test_unreachable_bmc_fences_nothing(void **state)
{
	(void)state;
	struct fence_request req = request(password);
	struct fence_result res;
	lab_verb("bmc-stop");
	int rc = fence_off(&req, &res);
	lab_verb("bmc-start");
	assert_int_equal(rc, -1);
	assert_int_not_equal(res.outcome, FENCE_OK);
	assert_true(host_answers());
}

static int group_setup(void **state)
{
	(void)state;
	return lab_up(N_HOSTS) < 0 || read_bmc() < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	/* The host and its BMC come back whatever happened, so later tests find them. */
	const char *bmc[] = {"bash", "hack/lab", "bmc-start", lab_host_name(HOST), NULL};
	const char *host[] = {"bash", "hack/lab", "start-host", lab_host_name(HOST), NULL};
	(void)lab_run(bmc, NULL, 0, 60);
	(void)lab_run(host, NULL, 0, 120);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bmc_reports_the_host_on),
		cmocka_unit_test(test_fence_off_through_the_bmc_cuts_the_power),
		cmocka_unit_test(test_fence_on_brings_the_host_back),
		cmocka_unit_test(test_wrong_password_fences_nothing),
		cmocka_unit_test(test_unreachable_bmc_fences_nothing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
