/* validate: format rules shared by the decoder and mirrored by the CRD schemas. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "crd/validate.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* @n bytes of @s form one DNS-1123 label (lower case when @lower). */
static bool label_span(const char *s, size_t n, bool lower)
{
	if (n == 0 || n > 63)
		return false;
	bool (*ok)(char) = lower ? is_lower_alnum : is_alnum;
	if (!ok(s[0]) || !ok(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!ok(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool crd_valid_dns_label(const char *s)
{
	return label_span(s, strlen(s), true);
}

static bool subdomain_span(const char *s, size_t n, bool lower)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t start = 0; start <= n;) {
		const char *dot = memchr(s + start, '.', n - start);
		size_t end = dot ? (size_t)(dot - s) : n;
		if (!label_span(s + start, end - start, lower))
			return false;
		start = end + 1;
	}
	return true;
}

bool crd_valid_dns_subdomain(const char *s)
{
	return subdomain_span(s, strlen(s), true);
}

/* Kubernetes "name" part of labels: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63. */
static bool qualified_name_span(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

bool crd_valid_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return qualified_name_span(s, strlen(s));
	return subdomain_span(s, (size_t)(slash - s), true) &&
	       qualified_name_span(slash + 1, strlen(slash + 1));
}

bool crd_valid_label_value(const char *s)
{
	return !*s || qualified_name_span(s, strlen(s));
}

static bool has_control_or_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

bool crd_valid_abs_path(const char *s)
{
	return s[0] == '/' && strlen(s) <= 4096 && !has_control_or_space(s);
}

bool crd_valid_address(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1 ||
	       subdomain_span(s, strlen(s), false);
}

/* 1 to @max of [A-Za-z0-9_.-]. */
static bool name_chars(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

bool crd_valid_bridge_name(const char *s)
{
	return name_chars(s, 15);
}

bool crd_valid_cpu_model(const char *s)
{
	return name_chars(s, 64);
}

bool crd_valid_network_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ' ' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Reads @n digits at *@p as a number from @lo to @hi and advances past them. Returns false
 * (stopping at the first non-digit, never past the end) otherwise. */
static bool digits_in(const char **p, size_t n, int lo, int hi)
{
	int v = 0;
	for (size_t i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
	}
	return v >= lo && v <= hi;
}

/* Advances past one of the characters of @set at *@p. Returns false when none is there. */
static bool one_of(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return false;
	(*p)++;
	return true;
}

bool crd_valid_rfc3339(const char *s)
{
	const char *p = s;

	if (!digits_in(&p, 4, 0, 9999) || !one_of(&p, "-") || !digits_in(&p, 2, 1, 12) ||
	    !one_of(&p, "-") || !digits_in(&p, 2, 1, 31) || !one_of(&p, "Tt") ||
	    !digits_in(&p, 2, 0, 23) || !one_of(&p, ":") || !digits_in(&p, 2, 0, 59) ||
	    !one_of(&p, ":") || !digits_in(&p, 2, 0, 60))
		return false;
	if (one_of(&p, ".")) {
		const char *frac = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == frac)
			return false;
	}
	if (one_of(&p, "Zz"))
		return !*p;
	return one_of(&p, "+-") && digits_in(&p, 2, 0, 23) && one_of(&p, ":") &&
	       digits_in(&p, 2, 0, 59) && !*p;
}

static bool no_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return false;
	return true;
}

const char *crd_check_uri(const char *s)
{
	static const char *const remote[] = {"qemu+tcp://", "qemu+tls://", "qemu+ssh://",
					     "qemu+libssh://"};
	static const char *const WHY =
		"expected a libvirt URI: qemu+tcp://HOST/system, qemu+tls://, qemu+ssh://, "
		"qemu+libssh://, qemu:///system, test:///FILE or test+tcp://HOST/FILE";

	if (!strcmp(s, "qemu:///system"))
		return NULL;
	if (!strncmp(s, "test:///", 8))
		return s[8] && no_space(s + 8) ? NULL : WHY;
	/* libvirt's test driver served by a remote libvirtd (benchmarks, tests): the path is
	 * the node file the daemon opens, so any path, not /system. */
	if (!strncmp(s, "test+tcp://", 11)) {
		const char *auth = s + 11;
		size_t n = strcspn(auth, "/?# \t\r\n\f\v");
		const char *path = auth + n;
		if (n == 0 || *path != '/')
			return "the URI needs a host: test+tcp://HOST/FILE";
		return path[strspn(path, "/")] && no_space(path) ? NULL : WHY;
	}
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		if (strncmp(s, remote[i], strlen(remote[i])))
			continue;
		const char *auth = s + strlen(remote[i]);
		size_t n = strcspn(auth, "/?# \t\r\n\f\v");
		const char *path = auth + n;
		if (n == 0 || *path != '/')
			return "the URI needs a host: qemu+tcp://HOST/system";
		size_t plen = strcspn(path, "?");
		if (!((plen == 7 && !strncmp(path, "/system", 7)) ||
		      (plen == 8 && !strncmp(path, "/session", 8))))
			return "the URI path must be /system or /session";
		return no_space(path) ? NULL : WHY;
	}
	return WHY;
}

/* Case-insensitive Levenshtein distance, bounded to short words. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *crd_suggest(const char *word, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; known[i]; i++) {
		size_t d = distance(word, known[i]);
		size_t limit = strlen(known[i]) / 3 > 2 ? strlen(known[i]) / 3 : 2;
		if (d <= limit && d < best_d) {
			best = known[i];
			best_d = d;
		}
	}
	return best;
}

const char *crd_check_fence_agent(const char *s)
{
	static const char prefix[] = "fence_";
	size_t n = strlen(s);

	if (n <= sizeof(prefix) - 1 || n > 64 || strncmp(s, prefix, sizeof(prefix) - 1))
		return "a fence agent is named fence_NAME (at most 64 characters)";
	for (size_t i = sizeof(prefix) - 1; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '_')
			return "a fence agent name holds only lower-case letters, digits and '_' "
			       "after fence_ (a file name in the agent directory, never a path)";
	return NULL;
}

/* True when @key ends in @suffix. */
static bool ends_with(const char *key, const char *suffix)
{
	size_t n = strlen(key), k = strlen(suffix);
	return n >= k && !strcmp(key + n - k, suffix);
}

const char *crd_check_fence_option(const char *key, const char *value)
{
	/* Agents (fencing.py) run *_script and *_path options as programs and write their
	 * arguments, the password included, to debug files and verbose output. */
	static const char *const refused[] = {"sudo", "use_sudo", "debug", "debug_file",
					       "verbose", "verbose_level", NULL};
	size_t n = strlen(key);

	if (n == 0 || n > 64 || !(key[0] >= 'a' && key[0] <= 'z'))
		return "an option name is 1 to 64 lower-case letters, digits or '_', "
		       "starting with a letter";
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(key[i]) && key[i] != '_')
			return "an option name holds only lower-case letters, digits and '_' "
			       "(no '=', no spaces)";
	if (!strcmp(key, "action"))
		return "drover sets the action itself";
	if (!strcmp(key, "password") || !strcmp(key, "passwd"))
		return "the password comes from passwordFile or passwordSecretRef, never from options";
	if (ends_with(key, "_script") || ends_with(key, "_path"))
		return "options naming a program to run are refused";
	for (size_t i = 0; refused[i]; i++)
		if (!strcmp(key, refused[i]))
			return "options that run the agent under sudo or log its input are refused";
	if (strlen(value) > 1024)
		return "an option value is at most 1024 characters";
	if (strpbrk(value, "\r\n"))
		return "an option value cannot hold a line break (the agent reads one key=value a line)";
	return NULL;
}
