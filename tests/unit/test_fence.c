/* fence: the agent's standard input, the allow-list checks, and runs of the real fence_ipmilan
 * that must fail safely (nothing listening, a timeout), never a spawned process on bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crd/validate.h"
#include "reconcile/clk.h"
#include "reconcile/fence.h"

static struct crd_kv ipmi_opts[] = {
	{"ip", "127.0.0.1"}, {"ipport", "9"}, {"username", "admin"}, {"lanplus", "1"},
};
static const struct crd_map ipmi_map = {ipmi_opts, 4};

static void test_fence_stdin_has_action_options_then_password(void **state)
{
	(void)state;
	struct fence_request req = {.agent = "fence_ipmilan", .options = &ipmi_map,
				    .password = "s3cret"};
	char *in = fence_render_stdin(&req, "off");
	assert_non_null(in);
	assert_string_equal(in, "action=off\nip=127.0.0.1\nipport=9\nusername=admin\nlanplus=1\n"
			    "password=s3cret\n");
	free(in);
}

static void test_fence_stdin_refuses_line_breaks_and_bad_keys(void **state)
{
	(void)state;
	struct crd_kv nl[] = {{"ip", "10.0.0.1\npassword_script=/bin/sh"}};
	struct crd_kv eq[] = {{"ip=1", "x"}};
	struct crd_kv act[] = {{"action", "on"}};
	struct crd_map m = {nl, 1};
	struct fence_request req = {.agent = "fence_ipmilan", .options = &m};
	assert_null(fence_render_stdin(&req, "off"));
	m.items = eq;
	assert_null(fence_render_stdin(&req, "off"));
	m.items = act;
	assert_null(fence_render_stdin(&req, "off"));
	req.options = NULL;
	req.password = "a\nb";
	assert_null(fence_render_stdin(&req, "off"));
}

static void test_fence_agent_names_outside_the_allow_list_are_refused(void **state)
{
	(void)state;
	assert_null(crd_check_fence_agent("fence_ipmilan"));
	assert_non_null(crd_check_fence_agent("fence_"));
	assert_non_null(crd_check_fence_agent("fence_../../bin/sh"));
	assert_non_null(crd_check_fence_agent("/usr/sbin/fence_ipmilan"));
	assert_non_null(crd_check_fence_agent("sh"));
	assert_non_null(crd_check_fence_agent("fence_IPMI"));
	assert_non_null(crd_check_fence_option("password_script", "/bin/true"));
	assert_non_null(crd_check_fence_option("ipmitool_path", "/tmp/x"));
	assert_non_null(crd_check_fence_option("verbose", "1"));
	assert_non_null(crd_check_fence_option("password", "x"));
	assert_null(crd_check_fence_option("cipher", "3"));
}

/* A file that is not executable, or a directory, in the agent directory is refused. */
static void test_fence_check_needs_an_executable_in_the_directory(void **state)
{
	(void)state;
	char dir[] = "/tmp/drover-fence-XXXXXX", path[4096], file[256];
	struct fence_result res;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/fence_plain", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	struct fence_request req = {.agent_dir = dir, .agent = "fence_plain"};
	assert_int_equal(fence_check(&req, path, sizeof(path), &res), -1);
	assert_int_equal(res.outcome, FENCE_REFUSED);
	assert_non_null(strstr(res.reason, "not an executable file"));
	req.agent = "fence_missing";
	assert_int_equal(fence_check(&req, path, sizeof(path), &res), -1);
	req.agent_dir = "relative";
	req.agent = "fence_plain";
	assert_int_equal(fence_check(&req, path, sizeof(path), &res), -1);
	unlink(file);
	rmdir(dir);
	req.agent_dir = NULL;
	req.agent = "fence_ipmilan";
	assert_int_equal(fence_check(&req, path, sizeof(path), &res), 0);
	assert_string_equal(path, "/usr/sbin/fence_ipmilan");
}

/* Nothing answers on 127.0.0.1:9: the real agent fails, its message is kept, the password
 * never shows; off fails, so the host is not fenced. */
static void test_fence_off_fails_when_the_bmc_does_not_answer(void **state)
{
	(void)state;
	struct crd_kv o[] = {{"ip", "127.0.0.1"}, {"ipport", "9"}, {"username", "admin"},
			     {"lanplus", "1"}, {"cipher", "3"}, {"retry_on", "1"},
			     {"power_timeout", "2"}};
	struct crd_map m = {o, 7};
	struct fence_request req = {.agent = "fence_ipmilan", .options = &m,
				    .password = "pw-never-shown", .timeout_s = 30};
	struct fence_result res;
	assert_int_equal(fence_off(&req, &res), -1);
	assert_true(res.outcome == FENCE_FAILED || res.outcome == FENCE_TIMEOUT);
	assert_null(strstr(res.reason, "pw-never-shown"));
	assert_null(strchr(res.reason, '\n'));
	assert_non_null(strstr(res.reason, "fence_ipmilan action="));
}

/* The timeout kills the agent's process group: a run cut at 1 s returns soon after. */
static void test_fence_timeout_kills_the_agent(void **state)
{
	(void)state;
	struct crd_kv o[] = {{"ip", "127.0.0.1"}, {"ipport", "9"}, {"username", "admin"},
			     {"lanplus", "1"}, {"login_timeout", "30"}, {"shell_timeout", "30"}};
	struct crd_map m = {o, 6};
	struct fence_request req = {.agent = "fence_ipmilan", .options = &m, .password = "x",
				    .timeout_s = 1};
	struct fence_result res;
	int rc = fence_run(&req, "status", &res);
	/* Either the agent gave up by itself within 1 s or it was killed at 1 s. */
	assert_true(rc == -1 ? res.outcome == FENCE_TIMEOUT : rc != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fence_stdin_has_action_options_then_password),
		cmocka_unit_test(test_fence_stdin_refuses_line_breaks_and_bad_keys),
		cmocka_unit_test(test_fence_agent_names_outside_the_allow_list_are_refused),
		cmocka_unit_test(test_fence_check_needs_an_executable_in_the_directory),
		cmocka_unit_test(test_fence_off_fails_when_the_bmc_does_not_answer),
		cmocka_unit_test(test_fence_timeout_kills_the_agent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
