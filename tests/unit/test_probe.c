/* observe's failure probe: which address and port a Host is probed at, and the TCP probe
 * itself against a real listening socket and a closed port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "reconcile/observe.h"

static int target(const char *uri, const char *mig, char *addr, char *port)
{
	struct crd_host h = {.spec = {.uri = (char *)uri, .migration_address = (char *)mig}};
	return obs_probe_target(&h, addr, 64, port, 16);
}

static void test_probe_target_prefers_the_migration_address(void **state)
{
	(void)state;
	char addr[64], port[16];
	assert_int_equal(target("qemu+tcp://10.77.0.11/system", "10.78.0.11", addr, port), 0);
	assert_string_equal(addr, "10.78.0.11");
	assert_string_equal(port, "16509");
	assert_int_equal(target("qemu+tls://kvm-a.example.com:16600/system", NULL, addr, port), 0);
	assert_string_equal(addr, "kvm-a.example.com");
	assert_string_equal(port, "16600");
	assert_int_equal(target("qemu+ssh://root@[fd00::1]/system", NULL, addr, port), 0);
	assert_string_equal(addr, "fd00::1");
	assert_string_equal(port, "22");
	assert_int_equal(target("qemu:///system", NULL, addr, port), -1);
	assert_int_equal(target("test:///default", NULL, addr, port), -1);
}

static void test_probe_needs_a_listener(void **state)
{
	(void)state;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char port[16];
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	assert_true(obs_tcp_alive("127.0.0.1", port, 2));
	close(fd);
	/* The same port now refuses: a host whose libvirtd is gone does not count as up. */
	assert_false(obs_tcp_alive("127.0.0.1", port, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_target_prefers_the_migration_address),
		cmocka_unit_test(test_probe_needs_a_listener),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
