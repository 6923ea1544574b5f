/* fence: runs a Pacemaker fence agent (fence-agents: fence_ipmilan, ...) to power a failed host
 * off. The agent is an executable directly in an allow-list directory, started with
 * posix_spawn (never a shell) in its own process group with a minimal environment; its
 * options and the password go to its standard input as key=value lines, as Pacemaker's
 * fencer passes them, so they never show on a command line; a timeout kills the group. */
#ifndef DROVER_FENCE_H
#define DROVER_FENCE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "crd/types.h"

/* Where fence-agents installs the agents: the default allow-list directory. */
#define FENCE_AGENT_DIR "/usr/sbin"
/* The tail of an agent's output kept for the reason (bytes, NUL included). */
#define FENCE_OUTPUT_MAX 512
/* The longest stdin drover renders (options are capped by validation; this is a backstop). */
#define FENCE_STDIN_MAX 65536

/* One fence agent invocation, borrowed from the Host and its password source. */
struct fence_request {
	const char *agent_dir;          /* NULL: FENCE_AGENT_DIR */
	const char *agent;              /* "fence_ipmilan" */
	const struct crd_map *options;  /* may be NULL */
	const char *password;           /* NULL: none */
	double timeout_s;               /* per agent run; <= 0: 60 */
};

enum fence_outcome {
	FENCE_OK = 0,           /* off, and status confirmed it off */
	FENCE_REFUSED,          /* the request failed a check: nothing was run */
	FENCE_FAILED,           /* the agent ran and failed, or status did not report off */
	FENCE_TIMEOUT,          /* the agent did not finish in time: its process group was killed */
};

struct fence_result {
	enum fence_outcome outcome;
	int exit_status;                /* of the last agent run; -1 when none finished */
	/* One line for status and logs: what failed and the tail of the agent's output, with
	 * the password blanked out. */
	char reason[FENCE_OUTPUT_MAX + 160];
};

/* Checks the agent name, each option and the agent file: an executable regular file named
 * @req->agent directly in the agent directory. Writes its path into @path. Returns 0, or -1
 * with @res set to FENCE_REFUSED and its reason. */
int fence_check(const struct fence_request *req, char *path, size_t path_size,
		struct fence_result *res) DROVER_WUR;

/* The agent's standard input for @action: "action=ACTION\n", one "key=value\n" per option,
 * then "password=...\n" when there is one. Returns a string the caller frees (it holds the
 * password: the caller wipes it), or NULL when an option fails its check, the result
 * exceeds FENCE_STDIN_MAX, or memory runs out. */
char *fence_render_stdin(const struct fence_request *req, const char *action)
	DROVER_WUR;

/* Runs the agent once with @action ("off", "on", "status"). Returns the agent's exit status
 * (for status: 0 on, 2 off, 1 error, the fence-agents convention) with @res->reason set to its
 * output tail, or -1 with @res set (refused, could not start, timed out). */
int fence_run(const struct fence_request *req, const char *action, struct fence_result *res)
	DROVER_WUR;

/* Powers the host off: action=off, then action=status must report it off (exit 2). Fills @res;
 * returns 0 only for FENCE_OK (safety rule 5: only then is the host fenced), -1 otherwise. */
int fence_off(const struct fence_request *req, struct fence_result *res)
	DROVER_WUR;

/* Reads the password for a Host from @path (directory mode): the first line, at most 1 KiB,
 * without its line break. Returns a string the caller wipes and frees, or NULL with @why set. */
char *fence_read_password(const char *path, char *why, size_t why_size)
	DROVER_WUR;

/* Zeroes and frees a string that held a password; accepts NULL. */
void fence_wipe(char *s);

#endif
