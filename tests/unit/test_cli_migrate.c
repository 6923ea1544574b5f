/* drover migrate in directory mode writes the whole request or none: an allocation that
 * fails while the request is built never leaves a request without its --to (which would let
 * drover move the VM elsewhere). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "controller/cli/cli.h"
#include "controller/dir/statedir.h"
#include "tests/unit/alloc_test_util.h"
#include "tests/unit/state_test_util.h"

#define STEPS_MAX 5000

/* Runs drover migrate with stdout and stderr to /dev/null (each failure says why, loudly). */
static int quiet_migrate(const char *dir)
{
	char *argv[] = {"migrate", "web-1", "--to", "kvm-b", "--no-wait", "--name", "m1",
			"--state-dir", (char *)dir, NULL};
	int null = open("/dev/null", O_WRONLY), out = dup(1), err = dup(2), rc;

	assert_true(null >= 0 && out >= 0 && err >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(null, 1);
	dup2(null, 2);
	rc = cli_migrate(9, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(null);
	close(out);
	close(err);
	return rc;
}

static void test_cli_migrate_writes_the_whole_request_or_none(void **state)
{
	const char *root = *state;
	char dir[4096], path[4200], seen[4200];
	long n, failures = 0;
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/migrate", root);
	snprintf(seen, sizeof(seen), "%s/virtualmachines/default/web-1.json", dir);
	assert_int_equal(state_write_json(seen, json_pack("{s:s}", "kind", "VirtualMachine")), 0);
	snprintf(seen, sizeof(seen), "%s/hosts/default/kvm-b.json", dir);
	assert_int_equal(state_write_json(seen, json_pack("{s:s}", "kind", "Host")), 0);
	snprintf(path, sizeof(path), "%s/overrides/migrations/default/m1.json", dir);
	for (n = 0; n < STEPS_MAX; n++) {
		unlink(path);
		fail_call(n);
		rc = quiet_migrate(dir);
		long failed = alloc_failed;
		alloc_normal();
		json_t *req = json_load_file(path, 0, NULL);
		if (rc != 0) {
			assert_null(req);   /* nothing was created */
			failures++;
			continue;
		}
		assert_non_null(req);
		const char *to = json_string_value(json_object_get(json_object_get(req, "spec"),
								   "targetHost"));
		assert_non_null(to);
		assert_string_equal(to, "kvm-b");
		json_decref(req);
		if (failed == 0)
			break;
	}
	assert_int_equal(rc, 0);
	assert_true(n < STEPS_MAX && failures > 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_migrate_writes_the_whole_request_or_none),
	};
	return cmocka_run_group_tests(tests, st_group_setup, st_group_teardown);
}
