/* schedule: the soak's seeded plan of operations and faults. Pure: the same seed gives the
 * same steps whatever the lab does (an operation's effect may differ, its step does not). */
#include "tests/soak/soak.h"

#include <stdint.h>
#include <stdlib.h>

/* drover's crash points (reconcile/fault.h): a drover started with one of them kills itself
 * there, the first time a start, stop or move reaches it. */
const char *const soak_fault_points[] = {
	"define.defined", "start.started", "stop.requested", "live.prechecked", "live.copying",
	"live.done", "cold.stopped", "cold.copied", "cold.target-ready", "cold.source-undefined",
	"stale.deleting",
};
const size_t soak_n_fault_points = sizeof(soak_fault_points) / sizeof(soak_fault_points[0]);

#define GAP_MIN_S 3.0      /* between two steps */
#define GAP_MAX_S 12.0
#define HOST_FAULT_MIN_S 5.0   /* detection takes 10 s: some host faults end before it */
#define HOST_FAULT_MAX_S 45.0

/* Relative weights of the kinds a step is drawn from (SOAK_END_HOST is never drawn). */
static const unsigned weights[SOAK_KINDS] = {
	[SOAK_OP_PIN] = 20, [SOAK_OP_MIGRATE] = 15, [SOAK_OP_CANCEL] = 8, [SOAK_OP_DRAIN] = 6,
	[SOAK_OP_UNDRAIN] = 6, [SOAK_OP_BALANCE_ON] = 4, [SOAK_OP_BALANCE_OFF] = 4,
	[SOAK_F_KILL9] = 8, [SOAK_F_POINT] = 8, [SOAK_F_SIGTERM] = 6, [SOAK_F_LIBVIRTD] = 5,
	[SOAK_F_LINK] = 5, [SOAK_F_POWER] = 5,
};

static const char *const names[SOAK_KINDS] = {
	[SOAK_OP_PIN] = "pin", [SOAK_OP_MIGRATE] = "migrate", [SOAK_OP_CANCEL] = "cancel",
	[SOAK_OP_DRAIN] = "drain", [SOAK_OP_UNDRAIN] = "undrain",
	[SOAK_OP_BALANCE_ON] = "balance_on", [SOAK_OP_BALANCE_OFF] = "balance_off",
	[SOAK_F_KILL9] = "kill9",
	[SOAK_F_POINT] = "fault_point", [SOAK_F_SIGTERM] = "sigterm",
	[SOAK_F_LIBVIRTD] = "libvirtd_killed", [SOAK_F_LINK] = "link_down",
	[SOAK_F_POWER] = "power_cut", [SOAK_END_HOST] = "host_fault_end",
};

const char *soak_kind_name(enum soak_kind k)
{
	return k < SOAK_KINDS ? names[k] : "?";
}

bool soak_kind_is_fault(enum soak_kind k)
{
	return k >= SOAK_F_KILL9 && k <= SOAK_F_POWER;
}

static bool is_host_fault(enum soak_kind k)
{
	return k == SOAK_F_LIBVIRTD || k == SOAK_F_LINK || k == SOAK_F_POWER;
}

/* splitmix64: small, and the same on every machine (rand() is not). */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n)
{
	return (unsigned)(next(s) % n);
}

static double between(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * (double)(next(s) >> 11) / (double)(1ull << 53);
}

static enum soak_kind draw_kind(uint64_t *s)
{
	unsigned total = 0, r;

	for (int k = 0; k < SOAK_KINDS; k++)
		total += weights[k];
	r = below(s, total);
	for (int k = 0; k < SOAK_KINDS; k++) {
		if (r < weights[k])
			return (enum soak_kind)k;
		r -= weights[k];
	}
	return SOAK_OP_PIN;
}

static int push(struct soak_schedule *out, size_t *cap, struct soak_step st)
{
	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct soak_step *p = realloc(out->steps, ncap * sizeof(*p));
		if (!p)
			return -1;
		out->steps = p;
		*cap = ncap;
	}
	out->steps[out->n++] = st;
	return 0;
}

int soak_schedule_make(unsigned long seed, double seconds, struct soak_schedule *out)
{
	uint64_t s = seed;
	size_t cap = 0;
	double t = 0, host_fault_end = -1;
	int faulted = -1, drained = -1;

	out->steps = NULL;
	out->n = 0;
	for (;;) {
		t += between(&s, GAP_MIN_S, GAP_MAX_S);
		/* The host fault under way ends first when its time has come. */
		if (faulted >= 0 && (t >= host_fault_end || t >= seconds)) {
			struct soak_step end = {.at = host_fault_end < seconds ? host_fault_end : seconds,
						.kind = SOAK_END_HOST, .vm = -1, .host = faulted,
						.point = -1};
			if (push(out, &cap, end) < 0)
				goto fail;
			faulted = -1;
		}
		if (t >= seconds)
			break;
		struct soak_step st = {.at = t, .kind = draw_kind(&s), .vm = (int)below(&s, SOAK_VMS),
				       .host = (int)below(&s, SOAK_HOSTS), .point = -1};
		if (is_host_fault(st.kind) && faulted >= 0)
			st.kind = SOAK_OP_PIN;   /* one host fault at a time */
		if (st.kind == SOAK_OP_DRAIN && drained >= 0)
			st.kind = SOAK_OP_UNDRAIN;   /* one drained host at a time */
		switch (st.kind) {
		case SOAK_OP_PIN:
			if (below(&s, 3) == 0)
				st.host = -1;
			break;
		case SOAK_OP_MIGRATE:
			if (below(&s, 4) == 0)
				st.host = -1;
			break;
		case SOAK_OP_DRAIN:
			drained = st.host;
			break;
		case SOAK_OP_UNDRAIN:
			st.host = drained >= 0 ? drained : st.host;
			drained = -1;
			break;
		case SOAK_F_POINT:
			st.point = (int)below(&s, (unsigned)soak_n_fault_points);
			break;
		case SOAK_F_LIBVIRTD:
		case SOAK_F_LINK:
		case SOAK_F_POWER:
			faulted = st.host;
			host_fault_end = t + between(&s, HOST_FAULT_MIN_S, HOST_FAULT_MAX_S);
			break;
		default:
			break;
		}
		if (push(out, &cap, st) < 0)
			goto fail;
	}
	return 0;
fail:
	free(out->steps);
	out->steps = NULL;
	out->n = 0;
	return -1;
}
