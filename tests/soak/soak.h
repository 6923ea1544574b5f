/* soak: drover run under a seeded random schedule of operations and faults, with invariants
 * checked all the time by a monitor (tests/soak, `make soak`). Modules: schedule (the seeded
 * plan, pure), journal (events, violations, the report), monitor (samples every host every
 * 0.5 s), soak (the lab, drover, the steps, the end checks). */
#ifndef DROVER_TESTS_SOAK_H
#define DROVER_TESTS_SOAK_H

#include <stdbool.h>
#include <stddef.h>

#define SOAK_HOSTS 3
#define SOAK_VMS 5
#define SOAK_REPLICAS 2     /* drovers at most: in Kubernetes mode a leader and a standby */

/* A Migration as drover's control plane holds it (its state dir, or the API). */
struct soak_migration {
	char name[128];
	char phase[24];     /* "" when it has none yet */
	char reason[24];    /* status.reason: Requested, Drain, Balance, Failover, ... */
};

/* The reasons moves are counted by in the report; the last counts the others. */
#define SOAK_REASONS 6
extern const char *const soak_reasons[SOAK_REASONS];

/* ---- schedule ---- */

enum soak_kind {
	/* operations */
	SOAK_OP_PIN,        /* spec.host of a VM changed (or removed: unpinned) */
	SOAK_OP_MIGRATE,    /* drover migrate VM [--to HOST] */
	SOAK_OP_CANCEL,     /* the VM's requested Migrations withdrawn */
	SOAK_OP_DRAIN,
	SOAK_OP_UNDRAIN,
	SOAK_OP_BALANCE_ON,  /* the PlacementPolicy balances by memory */
	SOAK_OP_BALANCE_OFF, /* the PlacementPolicy without balance */
	/* faults */
	SOAK_F_KILL9,       /* drover killed with SIGKILL, started again */
	SOAK_F_POINT,       /* drover started again with DROVER_FAULT at one of its crash points */
	SOAK_F_SIGTERM,     /* drover stopped with SIGTERM, started again */
	SOAK_F_LIBVIRTD,    /* a host's libvirtd killed (its guests run on) */
	SOAK_F_LINK,        /* a host's link down */
	SOAK_F_POWER,       /* a host's power cut (drover fences it through its BMC) */
	SOAK_END_HOST,      /* the host fault before ends: link up, host started */
	SOAK_KINDS
};

struct soak_step {
	double at;          /* seconds from the start of the schedule */
	enum soak_kind kind;
	int vm;             /* VM index, or -1 */
	int host;           /* host index, or -1 (SOAK_OP_PIN: unpin; SOAK_OP_MIGRATE: any) */
	int point;          /* SOAK_F_POINT: index into soak_fault_points */
};

struct soak_schedule {
	struct soak_step *steps;
	size_t n;
};

extern const char *const soak_fault_points[];
extern const size_t soak_n_fault_points;

/* The schedule of @seconds from @seed: the same seed gives the same steps. At most one host
 * fault at a time, each ended by a SOAK_END_HOST step; at most one host drained at a time;
 * every host fault ended by the last step. Returns 0, or -1 when out of memory. The caller
 * frees out->steps. */
int soak_schedule_make(unsigned long seed, double seconds, struct soak_schedule *out);

/* "pin", "kill9", ... This function can't fail. */
const char *soak_kind_name(enum soak_kind k);
bool soak_kind_is_fault(enum soak_kind k);

/* ---- journal ---- */

/* Starts the journal: events are timed from now and also written to @events_path and
 * stdout. Returns 0, or -1 when @events_path cannot be opened. */
int journal_open(const char *events_path);

/* Seconds since journal_open. Thread-safe; can't fail. */
double journal_now(void);

/* One event of the timeline (printf-style). Thread-safe; can't fail (an event past the cap
 * is only printed). */
void journal_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One broken invariant (printf-style): an event too, and a timeline in the report. */
void journal_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int journal_violations(void);

struct soak_totals {
	const char *mode;          /* "dir" or "kube" */
	unsigned long seed;
	double seconds;
	unsigned kinds[SOAK_KINDS];
	unsigned points_fired;     /* SOAK_F_POINT steps whose point was reached */
	unsigned drover_starts;
	unsigned long moves;
	unsigned long succeeded[SOAK_REASONS];
	long rss_max_kib;
	unsigned long samples;
};

/* Writes the report to @path: seed, operations, faults (and per kind), moves, violations,
 * and a timeline before each violation. Returns 0, or -1. */
int journal_report(const char *path, const struct soak_totals *t);

void journal_close(void);

/* ---- monitor ---- */

struct monitor_cfg {
	const char *vms[SOAK_VMS];
	/* Lists drover's Migrations into @out (at most @max): how many, or -1. Called by the
	 * monitor's thread. */
	int (*migrations)(struct soak_migration *out, int max);
	long rss_max_kib;           /* drover's RSS bound */
	double migration_max_s;     /* a Migration not ended after this long is stuck */
};

/* What the last sample saw. */
struct monitor_view {
	bool host_ok[SOAK_HOSTS];   /* its libvirtd answered */
	int running_on[SOAK_VMS];   /* host index; -1 none; -2 more than one */
	bool defined[SOAK_VMS][SOAK_HOSTS];
	bool job[SOAK_VMS];         /* a libvirt job on it, on any host */
	int unended;                /* Migration records not ended */
	unsigned long moves;        /* times a guest was seen running on another host */
	unsigned long succeeded[SOAK_REASONS];  /* Migrations seen Succeeded, by reason */
	unsigned long samples;
	long rss_max_kib;
};

/* Starts the monitor thread. Returns 0, or -1. */
int monitor_start(const struct monitor_cfg *cfg);

/* The pid of the drover in @slot (< SOAK_REPLICAS) to watch the RSS of (0: none running).
 * Thread-safe. */
void monitor_set_drover(int slot, int pid);

/* Copies the last sample. Thread-safe; can't fail. */
void monitor_view(struct monitor_view *v);

/* Stops and joins the monitor, after one last look at the guests' serial logs. */
void monitor_stop(void);

/* ---- kube: the Kubernetes API of SOAK_MODE=kube ---- */

/* Starts build/kubeapi-server and installs the CRDs with the real kubectl. Returns 0, or -1
 * with a message on stderr. */
int soak_kube_up(void);

/* The kubeconfig of the server. This function can't fail. */
const char *soak_kube_config(void);

/* `kubectl apply` of @yaml. Returns 0, or -1. */
int soak_kube_apply(const char *yaml);

/* Applies the first @n lab hosts, fenced through their BMCs (passwords in Secrets), keeping
 * @reserved memory back. Returns 0, or -1. */
int soak_kube_hosts(int n, const char *reserved);

/* Deletes the Migrations whose names start with @prefix. Returns how many. */
int soak_kube_withdraw(const char *prefix);

/* monitor_cfg.migrations of the API. Thread-safe. */
int soak_kube_migrations(struct soak_migration *out, int max);

/* The identity holding drover's Lease into @id ("" when none). This function can't fail. */
void soak_kube_leader(char *id, size_t size);

/* Stops the server; accepts one that did not start. */
void soak_kube_down(void);

#endif
