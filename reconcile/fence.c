/* fence: runs a Pacemaker fence agent by path, options and password on its standard input. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crd/validate.h"
#include "reconcile/clk.h"
#include "reconcile/fence.h"

#define DEFAULT_TIMEOUT_S 60.0
#define PASSWORD_MAX 1024

static void set_reason(struct fence_result *res, enum fence_outcome outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_reason(struct fence_result *res, enum fence_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	res->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

void fence_wipe(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int fence_check(const struct fence_request *req, char *path, size_t path_size,
		struct fence_result *res)
{
	const char *dir = req->agent_dir ? req->agent_dir : FENCE_AGENT_DIR;
	const char *why = req->agent ? crd_check_fence_agent(req->agent) : "no agent named";
	struct stat st;

	res->exit_status = -1;
	if (why) {
		set_reason(res, FENCE_REFUSED, "agent \"%.80s\": %s", req->agent ? req->agent : "", why);
		return -1;
	}
	for (size_t i = 0; req->options && i < req->options->n; i++) {
		const struct crd_kv *kv = &req->options->items[i];
		if ((why = crd_check_fence_option(kv->key, kv->value))) {
			set_reason(res, FENCE_REFUSED, "option \"%.64s\": %s", kv->key, why);
			return -1;
		}
	}
	if (req->password && (strlen(req->password) > PASSWORD_MAX || strpbrk(req->password, "\r\n"))) {
		set_reason(res, FENCE_REFUSED, "the password holds a line break or is too long");
		return -1;
	}
	if (dir[0] != '/' || snprintf(path, path_size, "%s/%s", dir, req->agent) >= (int)path_size) {
		set_reason(res, FENCE_REFUSED, "agent directory \"%.200s\" is not an absolute path", dir);
		return -1;
	}
	/* The name has no '/', so the file sits directly in the allow-list directory. */
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
		set_reason(res, FENCE_REFUSED, "%s is not an executable file in %s (is fence-agents "
			   "installed?)", req->agent, dir);
		return -1;
	}
	return 0;
}

/* Appends "key=value\n" to @buf (capacity FENCE_STDIN_MAX) at *@len. Returns 0, or -1
 * when it does not fit. */
static int put_line(char *buf, size_t *len, const char *key, const char *value)
{
	int n = snprintf(buf + *len, FENCE_STDIN_MAX - *len, "%s=%s\n", key, value);
	if (n < 0 || (size_t)n >= FENCE_STDIN_MAX - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

char *fence_render_stdin(const struct fence_request *req, const char *action)
{
	char *buf = calloc(1, FENCE_STDIN_MAX);
	size_t len = 0;
	bool ok = buf && put_line(buf, &len, "action", action) == 0;

	for (size_t i = 0; ok && req->options && i < req->options->n; i++) {
		const struct crd_kv *kv = &req->options->items[i];
		ok = !crd_check_fence_option(kv->key, kv->value) &&
		     put_line(buf, &len, kv->key, kv->value) == 0;
	}
	if (ok && req->password)
		ok = !strpbrk(req->password, "\r\n") && put_line(buf, &len, "password", req->password) == 0;
	if (!ok && buf) {
		explicit_bzero(buf, FENCE_STDIN_MAX);
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Keeps the last FENCE_OUTPUT_MAX-1 bytes of the agent's output. */
struct tail {
	char buf[FENCE_OUTPUT_MAX];
	size_t len;
};

static void tail_add(struct tail *t, const char *p, size_t n)
{
	size_t cap = sizeof(t->buf) - 1;
	if (n >= cap) {
		memcpy(t->buf, p + n - cap, cap);
		t->len = cap;
	} else {
		size_t keep = t->len + n > cap ? cap - n : t->len;
		memmove(t->buf, t->buf + t->len - keep, keep);
		memcpy(t->buf + keep, p, n);
		t->len = keep + n;
	}
	t->buf[t->len] = '\0';
}

/* Blanks every copy of @secret in @s, then turns line breaks into "; " separators'
 * spaces so the reason stays one line. This function can't fail. */
static void scrub(char *s, const char *secret)
{
	size_t k = secret ? strlen(secret) : 0;
	for (char *p = k ? strstr(s, secret) : NULL; p; p = strstr(p + k, secret))
		memset(p, '*', k);
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

/* Drops the lines fence-agents' Python prints about its own deprecations: noise that
 * would push the agent's message out of the tail. */
static void drop_noise(char *s)
{
	static const char *const noise[] = {"DeprecationWarning", "from pipes import", NULL};
	char *out = s;
	for (char *line = s; *line;) {
		char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
		bool skip = false;
		for (size_t i = 0; noise[i] && !skip; i++)
			skip = memmem(line, n, noise[i], strlen(noise[i])) != NULL;
		if (!skip) {
			memmove(out, line, n);
			out += n;
		}
		line += n;
	}
	*out = '\0';
}

/* Starts @path with its stdin and stdout+stderr on pipes, in a process group of its own,
 * with a fixed environment and no other descriptors. Returns its pid, or -1. */
static pid_t spawn_agent(const char *path, int in_fd, int out_fd)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", NULL};
	const char *name = strrchr(path, '/') + 1;
	char *const argv[] = {(char *)name, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid = -1;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	if (posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO) == 0 &&
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) == 0 &&
	    posix_spawnattr_setpgroup(&at, 0) == 0 && posix_spawnattr_setsigmask(&at, &none) == 0 &&
	    posix_spawnattr_setsigdefault(&at, &dfl) == 0 &&
	    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF) == 0 &&
	    posix_spawn(&pid, path, &fa, &at, argv, envp) != 0)
		pid = -1;
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Feeds @input to @in_fd and collects @out_fd into @t until the agent closes its output
 * or @deadline (clk_mono) passes. Closes @in_fd once written. Returns 0, or -1 on timeout. */
static int pump(int in_fd, int out_fd, const char *input, struct tail *t, double deadline)
{
	size_t len = strlen(input), off = 0;
	char chunk[4096];

	while (out_fd >= 0) {
		struct pollfd p[2] = {{out_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
		double left = deadline - clk_mono();
		if (left <= 0)
			return -1;
		int r = poll(p, in_fd >= 0 ? 2 : 1, (int)(left * 1000) + 1);
		if (r < 0 && errno != EINTR)
			return -1;
		if (in_fd >= 0 && p[1].revents) {
			ssize_t w = (p[1].revents & POLLOUT) ? write(in_fd, input + off, len - off) : -1;
			if (w > 0)
				off += (size_t)w;
			if (w < 0 || off == len) {
				close(in_fd);   /* EOF tells the agent its options are complete */
				in_fd = -1;
			}
		}
		if (p[0].revents) {
			ssize_t n = read(out_fd, chunk, sizeof(chunk));
			if (n > 0)
				tail_add(t, chunk, (size_t)n);
			else if (n == 0 || errno != EINTR)
				out_fd = -1;
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	return 0;
}

/* Waits for @pid until @deadline; kills its process group when it has not exited by then
 * (or @kill_now). Returns its exit status, or -1 when it was killed or did not exit. */
static int reap(pid_t pid, double deadline, bool kill_now)
{
	int st = 0;
	while (!kill_now && clk_mono() < deadline) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			kill(-pid, SIGKILL);   /* anything it left behind in its group */
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		clk_sleep(0.02);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return -1;
}

int fence_run(const struct fence_request *req, const char *action, struct fence_result *res)
{
	double timeout = req->timeout_s > 0 ? req->timeout_s : DEFAULT_TIMEOUT_S;
	double deadline = clk_mono() + timeout;
	char path[4096];
	char *input = NULL;
	int in[2] = {-1, -1}, out[2] = {-1, -1}, rc = -1;
	struct tail t = {.len = 0};
	pid_t pid = -1;

	if (fence_check(req, path, sizeof(path), res) != 0)
		goto cleanup;
	if (!(input = fence_render_stdin(req, action))) {
		set_reason(res, FENCE_REFUSED, "cannot render the agent's input");
		goto cleanup;
	}
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    (pid = spawn_agent(path, in[0], out[1])) < 0) {
		set_reason(res, FENCE_FAILED, "cannot start %s: %s", req->agent, strerror(errno));
		goto cleanup;
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	bool late = pump(in[1], out[0], input, &t, deadline) != 0;
	in[1] = -1;   /* pump closed it */
	rc = reap(pid, deadline, late);
	drop_noise(t.buf);
	scrub(t.buf, req->password);
	res->exit_status = rc;
	if (rc < 0)
		set_reason(res, FENCE_TIMEOUT, "%s action=%s did not finish within %.0f s: %s",
			   req->agent, action, timeout, t.buf);
	else
		set_reason(res, rc == 0 ? FENCE_OK : FENCE_FAILED, "%s action=%s exited %d: %s",
			   req->agent, action, rc, t.buf);
cleanup:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (input) {
		explicit_bzero(input, strlen(input));
		free(input);
	}
	return rc;
}

int fence_off(const struct fence_request *req, struct fence_result *res)
{
	int rc = fence_run(req, "off", res);

	if (rc != 0) {
		if (rc > 0)
			res->outcome = FENCE_FAILED;
		return -1;
	}
	/* The off said it succeeded; only the agent's status saying off counts (rule 5). */
	rc = fence_run(req, "status", res);
	if (rc == 2) {
		set_reason(res, FENCE_OK, "%s: powered off, status confirms off", req->agent);
		return 0;
	}
	if (rc >= 0) {
		char was[sizeof(res->reason)];
		memcpy(was, res->reason, sizeof(was));
		set_reason(res, FENCE_FAILED, "status after off does not report off: %s", was);
	}
	return -1;
}

char *fence_read_password(const char *path, char *why, size_t why_size)
{
	char *buf = NULL;
	FILE *f;
	size_t n;

	why[0] = '\0';
	if (!(f = fopen(path, "re"))) {
		snprintf(why, why_size, "password file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!(buf = calloc(1, PASSWORD_MAX + 2)))
		goto cleanup;
	n = fread(buf, 1, PASSWORD_MAX + 1, f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (n > PASSWORD_MAX && strlen(buf) == n) {
		snprintf(why, why_size, "password file %s: longer than %d bytes", path, PASSWORD_MAX);
		fence_wipe(buf);
		buf = NULL;
	}
cleanup:
	if (!buf && why[0] == '\0')
		snprintf(why, why_size, "password file %s: out of memory", path);
	fclose(f);
	return buf;
}
