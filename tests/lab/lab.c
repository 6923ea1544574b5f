/* lab: helpers for integration tests on the hosts that hack/lab starts. */
#include "tests/lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "reconcile/clk.h"
#include "reconcile/inventory.h"

extern char **environ;

static const char *const host_names[LAB_MAX_HOSTS] = {
	"lab-a", "lab-b", "lab-c", "lab-d", "lab-e", "lab-f", "lab-g", "lab-h",
};
static const char *const host_uris[LAB_MAX_HOSTS] = {
	"qemu+tcp://10.77.0.11/system", "qemu+tcp://10.77.0.12/system",
	"qemu+tcp://10.77.0.13/system", "qemu+tcp://10.77.0.14/system",
	"qemu+tcp://10.77.0.15/system", "qemu+tcp://10.77.0.16/system",
	"qemu+tcp://10.77.0.17/system", "qemu+tcp://10.77.0.18/system",
};
static const char *const host_addrs[LAB_MAX_HOSTS] = {
	"10.77.0.11", "10.77.0.12", "10.77.0.13", "10.77.0.14",
	"10.77.0.15", "10.77.0.16", "10.77.0.17", "10.77.0.18",
};

const char *lab_dir(void)
{
	const char *dir = getenv("DROVER_LAB_DIR");
	return dir && *dir ? dir : "/var/tmp/drover-lab";
}

const char *lab_host_name(int i) { return host_names[i]; }
const char *lab_host_uri(int i) { return host_uris[i]; }
const char *lab_host_addr(int i) { return host_addrs[i]; }

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads what is available on FD into OUT at *LEN. Returns 0 at EOF, 1 otherwise. */
static int drain_fd(int fd, char *out, size_t out_size, size_t *len)
{
	char scratch[4096];
	char *dst = out && *len + 1 < out_size ? out + *len : scratch;
	size_t room = out && *len + 1 < out_size ? out_size - 1 - *len : sizeof(scratch);
	ssize_t got = read(fd, dst, room);

	if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
		return 0;
	if (got > 0 && dst != scratch)
		*len += (size_t)got;
	return 1;
}

int lab_run(const char *const argv[], char *out, size_t out_size, int timeout_s)
{
	int pipefd[2], status = -1;
	size_t len = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	double deadline = now_s() + timeout_s;

	if (out && out_size)
		out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	/* Tools' complaints (virsh's "failed to get domain") are expected answers here. */
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		int left_ms = (int)((deadline - now_s()) * 1000);
		if (left_ms <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, left_ms) > 0 && !drain_fd(pipefd[0], out, out_size, &len))
			break;
	}
	close(pipefd[0]);
	if (out && out_size)
		out[len] = '\0';
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int lab_spawn(const char *const argv[], const char *log_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log_path,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? (int)pid : -1;
}

int lab_stop(int pid, int timeout_s)
{
	int status = 0;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	for (int i = 0; i < timeout_s * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int lab_build_path(const char *name, char *out, size_t size)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		if (!(slash = strrchr(exe, '/')))
			return -1;
		*slash = '\0';
	}
	return (size_t)snprintf(out, size, "%s/%s", exe, name) < size ? 0 : -1;
}

const char *lab_drover(void)
{
	static char path[4096];

	if (!*path && lab_build_path("drover", path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "build/drover");
	return path;
}

int lab_up(int n)
{
	char count[8], guest[4096];

	if (!getenv("DROVER_GUEST_ELF") && lab_build_path("guest/guest.elf", guest, sizeof(guest)) == 0)
		setenv("DROVER_GUEST_ELF", guest, 0);
	snprintf(count, sizeof(count), "%d", n);
	const char *argv[] = {"bash", "hack/lab", "up", count, NULL};
	return lab_run(argv, NULL, 0, 300) == 0 ? 0 : -1;
}

int lab_down(void)
{
	const char *argv[] = {"bash", "hack/lab", "down", NULL};
	return lab_run(argv, NULL, 0, 120);
}

const char *lab_accel(void)
{
	static char accel[16];
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/accel", lab_dir());
	snprintf(accel, sizeof(accel), "qemu");
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%15s", accel) != 1)
			snprintf(accel, sizeof(accel), "qemu");
		fclose(f);
	}
	return accel;
}

static void quiet_libvirt_errors(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

virConnectPtr lab_connect(int i)
{
	virSetErrorFunc(NULL, quiet_libvirt_errors);
	return virConnectOpen(host_uris[i]);
}

char *lab_guest_xml(const struct lab_guest *g)
{
	char disk[768] = "";
	char *xml = NULL;

	if (g->disk_path)
		snprintf(disk, sizeof(disk),
			 "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>"
			 "<source file='%s'/><target dev='vda' bus='virtio'/></disk>",
			 g->disk_path);
	if (asprintf(&xml,
		     "<domain type='%s'><name>%s</name><memory unit='MiB'>%u</memory><vcpu>1</vcpu>"
		     "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s/shared/guest.elf</kernel>"
		     "<cmdline>%s</cmdline></os>"
		     "<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>"
		     "<devices>%s<serial type='file'><source path='%s' append='on'/>"
		     "<target port='0'/></serial></devices></domain>",
		     lab_accel(), g->name, g->memory_mib, lab_dir(), g->cmdline ? g->cmdline : "",
		     disk, g->serial_path) < 0)
		return NULL;
	return xml;
}

int lab_create_volume(int i, const char *pool_name, const char *name, unsigned size_mib,
		      char *path, size_t path_size)
{
	int ret = -1;
	char xml[512];
	virConnectPtr conn = lab_connect(i);
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	char *vol_path = NULL;

	if (!conn)
		goto cleanup;
	pool = virStoragePoolLookupByName(conn, pool_name);
	if (!pool)
		goto cleanup;
	snprintf(xml, sizeof(xml),
		 "<volume><name>%s</name><capacity unit='MiB'>%u</capacity>"
		 "<target><format type='qcow2'/></target></volume>",
		 name, size_mib);
	vol = virStorageVolCreateXML(pool, xml, 0);
	if (!vol)
		goto cleanup;
	vol_path = virStorageVolGetPath(vol);
	if (!vol_path)
		goto cleanup;
	snprintf(path, path_size, "%s", vol_path);
	ret = 0;
cleanup:
	if (ret < 0)
		fprintf(stderr, "lab: cannot create volume %s in %s/%s: %s\n", name,
			host_names[i], pool_name, virGetLastErrorMessage());
	free(vol_path);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	if (conn)
		virConnectClose(conn);
	return ret;
}

static void delete_volume(virConnectPtr conn, const char *pool_name, const char *volume)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName(conn, pool_name);
	virStorageVolPtr vol = NULL;

	if (pool) {
		virStoragePoolRefresh(pool, 0);
		vol = virStorageVolLookupByName(pool, volume);
	}
	if (vol) {
		virStorageVolDelete(vol, 0);
		virStorageVolFree(vol);
	}
	if (pool)
		virStoragePoolFree(pool);
}

int lab_host_count(void)
{
	char path[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/count", lab_dir());
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n < 0 ? 0 : n > LAB_MAX_HOSTS ? LAB_MAX_HOSTS : n;
}

void lab_cleanup_guest(const char *name, const char *volume)
{
	/* Only hosts that exist: connecting to an absent one waits for an ARP timeout. */
	for (int i = 0; i < lab_host_count(); i++) {
		virConnectPtr conn = lab_connect(i);
		virDomainPtr dom;

		if (!conn)
			continue;
		dom = virDomainLookupByName(conn, name);
		if (dom) {
			virDomainDestroy(dom);
			virDomainUndefine(dom);
			virDomainFree(dom);
		}
		if (volume) {
			delete_volume(conn, "local", volume);
			delete_volume(conn, "shared", volume);
		}
		virConnectClose(conn);
	}
}

/* Asked through the API, not by spawning virsh: the tests ask this hundreds of times, and
 * each virsh cost a process and a connection (~150 ms on a busy lab). */
void lab_dom_state(int i, const char *name, char *state, size_t state_size)
{
	/* virsh domstate's words for virDomainState */
	static const char *const words[] = {"no state", "running", "idle", "paused", "in shutdown",
					    "shut off", "crashed", "pmsuspended"};
	virConnectPtr conn = lab_connect(i);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
	int st = -1, reason;

	if (!dom || virDomainGetState(dom, &st, &reason, 0) < 0 || st < 0 ||
	    (size_t)st >= sizeof(words) / sizeof(words[0]))
		snprintf(state, state_size, "%s", dom && st >= 0 ? "unknown" : "");
	else
		snprintf(state, state_size, "%s", words[st]);
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
}

int lab_count_running(const char *name, int n_hosts)
{
	int count = 0;
	char state[64];

	for (int i = 0; i < n_hosts; i++) {
		lab_dom_state(i, name, state, sizeof(state));
		count += !strcmp(state, "running");
	}
	return count;
}

int lab_count_defined(const char *name, int n_hosts)
{
	int count = 0;
	char state[64];

	for (int i = 0; i < n_hosts; i++) {
		lab_dom_state(i, name, state, sizeof(state));
		count += state[0] != '\0';
	}
	return count;
}

bool lab_runs_only_on(const char *name, int i, int n_hosts)
{
	char state[64];
	int running = lab_count_running(name, n_hosts), defined = lab_count_defined(name, n_hosts);

	lab_dom_state(i, name, state, sizeof(state));
	if (!strcmp(state, "running") && running == 1 && defined == 1)
		return true;
	printf("  %s on %s: \"%s\"; running on %d hosts, defined on %d\n", name,
	       lab_host_name(i), state, running, defined);
	return false;
}

bool lab_owned_by_drover(int i, const char *name)
{
	virConnectPtr conn = lab_connect(i);
	virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
	char *meta = dom ? virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, INV_METADATA_URI,
						VIR_DOMAIN_AFFECT_CONFIG)
			 : NULL;
	bool yes = meta != NULL;

	free(meta);
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
	return yes;
}

void lab_serial_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/shared/%s.serial", lab_dir(), name);
}

int lab_bmc(int i, struct lab_bmc *out)
{
	const char *argv[] = {"bash", "hack/lab", "bmc", lab_host_name(i), NULL};
	char line[600];

	if (lab_run(argv, line, sizeof(line), 30) != 0 ||
	    sscanf(line, "%63s %15s %31s %399s", out->addr, out->port, out->user,
		   out->password_file) != 4)
		return -1;
	return 0;
}

int lab_bmc_power_offs(int i)
{
	char path[512], line[512];
	int n = 0;

	snprintf(path, sizeof(path), "%s/bmc/%s/power.log", lab_dir(), lab_host_name(i));
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, "set power 0") != NULL;
	if (f)
		fclose(f);
	return n;
}

bool lab_bmc_holds_off(int i)
{
	char path[512];
	int state = '1';

	/* hack/lab keeps the BMC's power state in BMC_DIR/power: "0" after a power-off,
	 * "1" after up and start-host. */
	snprintf(path, sizeof(path), "%s/bmc/%s/power", lab_dir(), lab_host_name(i));
	FILE *f = fopen(path, "r");
	if (f) {
		state = fgetc(f);
		fclose(f);
	}
	return state == '0';
}

double lab_bmc_power_off_time(int i, int n)
{
	char path[512], line[512], stamp[64];
	double at = -1, t;
	int seen = 0;

	snprintf(path, sizeof(path), "%s/bmc/%s/power.log", lab_dir(), lab_host_name(i));
	FILE *f = fopen(path, "r");
	/* "2026-12-05T08:04:13.123456789Z set power 0"; stop-host's own output is in between. */
	while (f && seen < n && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s", stamp) == 1 && !strncmp(line + strlen(stamp), " set power 0", 12) &&
		    clk_parse_rfc3339(stamp, &t) == 0 && ++seen == n)
			at = t;
	if (f)
		fclose(f);
	return at;
}

double lab_domain_last_start(int i, const char *name)
{
	static const char mark[] = "+0000: starting up libvirt";
	char path[512], line[1024], stamp[32];
	double at = -1, t;

	/* libvirt begins each start of the guest in its QEMU log with
	 * "2026-12-05 08:02:51.822+0000: starting up libvirt version: ...". */
	snprintf(path, sizeof(path), "%s/hosts/%s/log/qemu/%s.log", lab_dir(), lab_host_name(i),
		 name);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strlen(line) < 23 + sizeof(mark) - 1 || strncmp(line + 23, mark, sizeof(mark) - 1))
			continue;
		snprintf(stamp, sizeof(stamp), "%.10sT%.12sZ", line, line + 11);
		if (clk_parse_rfc3339(stamp, &t) == 0)
			at = t;
	}
	if (f)
		fclose(f);
	return at;
}

void lab_restore_hosts(int n_hosts)
{
	for (int i = 0; i < n_hosts; i++) {
		const char *up[] = {"bash", "hack/lab", "link-up", lab_host_name(i), NULL};
		const char *bmc[] = {"bash", "hack/lab", "bmc-start", lab_host_name(i), NULL};
		const char *host[] = {"bash", "hack/lab", "start-host", lab_host_name(i), NULL};
		(void)lab_run(up, NULL, 0, 30);
		(void)lab_run(bmc, NULL, 0, 60);
		(void)lab_run(host, NULL, 0, 120);
	}
}

double lab_metric(const char *port, const char *series)
{
	static char out[65536];   /* one caller at a time: the test's own thread */
	char url[128];
	const char *argv[] = {"curl", "-sf", url, NULL};
	size_t len = strlen(series);

	snprintf(url, sizeof(url), "http://127.0.0.1:%s/metrics", port);
	if (lab_run(argv, out, sizeof(out), 10) != 0)
		return -1;
	for (const char *p = out; (p = strstr(p, series)); p += len)
		if ((p == out || p[-1] == '\n') && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return -1;
}

unsigned long long lab_reserved_leaving_mib(unsigned long long schedulable_mib)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kib = 0;

	if (!f)
		return 0;
	if (fscanf(f, "MemTotal: %llu kB", &kib) != 1)
		kib = 0;
	fclose(f);
	return kib / 1024 > schedulable_mib ? kib / 1024 - schedulable_mib : 0;
}
